// Small helpers shared by the float reference kernels: checked access to
// inputs, reading integer lists (axes, shapes, pads) from tensors, and
// registering one kernel per element type.
#ifndef QFORGE_LIB_KERNELS_FLOAT_KERNEL_UTIL_H_
#define QFORGE_LIB_KERNELS_FLOAT_KERNEL_UTIL_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kernels/float/dtype_dispatch.h"
#include "qforge/core/tensor.h"
#include "qforge/runtime/kernel.h"

namespace qforge::kernels {

// Input i; an error naming the node when it is missing.
absl::StatusOr<const Tensor*> Input(const KernelContext& ctx, int i);
// Input i, which must have dtype `expected`.
absl::StatusOr<const Tensor*> Input(const KernelContext& ctx, int i,
                                    DataType expected);

// The values of an int32 or int64 tensor (e.g. axes, a shape, pads) as
// int64. `what` names it in messages ("input 1 'shape'").
absl::StatusOr<std::vector<int64_t>> ReadInts(const KernelContext& ctx,
                                              const Tensor& t,
                                              absl::string_view what);

// Normalizes a possibly negative axis against `rank`; error naming the node
// when it is outside [-rank, rank).
absl::StatusOr<int> NormalizeAxis(const KernelContext& ctx, int64_t axis,
                                  int rank);

// Product of dims[begin, end).
int64_t Product(const std::vector<int64_t>& dims, int begin, int end);

template <typename... Ts>
struct TypeList {};

using FloatTypes = TypeList<float, double, Half>;
using NumericTypes = TypeList<float, double, Half, int8_t, uint8_t, int16_t,
                              uint16_t, int32_t, int64_t>;
using AllTypes = TypeList<float, double, Half, int8_t, uint8_t, int16_t,
                          uint16_t, int32_t, int64_t, bool>;

// Registers, for each T in the list, the kernel factory `make(TypeTag<T>{})`
// for op {"", op} and first-input dtype T.
template <typename... Ts, typename Make>
absl::Status RegisterEach(KernelTable& table, const char* op, TypeList<Ts...>,
                          Make make) {
  absl::Status status;
  auto one = [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (status.ok()) {
      status = table.Register(KernelDef{{"", op}, DataTypeOf<T>(), make(tag)});
    }
  };
  (one(TypeTag<Ts>{}), ...);
  return status;
}

}  // namespace qforge::kernels

#endif  // QFORGE_LIB_KERNELS_FLOAT_KERNEL_UTIL_H_
