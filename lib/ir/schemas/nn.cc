#include "ir/schemas/groups.h"

namespace qforge::internal {

absl::Status RegisterNnSchemas(OpSchemaTable& table) { return absl::OkStatus(); }

}  // namespace qforge::internal
