// AVX2 (+FMA) element-wise INT8 kernels: binary spans (Add, Sub, Mul with
// requantization), 256-entry table lookup, QuantizeLinear and
// DequantizeLinear. Implemented in avx2_elementwise.cc, compiled with -mavx2
// (lib/CMakeLists.txt) and `#pragma GCC target("avx2,fma")`; callers must
// check that the CPU has AVX2 and FMA first (fast/elementwise_kernels.cc).
// Plain types only, for the reason given in avx2_kernels.h.
//
// Each function computes exactly the formula of the reference kernel it
// names (lib/kernels/int8/reference/, docs/arithmetic.md), lane by lane;
// `lo`, `hi` are the effective output clamp (the activation range
// intersected with [-128, 127]).
#ifndef QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_ELEMENTWISE_H_
#define QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_ELEMENTWISE_H_

#include <cstdint>

namespace qforge::kernels::int8::fast::avx2 {

// One innermost span of a broadcast binary op: element i reads
// a[i * a_step] and b[i * b_step] (steps 0 or 1) and writes out[i].
struct BinarySpan {
  const int8_t* a;
  int64_t a_step;
  const int8_t* b;
  int64_t b_step;
  int64_t count;
  int8_t* out;
};

// ORT QLinearAdd (MlasQLinearAddKernelAvx2Helper) constants, computed here
// without contraction: ratio1 = sA / sC, ratio2 = sB / sC,
// fixed = float(zC) - (ratio1 * float(zA) + ratio2 * float(zB)).
struct OrtAddArgs {
  float ratio1, ratio2, fixed;
  int32_t lo, hi;
};
OrtAddArgs MakeOrtAddArgs(float scale_a, int32_t zero_a, float scale_b,
                          int32_t zero_b, float scale_c, int32_t zero_c,
                          int32_t lo, int32_t hi);
// The span form follows the steps: a_step == 0 is "input1 constant",
// otherwise b_step == 0 is "input2 constant", otherwise the general form.
void OrtAddSpan(const BinarySpan& span, const OrtAddArgs& args);

// ORT Sub (DequantizeLinear -> float Sub -> QuantizeLinear):
// QuantizeValueOrt(float(a - zA) * sA - float(b - zB) * sB, sC, zC).
struct OrtSubArgs {
  float scale_a, scale_b, scale_c;
  int32_t zero_a, zero_b, zero_c;
  int32_t lo, hi;
};
void OrtSubSpan(const BinarySpan& span, const OrtSubArgs& args);

// ORT QLinearMul: v = float((a - zA) * (b - zB)) * ratio + float(zC).
struct OrtMulArgs {
  int32_t zero_a, zero_b, zero_c;
  float ratio;
  int32_t lo, hi;
};
void OrtMulSpan(const BinarySpan& span, const OrtMulArgs& args);

// TFLite MulElementwise: MBQM((a - zA) * (b - zB), multiplier, shift) + zC
// (multiplier in [0, 2^31), shift in [-31, 31]).
struct TfliteMulArgs {
  int32_t zero_a, zero_b, zero_c;
  int32_t multiplier, shift;
  int32_t lo, hi;
};
void TfliteMulSpan(const BinarySpan& span, const TfliteMulArgs& args);

// TFLite AddFunc / SubElementwise with add.cc Prepare's multipliers (each
// multiplier in [0, 2^31), each shift in [-31, 0]):
//   ta = RDBPOT(SRDHM((a - zA) * 2^20, m1), -s1), tb likewise,
//   y  = RDBPOT(SRDHM(ta +- tb, mo), -so) + zC.
struct TfliteAddArgs {
  int32_t zero_a, zero_b, zero_c;
  int32_t m1, s1, m2, s2, mo, so;
  bool subtract;
  int32_t lo, hi;
};
void TfliteAddSpan(const BinarySpan& span, const TfliteAddArgs& args);

// out[i] = table[uint8(in[i])] (vpshufb over 16 sub-tables).
void LookUp(const int8_t* table, const int8_t* in, int64_t count, int8_t* out);

// reference::QuantizeValueOrt / QuantizeValueTflite into int8 (qmin -128,
// qmax 127).
void QuantizeOrt(const float* in, int64_t count, float scale,
                 int32_t zero_point, int8_t* out);
void QuantizeTflite(const float* in, int64_t count, float scale,
                    int32_t zero_point, int8_t* out);

// float(q - zero_point) * scale.
void Dequantize(const int8_t* in, int64_t count, float scale,
                int32_t zero_point, float* out);

// max over x[0, depth) (depth >= 1).
int32_t MaxInt8(const int8_t* x, int64_t depth);

// ORT QLinearSoftmax, one row (reference::Softmax, onnxruntime): table[256]
// holds T indexed by uint8(127 - max + x); sum = 0.0f; sum += t in order
// (scalar, binary32); then per element v = cvtps2dq((t * 256.0f) / sum)
// - 128 (wrapping), y = v > 255 ? -1 : int8(v & 0xFF).
void SoftmaxOrtRow(const float* table, const int8_t* x, int64_t depth,
                   int8_t* y);

// TFLite Softmax pieces for one row with max m: exp_table[255 + d] is
// ExpOnNegativeValues(...) for d = x - m >= diff_min and 0 below.
// SoftmaxTfliteSum: sum of RDBPOT(exp_table[255 + x - m], 12) (wrapping).
// SoftmaxTfliteOutputs: y = clamp(RDBPOT(SRDHM(scale, e), exponent) - 128,
// -128, 127) with e = exp_table[255 + x - m] (0 gives -128).
int32_t SoftmaxTfliteSum(const int32_t* exp_table, const int8_t* x,
                         int64_t depth, int32_t max);
void SoftmaxTfliteOutputs(const int32_t* exp_table, const int8_t* x,
                          int64_t depth, int32_t max, int32_t scale,
                          int32_t exponent, int8_t* y);

}  // namespace qforge::kernels::int8::fast::avx2

#endif  // QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_ELEMENTWISE_H_
