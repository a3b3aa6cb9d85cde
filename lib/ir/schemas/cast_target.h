// Cast's `to` attribute: ONNX TensorProto.DataType codes as DataTypes.
//
// Ops carry ONNX attributes verbatim, so Cast's `to` (and any other
// attribute naming an element type) holds an ONNX element type code. Shared
// by Cast's schema and its kernel.
#ifndef QFORGE_LIB_IR_SCHEMAS_CAST_TARGET_H_
#define QFORGE_LIB_IR_SCHEMAS_CAST_TARGET_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "qforge/core/data_type.h"
#include "qforge/ir/graph.h"

namespace qforge::internal {

// The DataType of an ONNX element type code, or kUndefined for codes the IR
// does not carry (string, uint32, uint64, complex, bfloat16, float8, ...).
DataType DataTypeOfOnnxCode(int64_t code);

// The element type a Cast node converts to: its `to` attribute. Errors
// (naming the node) when `to` is missing or names a type the IR does not
// carry.
absl::StatusOr<DataType> CastTargetType(const Node& node);

}  // namespace qforge::internal

#endif  // QFORGE_LIB_IR_SCHEMAS_CAST_TARGET_H_
