#include "qforge/quantize/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::StatusIs;
using ::testing::HasSubstr;

// Reference: the smallest power of two R >= 2^-126 with -R <= x < R for all
// x, found by doubling (not by the library's exponent search).
int ReferenceExponent(const std::vector<float>& values) {
  int e = Histogram::kMinExponent;
  for (float x : values) {
    while (!(-std::ldexp(1.0, e) <= x && x < std::ldexp(1.0, e))) ++e;
  }
  return e;
}

// Reference counts by comparing each value with the bin edges (binary
// search over (i - half) * w), not by scaling and flooring.
std::vector<uint64_t> ReferenceCounts(const std::vector<float>& values,
                                      int num_bins, int exponent) {
  const double w = std::ldexp(2.0, exponent) / num_bins;
  std::vector<double> edges(num_bins + 1);
  for (int i = 0; i <= num_bins; ++i) edges[i] = (i - num_bins / 2) * w;
  std::vector<uint64_t> counts(num_bins, 0);
  for (float x : values) {
    // Last edge <= x.
    auto it =
        std::upper_bound(edges.begin(), edges.end(), static_cast<double>(x));
    const int bin = static_cast<int>(it - edges.begin()) - 1;
    counts.at(bin) += 1;
  }
  return counts;
}

std::vector<float> RandomValues(std::mt19937& rng, int n, float scale) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

TEST(HistogramTest, EmptyHistogramStartsAtMinimumRange) {
  Histogram h;
  EXPECT_EQ(h.num_bins(), Histogram::kDefaultNumBins);
  EXPECT_EQ(h.exponent(), Histogram::kMinExponent);
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.total(), 0u);
}

TEST(HistogramTest, BinsMatchEdgeComparison) {
  std::mt19937 rng(1);
  std::vector<float> values = RandomValues(rng, 5000, 3.0f);
  values.push_back(0.0f);
  values.push_back(-0.0f);
  values.push_back(-1e-30f);  // Just below zero: the bin [-w, 0).
  values.push_back(1e-30f);
  Histogram h;
  h.Add(values);
  const int e = ReferenceExponent(values);
  EXPECT_EQ(h.exponent(), e);
  EXPECT_EQ(h.total(), values.size());
  const std::vector<uint64_t> expected =
      ReferenceCounts(values, h.num_bins(), e);
  EXPECT_TRUE(
      std::equal(h.counts().begin(), h.counts().end(), expected.begin()));
}

TEST(HistogramTest, PowerOfTwoValueGrowsRangeAndNegativeEdgeDoesNot) {
  Histogram h;
  h.Add(std::vector<float>{-4.0f});
  EXPECT_EQ(h.exponent(), 2);  // -4 lies in [-4, 4).
  EXPECT_EQ(h.counts()[0], 1u);
  h.Add(std::vector<float>{4.0f});
  EXPECT_EQ(h.exponent(), 3);  // 4 does not lie in [-4, 4).
  EXPECT_EQ(h.counts()[h.BinOf(4.0f)], 1u);
  EXPECT_EQ(h.BinOf(4.0f), h.num_bins() * 3 / 4);
  EXPECT_EQ(h.counts()[h.num_bins() / 4], 1u);  // -4 folded to bin of -8/2.
}

TEST(HistogramTest, ExtremeFloats) {
  const float big = std::numeric_limits<float>::max();
  const float tiny = std::numeric_limits<float>::denorm_min();
  std::vector<float> values = {big, -big, tiny, -tiny, 0.0f};
  Histogram h;
  h.Add(values);
  EXPECT_EQ(h.exponent(), 128);
  const std::vector<uint64_t> expected =
      ReferenceCounts(values, h.num_bins(), 128);
  EXPECT_TRUE(
      std::equal(h.counts().begin(), h.counts().end(), expected.begin()));

  Histogram small;
  small.Add(std::vector<float>{tiny, -tiny});
  EXPECT_EQ(small.exponent(), Histogram::kMinExponent);
  EXPECT_EQ(small.counts()[small.num_bins() / 2], 1u);
  EXPECT_EQ(small.counts()[small.num_bins() / 2 - 1], 1u);
}

TEST(HistogramTest, NonFiniteValuesAreSkipped) {
  Histogram h;
  h.Add(std::vector<float>{1.0f, std::numeric_limits<float>::quiet_NaN(),
                           std::numeric_limits<float>::infinity(), -2.0f});
  EXPECT_EQ(h.total(), 2u);
  EXPECT_EQ(h.exponent(), 1);
}

TEST(HistogramTest, GrowThenAddEqualsAddThenGrow) {
  std::mt19937 rng(2);
  const std::vector<float> values = RandomValues(rng, 1000, 0.5f);
  Histogram a;
  a.Add(values);
  a.GrowTo(a.exponent() + 5);
  Histogram b;
  b.GrowTo(b.exponent());  // No-op.
  b.GrowTo(ReferenceExponent(values) + 5);
  b.Add(values);
  EXPECT_EQ(a, b);
  // A jump larger than the bin count collapses everything around zero.
  a.GrowTo(Histogram::kMaxExponent);
  const std::vector<uint64_t> expected =
      ReferenceCounts(values, a.num_bins(), 128);
  EXPECT_TRUE(
      std::equal(a.counts().begin(), a.counts().end(), expected.begin()));
}

// Splits `values` at random points into shards, builds one histogram per
// shard and merges them in a random tree order.
Histogram ShardAndMerge(const std::vector<float>& values, int num_bins,
                        std::mt19937& rng) {
  std::uniform_int_distribution<int> shards_dist(1, 12);
  const int shards = shards_dist(rng);
  std::vector<size_t> cuts = {0, values.size()};
  std::uniform_int_distribution<size_t> cut_dist(0, values.size());
  for (int i = 1; i < shards; ++i) cuts.push_back(cut_dist(rng));
  std::sort(cuts.begin(), cuts.end());
  std::vector<Histogram> parts;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    auto h = Histogram::Create(num_bins);
    EXPECT_TRUE(h.ok());
    // Each shard adds its values in a few chunks of random sizes.
    size_t pos = cuts[i];
    while (pos < cuts[i + 1]) {
      std::uniform_int_distribution<size_t> len(1, cuts[i + 1] - pos);
      const size_t n = len(rng);
      h->Add(absl::MakeConstSpan(values.data() + pos, n));
      pos += n;
    }
    parts.push_back(*std::move(h));
  }
  while (parts.size() > 1) {
    std::uniform_int_distribution<size_t> pick(0, parts.size() - 1);
    const size_t i = pick(rng);
    size_t j = pick(rng);
    if (i == j) j = (j + 1) % parts.size();
    EXPECT_THAT(parts[i].Merge(parts[j]), ::qforge::testing::IsOk());
    parts.erase(parts.begin() + j);
  }
  return parts[0];
}

TEST(HistogramTest, MergeOfShardsEqualsOnePassBitForBit) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 60; ++trial) {
    // Segments of very different magnitudes, so that shards grow their
    // range differently (some stay tiny, some jump by many octaves).
    std::vector<float> values;
    std::uniform_int_distribution<int> segs(1, 6);
    std::uniform_real_distribution<float> log_scale(-30.0f, 30.0f);
    const int num_segments = segs(rng);
    for (int s = 0; s < num_segments; ++s) {
      const float scale = std::exp2(log_scale(rng));
      const std::vector<float> seg = RandomValues(rng, 1 + rng() % 700, scale);
      values.insert(values.end(), seg.begin(), seg.end());
    }
    if (trial % 5 == 0) values.push_back(0.0f);
    if (trial % 7 == 0) values.push_back(std::ldexp(1.0f, 20));  // Exact power.
    const int num_bins = trial % 3 == 0 ? 64 : Histogram::kDefaultNumBins;

    auto one_pass = Histogram::Create(num_bins);
    ASSERT_TRUE(one_pass.ok());
    one_pass->Add(values);
    const Histogram merged = ShardAndMerge(values, num_bins, rng);
    ASSERT_EQ(merged, *one_pass) << "trial " << trial;
    // And both equal the edge-comparison reference.
    const std::vector<uint64_t> expected =
        ReferenceCounts(values, num_bins, ReferenceExponent(values));
    ASSERT_TRUE(std::equal(merged.counts().begin(), merged.counts().end(),
                           expected.begin()))
        << "trial " << trial;
  }
}

TEST(HistogramTest, MergeWithEmptyAndSelf) {
  std::mt19937 rng(4);
  const std::vector<float> values = RandomValues(rng, 300, 10.0f);
  Histogram h;
  h.Add(values);
  Histogram copy = h;
  ASSERT_THAT(h.Merge(Histogram()), ::qforge::testing::IsOk());
  EXPECT_EQ(h, copy);
  ASSERT_THAT(h.Merge(h), ::qforge::testing::IsOk());
  std::vector<float> doubled = values;
  doubled.insert(doubled.end(), values.begin(), values.end());
  Histogram expected;
  expected.Add(doubled);
  EXPECT_EQ(h, expected);
}

TEST(HistogramTest, BinCountValidation) {
  EXPECT_THAT(Histogram::Create(1000),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1000")));
  EXPECT_THAT(Histogram::Create(8),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("8")));
  EXPECT_THAT(Histogram::Create(16), ::qforge::testing::IsOk());
  Histogram a;
  auto b = Histogram::Create(1024);
  ASSERT_TRUE(b.ok());
  EXPECT_THAT(a.Merge(*b),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1024")));
}

TEST(HistogramTest, FromPartsChecksItsInput) {
  EXPECT_THAT(Histogram::FromParts(64, 0, std::vector<uint64_t>(63)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("63")));
  EXPECT_THAT(Histogram::FromParts(64, 200, std::vector<uint64_t>(64)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("200")));
  std::vector<uint64_t> counts(64, 0);
  counts[3] = 7;
  auto h = Histogram::FromParts(64, 1, counts);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->total(), 7u);
  EXPECT_DOUBLE_EQ(h->bin_lower_edge(3), (3 - 32) * (4.0 / 64));
}

}  // namespace
}  // namespace qforge
