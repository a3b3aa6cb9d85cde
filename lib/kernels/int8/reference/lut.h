// 256-entry lookup tables for int8 -> int8 element-wise functions, and their
// builders per profile (TFLite LOGISTIC, TANH, HARD_SWISH; ONNX Sigmoid,
// Tanh, HardSwish and plugin functions such as Erf or GELU).
//
// Any int8 -> int8 function of one element is exactly a table: a SIMD kernel
// applies the same table (e.g. with vpermb / vpshufb), so SIMD == scalar
// holds by construction. Entry lut[uint8_t(q)] holds f(q). The builders are
// where the profiles differ:
//
// onnxruntime (QlinearBuildLookupTable: dequantize the 256 inputs, apply the
// float function to the array, MlasQuantizeLinear the results):
//   x = float(q - zx) * sx;  y = f(x);  lut[q] = QuantizeValueOrt(y, sy, zy)
//   (quantize.h: y / sy, clamp in float, round half to even, + zy).
//   f per op: Sigmoid = MlasComputeLogistic's AVX2/FMA3 kernel (ORT
//   QLinearSigmoid), emulated by MlasLogisticFma3 below; Tanh = std::tanh
//   (ORT runs DQ -> float Tanh -> Q; its float Tanh is an MLAS rational
//   approximation that differs between ORT releases, so a table entry can
//   differ by 1 LSB where the exact value sits on a rounding boundary);
//   HardSwish = OrtHardSwish below (ONNX's function body HardSigmoid(1/6,
//   0.5) * x in binary32; DQ -> float -> Q).
// tflite_reference (LUTPopulateInt8 in tflite/kernels/internal/common.h):
//   inv = 1 / sy                     (binary32)
//   x   = sx * float(q - zx);  y = f(x)
//   r   = round_half_away_from_zero(y * inv)
//   lut[q] = clamp(int32(r + float(zy)), -128, 127)
//   f per op: LOGISTIC = 1 / (1 + expf(-x)), TANH = tanhf(x) (both in
//   binary32 through the C library; the table depends on libm's expf/tanhf
//   being the same as on the device). HARD_SWISH is not a float table in
//   TFLite but an int16 fixed-point kernel (reference_ops::HardSwish);
//   qforge tabulates that kernel exactly (TfliteHardSwish below).
#ifndef QFORGE_LIB_KERNELS_INT8_REFERENCE_LUT_H_
#define QFORGE_LIB_KERNELS_INT8_REFERENCE_LUT_H_

#include <array>
#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kernels/int8/reference/profile.h"
#include "kernels/int8/reference/quant_types.h"

namespace qforge::kernels::reference {

// lut[static_cast<uint8_t>(q)] is the output for input q.
using Int8Lut = std::array<int8_t, 256>;

inline int8_t LookUp(const Int8Lut& lut, int8_t q) {
  return lut[static_cast<uint8_t>(q)];
}

// output[i] = LookUp(lut, input[i]).
absl::Status ApplyLut(const Int8Lut& lut, const int8_t* input, int64_t count,
                      int8_t* output);

// The profile's table for an arbitrary float function (see above).
absl::StatusOr<Int8Lut> BuildLut(ArithmeticProfile profile,
                                 const QuantParam& input,
                                 const QuantParam& output,
                                 absl::FunctionRef<float(float)> fn);

absl::StatusOr<Int8Lut> BuildSigmoidLut(ArithmeticProfile profile,
                                        const QuantParam& input,
                                        const QuantParam& output);
absl::StatusOr<Int8Lut> BuildTanhLut(ArithmeticProfile profile,
                                     const QuantParam& input,
                                     const QuantParam& output);
absl::StatusOr<Int8Lut> BuildHardSwishLut(ArithmeticProfile profile,
                                          const QuantParam& input,
                                          const QuantParam& output);

// MlasLogisticKernelFma3, one element: x clamped to [-18, 18]; x2 = x * x;
// p = fma chain x2*a9+a7, *x2+a5, *x2+a3, *x2+a1, then p = x * p;
// q = fma chain x2*b10+b8, *x2+b6, *x2+b4, *x2+b2, *x2+b0;
// y = max(p / q + 0.5, 0) (constants from MlasLogisticConstants).
float MlasLogisticFma3(float x);

// x * min(max((1/6) * x + 0.5, 0), 1) in binary32, each operation rounded
// (1/6 is the float 0.16666667f of ONNX's HardSwish function body).
float OrtHardSwish(float x);

// TFLite's LOGISTIC table function: 1.0f / (1.0f + std::exp(-x)).
float TfliteLogistic(float x);

// TFLite's int8 HARD_SWISH (reference_ops::HardSwish with the parameters of
// activations.cc HardSwishPrepare), one element.
struct TfliteHardSwishParams {
  int32_t input_zero_point = 0;
  int32_t output_zero_point = 0;
  int16_t output_multiplier_fixedpoint_int16 = 0;
  int output_multiplier_exponent = 0;
  int16_t reluish_multiplier_fixedpoint_int16 = 0;
  int reluish_multiplier_exponent = 0;
};

// HardSwishPrepare: hires = (1/128) * sx, output multiplier = hires / sy,
// reluish multiplier = hires / (3/32768) (binary32), each through
// QuantizeMultiplier and DownScaleInt32ToInt16Multiplier. OutOfRange when
// the output exponent is > 0 (TFLite's TF_LITE_ENSURE).
absl::StatusOr<TfliteHardSwishParams> PrepareTfliteHardSwish(
    const QuantParam& input, const QuantParam& output);

// reference_ops::HardSwish for one int8 value (int16 fixed point):
//   v = q - zx;  hires = v * 128
//   pre = SRDHM16(hires, out_mult16)
//   r = hires; if (re > 0) r = SatLeftShift16(r, re - 1)
//   r = SRDHM16(r, reluish_mult16); if (re > 0) r = SatLeftShift16(r, 1)
//   if (re < 0) r = RoundingDivideByPOT16(r, -re)
//   r = (r + 2^15) >> 1                       ([-1, 1] -> [0, 1] in Q0.15)
//   o = RoundingDivideByPOT16(SDHM16(r, pre), -out_exponent)
//   y = clamp(int16(o + zy), -128, 127)
int8_t TfliteHardSwish(const TfliteHardSwishParams& params, int8_t q);

}  // namespace qforge::kernels::reference

#endif  // QFORGE_LIB_KERNELS_INT8_REFERENCE_LUT_H_
