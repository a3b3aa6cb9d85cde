// Attributes and output-size rules of Resize (opsets 10-13+) and Upsample.
//
// Resize maps each output coordinate x of an axis to an input coordinate
// x_original (coordinate_transformation_mode) and interpolates there (mode:
// nearest with nearest_mode rounding, linear, or cubic with cubic_coeff_a and
// exclude_outside). The output size is given either by `sizes` or by
// `scales` (floor(in * scale), times the roi extent for tf_crop_and_resize).
//
// Following the ONNX reference implementation (which defines the node
// conformance tests), the "resized length" used by align_corners,
// tf_crop_and_resize and pytorch_half_pixel is in * scale when scales are
// given, even when that is not an integer.
//
// The legacy forms (Upsample-7/9 and the two-input Resize-10) use the
// asymmetric transform; nearest rounds down when upsampling and up when
// downsampling along an axis (what ONNX Runtime does for them).
//
// scales, sizes and roi always list axes in the ONNX (NCHW) order, also for a
// node whose layout is NHWC: the kernel and the schema map them onto the
// NHWC axes. See docs/layout.md.
#ifndef QFORGE_LIB_IR_RESIZE_PARAMS_H_
#define QFORGE_LIB_IR_RESIZE_PARAMS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "ir/spatial_params.h"
#include "qforge/ir/graph.h"

namespace qforge::internal {

enum class ResizeMode { kNearest, kLinear, kCubic };
enum class ResizeCoordMode {
  kHalfPixel,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfHalfPixelForNn,
  kTfCropAndResize,
};
enum class NearestMode {
  kRoundPreferFloor,
  kRoundPreferCeil,
  kFloor,
  kCeil,
  kSimple
};

struct ResizeAttrs {
  ResizeMode mode = ResizeMode::kNearest;
  ResizeCoordMode coord = ResizeCoordMode::kHalfPixel;
  NearestMode nearest = NearestMode::kRoundPreferFloor;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation_value = 0.0;
  // Upsample, or Resize-10 (inputs X, scales).
  bool legacy = false;
  // Input slots of scales / sizes / roi; -1 when the form has none.
  int scales_input = 2;
  int sizes_input = 3;
  int roi_input = 1;
};

// Reads and validates the attributes (errors name the node and the value).
absl::StatusOr<ResizeAttrs> ReadResizeAttrs(const Node& node);

// Per-axis geometry of one resize, in the order of the data's axes.
struct ResizeGeometry {
  std::vector<int64_t> out_dims;
  // Scale used by the coordinate transform (out/in when sizes are given).
  std::vector<double> scales;
  // in * scale with scales, out with sizes: the "resized length".
  std::vector<double> resized_length;
  // roi start and end per axis (0 and 1 when absent).
  std::vector<double> roi_start, roi_end;
};

// Computes the geometry from the input dims and whichever of scales/sizes is
// given (nullptr or empty when absent). All vectors are in the data's axis
// order; exactly one of scales and sizes must be non-empty.
absl::StatusOr<ResizeGeometry> ComputeResizeGeometry(
    const Node& node, const ResizeAttrs& attrs,
    const std::vector<int64_t>& in_dims, const std::vector<double>* scales,
    const std::vector<int64_t>* sizes, const std::vector<double>* roi);

}  // namespace qforge::internal

#endif  // QFORGE_LIB_IR_RESIZE_PARAMS_H_
