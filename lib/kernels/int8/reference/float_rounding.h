// Float-to-integer rounding primitives, written out explicitly.
//
// The onnxruntime profile requantizes in binary32 and the tflite_reference
// profile builds tables and quantizes in binary32; both end in a float ->
// integer rounding whose tie rule matters. These functions implement each
// rule exactly and independently of the FP environment's rounding mode (the
// float multiplications and divisions before them do depend on it: all
// profiles assume the default environment, round-to-nearest-even, no
// flush-to-zero or denormals-are-zero, and no FMA contraction unless a
// formula says fma; the reference sources are compiled with
// -ffp-contract=off).
#ifndef QFORGE_LIB_KERNELS_INT8_REFERENCE_FLOAT_ROUNDING_H_
#define QFORGE_LIB_KERNELS_INT8_REFERENCE_FLOAT_ROUNDING_H_

#include <cstdint>

namespace qforge::kernels::reference {

// Nearest integer, ties to even (what std::nearbyint, the MLAS "magic number"
// addition 1.5*2^23 and x86 cvtps2dq compute in the default rounding mode).
// NaN and infinities are returned unchanged.
float RoundHalfToEven(float x);

// Nearest integer, ties away from zero (std::round, TfLiteRound).
float RoundHalfAwayFromZero(float x);

// x86 cvtps2dq / _mm_cvtps_epi32 in the default MXCSR state: round half to
// even; NaN, +-inf and values outside [-2^31, 2^31) give INT32_MIN (the
// "integer indefinite" value).
int32_t ConvertToInt32RoundHalfEvenX86(float x);

// x86 cvttss2si / static_cast<int32_t> as compiled for x86-64: truncation
// toward zero; NaN, +-inf and values outside (-2^31 - 1, 2^31) give
// INT32_MIN (C++ leaves the out-of-range cast undefined; qforge reproduces
// what the runtimes' x86 builds do).
int32_t ConvertToInt32TruncateX86(float x);

// Rounds half away from zero and saturates to [INT32_MIN, INT32_MAX]; NaN
// gives INT32_MIN. Used where TFLite casts a rounded float to int32 (its cast
// is undefined behaviour out of range; qforge saturates).
int32_t ConvertToInt32RoundHalfAwaySaturate(float x);

}  // namespace qforge::kernels::reference

#endif  // QFORGE_LIB_KERNELS_INT8_REFERENCE_FLOAT_ROUNDING_H_
