// reference::ReduceMean (int8 mean over any axes) against independent
// computations: the long double mean of the dequantized inputs followed by
// each profile's rounding, recomputed here from the documented formulas
// (docs/arithmetic.md), and the rank-4 NHWC spatial case against
// GlobalAveragePool.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "int8_reference_test_util.h"
#include "kernels/int8/reference/pooling.h"

namespace qforge::kernels::reference {
namespace {

using testing::RandomInt8;
using testing::RandomScale;
using testing::RandomZeroPoint;
using testing::TestSeed;

struct Case {
  std::vector<int64_t> dims;
  std::vector<int64_t> axes;
};

Case RandomCase(std::mt19937& rng) {
  Case c;
  const int rank = std::uniform_int_distribution<int>(1, 5)(rng);
  for (int d = 0; d < rank; ++d) {
    c.dims.push_back(std::uniform_int_distribution<int64_t>(1, 6)(rng));
  }
  for (int d = 0; d < rank; ++d) {
    if (std::uniform_int_distribution<int>(0, 1)(rng)) c.axes.push_back(d);
  }
  if (c.axes.empty()) c.axes.push_back(rank - 1);
  return c;
}

// Independent reduction: for each output (kept dims in order), the list of
// input flat indices it averages, in input order.
std::vector<std::vector<int64_t>> Groups(const Case& c) {
  const int rank = static_cast<int>(c.dims.size());
  std::vector<bool> reduced(rank, false);
  for (int64_t a : c.axes) reduced[a] = true;
  int64_t total = 1, outputs = 1;
  for (int d = 0; d < rank; ++d) {
    total *= c.dims[d];
    if (!reduced[d]) outputs *= c.dims[d];
  }
  std::vector<std::vector<int64_t>> groups(outputs);
  for (int64_t i = 0; i < total; ++i) {
    int64_t rest = i, out = 0, out_stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t idx = rest % c.dims[d];
      rest /= c.dims[d];
      if (!reduced[d]) {
        out += idx * out_stride;
        out_stride *= c.dims[d];
      }
    }
    groups[out].push_back(i);
  }
  return groups;
}

// TFLite's QuantizeMultiplier and MultiplyByQuantizedMultiplier recomputed
// with 128-bit integers: the doubling high multiply rounds half up (its
// nudge), the power-of-two division rounds half away from zero.
void QuantizeMultiplierForTest(double x, int64_t* m, int* e) {
  const double q = std::frexp(x, e);
  *m = std::llround(q * 2147483648.0);
  if (*m == (int64_t{1} << 31)) {
    *m /= 2;
    ++*e;
  }
}

int64_t RoundHalfUp(__int128 num, __int128 den) {
  __int128 t = num + den / 2;
  __int128 q = t / den;
  if (t % den != 0 && t < 0) --q;  // floor division
  return static_cast<int64_t>(q);
}

int64_t RoundHalfAway(__int128 num, __int128 den) {
  const __int128 half = den / 2;
  return static_cast<int64_t>(num >= 0 ? (num + half) / den
                                       : -((-num + half) / den));
}

int32_t TfliteMean(int64_t shifted_sum, int64_t n, const QuantParam& in,
                   const QuantParam& out) {
  int64_t m;
  int e;
  QuantizeMultiplierForTest(
      static_cast<double>(in.scale) / static_cast<double>(out.scale), &m, &e);
  int k = 0;
  while ((int64_t{2} << k) <= n) ++k;  // floor(log2 n)
  k = std::min({k, 32, 31 + e});
  const int64_t m2 = (m << k) / n;
  const int e2 = e - k;
  const int left = e2 > 0 ? e2 : 0, right = e2 > 0 ? 0 : -e2;
  const __int128 x = static_cast<__int128>(shifted_sum) << left;
  int64_t high = RoundHalfUp(x * m2, __int128{1} << 31);
  high = std::clamp<int64_t>(high, INT32_MIN, INT32_MAX);
  const int64_t y = RoundHalfAway(high, __int128{1} << right) + out.zero_point;
  return static_cast<int32_t>(std::clamp<int64_t>(y, -128, 127));
}

TEST(ReduceMeanTest, MatchesIndependentMeanInBothProfiles) {
  const uint32_t seed = TestSeed(2611);
  std::mt19937 rng(seed);
  int tflite_exact = 0, ort_exact = 0, ort_ties = 0, trials = 0;
  int64_t values = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const Case c = RandomCase(rng);
    ReduceMeanParams p;
    p.dims = c.dims;
    p.axes = c.axes;
    p.input = {RandomScale(rng, -3, 0), RandomZeroPoint(rng)};
    p.output =
        trial % 4 == 0
            ? p.input
            : QuantParam{p.input.scale * std::uniform_real_distribution<float>(
                                             0.3f, 3.0f)(rng),
                         RandomZeroPoint(rng)};
    const auto groups = Groups(c);
    int64_t total = 1;
    for (int64_t d : c.dims) total *= d;
    const std::vector<int8_t> x = RandomInt8(rng, total);
    for (ArithmeticProfile profile : testing::kProfiles) {
      std::vector<int8_t> got(groups.size());
      const absl::Status status = ReduceMean(profile, p, x.data(), got.data());
      ASSERT_TRUE(status.ok()) << status;
      for (size_t j = 0; j < groups.size(); ++j) {
        const int64_t n = static_cast<int64_t>(groups[j].size());
        long double real = 0;
        int64_t raw = 0;
        for (int64_t i : groups[j]) {
          real += static_cast<long double>(p.input.scale) *
                  (x[i] - p.input.zero_point);
          raw += x[i];
        }
        real /= n;
        const long double scaled = real / p.output.scale;
        // Whatever the profile, within 1 LSB of the exact mean.
        const long double want = std::clamp<long double>(
            std::nearbyint(scaled) + p.output.zero_point, -128, 127);
        ASSERT_LE(std::fabs(got[j] - want), 1.0L)
            << ProfileName(profile) << " trial " << trial << " seed " << seed;
        if (profile == ArithmeticProfile::kTfliteReference) {
          ASSERT_EQ(got[j], TfliteMean(raw - p.input.zero_point * n, n, p.input,
                                       p.output))
              << "trial " << trial << " output " << j << " seed " << seed;
          ++tflite_exact;
        } else {
          // ORT: rne(mean / sy) + zy of the binary32 mean; equals the long
          // double result except where the scaled mean is a near tie.
          const long double frac = scaled - std::floor(scaled);
          if (std::fabs(frac - 0.5L) < 2e-3L) {
            ++ort_ties;
          } else {
            ASSERT_EQ(got[j], want) << "trial " << trial << " seed " << seed;
            ++ort_exact;
          }
        }
        ++values;
      }
    }
    ++trials;
  }
  EXPECT_GT(tflite_exact, 1000);
  EXPECT_GT(ort_exact, 1000);
  std::cout << "ReduceMean: " << trials << " cases, " << tflite_exact
            << " tflite values exact, " << ort_exact
            << " onnxruntime values exact, " << ort_ties << " near ties\n";
}

TEST(ReduceMeanTest, OrtFollowsBinary32StepByStep) {
  // Mean over axis 0 of [3, 2]: s = sum of float(q - zx) * sx in order.
  ReduceMeanParams p;
  p.dims = {3, 2};
  p.axes = {0};
  p.input = {0.1f, 3};
  p.output = {0.07f, -2};
  const std::vector<int8_t> x = {10, -20, 55, 7, -128, 127};
  std::vector<int8_t> got(2);
  ASSERT_TRUE(
      ReduceMean(ArithmeticProfile::kOnnxRuntime, p, x.data(), got.data())
          .ok());
  for (int c = 0; c < 2; ++c) {
    float s = 0.0f;
    for (int r = 0; r < 3; ++r) {
      s += static_cast<float>(x[r * 2 + c] - 3) * 0.1f;
    }
    const float a = s / 3.0f;
    const float q = std::nearbyint(a / 0.07f) - 2.0f;
    EXPECT_EQ(got[c], static_cast<int8_t>(std::clamp(q, -128.0f, 127.0f)));
  }
}

TEST(ReduceMeanTest, NhwcSpatialMeanEqualsGlobalAveragePoolForTflite) {
  const uint32_t seed = TestSeed(2612);
  std::mt19937 rng(seed);
  for (int trial = 0; trial < 30; ++trial) {
    GlobalPoolParams g;
    g.batch = std::uniform_int_distribution<int64_t>(1, 2)(rng);
    g.height = std::uniform_int_distribution<int64_t>(1, 9)(rng);
    g.width = std::uniform_int_distribution<int64_t>(1, 9)(rng);
    g.channels = std::uniform_int_distribution<int64_t>(1, 8)(rng);
    g.input = {RandomScale(rng, -3, 0), RandomZeroPoint(rng)};
    g.output = {RandomScale(rng, -3, 0), RandomZeroPoint(rng)};
    const auto x = RandomInt8(rng, g.batch * g.height * g.width * g.channels);
    std::vector<int8_t> want(g.batch * g.channels), got(want.size());
    ASSERT_TRUE(GlobalAveragePool(ArithmeticProfile::kTfliteReference, g,
                                  x.data(), want.data())
                    .ok());
    ReduceMeanParams p;
    p.dims = {g.batch, g.height, g.width, g.channels};
    p.axes = {1, 2};
    p.input = g.input;
    p.output = g.output;
    ASSERT_TRUE(
        ReduceMean(ArithmeticProfile::kTfliteReference, p, x.data(), got.data())
            .ok());
    EXPECT_EQ(got, want) << "trial " << trial << " seed " << seed;
  }
}

TEST(ReduceMeanTest, RejectsBadAxesAndEmptyExtents) {
  ReduceMeanParams p;
  p.dims = {2, 3};
  p.input = p.output = {0.1f, 0};
  std::vector<int8_t> x(6), y(6);
  for (auto axes : std::vector<std::vector<int64_t>>{{2}, {-1}, {1, 1}}) {
    p.axes = axes;
    EXPECT_EQ(ReduceMean(ArithmeticProfile::kOnnxRuntime, p, x.data(), y.data())
                  .code(),
              absl::StatusCode::kInvalidArgument);
  }
  p.dims = {2, 0};
  p.axes = {1};
  EXPECT_EQ(
      ReduceMean(ArithmeticProfile::kTfliteReference, p, x.data(), y.data())
          .code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace qforge::kernels::reference
