// Dtype dispatch and element conversions shared by the float reference
// kernels.
//
// VisitDtype turns a run-time DataType into a compile-time element type:
//
//   return VisitDtype(x.dtype(), [&]<typename T>(TypeTag<T>) -> absl::Status {
//     ... x.data<T>() ...
//   });
//
// Arithmetic on float16 happens in float: Load() widens an element to its
// ComputeType and Store() narrows it back (round to nearest even).
// CastValue implements ONNX Cast's element conversion (see its comment for
// the numeric contract).
#ifndef QFORGE_LIB_KERNELS_FLOAT_DTYPE_DISPATCH_H_
#define QFORGE_LIB_KERNELS_FLOAT_DTYPE_DISPATCH_H_

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "qforge/core/data_type.h"
#include "qforge/core/float16.h"

namespace qforge::kernels {

template <typename T>
struct TypeTag {
  using type = T;
};

// Calls fn(TypeTag<T>{}) with T the element type of `dtype`: float, double,
// Half, int8_t, uint8_t, int16_t, uint16_t, int32_t, int64_t or bool. `fn`
// returns absl::Status; dtypes without an element type (string, undefined)
// give Unimplemented.
template <typename Fn>
absl::Status VisitDtype(DataType dtype, Fn&& fn) {
  switch (dtype) {
    case DataType::kFloat32:
      return fn(TypeTag<float>{});
    case DataType::kFloat64:
      return fn(TypeTag<double>{});
    case DataType::kFloat16:
      return fn(TypeTag<Half>{});
    case DataType::kInt8:
      return fn(TypeTag<int8_t>{});
    case DataType::kUint8:
      return fn(TypeTag<uint8_t>{});
    case DataType::kInt16:
      return fn(TypeTag<int16_t>{});
    case DataType::kUint16:
      return fn(TypeTag<uint16_t>{});
    case DataType::kInt32:
      return fn(TypeTag<int32_t>{});
    case DataType::kInt64:
      return fn(TypeTag<int64_t>{});
    case DataType::kBool:
      return fn(TypeTag<bool>{});
    default:
      return absl::UnimplementedError(absl::StrCat(
          "element type ", DataTypeName(dtype), " is not supported"));
  }
}

// --- float16 arithmetic ------------------------------------------------------

template <typename T>
struct ComputeTypeOf {
  using type = T;
};
template <>
struct ComputeTypeOf<Half> {
  using type = float;
};
// The type arithmetic on T happens in: float for Half, T itself otherwise.
template <typename T>
using ComputeType = typename ComputeTypeOf<T>::type;

template <typename T>
inline ComputeType<T> Load(T v) {
  return v;
}
inline float Load(Half h) { return HalfToFloat(h.bits); }

template <typename T>
inline T Store(ComputeType<T> v) {
  return static_cast<T>(v);
}
template <>
inline Half Store<Half>(float v) {
  return Half{FloatToHalf(v)};
}

template <typename T>
inline constexpr bool kIsFloat =
    std::is_floating_point_v<T> || std::is_same_v<T, Half>;
template <typename T>
inline constexpr bool kIsInt =
    std::is_integral_v<T> && !std::is_same_v<T, bool>;

// --- conversions -------------------------------------------------------------

// double -> binary16 with a single rounding (nearest, ties to even). Going
// through float would round twice; rounding to float "to odd" first keeps
// the final rounding exact, since float has more than two extra bits.
inline uint16_t DoubleToHalfBits(double d) {
  float f = static_cast<float>(d);
  if (std::isfinite(f) && static_cast<double>(f) != d) {
    if (std::fabs(static_cast<double>(f)) > std::fabs(d)) {
      f = std::nextafter(f, 0.0f);  // Now d truncated towards zero.
    }
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof(bits));
    bits |= 1u;  // Inexact: the odd neighbour.
    std::memcpy(&f, &bits, sizeof(bits));
  }
  return FloatToHalf(f);
}

// A float value converted to integer type To: truncated towards zero,
// saturated to To's range, NaN -> 0.
template <typename To, typename From>
inline To SaturatingFloatToInt(From v) {
  if (std::isnan(v)) return To{0};
  constexpr double lo = static_cast<double>(std::numeric_limits<To>::min());
  // max() + 1 is a power of two, exactly representable as a double.
  constexpr double hi_exclusive =
      static_cast<double>(std::numeric_limits<To>::max() / 2 + 1) * 2.0;
  const double t = std::trunc(static_cast<double>(v));
  if (t < lo) return std::numeric_limits<To>::min();
  if (t >= hi_exclusive) return std::numeric_limits<To>::max();
  return static_cast<To>(t);
}

// One element of ONNX Cast from From to To:
//   float -> float:  rounded to nearest even; out of range -> +/-inf.
//   float -> int:    truncated towards zero and saturated; NaN -> 0.
//   int -> int:      two's complement truncation of the bits (wraps).
//   int/float -> bool: zero -> false, anything else (NaN too) -> true.
//   bool -> any:     0 or 1.
template <typename To, typename From>
inline To CastValue(From v) {
  if constexpr (std::is_same_v<From, Half>) {
    return CastValue<To>(HalfToFloat(v.bits));
  } else if constexpr (std::is_same_v<To, From>) {
    return v;
  } else if constexpr (std::is_same_v<To, bool>) {
    return v != From{0};
  } else if constexpr (std::is_same_v<To, Half>) {
    if constexpr (std::is_same_v<From, float>) {
      return Half{FloatToHalf(v)};
    } else {
      return Half{DoubleToHalfBits(static_cast<double>(v))};
    }
  } else if constexpr (std::is_floating_point_v<To>) {
    return static_cast<To>(v);
  } else if constexpr (std::is_floating_point_v<From>) {
    return SaturatingFloatToInt<To>(v);
  } else {
    return static_cast<To>(v);  // Integer or bool to integer: modular.
  }
}

}  // namespace qforge::kernels

#endif  // QFORGE_LIB_KERNELS_FLOAT_DTYPE_DISPATCH_H_
