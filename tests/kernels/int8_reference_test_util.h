// Helpers for the INT8 reference kernel tests: seeds, random quantization
// parameters, and the tolerance check of tests/TOLERANCES.md (one int8 op vs
// the float op on its dequantized inputs: <= 1 LSB per element, mean <= 0.5
// LSB).
#ifndef QFORGE_TESTS_KERNELS_INT8_REFERENCE_TEST_UTIL_H_
#define QFORGE_TESTS_KERNELS_INT8_REFERENCE_TEST_UTIL_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/int8/reference/profile.h"
#include "kernels/int8/reference/quant_types.h"

namespace qforge::kernels::reference::testing {

// QFORGE_TEST_SEED overrides the default seed of every randomized test.
inline uint32_t TestSeed(uint32_t fallback) {
  const char* env = std::getenv("QFORGE_TEST_SEED");
  return env != nullptr ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10))
                        : fallback;
}

inline constexpr ArithmeticProfile kProfiles[] = {
    ArithmeticProfile::kOnnxRuntime, ArithmeticProfile::kTfliteReference};

// 10^u, u uniform in [lo_exp10, hi_exp10].
inline float RandomScale(std::mt19937& rng, double lo_exp10, double hi_exp10) {
  std::uniform_real_distribution<double> u(lo_exp10, hi_exp10);
  return static_cast<float>(std::pow(10.0, u(rng)));
}

// Extreme zero points (-128, 127, 0) a third of the time.
inline int32_t RandomZeroPoint(std::mt19937& rng) {
  std::uniform_int_distribution<int> pick(0, 8);
  switch (pick(rng)) {
    case 0:
      return -128;
    case 1:
      return 127;
    case 2:
      return 0;
    default:
      return std::uniform_int_distribution<int32_t>(-128, 127)(rng);
  }
}

inline std::vector<int8_t> RandomInt8(std::mt19937& rng, int64_t n) {
  std::uniform_int_distribution<int> d(-128, 127);
  std::vector<int8_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

// Output params that cover the real values with some head or tail clipped
// now and then (scale factor 0.8..1.25 of the exact range).
inline QuantParam OutputParamsFor(std::mt19937& rng,
                                  const std::vector<double>& real) {
  double lo = 0.0;
  double hi = 0.0;
  for (double v : real) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  double range = hi - lo;
  if (!(range > 0)) range = 1e-3;
  std::uniform_real_distribution<double> factor(0.8, 1.25);
  const double scale = range / 255.0 * factor(rng);
  double zp = std::nearbyint(-128.0 - lo / scale);
  zp = std::clamp(zp, -128.0, 127.0);
  return {static_cast<float>(scale), static_cast<int32_t>(zp)};
}

// Real outputs -> expected unrounded quantized values y / s + zp.
inline std::vector<double> ToQuantized(const std::vector<double>& real,
                                       const QuantParam& q) {
  std::vector<double> out(real.size());
  for (size_t i = 0; i < real.size(); ++i) {
    out[i] = real[i] / static_cast<double>(q.scale) + q.zero_point;
  }
  return out;
}

// Accumulates |got - clamp(expected)| over the cases of one test.
class ErrorTracker {
 public:
  // Checks one case: every element within max_lsb of the clamped expected
  // value. The message names the first bad element.
  ::testing::AssertionResult Check(const std::vector<int8_t>& got,
                                   const std::vector<double>& expected,
                                   int32_t lo, int32_t hi,
                                   const std::string& context,
                                   double max_lsb = 1.0) {
    if (got.size() != expected.size()) {
      return ::testing::AssertionFailure()
             << context << ": size " << got.size() << " vs " << expected.size();
    }
    for (size_t i = 0; i < got.size(); ++i) {
      const double e = std::clamp(expected[i], static_cast<double>(lo),
                                  static_cast<double>(hi));
      const double err = std::fabs(got[i] - e);
      sum_ += err;
      ++count_;
      max_ = std::max(max_, err);
      if (err > max_lsb + 1e-9) {
        return ::testing::AssertionFailure()
               << context << ": element " << i << " is " << int{got[i]}
               << ", the float op gives " << expected[i] << " (clamped " << e
               << "), error " << err << " LSB > " << max_lsb;
      }
    }
    return ::testing::AssertionSuccess();
  }

  ::testing::AssertionResult CheckMean(double mean_lsb = 0.5) const {
    if (count_ == 0) {
      return ::testing::AssertionFailure() << "no elements were checked";
    }
    const double mean = sum_ / static_cast<double>(count_);
    if (mean > mean_lsb) {
      return ::testing::AssertionFailure()
             << "mean |error| " << mean << " LSB > " << mean_lsb << " over "
             << count_ << " elements (max " << max_ << ")";
    }
    return ::testing::AssertionSuccess();
  }

  double max_error() const { return max_; }
  double mean_error() const { return count_ ? sum_ / count_ : 0.0; }
  int64_t count() const { return count_; }

 private:
  double sum_ = 0;
  double max_ = 0;
  int64_t count_ = 0;
};

inline std::string Context(ArithmeticProfile profile, uint32_t seed, int trial,
                           const std::string& extra) {
  std::ostringstream s;
  s << ProfileName(profile) << " seed=" << seed << " trial=" << trial << " "
    << extra;
  return s.str();
}

}  // namespace qforge::kernels::reference::testing

#endif  // QFORGE_TESTS_KERNELS_INT8_REFERENCE_TEST_UTIL_H_
