#include "qforge/quantize/calibration_diagnostics.h"

#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/core/tensor.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Kind = CalibrationWarning::Kind;

// Every sample holds -1 and 1 (and noise in between) until `grow_from`, after
// which it also holds `late_max`.
void Feed(CalibrationStats& stats, const std::string& name, int samples,
          int grow_from, float late_max) {
  std::mt19937 rng(41);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int s = 1; s <= samples; ++s) {
    std::vector<float> v(16);
    for (float& x : v) x = u(rng);
    v[0] = -1.0f;
    v[1] = 1.0f;
    if (s >= grow_from) v[2] = late_max;
    ASSERT_THAT(stats.Update(name, Tensor::FromVector<float>({16}, v)), IsOk());
  }
}

TEST(CalibrationDiagnosticsTest, TooFewSamples) {
  CalibrationStats stats;
  Feed(stats, "a", 12, 1000, 0.0f);
  Feed(stats, "b", 12, 1000, 0.0f);
  const auto warnings = CalibrationDiagnostics().Check(stats);
  ASSERT_THAT(warnings, ElementsAre(Field(&CalibrationWarning::kind,
                                          Kind::kTooFewSamples)));
  EXPECT_EQ(warnings[0].message,
            "calibrated on 12 samples; at least 100 are recommended");
  EXPECT_EQ(warnings[0].tensor, "");
}

TEST(CalibrationDiagnosticsTest, StableRangesGiveNoWarning) {
  CalibrationStats stats;
  Feed(stats, "stable", 500, 1000, 0.0f);
  EXPECT_THAT(CalibrationDiagnostics().Check(stats), IsEmpty());
}

TEST(CalibrationDiagnosticsTest, RangeGrowingAtTheEnd) {
  CalibrationStats stats;
  // Range [-1, 1] until sample 951, then [-1, 1.3]: width 2 -> 2.3, +15%.
  Feed(stats, "conv3_out", 1000, 951, 1.3f);
  const TensorStats* t = stats.Find("conv3_out");
  ASSERT_NE(t, nullptr);
  // The window actually used: from the last checkpoint at or before sample
  // 900 to the end.
  int64_t from = 0;
  for (const auto& cp : t->checkpoints()) {
    if (cp.sample <= 900) from = cp.sample;
  }
  ASSERT_GT(from, 800);
  const std::string window = std::to_string(
      static_cast<int>(std::lround(100.0 * (1000 - from) / 1000)));
  const auto warnings = CalibrationDiagnostics().Check(stats);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].kind, Kind::kRangeStillMoving);
  EXPECT_EQ(warnings[0].tensor, "conv3_out");
  EXPECT_THAT(warnings[0].message,
              AllOf(HasSubstr("range of tensor 'conv3_out' grew by 15%"),
                    HasSubstr("in the last " + window + "% of samples"),
                    HasSubstr("[-1, 1] after sample " + std::to_string(from)),
                    HasSubstr("[-1, 1.3] after sample 1000")));
}

TEST(CalibrationDiagnosticsTest, GrowthBeforeTheWindowIsFine) {
  CalibrationStats stats;
  Feed(stats, "early", 1000, 500, 1.3f);
  EXPECT_THAT(CalibrationDiagnostics().Check(stats), IsEmpty());
  // A looser window catches it.
  CalibrationDiagnosticsOptions opts;
  opts.recent_fraction = 0.6;
  EXPECT_THAT(
      CalibrationDiagnostics(opts).Check(stats),
      ElementsAre(Field(&CalibrationWarning::kind, Kind::kRangeStillMoving)));
}

TEST(CalibrationDiagnosticsTest, TensorsWithoutDataOrWithFewerSamples) {
  CalibrationStats stats;
  Feed(stats, "main", 200, 1000, 0.0f);
  Feed(stats, "rare", 30, 1000, 0.0f);
  for (int i = 0; i < 200; ++i) {
    ASSERT_THAT(stats.Update("empty", Tensor(DataType::kFloat32, {0, 4})),
                IsOk());
  }
  const auto warnings = CalibrationDiagnostics().Check(stats);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0].kind, Kind::kNoData);
  EXPECT_THAT(warnings[0].message,
              AllOf(HasSubstr("'empty'"), HasSubstr("200 samples")));
  EXPECT_EQ(warnings[1].kind, Kind::kTooFewSamples);
  EXPECT_THAT(warnings[1].message,
              HasSubstr("'rare' was observed in only 30 of 200 samples"));
  EXPECT_THAT(CalibrationDiagnostics::Format(warnings),
              AllOf(HasSubstr("'rare'"), HasSubstr("\n")));
  EXPECT_THAT(CalibrationDiagnostics().Check(CalibrationStats()),
              ElementsAre(Field(&CalibrationWarning::kind, Kind::kNoData)));
}

TEST(CalibrationDiagnosticsTest, SingleTensorCheck) {
  TensorStats t("x");
  ASSERT_THAT(t.Update(std::vector<float>{1.0f}), IsOk());
  const auto warnings = CalibrationDiagnostics().Check(t);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].message,
            "tensor 'x' calibrated on 1 sample; at least 100 are recommended");
}

}  // namespace
}  // namespace qforge
