#include "kernels/float/register.h"

#include "kernels/float/groups.h"
#include "qforge/core/status.h"

namespace qforge::kernels {

absl::Status RegisterFloatKernels(KernelTable& table) {
  QFORGE_RETURN_IF_ERROR(RegisterElementwiseFloatKernels(table));
  QFORGE_RETURN_IF_ERROR(RegisterTensorFloatKernels(table));
  QFORGE_RETURN_IF_ERROR(RegisterNnFloatKernels(table));
  QFORGE_RETURN_IF_ERROR(RegisterQuantFloatKernels(table));
  return absl::OkStatus();
}

}  // namespace qforge::kernels
