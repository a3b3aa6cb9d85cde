#include "kernels/int8/reference/quant_types.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace qforge::kernels::reference {

absl::Status ValidateQuantParam(const QuantParam& q, absl::string_view what,
                                int32_t qmin, int32_t qmax) {
  if (!std::isfinite(q.scale) || !(q.scale > 0.0f)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": scale must be finite and > 0, got ", q.scale));
  }
  if (q.zero_point < qmin || q.zero_point > qmax) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": zero point ", q.zero_point, " is outside [", qmin,
                     ", ", qmax, "]"));
  }
  return absl::OkStatus();
}

absl::Status ValidateActivationRange(const ActivationRange& range) {
  if (range.min > range.max || range.max < kInt8Min || range.min > kInt8Max) {
    return absl::InvalidArgumentError(
        absl::StrCat("activation range [", range.min, ", ", range.max,
                     "] is empty or outside [-128, 127]"));
  }
  return absl::OkStatus();
}

absl::Status ValidateWeightQuant(const WeightQuant& w, int64_t channels) {
  const int64_t ns = static_cast<int64_t>(w.scales.size());
  const int64_t nz = static_cast<int64_t>(w.zero_points.size());
  if (ns != 1 && ns != channels) {
    return absl::InvalidArgumentError(
        absl::StrCat("weights: expected 1 or ", channels, " scales, got ", ns));
  }
  if (nz != 0 && nz != 1 && nz != channels) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weights: expected 0, 1 or ", channels, " zero points, got ", nz));
  }
  for (int64_t c = 0; c < ns; ++c) {
    if (!std::isfinite(w.scales[c]) || !(w.scales[c] > 0.0f)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "weights: scale ", c, " must be finite and > 0, got ", w.scales[c]));
    }
  }
  for (int64_t c = 0; c < nz; ++c) {
    if (w.zero_points[c] < kInt8Min || w.zero_points[c] > kInt8Max) {
      return absl::InvalidArgumentError(
          absl::StrCat("weights: zero point ", c, " = ", w.zero_points[c],
                       " is outside [-128, 127]"));
    }
  }
  return absl::OkStatus();
}

std::string DescribeQuantParam(const QuantParam& q) {
  return absl::StrCat("scale=", q.scale, " zero_point=", q.zero_point);
}

}  // namespace qforge::kernels::reference
