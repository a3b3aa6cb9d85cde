#include "qforge/quantize/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/core/tensor.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Samples of different sizes and scales; the third one is empty.
std::vector<std::vector<float>> MakeSamples(int count, uint32_t seed,
                                            float base_scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> size(0, 200);
  std::uniform_real_distribution<float> scale(0.1f, 4.0f);
  std::vector<std::vector<float>> samples(count);
  for (int s = 0; s < count; ++s) {
    if (s == 2) continue;
    std::normal_distribution<float> normal(0.5f, base_scale * scale(rng));
    samples[s].resize(size(rng) + 1);
    for (float& x : samples[s]) x = normal(rng);
  }
  return samples;
}

Tensor AsTensor(const std::vector<float>& v) {
  return Tensor::FromVector<float>({static_cast<int64_t>(v.size())}, v);
}

TEST(TensorStatsTest, MinMaxAndCountsAreExact) {
  const auto samples = MakeSamples(50, 1);
  TensorStats stats("act");
  float lo = std::numeric_limits<float>::infinity();
  float hi = -lo;
  int64_t elements = 0;
  for (const auto& s : samples) {
    ASSERT_THAT(stats.Update(AsTensor(s)), IsOk());
    for (float x : s) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    elements += static_cast<int64_t>(s.size());
  }
  EXPECT_EQ(stats.num_samples(), 50);
  EXPECT_EQ(stats.num_samples_with_data(), 49);
  EXPECT_EQ(stats.num_elements(), elements);
  EXPECT_EQ(stats.min(), lo);
  EXPECT_EQ(stats.max(), hi);
  EXPECT_EQ(stats.histogram().total(), static_cast<uint64_t>(elements));
}

TEST(TensorStatsTest, MovingAverageFollowsTheRecurrence) {
  const auto samples = MakeSamples(30, 2);
  auto stats = TensorStats::Create("act", {.averaging_constant = 0.25});
  ASSERT_THAT(stats, IsOk());
  double ma_min = 0.0;
  double ma_max = 0.0;
  bool first = true;
  for (const auto& s : samples) {
    ASSERT_THAT(stats->Update(s), IsOk());
    if (s.empty()) continue;
    const double mn = *std::min_element(s.begin(), s.end());
    const double mx = *std::max_element(s.begin(), s.end());
    if (first) {
      ma_min = mn;
      ma_max = mx;
      first = false;
    } else {
      ma_min = ma_min + 0.25 * (mn - ma_min);
      ma_max = ma_max + 0.25 * (mx - ma_max);
    }
  }
  EXPECT_DOUBLE_EQ(stats->moving_average_min(), ma_min);
  EXPECT_DOUBLE_EQ(stats->moving_average_max(), ma_max);
  // Order dependence, as documented: the reversed order gives other values.
  auto reversed = TensorStats::Create("act", {.averaging_constant = 0.25});
  for (auto it = samples.rbegin(); it != samples.rend(); ++it) {
    ASSERT_THAT(reversed->Update(*it), IsOk());
  }
  EXPECT_NE(reversed->moving_average_max(), stats->moving_average_max());
  EXPECT_EQ(reversed->histogram(), stats->histogram());
}

TEST(TensorStatsTest, NaNIsAnErrorNamingTensorAndElement) {
  TensorStats stats("conv3_out");
  ASSERT_THAT(stats.Update(AsTensor({1.0f, 2.0f})), IsOk());
  const TensorStats before = stats;
  std::vector<float> v(2 * 3 * 4, 0.5f);
  v[17] = std::numeric_limits<float>::quiet_NaN();
  const Tensor t = Tensor::FromVector<float>({2, 3, 4}, v);
  EXPECT_THAT(stats.Update(t),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'conv3_out'"), HasSubstr("NaN"),
                             HasSubstr("element 17"), HasSubstr("[1, 1, 1]"),
                             HasSubstr("sample 2"))));
  EXPECT_EQ(stats, before);  // Unchanged.

  v[17] = 0.0f;
  v[3] = -std::numeric_limits<float>::infinity();
  EXPECT_THAT(stats.Update(Tensor::FromVector<float>({2, 3, 4}, v)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("-Inf"), HasSubstr("element 3"))));
  EXPECT_THAT(stats.Update(std::vector<float>{
                  1.0f, std::numeric_limits<float>::infinity()}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'conv3_out'"), HasSubstr("+Inf"),
                             HasSubstr("element 1"))));
  EXPECT_EQ(stats, before);
}

TEST(TensorStatsTest, RejectsNonFloatTensors) {
  TensorStats stats("ids");
  EXPECT_THAT(stats.Update(Tensor(DataType::kInt32, {4})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'ids'"), HasSubstr("int32"))));
  EXPECT_EQ(stats.num_samples(), 0);
}

TEST(TensorStatsTest, MemoryDoesNotGrowWithSamples) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(256);
  TensorStats a("layer1/conv/output");
  TensorStats b("layer1/conv/output");
  for (int i = 0; i < 10000; ++i) {
    for (float& x : v)
      x = normal(rng) * (1.0f + i);  // The range keeps growing.
    if (i < 10) ASSERT_THAT(a.Update(v), IsOk());
    ASSERT_THAT(b.Update(v), IsOk());
  }
  EXPECT_EQ(a.MemoryBytes(), b.MemoryBytes());
  EXPECT_GT(a.MemoryBytes(), sizeof(TensorStats));
  EXPECT_LT(b.MemoryBytes(), 40u * 1024u);  // 32 KiB of bins + ~1 KiB.
  EXPECT_LE(b.checkpoints().size(),
            static_cast<size_t>(TensorStats::kMaxCheckpoints));
}

TEST(TensorStatsTest, CheckpointsRecordTheRunningRange) {
  const auto samples = MakeSamples(1000, 4);
  TensorStats stats("x");
  std::vector<FloatRange> running;  // Range after each sample.
  float lo = std::numeric_limits<float>::infinity();
  float hi = -lo;
  for (const auto& s : samples) {
    ASSERT_THAT(stats.Update(s), IsOk());
    for (float x : s) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    running.push_back({lo, hi});
  }
  auto cps = stats.checkpoints();
  ASSERT_GE(cps.size(), 32u);
  ASSERT_LE(cps.size(), 64u);
  int64_t previous = 0;
  for (const auto& cp : cps) {
    EXPECT_GT(cp.sample, previous);
    EXPECT_LE(cp.sample, 1000);
    EXPECT_EQ(cp.min, running[cp.sample - 1].min) << cp.sample;
    EXPECT_EQ(cp.max, running[cp.sample - 1].max) << cp.sample;
    // Spread over all samples: no gap larger than 1000 / 32.
    EXPECT_LE(cp.sample - previous, 1000 / 32 + 1);
    previous = cp.sample;
  }
  EXPECT_GE(previous, 1000 - 1000 / 32);
}

TEST(TensorStatsTest, MergeIsExactForCountsRangeAndHistogram) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    // Shards of very different magnitudes.
    auto samples = MakeSamples(40, 100 + trial, trial % 2 ? 1e-3f : 1.0f);
    auto extra = MakeSamples(20, 200 + trial, 1e4f);
    samples.insert(samples.begin() + (rng() % samples.size()), extra.begin(),
                   extra.end());
    TensorStats one_pass("t");
    for (const auto& s : samples) ASSERT_THAT(one_pass.Update(s), IsOk());

    std::uniform_int_distribution<size_t> cut(0, samples.size());
    size_t c1 = cut(rng);
    size_t c2 = cut(rng);
    if (c1 > c2) std::swap(c1, c2);
    TensorStats a("t");
    TensorStats b("t");
    TensorStats c("t");
    for (size_t i = 0; i < samples.size(); ++i) {
      TensorStats& target = i < c1 ? a : (i < c2 ? b : c);
      ASSERT_THAT(target.Update(samples[i]), IsOk());
    }
    // Merge in an order other than the data order: c, then a, then b.
    ASSERT_THAT(c.Merge(a), IsOk());
    ASSERT_THAT(c.Merge(b), IsOk());
    EXPECT_EQ(c.num_samples(), one_pass.num_samples());
    EXPECT_EQ(c.num_samples_with_data(), one_pass.num_samples_with_data());
    EXPECT_EQ(c.num_elements(), one_pass.num_elements());
    EXPECT_EQ(c.min(), one_pass.min());
    EXPECT_EQ(c.max(), one_pass.max());
    ASSERT_EQ(c.histogram(), one_pass.histogram()) << "trial " << trial;
    for (CalibrationMethod m :
         {CalibrationMethod::kMinMax, CalibrationMethod::kPercentile,
          CalibrationMethod::kEntropy, CalibrationMethod::kMse}) {
      auto merged_range = ChooseRange(c, m);
      auto one_range = ChooseRange(one_pass, m);
      ASSERT_THAT(merged_range, IsOk());
      ASSERT_THAT(one_range, IsOk());
      EXPECT_EQ(*merged_range, *one_range)
          << CalibrationMethodName(m) << " trial " << trial;
    }
    EXPECT_LE(c.checkpoints().size(),
              static_cast<size_t>(TensorStats::kMaxCheckpoints));
  }
}

TEST(TensorStatsTest, MergedMovingAverageIsWeightedByCount) {
  TensorStats a("t");
  TensorStats b("t");
  ASSERT_THAT(a.Update(std::vector<float>{-1.0f, 1.0f}), IsOk());
  for (int i = 0; i < 3; ++i) {
    ASSERT_THAT(b.Update(std::vector<float>{-5.0f, 3.0f}), IsOk());
  }
  ASSERT_THAT(b.Update(std::vector<float>{}), IsOk());  // No data: no weight.
  ASSERT_THAT(a.Merge(b), IsOk());
  EXPECT_DOUBLE_EQ(a.moving_average_min(), (1 * -1.0 + 3 * -5.0) / 4);
  EXPECT_DOUBLE_EQ(a.moving_average_max(), (1 * 1.0 + 3 * 3.0) / 4);
  EXPECT_EQ(a.num_samples(), 5);
}

TEST(TensorStatsTest, MergeRejectsDifferentOptions) {
  auto a = TensorStats::Create("t", {.num_bins = 1024});
  TensorStats b("t");
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b.Update(std::vector<float>{1.0f}), IsOk());
  const TensorStats before = *a;
  EXPECT_THAT(a->Merge(b),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("4096"), HasSubstr("1024"))));
  EXPECT_EQ(*a, before);
  EXPECT_THAT(TensorStats::Create("t", {.num_bins = 100}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("100")));
  EXPECT_THAT(TensorStats::Create("t", {.averaging_constant = 0.0}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("averaging constant")));
}

TEST(CalibrationStatsTest, UpdateFindAndMerge) {
  CalibrationStats shard0;
  CalibrationStats shard1;
  CalibrationStats all;
  const auto xs = MakeSamples(20, 6);
  const auto ys = MakeSamples(20, 7, 3.0f);
  for (int i = 0; i < 20; ++i) {
    CalibrationStats& shard = i < 7 ? shard0 : shard1;
    ASSERT_THAT(shard.Update("x", AsTensor(xs[i])), IsOk());
    ASSERT_THAT(all.Update("x", AsTensor(xs[i])), IsOk());
    if (i >= 5) {  // y only appears in some samples.
      ASSERT_THAT(shard.Update("y", AsTensor(ys[i])), IsOk());
      ASSERT_THAT(all.Update("y", AsTensor(ys[i])), IsOk());
    }
  }
  ASSERT_NE(shard0.Find("y"), nullptr);
  EXPECT_EQ(shard0.Find("z"), nullptr);
  ASSERT_THAT(shard1.Merge(shard0), IsOk());
  ASSERT_EQ(shard1.size(), 2u);
  for (absl::string_view name : {"x", "y"}) {
    const TensorStats* m = shard1.Find(name);
    const TensorStats* o = all.Find(name);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->histogram(), o->histogram());
    EXPECT_EQ(m->range(), o->range());
    EXPECT_EQ(m->num_samples(), o->num_samples());
  }
  // A tensor only in the other stats is copied.
  CalibrationStats empty;
  ASSERT_THAT(empty.Merge(all), IsOk());
  EXPECT_EQ(empty, all);

  auto other = CalibrationStats::Create({.num_bins = 256});
  ASSERT_THAT(other, IsOk());
  EXPECT_THAT(all.Merge(*other),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("256")));
}

TEST(CalibrationStatsTest, FailedFirstUpdateAddsNoTensor) {
  CalibrationStats stats;
  EXPECT_THAT(stats.Update("bad", AsTensor({std::nanf("")})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'bad'")));
  EXPECT_TRUE(stats.empty());
}

}  // namespace
}  // namespace qforge
