#include "quantize/tensor_check.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "qforge/core/data_type.h"

namespace qforge::internal {

std::string ElementIndexString(const std::vector<int64_t>& dims, int64_t flat) {
  std::vector<int64_t> index(dims.size(), 0);
  for (int i = static_cast<int>(dims.size()) - 1; i >= 0; --i) {
    if (dims[i] <= 0) continue;
    index[i] = flat % dims[i];
    flat /= dims[i];
  }
  std::string s = "[";
  for (size_t i = 0; i < index.size(); ++i) {
    absl::StrAppend(&s, i == 0 ? "" : ", ", index[i]);
  }
  absl::StrAppend(&s, "]");
  return s;
}

absl::Status RequireFloat32(const Tensor& tensor, absl::string_view what) {
  if (tensor.dtype() == DataType::kFloat32) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " is ", tensor.DebugString(),
                   "; calibration observes float32 tensors only"));
}

absl::Status FindNonFinite(const Tensor& tensor, absl::string_view what) {
  const float* data = tensor.data<float>();
  const int64_t n = tensor.num_elements();
  for (int64_t i = 0; i < n; ++i) {
    const float v = data[i];
    if (std::isfinite(v)) continue;
    const char* kind = std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf");
    return absl::InvalidArgumentError(absl::StrCat(
        what, " has ", kind, " at element ", i, " (index ",
        ElementIndexString(tensor.dims(), i), ") of ", tensor.DebugString(),
        "; calibration data must be finite"));
  }
  return absl::OkStatus();
}

std::string Quoted(absl::string_view kind, absl::string_view name) {
  if (name.empty()) return absl::StrCat(kind, " <unnamed>");
  return absl::StrCat(kind, " '", name, "'");
}

}  // namespace qforge::internal
