#include "ir/schemas/groups.h"

namespace qforge::internal {

absl::Status RegisterTensorSchemas(OpSchemaTable& table) { return absl::OkStatus(); }

}  // namespace qforge::internal
