#include "qforge/validate/metrics.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::StatusIs;
using ::testing::DoubleNear;
using ::testing::HasSubstr;

Tensor F(std::vector<float> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return Tensor::FromVector<float>({n}, v);
}

TEST(Metrics, MatchHandComputedValues) {
  // ref = (3, 4), approx = (3, 3): signal 25, noise 1.
  absl::StatusOr<ErrorMetrics> m = CompareTensors(F({3, 4}), F({3, 3}));
  ASSERT_TRUE(m.ok());
  EXPECT_THAT(m->sqnr_db, DoubleNear(10 * std::log10(25.0), 1e-12));
  EXPECT_THAT(m->cosine, DoubleNear(21.0 / (5.0 * std::sqrt(18.0)), 1e-12));
  EXPECT_EQ(m->max_abs, 1.0);
  EXPECT_EQ(m->mean_abs, 0.5);
  EXPECT_EQ(m->num_elements, 2);
}

TEST(Metrics, IdenticalAndZeroCases) {
  EXPECT_EQ(CompareTensors(F({1, 2}), F({1, 2}))->sqnr_db,
            std::numeric_limits<double>::infinity());
  EXPECT_EQ(CompareTensors(F({0, 0}), F({0, 0}))->cosine, 1.0);
  EXPECT_EQ(CompareTensors(F({0, 0}), F({1, 0}))->sqnr_db,
            -std::numeric_limits<double>::infinity());
  EXPECT_EQ(CompareTensors(F({0, 0}), F({1, 0}))->cosine, 0.0);
}

TEST(Metrics, NanPropagates) {
  ErrorMetrics m = *CompareTensors(F({1, NAN}), F({1, 2}));
  EXPECT_TRUE(std::isnan(m.sqnr_db));
  EXPECT_TRUE(std::isnan(m.max_abs));
}

TEST(Metrics, AccumulatorEqualsOnePass) {
  ErrorAccumulator acc;
  ASSERT_TRUE(acc.Add(F({1, 2}), F({1.5f, 2})).ok());
  ASSERT_TRUE(acc.Add(F({-3}), F({-2})).ok());
  ErrorMetrics streamed = acc.Result();
  ErrorMetrics once = *CompareTensors(F({1, 2, -3}), F({1.5f, 2, -2}));
  EXPECT_EQ(streamed.sqnr_db, once.sqnr_db);
  EXPECT_EQ(streamed.cosine, once.cosine);
  EXPECT_EQ(streamed.mean_abs, once.mean_abs);
}

TEST(Metrics, SizeMismatchIsAnError) {
  EXPECT_THAT(CompareTensors(F({1, 2}), F({1})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("float32[2]")));
}

}  // namespace
}  // namespace qforge
