#include "kernels/float/broadcast.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace qforge::kernels {

absl::StatusOr<std::vector<int64_t>> BroadcastDims(
    const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    const int64_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    if (da != db && da != 1 && db != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shapes ", DimsToString(a), " and ", DimsToString(b),
          " do not broadcast (dimension ", i, ": ", da, " vs ", db, ")"));
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

BroadcastPlan PlanBroadcast(const std::vector<int64_t>& a,
                            const std::vector<int64_t>& b,
                            const std::vector<int64_t>& out) {
  const size_t rank = out.size();
  // Per output dim of size > 1: its size and whether a / b broadcast there.
  struct Axis {
    int64_t size;
    bool a_bcast;
    bool b_bcast;
  };
  std::vector<Axis> axes;
  for (size_t i = 0; i < rank; ++i) {
    if (out[i] == 1) continue;
    const int64_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
    const int64_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
    const Axis axis{out[i], da == 1, db == 1};
    if (!axes.empty() && axes.back().a_bcast == axis.a_bcast &&
        axes.back().b_bcast == axis.b_bcast) {
      axes.back().size *= axis.size;  // Coalesce with the previous dim.
    } else {
      axes.push_back(axis);
    }
  }
  BroadcastPlan plan;
  const size_t n = axes.size();
  plan.dims.resize(n);
  plan.stride_a.resize(n);
  plan.stride_b.resize(n);
  int64_t step_a = 1, step_b = 1;
  for (size_t i = n; i-- > 0;) {
    plan.dims[i] = axes[i].size;
    plan.stride_a[i] = axes[i].a_bcast ? 0 : step_a;
    plan.stride_b[i] = axes[i].b_bcast ? 0 : step_b;
    if (!axes[i].a_bcast) step_a *= axes[i].size;
    if (!axes[i].b_bcast) step_b *= axes[i].size;
  }
  return plan;
}

}  // namespace qforge::kernels
