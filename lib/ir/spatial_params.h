// Attributes shared by Conv and the pooling ops, and ONNX's output-size rules.
//
// Conv, MaxPool and AveragePool describe their sliding window with the same
// attributes: kernel_shape, strides, dilations, pads (begins then ends, one
// per spatial axis each), auto_pad (NOTSET, SAME_UPPER, SAME_LOWER, VALID)
// and, for the pools, ceil_mode. Schemas (shape inference) and kernels both
// read them through ReadSpatialParams and size the output through
// ComputeSpatialDim, so that inference and execution cannot disagree.
//
// Output size of one spatial axis (dk = (kernel - 1) * dilation + 1):
//   NOTSET:     floor((in + pad_begin + pad_end - dk) / stride) + 1, or ceil()
//               with ceil_mode; a last window that would start inside the
//               end padding is dropped (as PyTorch and the ONNX spec do).
//   VALID:      floor((in - dk) / stride) + 1, no padding.
//   SAME_UPPER: ceil(in / stride); total padding
//   SAME_LOWER: max(0, (out - 1) * stride + dk - in), split evenly, the odd
//               element at the end (UPPER) or at the beginning (LOWER).
//
// Layout: an NCHW activation is [N, C, D1, ..., Dk]; an NHWC one is
// [N, D1, ..., Dk, C]. Attributes always list spatial axes in order D1..Dk.
#ifndef QFORGE_LIB_IR_SPATIAL_PARAMS_H_
#define QFORGE_LIB_IR_SPATIAL_PARAMS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "qforge/ir/graph.h"

namespace qforge::internal {

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

struct SpatialParams {
  int num_spatial = 0;
  std::vector<int64_t> kernel;     // One per spatial axis, >= 1.
  std::vector<int64_t> strides;    // Default 1.
  std::vector<int64_t> dilations;  // Default 1.
  std::vector<int64_t> pads;       // 2 * num_spatial: begins, then ends.
  AutoPad auto_pad = AutoPad::kNotSet;
  bool ceil_mode = false;
};

// What one spatial axis of the output looks like.
struct SpatialDim {
  int64_t out = 0;
  int64_t pad_begin = 0;
  int64_t pad_end = 0;
};

// Reads and validates the window attributes of `node` for `num_spatial`
// spatial axes. kernel_shape comes from the attribute or, when absent, from
// `kernel_fallback` (Conv: the weights' spatial dims); it is an error when
// both are missing. ceil_mode is read only when `read_ceil_mode`. Errors name
// the node and the attribute.
absl::StatusOr<SpatialParams> ReadSpatialParams(
    const Node& node, int num_spatial,
    const std::vector<int64_t>* kernel_fallback, bool read_ceil_mode);

// Output size and effective padding of spatial axis `i` for an input of
// `in_size`. Error (naming the node and the numbers) when the window does not
// fit the padded input.
absl::StatusOr<SpatialDim> ComputeSpatialDim(const Node& node,
                                             const SpatialParams& params, int i,
                                             int64_t in_size);

// Error (naming the node) when the product of `dims` overflows or exceeds
// 2^50 elements: guards the size arithmetic before an output is allocated.
absl::Status CheckOutputSize(const Node& node,
                             const std::vector<int64_t>& dims);

// Axis of the channels in a rank-`rank` activation of `layout`.
inline int ChannelAxis(Layout layout, int rank) {
  return layout == Layout::kNHWC ? rank - 1 : 1;
}
// Axis of spatial dimension `i` (0-based) in an activation of `layout`.
inline int SpatialAxis(Layout layout, int i) {
  return layout == Layout::kNHWC ? 1 + i : 2 + i;
}

// Reorders a per-axis vector (one entry per axis of a rank >= 3 activation)
// from ONNX's NCHW axis order to `layout`'s order, and back. Identity for
// NCHW and for rank < 3.
template <typename T>
std::vector<T> NchwToLayout(const std::vector<T>& v, Layout layout) {
  const int r = static_cast<int>(v.size());
  if (layout != Layout::kNHWC || r < 3) return v;
  std::vector<T> out(r);
  out[0] = v[0];
  for (int i = 2; i < r; ++i) out[i - 1] = v[i];
  out[r - 1] = v[1];
  return out;
}
template <typename T>
std::vector<T> LayoutToNchw(const std::vector<T>& v, Layout layout) {
  const int r = static_cast<int>(v.size());
  if (layout != Layout::kNHWC || r < 3) return v;
  std::vector<T> out(r);
  out[0] = v[0];
  out[1] = v[r - 1];
  for (int i = 2; i < r; ++i) out[i] = v[i - 1];
  return out;
}
// The same for a roi vector: rank starts, then rank ends.
template <typename T>
std::vector<T> NchwRoiToLayout(const std::vector<T>& roi, Layout layout) {
  const size_t r = roi.size() / 2;
  std::vector<T> starts(roi.begin(), roi.begin() + r);
  std::vector<T> ends(roi.begin() + r, roi.begin() + 2 * r);
  starts = NchwToLayout(starts, layout);
  ends = NchwToLayout(ends, layout);
  starts.insert(starts.end(), ends.begin(), ends.end());
  return starts;
}

}  // namespace qforge::internal

#endif  // QFORGE_LIB_IR_SPATIAL_PARAMS_H_
