// The requantize primitive: int32 accumulator -> int8, shared by every
// kernel that accumulates in int32 (FullyConnected/MatMul/Gemm, Conv2D,
// DepthwiseConv2D, GlobalAveragePool in the onnxruntime profile, MEAN and
// MUL in the tflite_reference profile). It is the one place where an int32
// accumulator becomes an output byte.
//
// onnxruntime (MlasRequantizeOutput; the bias is already in acc):
//   f = float(acc)          int32 -> binary32, round to nearest even; exact
//                           only for |acc| <= 2^24, above that the low bits
//                           are rounded away *before* scaling (this is what
//                           MLAS does, cvtdq2ps)
//   f = f * scale           one binary32 multiplication, scale a float
//   f = min(max(f, -128 - zp), 127 - zp)
//   q = round_half_to_even(f) + zp          (cvtps2dq)
//   q = clamp(q, activation)
//   For linear ops scale = (input_scale * weight_scale[c]) / output_scale,
//   evaluated in binary32 in that order (ORT QLinearConv / QLinearMatMul /
//   QGemm ComputeOutputScale).
// tflite_reference (MultiplyByQuantizedMultiplier, double rounding):
//   q = MultiplyByQuantizedMultiplier(acc, M[c], shift[c]) + zp
//   q = clamp(q, max(-128, act_min), min(127, act_max))
//   For linear ops {M, shift} = QuantizeMultiplier(double(input_scale) *
//   double(weight_scale[c]) / double(output_scale)) (TFLite
//   PopulateConvolutionQuantizationParams; the double product of two floats
//   is exact, so only the division rounds). Used by CONV_2D and
//   DEPTHWISE_CONV_2D (and BATCH_MATMUL-style dynamic products).
// tflite_reference, FULLY_CONNECTED (TfliteLinearRequant::kDouble): TFLite's
//   BUILTIN_REF FULLY_CONNECTED (int8, per-tensor and per-channel) does not
//   use the Q31 multiplier; reference_integer_ops::FullyConnected(PerChannel)
//   receives the float scales and rescales in double:
//     e[c] = double(input_scale) * double(weight_scale[c])
//            / double(output_scale)          (product exact, division rounds)
//     q = int32(round(double(acc) * e[c])) + zp   (one double multiplication,
//                                        round half away from zero)
//     q = clamp(q, max(-128, act_min), min(127, act_max))
#ifndef QFORGE_LIB_KERNELS_INT8_REFERENCE_REQUANTIZE_H_
#define QFORGE_LIB_KERNELS_INT8_REFERENCE_REQUANTIZE_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "kernels/int8/reference/fixed_point.h"
#include "kernels/int8/reference/profile.h"
#include "kernels/int8/reference/quant_types.h"

namespace qforge::kernels::reference {

// MlasRequantizeOutput for one accumulator (formula above), before the
// activation clamp: result in [-128, 127].
int32_t RequantizeOrt(int32_t acc, float scale, int32_t zero_point);

// MultiplyByQuantizedMultiplier + zero point, clamped to [-128, 127].
int32_t RequantizeTflite(int32_t acc, const QuantizedMultiplier& multiplier,
                         int32_t zero_point);

// The ORT linear-op output scale: (input_scale * weight_scale) / output_scale
// in binary32.
float OrtLinearOutputScale(float input_scale, float weight_scale,
                           float output_scale);

// double(acc) * scale rounded half away from zero (std::round), + zero
// point, clamped to [-128, 127]: TFLite's reference FULLY_CONNECTED.
int32_t RequantizeTfliteDouble(int32_t acc, double scale, int32_t zero_point);

// The TFLite reference FULLY_CONNECTED scale double(input_scale) *
// double(weight_scale) / double(output_scale).
double TfliteFullyConnectedScale(float input_scale, float weight_scale,
                                 float output_scale);

// How the tflite_reference profile requantizes a linear op (see above).
enum class TfliteLinearRequant {
  kFixedPoint,  // Q31 multiplier (CONV_2D, DEPTHWISE_CONV_2D, BATCH_MATMUL)
  kDouble,      // double rescale (FULLY_CONNECTED)
};

// Requantization for one output tensor with one multiplier per output channel
// (or a single one shared by all channels).
class Requantizer {
 public:
  // Linear ops: real multiplier input_scale * weight_scales[c] / output_scale
  // per the profile's rules. weight_scales has 1 entry (per-tensor) or one per
  // output channel. `tflite_requant` only matters for the tflite_reference
  // profile; the Q31 multipliers are derived (and validated: OutOfRange when
  // one is not representable) in both modes.
  static absl::StatusOr<Requantizer> ForLinear(
      ArithmeticProfile profile, float input_scale,
      absl::Span<const float> weight_scales, float output_scale,
      int32_t output_zero_point, const ActivationRange& activation,
      TfliteLinearRequant tflite_requant = TfliteLinearRequant::kFixedPoint);

  // Explicit per-profile parameters, for ops whose multiplier is derived
  // differently (the caller documents how).
  static absl::StatusOr<Requantizer> FromOrtScales(
      std::vector<float> scales, int32_t output_zero_point,
      const ActivationRange& activation);
  static absl::StatusOr<Requantizer> FromTfliteMultipliers(
      std::vector<QuantizedMultiplier> multipliers, int32_t output_zero_point,
      const ActivationRange& activation);

  // The output byte for accumulator `acc` of output channel `channel`.
  int8_t Apply(int32_t acc, int64_t channel) const {
    const int64_t c = num_channels() == 1 ? 0 : channel;
    const int32_t q =
        profile_ == ArithmeticProfile::kOnnxRuntime
            ? RequantizeOrt(acc, ort_scales_[c], zero_point_)
        : tflite_double_scales_.empty()
            ? RequantizeTflite(acc, tflite_multipliers_[c], zero_point_)
            : RequantizeTfliteDouble(acc, tflite_double_scales_[c],
                                     zero_point_);
    return static_cast<int8_t>(ClampToActivation(q, activation_));
  }

  ArithmeticProfile profile() const { return profile_; }
  int64_t num_channels() const {
    return profile_ == ArithmeticProfile::kOnnxRuntime
               ? static_cast<int64_t>(ort_scales_.size())
               : static_cast<int64_t>(tflite_multipliers_.size());
  }
  // Per-channel parameters, for SIMD kernels that vectorize Apply.
  const std::vector<float>& ort_scales() const { return ort_scales_; }
  const std::vector<QuantizedMultiplier>& tflite_multipliers() const {
    return tflite_multipliers_;
  }
  // True when Apply uses the double rescale (tflite_reference
  // FULLY_CONNECTED) instead of tflite_multipliers().
  bool tflite_double() const { return !tflite_double_scales_.empty(); }
  const std::vector<double>& tflite_double_scales() const {
    return tflite_double_scales_;
  }
  int32_t zero_point() const { return zero_point_; }
  const ActivationRange& activation() const { return activation_; }

 private:
  ArithmeticProfile profile_ = ArithmeticProfile::kOnnxRuntime;
  std::vector<float> ort_scales_;
  std::vector<QuantizedMultiplier> tflite_multipliers_;
  std::vector<double> tflite_double_scales_;  // empty: Q31 multipliers
  int32_t zero_point_ = 0;
  ActivationRange activation_;
};

}  // namespace qforge::kernels::reference

#endif  // QFORGE_LIB_KERNELS_INT8_REFERENCE_REQUANTIZE_H_
