// Conv2D and DepthwiseConv2D reference kernels, NHWC (TFLite CONV_2D and
// DEPTHWISE_CONV_2D; ONNX Conv in QDQ form -> ORT QLinearConv, whose NCHW
// tensors a layout pass transposes).
//
// Layouts:
//   input   [N, H, W, C]
//   Conv2D weights [O, kH, kW, C / groups]  (OHWI, TFLite's layout; an ONNX
//           OIHW weight is transposed (0, 2, 3, 1)); output channel o belongs
//           to group g = o / (O / groups) and reads input channels
//           [g * C/groups, (g + 1) * C/groups).
//   DepthwiseConv2D weights [1, kH, kW, C * M]: output channel c * M + m
//           reads input channel c (M = depth multiplier).
//   bias    [O] int32, scale input_scale * weight_scale[o], zero point 0.
//   output  [N, OH, OW, O], OH = floor((H + pad_top + pad_bottom -
//           dilation_h * (kH - 1) - 1) / stride_h) + 1 (same for W).
//
// Accumulation, both profiles (exact, int32 wrapping modulo 2^32):
//   acc = bias[o] + sum over taps inside the image and channels
//         (x - zx) * (w - zw[o])
// Taps in the padding contribute nothing, i.e. the padding value is the input
// zero point (TFLite skips them; ORT pads with the zero point).
//
// Requantization: Requantizer::ForLinear (requantize.h), per output channel,
// then the activation clamp:
//   onnxruntime:      clamp(rne(float(acc) * ((sx * sw[o]) / sy)) + zy)
//   tflite_reference: clamp(MultiplyByQuantizedMultiplier(acc,
//                       QuantizeMultiplier(double(sx)*sw[o]/sy)) + zy)
//
// The tflite_reference profile requires zero weight zero points (TFLite's
// ConvPerChannel / DepthwiseConvPerChannel ignore them); the onnxruntime
// profile honours them.
#ifndef QFORGE_LIB_KERNELS_INT8_REFERENCE_CONV_H_
#define QFORGE_LIB_KERNELS_INT8_REFERENCE_CONV_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kernels/int8/reference/profile.h"
#include "kernels/int8/reference/quant_types.h"

namespace qforge::kernels::reference {

// Spatial geometry shared by Conv2D and DepthwiseConv2D.
struct ConvGeometry {
  int64_t batch = 1;
  int64_t input_height = 0;
  int64_t input_width = 0;
  int64_t kernel_height = 1;
  int64_t kernel_width = 1;
  int64_t stride_height = 1;
  int64_t stride_width = 1;
  int64_t dilation_height = 1;
  int64_t dilation_width = 1;
  int64_t pad_top = 0;
  int64_t pad_left = 0;
  int64_t pad_bottom = 0;
  int64_t pad_right = 0;

  // Output sizes by the formula above (may be <= 0 for invalid geometry,
  // which the kernels reject).
  int64_t output_height() const;
  int64_t output_width() const;
};

struct Conv2DParams {
  ConvGeometry geometry;
  int64_t input_channels = 0;   // C
  int64_t output_channels = 0;  // O
  int64_t groups = 1;
  QuantParam input;
  WeightQuant weights;  // per-tensor or per output channel (O)
  QuantParam output;
  ActivationRange activation;
};

struct DepthwiseConv2DParams {
  ConvGeometry geometry;
  int64_t input_channels = 0;    // C
  int64_t depth_multiplier = 1;  // M; output channels = C * M
  QuantParam input;
  WeightQuant weights;  // per-tensor or per output channel (C * M)
  QuantParam output;
  ActivationRange activation;
};

// int32 accumulators [N, OH, OW, O] (bias may be null).
absl::Status Conv2DAccumulate(const Conv2DParams& params, const int8_t* input,
                              const int8_t* weights, const int32_t* bias,
                              int32_t* acc);
absl::Status Conv2D(ArithmeticProfile profile, const Conv2DParams& params,
                    const int8_t* input, const int8_t* weights,
                    const int32_t* bias, int8_t* output);

absl::Status DepthwiseConv2DAccumulate(const DepthwiseConv2DParams& params,
                                       const int8_t* input,
                                       const int8_t* weights,
                                       const int32_t* bias, int32_t* acc);
absl::Status DepthwiseConv2D(ArithmeticProfile profile,
                             const DepthwiseConv2DParams& params,
                             const int8_t* input, const int8_t* weights,
                             const int32_t* bias, int8_t* output);

}  // namespace qforge::kernels::reference

#endif  // QFORGE_LIB_KERNELS_INT8_REFERENCE_CONV_H_
