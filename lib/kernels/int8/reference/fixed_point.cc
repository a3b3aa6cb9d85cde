#include "kernels/int8/reference/fixed_point.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace qforge::kernels::reference {

QuantizedMultiplier QuantizeMultiplier(double real_multiplier) {
  if (real_multiplier == 0.0) return {0, 0};
  int shift = 0;
  const double q = std::frexp(real_multiplier, &shift);
  // TfLiteRound is std::round: half away from zero.
  int64_t q_fixed =
      static_cast<int64_t>(std::round(q * static_cast<double>(1LL << 31)));
  if (q_fixed == (1LL << 31)) {
    q_fixed /= 2;
    ++shift;
  }
  if (shift < -31) {
    shift = 0;
    q_fixed = 0;
  }
  return {static_cast<int32_t>(q_fixed), shift};
}

absl::StatusOr<QuantizedMultiplier> QuantizeMultiplierChecked(
    double real_multiplier) {
  if (!(real_multiplier > 0.0) || !(real_multiplier < 2147483648.0)) {
    return absl::OutOfRangeError(
        absl::StrCat("real multiplier ", real_multiplier,
                     " is outside (0, 2^31); check the scales"));
  }
  return QuantizeMultiplier(real_multiplier);
}

absl::StatusOr<QuantizedMultiplier> QuantizeMultiplierSmallerThanOneExp(
    double real_multiplier) {
  if (!(real_multiplier >= 0.0) || !(real_multiplier < 1.0)) {
    return absl::OutOfRangeError(absl::StrCat(
        "TFLite requires a multiplier in [0, 1) here, got ", real_multiplier));
  }
  const QuantizedMultiplier m = QuantizeMultiplier(real_multiplier);
  if (m.shift > 0) {
    return absl::OutOfRangeError(
        absl::StrCat("multiplier ", real_multiplier,
                     " rounds up to 1.0 (TFLite "
                     "QuantizeMultiplierSmallerThanOneExp fails)"));
  }
  return m;
}

absl::StatusOr<QuantizedMultiplier> QuantizeMultiplierGreaterThanOne(
    double real_multiplier) {
  if (!(real_multiplier > 1.0) || !(real_multiplier < 2147483648.0)) {
    return absl::OutOfRangeError(
        absl::StrCat("TFLite requires a multiplier in (1, 2^31) here, got ",
                     real_multiplier));
  }
  return QuantizeMultiplier(real_multiplier);
}

int16_t DownScaleInt32ToInt16Multiplier(int32_t multiplier) {
  constexpr int32_t kRoundingOffset = 1 << 15;
  if (multiplier >= std::numeric_limits<int32_t>::max() - kRoundingOffset) {
    return std::numeric_limits<int16_t>::max();
  }
  return static_cast<int16_t>((multiplier + kRoundingOffset) >> 16);
}

int CalculateInputRadius(int input_integer_bits, int input_left_shift,
                         int total_signed_bits) {
  const double max_input_rescaled =
      1.0 * ((1 << input_integer_bits) - 1) *
      static_cast<double>(1LL << (total_signed_bits - input_integer_bits)) /
      static_cast<double>(1LL << input_left_shift);
  return static_cast<int>(std::floor(max_input_rescaled));
}

absl::StatusOr<QuantizedMultiplier> PreprocessSoftmaxScaling(
    double beta, double input_scale, int input_integer_bits) {
  const double max_real_multiplier = static_cast<double>(1LL << 31) - 1.0;
  const double real = std::min<double>(
      beta * input_scale * static_cast<double>(1 << (31 - input_integer_bits)),
      max_real_multiplier);
  return QuantizeMultiplierGreaterThanOne(real);
}

int32_t ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(int32_t a) {
  constexpr int32_t kConstantTerm = 1895147668;   // exp(-1/8) in Q0.31
  constexpr int32_t kConstant1Over3 = 715827883;  // 1/3 in Q0.31
  // Taylor expansion around -1/8: x = a + 1/8.
  const int32_t x = a + (1 << 28);
  const int32_t x2 = SaturatingRoundingDoublingHighMul(x, x);
  const int32_t x3 = SaturatingRoundingDoublingHighMul(x2, x);
  const int32_t x4 = SaturatingRoundingDoublingHighMul(x2, x2);
  const int32_t x4_over_4 = RoundingDivideByPOT(x4, 2);
  const int32_t poly = RoundingDivideByPOT(
      SaturatingRoundingDoublingHighMul(x4_over_4 + x3, kConstant1Over3) + x2,
      1);
  return kConstantTerm +
         SaturatingRoundingDoublingHighMul(kConstantTerm, x + poly);
}

int32_t ExpOnNegativeValues(int32_t a, int integer_bits) {
  const int fractional_bits = 31 - integer_bits;
  const int32_t one_quarter = int32_t{1} << (fractional_bits - 2);
  const int32_t mask = one_quarter - 1;
  const int32_t a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
  // Rescale<0> from `integer_bits` integer bits: saturating left shift.
  int32_t result = ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(
      SaturatingRoundingMultiplyByPOT(a_mod_quarter_minus_one_quarter,
                                      integer_bits));
  // gemmlowp subtracts without saturation; wrap like the hardware does.
  const int32_t remainder = static_cast<int32_t>(
      static_cast<uint32_t>(a_mod_quarter_minus_one_quarter) -
      static_cast<uint32_t>(a));
  struct BarrelStep {
    int exponent;
    int32_t multiplier;  // exp(-2^exponent) in Q0.31
  };
  constexpr BarrelStep kSteps[] = {
      {-2, 1672461947}, {-1, 1302514674}, {0, 790015084}, {1, 290630308},
      {2, 39332535},    {3, 720401},      {4, 242}};
  for (const BarrelStep& step : kSteps) {
    if (integer_bits > step.exponent) {
      const int shift_amount = fractional_bits + step.exponent;
      if ((remainder & (int32_t{1} << shift_amount)) != 0) {
        result = SaturatingRoundingDoublingHighMul(result, step.multiplier);
      }
    }
  }
  if (integer_bits > 5) {
    const int clamp_b = 36 - integer_bits;
    const int32_t clamp = -(int32_t{1} << clamp_b);  // -32 in the input format
    if (a < clamp) result = 0;
  }
  if (a == 0) result = std::numeric_limits<int32_t>::max();
  return result;
}

int32_t OneOverOnePlusXForXIn01(int32_t a) {
  // F0::One() is INT32_MAX for a format without integer bits.
  const int32_t half_denominator =
      RoundingHalfSum(a, std::numeric_limits<int32_t>::max());
  constexpr int32_t kConstant48Over17 = 1515870810;      // Q2.29
  constexpr int32_t kConstantNeg32Over17 = -1010580540;  // Q2.29
  constexpr int32_t kOneQ2_29 = int32_t{1} << 29;
  int32_t x = kConstant48Over17 + SaturatingRoundingDoublingHighMul(
                                      half_denominator, kConstantNeg32Over17);
  for (int i = 0; i < 3; ++i) {
    const int32_t half_denominator_times_x =
        SaturatingRoundingDoublingHighMul(half_denominator, x);  // Q2.29
    const int32_t one_minus_half_denominator_times_x =
        kOneQ2_29 - half_denominator_times_x;
    // Q2.29 * Q2.29 = Q4.27, Rescale<2>: saturating left shift by 2.
    x = x + SaturatingRoundingMultiplyByPOT(
                SaturatingRoundingDoublingHighMul(
                    x, one_minus_half_denominator_times_x),
                2);
  }
  // ExactMulByPot<-1> (Q2.29 -> Q1.30), then Rescale<0>: left shift by 1.
  return SaturatingRoundingMultiplyByPOT(x, 1);
}

int32_t GetReciprocal(int32_t x, int x_integer_digits,
                      int* num_bits_over_unit) {
  const int headroom_plus_one = CountLeadingZeros32(static_cast<uint32_t>(x));
  *num_bits_over_unit = x_integer_digits - headroom_plus_one;
  const int32_t shifted_sum_minus_one =
      static_cast<int32_t>((static_cast<uint32_t>(x) << headroom_plus_one) -
                           (static_cast<uint32_t>(1) << 31));
  return OneOverOnePlusXForXIn01(shifted_sum_minus_one);
}

}  // namespace qforge::kernels::reference
