// Index arithmetic of the tensor ops (Slice, Reshape, Constant), shared by
// their schemas (shape inference) and their kernels, so that both agree on
// every clamping and defaulting rule.
//
// Errors are InvalidArgument without a node prefix; callers add it
// (ctx.Error(status.message())).
#ifndef QFORGE_LIB_IR_SCHEMAS_TENSOR_UTIL_H_
#define QFORGE_LIB_IR_SCHEMAS_TENSOR_UTIL_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "qforge/core/tensor.h"
#include "qforge/ir/graph.h"

namespace qforge::internal {

// The elements one axis of Slice selects: start, start + step, ... (count
// of them).
struct SliceRange {
  int64_t start = 0;
  int64_t step = 1;
  int64_t count = 0;
};

// ONNX Slice's rule for one axis of size `dim`: negative start/end count from
// the back, then both are clamped to [0, dim] for positive steps and to
// [0, dim - 1] (start) / [-1, dim - 1] (end) for negative steps. `step` must
// not be 0.
SliceRange ResolveSliceAxis(int64_t dim, int64_t start, int64_t end,
                            int64_t step);

// Slice's parameters after defaulting: one entry per sliced axis, axes
// normalized to [0, rank).
struct SliceParams {
  std::vector<int64_t> starts, ends, axes, steps;
};

// Checks and defaults Slice's parameters for an input of rank `rank`:
// starts and ends of equal length; axes (default 0..n-1) in [-rank, rank)
// and not repeated; steps (default 1) non-zero.
absl::StatusOr<SliceParams> NormalizeSliceParams(
    int rank, std::vector<int64_t> starts, std::vector<int64_t> ends,
    std::optional<std::vector<int64_t>> axes,
    std::optional<std::vector<int64_t>> steps);

// Reshape's output dims for an input of static `input` dims and the
// requested `shape`: 0 copies the input dim (unless allowzero), -1 is
// inferred. Errors when the element counts differ or `shape` is malformed.
absl::StatusOr<std::vector<int64_t>> ResolveReshape(
    const std::vector<int64_t>& input, const std::vector<int64_t>& shape,
    bool allowzero);

// Checks Reshape's `shape` on its own: at most one -1, no value below -1,
// and not both 0 and -1 when allowzero is set.
absl::Status CheckReshapeShape(const std::vector<int64_t>& shape,
                               bool allowzero);

// The tensor a Constant node produces, from exactly one of its attributes
// value, value_float, value_floats, value_int, value_ints. Errors name the
// node; string and sparse values are Unimplemented.
absl::StatusOr<Tensor> ConstantNodeValue(const Node& node);

}  // namespace qforge::internal

#endif  // QFORGE_LIB_IR_SCHEMAS_TENSOR_UTIL_H_
