// Element types of tensors.
//
// DataType names the element types the IR carries. The enumerator values are
// qforge's own; importers and exporters map them to and from each file
// format's codes.
#ifndef QFORGE_CORE_DATA_TYPE_H_
#define QFORGE_CORE_DATA_TYPE_H_

#include <cstddef>
#include <cstdint>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "qforge/core/export.h"
#include "qforge/core/float16.h"

namespace qforge {

enum class DataType : uint8_t {
  kUndefined = 0,
  kFloat32,
  kFloat64,
  kFloat16,
  kInt8,
  kUint8,
  kInt16,
  kUint16,
  kInt32,
  kInt64,
  kBool,
  kString,
};

// Bytes per element; 0 for kUndefined and kString.
QFORGE_EXPORT size_t SizeOf(DataType type);

// Lower-case name such as "float32" or "int8".
QFORGE_EXPORT absl::string_view DataTypeName(DataType type);

// The inverse of DataTypeName.
QFORGE_EXPORT absl::StatusOr<DataType> ParseDataType(absl::string_view name);

QFORGE_EXPORT bool IsFloatingPoint(DataType type);
QFORGE_EXPORT bool IsInteger(DataType type);  // Signed or unsigned, not bool.

// Maps a C++ element type to its DataType: DataTypeOf<float>() == kFloat32.
template <typename T>
constexpr DataType DataTypeOf();
template <>
constexpr DataType DataTypeOf<float>() { return DataType::kFloat32; }
template <>
constexpr DataType DataTypeOf<double>() { return DataType::kFloat64; }
template <>
constexpr DataType DataTypeOf<Half>() { return DataType::kFloat16; }
template <>
constexpr DataType DataTypeOf<int8_t>() { return DataType::kInt8; }
template <>
constexpr DataType DataTypeOf<uint8_t>() { return DataType::kUint8; }
template <>
constexpr DataType DataTypeOf<int16_t>() { return DataType::kInt16; }
template <>
constexpr DataType DataTypeOf<uint16_t>() { return DataType::kUint16; }
template <>
constexpr DataType DataTypeOf<int32_t>() { return DataType::kInt32; }
template <>
constexpr DataType DataTypeOf<int64_t>() { return DataType::kInt64; }
template <>
constexpr DataType DataTypeOf<bool>() { return DataType::kBool; }

}  // namespace qforge

#endif  // QFORGE_CORE_DATA_TYPE_H_
