// Schemas (arity, dtype rules, shape inference) of qforge's ONNX op set.
#ifndef QFORGE_LIB_IR_ONNX_SCHEMAS_H_
#define QFORGE_LIB_IR_ONNX_SCHEMAS_H_

#include "absl/status/status.h"
#include "qforge/ir/op_schema.h"

namespace qforge::internal {

absl::Status RegisterOnnxSchemas(OpSchemaTable& table);

}  // namespace qforge::internal

#endif  // QFORGE_LIB_IR_ONNX_SCHEMAS_H_
