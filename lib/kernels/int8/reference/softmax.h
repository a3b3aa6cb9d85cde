// Softmax reference kernel over the last axis, int8 in, int8 out with the
// fixed output params scale 1/256, zero point -128 (TFLite SOFTMAX; ONNX
// Softmax in QDQ form -> ORT QLinearSoftmax). Input [rows, depth].
//
// onnxruntime (contrib QLinearSoftmax, opset >= 13 path, int8; beta must be
// 1 since ONNX Softmax has none):
//   table, built once per (input scale, depth) in double:
//     shift = max(0, log(double(FLT_MAX / float(depth))) - 5) / sx
//     T[i]  = float(exp((i - 255 + shift) * sx)),  i = 0..255
//   per row: m = max(x); for each x: t = T[255 + x - m]
//     sum = 0.0f; sum += t over the row in order            (binary32)
//     v = int32(rne((t * 256.0f) / sum)) - 128              (256 = floor(1/sy))
//     y = v > 255 ? -1 : int8(v)
//   ORT saturates only above 255, and qforge reproduces what its x86 build
//   does at the edges:
//   - v = 128 (a probability that rounds to 256/256, >= 0.998) wraps to
//     y = -128, i.e. probability 0;
//   - depth 1: T[max] ~ 2.1e36 and t * 256 overflows to +inf, the float to
//     int32 conversion gives INT32_MIN (cvttss2si), INT32_MIN - 128 wraps to
//     2147483520 > 255, so y = -1 (probability 127/256).
// tflite_reference (reference_ops::Softmax, quantized, gemmlowp fixed point;
// the kernel BUILTIN_REF uses for int8):
//   {Mb, ls} = PreprocessSoftmaxScaling(beta, sx, 5)    (fixed_point.h)
//   diff_min = -CalculateInputRadius(5, ls)
//   per row: m = max(x); d = x - m
//     sum (Q12.19) = sum over d >= diff_min of
//         RoundingDivideByPOT(ExpOnNegativeValues(
//             MultiplyByQuantizedMultiplierGreaterThanOne(d, Mb, ls), 5), 12)
//         (plain int32 adds, wrapping)
//     r = GetReciprocal(sum, 12, &k)          (Q0.31, 1/sum = r * 2^-k)
//     e = k + 23  (must be in [0, 31]; TFLite CHECK-fails otherwise)
//     y = d >= diff_min ? clamp(RoundingDivideByPOT(SRDHM(r, exp_d), e) - 128,
//                               -128, 127)
//                       : -128
#ifndef QFORGE_LIB_KERNELS_INT8_REFERENCE_SOFTMAX_H_
#define QFORGE_LIB_KERNELS_INT8_REFERENCE_SOFTMAX_H_

#include <array>
#include <cstdint>

#include "absl/status/status.h"
#include "kernels/int8/reference/profile.h"
#include "kernels/int8/reference/quant_types.h"

namespace qforge::kernels::reference {

struct SoftmaxParams {
  float input_scale = 1.0f;  // the input zero point cancels out
  float beta = 1.0f;
};

// The fixed output quantization of an int8 softmax.
inline constexpr QuantParam kSoftmaxOutputQuant{1.0f / 256.0f, -128};

absl::Status Softmax(ArithmeticProfile profile, const SoftmaxParams& params,
                     const int8_t* input, int64_t rows, int64_t depth,
                     int8_t* output);

// The onnxruntime profile's table T (QlinearBuildLookupTableUint32, above)
// for an input scale and row depth (> 0), stored at uint8(i - 128) for
// i = 0..255, so that a row reads it at the byte uint8(127 - max + x).
// Softmax and the fast kernels share it.
std::array<float, 256> SoftmaxOrtTable(float input_scale, int64_t depth);

}  // namespace qforge::kernels::reference

#endif  // QFORGE_LIB_KERNELS_INT8_REFERENCE_SOFTMAX_H_
