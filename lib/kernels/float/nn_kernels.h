// Float reference kernels of the nn family, split by file:
//   conv.cc    Conv (1-D, 2-D, 3-D; groups, depthwise; NCHW and NHWC)
//   pool.cc    MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool
//   resize.cc  Resize (opsets 10-13+ forms), Upsample
//   nn.cc      Gemm, MatMul, BatchNormalization, LayerNormalization,
//              ReduceMean, and the family's registration
//
// Layout contract (see docs/layout.md). A spatial node whose layout() is
// kNHWC has activations [N, D1, ..., Dk, C] instead of ONNX's
// [N, C, D1, ..., Dk]; nothing else changes:
//   - Conv weights stay in ONNX order [M, C/group, k1, ..., kk] and bias [M];
//     the kernel repacks constant weights once when it is created.
//   - kernel_shape, strides, dilations and pads list spatial axes D1..Dk.
//   - Resize's scales, sizes and roi list axes in ONNX (NCHW) order.
//   - MaxPool's Indices hold the same values as in NCHW: flat indices into
//     the NCHW view of the input (storage_order applies to the spatial axes);
//     only the Indices tensor itself is laid out NHWC.
//   - BatchNormalization's per-channel inputs are [C].
// So converting a node between layouts changes only the order of its
// activations' axes, never the values it computes.
#ifndef QFORGE_LIB_KERNELS_FLOAT_NN_KERNELS_H_
#define QFORGE_LIB_KERNELS_FLOAT_NN_KERNELS_H_

#include "absl/status/status.h"
#include "qforge/runtime/kernel.h"

namespace qforge::kernels {

absl::Status RegisterConvFloatKernels(KernelTable& table);
absl::Status RegisterPoolFloatKernels(KernelTable& table);
absl::Status RegisterResizeFloatKernels(KernelTable& table);

}  // namespace qforge::kernels

#endif  // QFORGE_LIB_KERNELS_FLOAT_NN_KERNELS_H_
