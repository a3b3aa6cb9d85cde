#include "kernels/int8/reference/quantize.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "kernels/int8/reference/float_rounding.h"
#include "kernels/int8/reference/requantize.h"
#include "qforge/core/status.h"

namespace qforge::kernels::reference {
namespace {

absl::Status CheckCount(int64_t count, const void* input, const void* output) {
  if (count < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("element count must be >= 0, got ", count));
  }
  if (count > 0 && (input == nullptr || output == nullptr)) {
    return absl::InvalidArgumentError("null buffer");
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status QuantizeImpl(ArithmeticProfile profile, const float* input,
                          int64_t count, const QuantParam& q, T* output) {
  constexpr int32_t kMin = std::numeric_limits<T>::min();
  constexpr int32_t kMax = std::numeric_limits<T>::max();
  QFORGE_RETURN_IF_ERROR(CheckCount(count, input, output));
  QFORGE_RETURN_IF_ERROR(
      ValidateQuantParam(q, "QuantizeLinear output", kMin, kMax));
  for (int64_t i = 0; i < count; ++i) {
    output[i] = static_cast<T>(
        QuantizeValue(profile, input[i], q.scale, q.zero_point, kMin, kMax));
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status DequantizeImpl(const T* input, int64_t count, const QuantParam& q,
                            float* output) {
  QFORGE_RETURN_IF_ERROR(CheckCount(count, input, output));
  QFORGE_RETURN_IF_ERROR(ValidateQuantParam(q, "DequantizeLinear input",
                                            std::numeric_limits<T>::min(),
                                            std::numeric_limits<T>::max()));
  for (int64_t i = 0; i < count; ++i) {
    output[i] = DequantizeValue(input[i], q.scale, q.zero_point);
  }
  return absl::OkStatus();
}

absl::Status CheckPerAxis(int64_t outer, int64_t axis_size, int64_t inner,
                          absl::Span<const float> scales,
                          absl::Span<const int32_t> zero_points) {
  if (outer < 0 || axis_size < 0 || inner < 0) {
    return absl::InvalidArgumentError("negative dimension");
  }
  if (static_cast<int64_t>(scales.size()) != axis_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("per-axis quantization needs ", axis_size, " scales, got ",
                     scales.size()));
  }
  if (!zero_points.empty() &&
      static_cast<int64_t>(zero_points.size()) != axis_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("per-axis quantization needs ", axis_size,
                     " zero points (or none), got ", zero_points.size()));
  }
  for (int64_t a = 0; a < axis_size; ++a) {
    QFORGE_RETURN_IF_ERROR(ValidateQuantParam(
        {scales[a], zero_points.empty() ? 0 : zero_points[a]},
        absl::StrCat("channel ", a)));
  }
  return absl::OkStatus();
}

}  // namespace

int32_t QuantizeValueOrt(float x, float scale, int32_t zero_point, int32_t qmin,
                         int32_t qmax) {
  float v = x / scale;
  const float lo = static_cast<float>(qmin - zero_point);
  const float hi = static_cast<float>(qmax - zero_point);
  v = (v > lo) ? v : lo;  // MAXPS(v, lo): NaN -> lo
  v = (v < hi) ? v : hi;  // MINPS(v, hi)
  return static_cast<int32_t>(RoundHalfToEven(v)) + zero_point;
}

int32_t QuantizeValueTflite(float x, float scale, int32_t zero_point,
                            int32_t qmin, int32_t qmax) {
  const int64_t unclamped =
      static_cast<int64_t>(ConvertToInt32RoundHalfAwaySaturate(x / scale)) +
      zero_point;
  return static_cast<int32_t>(unclamped < qmin   ? qmin
                              : unclamped > qmax ? qmax
                                                 : unclamped);
}

int32_t QuantizeValue(ArithmeticProfile profile, float x, float scale,
                      int32_t zero_point, int32_t qmin, int32_t qmax) {
  return profile == ArithmeticProfile::kOnnxRuntime
             ? QuantizeValueOrt(x, scale, zero_point, qmin, qmax)
             : QuantizeValueTflite(x, scale, zero_point, qmin, qmax);
}

float DequantizeValue(int32_t q, float scale, int32_t zero_point) {
  return static_cast<float>(q - zero_point) * scale;
}

absl::Status QuantizeLinear(ArithmeticProfile profile, const float* input,
                            int64_t count, const QuantParam& output_quant,
                            int8_t* output) {
  return QuantizeImpl(profile, input, count, output_quant, output);
}

absl::Status QuantizeLinear(ArithmeticProfile profile, const float* input,
                            int64_t count, const QuantParam& output_quant,
                            uint8_t* output) {
  return QuantizeImpl(profile, input, count, output_quant, output);
}

absl::Status QuantizeLinearPerAxis(ArithmeticProfile profile,
                                   const float* input, int64_t outer,
                                   int64_t axis_size, int64_t inner,
                                   absl::Span<const float> scales,
                                   absl::Span<const int32_t> zero_points,
                                   int8_t* output) {
  QFORGE_RETURN_IF_ERROR(
      CheckPerAxis(outer, axis_size, inner, scales, zero_points));
  QFORGE_RETURN_IF_ERROR(CheckCount(outer * axis_size * inner, input, output));
  int64_t index = 0;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t a = 0; a < axis_size; ++a) {
      const int32_t zp = zero_points.empty() ? 0 : zero_points[a];
      for (int64_t i = 0; i < inner; ++i, ++index) {
        output[index] = static_cast<int8_t>(QuantizeValue(
            profile, input[index], scales[a], zp, kInt8Min, kInt8Max));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status DequantizeLinear(const int8_t* input, int64_t count,
                              const QuantParam& input_quant, float* output) {
  return DequantizeImpl(input, count, input_quant, output);
}

absl::Status DequantizeLinear(const uint8_t* input, int64_t count,
                              const QuantParam& input_quant, float* output) {
  return DequantizeImpl(input, count, input_quant, output);
}

absl::Status DequantizeLinearPerAxis(const int8_t* input, int64_t outer,
                                     int64_t axis_size, int64_t inner,
                                     absl::Span<const float> scales,
                                     absl::Span<const int32_t> zero_points,
                                     float* output) {
  QFORGE_RETURN_IF_ERROR(
      CheckPerAxis(outer, axis_size, inner, scales, zero_points));
  QFORGE_RETURN_IF_ERROR(CheckCount(outer * axis_size * inner, input, output));
  int64_t index = 0;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t a = 0; a < axis_size; ++a) {
      const int32_t zp = zero_points.empty() ? 0 : zero_points[a];
      for (int64_t i = 0; i < inner; ++i, ++index) {
        output[index] = DequantizeValue(input[index], scales[a], zp);
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Int8Requantizer> Int8Requantizer::Create(
    ArithmeticProfile profile, const QuantParam& input_quant,
    const QuantParam& output_quant) {
  QFORGE_RETURN_IF_ERROR(ValidateQuantParam(input_quant, "requantize input"));
  QFORGE_RETURN_IF_ERROR(ValidateQuantParam(output_quant, "requantize output"));
  Int8Requantizer r;
  r.profile_ = profile;
  r.input_ = input_quant;
  r.output_ = output_quant;
  r.identity_ = input_quant == output_quant;
  if (profile == ArithmeticProfile::kTfliteReference) {
    QFORGE_ASSIGN_OR_RETURN(
        r.multiplier_,
        QuantizeMultiplierChecked(static_cast<double>(input_quant.scale) /
                                  static_cast<double>(output_quant.scale)));
  }
  return r;
}

int8_t Int8Requantizer::Apply(int8_t q) const {
  if (profile_ == ArithmeticProfile::kOnnxRuntime) {
    return static_cast<int8_t>(QuantizeValueOrt(
        DequantizeValue(q, input_.scale, input_.zero_point), output_.scale,
        output_.zero_point, kInt8Min, kInt8Max));
  }
  return static_cast<int8_t>(
      RequantizeTflite(q - input_.zero_point, multiplier_, output_.zero_point));
}

absl::Status RequantizeInt8(ArithmeticProfile profile, const int8_t* input,
                            int64_t count, const QuantParam& input_quant,
                            const QuantParam& output_quant, int8_t* output) {
  QFORGE_RETURN_IF_ERROR(CheckCount(count, input, output));
  QFORGE_ASSIGN_OR_RETURN(
      Int8Requantizer requantizer,
      Int8Requantizer::Create(profile, input_quant, output_quant));
  for (int64_t i = 0; i < count; ++i) output[i] = requantizer.Apply(input[i]);
  return absl::OkStatus();
}

}  // namespace qforge::kernels::reference
