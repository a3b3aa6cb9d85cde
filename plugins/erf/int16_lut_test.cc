// The int16 interpolated tables: every one of the 65536 inputs against the
// exact value in long double, within the error budget of int16_lut.h.
#include "erf/int16_lut.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace qforge::plugins::erf {
namespace {

long double ExactErf(long double x) { return std::erf(x); }
long double ExactGelu(long double x) {
  return 0.5L * x * (1.0L + std::erf(x / std::sqrt(2.0L)));
}
long double ExactGeluTanh(long double x) {
  const long double k =
      std::sqrt(2.0L / 3.14159265358979323846264338327950288L);
  return 0.5L * x * (1.0L + std::tanh(k * (x + 0.044715L * x * x * x)));
}

struct Case {
  Int16QuantParam in;
  Int16QuantParam out;
};

// Worst error in output LSB against clamp(f(x(q)) / sy + zy).
double WorstError(const Int16Lut& lut, const Case& c,
                  long double (*exact)(long double), std::string* where) {
  std::vector<int16_t> in(65536), out(65536);
  for (int i = 0; i < 65536; ++i) in[i] = static_cast<int16_t>(i - 32768);
  EXPECT_TRUE(ApplyInt16Lut(lut, in.data(), 65536, out.data()).ok());
  double worst = 0.0;
  for (int i = 0; i < 65536; ++i) {
    const long double x =
        static_cast<long double>(c.in.scale) * (in[i] - c.in.zero_point);
    long double y =
        exact(x) / static_cast<long double>(c.out.scale) + c.out.zero_point;
    y = std::fmin(std::fmax(y, -32768.0L), 32767.0L);
    const double err = static_cast<double>(std::fabs(out[i] - y));
    if (err > worst) {
      worst = err;
      *where = absl::StrCat("q=", in[i], " got ", out[i], " exact ",
                            static_cast<double>(y));
    }
  }
  return worst;
}

// Interpolation residual bound |f''| (128 sx)^2 / (16 sy), plus 1 LSB of
// rounding (table and interpolation).
double Budget(const Case& c, double max_second_derivative) {
  const double h = 128.0 * c.in.scale;
  return 1.0 + max_second_derivative * h * h / (16.0 * c.out.scale) + 1e-6;
}

TEST(Int16LutTest, ErfEveryInputWithinBudget) {
  // |erf''(x)| = 4/sqrt(pi) |x| exp(-x^2) <= 0.968.
  const std::vector<Case> cases = {
      {{4.0f / 32768.0f, 0}, {1.0f / 32768.0f, 0}},
      {{3.0f / 32768.0f, 0}, {1.0f / 32767.0f, 0}},
      {{8.0f / 32768.0f, 100}, {1.1f / 32768.0f, -50}},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Int16Lut> lut = BuildErfInt16Lut(c.in, c.out);
    ASSERT_TRUE(lut.ok()) << lut.status();
    std::string where;
    const double budget = Budget(c, 0.968);
    EXPECT_LE(WorstError(*lut, c, ExactErf, &where), budget)
        << "in scale " << c.in.scale << ": " << where;
  }
}

TEST(Int16LutTest, GeluEveryInputWithinBudget) {
  // |gelu''(x)| = phi(x) |2 - x^2| <= 2 phi(0) = 0.798 (erf form); the tanh
  // form has the same maximum (2 sqrt(2/pi) / 2 at x = 0).
  const std::vector<Case> cases = {
      {{8.0f / 32768.0f, 0}, {8.0f / 32768.0f, 0}},
      {{6.0f / 32768.0f, 0}, {3.2f / 32768.0f, -25000}},
  };
  for (const Case& c : cases) {
    for (bool tanh : {false, true}) {
      absl::StatusOr<Int16Lut> lut = BuildGeluInt16Lut(c.in, c.out, tanh);
      ASSERT_TRUE(lut.ok()) << lut.status();
      std::string where;
      EXPECT_LE(WorstError(*lut, c, tanh ? ExactGeluTanh : ExactGelu, &where),
                Budget(c, 0.8))
          << "in scale " << c.in.scale << (tanh ? " tanh" : " none") << ": "
          << where;
    }
  }
}

TEST(Int16LutTest, KnotsAreExactAtSegmentStarts) {
  // At offset 0 the lookup returns the knot itself: erf(0) = 0 at q = 0.
  absl::StatusOr<Int16Lut> lut =
      BuildErfInt16Lut({4.0f / 32768.0f, 0}, {1.0f / 32768.0f, 0});
  ASSERT_TRUE(lut.ok());
  EXPECT_EQ(LookUpInt16(*lut, 0), 0);
  EXPECT_EQ(LookUpInt16(*lut, 0), (*lut)[256]);
  // erf(-4) = -0.99999998: -32768 after rounding.
  EXPECT_EQ(LookUpInt16(*lut, -32768), -32768);
}

TEST(Int16LutTest, BadParamsAndBuffersAreErrors) {
  EXPECT_FALSE(BuildErfInt16Lut({-1.0f, 0}, {1.0f, 0}).ok());
  EXPECT_FALSE(BuildErfInt16Lut({1.0f, 0}, {1.0f, 40000}).ok());
  EXPECT_FALSE(BuildErfInt16Lut({NAN, 0}, {1.0f, 0}).ok());
  Int16Lut lut{};
  EXPECT_FALSE(ApplyInt16Lut(lut, nullptr, 4, nullptr).ok());
  EXPECT_FALSE(ApplyInt16Lut(lut, nullptr, -1, nullptr).ok());
  EXPECT_TRUE(ApplyInt16Lut(lut, nullptr, 0, nullptr).ok());
}

}  // namespace
}  // namespace qforge::plugins::erf
