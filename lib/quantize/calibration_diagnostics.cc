#include "qforge/quantize/calibration_diagnostics.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "quantize/tensor_check.h"

namespace qforge {
namespace {

using Kind = CalibrationWarning::Kind;

std::string Percent(double fraction) {
  const double p = 100.0 * fraction;
  return p >= 10.0 ? absl::StrFormat("%.0f%%", p)
                   : absl::StrFormat("%.1f%%", p);
}

std::string TooFew(int64_t samples, int64_t recommended) {
  return absl::StrCat("calibrated on ", samples,
                      samples == 1 ? " sample" : " samples", "; at least ",
                      recommended, " are recommended");
}

}  // namespace

std::vector<CalibrationWarning> CalibrationDiagnostics::Check(
    const CalibrationStats& stats) const {
  std::vector<CalibrationWarning> out;
  if (stats.empty()) {
    out.push_back({Kind::kNoData, "", "no tensor was calibrated"});
    return out;
  }
  int64_t most = 0;
  for (const auto& [name, t] : stats.tensors()) {
    most = std::max(most, t.num_samples());
  }
  if (most < options_.min_samples) {
    out.push_back(
        {Kind::kTooFewSamples, "", TooFew(most, options_.min_samples)});
  }
  for (const auto& [name, t] : stats.tensors()) {
    if (most >= options_.min_samples &&
        t.num_samples() < options_.min_samples) {
      out.push_back({Kind::kTooFewSamples, name,
                     absl::StrCat(internal::Quoted("tensor", name),
                                  " was observed in only ", t.num_samples(),
                                  " of ", most, " samples; at least ",
                                  options_.min_samples, " are recommended")});
    }
    if (!t.has_data()) {
      out.push_back({Kind::kNoData, name,
                     absl::StrCat(internal::Quoted("tensor", name),
                                  " had no elements in its ", t.num_samples(),
                                  " samples; its range cannot be calibrated")});
      continue;
    }
    CheckGrowth(t, &out);
  }
  return out;
}

std::vector<CalibrationWarning> CalibrationDiagnostics::Check(
    const TensorStats& stats) const {
  std::vector<CalibrationWarning> out;
  if (stats.num_samples() < options_.min_samples) {
    out.push_back(
        {Kind::kTooFewSamples, stats.name(),
         absl::StrCat(internal::Quoted("tensor", stats.name()), " ",
                      TooFew(stats.num_samples(), options_.min_samples))});
  }
  if (!stats.has_data()) {
    out.push_back({Kind::kNoData, stats.name(),
                   absl::StrCat(internal::Quoted("tensor", stats.name()),
                                " had no elements in its ", stats.num_samples(),
                                " samples; its range cannot be calibrated")});
    return out;
  }
  CheckGrowth(stats, &out);
  return out;
}

void CalibrationDiagnostics::CheckGrowth(
    const TensorStats& stats, std::vector<CalibrationWarning>* out) const {
  const int64_t n = stats.num_samples();
  if (n < options_.min_samples_for_growth || !stats.has_data()) return;
  const double cutoff =
      (1.0 - options_.recent_fraction) * static_cast<double>(n);
  const TensorStats::Checkpoint* before = nullptr;
  for (const TensorStats::Checkpoint& cp : stats.checkpoints()) {
    if (static_cast<double>(cp.sample) <= cutoff) before = &cp;
  }
  if (before == nullptr || before->sample >= n) return;
  const std::string tensor = internal::Quoted("tensor", stats.name());
  const double window =
      static_cast<double>(n - before->sample) / static_cast<double>(n);
  const FloatRange now = stats.range().WithZero();
  if (before->min > before->max) {
    out->push_back(
        {Kind::kRangeStillMoving, stats.name(),
         absl::StrCat(tensor, " had no data until after sample ",
                      before->sample, " of ", n, "; its range ",
                      stats.range().ToString(), " comes from the last ",
                      Percent(window), " of samples")});
    return;
  }
  const FloatRange then = FloatRange{before->min, before->max}.WithZero();
  const double w0 = static_cast<double>(then.max) - then.min;
  const double w1 = static_cast<double>(now.max) - now.min;
  const std::string detail = absl::StrCat(
      " (from ", then.ToString(), " after sample ", before->sample, " to ",
      now.ToString(), " after sample ", n,
      "); calibrate on more samples, or choose a percentile, entropy or MSE "
      "range");
  if (w0 == 0.0) {
    if (w1 > 0.0) {
      out->push_back({Kind::kRangeStillMoving, stats.name(),
                      absl::StrCat("range of ", tensor,
                                   " grew from zero in "
                                   "the last ",
                                   Percent(window), " of samples", detail)});
    }
    return;
  }
  const double growth = (w1 - w0) / w0;
  if (growth > options_.growth_threshold) {
    out->push_back({Kind::kRangeStillMoving, stats.name(),
                    absl::StrCat("range of ", tensor, " grew by ",
                                 Percent(growth), " in the last ",
                                 Percent(window), " of samples", detail)});
  }
}

std::string CalibrationDiagnostics::Format(
    const std::vector<CalibrationWarning>& warnings) {
  std::string s;
  for (const CalibrationWarning& w : warnings)
    absl::StrAppend(&s, w.message, "\n");
  return s;
}

}  // namespace qforge
