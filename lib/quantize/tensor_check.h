// Internal helpers shared by the calibration sources: locating and describing
// non-finite elements of float tensors for error messages.
#ifndef QFORGE_LIB_QUANTIZE_TENSOR_CHECK_H_
#define QFORGE_LIB_QUANTIZE_TENSOR_CHECK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "qforge/core/tensor.h"

namespace qforge::internal {

// "[0, 2, 1]": the multi-index of flat (row-major) element `flat`.
std::string ElementIndexString(const std::vector<int64_t>& dims, int64_t flat);

// InvalidArgument when `tensor` is not float32; `what` is e.g.
// "calibration tensor 'conv1_out'".
absl::Status RequireFloat32(const Tensor& tensor, absl::string_view what);

// InvalidArgument naming `what`, the value kind (NaN, +Inf, -Inf), the flat
// element and its index, for the first non-finite element of a float32
// tensor; OK when every element is finite.
absl::Status FindNonFinite(const Tensor& tensor, absl::string_view what);

// "tensor 'x'" or "tensor <unnamed>".
std::string Quoted(absl::string_view kind, absl::string_view name);

}  // namespace qforge::internal

#endif  // QFORGE_LIB_QUANTIZE_TENSOR_CHECK_H_
