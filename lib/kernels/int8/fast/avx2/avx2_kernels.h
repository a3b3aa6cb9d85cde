// AVX2 INT8 micro-kernels. Implemented in avx2_kernels.cc, the only file
// compiled with -mavx2 (lib/CMakeLists.txt); callers must check
// CpuHasIsa(Isa::kAvx2) first. This header and that file use plain types
// only (no STL, Abseil or Eigen): an inline function or template instantiated
// in an -mavx2 translation unit could be picked by the linker for the whole
// library and run AVX2 code on a CPU without it.
//
// Exactness: in the GEMM and GemvS8 every product is (x - zx) * (w - zw)
// with both factors in [-255, 255] held as int16; vpmaddwd sums two such
// products into int32 exactly (|sum| <= 130050), and the int32 accumulation
// wraps modulo 2^32 like the reference kernels (vpaddd). The one saturating
// instruction, vpmaddubsw, appears only in GemvS8Sign, on operands for which
// it provably cannot saturate (see there).
#ifndef QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_KERNELS_H_
#define QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_KERNELS_H_

#include <cstdint>

namespace qforge::kernels::int8::fast::avx2 {

// Packed GEMM operand B (weights): N padded to a multiple of 8 columns; each
// block of 8 columns holds, for k-pair p in [0, kp/2), the 16 int16 values
// w[2p][n0..n0+7] and w[2p+1][...] interleaved as (w[2p][n], w[2p+1][n]),
// i.e. block b starts at b * kp * 8. kp is K rounded up to even; padding is 0.
//
// C[m][n] = bias[n] + sum_k A[m][k] * B[k][n] (int32, wrapping) for
// m < rows, n < n_cols; A is int16 [rows][lda] with kp valid columns
// (A's padding column, if any, must be 0 or B's must be 0: B's is).
// bias may be null. C has row stride ldc.
void GemmS16(const int16_t* a, int64_t rows, int64_t lda, int64_t kp,
             const int16_t* packed_b, int64_t n_cols, const int32_t* bias,
             int32_t* c, int64_t ldc);

// One run of K for GemmS16Indirect: `pairs` consecutive k-pairs whose int16
// A values for row r start at a_rows[r] + offset.
struct KSegment {
  int64_t offset;
  int64_t pairs;
};

// The same product with an indirect A (convolution without im2col): the
// k-pairs of B, in order, are the concatenation of the `num_segments`
// segments (their pairs sum to at most kp / 2; B's remaining pairs are
// ignored), and row r reads a_rows[r] + segment.offset. a_rows has `rows`
// entries.
void GemmS16Indirect(const int16_t* const* a_rows, int64_t rows,
                     const KSegment* segments, int64_t num_segments,
                     const int16_t* packed_b, int64_t kp, int64_t n_cols,
                     const int32_t* bias, int32_t* c, int64_t ldc);

// Packed int8 weights for the matrix-vector product (batch-1 fully
// connected): raw int8 w[k][n], K padded to kp (even), N to a multiple of 8,
// padding 0. Columns form groups of kGemvGroup = 32 (the last group may be
// narrower, a multiple of 8 wide); group g starts at byte g * 32 * kp and,
// with width gw, holds for k-pair p the gw * 2 bytes (w[2p][n], w[2p+1][n])
// of its columns n in order at offset p * gw * 2.
constexpr int64_t kGemvGroup = 32;

// c[n] = bias[n] + sum_k x[k] * w[k][n] - zero_points[n] * x_sum (int32,
// wrapping) for n < n_cols; x is int16 [kp] (x - zx, padding 0), bias and
// zero_points may be null (zero_points null means all 0).
void GemvS8(const int16_t* x, int64_t kp, const int8_t* packed_w,
            int64_t n_cols, const int32_t* bias, const int32_t* zero_points,
            int32_t x_sum, int32_t* c);

// Packed int8 weights for GemvS8Sign: as for GemvS8 but with k-quads
// instead of k-pairs: K padded to kq4 (a multiple of 4), and group g of
// width gw holds for quad q the gw * 4 bytes w[4q..4q+3][n] of its columns
// n in order at offset q * gw * 4 (group g starts at byte g * 32 * kq4).
// Every weight must be in [-127, 127].
//
// c[n] = bias[n] + sum_k x[k] * w[k][n] - zero_points[n] * x_sum (int32,
// wrapping) for raw int8 x [kq4] (padding 0). Exact with vpmaddubsw:
// |x| * (w * sign(x)) has |x| <= 128 and |w| <= 127, so a pair of products
// is at most 2 * 128 * 127 = 32512 and never saturates int16. bias is not
// null; zero_points may be null.
void GemvS8Sign(const int8_t* x, int64_t kq4, const int8_t* packed_w,
                int64_t n_cols, const int32_t* bias, const int32_t* zero_points,
                int32_t x_sum, int32_t* c);

// out[i] = int16(in[i]) - zero_point for i < count.
void ConvertS8ToS16(const int8_t* in, int64_t count, int32_t zero_point,
                    int16_t* out);

// onnxruntime requantization of `count` accumulators of one row, channel i
// using scales[i]: clamp(cvtps2dq(min(max(float(acc) * s, -128 - zp),
// 127 - zp)) + zp, lo, hi). Exact replica of reference::RequantizeOrt +
// ClampToActivation in the default MXCSR rounding mode.
void RequantizeOrtRow(const int32_t* acc, int64_t count, const float* scales,
                      int32_t zero_point, int32_t lo, int32_t hi, int8_t* out);

// tflite_reference requantization of `count` accumulators of one row:
// clamp(MultiplyByQuantizedMultiplier(acc, multiplier[i], shift[i]) + zp,
// lo, hi) with gemmlowp's SaturatingRoundingDoublingHighMul and
// RoundingDivideByPOT (reference/fixed_point.h), exactly. Requires every
// multiplier != INT32_MIN (QuantizeMultiplier gives [0, 2^31)) and every
// shift in [-31, 31].
void RequantizeTfliteRow(const int32_t* acc, int64_t count,
                         const int32_t* multipliers, const int32_t* shifts,
                         int32_t zero_point, int32_t lo, int32_t hi,
                         int8_t* out);

}  // namespace qforge::kernels::int8::fast::avx2

#endif  // QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_KERNELS_H_
