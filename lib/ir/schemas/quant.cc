#include "ir/schemas/groups.h"

namespace qforge::internal {

absl::Status RegisterQuantSchemas(OpSchemaTable& table) { return absl::OkStatus(); }

}  // namespace qforge::internal
