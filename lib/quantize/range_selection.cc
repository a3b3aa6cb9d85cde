// ChooseRange: from TensorStats to a real range, per calibration method.
//
// Every histogram method reads only the integer bin counts and the bin
// geometry, in a fixed order, so equal histograms give equal ranges.

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "qforge/core/status.h"
#include "qforge/quantize/calibration.h"
#include "quantize/tensor_check.h"

namespace qforge {
namespace {

// Counts of |x|: bin j covers |x| in [j * w, (j + 1) * w) (for negative x,
// (j * w, (j + 1) * w]), j < num_bins / 2. Trailing empty bins are dropped.
std::vector<double> AbsCounts(const Histogram& h) {
  const int half = h.num_bins() / 2;
  auto counts = h.counts();
  std::vector<double> abs(half);
  int used = 0;
  for (int j = 0; j < half; ++j) {
    const uint64_t c = counts[half + j] + counts[half - 1 - j];
    abs[j] = static_cast<double>(c);
    if (c != 0) used = j + 1;
  }
  abs.resize(used);
  return abs;
}

// One side of the signed histogram: bin j covers [j * w, (j + 1) * w) for
// the positive side, [-(j + 1) * w, -j * w) for the negative side. Trailing
// empty bins are dropped.
std::vector<double> SideCounts(const Histogram& h, bool positive) {
  const int half = h.num_bins() / 2;
  auto counts = h.counts();
  std::vector<double> side(half);
  int used = 0;
  for (int j = 0; j < half; ++j) {
    const uint64_t c = positive ? counts[half + j] : counts[half - 1 - j];
    side[j] = static_cast<double>(c);
    if (c != 0) used = j + 1;
  }
  side.resize(used);
  return side;
}

// Value below which a fraction q of the data lies, interpolating linearly
// inside the bin that holds it.
double Quantile(const Histogram& h, double q) {
  auto counts = h.counts();
  const double target = q * static_cast<double>(h.total());
  double before = 0.0;
  int last_nonzero = 0;
  for (int i = 0; i < h.num_bins(); ++i) {
    const double c = static_cast<double>(counts[i]);
    if (c == 0.0) continue;
    last_nonzero = i;
    if (before + c >= target) {
      const double frac = std::clamp((target - before) / c, 0.0, 1.0);
      return h.bin_lower_edge(i) + frac * h.bin_width();
    }
    before += c;
  }
  return h.bin_lower_edge(last_nonzero + 1);
}

// Threshold (in bins) minimizing KL(P || Q) as in TensorRT's entropy
// calibration. For a candidate of i bins:
//  * P is |x| over the first i bins, the clipped mass (bins >= i) added to
//    the last one;
//  * Q is the first i bins (without the clipped mass) merged into `levels`
//    groups of i / levels bins (the last group absorbs the remainder), each
//    group's count spread evenly over its bins where P is non-zero;
//  * a group whose bins are all empty but where P is non-zero (the clipped
//    mass landing in a region without data, e.g. a gap before outliers)
//    gives those bins kSmoothing counts, as MXNet's calibration smooths, so
//    that its cost is large but finite.
// Both are normalized and KL(P || Q) = sum_j p_j log(p_j / q_j). Q is
// constant over the non-zero bins of a group, so the sum is evaluated per
// group from prefix sums: O(levels) per candidate. The first minimum (the
// smallest threshold) wins. Returns abs.size() when it has at most `levels`
// bins (no threshold can be finer than the histogram).
int EntropyThresholdBins(const std::vector<double>& abs, int levels) {
  constexpr double kSmoothing = 1e-4;
  const int used = static_cast<int>(abs.size());
  if (used <= levels) return used;
  // Prefix sums over bins: counts, non-zero bins, and c * log(c).
  std::vector<double> count_before(used + 1, 0.0);
  std::vector<int> nonzero_before(used + 1, 0);
  std::vector<double> clogc_before(used + 1, 0.0);
  for (int j = 0; j < used; ++j) {
    count_before[j + 1] = count_before[j] + abs[j];
    nonzero_before[j + 1] = nonzero_before[j] + (abs[j] != 0.0 ? 1 : 0);
    clogc_before[j + 1] =
        clogc_before[j] + (abs[j] != 0.0 ? abs[j] * std::log(abs[j]) : 0.0);
  }
  const double total = count_before[used];
  const double log_total = std::log(total);
  int best = used;
  double best_divergence = std::numeric_limits<double>::infinity();
  for (int i = levels; i <= used; ++i) {
    const double outliers = total - count_before[i];
    const double last = abs[i - 1] + outliers;  // P's last bin.
    // sum_j P_j log P_j (P_j in counts; the sum of P is `total`).
    const double plogp =
        clogc_before[i - 1] + (last != 0.0 ? last * std::log(last) : 0.0);
    const int per_group = i / levels;
    // First pass: Q's total; second: sum_j P_j log Q_j.
    double q_sum = 0.0;
    for (int g = 0; g < levels; ++g) {
      const int start = g * per_group;
      const int stop = g == levels - 1 ? i : start + per_group;
      const double group_count = count_before[stop] - count_before[start];
      int nonzero = nonzero_before[stop] - nonzero_before[start];
      if (g == levels - 1 && abs[i - 1] == 0.0 && last != 0.0) ++nonzero;
      q_sum += group_count > 0.0 ? group_count : nonzero * kSmoothing;
    }
    const double log_q_sum = std::log(q_sum);
    double plogq = 0.0;  // sum_j P_j log(q_j), q_j = Q_j / q_sum.
    for (int g = 0; g < levels; ++g) {
      const int start = g * per_group;
      const int stop = g == levels - 1 ? i : start + per_group;
      const double group_count = count_before[stop] - count_before[start];
      int nonzero = nonzero_before[stop] - nonzero_before[start];
      double p_mass = group_count;
      if (g == levels - 1) {
        p_mass += outliers;
        if (abs[i - 1] == 0.0 && last != 0.0) ++nonzero;
      }
      if (p_mass == 0.0) continue;
      const double q_value =
          group_count > 0.0 ? group_count / nonzero : kSmoothing;
      plogq += p_mass * (std::log(q_value) - log_q_sum);
    }
    // KL = sum p log p - sum p log q with p = P / total.
    const double divergence = (plogp - plogq) / total - log_total;
    if (divergence < best_divergence) {
      best_divergence = divergence;
      best = i;
    }
  }
  return best;
}

// Clipping cost of one side, in units of bin_width^2: for each k in
// [0, side.size()], sum over bins j >= k of count_j * E[(x - k)^2] with x
// uniform in [j, j + 1), i.e. count_j * (d^2 + d + 1/3), d = j - k.
// Computed from the top down with sums of non-negative terms only:
//   C(k-1) = C(k) + 2 B(k) + 2 A(k) + c_{k-1} / 3
//   B(k-1) = B(k) + A(k),  A(k-1) = A(k) + c_{k-1}
// where A(k) = sum_{j>=k} c_j and B(k) = sum_{j>=k} c_j (j - k).
std::vector<double> ClipCost(const std::vector<double>& side) {
  const int n = static_cast<int>(side.size());
  std::vector<double> cost(n + 1, 0.0);
  double a = 0.0;
  double b = 0.0;
  double c = 0.0;
  for (int k = n; k >= 1; --k) {
    c = c + 2.0 * b + 2.0 * a + side[k - 1] / 3.0;
    b = b + a;
    a = a + side[k - 1];
    cost[k - 1] = c;
  }
  return cost;
}

// Prefix sums: inside[k] = sum_{j<k} side[j].
std::vector<double> Inside(const std::vector<double>& side) {
  std::vector<double> inside(side.size() + 1, 0.0);
  for (size_t j = 0; j < side.size(); ++j) inside[j + 1] = inside[j] + side[j];
  return inside;
}

// Symmetric MSE: threshold T = k bins over |x|, `steps` steps per side.
int MseSymmetricBins(const std::vector<double>& abs, int64_t steps) {
  const int n = static_cast<int>(abs.size());
  const std::vector<double> clip = ClipCost(abs);
  const std::vector<double> inside = Inside(abs);
  const double denom = 12.0 * static_cast<double>(steps) * steps;
  int best = n;
  double best_cost = std::numeric_limits<double>::infinity();
  for (int k = n; k >= 1; --k) {  // Widest first: ties keep the widest.
    const double noise = static_cast<double>(k) * k / denom * inside[k];
    const double cost = noise + clip[k];
    if (cost < best_cost) {
      best_cost = cost;
      best = k;
    }
  }
  return best;
}

// Asymmetric MSE: range [-l, k] bins with levels - 1 steps over it.
std::pair<int, int> MseAsymmetricBins(const std::vector<double>& neg,
                                      const std::vector<double>& pos,
                                      int64_t levels) {
  const int n_neg = static_cast<int>(neg.size());
  const int n_pos = static_cast<int>(pos.size());
  const std::vector<double> clip_neg = ClipCost(neg);
  const std::vector<double> clip_pos = ClipCost(pos);
  const std::vector<double> in_neg = Inside(neg);
  const std::vector<double> in_pos = Inside(pos);
  const double steps = static_cast<double>(levels - 1);
  const double denom = 12.0 * steps * steps;
  // Bound the search to about 2^20 candidates for very fine histograms.
  constexpr int kMaxPerSide = 1024;
  const int stride_pos = std::max(1, (n_pos + kMaxPerSide - 1) / kMaxPerSide);
  const int stride_neg = std::max(1, (n_neg + kMaxPerSide - 1) / kMaxPerSide);
  std::pair<int, int> best = {n_neg, n_pos};
  double best_cost = std::numeric_limits<double>::infinity();
  // Widest first (from the full range down) so that ties keep the widest.
  for (int k = n_pos; k >= 0; k = k == 0 ? -1 : std::max(0, k - stride_pos)) {
    for (int l = n_neg; l >= 0; l = l == 0 ? -1 : std::max(0, l - stride_neg)) {
      if (k == 0 && l == 0) continue;
      const double width = static_cast<double>(k + l);
      const double noise = width * width / denom * (in_pos[k] + in_neg[l]);
      const double cost = noise + clip_pos[k] + clip_neg[l];
      if (cost < best_cost) {
        best_cost = cost;
        best = {l, k};
      }
    }
  }
  return best;
}

FloatRange ClampToObserved(double lo, double hi, const TensorStats& stats) {
  const double mn = stats.min();
  const double mx = stats.max();
  lo = std::clamp(lo, mn, mx);
  hi = std::clamp(hi, mn, mx);
  if (lo > hi) lo = hi;
  return {static_cast<float>(lo), static_cast<float>(hi)};
}

}  // namespace

absl::string_view CalibrationMethodName(CalibrationMethod method) {
  switch (method) {
    case CalibrationMethod::kMinMax:
      return "minmax";
    case CalibrationMethod::kMovingAverageMinMax:
      return "moving_average_minmax";
    case CalibrationMethod::kPercentile:
      return "percentile";
    case CalibrationMethod::kEntropy:
      return "entropy";
    case CalibrationMethod::kMse:
      return "mse";
  }
  return "unknown";
}

absl::StatusOr<CalibrationMethod> ParseCalibrationMethod(
    absl::string_view name) {
  for (CalibrationMethod m :
       {CalibrationMethod::kMinMax, CalibrationMethod::kMovingAverageMinMax,
        CalibrationMethod::kPercentile, CalibrationMethod::kEntropy,
        CalibrationMethod::kMse}) {
    if (CalibrationMethodName(m) == name) return m;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown calibration method '", name,
      "'; expected minmax, moving_average_minmax, percentile, entropy or mse"));
}

absl::Status RangeOptions::Validate() const {
  if (!(percentile > 50.0 && percentile <= 100.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "calibration percentile must be in (50, 100], got ", percentile));
  }
  if (num_quantized_bins < 2 || num_quantized_bins > 65536) {
    return absl::InvalidArgumentError(
        absl::StrCat("entropy calibration levels must be in [2, 65536], got ",
                     num_quantized_bins));
  }
  if (mse_num_levels < 3 || mse_num_levels > (1 << 24)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MSE calibration levels must be in [3, 2^24], got ", mse_num_levels));
  }
  return absl::OkStatus();
}

absl::StatusOr<FloatRange> ChooseRange(const TensorStats& stats,
                                       CalibrationMethod method,
                                       const RangeOptions& options) {
  QFORGE_RETURN_IF_ERROR(options.Validate());
  if (!stats.has_data()) {
    return absl::FailedPreconditionError(absl::StrCat(
        internal::Quoted("tensor", stats.name()), " has no calibration data (",
        stats.num_samples(), " samples, 0 elements); cannot choose its range"));
  }
  if (method == CalibrationMethod::kMinMax) return stats.range();
  if (method == CalibrationMethod::kMovingAverageMinMax) {
    return FloatRange{static_cast<float>(stats.moving_average_min()),
                      static_cast<float>(stats.moving_average_max())};
  }
  if (stats.min() == stats.max()) return stats.range();
  const Histogram& h = stats.histogram();
  const double w = h.bin_width();
  switch (method) {
    case CalibrationMethod::kPercentile: {
      const double q = options.percentile / 100.0;
      return ClampToObserved(Quantile(h, 1.0 - q), Quantile(h, q), stats);
    }
    case CalibrationMethod::kEntropy: {
      const std::vector<double> abs = AbsCounts(h);
      const double t =
          EntropyThresholdBins(abs, options.num_quantized_bins) * w;
      return ClampToObserved(-t, t, stats);
    }
    case CalibrationMethod::kMse: {
      if (options.mse_symmetric) {
        const double t =
            MseSymmetricBins(AbsCounts(h), (options.mse_num_levels - 1) / 2) *
            w;
        return ClampToObserved(-t, t, stats);
      }
      const auto [l, k] = MseAsymmetricBins(SideCounts(h, /*positive=*/false),
                                            SideCounts(h, /*positive=*/true),
                                            options.mse_num_levels);
      return ClampToObserved(-l * w, k * w, stats);
    }
    default:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown calibration method ", static_cast<int>(method)));
}

}  // namespace qforge
