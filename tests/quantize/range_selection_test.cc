// ChooseRange on known distributions. Expected values come from the
// distributions themselves (quantiles of the sorted data, the true maximum)
// and from simulating quantization on the raw data, not from qforge.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/quantize/calibration.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::HasSubstr;

TensorStats Observe(const std::vector<float>& values, int sample_size = 1000) {
  TensorStats stats("t");
  for (size_t i = 0; i < values.size(); i += sample_size) {
    const size_t n = std::min<size_t>(sample_size, values.size() - i);
    EXPECT_THAT(stats.Update(absl::MakeConstSpan(values.data() + i, n)),
                IsOk());
  }
  return stats;
}

std::vector<float> Gaussian(int n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

// Gaussian data plus a few far outliers on the positive side.
std::vector<float> GaussianWithOutliers() {
  std::vector<float> v = Gaussian(200000, 11);
  for (int i = 0; i < 5; ++i) v[1000 + 30000 * i] = 100.0f + i;
  return v;
}

// Mean squared error of quantize-dequantize of `values` with `levels`
// integer levels over [lo, hi] (extended to include 0), computed directly.
double QuantizationMse(const std::vector<float>& values, double lo, double hi,
                       int levels) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  const double scale = (hi - lo) / (levels - 1);
  const double zp = std::round(-lo / scale);
  double sum = 0.0;
  for (float x : values) {
    const double q = std::clamp(std::round(x / scale + zp), 0.0, levels - 1.0);
    const double r = (q - zp) * scale;
    sum += (r - x) * (r - x);
  }
  return sum / static_cast<double>(values.size());
}

double SortedQuantile(std::vector<float> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  return v[static_cast<size_t>(std::llround(pos))];
}

TEST(ChooseRangeTest, MinMaxAndMovingAverage) {
  const std::vector<float> v = {-3.0f, 1.0f, 2.0f, 7.5f};
  TensorStats stats("t");
  ASSERT_THAT(stats.Update(v), IsOk());
  auto r = ChooseRange(stats, CalibrationMethod::kMinMax);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(*r, (FloatRange{-3.0f, 7.5f}));
  auto ma = ChooseRange(stats, CalibrationMethod::kMovingAverageMinMax);
  ASSERT_THAT(ma, IsOk());
  EXPECT_EQ(*ma, (FloatRange{-3.0f, 7.5f}));  // One sample: the average is it.
}

TEST(ChooseRangeTest, PercentileMatchesSortedQuantilesAndClipsOutliers) {
  const std::vector<float> v = GaussianWithOutliers();
  const TensorStats stats = Observe(v);
  const double w = stats.histogram().bin_width();
  for (double p : {99.0, 99.9, 99.99}) {
    auto r =
        ChooseRange(stats, CalibrationMethod::kPercentile, {.percentile = p});
    ASSERT_THAT(r, IsOk());
    EXPECT_NEAR(r->max, SortedQuantile(v, p / 100), w) << p;
    EXPECT_NEAR(r->min, SortedQuantile(v, 1 - p / 100), w) << p;
    EXPECT_LT(r->max, 5.0f);  // The outliers at 100 are clipped.
    EXPECT_GT(r->max, 2.0f);
  }
  // 100 keeps everything.
  auto all =
      ChooseRange(stats, CalibrationMethod::kPercentile, {.percentile = 100.0});
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(*all, stats.range());
}

// Quantization MSE restricted to the bulk of the data (|x| < 5).
double BulkMse(const std::vector<float>& values, FloatRange r) {
  std::vector<float> bulk;
  for (float x : values) {
    if (std::abs(x) < 5.0f) bulk.push_back(x);
  }
  return QuantizationMse(bulk, r.min, r.max, 256);
}

TEST(ChooseRangeTest, PercentileAndEntropyClipOutliers) {
  const std::vector<float> v = GaussianWithOutliers();
  const TensorStats stats = Observe(v);
  const double minmax_bulk = BulkMse(v, stats.range());
  for (CalibrationMethod m :
       {CalibrationMethod::kPercentile, CalibrationMethod::kEntropy}) {
    auto r = ChooseRange(stats, m);
    ASSERT_THAT(r, IsOk());
    EXPECT_LT(r->max, 12.0f) << CalibrationMethodName(m);
    EXPECT_GT(r->max, 2.5f) << CalibrationMethodName(m);
    EXPECT_LT(r->min, -2.5f) << CalibrationMethodName(m);
    // The bulk of the data gets a much finer grid.
    EXPECT_LT(BulkMse(v, *r), minmax_bulk / 20) << CalibrationMethodName(m);
  }
}

TEST(ChooseRangeTest, MseMinimizesTheQuantizationError) {
  // With rare far outliers, the squared error of clipping them outweighs the
  // finer grid: the MSE range must do at least as well as min/max and
  // percentile on the actual data.
  const std::vector<float> v = GaussianWithOutliers();
  const TensorStats stats = Observe(v);
  auto mse = ChooseRange(stats, CalibrationMethod::kMse);
  auto pct = ChooseRange(stats, CalibrationMethod::kPercentile);
  ASSERT_THAT(mse, IsOk());
  ASSERT_THAT(pct, IsOk());
  const double chosen = QuantizationMse(v, mse->min, mse->max, 256);
  EXPECT_LE(chosen, 1.02 * QuantizationMse(v, stats.min(), stats.max(), 256));
  EXPECT_LT(chosen, QuantizationMse(v, pct->min, pct->max, 256));
}

TEST(ChooseRangeTest, MseIsNearTheBestRangeOfADirectSearch) {
  // Laplace data: heavy tails make the clipping trade-off matter.
  std::mt19937 rng(12);
  std::exponential_distribution<float> expo(1.0f);
  std::bernoulli_distribution sign(0.5);
  std::vector<float> v(100000);
  for (float& x : v) x = sign(rng) ? expo(rng) : -expo(rng);
  const TensorStats stats = Observe(v);
  auto r = ChooseRange(stats, CalibrationMethod::kMse,
                       {.mse_num_levels = 16});  // 4 bits: clipping matters.
  ASSERT_THAT(r, IsOk());
  // Direct search on the raw data over symmetric clipping thresholds.
  double best = std::numeric_limits<double>::infinity();
  for (double t = 0.5; t <= stats.max(); t += 0.05) {
    best = std::min(best, QuantizationMse(v, -t, t, 16));
  }
  const double chosen = QuantizationMse(v, r->min, r->max, 16);
  EXPECT_LT(chosen, 1.10 * best);
  EXPECT_LT(chosen, 0.5 * QuantizationMse(v, stats.min(), stats.max(), 16));
}

TEST(ChooseRangeTest, UniformDataKeepsNearlyItsMax) {
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  std::vector<float> v(200000);
  for (float& x : v) x = uniform(rng);
  const TensorStats stats = Observe(v);
  const float true_max = stats.max();
  for (CalibrationMethod m :
       {CalibrationMethod::kPercentile, CalibrationMethod::kEntropy,
        CalibrationMethod::kMse}) {
    auto r = ChooseRange(stats, m);
    ASSERT_THAT(r, IsOk());
    EXPECT_GT(r->max, 0.97f * true_max) << CalibrationMethodName(m);
    EXPECT_LE(r->max, true_max) << CalibrationMethodName(m);
    EXPECT_GE(r->min, stats.min()) << CalibrationMethodName(m);
    EXPECT_LT(r->min, 0.01f) << CalibrationMethodName(m);
  }
}

TEST(ChooseRangeTest, ReluOutputsStartAtZero) {
  std::vector<float> v = Gaussian(50000, 14);
  for (float& x : v) x = std::max(x, 0.0f);
  const TensorStats stats = Observe(v);
  for (CalibrationMethod m :
       {CalibrationMethod::kPercentile, CalibrationMethod::kEntropy,
        CalibrationMethod::kMse}) {
    auto r = ChooseRange(stats, m);
    ASSERT_THAT(r, IsOk());
    // Half the values are exactly 0: the low end is 0 (percentile
    // interpolates inside the first bin, so it may be just above).
    EXPECT_GE(r->min, 0.0f) << CalibrationMethodName(m);
    EXPECT_LT(r->min, 1e-3f) << CalibrationMethodName(m);
    EXPECT_GT(r->max, 1.5f) << CalibrationMethodName(m);
    EXPECT_LE(r->max, stats.max()) << CalibrationMethodName(m);
  }
}

TEST(ChooseRangeTest, SymmetricMse) {
  std::vector<float> v = Gaussian(50000, 15);
  for (float& x : v) x += 0.5f;  // Off-center.
  const TensorStats stats = Observe(v);
  auto r = ChooseRange(stats, CalibrationMethod::kMse,
                       {.mse_num_levels = 255, .mse_symmetric = true});
  ASSERT_THAT(r, IsOk());
  // [-T, T] clamped to the data: the top is T, the bottom min(T, -min).
  EXPECT_GT(r->max, 3.0f);
  EXPECT_LE(r->max, stats.max());
  EXPECT_GE(r->min, stats.min());
  EXPECT_TRUE(r->min == -r->max || r->min == stats.min());
}

TEST(ChooseRangeTest, ConstantDataGivesThePoint) {
  TensorStats stats("c");
  ASSERT_THAT(stats.Update(std::vector<float>(100, 0.75f)), IsOk());
  for (CalibrationMethod m :
       {CalibrationMethod::kMinMax, CalibrationMethod::kMovingAverageMinMax,
        CalibrationMethod::kPercentile, CalibrationMethod::kEntropy,
        CalibrationMethod::kMse}) {
    auto r = ChooseRange(stats, m);
    ASSERT_THAT(r, IsOk());
    EXPECT_EQ(*r, (FloatRange{0.75f, 0.75f})) << CalibrationMethodName(m);
  }
}

TEST(ChooseRangeTest, NoDataAndBadOptions) {
  TensorStats stats("never_seen");
  EXPECT_THAT(ChooseRange(stats, CalibrationMethod::kEntropy),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("'never_seen'")));
  ASSERT_THAT(stats.Update(std::vector<float>{1.0f, 2.0f}), IsOk());
  EXPECT_THAT(
      ChooseRange(stats, CalibrationMethod::kPercentile, {.percentile = 30.0}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("30")));
  EXPECT_THAT(ChooseRange(stats, CalibrationMethod::kEntropy,
                          {.num_quantized_bins = 1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1")));
}

TEST(ChooseRangeTest, MethodNamesRoundTrip) {
  for (CalibrationMethod m :
       {CalibrationMethod::kMinMax, CalibrationMethod::kMovingAverageMinMax,
        CalibrationMethod::kPercentile, CalibrationMethod::kEntropy,
        CalibrationMethod::kMse}) {
    auto parsed = ParseCalibrationMethod(CalibrationMethodName(m));
    ASSERT_THAT(parsed, IsOk());
    EXPECT_EQ(*parsed, m);
  }
  EXPECT_THAT(ParseCalibrationMethod("kl"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'kl'")));
}

}  // namespace
}  // namespace qforge
