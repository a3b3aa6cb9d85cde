// The int8 tables of Erf and Gelu: every one of the 256 inputs, for several
// input/output quantization params and both arithmetic profiles, maps within
// 1 LSB of the exact value computed in long double (erfl / tanhl), clamped to
// the int8 range.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "erf/erf_plugin.h"
#include "gtest/gtest.h"

namespace qforge::plugins::erf {
namespace {

using kernels::reference::Int8Lut;
using kernels::reference::QuantParam;

struct Case {
  QuantParam in;
  QuantParam out;
};

long double ExactErf(long double x) { return std::erf(x); }

long double ExactGelu(long double x) {
  return 0.5L * x * (1.0L + std::erf(x / std::sqrt(2.0L)));
}

long double ExactGeluTanh(long double x) {
  const long double k =
      std::sqrt(2.0L / 3.14159265358979323846264338327950288L);
  return 0.5L * x * (1.0L + std::tanh(k * (x + 0.044715L * x * x * x)));
}

// Worst |lut[q] - clamp(f(x(q)) / sy + zy)| over the 256 inputs, in LSB.
double WorstError(const Int8Lut& lut, const Case& c,
                  long double (*exact)(long double), std::string* where) {
  double worst = 0.0;
  for (int q = -128; q <= 127; ++q) {
    const long double x =
        static_cast<long double>(c.in.scale) * (q - c.in.zero_point);
    long double y =
        exact(x) / static_cast<long double>(c.out.scale) + c.out.zero_point;
    if (y < -128.0L) y = -128.0L;
    if (y > 127.0L) y = 127.0L;
    const double err = static_cast<double>(
        std::fabs(static_cast<long double>(lut[static_cast<uint8_t>(q)]) - y));
    if (err > worst) {
      worst = err;
      *where = absl::StrCat("q=", q, " x=", static_cast<double>(x),
                            " table=", lut[static_cast<uint8_t>(q)],
                            " exact=", static_cast<double>(y));
    }
  }
  return worst;
}

constexpr ArithmeticProfile kProfiles[] = {ArithmeticProfile::kOnnxRuntime,
                                           ArithmeticProfile::kTfliteReference};

std::string Describe(ArithmeticProfile p, const Case& c) {
  return absl::StrCat(ArithmeticProfileName(p), " in=(", c.in.scale, ", ",
                      c.in.zero_point, ") out=(", c.out.scale, ", ",
                      c.out.zero_point, ")");
}

TEST(ErfLutTest, EveryInt8InputWithinOneLsbOfLongDouble) {
  const std::vector<Case> cases = {
      {{4.0f / 128.0f, 0}, {1.0f / 128.0f, 0}},  // The quantizer's output.
      {{3.0f / 255.0f, -10}, {1.0f / 128.0f, 0}},
      {{0.01f, 27}, {2.0f / 255.0f, 0}},
      {{0.05f, -128}, {1.0f / 255.0f, -128}},  // x >= 0 only.
      {{0.002f, 100}, {0.003f, -7}},           // Saturates at both ends.
      {{0.25f, 3}, {1.0f / 127.0f, 0}},
  };
  for (ArithmeticProfile p : kProfiles) {
    for (const Case& c : cases) {
      absl::StatusOr<Int8Lut> lut = BuildErfLut(p, c.in, c.out);
      ASSERT_TRUE(lut.ok()) << lut.status();
      std::string where;
      EXPECT_LE(WorstError(*lut, c, ExactErf, &where), 1.0)
          << Describe(p, c) << ": " << where;
    }
  }
}

TEST(ErfLutTest, GeluEveryInt8InputWithinOneLsbOfLongDouble) {
  const std::vector<Case> cases = {
      {{8.0f / 255.0f, 0}, {4.2f / 255.0f, -118}},
      {{0.02f, -20}, {0.012f, -110}},
      {{0.1f, 0}, {0.05f, -125}},  // Saturates above.
      {{0.004f, 5}, {0.002f, -30}},
      {{6.0f / 255.0f, 40}, {3.0f / 255.0f, -100}},
  };
  for (ArithmeticProfile p : kProfiles) {
    for (const Case& c : cases) {
      for (bool tanh : {false, true}) {
        absl::StatusOr<Int8Lut> lut = BuildGeluLut(p, c.in, c.out, tanh);
        ASSERT_TRUE(lut.ok()) << lut.status();
        std::string where;
        EXPECT_LE(WorstError(*lut, c, tanh ? ExactGeluTanh : ExactGelu, &where),
                  1.0)
            << Describe(p, c) << (tanh ? " tanh" : " none") << ": " << where;
      }
    }
  }
}

TEST(ErfLutTest, ExactValuesOnTheGrid) {
  // erf(0) = 0; erf is odd, so the table is too except where +1 saturates
  // to 127 (the fixed output covers [-1, 127/128]); x = 127/32 ~ 3.97 gives
  // erf(x) ~ 1.
  const Case c{{4.0f / 128.0f, 0}, {1.0f / 128.0f, 0}};
  for (ArithmeticProfile p : kProfiles) {
    absl::StatusOr<Int8Lut> lut = BuildErfLut(p, c.in, c.out);
    ASSERT_TRUE(lut.ok());
    EXPECT_EQ((*lut)[0], 0);
    EXPECT_EQ((*lut)[static_cast<uint8_t>(int8_t{127})], 127);
    for (int q = 1; q <= 127; ++q) {
      if ((*lut)[static_cast<uint8_t>(q)] == 127) continue;
      EXPECT_EQ((*lut)[static_cast<uint8_t>(q)],
                -(*lut)[static_cast<uint8_t>(-q)])
          << ArithmeticProfileName(p) << " q=" << q;
    }
  }
}

TEST(ErfLutTest, BadParamsAreErrors) {
  EXPECT_FALSE(BuildErfLut(ArithmeticProfile::kOnnxRuntime, {0.0f, 0},
                           {1.0f / 128.0f, 0})
                   .ok());
  EXPECT_FALSE(BuildGeluLut(ArithmeticProfile::kTfliteReference, {0.1f, 0},
                            {0.1f, 300}, false)
                   .ok());
}

}  // namespace
}  // namespace qforge::plugins::erf
