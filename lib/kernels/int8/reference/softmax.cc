#include "kernels/int8/reference/softmax.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "kernels/int8/reference/fixed_point.h"
#include "kernels/int8/reference/float_rounding.h"
#include "kernels/int8/reference/kernel_util.h"
#include "qforge/core/status.h"

namespace qforge::kernels::reference {
namespace {

absl::Status SoftmaxOrt(const SoftmaxParams& p, const int8_t* input,
                        int64_t rows, int64_t depth, int8_t* output) {
  if (p.beta != 1.0f) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Softmax: the onnxruntime profile has no beta (ONNX Softmax), got ",
        p.beta));
  }
  const std::array<float, 256> table = SoftmaxOrtTable(p.input_scale, depth);
  const float y_scale = std::floor(1.0f / kSoftmaxOutputQuant.scale);
  const int32_t y_zero_point = kSoftmaxOutputQuant.zero_point;
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t* x = input + r * depth;
    int8_t* y = output + r * depth;
    const int8_t x_max = *std::max_element(x, x + depth);
    const int32_t adjustment = 127 - x_max;
    float sum = 0.0f;
    for (int64_t c = 0; c < depth; ++c) {
      sum += table[static_cast<uint8_t>(adjustment + x[c])];
    }
    for (int64_t c = 0; c < depth; ++c) {
      const float t = table[static_cast<uint8_t>(adjustment + x[c])];
      const float numerator = t * y_scale;
      const float ratio = numerator / sum;
      // static_cast<int32_t>(nearbyintf(ratio)) + yzp as x86 executes it:
      // ratio is +inf when t * 256 overflows binary32 (depth 1), which
      // converts to INT32_MIN, and the int32 addition wraps.
      const int32_t v = internal::WrappingAdd(
          ConvertToInt32TruncateX86(RoundHalfToEven(ratio)), y_zero_point);
      // ORT: vq > 255 ? 255 : static_cast<int8_t>(vq) (truncating cast).
      y[c] = v > 255 ? static_cast<int8_t>(-1)
                     : static_cast<int8_t>(static_cast<uint8_t>(v & 0xFF));
    }
  }
  return absl::OkStatus();
}

absl::Status SoftmaxTflite(const SoftmaxParams& p, const int8_t* input,
                           int64_t rows, int64_t depth, int8_t* output) {
  constexpr int kScaledDiffIntegerBits = 5;
  constexpr int kAccumulationIntegerBits = 12;
  absl::StatusOr<QuantizedMultiplier> scaling = PreprocessSoftmaxScaling(
      static_cast<double>(p.beta), static_cast<double>(p.input_scale),
      kScaledDiffIntegerBits);
  if (!scaling.ok()) {
    return absl::OutOfRangeError(absl::StrCat(
        "Softmax: beta * input_scale * 2^26 must exceed 1 for TFLite: ",
        scaling.status().message()));
  }
  const int32_t input_multiplier = scaling->multiplier;
  const int input_left_shift = scaling->shift;
  const int diff_min = static_cast<int>(
      -1.0 * CalculateInputRadius(kScaledDiffIntegerBits, input_left_shift));
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t* x = input + r * depth;
    int8_t* y = output + r * depth;
    const int32_t max_in_row = *std::max_element(x, x + depth);
    auto exp_of = [&](int32_t diff) {
      const int32_t rescaled = MultiplyByQuantizedMultiplierGreaterThanOne(
          diff, input_multiplier, input_left_shift);
      return ExpOnNegativeValues(rescaled, kScaledDiffIntegerBits);
    };
    int32_t sum_of_exps = 0;  // Q12.19
    for (int64_t c = 0; c < depth; ++c) {
      const int32_t diff = static_cast<int32_t>(x[c]) - max_in_row;
      if (diff >= diff_min) {
        sum_of_exps = internal::WrappingAdd(
            sum_of_exps,
            RoundingDivideByPOT(exp_of(diff), kAccumulationIntegerBits));
      }
    }
    if (sum_of_exps <= 0) {
      return absl::OutOfRangeError(absl::StrCat(
          "Softmax: the fixed-point sum of exponentials overflowed int32 (row ",
          r, ", depth ", depth, ")"));
    }
    int num_bits_over_unit = 0;
    const int32_t shifted_scale = GetReciprocal(
        sum_of_exps, kAccumulationIntegerBits, &num_bits_over_unit);
    const int exponent = num_bits_over_unit + 31 - 8;
    if (exponent < 0 || exponent > 31) {
      return absl::OutOfRangeError(absl::StrCat(
          "Softmax: TFLite's reference kernel cannot normalize this row (sum "
          "of exponentials too large: depth ",
          depth, ")"));
    }
    for (int64_t c = 0; c < depth; ++c) {
      const int32_t diff = static_cast<int32_t>(x[c]) - max_in_row;
      if (diff >= diff_min) {
        const int32_t unsat_output = RoundingDivideByPOT(
            SaturatingRoundingDoublingHighMul(shifted_scale, exp_of(diff)),
            exponent);
        const int64_t shifted_output = static_cast<int64_t>(unsat_output) - 128;
        y[c] =
            static_cast<int8_t>(std::clamp<int64_t>(shifted_output, -128, 127));
      } else {
        y[c] = -128;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::array<float, 256> SoftmaxOrtTable(float input_scale, int64_t depth) {
  // QlinearBuildLookupTableUint32 (float table).
  const float quotient = std::numeric_limits<float>::max() /
                         static_cast<float>(static_cast<uint64_t>(depth));
  double bit_shift = std::log(static_cast<double>(quotient));
  constexpr double kReserveBit = 5;
  bit_shift =
      std::max(0.0, bit_shift - kReserveBit) / static_cast<double>(input_scale);
  std::array<float, 256> table;
  for (int32_t i = 0; i < 256; ++i) {
    const double scaled_exp =
        std::exp((static_cast<double>(i) - 255 + bit_shift) *
                 static_cast<double>(input_scale));
    table[static_cast<uint8_t>(i - 128)] = static_cast<float>(scaled_exp);
  }
  return table;
}

absl::Status Softmax(ArithmeticProfile profile, const SoftmaxParams& params,
                     const int8_t* input, int64_t rows, int64_t depth,
                     int8_t* output) {
  if (rows < 0 || depth <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Softmax: need rows >= 0 and depth > 0, got ", rows, " x ", depth));
  }
  QFORGE_RETURN_IF_ERROR(
      internal::CheckedElementCount({rows, depth}, "Softmax").status());
  if (rows > 0 && (input == nullptr || output == nullptr)) {
    return absl::InvalidArgumentError("Softmax: null buffer");
  }
  if (!std::isfinite(params.input_scale) || !(params.input_scale > 0.0f) ||
      !std::isfinite(params.beta) || !(params.beta > 0.0f)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Softmax: input scale ", params.input_scale, " and beta ",
                     params.beta, " must be finite and > 0"));
  }
  return profile == ArithmeticProfile::kOnnxRuntime
             ? SoftmaxOrt(params, input, rows, depth, output)
             : SoftmaxTflite(params, input, rows, depth, output);
}

}  // namespace qforge::kernels::reference
