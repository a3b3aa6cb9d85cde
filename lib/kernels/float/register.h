// Float reference kernels of qforge's op set (ONNX semantics).
#ifndef QFORGE_LIB_KERNELS_FLOAT_REGISTER_H_
#define QFORGE_LIB_KERNELS_FLOAT_REGISTER_H_

#include "absl/status/status.h"
#include "qforge/runtime/kernel.h"

namespace qforge::kernels {

absl::Status RegisterFloatKernels(KernelTable& table);

}  // namespace qforge::kernels

#endif  // QFORGE_LIB_KERNELS_FLOAT_REGISTER_H_
