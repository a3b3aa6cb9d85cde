#include "qforge/core/quant_params.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace qforge {

QuantParams QuantParams::PerTensor(float scale, int64_t zero_point,
                                   DataType storage) {
  QuantParams p;
  p.scale = {scale};
  p.zero_point = {zero_point};
  p.storage = storage;
  p.bits = static_cast<int>(SizeOf(storage) * 8);
  return p;
}

QuantParams QuantParams::PerAxis(std::vector<float> scales,
                                 std::vector<int64_t> zero_points, int axis,
                                 DataType storage) {
  QuantParams p;
  p.scale = std::move(scales);
  p.zero_point = std::move(zero_points);
  p.axis = axis;
  p.storage = storage;
  p.bits = static_cast<int>(SizeOf(storage) * 8);
  return p;
}

int64_t QuantParams::qmin() const {
  const bool is_signed = storage == DataType::kInt8 ||
                         storage == DataType::kInt16 ||
                         storage == DataType::kInt32;
  return is_signed ? -(int64_t{1} << (bits - 1)) : 0;
}

int64_t QuantParams::qmax() const {
  const bool is_signed = storage == DataType::kInt8 ||
                         storage == DataType::kInt16 ||
                         storage == DataType::kInt32;
  return is_signed ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1;
}

absl::Status QuantParams::Validate() const {
  if (!IsInteger(storage)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "quantized storage type must be an integer type, got ",
        DataTypeName(storage)));
  }
  if (bits < 2 || bits > static_cast<int>(SizeOf(storage) * 8)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bit width ", bits, " does not fit storage ", DataTypeName(storage)));
  }
  if (scale.empty() || scale.size() != zero_point.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("quantization has ", scale.size(), " scales and ",
                     zero_point.size(), " zero points"));
  }
  if (axis < 0 && scale.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "per-tensor quantization needs exactly one scale, got ", scale.size()));
  }
  for (size_t i = 0; i < scale.size(); ++i) {
    if (!std::isfinite(scale[i]) || scale[i] <= 0.0f) {
      return absl::InvalidArgumentError(
          absl::StrCat("scale[", i, "] = ", scale[i], " is not finite and > 0"));
    }
    if (zero_point[i] < qmin() || zero_point[i] > qmax()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "zero_point[", i, "] = ", zero_point[i], " is outside [", qmin(),
          ", ", qmax(), "]"));
    }
  }
  return absl::OkStatus();
}

std::string QuantParams::ToString() const {
  std::string s = absl::StrCat(DataTypeName(storage));
  if (bits != static_cast<int>(SizeOf(storage) * 8)) absl::StrAppend(&s, "/", bits, "b");
  if (axis < 0 && scale.size() == 1) {
    absl::StrAppend(&s, " scale=", scale[0], " zp=", zero_point[0]);
  } else {
    absl::StrAppend(&s, " axis=", axis, " scales(", scale.size(), ")");
  }
  return s;
}

}  // namespace qforge
