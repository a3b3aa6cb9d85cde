#include "kernels/int8/reference/float_rounding.h"

#include <cmath>
#include <limits>

namespace qforge::kernels::reference {

float RoundHalfToEven(float x) {
  // |x| >= 2^23 is already an integer (or NaN/inf).
  if (!(std::fabs(x) < 8388608.0f)) return x;
  const float floor_x = std::floor(x);
  const float fraction = x - floor_x;  // exact for |x| < 2^23
  if (fraction > 0.5f) return floor_x + 1.0f;
  if (fraction < 0.5f) return floor_x;
  // Tie: pick the even neighbour. floor_x is an integer below 2^23 in
  // magnitude, so the conversion is exact.
  const int64_t f = static_cast<int64_t>(floor_x);
  return (f % 2 == 0) ? floor_x : floor_x + 1.0f;
}

float RoundHalfAwayFromZero(float x) { return std::round(x); }

int32_t ConvertToInt32RoundHalfEvenX86(float x) {
  if (!(x >= -2147483648.0f && x < 2147483648.0f)) {
    return std::numeric_limits<int32_t>::min();
  }
  return static_cast<int32_t>(RoundHalfToEven(x));
}

int32_t ConvertToInt32TruncateX86(float x) {
  if (!(x > -2147483904.0f && x < 2147483648.0f)) {
    return std::numeric_limits<int32_t>::min();
  }
  return static_cast<int32_t>(x);
}

int32_t ConvertToInt32RoundHalfAwaySaturate(float x) {
  if (std::isnan(x)) return std::numeric_limits<int32_t>::min();
  const float r = std::round(x);
  if (r >= 2147483648.0f) return std::numeric_limits<int32_t>::max();
  if (r < -2147483648.0f) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(r);
}

}  // namespace qforge::kernels::reference
