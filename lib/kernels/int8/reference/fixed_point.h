// Integer fixed-point primitives of the tflite_reference profile.
//
// These reproduce, bit for bit, the scalar gemmlowp fixed-point functions and
// the TFLite quantization utilities that TFLite's reference int8 kernels are
// built from (gemmlowp/fixedpoint/fixedpoint.h, tflite/kernels/internal/
// common.h and quantization_util.cc). Every function states its exact
// rounding. Where the original has undefined behaviour on signed overflow
// (left shifts, plain adds), qforge wraps modulo 2^32 (two's complement),
// which is what the hardware TFLite runs on does; the cases are unreachable
// for valid quantization parameters and are documented where they arise.
//
// Notation: "Q m.n" is a signed fixed-point number with m integer bits and n
// fractional bits in an int32 (m + n = 31).
#ifndef QFORGE_LIB_KERNELS_INT8_REFERENCE_FIXED_POINT_H_
#define QFORGE_LIB_KERNELS_INT8_REFERENCE_FIXED_POINT_H_

#include <cstdint>
#include <limits>

#include "absl/status/statusor.h"

namespace qforge::kernels::reference {

// gemmlowp::SaturatingRoundingDoublingHighMul (int32), the scalar model of
// ARM VQRDMULH: the integer nearest to a*b / 2^31, ties rounded toward +inf
// (i.e. floor(a*b / 2^31 + 1/2)). The only overflow, a = b = INT32_MIN,
// saturates to INT32_MAX.
inline int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) {
    return std::numeric_limits<int32_t>::max();
  }
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge =
      ab >= 0 ? (int64_t{1} << 30) : (int64_t{1} - (int64_t{1} << 30));
  // C++ integer division truncates toward zero, as in gemmlowp.
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

// The int16 variant: nearest to a*b / 2^15, ties toward +inf; INT16_MIN^2
// saturates to INT16_MAX.
inline int16_t SaturatingRoundingDoublingHighMul16(int16_t a, int16_t b) {
  if (a == b && a == std::numeric_limits<int16_t>::min()) {
    return std::numeric_limits<int16_t>::max();
  }
  const int32_t ab = static_cast<int32_t>(a) * static_cast<int32_t>(b);
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return static_cast<int16_t>((ab + nudge) / (1 << 15));
}

// TFLite's SaturatingDoublingHighMul (int16, the model of ARM SQDMULH):
// a*b / 2^15 truncated toward zero; INT16_MIN^2 saturates to INT16_MAX.
inline int16_t SaturatingDoublingHighMul16(int16_t a, int16_t b) {
  if (a == b && a == std::numeric_limits<int16_t>::min()) {
    return std::numeric_limits<int16_t>::max();
  }
  const int32_t ab = static_cast<int32_t>(a) * static_cast<int32_t>(b);
  return static_cast<int16_t>(ab / (1 << 15));
}

// gemmlowp::RoundingDivideByPOT: x / 2^exponent rounded to the nearest
// integer, ties away from zero. exponent must be in [0, 31].
inline int32_t RoundingDivideByPOT(int32_t x, int exponent) {
  const int32_t mask =
      static_cast<int32_t>((int64_t{1} << exponent) - int64_t{1});
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  // >> on a negative int32 is an arithmetic shift (defined since C++20).
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// The int16 variant, computed in int16 exactly as gemmlowp's generic
// template instantiated for int16 does. For exponent in [0, 15] this is
// x / 2^exponent rounded to nearest, ties away from zero. For exponent in
// [16, 31] the int16 mask wraps to -1 and gemmlowp returns
// (x >> exponent) + (x > -1 + (x < 0)) -- reproduced, not corrected.
inline int16_t RoundingDivideByPOT16(int16_t x, int exponent) {
  const int16_t mask =
      static_cast<int16_t>((int64_t{1} << exponent) - int64_t{1});
  const int16_t remainder = static_cast<int16_t>(x & mask);
  const int16_t threshold = static_cast<int16_t>((mask >> 1) + (x < 0 ? 1 : 0));
  const int16_t shifted = static_cast<int16_t>(x >> exponent);
  return static_cast<int16_t>(shifted + (remainder > threshold ? 1 : 0));
}

// gemmlowp::SaturatingRoundingMultiplyByPOT with a run-time exponent in
// [-31, 31]: for exponent > 0, x * 2^exponent saturated to the int32 range;
// for exponent < 0, RoundingDivideByPOT(x, -exponent).
inline int32_t SaturatingRoundingMultiplyByPOT(int32_t x, int exponent) {
  if (exponent == 0) return x;
  if (exponent < 0) return RoundingDivideByPOT(x, -exponent);
  const int32_t threshold =
      static_cast<int32_t>((int64_t{1} << (31 - exponent)) - 1);
  if (x > threshold) return std::numeric_limits<int32_t>::max();
  if (x < -threshold) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(static_cast<int64_t>(x) << exponent);
}

// TFLite's SaturatingLeftShift (int16, hard_swish.h): value * 2^amount
// saturated to the int16 range. amount in [0, 15].
inline int16_t SaturatingLeftShift16(int16_t value, int amount) {
  int64_t result = static_cast<int64_t>(value) * (int64_t{1} << amount);
  if (result > std::numeric_limits<int16_t>::max()) {
    result = std::numeric_limits<int16_t>::max();
  }
  if (result < std::numeric_limits<int16_t>::min()) {
    result = std::numeric_limits<int16_t>::min();
  }
  return static_cast<int16_t>(result);
}

// gemmlowp::RoundingHalfSum (int32): (a + b) / 2 computed in int64, rounded
// to nearest with ties away from zero.
inline int32_t RoundingHalfSum(int32_t a, int32_t b) {
  const int64_t sum = static_cast<int64_t>(a) + static_cast<int64_t>(b);
  const int64_t sign = sum >= 0 ? 1 : -1;
  return static_cast<int32_t>((sum + sign) / 2);
}

// x << amount modulo 2^32 (what `x * (1 << amount)` does on two's complement
// hardware; undefined behaviour in C++ when it overflows). amount in [0, 31].
inline int32_t WrappingShiftLeft(int32_t x, int amount) {
  return static_cast<int32_t>(static_cast<uint32_t>(x) << amount);
}

// Number of leading zero bits; 32 for 0.
inline int CountLeadingZeros32(uint32_t x) {
  return x == 0 ? 32 : __builtin_clz(x);
}

// A real multiplier M as TFLite stores it: M ~= multiplier * 2^(shift - 31),
// multiplier a Q0.31 significand in [2^30, 2^31) (or 0).
struct QuantizedMultiplier {
  int32_t multiplier = 0;
  int shift = 0;  // > 0: left shift, < 0: right shift.

  bool operator==(const QuantizedMultiplier&) const = default;
};

// tflite::QuantizeMultiplier: frexp(m) = q * 2^shift with q in [0.5, 1);
// multiplier = std::round(q * 2^31) (round half away from zero); if that
// rounds up to 2^31 it is halved and shift incremented; if shift < -31 the
// result is flushed to {0, 0}. m == 0 gives {0, 0}. m must be finite; a
// negative m gives a negative multiplier exactly as TFLite does.
QuantizedMultiplier QuantizeMultiplier(double real_multiplier);

// QuantizeMultiplier for a multiplier that must satisfy 0 < m < 2^31 (every
// multiplier a kernel uses): OutOfRange for anything else, NaN included.
absl::StatusOr<QuantizedMultiplier> QuantizeMultiplierChecked(
    double real_multiplier);

// tflite::QuantizeMultiplierSmallerThanOneExp: requires 0 <= m < 1 and a
// resulting shift <= 0 (TFLite CHECK-fails otherwise; qforge returns
// OutOfRange).
absl::StatusOr<QuantizedMultiplier> QuantizeMultiplierSmallerThanOneExp(
    double real_multiplier);

// tflite::QuantizeMultiplierGreaterThanOne: requires m > 1 (then shift >= 0).
absl::StatusOr<QuantizedMultiplier> QuantizeMultiplierGreaterThanOne(
    double real_multiplier);

// tflite::MultiplyByQuantizedMultiplier (int32 overload, double rounding):
//   left = max(shift, 0), right = max(-shift, 0)
//   RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x * 2^left, m),
//                       right)
// i.e. two roundings: ties toward +inf at 2^-31, then ties away from zero at
// 2^-right. x * 2^left wraps modulo 2^32 (TFLite: undefined behaviour; it
// cannot happen when the result fits int32 and left is small). shift must be
// in [-31, 31].
inline int32_t MultiplyByQuantizedMultiplier(int32_t x, int32_t multiplier,
                                             int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  return RoundingDivideByPOT(
      SaturatingRoundingDoublingHighMul(WrappingShiftLeft(x, left), multiplier),
      right);
}

inline int32_t MultiplyByQuantizedMultiplier(int32_t x,
                                             const QuantizedMultiplier& m) {
  return MultiplyByQuantizedMultiplier(x, m.multiplier, m.shift);
}

// tflite::MultiplyByQuantizedMultiplierSmallerThanOneExp: shift <= 0,
// RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, m), -shift).
inline int32_t MultiplyByQuantizedMultiplierSmallerThanOneExp(
    int32_t x, int32_t multiplier, int shift) {
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, multiplier),
                             -shift);
}

// tflite::MultiplyByQuantizedMultiplierGreaterThanOne: left_shift >= 0,
// SaturatingRoundingDoublingHighMul(x * 2^left_shift, m) (the product wraps
// modulo 2^32 as above).
inline int32_t MultiplyByQuantizedMultiplierGreaterThanOne(int32_t x,
                                                           int32_t multiplier,
                                                           int left_shift) {
  return SaturatingRoundingDoublingHighMul(WrappingShiftLeft(x, left_shift),
                                           multiplier);
}

// tflite::DownScaleInt32ToInt16Multiplier: (m + 2^15) >> 16, or INT16_MAX
// when m >= INT32_MAX - 2^15. m must be >= 0.
int16_t DownScaleInt32ToInt16Multiplier(int32_t multiplier);

// tflite::CalculateInputRadius: floor((2^ib - 1) * 2^(tsb - ib) /
// 2^input_left_shift) evaluated in double.
int CalculateInputRadius(int input_integer_bits, int input_left_shift,
                         int total_signed_bits = 31);

// tflite::PreprocessSoftmaxScaling (double rounding build):
//   real = min(beta * input_scale * 2^(31 - input_integer_bits), 2^31 - 1)
// in double, then QuantizeMultiplierGreaterThanOne(real) (shift is the left
// shift). OutOfRange when real <= 1 (TFLite CHECK-fails).
absl::StatusOr<QuantizedMultiplier> PreprocessSoftmaxScaling(
    double beta, double input_scale, int input_integer_bits);

// gemmlowp::exp_on_interval_between_negative_one_quarter_and_0_excl for Q0.31:
// the 4th-order Taylor expansion of exp around -1/8 with gemmlowp's constants
// and its exact sequence of SaturatingRoundingDoublingHighMul /
// RoundingDivideByPOT steps. Input a in [-2^29, 0).
int32_t ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(int32_t a);

// gemmlowp::exp_on_negative_values for an input with `integer_bits` integer
// bits (Q integer_bits.(31 - integer_bits), a <= 0): Q0.31 result. Uses the
// barrel shifter of exp(-2^k) constants for k = -2..4 and the clamp to 0
// below -32 when integer_bits > 5; exp(0) is INT32_MAX.
int32_t ExpOnNegativeValues(int32_t a, int integer_bits);

// gemmlowp::one_over_one_plus_x_for_x_in_0_1: 1 / (1 + x) for x in [0, 1)
// given and returned in Q0.31, via three Newton-Raphson steps in Q2.29
// starting from 48/17 - 32/17 * (1 + x) / 2.
int32_t OneOverOnePlusXForXIn01(int32_t a);

// tflite::GetReciprocal: for x > 0 in Q(x_integer_digits).(31 - ...),
// returns 1/x as a Q0.31 significand and sets *num_bits_over_unit so that
// 1/x = result * 2^-num_bits_over_unit. x must be > 0.
int32_t GetReciprocal(int32_t x, int x_integer_digits, int* num_bits_over_unit);

}  // namespace qforge::kernels::reference

#endif  // QFORGE_LIB_KERNELS_INT8_REFERENCE_FIXED_POINT_H_
