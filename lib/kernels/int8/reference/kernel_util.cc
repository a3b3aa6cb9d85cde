#include "kernels/int8/reference/kernel_util.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace qforge::kernels::reference::internal {

absl::StatusOr<int64_t> CheckedElementCount(std::initializer_list<int64_t> dims,
                                            absl::string_view what) {
  constexpr int64_t kLimit = int64_t{1} << 62;
  int64_t product = 1;
  for (int64_t d : dims) {
    if (d < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": negative dimension ", d));
    }
    if (d != 0 && product > kLimit / d) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": element count overflows"));
    }
    product *= d;
  }
  return product;
}

}  // namespace qforge::kernels::reference::internal
