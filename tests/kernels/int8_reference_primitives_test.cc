// Tests of the arithmetic primitives behind the INT8 reference kernels:
// each is compared with hand-computed values, TFLite's published test
// vectors, and an independent exact (128-bit integer / long double /
// double) computation over random and edge inputs.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/int8/reference/fixed_point.h"
#include "kernels/int8/reference/float_rounding.h"
#include "kernels/int8/reference/quantize.h"
#include "kernels/int8/reference/requantize.h"

namespace qforge::kernels::reference {
namespace {

using int128 = __int128;
constexpr int32_t kMin32 = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax32 = std::numeric_limits<int32_t>::max();

// floor(n / d) for d > 0.
int128 FloorDiv(int128 n, int128 d) {
  int128 q = n / d;
  if ((n % d != 0) && (n < 0)) --q;
  return q;
}

// The integer nearest to a*b/2^31, ties toward +infinity (the documented
// SaturatingRoundingDoublingHighMul rule), computed exactly.
int32_t ExactSrdhm(int32_t a, int32_t b) {
  if (a == kMin32 && b == kMin32) return kMax32;
  const int128 ab = static_cast<int128>(a) * b;
  return static_cast<int32_t>(
      FloorDiv(2 * ab + (int128{1} << 31), int128{1} << 32));
}

// x / 2^e rounded to nearest, ties away from zero, computed exactly.
int64_t ExactRoundingDivide(int64_t x, int e) {
  if (e == 0) return x;
  const int64_t magnitude = x < 0 ? -x : x;
  const int64_t rounded =
      (magnitude + (int64_t{1} << (e - 1))) >> e;  // floor(|x|/2^e + 1/2)
  return x < 0 ? -rounded : rounded;
}

std::vector<int32_t> EdgeInt32() {
  return {kMin32,
          kMin32 + 1,
          -(1 << 30) - 1,
          -(1 << 30),
          -(1 << 30) + 1,
          -65536,
          -32769,
          -32768,
          -3,
          -2,
          -1,
          0,
          1,
          2,
          3,
          32767,
          32768,
          65536,
          (1 << 30) - 1,
          1 << 30,
          (1 << 30) + 1,
          kMax32 - 1,
          kMax32};
}

TEST(FixedPointTest, SrdhmHandValues) {
  // 0.5 * 1 (Q0.31): 2^30 * 1 / 2^31 = 0.5 -> ties toward +inf -> 1.
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(1 << 30, 1), 1);
  // -0.5 -> 0 (toward +inf, not away from zero).
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(1 << 30, -1), 0);
  // -1.5 -> -1.
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(1 << 30, -3), -1);
  // 1.5 -> 2.
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(1 << 30, 3), 2);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMin32, kMin32), kMax32);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMax32, kMax32), kMax32 - 1);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(kMin32, kMax32), -kMax32);
}

TEST(FixedPointTest, SrdhmMatchesExactOnEdgesAndRandom) {
  const std::vector<int32_t> edges = EdgeInt32();
  for (int32_t a : edges) {
    for (int32_t b : edges) {
      ASSERT_EQ(SaturatingRoundingDoublingHighMul(a, b), ExactSrdhm(a, b))
          << "a=" << a << " b=" << b;
    }
  }
  const uint32_t seed = 1234;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> any(kMin32, kMax32);
  for (int i = 0; i < 300000; ++i) {
    const int32_t a = any(rng);
    const int32_t b =
        i % 3 == 0 ? (1 << 30) + (any(rng) & 0x3fffffff) : any(rng);
    ASSERT_EQ(SaturatingRoundingDoublingHighMul(a, b), ExactSrdhm(a, b))
        << "seed=" << seed << " a=" << a << " b=" << b;
  }
}

TEST(FixedPointTest, Srdhm16MatchesExact) {
  for (int b : {-32768, -32767, -16384, -1, 0, 1, 3, 12345, 16384, 32767}) {
    for (int a = -32768; a <= 32767; ++a) {
      int expected;
      if (a == -32768 && b == -32768) {
        expected = 32767;
      } else {
        expected = static_cast<int>(
            FloorDiv(int128{2} * a * b + (1 << 15), int128{1} << 16));
      }
      ASSERT_EQ(SaturatingRoundingDoublingHighMul16(a, b), expected)
          << "a=" << a << " b=" << b;
      // The truncating variant: a*b/2^15 toward zero.
      const int truncated =
          (a == -32768 && b == -32768) ? 32767 : (a * b) / (1 << 15);
      ASSERT_EQ(SaturatingDoublingHighMul16(a, b), truncated)
          << "a=" << a << " b=" << b;
    }
  }
}

TEST(FixedPointTest, RoundingDivideByPotHandValues) {
  EXPECT_EQ(RoundingDivideByPOT(1, 1), 1);    // 0.5 -> 1 (away from zero)
  EXPECT_EQ(RoundingDivideByPOT(-1, 1), -1);  // -0.5 -> -1
  EXPECT_EQ(RoundingDivideByPOT(3, 1), 2);    // 1.5 -> 2
  EXPECT_EQ(RoundingDivideByPOT(-3, 1), -2);  // -1.5 -> -2
  EXPECT_EQ(RoundingDivideByPOT(5, 2), 1);    // 1.25 -> 1
  EXPECT_EQ(RoundingDivideByPOT(6, 2), 2);    // 1.5 -> 2
  EXPECT_EQ(RoundingDivideByPOT(-6, 2), -2);
  EXPECT_EQ(RoundingDivideByPOT(kMin32, 31), -1);
  EXPECT_EQ(RoundingDivideByPOT(kMax32, 31), 1);
  EXPECT_EQ(RoundingDivideByPOT(kMin32, 0), kMin32);
}

TEST(FixedPointTest, RoundingDivideByPotMatchesExactForAllShifts) {
  const uint32_t seed = 99;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> any(kMin32, kMax32);
  for (int e = 0; e <= 31; ++e) {
    std::vector<int32_t> xs = EdgeInt32();
    for (int i = 0; i < 20000; ++i) xs.push_back(any(rng));
    // Exact ties at this exponent: odd multiples of 2^(e-1).
    if (e > 0) {
      for (int64_t k = -7; k <= 7; k += 2) {
        const int64_t tie = k * (int64_t{1} << (e - 1));
        if (tie >= kMin32 && tie <= kMax32)
          xs.push_back(static_cast<int32_t>(tie));
      }
    }
    for (int32_t x : xs) {
      ASSERT_EQ(RoundingDivideByPOT(x, e), ExactRoundingDivide(x, e))
          << "seed=" << seed << " x=" << x << " exponent=" << e;
    }
  }
}

TEST(FixedPointTest, RoundingDivideByPot16MatchesExact) {
  for (int e = 0; e <= 15; ++e) {
    for (int x = -32768; x <= 32767; ++x) {
      ASSERT_EQ(RoundingDivideByPOT16(static_cast<int16_t>(x), e),
                ExactRoundingDivide(x, e))
          << "x=" << x << " exponent=" << e;
    }
  }
}

TEST(FixedPointTest, SaturatingRoundingMultiplyByPot) {
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT(3, 2), 12);
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT(1 << 29, 2), kMax32);
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT((1 << 29) - 1, 2),
            ((1 << 29) - 1) * 4);
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT(-(1 << 29), 2), kMin32);
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT(5, -1), 3);
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT(-5, -1), -3);
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT(1, 31), kMax32);
  EXPECT_EQ(SaturatingRoundingMultiplyByPOT(0, 31), 0);
}

// TFLite's own test vectors
// (tflite/kernels/internal/quantization_util_test.cc).
TEST(FixedPointTest, QuantizeMultiplierTfliteGoldens) {
  auto q = [](double d) {
    auto m = QuantizeMultiplierSmallerThanOneExp(d);
    EXPECT_TRUE(m.ok()) << d;
    return m.ok() ? *m : QuantizedMultiplier{};
  };
  EXPECT_EQ(q(0.25), (QuantizedMultiplier{1073741824, -1}));
  EXPECT_EQ(q(0.50 - 5e-9), (QuantizedMultiplier{2147483627, -1}));
  EXPECT_EQ(q(0.50 - 1e-10), (QuantizedMultiplier{1073741824, 0}));
  EXPECT_EQ(q(0.50), (QuantizedMultiplier{1073741824, 0}));
  EXPECT_EQ(q(0.75), (QuantizedMultiplier{1610612736, 0}));
  EXPECT_EQ(q(1 - 1e-9), (QuantizedMultiplier{2147483646, 0}));
  EXPECT_FALSE(QuantizeMultiplierSmallerThanOneExp(1 - 1e-15).ok());
  EXPECT_FALSE(QuantizeMultiplierSmallerThanOneExp(1.0).ok());
  EXPECT_FALSE(QuantizeMultiplierSmallerThanOneExp(-0.1).ok());

  auto g = [](double d) {
    auto m = QuantizeMultiplierGreaterThanOne(d);
    EXPECT_TRUE(m.ok()) << d;
    return m.ok() ? *m : QuantizedMultiplier{};
  };
  EXPECT_EQ(g(1 + 1e-11), (QuantizedMultiplier{1073741824, 1}));
  EXPECT_EQ(g(1.25), (QuantizedMultiplier{1342177280, 1}));
  EXPECT_EQ(g(1.50), (QuantizedMultiplier{1610612736, 1}));
  EXPECT_EQ(g(1.75), (QuantizedMultiplier{1879048192, 1}));
  EXPECT_EQ(g(2 - 1e-9), (QuantizedMultiplier{2147483647, 1}));
  EXPECT_EQ(g(2 - 1e-11), (QuantizedMultiplier{1073741824, 2}));
  EXPECT_EQ(g(2), (QuantizedMultiplier{1073741824, 2}));

  EXPECT_EQ(QuantizeMultiplier(std::ldexp(1.0f, -31)),
            (QuantizedMultiplier{1073741824, -30}));
  EXPECT_EQ(QuantizeMultiplier(std::ldexp(1.0f, -32)),
            (QuantizedMultiplier{1073741824, -31}));
  EXPECT_EQ(QuantizeMultiplier(std::ldexp(0.99f, -32)),
            (QuantizedMultiplier{0, 0}));
  EXPECT_EQ(QuantizeMultiplier(std::ldexp(1.0f, -33)),
            (QuantizedMultiplier{0, 0}));
  EXPECT_EQ(QuantizeMultiplier(0.0), (QuantizedMultiplier{0, 0}));
  EXPECT_FALSE(QuantizeMultiplierChecked(0.0).ok());
  EXPECT_FALSE(QuantizeMultiplierChecked(std::nan("")).ok());
}

TEST(FixedPointTest, QuantizeMultiplierIsNearestQ31Significand) {
  const uint32_t seed = 7;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> log2_dist(-30.0, 20.0);
  for (int i = 0; i < 100000; ++i) {
    const double real = std::exp2(log2_dist(rng));
    const QuantizedMultiplier m = QuantizeMultiplier(real);
    ASSERT_GE(m.multiplier, 1 << 30) << "seed=" << seed << " real=" << real;
    const long double represented =
        std::ldexp(static_cast<long double>(m.multiplier), m.shift - 31);
    const long double half_ulp = std::ldexp(1.0L, m.shift - 32);
    ASSERT_LE(std::fabs(represented - real), half_ulp * 1.000001L)
        << "seed=" << seed << " real=" << real;
  }
}

// Exact model of the double-rounding MultiplyByQuantizedMultiplier, written
// from its definition with 128-bit integers.
int32_t ExactMbqm(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  const int64_t shifted = static_cast<int64_t>(x)
                          << left;  // caller keeps it in range
  const int32_t high = ExactSrdhm(static_cast<int32_t>(shifted), multiplier);
  return static_cast<int32_t>(ExactRoundingDivide(high, right));
}

TEST(FixedPointTest, MultiplyByQuantizedMultiplierHandValues) {
  // real multiplier 0.5 = {2^30, 0}: 0.5 -> 1 (the first rounding ties up).
  EXPECT_EQ(MultiplyByQuantizedMultiplier(1, 1 << 30, 0), 1);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-1, 1 << 30, 0), 0);
  // real 0.25 = {2^30, -1}: 3 * 0.25 = 0.75: SRDHM(3, 2^30) = round(1.5) = 2,
  // then 2 / 2 = 1.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(3, 1 << 30, -1), 1);
  // -2 * 0.25 = -0.5: SRDHM = -1 exactly, then -1/2 ties away -> -1.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-2, 1 << 30, -1), -1);
  // Double rounding: 5 * 0.375 = 1.875 -> 2 either way; -5 * 0.375 = -1.875.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(5, 1610612736, -1), 2);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-5, 1610612736, -1), -2);
  // Where double rounding differs from one rounding: 5 * 0.25 = 1.25, but
  // SRDHM(5, 2^30) = 2.5 -> 3 (tie up), then 3 / 2 = 1.5 -> 2 (away).
  EXPECT_EQ(MultiplyByQuantizedMultiplier(5, 1 << 30, -1), 2);
  // Positive shift: 3 * 1.5 = 4.5 -> {1610612736, 1}: SRDHM(6, m) = 4.5 -> 5.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(3, 1610612736, 1), 5);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(-3, 1610612736, 1), -4);
}

TEST(FixedPointTest, MultiplyByQuantizedMultiplierMatchesExactModel) {
  const uint32_t seed = 2024;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> any(kMin32, kMax32);
  std::uniform_int_distribution<int32_t> significand(1 << 30, kMax32);
  for (int shift = -31; shift <= 7; ++shift) {
    std::vector<int32_t> xs = EdgeInt32();
    for (int i = 0; i < 5000; ++i) xs.push_back(any(rng));
    for (int32_t x : xs) {
      // Keep x * 2^left inside int32 (TFLite's precondition).
      if (shift > 0) {
        const int64_t shifted = static_cast<int64_t>(x) << shift;
        if (shifted < kMin32 || shifted > kMax32) continue;
      }
      const int32_t m = significand(rng);
      const int32_t got = MultiplyByQuantizedMultiplier(x, m, shift);
      ASSERT_EQ(got, ExactMbqm(x, m, shift))
          << "seed=" << seed << " x=" << x << " m=" << m << " shift=" << shift;
      // Two roundings: within 1 of the exact real product.
      const long double exact =
          std::ldexp(static_cast<long double>(x) * m, shift - 31);
      ASSERT_LE(std::fabs(static_cast<long double>(got) - exact), 1.0L)
          << "seed=" << seed << " x=" << x << " m=" << m << " shift=" << shift;
    }
  }
}

TEST(FixedPointTest, ExpOnNegativeValuesIsCloseToExp) {
  EXPECT_EQ(ExpOnNegativeValues(0, 5), kMax32);
  double max_error = 0;
  for (int32_t a = 0; a >= -(31 << 26); a -= 9973) {
    const double got = ExpOnNegativeValues(a, 5) / 2147483648.0;
    const double expected = std::exp(a / static_cast<double>(1 << 26));
    max_error = std::max(max_error, std::fabs(got - expected));
  }
  // gemmlowp's polynomial + barrel shifter is accurate to a few 2^-31 ulps.
  EXPECT_LT(max_error, 5e-7);  // Taylor remainder (1/8)^5/120 dominates
}

TEST(FixedPointTest, OneOverOnePlusXIsClose) {
  double max_error = 0;
  for (int64_t a = 0; a < (int64_t{1} << 31); a += 7919 * 13) {
    const double got =
        OneOverOnePlusXForXIn01(static_cast<int32_t>(a)) / 2147483648.0;
    const double expected = 1.0 / (1.0 + a / 2147483648.0);
    max_error = std::max(max_error, std::fabs(got - expected));
  }
  EXPECT_LT(max_error, 1e-8);
  int bits = 0;
  // 1/x for x = 3.0 in Q12.19: 1/3 = r * 2^-k.
  const int32_t r = GetReciprocal(3 << 19, 12, &bits);
  EXPECT_NEAR(std::ldexp(r / 2147483648.0, -bits), 1.0 / 3.0, 1e-8);
}

TEST(FixedPointTest, SmallTfliteHelpers) {
  EXPECT_EQ(DownScaleInt32ToInt16Multiplier(1 << 30), 16384);
  EXPECT_EQ(DownScaleInt32ToInt16Multiplier((1 << 30) + (1 << 15)), 16385);
  EXPECT_EQ(DownScaleInt32ToInt16Multiplier((1 << 30) + (1 << 15) - 1), 16384);
  EXPECT_EQ(DownScaleInt32ToInt16Multiplier(kMax32), 32767);
  // floor(31 * 2^26 / 2^20) = 31 * 64.
  EXPECT_EQ(CalculateInputRadius(5, 20), 31 * 64);
  EXPECT_EQ(CalculateInputRadius(5, 31), 0);
}

TEST(FloatRoundingTest, HalfToEvenAndAway) {
  for (float x : {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.49999997f,
                  1e7f + 0.5f, 3.4e38f, -0.0f, 7.5f, 8388607.5f}) {
    EXPECT_EQ(RoundHalfToEven(x), std::nearbyint(x)) << x;
  }
  EXPECT_EQ(RoundHalfToEven(2.5f), 2.0f);
  EXPECT_EQ(RoundHalfToEven(-2.5f), -2.0f);
  EXPECT_EQ(RoundHalfToEven(3.5f), 4.0f);
  EXPECT_EQ(RoundHalfAwayFromZero(2.5f), 3.0f);
  EXPECT_EQ(RoundHalfAwayFromZero(-2.5f), -3.0f);
  EXPECT_TRUE(std::isnan(RoundHalfToEven(std::nanf(""))));
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-300.0f, 300.0f);
  for (int i = 0; i < 100000; ++i) {
    float x = dist(rng);
    if (i % 2 == 0) x = std::floor(x) + 0.5f;  // exact ties
    ASSERT_EQ(RoundHalfToEven(x), std::nearbyint(x)) << x;
  }
}

TEST(FloatRoundingTest, X86ConversionIndefiniteValue) {
  EXPECT_EQ(ConvertToInt32RoundHalfEvenX86(2147483648.0f), kMin32);
  EXPECT_EQ(ConvertToInt32RoundHalfEvenX86(-2147483648.0f), kMin32);
  EXPECT_EQ(ConvertToInt32RoundHalfEvenX86(std::nanf("")), kMin32);
  EXPECT_EQ(ConvertToInt32RoundHalfEvenX86(2147483520.0f), 2147483520);
  EXPECT_EQ(ConvertToInt32RoundHalfEvenX86(-126.5f), -126);
  EXPECT_EQ(ConvertToInt32RoundHalfAwaySaturate(3e9f), kMax32);
  EXPECT_EQ(ConvertToInt32RoundHalfAwaySaturate(-126.5f), -127);
}

// Independent model of MlasQuantizeLinear: the binary32 quotient is the
// double quotient rounded to float (exact: double has > 2*24+2 bits).
int32_t ModelQuantizeOrt(float x, float s, int32_t zp) {
  const float v = static_cast<float>(static_cast<double>(x) / s);
  const double r = std::nearbyint(static_cast<double>(v)) + zp;
  return static_cast<int32_t>(std::clamp(r, -128.0, 127.0));
}

int32_t ModelQuantizeTflite(float x, float s, int32_t zp) {
  const float v = static_cast<float>(static_cast<double>(x) / s);
  const double r = std::round(static_cast<double>(v)) + zp;
  return static_cast<int32_t>(std::clamp(r, -128.0, 127.0));
}

TEST(QuantizeValueTest, TiesPerProfile) {
  // 2.5 * s: ONNX Runtime rounds half to even (2), TFLite away from zero (3).
  EXPECT_EQ(QuantizeValueOrt(1.25f, 0.5f, 0, -128, 127), 2);
  EXPECT_EQ(QuantizeValueTflite(1.25f, 0.5f, 0, -128, 127), 3);
  EXPECT_EQ(QuantizeValueOrt(-1.25f, 0.5f, 0, -128, 127), -2);
  EXPECT_EQ(QuantizeValueTflite(-1.25f, 0.5f, 0, -128, 127), -3);
  // Saturation and the zero point.
  EXPECT_EQ(QuantizeValueOrt(1000.0f, 0.5f, 10, -128, 127), 127);
  EXPECT_EQ(QuantizeValueOrt(-1000.0f, 0.5f, 10, -128, 127), -128);
  EXPECT_EQ(QuantizeValueOrt(1000.0f, 0.5f, 10, 0, 255), 255);
  EXPECT_EQ(QuantizeValueTflite(1.0f, 0.5f, -128, -128, 127), -126);
  // NaN -> the lower bound in both profiles (x86 behaviour).
  EXPECT_EQ(QuantizeValueOrt(std::nanf(""), 0.5f, 3, -128, 127), -128);
  EXPECT_EQ(QuantizeValueTflite(std::nanf(""), 0.5f, 3, -128, 127), -128);
  EXPECT_EQ(QuantizeValueOrt(std::numeric_limits<float>::infinity(), 0.5f, 3,
                             -128, 127),
            127);
}

TEST(QuantizeValueTest, MatchesIndependentModel) {
  const uint32_t seed = 31;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-200.0f, 200.0f);
  std::uniform_real_distribution<float> log_scale(-7.0f, 1.0f);
  std::uniform_int_distribution<int32_t> zp_dist(-128, 127);
  for (int i = 0; i < 200000; ++i) {
    const float s = std::pow(10.0f, log_scale(rng));
    const int32_t zp = zp_dist(rng);
    float x = dist(rng) * s;
    if (i % 3 == 0) x = (std::floor(dist(rng)) + 0.5f) * s;  // near ties
    ASSERT_EQ(QuantizeValueOrt(x, s, zp, -128, 127), ModelQuantizeOrt(x, s, zp))
        << "seed=" << seed << " x=" << x << " s=" << s << " zp=" << zp;
    ASSERT_EQ(QuantizeValueTflite(x, s, zp, -128, 127),
              ModelQuantizeTflite(x, s, zp))
        << "seed=" << seed << " x=" << x << " s=" << s << " zp=" << zp;
  }
}

TEST(QuantizeValueTest, DequantizeIsOneRoundingOfTheExactProduct) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> log_scale(-9.0f, 2.0f);
  for (int i = 0; i < 10000; ++i) {
    const float s = std::pow(10.0f, log_scale(rng));
    for (int zp : {-128, -5, 0, 77, 127}) {
      for (int q = -128; q <= 127; q += 17) {
        const float expected = static_cast<float>(static_cast<double>(s) *
                                                  static_cast<double>(q - zp));
        ASSERT_EQ(DequantizeValue(q, s, zp), expected);
      }
    }
  }
}

// Independent model of MlasRequantizeOutput for one value.
int32_t ModelRequantizeOrt(int32_t acc, float scale, int32_t zp) {
  const float f =
      static_cast<float>(acc);  // RNE conversion (exactness checked below)
  const float product = static_cast<float>(static_cast<double>(f) * scale);
  const double r = std::nearbyint(static_cast<double>(product)) + zp;
  return static_cast<int32_t>(std::clamp(r, -128.0, 127.0));
}

TEST(RequantizeTest, OrtHandValues) {
  // 5 * 0.5 = 2.5 -> 2 (half to even); 7 * 0.5 = 3.5 -> 4.
  EXPECT_EQ(RequantizeOrt(5, 0.5f, 0), 2);
  EXPECT_EQ(RequantizeOrt(7, 0.5f, 0), 4);
  EXPECT_EQ(RequantizeOrt(-5, 0.5f, 0), -2);
  EXPECT_EQ(RequantizeOrt(5, 0.5f, 100), 102);
  EXPECT_EQ(RequantizeOrt(1000, 0.5f, 100), 127);
  // int32 -> float is inexact above 2^24 (float spacing 2 there) and rounds
  // before scaling: 2^24 + 2^17 + 1 (64.5 + 2^-18 in reals, above the tie)
  // becomes 2^24 + 2^17 (even significand), exactly the tie 64.5 -> 64;
  // 2^24 + 2^17 + 3 becomes 2^24 + 2^17 + 4 -> 64.5 + 2^-16 -> 65.
  const float s = std::ldexp(1.0f, -18);
  EXPECT_EQ(RequantizeOrt((1 << 24) + (1 << 17) + 1, s, -100), -100 + 64);
  EXPECT_EQ(RequantizeOrt((1 << 24) + (1 << 17) + 3, s, -100), -100 + 65);
}

TEST(RequantizeTest, OrtMatchesIndependentModel) {
  const uint32_t seed = 11;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> acc_dist(-(1 << 27), 1 << 27);
  std::uniform_real_distribution<float> log_scale(-9.0f, -1.0f);
  std::uniform_int_distribution<int32_t> zp_dist(-128, 127);
  for (int i = 0; i < 200000; ++i) {
    const int32_t acc = acc_dist(rng);
    const float scale = std::pow(10.0f, log_scale(rng));
    const int32_t zp = zp_dist(rng);
    ASSERT_EQ(RequantizeOrt(acc, scale, zp), ModelRequantizeOrt(acc, scale, zp))
        << "seed=" << seed << " acc=" << acc << " scale=" << scale
        << " zp=" << zp;
  }
}

TEST(RequantizeTest, TfliteIsMultiplyByQuantizedMultiplierPlusZeroPoint) {
  const QuantizedMultiplier m = QuantizeMultiplier(0.0123);
  for (int32_t acc : {-100000, -1234, -1, 0, 1, 999, 5000, 100000}) {
    const int32_t expected =
        std::clamp(MultiplyByQuantizedMultiplier(acc, m) + 17, -128, 127);
    EXPECT_EQ(RequantizeTflite(acc, m, 17), expected) << acc;
  }
  // Hand value: 250 * 0.0123 = 3.075 -> 3; + 17 = 20.
  EXPECT_EQ(RequantizeTflite(250, m, 17), 20);
}

TEST(RequantizeTest, ForLinearUsesEachProfilesMultiplier) {
  const std::vector<float> w = {0.01f, 0.02f};
  auto ort = Requantizer::ForLinear(ArithmeticProfile::kOnnxRuntime, 0.5f, w,
                                    0.1f, -3, {});
  ASSERT_TRUE(ort.ok());
  EXPECT_EQ(ort->ort_scales()[0], (0.5f * 0.01f) / 0.1f);
  EXPECT_EQ(ort->ort_scales()[1], (0.5f * 0.02f) / 0.1f);
  auto tfl = Requantizer::ForLinear(ArithmeticProfile::kTfliteReference, 0.5f,
                                    w, 0.1f, -3, {});
  ASSERT_TRUE(tfl.ok());
  EXPECT_EQ(tfl->tflite_multipliers()[1],
            QuantizeMultiplier(0.5 * static_cast<double>(0.02f) / 0.1f));
  // 400 * 0.05 = 20 -> 17; 401 * 0.1 = 40.1 -> 37 (channel 1).
  EXPECT_EQ(ort->Apply(400, 0), 17);
  EXPECT_EQ(tfl->Apply(401, 1), 37);
  // Activation clamp after requantization.
  auto relu = Requantizer::ForLinear(ArithmeticProfile::kOnnxRuntime, 0.5f, w,
                                     0.1f, -3, {-3, 127});
  ASSERT_TRUE(relu.ok());
  EXPECT_EQ(relu->Apply(-400, 0), -3);
  EXPECT_FALSE(Requantizer::ForLinear(ArithmeticProfile::kTfliteReference, 0.5f,
                                      {-1.0f}, 0.1f, 0, {})
                   .ok());
}

}  // namespace
}  // namespace qforge::kernels::reference
