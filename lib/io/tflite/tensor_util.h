// Helpers the TFLite importer and exporter share: permuting constant tensors
// between TFLite's and qforge's weight orders.
#ifndef QFORGE_LIB_IO_TFLITE_TENSOR_UTIL_H_
#define QFORGE_LIB_IO_TFLITE_TENSOR_UTIL_H_

#include <vector>

#include "qforge/core/tensor.h"

namespace qforge::internal {

// out has dims[i] = t.dims[perm[i]] and out[i...] = t[perm-mapped index].
// QuantParams are not copied (the caller moves the axis, see PermutedAxis).
Tensor PermuteTensor(const Tensor& t, const std::vector<int>& perm);

// Position of `axis` after permuting by `perm`; -1 stays -1.
int PermutedAxis(int axis, const std::vector<int>& perm);

}  // namespace qforge::internal

#endif  // QFORGE_LIB_IO_TFLITE_TENSOR_UTIL_H_
