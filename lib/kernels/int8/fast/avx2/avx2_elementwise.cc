#include "kernels/int8/fast/avx2/avx2_elementwise.h"

// FMA for ORT's QLinearAdd formula; the dispatcher checks the CPU has it.
// The file is compiled with -ffp-contract=off, so only the explicit
// _mm256_fmadd_ps calls fuse.
#pragma GCC target("avx2,fma")

#include <immintrin.h>

#include <cstring>

#include "kernels/int8/fast/avx2/avx2_vector_requant.h"

namespace qforge::kernels::int8::fast::avx2 {
namespace {

// Runs op(a32, b32) -> int32 lanes in [lo, hi] over a span, 8 lanes at a
// time; a tail's missing lanes read 0.
template <typename Op>
inline void ForSpan(const BinarySpan& s, Op op) {
  const __m256i a_scalar = _mm256_set1_epi32(s.a[0]);
  const __m256i b_scalar = _mm256_set1_epi32(s.b[0]);
  int64_t i = 0;
  for (; i + 8 <= s.count; i += 8) {
    const __m256i a = s.a_step != 0 ? LoadInt8x8(s.a + i) : a_scalar;
    const __m256i b = s.b_step != 0 ? LoadInt8x8(s.b + i) : b_scalar;
    StoreInt8x8(op(a, b), s.out + i);
  }
  if (i < s.count) {
    const int64_t n = s.count - i;
    const __m256i a = s.a_step != 0 ? LoadInt8x8(s.a + i, n) : a_scalar;
    const __m256i b = s.b_step != 0 ? LoadInt8x8(s.b + i, n) : b_scalar;
    StoreInt8x8(op(a, b), n, s.out + i);
  }
}

}  // namespace

OrtAddArgs MakeOrtAddArgs(float scale_a, int32_t zero_a, float scale_b,
                          int32_t zero_b, float scale_c, int32_t zero_c,
                          int32_t lo, int32_t hi) {
  OrtAddArgs o;
  o.ratio1 = scale_a / scale_c;
  o.ratio2 = scale_b / scale_c;
  const float term1 = o.ratio1 * static_cast<float>(zero_a);
  const float term2 = o.ratio2 * static_cast<float>(zero_b);
  const float sum = term1 + term2;
  o.fixed = static_cast<float>(zero_c) - sum;
  o.lo = lo;
  o.hi = hi;
  return o;
}

void OrtAddSpan(const BinarySpan& s, const OrtAddArgs& p) {
  const __m256i lo = _mm256_set1_epi32(p.lo);
  const __m256i hi = _mm256_set1_epi32(p.hi);
  const __m256 r1 = _mm256_set1_ps(p.ratio1);
  const __m256 r2 = _mm256_set1_ps(p.ratio2);
  if (s.a_step == 0) {  // input1 constant: fma(b, r2, K + a * r1)
    const float product = static_cast<float>(s.a[0]) * p.ratio1;
    const __m256 c = _mm256_set1_ps(p.fixed + product);
    ForSpan(s, [&](__m256i, __m256i b) {
      const __m256 v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(b), r2, c);
      return VecClampInt32(_mm256_cvtps_epi32(v), lo, hi);
    });
  } else if (s.b_step == 0) {  // input2 constant: fma(a, r1, K + b * r2)
    const float product = static_cast<float>(s.b[0]) * p.ratio2;
    const __m256 c = _mm256_set1_ps(p.fixed + product);
    ForSpan(s, [&](__m256i a, __m256i) {
      const __m256 v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a), r1, c);
      return VecClampInt32(_mm256_cvtps_epi32(v), lo, hi);
    });
  } else {  // fma(a, r1, fma(b, r2, K))
    const __m256 k = _mm256_set1_ps(p.fixed);
    ForSpan(s, [&](__m256i a, __m256i b) {
      const __m256 v =
          _mm256_fmadd_ps(_mm256_cvtepi32_ps(a), r1,
                          _mm256_fmadd_ps(_mm256_cvtepi32_ps(b), r2, k));
      return VecClampInt32(_mm256_cvtps_epi32(v), lo, hi);
    });
  }
}

void OrtSubSpan(const BinarySpan& s, const OrtSubArgs& p) {
  const VecClamp clamp = MakeVecClamp(p.zero_c, p.lo, p.hi);
  const __m256i za = _mm256_set1_epi32(p.zero_a);
  const __m256i zb = _mm256_set1_epi32(p.zero_b);
  const __m256 sa = _mm256_set1_ps(p.scale_a);
  const __m256 sb = _mm256_set1_ps(p.scale_b);
  const __m256 sc = _mm256_set1_ps(p.scale_c);
  ForSpan(s, [&](__m256i a, __m256i b) {
    const __m256 fa =
        _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(a, za)), sa);
    const __m256 fb =
        _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(b, zb)), sb);
    // QuantizeValueOrt then the activation clamp, merged (VecClamp).
    return VecRoundAddZeroPointClamp(_mm256_div_ps(_mm256_sub_ps(fa, fb), sc),
                                     clamp);
  });
}

void OrtMulSpan(const BinarySpan& s, const OrtMulArgs& p) {
  const __m256i lo = _mm256_set1_epi32(p.lo);
  const __m256i hi = _mm256_set1_epi32(p.hi);
  const __m256i za = _mm256_set1_epi32(p.zero_a);
  const __m256i zb = _mm256_set1_epi32(p.zero_b);
  const __m256 ratio = _mm256_set1_ps(p.ratio);
  const __m256 zc = _mm256_set1_ps(static_cast<float>(p.zero_c));
  ForSpan(s, [&](__m256i a, __m256i b) {
    const __m256i product =
        _mm256_mullo_epi32(_mm256_sub_epi32(a, za), _mm256_sub_epi32(b, zb));
    const __m256 v =
        _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(product), ratio), zc);
    return VecClampInt32(_mm256_cvtps_epi32(v), lo, hi);
  });
}

void TfliteMulSpan(const BinarySpan& s, const TfliteMulArgs& p) {
  const VecClamp clamp = MakeVecClamp(p.zero_c, p.lo, p.hi);
  const __m256i za = _mm256_set1_epi32(p.zero_a);
  const __m256i zb = _mm256_set1_epi32(p.zero_b);
  const __m256i m = _mm256_set1_epi32(p.multiplier);
  const __m256i shift = _mm256_set1_epi32(p.shift);
  ForSpan(s, [&](__m256i a, __m256i b) {
    const __m256i product =
        _mm256_mullo_epi32(_mm256_sub_epi32(a, za), _mm256_sub_epi32(b, zb));
    return VecRequantizeTflite(product, m, shift, clamp);
  });
}

void TfliteAddSpan(const BinarySpan& s, const TfliteAddArgs& p) {
  const __m256i za = _mm256_set1_epi32(p.zero_a);
  const __m256i zb = _mm256_set1_epi32(p.zero_b);
  const __m256i m1 = _mm256_set1_epi32(p.m1);
  const __m256i m2 = _mm256_set1_epi32(p.m2);
  const __m256i mo = _mm256_set1_epi32(p.mo);
  const __m256i e1 = _mm256_set1_epi32(-p.s1);
  const __m256i e2 = _mm256_set1_epi32(-p.s2);
  const __m256i eo = _mm256_set1_epi32(-p.so);
  const VecClamp clamp = MakeVecClamp(p.zero_c, p.lo, p.hi);
  ForSpan(s, [&](__m256i a, __m256i b) {
    const __m256i ta = VecMultiplyByQuantizedMultiplierSmallerThanOne(
        _mm256_slli_epi32(_mm256_sub_epi32(a, za), 20), m1, e1);
    const __m256i tb = VecMultiplyByQuantizedMultiplierSmallerThanOne(
        _mm256_slli_epi32(_mm256_sub_epi32(b, zb), 20), m2, e2);
    const __m256i raw =
        p.subtract ? _mm256_sub_epi32(ta, tb) : _mm256_add_epi32(ta, tb);
    return VecAddZeroPointClamp(
        VecMultiplyByQuantizedMultiplierSmallerThanOne(raw, mo, eo), clamp);
  });
}

// 256-entry lookup with vpshufb, which reads 16-byte tables: a byte whose
// bit 7 is set selects 0. Group L handles inputs 0..127 as signed s >= 0:
// idx_k = s - 16k (saturating, so negative inputs stay negative) has bit 7
// clear exactly when s >= 16k, i.e. for k <= s >> 4, and its low nibble is
// s's. XOR-ing shuffle(D_k, idx_k) over k = 0..7 with D_0 = T_0 and
// D_k = T_k ^ T_{k-1} telescopes to T_{s >> 4}. Group H does the same for
// inputs 128..255 on s ^ 0x80 with T_8..T_15. Each group yields 0 for the
// other's inputs.
void LookUp(const int8_t* table, const int8_t* in, int64_t count, int8_t* out) {
  __m256i d[16];
  for (int k = 0; k < 16; ++k) {
    __m128i t =
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(table + 16 * k));
    if (k != 0 && k != 8) {
      t = _mm_xor_si128(t, _mm_loadu_si128(reinterpret_cast<const __m128i*>(
                               table + 16 * (k - 1))));
    }
    d[k] = _mm256_broadcastsi128_si256(t);
  }
  const __m256i sixteen = _mm256_set1_epi8(16);
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  auto lookup32 = [&](__m256i x) {
    __m256i lo_idx = x;
    __m256i hi_idx = _mm256_xor_si256(x, flip);
    __m256i r = _mm256_xor_si256(_mm256_shuffle_epi8(d[0], lo_idx),
                                 _mm256_shuffle_epi8(d[8], hi_idx));
    for (int k = 1; k < 8; ++k) {
      lo_idx = _mm256_subs_epi8(lo_idx, sixteen);
      hi_idx = _mm256_subs_epi8(hi_idx, sixteen);
      r = _mm256_xor_si256(r, _mm256_shuffle_epi8(d[k], lo_idx));
      r = _mm256_xor_si256(r, _mm256_shuffle_epi8(d[k + 8], hi_idx));
    }
    return r;
  };
  int64_t i = 0;
  for (; i + 32 <= count; i += 32) {
    const __m256i x =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), lookup32(x));
  }
  if (i < count) {
    alignas(32) int8_t buffer[32] = {0};
    std::memcpy(buffer, in + i, count - i);
    const __m256i y =
        lookup32(_mm256_load_si256(reinterpret_cast<const __m256i*>(buffer)));
    _mm256_store_si256(reinterpret_cast<__m256i*>(buffer), y);
    std::memcpy(out + i, buffer, count - i);
  }
}

namespace {

// 8 floats -> 8 int32 lanes by op, 8 at a time with a staged tail.
template <typename Op>
inline void ForFloats(const float* in, int64_t count, int8_t* out, Op op) {
  int64_t i = 0;
  for (; i + 8 <= count; i += 8)
    StoreInt8x8(op(_mm256_loadu_ps(in + i)), out + i);
  if (i < count) {
    const int64_t n = count - i;
    alignas(32) float tf[8] = {0};
    std::memcpy(tf, in + i, n * sizeof(float));
    StoreInt8x8(op(_mm256_load_ps(tf)), n, out + i);
  }
}

}  // namespace

void QuantizeOrt(const float* in, int64_t count, float scale,
                 int32_t zero_point, int8_t* out) {
  const __m256 s = _mm256_set1_ps(scale);
  const VecClamp clamp = MakeVecClamp(zero_point, -128, 127);
  ForFloats(in, count, out, [&](__m256 x) {
    return VecRoundAddZeroPointClamp(_mm256_div_ps(x, s), clamp);
  });
}

// clamp(rhaz(x / scale) + zp, -128, 127), NaN -> -128. Clamping v to the
// integer bounds [-128 - zp, 127 - zp] before rounding commutes with the
// (monotonic) rounding; NaN takes the lower bound like the reference's
// INT32_MIN. rhaz(v) = trunc(v) + (|v - trunc(v)| >= 0.5 ? sign(v) : 0),
// with v - trunc(v) exact.
void QuantizeTflite(const float* in, int64_t count, float scale,
                    int32_t zero_point, int8_t* out) {
  const __m256 s = _mm256_set1_ps(scale);
  const VecClamp clamp = MakeVecClamp(zero_point, -128, 127);
  const __m256 half = _mm256_set1_ps(0.5f);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  ForFloats(in, count, out, [&](__m256 x) {
    __m256 v = _mm256_div_ps(x, s);
    v = _mm256_max_ps(v, clamp.fmin);  // NaN -> lower bound
    v = _mm256_min_ps(v, clamp.fmax);
    const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    const __m256 frac = _mm256_andnot_ps(sign_mask, _mm256_sub_ps(v, t));
    const __m256 step = _mm256_or_ps(_mm256_and_ps(v, sign_mask), one);
    const __m256 r = _mm256_add_ps(
        t, _mm256_and_ps(_mm256_cmp_ps(frac, half, _CMP_GE_OQ), step));
    return _mm256_add_epi32(_mm256_cvttps_epi32(r), clamp.zero_point);
  });
}

void Dequantize(const int8_t* in, int64_t count, float scale,
                int32_t zero_point, float* out) {
  const __m256 s = _mm256_set1_ps(scale);
  const __m256i zp = _mm256_set1_epi32(zero_point);
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256i q = _mm256_sub_epi32(LoadInt8x8(in + i), zp);
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_cvtepi32_ps(q), s));
  }
  if (i < count) {
    const int64_t n = count - i;
    alignas(16) int8_t tq[8] = {0};
    alignas(32) float to[8];
    std::memcpy(tq, in + i, n);
    const __m256i q = _mm256_sub_epi32(LoadInt8x8(tq), zp);
    _mm256_store_ps(to, _mm256_mul_ps(_mm256_cvtepi32_ps(q), s));
    std::memcpy(out + i, to, n * sizeof(float));
  }
}

int32_t MaxInt8(const int8_t* x, int64_t depth) {
  int64_t i = 0;
  int32_t m = -128;
  if (depth >= 32) {
    __m256i vm = _mm256_set1_epi8(-128);
    for (; i + 32 <= depth; i += 32) {
      vm = _mm256_max_epi8(
          vm, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)));
    }
    alignas(32) int8_t lanes[32];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), vm);
    for (int j = 0; j < 32; ++j) m = lanes[j] > m ? lanes[j] : m;
  }
  for (; i < depth; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

namespace {

// Runs op(x + base) on 8 int32 lanes at a time and stores the 8 resulting
// bytes (op returns int32 lanes in [-128, 127]); a tail is padded with a
// value of the row, so every lane indexes the table validly.
template <typename Op>
inline void ForRowIndices(const int8_t* x, int64_t depth, int32_t base,
                          int8_t* y, Op op) {
  const __m256i vbase = _mm256_set1_epi32(base);
  int64_t i = 0;
  for (; i + 8 <= depth; i += 8) {
    StoreInt8x8(op(_mm256_add_epi32(LoadInt8x8(x + i), vbase)), y + i);
  }
  if (i < depth) {
    const int64_t n = depth - i;
    alignas(16) int8_t tx[8];
    std::memset(tx, static_cast<int>(x[i]), 8);  // valid indices
    std::memcpy(tx, x + i, n);
    StoreInt8x8(op(_mm256_add_epi32(LoadInt8x8(tx), vbase)), n, y + i);
  }
}

}  // namespace

void SoftmaxOrtRow(const float* table, const int8_t* x, int64_t depth,
                   int8_t* y) {
  const int32_t adjustment = 127 - MaxInt8(x, depth);
  float sum = 0.0f;
  for (int64_t c = 0; c < depth; ++c) {
    sum += table[static_cast<uint8_t>(adjustment + x[c])];
  }
  const __m256 vsum = _mm256_set1_ps(sum);
  const __m256 y_scale = _mm256_set1_ps(256.0f);
  const __m256i zp = _mm256_set1_epi32(-128);
  const __m256i limit = _mm256_set1_epi32(255);
  const __m256i low_byte = _mm256_set1_epi32(0xFF);
  const __m256i minus_one = _mm256_set1_epi32(-1);
  // adjustment + x lies in [-128, 127]; the table index is its low byte.
  auto op = [&](__m256i idx) {
    const __m256i byte = _mm256_and_si256(idx, low_byte);
    const __m256 t = _mm256_i32gather_ps(table, byte, 4);
    const __m256 ratio = _mm256_div_ps(_mm256_mul_ps(t, y_scale), vsum);
    const __m256i v = _mm256_add_epi32(_mm256_cvtps_epi32(ratio), zp);
    const __m256i over = _mm256_cmpgt_epi32(v, limit);
    // int8(v & 0xFF) as a signed lane, or -1 above 255.
    __m256i b = _mm256_and_si256(v, low_byte);
    b = _mm256_sub_epi32(
        b, _mm256_and_si256(_mm256_cmpgt_epi32(b, _mm256_set1_epi32(127)),
                            _mm256_set1_epi32(256)));
    return _mm256_blendv_epi8(b, minus_one, over);
  };
  ForRowIndices(x, depth, adjustment, y, op);
}

int32_t SoftmaxTfliteSum(const int32_t* exp_table, const int8_t* x,
                         int64_t depth, int32_t max) {
  const __m256i e12 = _mm256_set1_epi32(12);
  const __m256i vbase = _mm256_set1_epi32(255 - max);
  __m256i acc = _mm256_setzero_si256();
  int64_t i = 0;
  for (; i + 8 <= depth; i += 8) {
    const __m256i idx = _mm256_add_epi32(LoadInt8x8(x + i), vbase);
    acc = _mm256_add_epi32(
        acc,
        VecRoundingDivideByPot(_mm256_i32gather_epi32(exp_table, idx, 4), e12));
  }
  alignas(32) int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc);
  uint32_t sum = 0;
  for (int j = 0; j < 8; ++j) sum += static_cast<uint32_t>(lanes[j]);
  for (; i < depth; ++i) {
    const int32_t e = exp_table[255 + x[i] - max];
    // RoundingDivideByPOT(e, 12) for e >= 0.
    const int32_t mask = (1 << 12) - 1;
    const int32_t rounded = (e >> 12) + ((e & mask) > (mask >> 1) ? 1 : 0);
    sum += static_cast<uint32_t>(rounded);
  }
  return static_cast<int32_t>(sum);
}

void SoftmaxTfliteOutputs(const int32_t* exp_table, const int8_t* x,
                          int64_t depth, int32_t max, int32_t scale,
                          int32_t exponent, int8_t* y) {
  const __m256i vscale = _mm256_set1_epi32(scale);
  const __m256i vexp = _mm256_set1_epi32(exponent);
  const __m256i lo = _mm256_set1_epi32(-128);
  const __m256i hi = _mm256_set1_epi32(127);
  const __m256i offset = _mm256_set1_epi32(128);
  ForRowIndices(x, depth, 255 - max, y, [&](__m256i idx) {
    const __m256i e = _mm256_i32gather_epi32(exp_table, idx, 4);
    const __m256i v =
        VecMultiplyByQuantizedMultiplierSmallerThanOne(e, vscale, vexp);
    // v - 128 cannot overflow: v <= 2^31 / 2^exponent.
    return VecClampInt32(_mm256_sub_epi32(v, offset), lo, hi);
  });
}

}  // namespace qforge::kernels::int8::fast::avx2
