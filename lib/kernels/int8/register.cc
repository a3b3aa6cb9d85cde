#include "kernels/int8/register.h"

#include "qforge/core/status.h"

namespace qforge::kernels {

absl::Status RegisterInt8Kernels(KernelTable& table) {
  QFORGE_RETURN_IF_ERROR(RegisterInt8LinearKernels(table));
  QFORGE_RETURN_IF_ERROR(RegisterInt8ElementwiseKernels(table));
  QFORGE_RETURN_IF_ERROR(RegisterInt8NnKernels(table));
  return absl::OkStatus();
}

}  // namespace qforge::kernels
