// Transposition of a Tensor of any fixed-size element type, with its
// QuantParams following the permutation (a per-axis axis moves to where its
// dim went). Used by the layout pass for constants and by the executor to
// hand observers and callers tensors in the model's original layout.
#ifndef QFORGE_LIB_IR_TENSOR_TRANSPOSE_H_
#define QFORGE_LIB_IR_TENSOR_TRANSPOSE_H_

#include <optional>

#include "absl/types/span.h"
#include "qforge/core/tensor.h"

namespace qforge::internal {

// QuantParams of a tensor transposed with `p` (out dim i = in dim p[i]).
std::optional<QuantParams> PermuteQuant(const std::optional<QuantParams>& q,
                                        absl::Span<const int> p);

// out dim i = in dim p[i].
Tensor TransposeTensor(const Tensor& t, absl::Span<const int> p);

}  // namespace qforge::internal

#endif  // QFORGE_LIB_IR_TENSOR_TRANSPOSE_H_
