#include "kernels/int8/reference/lut.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "kernels/int8/reference/fixed_point.h"
#include "kernels/int8/reference/float_rounding.h"
#include "kernels/int8/reference/quantize.h"
#include "qforge/core/status.h"

namespace qforge::kernels::reference {
namespace {

absl::Status ValidateLutParams(const QuantParam& input,
                               const QuantParam& output) {
  QFORGE_RETURN_IF_ERROR(ValidateQuantParam(input, "table input"));
  QFORGE_RETURN_IF_ERROR(ValidateQuantParam(output, "table output"));
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyLut(const Int8Lut& lut, const int8_t* input, int64_t count,
                      int8_t* output) {
  if (count < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ApplyLut: element count must be >= 0, got ", count));
  }
  if (count > 0 && (input == nullptr || output == nullptr)) {
    return absl::InvalidArgumentError("ApplyLut: null buffer");
  }
  for (int64_t i = 0; i < count; ++i) output[i] = LookUp(lut, input[i]);
  return absl::OkStatus();
}

absl::StatusOr<Int8Lut> BuildLut(ArithmeticProfile profile,
                                 const QuantParam& input,
                                 const QuantParam& output,
                                 absl::FunctionRef<float(float)> fn) {
  QFORGE_RETURN_IF_ERROR(ValidateLutParams(input, output));
  Int8Lut lut;
  if (profile == ArithmeticProfile::kOnnxRuntime) {
    for (int32_t q = kInt8Min; q <= kInt8Max; ++q) {
      const float x = DequantizeValue(q, input.scale, input.zero_point);
      const float y = fn(x);
      lut[static_cast<uint8_t>(q)] = static_cast<int8_t>(QuantizeValueOrt(
          y, output.scale, output.zero_point, kInt8Min, kInt8Max));
    }
    return lut;
  }
  const float inverse_scale = 1.0f / output.scale;
  for (int32_t q = kInt8Min; q <= kInt8Max; ++q) {
    const float x = input.scale * static_cast<float>(q - input.zero_point);
    const float y = fn(x);
    const float product = y * inverse_scale;
    const float rescaled = RoundHalfAwayFromZero(product);
    const float shifted = rescaled + static_cast<float>(output.zero_point);
    int32_t value = ConvertToInt32RoundHalfAwaySaturate(shifted);
    value = value < kInt8Min ? kInt8Min : (value > kInt8Max ? kInt8Max : value);
    lut[static_cast<uint8_t>(q)] = static_cast<int8_t>(value);
  }
  return lut;
}

float MlasLogisticFma3(float x) {
  constexpr float kLowerRange = -18.0f;
  constexpr float kUpperRange = 18.0f;
  constexpr float kAlpha9 = 4.37031012579801e-11f;
  constexpr float kAlpha7 = 1.15627324459942e-07f;
  constexpr float kAlpha5 = 6.08574864600143e-05f;
  constexpr float kAlpha3 = 8.51377133304701e-03f;
  constexpr float kAlpha1 = 2.48287947061529e-01f;
  constexpr float kBeta10 = 6.10247389755681e-13f;
  constexpr float kBeta8 = 5.76102136993427e-09f;
  constexpr float kBeta6 = 6.29106785017040e-06f;
  constexpr float kBeta4 = 1.70198817374094e-03f;
  constexpr float kBeta2 = 1.16817656904453e-01f;
  constexpr float kBeta0 = 9.93151921023180e-01f;
  // vmaxps(lower, x) then vminps(upper, x): NaN in x propagates as x.
  float v = (kLowerRange > x) ? kLowerRange : x;
  v = (kUpperRange < v) ? kUpperRange : v;
  const float v2 = v * v;
  float p = std::fmaf(v2, kAlpha9, kAlpha7);
  p = std::fmaf(v2, p, kAlpha5);
  p = std::fmaf(v2, p, kAlpha3);
  p = std::fmaf(v2, p, kAlpha1);
  float q = std::fmaf(v2, kBeta10, kBeta8);
  q = std::fmaf(v2, q, kBeta6);
  q = std::fmaf(v2, q, kBeta4);
  q = std::fmaf(v2, q, kBeta2);
  q = std::fmaf(v2, q, kBeta0);
  p = v * p;
  const float ratio = p / q;
  const float y = ratio + 0.5f;
  return (0.0f > y) ? 0.0f : y;  // vmaxps(zero, y)
}

float OrtHardSwish(float x) {
  constexpr float kAlpha = 1.0f / 6.0f;
  const float scaled = kAlpha * x;
  float hard_sigmoid = scaled + 0.5f;
  hard_sigmoid = hard_sigmoid < 1.0f ? hard_sigmoid : 1.0f;
  hard_sigmoid = hard_sigmoid > 0.0f ? hard_sigmoid : 0.0f;
  return x * hard_sigmoid;
}

float TfliteLogistic(float x) {
  const float e = std::exp(-x);
  const float denominator = 1.0f + e;
  return 1.0f / denominator;
}

absl::StatusOr<Int8Lut> BuildSigmoidLut(ArithmeticProfile profile,
                                        const QuantParam& input,
                                        const QuantParam& output) {
  if (profile == ArithmeticProfile::kOnnxRuntime) {
    return BuildLut(profile, input, output, MlasLogisticFma3);
  }
  return BuildLut(profile, input, output, TfliteLogistic);
}

absl::StatusOr<Int8Lut> BuildTanhLut(ArithmeticProfile profile,
                                     const QuantParam& input,
                                     const QuantParam& output) {
  return BuildLut(profile, input, output,
                  [](float x) -> float { return std::tanh(x); });
}

absl::StatusOr<TfliteHardSwishParams> PrepareTfliteHardSwish(
    const QuantParam& input, const QuantParam& output) {
  QFORGE_RETURN_IF_ERROR(ValidateLutParams(input, output));
  TfliteHardSwishParams p;
  p.input_zero_point = input.zero_point;
  p.output_zero_point = output.zero_point;
  const float hires_input_scale = (1.0f / 128.0f) * input.scale;
  const float reluish_scale = 3.0f / 32768.0f;
  const float output_multiplier = hires_input_scale / output.scale;
  const QuantizedMultiplier out =
      QuantizeMultiplier(static_cast<double>(output_multiplier));
  p.output_multiplier_fixedpoint_int16 =
      DownScaleInt32ToInt16Multiplier(out.multiplier);
  p.output_multiplier_exponent = out.shift;
  if (p.output_multiplier_exponent > 0) {
    return absl::OutOfRangeError(absl::StrCat(
        "HardSwish: TFLite needs input_scale / (128 * output_scale) < 1, got ",
        output_multiplier));
  }
  const float reluish_multiplier = hires_input_scale / reluish_scale;
  const QuantizedMultiplier reluish =
      QuantizeMultiplier(static_cast<double>(reluish_multiplier));
  p.reluish_multiplier_fixedpoint_int16 =
      DownScaleInt32ToInt16Multiplier(reluish.multiplier);
  p.reluish_multiplier_exponent = reluish.shift;
  if (p.reluish_multiplier_exponent > 30 ||
      p.output_multiplier_exponent < -31 ||
      p.reluish_multiplier_exponent < -31) {
    return absl::OutOfRangeError(
        "HardSwish: input/output scales outside TFLite's supported range");
  }
  return p;
}

int8_t TfliteHardSwish(const TfliteHardSwishParams& p, int8_t q) {
  const int16_t input_value = static_cast<int16_t>(q - p.input_zero_point);
  const int16_t input_value_on_hires_input_scale =
      static_cast<int16_t>(input_value * (1 << 7));
  const int16_t input_value_on_preshift_output_scale =
      SaturatingRoundingDoublingHighMul16(input_value_on_hires_input_scale,
                                          p.output_multiplier_fixedpoint_int16);
  int16_t reluish_value = input_value_on_hires_input_scale;
  if (p.reluish_multiplier_exponent > 0) {
    reluish_value =
        SaturatingLeftShift16(reluish_value, p.reluish_multiplier_exponent - 1);
  }
  reluish_value = SaturatingRoundingDoublingHighMul16(
      reluish_value, p.reluish_multiplier_fixedpoint_int16);
  if (p.reluish_multiplier_exponent > 0) {
    reluish_value = SaturatingLeftShift16(reluish_value, 1);
  }
  if (p.reluish_multiplier_exponent < 0) {
    reluish_value =
        RoundingDivideByPOT16(reluish_value, -p.reluish_multiplier_exponent);
  }
  reluish_value = static_cast<int16_t>((reluish_value + (1 << 15)) >> 1);
  const int16_t preshift_output_value = SaturatingDoublingHighMul16(
      reluish_value, input_value_on_preshift_output_scale);
  int16_t output_value = RoundingDivideByPOT16(preshift_output_value,
                                               -p.output_multiplier_exponent);
  output_value = static_cast<int16_t>(output_value + p.output_zero_point);
  if (output_value > kInt8Max) output_value = kInt8Max;
  if (output_value < kInt8Min) output_value = kInt8Min;
  return static_cast<int8_t>(output_value);
}

absl::StatusOr<Int8Lut> BuildHardSwishLut(ArithmeticProfile profile,
                                          const QuantParam& input,
                                          const QuantParam& output) {
  if (profile == ArithmeticProfile::kOnnxRuntime) {
    return BuildLut(profile, input, output, OrtHardSwish);
  }
  QFORGE_ASSIGN_OR_RETURN(TfliteHardSwishParams params,
                          PrepareTfliteHardSwish(input, output));
  Int8Lut lut;
  for (int32_t q = kInt8Min; q <= kInt8Max; ++q) {
    lut[static_cast<uint8_t>(q)] =
        TfliteHardSwish(params, static_cast<int8_t>(q));
  }
  return lut;
}

}  // namespace qforge::kernels::reference
