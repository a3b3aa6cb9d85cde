#include "kernels/int8/reference/conv.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/int8/reference/kernel_util.h"
#include "kernels/int8/reference/requantize.h"
#include "qforge/core/status.h"

namespace qforge::kernels::reference {
namespace {

int64_t ConvOutputSize(int64_t in, int64_t kernel, int64_t stride,
                       int64_t dilation, int64_t pad_before,
                       int64_t pad_after) {
  if (stride <= 0 || dilation <= 0 || kernel <= 0) return 0;
  const int64_t span =
      in + pad_before + pad_after - dilation * (kernel - 1) - 1;
  if (span < 0) return 0;
  return span / stride + 1;
}

absl::Status ValidateGeometry(const ConvGeometry& g, absl::string_view op) {
  if (g.batch < 0 || g.input_height <= 0 || g.input_width <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(op, ": input must have batch >= 0 and H, W > 0, got [",
                     g.batch, ", ", g.input_height, ", ", g.input_width, "]"));
  }
  if (g.kernel_height <= 0 || g.kernel_width <= 0 || g.stride_height <= 0 ||
      g.stride_width <= 0 || g.dilation_height <= 0 || g.dilation_width <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": kernel, strides and dilations must be > 0, got kernel ",
        g.kernel_height, "x", g.kernel_width, " strides ", g.stride_height, "x",
        g.stride_width, " dilations ", g.dilation_height, "x",
        g.dilation_width));
  }
  if (g.pad_top < 0 || g.pad_left < 0 || g.pad_bottom < 0 || g.pad_right < 0) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": negative padding"));
  }
  if (g.output_height() <= 0 || g.output_width() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": the (dilated) kernel is larger than the padded input (output ",
        g.output_height(), "x", g.output_width(), ")"));
  }
  return absl::OkStatus();
}

// Shared by both convolutions: visits each output position and in-image tap.
// `tap(batch, out_y, out_x, ky, kx, in_y, in_x)` is called for taps inside
// the image only.
template <typename Fn>
void ForEachTap(const ConvGeometry& g, int64_t b, int64_t oy, int64_t ox,
                Fn&& tap) {
  const int64_t y0 = oy * g.stride_height - g.pad_top;
  const int64_t x0 = ox * g.stride_width - g.pad_left;
  for (int64_t ky = 0; ky < g.kernel_height; ++ky) {
    const int64_t iy = y0 + ky * g.dilation_height;
    if (iy < 0 || iy >= g.input_height) continue;
    for (int64_t kx = 0; kx < g.kernel_width; ++kx) {
      const int64_t ix = x0 + kx * g.dilation_width;
      if (ix < 0 || ix >= g.input_width) continue;
      tap(ky, kx, iy, ix);
    }
  }
}

absl::Status ValidateConv(const Conv2DParams& p, const int8_t* input,
                          const int8_t* weights, const void* output) {
  QFORGE_RETURN_IF_ERROR(ValidateGeometry(p.geometry, "Conv2D"));
  if (p.input_channels <= 0 || p.output_channels <= 0 || p.groups <= 0 ||
      p.input_channels % p.groups != 0 || p.output_channels % p.groups != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Conv2D: input channels ", p.input_channels, " and output channels ",
        p.output_channels, " must be > 0 and divisible by groups ", p.groups));
  }
  const ConvGeometry& g = p.geometry;
  QFORGE_ASSIGN_OR_RETURN(
      int64_t in_count,
      internal::CheckedElementCount(
          {g.batch, g.input_height, g.input_width, p.input_channels},
          "Conv2D input"));
  QFORGE_ASSIGN_OR_RETURN(
      int64_t w_count, internal::CheckedElementCount(
                           {p.output_channels, g.kernel_height, g.kernel_width,
                            p.input_channels / p.groups},
                           "Conv2D weights"));
  QFORGE_ASSIGN_OR_RETURN(
      int64_t out_count,
      internal::CheckedElementCount(
          {g.batch, g.output_height(), g.output_width(), p.output_channels},
          "Conv2D output"));
  if ((in_count > 0 && input == nullptr) ||
      (w_count > 0 && weights == nullptr) ||
      (out_count > 0 && output == nullptr)) {
    return absl::InvalidArgumentError("Conv2D: null buffer");
  }
  QFORGE_RETURN_IF_ERROR(ValidateQuantParam(p.input, "Conv2D input"));
  QFORGE_RETURN_IF_ERROR(ValidateWeightQuant(p.weights, p.output_channels));
  return absl::OkStatus();
}

absl::Status ValidateDepthwise(const DepthwiseConv2DParams& p,
                               const int8_t* input, const int8_t* weights,
                               const void* output) {
  QFORGE_RETURN_IF_ERROR(ValidateGeometry(p.geometry, "DepthwiseConv2D"));
  if (p.input_channels <= 0 || p.depth_multiplier <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "DepthwiseConv2D: channels ", p.input_channels,
        " and depth multiplier ", p.depth_multiplier, " must be > 0"));
  }
  const ConvGeometry& g = p.geometry;
  const int64_t oc = p.input_channels * p.depth_multiplier;
  QFORGE_ASSIGN_OR_RETURN(
      int64_t in_count,
      internal::CheckedElementCount(
          {g.batch, g.input_height, g.input_width, p.input_channels},
          "DepthwiseConv2D input"));
  QFORGE_ASSIGN_OR_RETURN(
      int64_t w_count,
      internal::CheckedElementCount({g.kernel_height, g.kernel_width, oc},
                                    "DepthwiseConv2D weights"));
  QFORGE_ASSIGN_OR_RETURN(
      int64_t out_count, internal::CheckedElementCount(
                             {g.batch, g.output_height(), g.output_width(), oc},
                             "DepthwiseConv2D output"));
  if ((in_count > 0 && input == nullptr) ||
      (w_count > 0 && weights == nullptr) ||
      (out_count > 0 && output == nullptr)) {
    return absl::InvalidArgumentError("DepthwiseConv2D: null buffer");
  }
  QFORGE_RETURN_IF_ERROR(ValidateQuantParam(p.input, "DepthwiseConv2D input"));
  QFORGE_RETURN_IF_ERROR(ValidateWeightQuant(p.weights, oc));
  return absl::OkStatus();
}

absl::Status CheckTfliteWeightZeroPoints(ArithmeticProfile profile,
                                         const WeightQuant& w,
                                         absl::string_view op) {
  if (profile == ArithmeticProfile::kTfliteReference &&
      !w.all_zero_points_zero()) {
    return absl::InvalidArgumentError(absl::StrCat(
        op,
        ": the tflite_reference profile needs symmetric weights (zero "
        "points 0); TFLite's per-channel kernels ignore weight zero "
        "points"));
  }
  return absl::OkStatus();
}

}  // namespace

int64_t ConvGeometry::output_height() const {
  return ConvOutputSize(input_height, kernel_height, stride_height,
                        dilation_height, pad_top, pad_bottom);
}

int64_t ConvGeometry::output_width() const {
  return ConvOutputSize(input_width, kernel_width, stride_width, dilation_width,
                        pad_left, pad_right);
}

absl::Status Conv2DAccumulate(const Conv2DParams& p, const int8_t* input,
                              const int8_t* weights, const int32_t* bias,
                              int32_t* acc) {
  QFORGE_RETURN_IF_ERROR(ValidateConv(p, input, weights, acc));
  const ConvGeometry& g = p.geometry;
  const int64_t C = p.input_channels;
  const int64_t O = p.output_channels;
  const int64_t cg = C / p.groups;  // input channels per group
  const int64_t og = O / p.groups;  // output channels per group
  const int64_t OH = g.output_height();
  const int64_t OW = g.output_width();
  const int32_t zx = p.input.zero_point;
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int64_t oy = 0; oy < OH; ++oy) {
      for (int64_t ox = 0; ox < OW; ++ox) {
        int32_t* out = acc + ((b * OH + oy) * OW + ox) * O;
        for (int64_t o = 0; o < O; ++o) {
          const int64_t group = o / og;
          const int32_t zw = p.weights.zero_point(o);
          int32_t sum = bias != nullptr ? bias[o] : 0;
          ForEachTap(
              g, b, oy, ox,
              [&](int64_t ky, int64_t kx, int64_t iy, int64_t ix) {
                const int8_t* x =
                    input +
                    ((b * g.input_height + iy) * g.input_width + ix) * C +
                    group * cg;
                const int8_t* w =
                    weights +
                    ((o * g.kernel_height + ky) * g.kernel_width + kx) * cg;
                for (int64_t c = 0; c < cg; ++c) {
                  const int32_t product = (static_cast<int32_t>(x[c]) - zx) *
                                          (static_cast<int32_t>(w[c]) - zw);
                  sum = internal::WrappingAdd(sum, product);
                }
              });
          out[o] = sum;
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Conv2D(ArithmeticProfile profile, const Conv2DParams& p,
                    const int8_t* input, const int8_t* weights,
                    const int32_t* bias, int8_t* output) {
  QFORGE_RETURN_IF_ERROR(ValidateConv(p, input, weights, output));
  QFORGE_RETURN_IF_ERROR(
      CheckTfliteWeightZeroPoints(profile, p.weights, "Conv2D"));
  QFORGE_RETURN_IF_ERROR(ValidateQuantParam(p.output, "Conv2D output"));
  QFORGE_ASSIGN_OR_RETURN(
      Requantizer requantizer,
      Requantizer::ForLinear(profile, p.input.scale, p.weights.scales,
                             p.output.scale, p.output.zero_point,
                             p.activation));
  const ConvGeometry& g = p.geometry;
  const int64_t positions = g.batch * g.output_height() * g.output_width();
  std::vector<int32_t> acc(static_cast<size_t>(positions * p.output_channels));
  QFORGE_RETURN_IF_ERROR(Conv2DAccumulate(p, input, weights, bias, acc.data()));
  for (int64_t i = 0; i < positions; ++i) {
    for (int64_t o = 0; o < p.output_channels; ++o) {
      const int64_t index = i * p.output_channels + o;
      output[index] = requantizer.Apply(acc[index], o);
    }
  }
  return absl::OkStatus();
}

absl::Status DepthwiseConv2DAccumulate(const DepthwiseConv2DParams& p,
                                       const int8_t* input,
                                       const int8_t* weights,
                                       const int32_t* bias, int32_t* acc) {
  QFORGE_RETURN_IF_ERROR(ValidateDepthwise(p, input, weights, acc));
  const ConvGeometry& g = p.geometry;
  const int64_t C = p.input_channels;
  const int64_t M = p.depth_multiplier;
  const int64_t O = C * M;
  const int64_t OH = g.output_height();
  const int64_t OW = g.output_width();
  const int32_t zx = p.input.zero_point;
  for (int64_t b = 0; b < g.batch; ++b) {
    for (int64_t oy = 0; oy < OH; ++oy) {
      for (int64_t ox = 0; ox < OW; ++ox) {
        int32_t* out = acc + ((b * OH + oy) * OW + ox) * O;
        for (int64_t c = 0; c < C; ++c) {
          for (int64_t m = 0; m < M; ++m) {
            const int64_t o = c * M + m;
            const int32_t zw = p.weights.zero_point(o);
            int32_t sum = bias != nullptr ? bias[o] : 0;
            ForEachTap(
                g, b, oy, ox,
                [&](int64_t ky, int64_t kx, int64_t iy, int64_t ix) {
                  const int32_t x =
                      input[((b * g.input_height + iy) * g.input_width + ix) *
                                C +
                            c];
                  const int32_t w = weights[(ky * g.kernel_width + kx) * O + o];
                  sum = internal::WrappingAdd(sum, (x - zx) * (w - zw));
                });
            out[o] = sum;
          }
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status DepthwiseConv2D(ArithmeticProfile profile,
                             const DepthwiseConv2DParams& p,
                             const int8_t* input, const int8_t* weights,
                             const int32_t* bias, int8_t* output) {
  QFORGE_RETURN_IF_ERROR(ValidateDepthwise(p, input, weights, output));
  QFORGE_RETURN_IF_ERROR(
      CheckTfliteWeightZeroPoints(profile, p.weights, "DepthwiseConv2D"));
  QFORGE_RETURN_IF_ERROR(
      ValidateQuantParam(p.output, "DepthwiseConv2D output"));
  QFORGE_ASSIGN_OR_RETURN(
      Requantizer requantizer,
      Requantizer::ForLinear(profile, p.input.scale, p.weights.scales,
                             p.output.scale, p.output.zero_point,
                             p.activation));
  const ConvGeometry& g = p.geometry;
  const int64_t O = p.input_channels * p.depth_multiplier;
  const int64_t positions = g.batch * g.output_height() * g.output_width();
  std::vector<int32_t> acc(static_cast<size_t>(positions * O));
  QFORGE_RETURN_IF_ERROR(
      DepthwiseConv2DAccumulate(p, input, weights, bias, acc.data()));
  for (int64_t i = 0; i < positions; ++i) {
    for (int64_t o = 0; o < O; ++o) {
      output[i * O + o] = requantizer.Apply(acc[i * O + o], o);
    }
  }
  return absl::OkStatus();
}

}  // namespace qforge::kernels::reference
