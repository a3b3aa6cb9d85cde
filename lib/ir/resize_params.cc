#include "ir/resize_params.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "qforge/core/status.h"

namespace qforge::internal {
namespace {

absl::Status Bad(const Node& node, absl::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat(node.Describe(), ": ", message));
}

}  // namespace

absl::StatusOr<ResizeAttrs> ReadResizeAttrs(const Node& node) {
  ResizeAttrs a;
  a.legacy = node.op_type() == "Upsample" || node.num_inputs() == 2;
  QFORGE_ASSIGN_OR_RETURN(std::string mode, node.GetString("mode", "nearest"));
  if (mode == "nearest") {
    a.mode = ResizeMode::kNearest;
  } else if (mode == "linear" || (a.legacy && mode == "bilinear")) {
    a.mode = ResizeMode::kLinear;
  } else if (mode == "cubic" && !a.legacy) {
    a.mode = ResizeMode::kCubic;
  } else {
    return Bad(node, absl::StrCat("attribute 'mode' is '", mode, "', expected ",
                                  a.legacy ? "nearest or linear"
                                           : "nearest, linear or cubic"));
  }
  if (a.legacy) {
    a.coord = ResizeCoordMode::kAsymmetric;
    a.nearest = NearestMode::kSimple;
    a.roi_input = -1;
    a.sizes_input = -1;
    // Upsample-7 carries its scales as an attribute.
    a.scales_input = node.num_inputs() >= 2 ? 1 : -1;
    return a;
  }
  QFORGE_ASSIGN_OR_RETURN(
      std::string coord,
      node.GetString("coordinate_transformation_mode", "half_pixel"));
  if (coord == "half_pixel") {
    a.coord = ResizeCoordMode::kHalfPixel;
  } else if (coord == "pytorch_half_pixel") {
    a.coord = ResizeCoordMode::kPytorchHalfPixel;
  } else if (coord == "align_corners") {
    a.coord = ResizeCoordMode::kAlignCorners;
  } else if (coord == "asymmetric") {
    a.coord = ResizeCoordMode::kAsymmetric;
  } else if (coord == "tf_half_pixel_for_nn") {
    a.coord = ResizeCoordMode::kTfHalfPixelForNn;
  } else if (coord == "tf_crop_and_resize") {
    a.coord = ResizeCoordMode::kTfCropAndResize;
  } else {
    return Bad(
        node,
        absl::StrCat("attribute 'coordinate_transformation_mode' is '", coord,
                     "', expected half_pixel, pytorch_half_pixel, "
                     "align_corners, asymmetric, tf_half_pixel_for_nn or "
                     "tf_crop_and_resize"));
  }
  QFORGE_ASSIGN_OR_RETURN(std::string nearest,
                          node.GetString("nearest_mode", "round_prefer_floor"));
  if (nearest == "round_prefer_floor") {
    a.nearest = NearestMode::kRoundPreferFloor;
  } else if (nearest == "round_prefer_ceil") {
    a.nearest = NearestMode::kRoundPreferCeil;
  } else if (nearest == "floor") {
    a.nearest = NearestMode::kFloor;
  } else if (nearest == "ceil") {
    a.nearest = NearestMode::kCeil;
  } else {
    return Bad(node, absl::StrCat("attribute 'nearest_mode' is '", nearest,
                                  "', expected round_prefer_floor, "
                                  "round_prefer_ceil, floor or ceil"));
  }
  QFORGE_ASSIGN_OR_RETURN(float cubic_a,
                          node.GetFloat("cubic_coeff_a", -0.75f));
  a.cubic_a = cubic_a;
  QFORGE_ASSIGN_OR_RETURN(int64_t exclude, node.GetInt("exclude_outside", 0));
  if (exclude != 0 && exclude != 1) {
    return Bad(node, absl::StrCat("attribute 'exclude_outside' is ", exclude,
                                  ", expected 0 or 1"));
  }
  a.exclude_outside = exclude == 1;
  QFORGE_ASSIGN_OR_RETURN(float extrapolation,
                          node.GetFloat("extrapolation_value", 0.0f));
  a.extrapolation_value = extrapolation;
  QFORGE_ASSIGN_OR_RETURN(int64_t antialias, node.GetInt("antialias", 0));
  if (antialias != 0) {
    return absl::UnimplementedError(absl::StrCat(
        node.Describe(), ": antialias=1 (Resize-18) is not supported"));
  }
  if (node.HasAttribute("axes")) {
    return absl::UnimplementedError(
        absl::StrCat(node.Describe(),
                     ": the 'axes' attribute (Resize-18) is not supported"));
  }
  QFORGE_ASSIGN_OR_RETURN(
      std::string keep_aspect,
      node.GetString("keep_aspect_ratio_policy", "stretch"));
  if (keep_aspect != "stretch") {
    return absl::UnimplementedError(
        absl::StrCat(node.Describe(), ": keep_aspect_ratio_policy '",
                     keep_aspect, "' (Resize-18) is not supported"));
  }
  return a;
}

absl::StatusOr<ResizeGeometry> ComputeResizeGeometry(
    const Node& node, const ResizeAttrs& attrs,
    const std::vector<int64_t>& in_dims, const std::vector<double>* scales,
    const std::vector<int64_t>* sizes, const std::vector<double>* roi) {
  const size_t rank = in_dims.size();
  const bool has_scales = scales != nullptr && !scales->empty();
  const bool has_sizes = sizes != nullptr && !sizes->empty();
  if (has_scales && has_sizes) {
    return Bad(node, "only one of 'scales' and 'sizes' may be given, both are");
  }
  if (!has_scales && !has_sizes) {
    return Bad(node, "one of 'scales' and 'sizes' must be given (non-empty)");
  }
  ResizeGeometry g;
  g.roi_start.assign(rank, 0.0);
  g.roi_end.assign(rank, 1.0);
  if (roi != nullptr && !roi->empty() &&
      attrs.coord == ResizeCoordMode::kTfCropAndResize) {
    if (roi->size() != 2 * rank) {
      return Bad(node, absl::StrCat("'roi' has ", roi->size(),
                                    " values, expected 2 * rank = ", 2 * rank));
    }
    for (size_t i = 0; i < rank; ++i) {
      g.roi_start[i] = (*roi)[i];
      g.roi_end[i] = (*roi)[rank + i];
    }
  }
  g.out_dims.resize(rank);
  g.scales.resize(rank);
  g.resized_length.resize(rank);
  constexpr double kMaxDim = static_cast<double>(int64_t{1} << 40);
  if (has_sizes) {
    if (sizes->size() != rank) {
      return Bad(node, absl::StrCat("'sizes' has ", sizes->size(), " values [",
                                    absl::StrJoin(*sizes, ","),
                                    "], the input has rank ", rank));
    }
    for (size_t i = 0; i < rank; ++i) {
      const int64_t out = (*sizes)[i];
      if (out < 0 || out > (int64_t{1} << 40)) {
        return Bad(node, absl::StrCat("'sizes' [", absl::StrJoin(*sizes, ","),
                                      "] has an invalid value ", out));
      }
      g.out_dims[i] = out;
      g.scales[i] =
          in_dims[i] > 0 ? static_cast<double>(out) / in_dims[i] : 1.0;
      g.resized_length[i] = static_cast<double>(out);
    }
    QFORGE_RETURN_IF_ERROR(CheckOutputSize(node, g.out_dims));
    return g;
  }
  if (scales->size() != rank) {
    return Bad(node, absl::StrCat("'scales' has ", scales->size(), " values [",
                                  absl::StrJoin(*scales, ","),
                                  "], the input has rank ", rank));
  }
  for (size_t i = 0; i < rank; ++i) {
    const double s = (*scales)[i];
    if (!(s > 0) || !std::isfinite(s)) {
      return Bad(node, absl::StrCat("'scales' [", absl::StrJoin(*scales, ","),
                                    "] must be positive and finite"));
    }
    if (node.op_type() == "Upsample" && s < 1) {
      return Bad(node,
                 absl::StrCat("Upsample scales [", absl::StrJoin(*scales, ","),
                              "] must be >= 1"));
    }
    double extent = 1.0;
    if (attrs.coord == ResizeCoordMode::kTfCropAndResize) {
      extent = g.roi_end[i] - g.roi_start[i];
    }
    const double out = std::floor(static_cast<double>(in_dims[i]) * extent * s);
    if (!(out >= 0) || out > kMaxDim) {
      return Bad(node, absl::StrCat("scale ", s, " on axis ", i,
                                    " gives an invalid output size ", out));
    }
    g.out_dims[i] = static_cast<int64_t>(out);
    g.scales[i] = s;
    g.resized_length[i] = static_cast<double>(in_dims[i]) * s;
  }
  QFORGE_RETURN_IF_ERROR(CheckOutputSize(node, g.out_dims));
  return g;
}

}  // namespace qforge::internal
