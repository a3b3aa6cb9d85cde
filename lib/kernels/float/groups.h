// Float reference kernels, one registration function per op family (the
// same families as lib/ir/schemas/groups.h).
#ifndef QFORGE_LIB_KERNELS_FLOAT_GROUPS_H_
#define QFORGE_LIB_KERNELS_FLOAT_GROUPS_H_

#include "absl/status/status.h"
#include "qforge/runtime/kernel.h"

namespace qforge::kernels {

absl::Status RegisterElementwiseFloatKernels(KernelTable& table);
absl::Status RegisterTensorFloatKernels(KernelTable& table);
absl::Status RegisterNnFloatKernels(KernelTable& table);
absl::Status RegisterQuantFloatKernels(KernelTable& table);

}  // namespace qforge::kernels

#endif  // QFORGE_LIB_KERNELS_FLOAT_GROUPS_H_
