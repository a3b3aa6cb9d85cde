#include "kernels/int8/reference/pooling.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/int8/reference/fixed_point.h"
#include "kernels/int8/reference/float_rounding.h"
#include "kernels/int8/reference/kernel_util.h"
#include "kernels/int8/reference/quantize.h"
#include "kernels/int8/reference/requantize.h"
#include "qforge/core/status.h"

namespace qforge::kernels::reference {
namespace {

struct Window {
  int64_t y_begin, y_end, x_begin, x_end;  // clipped to the image
  int64_t count() const { return (y_end - y_begin) * (x_end - x_begin); }
};

// ORT's order: end = min(start + kernel, size) before start = max(start, 0).
Window WindowAt(const Pool2DParams& p, int64_t oy, int64_t ox) {
  Window w;
  const int64_t y0 = oy * p.stride_height - p.pad_top;
  const int64_t x0 = ox * p.stride_width - p.pad_left;
  w.y_end = std::min(y0 + p.kernel_height, p.input_height);
  w.x_end = std::min(x0 + p.kernel_width, p.input_width);
  w.y_begin = std::max<int64_t>(y0, 0);
  w.x_begin = std::max<int64_t>(x0, 0);
  if (w.y_end < w.y_begin) w.y_end = w.y_begin;
  if (w.x_end < w.x_begin) w.x_end = w.x_begin;
  return w;
}

absl::Status ValidatePool(const Pool2DParams& p, const int8_t* input,
                          const int8_t* output, absl::string_view op) {
  if (p.batch < 0 || p.input_height <= 0 || p.input_width <= 0 ||
      p.channels <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": input [", p.batch, ", ", p.input_height, ", ", p.input_width,
        ", ", p.channels, "] must have batch >= 0 and H, W, C > 0"));
  }
  if (p.kernel_height <= 0 || p.kernel_width <= 0 || p.stride_height <= 0 ||
      p.stride_width <= 0 || p.pad_top < 0 || p.pad_left < 0 ||
      p.pad_bottom < 0 || p.pad_right < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": kernel and strides must be > 0 and pads >= 0"));
  }
  if (p.output_height <= 0 || p.output_width <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": output size ", p.output_height, "x", p.output_width,
                     " must be > 0"));
  }
  QFORGE_ASSIGN_OR_RETURN(
      int64_t in_count,
      internal::CheckedElementCount(
          {p.batch, p.input_height, p.input_width, p.channels}, op));
  QFORGE_ASSIGN_OR_RETURN(
      int64_t out_count,
      internal::CheckedElementCount(
          {p.batch, p.output_height, p.output_width, p.channels}, op));
  if ((in_count > 0 && input == nullptr) ||
      (out_count > 0 && output == nullptr)) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": null buffer"));
  }
  for (int64_t oy = 0; oy < p.output_height; ++oy) {
    for (int64_t ox = 0; ox < p.output_width; ++ox) {
      if (WindowAt(p, oy, ox).count() == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(op, ": the window of output (", oy, ", ", ox,
                         ") lies entirely in the padding"));
      }
    }
  }
  QFORGE_RETURN_IF_ERROR(
      ValidateQuantParam(p.input, absl::StrCat(op, " input")));
  QFORGE_RETURN_IF_ERROR(
      ValidateQuantParam(p.output, absl::StrCat(op, " output")));
  QFORGE_RETURN_IF_ERROR(ValidateActivationRange(p.activation));
  return absl::OkStatus();
}

// TFLite's pooling Prepare: TFLITE_DCHECK_LE(|s_in - s_out|, 1e-6) and equal
// zero points; within that tolerance the kernels work on the raw values.
bool TfliteSameParams(const QuantParam& in, const QuantParam& out) {
  return in.zero_point == out.zero_point &&
         std::fabs(in.scale - out.scale) <= 1.0e-6f;
}

int32_t ClampInt8(int64_t v) {
  return static_cast<int32_t>(v < kInt8Min   ? kInt8Min
                              : v > kInt8Max ? kInt8Max
                                             : v);
}

// ORT GlobalAveragePool parameters.
absl::StatusOr<float> OrtGlobalPoolScale(float input_scale, float output_scale,
                                         int64_t image_size) {
  const float denominator = output_scale * static_cast<float>(image_size);
  const float scale = input_scale / denominator;
  if (image_size >= 0x1000000 || !(scale >= 0x1.0p-32f) || !(scale < 256.0f)) {
    return absl::OutOfRangeError(absl::StrCat(
        "onnxruntime GlobalAveragePool: image size ", image_size,
        " must be < 2^24 and the scale input_scale / (output_scale * size) = ",
        scale, " in [2^-32, 256) (MLAS rejects it otherwise)"));
  }
  return scale;
}

// One output value of the ORT global pool from the raw sum.
int32_t OrtGlobalPoolValue(int32_t sum, int64_t image_size, float scale,
                           const QuantParam& in, const QuantParam& out) {
  const int32_t bias = -in.zero_point * static_cast<int32_t>(image_size);
  return RequantizeOrt(internal::WrappingAdd(sum, bias), scale, out.zero_point);
}

absl::StatusOr<QuantizedMultiplier> TfliteMeanMultiplier(const QuantParam& in,
                                                         const QuantParam& out,
                                                         int64_t num_elements) {
  QFORGE_ASSIGN_OR_RETURN(
      QuantizedMultiplier base,
      QuantizeMultiplierChecked(static_cast<double>(in.scale) /
                                static_cast<double>(out.scale)));
  int shift = 63 - __builtin_clzll(static_cast<uint64_t>(num_elements));
  shift = std::min(shift, 32);
  shift = std::min(shift, 31 + base.shift);
  QuantizedMultiplier m;
  m.multiplier = static_cast<int32_t>(
      (static_cast<int64_t>(base.multiplier) << shift) / num_elements);
  m.shift = base.shift - shift;
  return m;
}

int32_t TfliteMeanValue(int32_t sum, int64_t num_elements,
                        const QuantizedMultiplier& m, const QuantParam& in,
                        const QuantParam& out) {
  const int32_t shifted_sum =
      static_cast<int32_t>(static_cast<int64_t>(sum) -
                           static_cast<int64_t>(in.zero_point) * num_elements);
  return RequantizeTflite(shifted_sum, m, out.zero_point);
}

}  // namespace

int64_t PoolOutputSize(int64_t input, int64_t kernel, int64_t stride,
                       int64_t pad_before, int64_t pad_after, bool ceil_mode) {
  if (kernel <= 0 || stride <= 0) return 0;
  const int64_t span = input + pad_before + pad_after - kernel;
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= input + pad_before) --out;
  return out;
}

absl::Status MaxPool2D(ArithmeticProfile profile, const Pool2DParams& p,
                       const int8_t* input, int8_t* output) {
  QFORGE_RETURN_IF_ERROR(ValidatePool(p, input, output, "MaxPool"));
  QFORGE_ASSIGN_OR_RETURN(Int8Requantizer requantizer,
                          Int8Requantizer::Create(profile, p.input, p.output));
  const int64_t C = p.channels;
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t oy = 0; oy < p.output_height; ++oy) {
      for (int64_t ox = 0; ox < p.output_width; ++ox) {
        const Window w = WindowAt(p, oy, ox);
        int8_t* out =
            output + ((b * p.output_height + oy) * p.output_width + ox) * C;
        for (int64_t c = 0; c < C; ++c) {
          int8_t m = kInt8Min;
          for (int64_t y = w.y_begin; y < w.y_end; ++y) {
            for (int64_t x = w.x_begin; x < w.x_end; ++x) {
              m = std::max(
                  m, input[((b * p.input_height + y) * p.input_width + x) * C +
                           c]);
            }
          }
          const bool raw = requantizer.is_identity() ||
                           (profile == ArithmeticProfile::kTfliteReference &&
                            TfliteSameParams(p.input, p.output));
          const int8_t value = raw ? m : requantizer.Apply(m);
          out[c] = static_cast<int8_t>(ClampToActivation(value, p.activation));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status AveragePool2D(ArithmeticProfile profile, const Pool2DParams& p,
                           const int8_t* input, int8_t* output) {
  QFORGE_RETURN_IF_ERROR(ValidatePool(p, input, output, "AveragePool"));
  const int64_t C = p.channels;
  if (profile == ArithmeticProfile::kTfliteReference) {
    if (!TfliteSameParams(p.input, p.output)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "AveragePool: TFLite's int8 AVERAGE_POOL_2D needs equal input and "
          "output params (zero points equal, scales within 1e-6), got ",
          DescribeQuantParam(p.input), " and ", DescribeQuantParam(p.output)));
    }
    if (p.count_include_pad) {
      return absl::InvalidArgumentError(
          "AveragePool: TFLite never counts padding (count_include_pad must "
          "be false in the tflite_reference profile)");
    }
    for (int64_t b = 0; b < p.batch; ++b) {
      for (int64_t oy = 0; oy < p.output_height; ++oy) {
        for (int64_t ox = 0; ox < p.output_width; ++ox) {
          const Window w = WindowAt(p, oy, ox);
          const int64_t n = w.count();
          int8_t* out =
              output + ((b * p.output_height + oy) * p.output_width + ox) * C;
          for (int64_t c = 0; c < C; ++c) {
            int64_t acc = 0;
            for (int64_t y = w.y_begin; y < w.y_end; ++y) {
              for (int64_t x = w.x_begin; x < w.x_end; ++x) {
                acc +=
                    input[((b * p.input_height + y) * p.input_width + x) * C +
                          c];
              }
            }
            acc = acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n;
            out[c] = static_cast<int8_t>(
                ClampToActivation(ClampInt8(acc), p.activation));
          }
        }
      }
    }
    return absl::OkStatus();
  }

  // onnxruntime
  const bool global = p.kernel_height == p.input_height &&
                      p.kernel_width == p.input_width && p.pad_top == 0 &&
                      p.pad_left == 0 && p.pad_bottom == 0 && p.pad_right == 0;
  if (global) {
    if (p.output_height != 1 || p.output_width != 1) {
      return absl::InvalidArgumentError(
          "AveragePool: a window covering the whole image gives a 1x1 output");
    }
    GlobalPoolParams g;
    g.batch = p.batch;
    g.height = p.input_height;
    g.width = p.input_width;
    g.channels = C;
    g.input = p.input;
    g.output = p.output;
    g.activation = p.activation;
    return GlobalAveragePool(profile, g, input, output);
  }
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t oy = 0; oy < p.output_height; ++oy) {
      for (int64_t ox = 0; ox < p.output_width; ++ox) {
        const Window w = WindowAt(p, oy, ox);
        const int64_t n =
            p.count_include_pad ? p.kernel_height * p.kernel_width : w.count();
        int8_t* out =
            output + ((b * p.output_height + oy) * p.output_width + ox) * C;
        for (int64_t c = 0; c < C; ++c) {
          float sum = 0.0f;
          for (int64_t y = w.y_begin; y < w.y_end; ++y) {
            for (int64_t x = w.x_begin; x < w.x_end; ++x) {
              const int8_t q =
                  input[((b * p.input_height + y) * p.input_width + x) * C + c];
              sum += DequantizeValue(q, p.input.scale, p.input.zero_point);
            }
          }
          const float average = sum / static_cast<float>(n);
          const float scaled = average / p.output.scale;
          const float shifted =
              scaled + static_cast<float>(p.output.zero_point);
          const int32_t q = ConvertToInt32RoundHalfEvenX86(shifted);
          out[c] = static_cast<int8_t>(
              ClampToActivation(ClampInt8(q), p.activation));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status GlobalAveragePool(ArithmeticProfile profile,
                               const GlobalPoolParams& p, const int8_t* input,
                               int8_t* output) {
  if (p.batch < 0 || p.height <= 0 || p.width <= 0 || p.channels <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "GlobalAveragePool: input [", p.batch, ", ", p.height, ", ", p.width,
        ", ", p.channels, "] must have batch >= 0 and H, W, C > 0"));
  }
  QFORGE_ASSIGN_OR_RETURN(
      int64_t in_count,
      internal::CheckedElementCount({p.batch, p.height, p.width, p.channels},
                                    "GlobalAveragePool input"));
  if (in_count > 0 && (input == nullptr || output == nullptr)) {
    return absl::InvalidArgumentError("GlobalAveragePool: null buffer");
  }
  QFORGE_RETURN_IF_ERROR(
      ValidateQuantParam(p.input, "GlobalAveragePool input"));
  QFORGE_RETURN_IF_ERROR(
      ValidateQuantParam(p.output, "GlobalAveragePool output"));
  QFORGE_RETURN_IF_ERROR(ValidateActivationRange(p.activation));
  const int64_t n = p.height * p.width;
  float ort_scale = 0.0f;
  QuantizedMultiplier tflite_m;
  if (profile == ArithmeticProfile::kOnnxRuntime) {
    QFORGE_ASSIGN_OR_RETURN(
        ort_scale, OrtGlobalPoolScale(p.input.scale, p.output.scale, n));
  } else {
    QFORGE_ASSIGN_OR_RETURN(tflite_m,
                            TfliteMeanMultiplier(p.input, p.output, n));
  }
  const int64_t C = p.channels;
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t c = 0; c < C; ++c) {
      int32_t sum = 0;
      for (int64_t i = 0; i < n; ++i) {
        sum = internal::WrappingAdd(sum, input[(b * n + i) * C + c]);
      }
      const int32_t q =
          profile == ArithmeticProfile::kOnnxRuntime
              ? OrtGlobalPoolValue(sum, n, ort_scale, p.input, p.output)
              : TfliteMeanValue(sum, n, tflite_m, p.input, p.output);
      output[b * C + c] =
          static_cast<int8_t>(ClampToActivation(q, p.activation));
    }
  }
  return absl::OkStatus();
}

absl::Status ReduceMean(ArithmeticProfile profile, const ReduceMeanParams& p,
                        const int8_t* input, int8_t* output) {
  const int rank = static_cast<int>(p.dims.size());
  std::vector<bool> reduced(rank, false);
  for (int64_t a : p.axes) {
    if (a < 0 || a >= rank || reduced[a]) {
      return absl::InvalidArgumentError(
          absl::StrCat("ReduceMean: axis ", a, " is out of range for rank ",
                       rank, " or repeated"));
    }
    reduced[a] = true;
  }
  // Element counts with an overflow guard (2^62).
  constexpr int64_t kLimit = int64_t{1} << 62;
  int64_t in_count = 1, n = 1;
  for (int d = 0; d < rank; ++d) {
    const int64_t dim = p.dims[d];
    if (dim < 0 || (dim > 0 && in_count > kLimit / dim)) {
      return absl::InvalidArgumentError(
          absl::StrCat("ReduceMean: bad or too large input dim ", dim));
    }
    in_count *= dim;
    if (reduced[d]) n *= dim;
  }
  if (n == 0) {
    return absl::InvalidArgumentError(
        "ReduceMean: mean over an empty extent (a reduced dim is 0)");
  }
  if (in_count == 0) return absl::OkStatus();
  if (input == nullptr || output == nullptr) {
    return absl::InvalidArgumentError("ReduceMean: null buffer");
  }
  QFORGE_RETURN_IF_ERROR(ValidateQuantParam(p.input, "ReduceMean input"));
  QFORGE_RETURN_IF_ERROR(ValidateQuantParam(p.output, "ReduceMean output"));
  QFORGE_RETURN_IF_ERROR(ValidateActivationRange(p.activation));
  const int64_t out_count = in_count / n;
  // Output stride of each input dim (0 for a reduced dim).
  std::vector<int64_t> out_stride(rank, 0);
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    if (!reduced[d]) {
      out_stride[d] = stride;
      stride *= p.dims[d];
    }
  }
  std::vector<int64_t> index(rank, 0);
  const bool ort = profile == ArithmeticProfile::kOnnxRuntime;
  std::vector<int32_t> int_sum(ort ? 0 : out_count, 0);
  std::vector<float> float_sum(ort ? out_count : 0, 0.0f);
  int64_t o = 0;  // output offset of `index`
  for (int64_t i = 0; i < in_count; ++i) {
    if (ort) {
      float_sum[o] +=
          DequantizeValue(input[i], p.input.scale, p.input.zero_point);
    } else {
      int_sum[o] = internal::WrappingAdd(int_sum[o], input[i]);
    }
    for (int d = rank - 1; d >= 0; --d) {
      o += out_stride[d];
      if (++index[d] < p.dims[d]) break;
      o -= out_stride[d] * p.dims[d];
      index[d] = 0;
    }
  }
  if (ort) {
    for (int64_t j = 0; j < out_count; ++j) {
      const float mean = float_sum[j] / static_cast<float>(n);
      const int32_t q = QuantizeValueOrt(mean, p.output.scale,
                                         p.output.zero_point, -128, 127);
      output[j] = static_cast<int8_t>(ClampToActivation(q, p.activation));
    }
    return absl::OkStatus();
  }
  QFORGE_ASSIGN_OR_RETURN(QuantizedMultiplier m,
                          TfliteMeanMultiplier(p.input, p.output, n));
  for (int64_t j = 0; j < out_count; ++j) {
    const int32_t q = TfliteMeanValue(int_sum[j], n, m, p.input, p.output);
    output[j] = static_cast<int8_t>(ClampToActivation(q, p.activation));
  }
  return absl::OkStatus();
}

}  // namespace qforge::kernels::reference
