// Add, Sub, Mul reference kernels with numpy broadcasting and requantization
// (TFLite ADD, SUB, MUL; ONNX Add, Sub, Mul in QDQ form).
//
// Broadcasting: shapes are aligned at the right (numpy); each output element
// reads input1 and input2 at the broadcast indices. Output shape =
// BroadcastShapes(shape1, shape2), row-major. a = input1 value, b = input2
// value, (sA, zA), (sB, zB), (sC, zC) the input1, input2, output params; the
// result is finally clamped to the activation range.
//
// Add, onnxruntime (ORT QLinearAdd = MlasQLinearAdd, AVX2 kernel
// MlasQLinearAddKernelAvx2Helper; binary32, fma = fused multiply-add with
// one rounding):
//   rA = sA / sC;  rB = sB / sC
//   K  = float(zC) - (rA * float(zA) + rB * float(zB))   (3 roundings +1)
//   general span:     v = fma(float(a), rA, fma(float(b), rB, K))
//   input2 constant:  v = fma(float(a), rA, K + float(b) * rB)
//   input1 constant:  v = fma(float(b), rB, K + float(a) * rA)
//   q = clamp(cvtps2dq(v), -128, 127)   (packs 32->16->8; NaN/overflow of
//                                         cvtps2dq gives INT32_MIN -> -128)
//   "input2 constant" applies when input2 is broadcast along the innermost
//   output dimension of size > 1 (ORT's BroadcastHelper then hands MLAS
//   spans with a scalar input2); "input1 constant" likewise for input1 (ORT
//   swaps the operands and calls the scalar-B kernel). A one-element output
//   counts as "input1 constant" (ORT checks input1 first).
// Add, tflite_reference (reference_integer_ops::AddFunc, add.cc Prepare):
//   twice_max = 2 * double(max(sA, sB))
//   MA = QuantizeMultiplierSmallerThanOneExp(double(sA) / twice_max)
//   MB = QuantizeMultiplierSmallerThanOneExp(double(sB) / twice_max)
//   MC = QuantizeMultiplierSmallerThanOneExp(twice_max / (2^20 * double(sC)))
//        (OutOfRange when >= 1, where TFLite CHECK-fails)
//   ta = RoundingDivideByPOT(SRDHM((a - zA) * 2^20, MA.m), -MA.shift)
//   tb = likewise for b
//   q  = RoundingDivideByPOT(SRDHM(ta + tb, MC.m), -MC.shift) + zC
// Sub, onnxruntime: ORT has no fused QLinearSub; a QDQ Sub runs as
//   DequantizeLinear -> float Sub -> QuantizeLinear:
//   q = QuantizeValueOrt(float(a - zA) * sA - float(b - zB) * sB, sC, zC)
// Sub, tflite_reference (reference_ops::SubElementwise /
//   BroadcastQuantSubSlow): as Add with ta - tb; MC may not exceed 1
//   (TFLite would feed a negative exponent to RoundingDivideByPOT).
// Mul, onnxruntime (ORT QLinearMul = MlasQLinearMul, SSE2 kernel):
//   r = (sA * sB) / sC                       (binary32, left to right)
//   p = (a - zA) * (b - zB)                  (exact int32)
//   v = float(p) * r + float(zC)             (two roundings)
//   q = clamp(cvtps2dq(v), -128, 127)
// Mul, tflite_reference (reference_integer_ops::MulElementwise, mul.cc):
//   M = QuantizeMultiplier(double(float(float(sA * sB) / sC)))  (float math)
//   q = MultiplyByQuantizedMultiplier((a - zA) * (b - zB), M) + zC
#ifndef QFORGE_LIB_KERNELS_INT8_REFERENCE_ELEMENTWISE_H_
#define QFORGE_LIB_KERNELS_INT8_REFERENCE_ELEMENTWISE_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "kernels/int8/reference/profile.h"
#include "kernels/int8/reference/quant_types.h"

namespace qforge::kernels::reference {

struct BinaryParams {
  QuantParam input1;
  QuantParam input2;
  QuantParam output;
  ActivationRange activation;
};

// numpy broadcast of two shapes; InvalidArgument when incompatible.
absl::StatusOr<std::vector<int64_t>> BroadcastShapes(
    absl::Span<const int64_t> shape1, absl::Span<const int64_t> shape2);

absl::Status Add(ArithmeticProfile profile, const BinaryParams& params,
                 absl::Span<const int64_t> shape1, const int8_t* input1,
                 absl::Span<const int64_t> shape2, const int8_t* input2,
                 int8_t* output);

absl::Status Sub(ArithmeticProfile profile, const BinaryParams& params,
                 absl::Span<const int64_t> shape1, const int8_t* input1,
                 absl::Span<const int64_t> shape2, const int8_t* input2,
                 int8_t* output);

absl::Status Mul(ArithmeticProfile profile, const BinaryParams& params,
                 absl::Span<const int64_t> shape1, const int8_t* input1,
                 absl::Span<const int64_t> shape2, const int8_t* input2,
                 int8_t* output);

}  // namespace qforge::kernels::reference

#endif  // QFORGE_LIB_KERNELS_INT8_REFERENCE_ELEMENTWISE_H_
