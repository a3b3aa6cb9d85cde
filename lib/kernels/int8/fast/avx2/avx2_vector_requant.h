// AVX2 building blocks shared by every AVX2 translation unit (avx2_*.cc):
// the exact vector forms of the reference requantizations
// (docs/arithmetic.md), gemmlowp's fixed-point primitives, clamps, and int8
// <-> int32 lane loads, packing and stores. The one copy of each: the AVX2
// files define none of these themselves.
//
// Include ONLY from translation units compiled with -mavx2. Every function
// here is `static inline` on purpose (internal linkage): an inline function
// with external linkage instantiated in an -mavx2 file could be merged by the
// linker with a baseline copy and run AVX2 code on a CPU without it.
#ifndef QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_VECTOR_REQUANT_H_
#define QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_VECTOR_REQUANT_H_

#include <immintrin.h>

#include <cstdint>

namespace qforge::kernels::int8::fast::avx2 {

// Output clamp of a requantization. The reference clamps to the int8 range
// shifted by the zero point, adds the zero point, then clamps to the
// activation range [lo, hi] (within [-128, 127], lo <= hi). All bounds are
// integers and the clamps are monotonic, so one clamp to [lo - zp, hi - zp]
// before adding the zero point gives the same value (also in binary32:
// clamping before rounding to an integer equals clamping after).
struct VecClamp {
  __m256i zero_point;
  __m256 fmin, fmax;   // onnxruntime: lo - zp, hi - zp (float, exact)
  __m256i vmin, vmax;  // tflite_reference: lo - zp, hi - zp
};

static inline VecClamp MakeVecClamp(int32_t zero_point, int32_t lo,
                                    int32_t hi) {
  lo = lo < -128 ? -128 : lo;
  hi = hi > 127 ? 127 : hi;
  VecClamp c;
  c.zero_point = _mm256_set1_epi32(zero_point);
  c.fmin = _mm256_set1_ps(static_cast<float>(lo - zero_point));
  c.fmax = _mm256_set1_ps(static_cast<float>(hi - zero_point));
  c.vmin = _mm256_set1_epi32(lo - zero_point);
  c.vmax = _mm256_set1_epi32(hi - zero_point);
  return c;
}

// min(max(v, lo), hi) per int32 lane.
static inline __m256i VecClampInt32(__m256i v, __m256i lo, __m256i hi) {
  return _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
}

// clamp(v + zp, lo, hi) for int32 lanes of any magnitude: clamp(v, lo - zp,
// hi - zp) + zp, which cannot overflow.
static inline __m256i VecAddZeroPointClamp(__m256i v, const VecClamp& c) {
  return _mm256_add_epi32(VecClampInt32(v, c.vmin, c.vmax), c.zero_point);
}

// clamp(cvtps2dq(f) + zp, lo, hi) as cvtps2dq(min(max(f, lo - zp), hi - zp))
// + zp (see VecClamp; maxps returns the lower bound for NaN). Default MXCSR.
static inline __m256i VecRoundAddZeroPointClamp(__m256 f, const VecClamp& c) {
  f = _mm256_min_ps(_mm256_max_ps(f, c.fmin), c.fmax);
  return _mm256_add_epi32(_mm256_cvtps_epi32(f), c.zero_point);
}

// reference::RequantizeOrt + ClampToActivation: clamp(cvtps2dq(min(max(
// float(acc) * scale, -128 - zp), 127 - zp)) + zp, lo, hi), with the clamps
// merged as above (maxps returns the bound for NaN, as in the reference).
// Default MXCSR.
static inline __m256i VecRequantizeOrt(__m256i acc, __m256 scale,
                                       const VecClamp& c) {
  return VecRoundAddZeroPointClamp(
      _mm256_mul_ps(_mm256_cvtepi32_ps(acc), scale), c);
}

// gemmlowp SaturatingRoundingDoublingHighMul(x, m) for m != INT32_MIN (no
// INT32_MIN * INT32_MIN saturation): trunc((x*m + nudge) / 2^31) with
// nudge = 2^30 when x*m >= 0, 1 - 2^30 otherwise. Both cases equal
// floor((x*m + 2^30) / 2^31) (for t = x*m + 1 - 2^30 < 0, trunc(t / 2^31) =
// floor((t + 2^31 - 1) / 2^31)), i.e. the integer nearest to x*m / 2^31 with
// ties toward +infinity (docs/arithmetic.md). The quotient fits in int32, so
// its low 32 bits are bits 31..62 of the 64-bit sum: a logical shift gives
// them as well as an arithmetic one would.
static inline __m256i VecDoublingHighMul(__m256i x, __m256i m) {
  const __m256i nudge = _mm256_set1_epi64x(int64_t{1} << 30);
  const __m256i even =
      _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, m), nudge), 31);
  const __m256i odd = _mm256_srli_epi64(
      _mm256_add_epi64(
          _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32)),
          nudge),
      31);
  return _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

// gemmlowp RoundingDivideByPOT(x, e), e in [0, 31] per lane.
static inline __m256i VecRoundingDivideByPot(__m256i x, __m256i e) {
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, e), one);
  const __m256i remainder = _mm256_and_si256(x, mask);
  const __m256i negative = _mm256_cmpgt_epi32(_mm256_setzero_si256(), x);
  const __m256i threshold =
      _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), negative);
  const __m256i round_up = _mm256_cmpgt_epi32(remainder, threshold);
  return _mm256_sub_epi32(_mm256_srav_epi32(x, e), round_up);
}

// RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, m), e): TFLite's
// MultiplyByQuantizedMultiplierSmallerThanOneExp with e = -shift in [0, 31].
static inline __m256i VecMultiplyByQuantizedMultiplierSmallerThanOne(
    __m256i x, __m256i m, __m256i e) {
  return VecRoundingDivideByPot(VecDoublingHighMul(x, m), e);
}

// reference::RequantizeTflite + ClampToActivation: clamp(MBQM(acc, m, s) +
// zp, -128, 127) then [lo, hi]. Requires m in [0, 2^31) and s in [-31, 31].
static inline __m256i VecRequantizeTflite(__m256i acc, __m256i multiplier,
                                          __m256i shift, const VecClamp& c) {
  const __m256i left = _mm256_max_epi32(shift, _mm256_setzero_si256());
  const __m256i right = _mm256_sub_epi32(left, shift);
  const __m256i v = VecMultiplyByQuantizedMultiplierSmallerThanOne(
      _mm256_sllv_epi32(acc, left), multiplier, right);
  return VecAddZeroPointClamp(v, c);
}

// Two vectors of 8 int32 in [-128, 127] -> 16 bytes in lane order.
static inline __m128i PackInt32x16(__m256i v0, __m256i v1) {
  const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(v0, v1), 0xD8);
  return _mm_packs_epi16(_mm256_castsi256_si128(w),
                         _mm256_extracti128_si256(w, 1));
}

// One vector of 8 int32 in [-128, 127] -> 8 bytes (low half).
static inline __m128i PackInt32x8(__m256i v) {
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v),
                                    _mm256_extracti128_si256(v, 1));
  return _mm_packs_epi16(w, w);
}

// Stores 8 int32 lanes in [-128, 127] as 8 bytes.
static inline void StoreInt8x8(__m256i v, int8_t* out) {
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), PackInt32x8(v));
}

// Stores the low n (<= 8) of 8 int32 lanes in [-128, 127] as bytes; writes
// nothing past out + n.
static inline void StoreInt8x8(__m256i v, int64_t n, int8_t* out) {
  if (n == 8) {
    StoreInt8x8(v, out);
    return;
  }
  alignas(16) int8_t tmp[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(tmp), PackInt32x8(v));
  for (int64_t j = 0; j < n; ++j) out[j] = tmp[j];
}

// 8 bytes at p sign-extended to int32 lanes.
static inline __m256i LoadInt8x8(const int8_t* p) {
  return _mm256_cvtepi8_epi32(
      _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

// The first n (<= 8) bytes at p sign-extended to int32 lanes, the other
// lanes 0; reads nothing past p + n.
static inline __m256i LoadInt8x8(const int8_t* p, int64_t n) {
  if (n == 8) return LoadInt8x8(p);
  alignas(16) int8_t tmp[16] = {};
  for (int64_t j = 0; j < n; ++j) tmp[j] = p[j];
  return LoadInt8x8(tmp);
}

// Per-channel parameters of an output stage (arrays padded to a multiple of
// 8 channels with harmless values: scale 1, multiplier 2^30, shift 0).
struct VecOutputParams {
  bool tflite;
  const float* scales;         // onnxruntime
  const int32_t* multipliers;  // tflite_reference
  const int32_t* shifts;
  VecClamp clamp;
};

// Requantizes the 8 accumulators of channels [c, c + 8).
static inline __m256i VecRequantize8(__m256i acc, int64_t c,
                                     const VecOutputParams& p) {
  if (p.tflite) {
    return VecRequantizeTflite(
        acc,
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.multipliers + c)),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.shifts + c)),
        p.clamp);
  }
  return VecRequantizeOrt(acc, _mm256_loadu_ps(p.scales + c), p.clamp);
}

}  // namespace qforge::kernels::int8::fast::avx2

#endif  // QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_VECTOR_REQUANT_H_
