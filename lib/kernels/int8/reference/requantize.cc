#include "kernels/int8/reference/requantize.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "kernels/int8/reference/float_rounding.h"
#include "qforge/core/status.h"

namespace qforge::kernels::reference {

int32_t RequantizeOrt(int32_t acc, float scale, int32_t zero_point) {
  float f = static_cast<float>(acc);
  f = f * scale;
  const float lo = static_cast<float>(kInt8Min - zero_point);
  const float hi = static_cast<float>(kInt8Max - zero_point);
  f = (f > lo) ? f : lo;
  f = (f < hi) ? f : hi;
  return static_cast<int32_t>(RoundHalfToEven(f)) + zero_point;
}

int32_t RequantizeTflite(int32_t acc, const QuantizedMultiplier& multiplier,
                         int32_t zero_point) {
  // The sum cannot overflow: |MBQM| <= 2^31 and |zp| <= 128 are added in
  // int64.
  const int64_t q =
      static_cast<int64_t>(MultiplyByQuantizedMultiplier(acc, multiplier)) +
      zero_point;
  return static_cast<int32_t>(q < kInt8Min   ? kInt8Min
                              : q > kInt8Max ? kInt8Max
                                             : q);
}

int32_t RequantizeTfliteDouble(int32_t acc, double scale, int32_t zero_point) {
  double r = std::round(static_cast<double>(acc) * scale);
  // Clamp before the conversion (TFLite converts unclamped: UB beyond int32;
  // any |r| > 256 saturates the same way after the zero point is added).
  r = r < -512.0 ? -512.0 : r;
  r = r > 512.0 ? 512.0 : r;
  const int32_t q = static_cast<int32_t>(r) + zero_point;
  return q < kInt8Min ? kInt8Min : q > kInt8Max ? kInt8Max : q;
}

double TfliteFullyConnectedScale(float input_scale, float weight_scale,
                                 float output_scale) {
  return static_cast<double>(input_scale) * static_cast<double>(weight_scale) /
         static_cast<double>(output_scale);
}

float OrtLinearOutputScale(float input_scale, float weight_scale,
                           float output_scale) {
  const float product = input_scale * weight_scale;
  return product / output_scale;
}

absl::StatusOr<Requantizer> Requantizer::ForLinear(
    ArithmeticProfile profile, float input_scale,
    absl::Span<const float> weight_scales, float output_scale,
    int32_t output_zero_point, const ActivationRange& activation,
    TfliteLinearRequant tflite_requant) {
  QFORGE_RETURN_IF_ERROR(ValidateQuantParam({input_scale, 0}, "input"));
  QFORGE_RETURN_IF_ERROR(
      ValidateQuantParam({output_scale, output_zero_point}, "output"));
  if (weight_scales.empty()) {
    return absl::InvalidArgumentError("no weight scales");
  }
  for (size_t c = 0; c < weight_scales.size(); ++c) {
    QFORGE_RETURN_IF_ERROR(ValidateQuantParam(
        {weight_scales[c], 0}, absl::StrCat("weight channel ", c)));
  }
  if (profile == ArithmeticProfile::kOnnxRuntime) {
    std::vector<float> scales;
    scales.reserve(weight_scales.size());
    for (float w : weight_scales) {
      scales.push_back(OrtLinearOutputScale(input_scale, w, output_scale));
    }
    return FromOrtScales(std::move(scales), output_zero_point, activation);
  }
  std::vector<QuantizedMultiplier> multipliers;
  multipliers.reserve(weight_scales.size());
  for (size_t c = 0; c < weight_scales.size(); ++c) {
    const double real = static_cast<double>(input_scale) *
                        static_cast<double>(weight_scales[c]) /
                        static_cast<double>(output_scale);
    absl::StatusOr<QuantizedMultiplier> m = QuantizeMultiplierChecked(real);
    if (!m.ok()) {
      return absl::OutOfRangeError(
          absl::StrCat("output channel ", c, ": ", m.status().message()));
    }
    multipliers.push_back(*m);
  }
  QFORGE_ASSIGN_OR_RETURN(Requantizer r,
                          FromTfliteMultipliers(std::move(multipliers),
                                                output_zero_point, activation));
  if (tflite_requant == TfliteLinearRequant::kDouble) {
    r.tflite_double_scales_.reserve(weight_scales.size());
    for (float w : weight_scales) {
      r.tflite_double_scales_.push_back(
          TfliteFullyConnectedScale(input_scale, w, output_scale));
    }
  }
  return r;
}

absl::StatusOr<Requantizer> Requantizer::FromOrtScales(
    std::vector<float> scales, int32_t output_zero_point,
    const ActivationRange& activation) {
  QFORGE_RETURN_IF_ERROR(ValidateActivationRange(activation));
  if (scales.empty()) return absl::InvalidArgumentError("no scales");
  for (float s : scales) {
    if (!std::isfinite(s) || !(s > 0.0f)) {
      return absl::OutOfRangeError(
          absl::StrCat("requantization scale ", s, " is not finite and > 0"));
    }
  }
  if (output_zero_point < kInt8Min || output_zero_point > kInt8Max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "output zero point ", output_zero_point, " is outside [-128, 127]"));
  }
  Requantizer r;
  r.profile_ = ArithmeticProfile::kOnnxRuntime;
  r.ort_scales_ = std::move(scales);
  r.zero_point_ = output_zero_point;
  r.activation_ = activation;
  return r;
}

absl::StatusOr<Requantizer> Requantizer::FromTfliteMultipliers(
    std::vector<QuantizedMultiplier> multipliers, int32_t output_zero_point,
    const ActivationRange& activation) {
  QFORGE_RETURN_IF_ERROR(ValidateActivationRange(activation));
  if (multipliers.empty()) return absl::InvalidArgumentError("no multipliers");
  for (const QuantizedMultiplier& m : multipliers) {
    if (m.shift < -31 || m.shift > 31) {
      return absl::OutOfRangeError(
          absl::StrCat("multiplier shift ", m.shift, " is outside [-31, 31]"));
    }
  }
  if (output_zero_point < kInt8Min || output_zero_point > kInt8Max) {
    return absl::InvalidArgumentError(absl::StrCat(
        "output zero point ", output_zero_point, " is outside [-128, 127]"));
  }
  Requantizer r;
  r.profile_ = ArithmeticProfile::kTfliteReference;
  r.tflite_multipliers_ = std::move(multipliers);
  r.zero_point_ = output_zero_point;
  r.activation_ = activation;
  return r;
}

}  // namespace qforge::kernels::reference
