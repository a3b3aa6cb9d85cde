#include "ir/schemas/cast_target.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "qforge/core/status.h"

namespace qforge::internal {

DataType DataTypeOfOnnxCode(int64_t code) {
  switch (code) {
    case 1:
      return DataType::kFloat32;
    case 2:
      return DataType::kUint8;
    case 3:
      return DataType::kInt8;
    case 4:
      return DataType::kUint16;
    case 5:
      return DataType::kInt16;
    case 6:
      return DataType::kInt32;
    case 7:
      return DataType::kInt64;
    case 9:
      return DataType::kBool;
    case 10:
      return DataType::kFloat16;
    case 11:
      return DataType::kFloat64;
    default:
      return DataType::kUndefined;
  }
}

namespace {

const char* OnnxCodeName(int64_t code) {
  switch (code) {
    case 8:
      return "string";
    case 12:
      return "uint32";
    case 13:
      return "uint64";
    case 14:
      return "complex64";
    case 15:
      return "complex128";
    case 16:
      return "bfloat16";
    case 17:
    case 18:
    case 19:
    case 20:
      return "float8";
    default:
      return nullptr;
  }
}

}  // namespace

absl::StatusOr<DataType> CastTargetType(const Node& node) {
  QFORGE_ASSIGN_OR_RETURN(int64_t code, node.RequireInt("to"));
  const DataType type = DataTypeOfOnnxCode(code);
  if (type != DataType::kUndefined) return type;
  const char* name = OnnxCodeName(code);
  if (name != nullptr) {
    return absl::UnimplementedError(
        absl::StrCat(node.Describe(), ": casting to ", name,
                     " is not supported: the IR has no ", name, " tensors"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(node.Describe(), ": attribute 'to' = ", code,
                   " is not an ONNX element type code"));
}

}  // namespace qforge::internal
