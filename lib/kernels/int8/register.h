// INT8 kernels for the quantized graphs the quantization driver produces
// (lib/quantize/quantize.cc): one kernel per op the built-in quantizers
// quantize, registered for first-input dtype kInt8. Each kernel reads its
// node's input/output QuantParams and the arithmetic profile at prepare time
// and calls the normative scalar reference kernels in reference/, or for
// Conv, Gemm and MatMul the fast kernels in fast/ (runtime ISA dispatch,
// byte-identical to the reference).
//
// Where a float kernel is already registered for int8 (plain integer Add,
// Relu, MaxPool, ...), the int8 kernel replaces it but falls back to it for
// nodes whose values carry no QuantParams, so un-quantized integer graphs keep
// their integer semantics.
#ifndef QFORGE_LIB_KERNELS_INT8_REGISTER_H_
#define QFORGE_LIB_KERNELS_INT8_REGISTER_H_

#include "absl/status/status.h"
#include "qforge/runtime/kernel.h"

namespace qforge::kernels {

// Registers the int8 kernels. Must run after the float kernels (it wraps some
// of them and reuses the float Resize/Pad kernels).
absl::Status RegisterInt8Kernels(KernelTable& table);

// Families (lib/kernels/int8/{linear,elementwise,nn}.cc).
absl::Status RegisterInt8LinearKernels(KernelTable& table);
absl::Status RegisterInt8ElementwiseKernels(KernelTable& table);
absl::Status RegisterInt8NnKernels(KernelTable& table);

}  // namespace qforge::kernels

#endif  // QFORGE_LIB_KERNELS_INT8_REGISTER_H_
