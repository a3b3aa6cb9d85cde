#include "qforge/registry.h"

#include "kernels/float/register.h"
#include "kernels/int8/register.h"
#include "ir/onnx_schemas.h"
#include "qforge/core/status.h"
#include "quantize/builtin_quantizers.h"

namespace qforge {

absl::Status RegisterBuiltins(Registry& registry) {
  QFORGE_RETURN_IF_ERROR(internal::RegisterOnnxSchemas(registry.schemas()));
  QFORGE_RETURN_IF_ERROR(kernels::RegisterFloatKernels(registry.kernels()));
  QFORGE_RETURN_IF_ERROR(kernels::RegisterInt8Kernels(registry.kernels()));
  QFORGE_RETURN_IF_ERROR(internal::RegisterBuiltinQuantizers(registry.quantizers()));
  return absl::OkStatus();
}

}  // namespace qforge
