// The op set's schemas, one registration function per op family.
//   elementwise: arithmetic, activations, Softmax, Identity, Cast
//   tensor:      Constant, Shape, Gather, Slice, Split, Concat, Reshape,
//                Flatten, Transpose, Squeeze, Unsqueeze, Pad
//   nn:          Conv, Gemm, MatMul, pooling, Resize, BatchNormalization,
//                LayerNormalization, ReduceMean
//   quant:       QuantizeLinear, DequantizeLinear
#ifndef QFORGE_LIB_IR_SCHEMAS_GROUPS_H_
#define QFORGE_LIB_IR_SCHEMAS_GROUPS_H_

#include "absl/status/status.h"
#include "qforge/ir/op_schema.h"

namespace qforge::internal {

absl::Status RegisterElementwiseSchemas(OpSchemaTable& table);
absl::Status RegisterTensorSchemas(OpSchemaTable& table);
absl::Status RegisterNnSchemas(OpSchemaTable& table);
absl::Status RegisterQuantSchemas(OpSchemaTable& table);

}  // namespace qforge::internal

#endif  // QFORGE_LIB_IR_SCHEMAS_GROUPS_H_
