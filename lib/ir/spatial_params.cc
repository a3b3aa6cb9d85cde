#include "ir/spatial_params.h"

#include <algorithm>
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

// Reads an ints attribute of `expected` length, default `fill` per element.
absl::StatusOr<std::vector<int64_t>> ReadPerAxis(const Node& node,
                                                 absl::string_view name,
                                                 size_t expected, int64_t fill,
                                                 int64_t min_value) {
  QFORGE_ASSIGN_OR_RETURN(
      std::vector<int64_t> v,
      node.GetInts(name, std::vector<int64_t>(expected, fill)));
  if (v.empty() && expected > 0) v.assign(expected, fill);
  if (v.size() != expected) {
    return Bad(
        node, absl::StrCat("attribute '", name, "' has ", v.size(), " values [",
                           absl::StrJoin(v, ","), "], expected ", expected));
  }
  for (int64_t x : v) {
    if (x < min_value) {
      return Bad(node, absl::StrCat("attribute '", name, "' = [",
                                    absl::StrJoin(v, ","),
                                    "] has a value below ", min_value));
    }
  }
  return v;
}

}  // namespace

absl::StatusOr<SpatialParams> ReadSpatialParams(
    const Node& node, int num_spatial,
    const std::vector<int64_t>* kernel_fallback, bool read_ceil_mode) {
  SpatialParams p;
  if (num_spatial < 1) {
    return Bad(node,
               absl::StrCat("needs at least one spatial axis, the input has ",
                            num_spatial));
  }
  p.num_spatial = num_spatial;
  const size_t n = static_cast<size_t>(num_spatial);
  if (node.HasAttribute("kernel_shape")) {
    QFORGE_ASSIGN_OR_RETURN(p.kernel,
                            ReadPerAxis(node, "kernel_shape", n, 1, 1));
  } else if (kernel_fallback != nullptr) {
    p.kernel = *kernel_fallback;
    if (p.kernel.size() != n) {
      return Bad(node, absl::StrCat("kernel has ", p.kernel.size(),
                                    " spatial dims, the input has ", n));
    }
    for (int64_t k : p.kernel) {
      if (k < 1) {
        return Bad(
            node, absl::StrCat("kernel spatial dims [",
                               absl::StrJoin(p.kernel, ","), "] must be >= 1"));
      }
    }
  } else {
    return Bad(node, "required attribute 'kernel_shape' is missing");
  }
  QFORGE_ASSIGN_OR_RETURN(p.strides, ReadPerAxis(node, "strides", n, 1, 1));
  QFORGE_ASSIGN_OR_RETURN(p.dilations, ReadPerAxis(node, "dilations", n, 1, 1));
  QFORGE_ASSIGN_OR_RETURN(p.pads, ReadPerAxis(node, "pads", 2 * n, 0, 0));
  QFORGE_ASSIGN_OR_RETURN(std::string auto_pad,
                          node.GetString("auto_pad", "NOTSET"));
  if (auto_pad == "NOTSET" || auto_pad.empty()) {
    p.auto_pad = AutoPad::kNotSet;
  } else if (auto_pad == "SAME_UPPER") {
    p.auto_pad = AutoPad::kSameUpper;
  } else if (auto_pad == "SAME_LOWER") {
    p.auto_pad = AutoPad::kSameLower;
  } else if (auto_pad == "VALID") {
    p.auto_pad = AutoPad::kValid;
  } else {
    return Bad(node, absl::StrCat("attribute 'auto_pad' is '", auto_pad,
                                  "', expected NOTSET, SAME_UPPER, SAME_LOWER "
                                  "or VALID"));
  }
  if (read_ceil_mode) {
    QFORGE_ASSIGN_OR_RETURN(int64_t ceil_mode, node.GetInt("ceil_mode", 0));
    if (ceil_mode != 0 && ceil_mode != 1) {
      return Bad(node, absl::StrCat("attribute 'ceil_mode' is ", ceil_mode,
                                    ", expected 0 or 1"));
    }
    p.ceil_mode = ceil_mode == 1;
  }
  return p;
}

absl::StatusOr<SpatialDim> ComputeSpatialDim(const Node& node,
                                             const SpatialParams& p, int i,
                                             int64_t in_size) {
  const int64_t k = p.kernel[i];
  const int64_t s = p.strides[i];
  const int64_t d = p.dilations[i];
  // Attributes come from files: keep the arithmetic far from overflow.
  constexpr int64_t kLimit = int64_t{1} << 40;
  if (k > kLimit || d > kLimit || s > kLimit || in_size > kLimit ||
      p.pads[i] > kLimit || p.pads[i + p.num_spatial] > kLimit) {
    return Bad(node, absl::StrCat("window attributes of spatial axis ", i,
                                  " are out of range"));
  }
  if (k - 1 > kLimit / d) {
    return Bad(node, absl::StrCat("spatial axis ", i, ": kernel ", k,
                                  " with dilation ", d, " is out of range"));
  }
  const int64_t dk = (k - 1) * d + 1;
  SpatialDim r;
  switch (p.auto_pad) {
    case AutoPad::kSameUpper:
    case AutoPad::kSameLower: {
      r.out = (in_size + s - 1) / s;
      const int64_t total =
          std::max<int64_t>(0, (r.out - 1) * s + dk - in_size);
      const int64_t small = total / 2;
      r.pad_begin = p.auto_pad == AutoPad::kSameUpper ? small : total - small;
      r.pad_end = total - r.pad_begin;
      break;
    }
    case AutoPad::kValid:
    case AutoPad::kNotSet: {
      if (p.auto_pad == AutoPad::kNotSet) {
        r.pad_begin = p.pads[i];
        r.pad_end = p.pads[i + p.num_spatial];
      }
      const int64_t span = in_size + r.pad_begin + r.pad_end;
      if (span < dk) {
        return Bad(
            node, absl::StrCat("spatial axis ", i, ": the window (kernel ", k,
                               ", dilation ", d, ", extent ", dk,
                               ") is larger than the padded input (", in_size,
                               " + pads ", r.pad_begin, " + ", r.pad_end, " = ",
                               span, ")"));
      }
      if (p.ceil_mode) {
        r.out = (span - dk + s - 1) / s + 1;
        // A last window starting inside the end padding is dropped.
        if ((r.out - 1) * s >= in_size + r.pad_begin) --r.out;
      } else {
        r.out = (span - dk) / s + 1;
      }
      break;
    }
  }
  return r;
}

absl::Status CheckOutputSize(const Node& node,
                             const std::vector<int64_t>& dims) {
  constexpr int64_t kMaxElements = int64_t{1} << 50;
  int64_t total = 1;
  for (int64_t d : dims) {
    if (d < 0 || (d > 0 && total > kMaxElements / d)) {
      return Bad(node, absl::StrCat("output shape [", absl::StrJoin(dims, ","),
                                    "] is too large"));
    }
    total *= d;
  }
  return absl::OkStatus();
}

}  // namespace qforge::internal
