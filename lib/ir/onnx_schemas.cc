#include "ir/onnx_schemas.h"

#include "ir/schemas/groups.h"
#include "qforge/core/status.h"

namespace qforge::internal {

absl::Status RegisterOnnxSchemas(OpSchemaTable& table) {
  QFORGE_RETURN_IF_ERROR(RegisterElementwiseSchemas(table));
  QFORGE_RETURN_IF_ERROR(RegisterTensorSchemas(table));
  QFORGE_RETURN_IF_ERROR(RegisterNnSchemas(table));
  QFORGE_RETURN_IF_ERROR(RegisterQuantSchemas(table));
  return absl::OkStatus();
}

}  // namespace qforge::internal
