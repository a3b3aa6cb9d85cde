#include "qforge/core/data_type.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace qforge {
namespace {

struct TypeInfo {
  DataType type;
  absl::string_view name;
  size_t size;
};

constexpr TypeInfo kTypes[] = {
    {DataType::kUndefined, "undefined", 0}, {DataType::kFloat32, "float32", 4},
    {DataType::kFloat64, "float64", 8},     {DataType::kFloat16, "float16", 2},
    {DataType::kInt8, "int8", 1},           {DataType::kUint8, "uint8", 1},
    {DataType::kInt16, "int16", 2},         {DataType::kUint16, "uint16", 2},
    {DataType::kInt32, "int32", 4},         {DataType::kInt64, "int64", 8},
    {DataType::kBool, "bool", 1},           {DataType::kString, "string", 0},
};

const TypeInfo& Info(DataType type) {
  for (const TypeInfo& info : kTypes) {
    if (info.type == type) return info;
  }
  return kTypes[0];
}

}  // namespace

size_t SizeOf(DataType type) { return Info(type).size; }

absl::string_view DataTypeName(DataType type) { return Info(type).name; }

absl::StatusOr<DataType> ParseDataType(absl::string_view name) {
  for (const TypeInfo& info : kTypes) {
    if (info.name == name && info.type != DataType::kUndefined) return info.type;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown data type '", name,
                   "'; expected one of float32, float64, float16, int8, "
                   "uint8, int16, uint16, int32, int64, bool"));
}

bool IsFloatingPoint(DataType type) {
  return type == DataType::kFloat32 || type == DataType::kFloat64 ||
         type == DataType::kFloat16;
}

bool IsInteger(DataType type) {
  switch (type) {
    case DataType::kInt8:
    case DataType::kUint8:
    case DataType::kInt16:
    case DataType::kUint16:
    case DataType::kInt32:
    case DataType::kInt64:
      return true;
    default:
      return false;
  }
}

}  // namespace qforge
