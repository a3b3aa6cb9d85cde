// Internal helpers of the INT8 reference kernels: checked sizes and
// wrapping int32 accumulation. Not part of the kernels' contract.
#ifndef QFORGE_LIB_KERNELS_INT8_REFERENCE_KERNEL_UTIL_H_
#define QFORGE_LIB_KERNELS_INT8_REFERENCE_KERNEL_UTIL_H_

#include <cstdint>
#include <initializer_list>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace qforge::kernels::reference::internal {

// Product of non-negative dimensions; InvalidArgument naming `what` when a
// dimension is negative or the product exceeds 2^62.
absl::StatusOr<int64_t> CheckedElementCount(std::initializer_list<int64_t> dims,
                                            absl::string_view what);

// a + b modulo 2^32: int32 accumulation with two's complement wrap-around
// (the runtimes' int32 accumulators overflow the same way; signed overflow
// is undefined behaviour in C++, so qforge adds in uint32).
inline int32_t WrappingAdd(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) +
                              static_cast<uint32_t>(b));
}

}  // namespace qforge::kernels::reference::internal

#endif  // QFORGE_LIB_KERNELS_INT8_REFERENCE_KERNEL_UTIL_H_
