// int16 -> int16 element-wise functions as a 513-entry table with linear
// interpolation (the scheme of TFLite's int16 LUT kernels), for Erf and Gelu.
//
// Knot k (k = 0..512) sits at input q_k = -32768 + 128 k, so every int16
// input q lies in segment s = (q + 32768) >> 7 at offset o = (q + 32768) & 127
// and the result is
//   y = t[s] + floor(((t[s+1] - t[s]) * o + 64) / 128)     (int32 arithmetic)
// clamped to [-32768, 32767]. The table is built in double precision from
// the float reference: with v(q) = f(sx * (q - zx)) / sy + zy,
//   t[k] = round(v(q_k) - e_k / 2),  e_k = (v(q_k) + v(q_k+1)) / 2 - v(q_k +
//   64)
// Knots are int32 (clamped to +-2^30) and only the interpolated result is
// clamped to int16: a knot past the int16 range (where the output saturates
// within a segment) keeps the segment's slope exact instead of bending the
// chord (TFLite stores int16 knots, which can be tens of LSB off just below
// saturation). The interpolation runs in int64.
// i.e. each knot is moved by half the interpolation error at the midpoint of
// the segment on its right (the chord of a convex or concave piece lies on
// one side of the curve; splitting the error halves the worst case). The last
// knot, q = 32768, lies one step past the int16 range and is computed from
// the same formula (it only serves as the right end of the last segment).
//
// Error budget in output LSB: 0.5 (rounding of t) + 0.5 (rounding of the
// interpolation) + |f''| (128 sx)^2 / (16 sy) (interpolation residual after
// the midpoint correction). For Erf with sx = 4/32768 and sy = 1/32768 the
// residual is 0.03 LSB; the tests check every input against the exact value
// in long double.
#ifndef QFORGE_PLUGINS_ERF_INT16_LUT_H_
#define QFORGE_PLUGINS_ERF_INT16_LUT_H_

#include <array>
#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace qforge::plugins::erf {

struct Int16QuantParam {
  float scale = 1.0f;
  int32_t zero_point = 0;  // In [-32768, 32767]; 0 for TFLite's 16x8.
};

// Knot k in output units (int32: see above).
using Int16Lut = std::array<int32_t, 513>;

// The table of `fn` (evaluated in double) for the given params.
// InvalidArgument for a scale that is not finite and > 0 or a zero point
// outside int16.
absl::StatusOr<Int16Lut> BuildInt16Lut(const Int16QuantParam& input,
                                       const Int16QuantParam& output,
                                       absl::FunctionRef<double(double)> fn);

// The tables of Erf and Gelu (approximate "none" or "tanh"): the float
// references of lib/kernels/float/gelu.h in double.
absl::StatusOr<Int16Lut> BuildErfInt16Lut(const Int16QuantParam& input,
                                          const Int16QuantParam& output);
absl::StatusOr<Int16Lut> BuildGeluInt16Lut(const Int16QuantParam& input,
                                           const Int16QuantParam& output,
                                           bool tanh_approximation);

// One element (see the file comment).
int16_t LookUpInt16(const Int16Lut& lut, int16_t q);

// output[i] = LookUpInt16(lut, input[i]): the int16 kernel function.
absl::Status ApplyInt16Lut(const Int16Lut& lut, const int16_t* input,
                           int64_t count, int16_t* output);

}  // namespace qforge::plugins::erf

#endif  // QFORGE_PLUGINS_ERF_INT16_LUT_H_
