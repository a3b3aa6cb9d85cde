#include "ir/schemas/tensor_util.h"

#include <algorithm>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "qforge/core/status.h"

namespace qforge::internal {

SliceRange ResolveSliceAxis(int64_t dim, int64_t start, int64_t end,
                            int64_t step) {
  SliceRange r;
  r.step = step;
  if (dim == 0) return r;
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    r.start = start;
    // (end - start - 1) / step + 1 cannot overflow, unlike a rounded-up
    // division of (end - start + step - 1).
    r.count = end > start ? (end - start - 1) / step + 1 : 0;
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    r.start = start;
    const int64_t magnitude = step == std::numeric_limits<int64_t>::min()
                                  ? std::numeric_limits<int64_t>::max()
                                  : -step;
    r.count = start > end ? (start - end - 1) / magnitude + 1 : 0;
  }
  return r;
}

absl::StatusOr<SliceParams> NormalizeSliceParams(
    int rank, std::vector<int64_t> starts, std::vector<int64_t> ends,
    std::optional<std::vector<int64_t>> axes,
    std::optional<std::vector<int64_t>> steps) {
  const size_t n = starts.size();
  if (ends.size() != n) {
    return absl::InvalidArgumentError(
        absl::StrCat("starts has ", n, " values but ends has ", ends.size()));
  }
  SliceParams p;
  p.starts = std::move(starts);
  p.ends = std::move(ends);
  if (axes.has_value()) {
    if (axes->size() != n) {
      return absl::InvalidArgumentError(absl::StrCat(
          "starts has ", n, " values but axes has ", axes->size()));
    }
    p.axes = *std::move(axes);
  } else {
    for (size_t i = 0; i < n; ++i) p.axes.push_back(static_cast<int64_t>(i));
  }
  if (steps.has_value()) {
    if (steps->size() != n) {
      return absl::InvalidArgumentError(absl::StrCat(
          "starts has ", n, " values but steps has ", steps->size()));
    }
    p.steps = *std::move(steps);
  } else {
    p.steps.assign(n, 1);
  }
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; i < n; ++i) {
    int64_t axis = p.axes[i];
    if (axis < -rank || axis >= rank) {
      return absl::InvalidArgumentError(
          absl::StrCat("axis ", axis, " is out of range for rank ", rank));
    }
    if (axis < 0) axis += rank;
    if (seen[axis]) {
      return absl::InvalidArgumentError(
          absl::StrCat("axis ", axis, " appears more than once in axes"));
    }
    seen[axis] = true;
    p.axes[i] = axis;
    if (p.steps[i] == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("steps[", i, "] is 0; steps must be non-zero"));
    }
  }
  return p;
}

absl::Status CheckReshapeShape(const std::vector<int64_t>& shape,
                               bool allowzero) {
  int inferred = 0;
  bool has_zero = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < -1) {
      return absl::InvalidArgumentError(
          absl::StrCat("shape[", i, "] is ", shape[i], "; dims must be >= -1"));
    }
    if (shape[i] == -1 && ++inferred > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shape [", absl::StrJoin(shape, ","), "] has more than one -1"));
    }
    has_zero |= shape[i] == 0;
  }
  if (allowzero && has_zero && inferred > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("shape [", absl::StrJoin(shape, ","),
                     "] has both 0 and -1, which allowzero=1 forbids"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> ResolveReshape(
    const std::vector<int64_t>& input, const std::vector<int64_t>& shape,
    bool allowzero) {
  QFORGE_RETURN_IF_ERROR(CheckReshapeShape(shape, allowzero));
  std::vector<int64_t> out = shape;
  int inferred = -1;
  int64_t product = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 0 && !allowzero) {
      if (i >= input.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "shape[", i, "] is 0 (copy the input dim) but the input ",
            DimsToString(input), " has rank ", input.size()));
      }
      out[i] = input[i];
    }
    if (out[i] == -1) {
      inferred = static_cast<int>(i);
      continue;
    }
    if (out[i] > 0 && product > std::numeric_limits<int64_t>::max() / out[i]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shape [", absl::StrJoin(shape, ","), "] has too many elements"));
    }
    product *= out[i];
  }
  const int64_t total = NumElements(input);
  if (inferred >= 0) {
    if (product == 0 || total % product != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot reshape ", DimsToString(input), " (", total,
                       " elements) to [", absl::StrJoin(shape, ","), "]"));
    }
    out[inferred] = total / product;
  } else if (product != total) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot reshape ", DimsToString(input), " (", total, " elements) to [",
        absl::StrJoin(shape, ","), "] (", product, " elements)"));
  }
  return out;
}

absl::StatusOr<Tensor> ConstantNodeValue(const Node& node) {
  static constexpr const char* kKinds[] = {
      "value",      "value_float",  "value_floats",  "value_int",
      "value_ints", "value_string", "value_strings", "sparse_value"};
  std::vector<std::string> present;
  for (const char* kind : kKinds) {
    if (node.HasAttribute(kind)) present.push_back(kind);
  }
  if (present.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(),
        ": needs exactly one value attribute (value, "
        "value_float, value_floats, value_int, value_ints), has ",
        present.empty() ? std::string("none") : absl::StrJoin(present, ", ")));
  }
  const std::string& kind = present[0];
  if (kind == "value") {
    QFORGE_ASSIGN_OR_RETURN(const Tensor* t, node.GetTensor(kind));
    if (SizeOf(t->dtype()) == 0) {
      return absl::UnimplementedError(
          absl::StrCat(node.Describe(), ": a ", DataTypeName(t->dtype()),
                       " constant is not supported"));
    }
    return *t;
  }
  if (kind == "value_float") {
    QFORGE_ASSIGN_OR_RETURN(float v, node.GetFloat(kind, 0));
    return Tensor::Scalar<float>(v);
  }
  if (kind == "value_floats") {
    QFORGE_ASSIGN_OR_RETURN(std::vector<float> v, node.GetFloats(kind, {}));
    return Tensor::FromVector<float>({static_cast<int64_t>(v.size())}, v);
  }
  if (kind == "value_int") {
    QFORGE_ASSIGN_OR_RETURN(int64_t v, node.GetInt(kind, 0));
    return Tensor::Scalar<int64_t>(v);
  }
  if (kind == "value_ints") {
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> v, node.GetInts(kind, {}));
    return Tensor::FromVector<int64_t>({static_cast<int64_t>(v.size())}, v);
  }
  return absl::UnimplementedError(absl::StrCat(
      node.Describe(), ": attribute '", kind,
      "' is not supported: the IR has no string or sparse tensors"));
}

}  // namespace qforge::internal
