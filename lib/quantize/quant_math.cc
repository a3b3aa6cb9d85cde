#include "qforge/quantize/quant_math.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "qforge/core/status.h"
#include "quantize/tensor_check.h"

namespace qforge {
namespace {

bool IsSignedStorage(DataType t) {
  return t == DataType::kInt8 || t == DataType::kInt16 || t == DataType::kInt32;
}

// Largest power of two <= n (n >= 1).
int64_t FloorPowerOfTwo(int64_t n) {
  int64_t m = 1;
  while (m * 2 <= n) m *= 2;
  return m;
}

absl::Status CheckRange(FloatRange range, absl::string_view what) {
  if (!std::isfinite(range.min) || !std::isfinite(range.max)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", range.ToString(), " is not finite"));
  }
  if (range.min > range.max) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", range.ToString(), " has min > max"));
  }
  return absl::OkStatus();
}

struct ScaleZeroPoint {
  float scale;
  int64_t zero_point;
};

// `range` is finite with min <= max and `target` is valid.
ScaleZeroPoint Compute(FloatRange range, const QuantTarget& target) {
  const int64_t qmin = target.qmin();
  const int64_t qmax = target.qmax();
  const double lo = std::min(0.0, static_cast<double>(range.min));
  const double hi = std::max(0.0, static_cast<double>(range.max));
  const bool constant = range.min == range.max;
  ScaleZeroPoint out;
  if (target.symmetric) {
    const int64_t full_qmin =
        IsSignedStorage(target.storage)
            ? -(int64_t{1} << (target.effective_bits() - 1))
            : 0;
    out.zero_point =
        IsSignedStorage(target.storage) ? 0 : (full_qmin + qmax + 1) / 2;
    const int64_t steps =
        std::min(out.zero_point - qmin, qmax - out.zero_point);
    const double amax = std::max(-lo, hi);
    double scale;
    if (amax == 0.0) {
      scale = target.zero_range_scale;
    } else if (constant) {
      scale = amax / static_cast<double>(FloorPowerOfTwo(steps));
    } else {
      scale = amax / static_cast<double>(steps);
    }
    out.scale = std::max(static_cast<float>(scale), kMinQuantScale);
    return out;
  }
  double scale;
  if (hi == lo) {
    scale = target.zero_range_scale;
  } else if (constant) {
    scale = (hi - lo) / static_cast<double>(FloorPowerOfTwo(qmax - qmin));
  } else {
    scale = (hi - lo) / static_cast<double>(qmax - qmin);
  }
  out.scale = std::max(static_cast<float>(scale), kMinQuantScale);
  const double zp_real =
      static_cast<double>(qmin) - lo / static_cast<double>(out.scale);
  if (zp_real <= static_cast<double>(qmin)) {
    out.zero_point = qmin;
  } else if (zp_real >= static_cast<double>(qmax)) {
    out.zero_point = qmax;
  } else {
    out.zero_point = static_cast<int64_t>(std::round(zp_real));
  }
  return out;
}

}  // namespace

FloatRange FloatRange::WithZero() const {
  return {std::min(min, 0.0f), std::max(max, 0.0f)};
}

std::string FloatRange::ToString() const {
  return absl::StrCat("[", min, ", ", max, "]");
}

QuantTarget QuantTarget::Int8Activation() { return QuantTarget{}; }

QuantTarget QuantTarget::Uint8Activation() {
  QuantTarget t;
  t.storage = DataType::kUint8;
  return t;
}

QuantTarget QuantTarget::Int16Activation() {
  QuantTarget t;
  t.storage = DataType::kInt16;
  t.symmetric = true;
  t.narrow_range = true;
  return t;
}

QuantTarget QuantTarget::Int8Weight() {
  QuantTarget t;
  t.symmetric = true;
  t.narrow_range = true;
  return t;
}

int QuantTarget::effective_bits() const {
  return bits > 0 ? bits : static_cast<int>(SizeOf(storage) * 8);
}

int64_t QuantTarget::qmin() const {
  const int b = effective_bits();
  const int64_t lowest =
      IsSignedStorage(storage) ? -(int64_t{1} << (b - 1)) : 0;
  return narrow_range ? lowest + 1 : lowest;
}

int64_t QuantTarget::qmax() const {
  const int b = effective_bits();
  return IsSignedStorage(storage) ? (int64_t{1} << (b - 1)) - 1
                                  : (int64_t{1} << b) - 1;
}

absl::Status QuantTarget::Validate() const {
  switch (storage) {
    case DataType::kInt8:
    case DataType::kUint8:
    case DataType::kInt16:
    case DataType::kUint16:
    case DataType::kInt32:
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "quantization target storage must be int8, uint8, int16, uint16 or "
          "int32, got ",
          DataTypeName(storage)));
  }
  const int storage_bits = static_cast<int>(SizeOf(storage) * 8);
  if (bits != 0 && (bits < 2 || bits > storage_bits)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "quantization target bit width ", bits, " does not fit storage ",
        DataTypeName(storage), " (2..", storage_bits, ")"));
  }
  if (!std::isfinite(zero_range_scale) || zero_range_scale <= 0.0f) {
    return absl::InvalidArgumentError(absl::StrCat(
        "zero_range_scale ", zero_range_scale, " is not finite and > 0"));
  }
  return absl::OkStatus();
}

std::string QuantTarget::ToString() const {
  std::string s(DataTypeName(storage));
  if (bits != 0 && bits != static_cast<int>(SizeOf(storage) * 8)) {
    absl::StrAppend(&s, "/", bits, "b");
  }
  absl::StrAppend(&s, symmetric ? " symmetric" : " asymmetric");
  if (narrow_range) absl::StrAppend(&s, " narrow");
  return s;
}

absl::StatusOr<QuantParams> QuantParamsForRange(FloatRange range,
                                                const QuantTarget& target) {
  QFORGE_RETURN_IF_ERROR(target.Validate());
  QFORGE_RETURN_IF_ERROR(CheckRange(range, "range"));
  const ScaleZeroPoint sz = Compute(range, target);
  QuantParams p =
      QuantParams::PerTensor(sz.scale, sz.zero_point, target.storage);
  p.bits = target.effective_bits();
  return p;
}

absl::StatusOr<QuantParams> QuantParamsForChannelRanges(
    absl::Span<const FloatRange> ranges, int axis, const QuantTarget& target) {
  QFORGE_RETURN_IF_ERROR(target.Validate());
  if (axis < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "per-channel quantization needs a channel axis >= 0, got ", axis));
  }
  if (ranges.empty()) {
    return absl::InvalidArgumentError(
        "per-channel quantization needs at least one channel range");
  }
  std::vector<float> scales;
  std::vector<int64_t> zero_points;
  scales.reserve(ranges.size());
  zero_points.reserve(ranges.size());
  for (size_t c = 0; c < ranges.size(); ++c) {
    QFORGE_RETURN_IF_ERROR(
        CheckRange(ranges[c], absl::StrCat("range of channel ", c)));
    const ScaleZeroPoint sz = Compute(ranges[c], target);
    scales.push_back(sz.scale);
    zero_points.push_back(sz.zero_point);
  }
  QuantParams p = QuantParams::PerAxis(
      std::move(scales), std::move(zero_points), axis, target.storage);
  p.bits = target.effective_bits();
  return p;
}

absl::StatusOr<std::vector<FloatRange>> ChannelRanges(const Tensor& tensor,
                                                      int axis,
                                                      absl::string_view name) {
  const std::string what = internal::Quoted("tensor", name);
  QFORGE_RETURN_IF_ERROR(internal::RequireFloat32(tensor, what));
  if (axis < 0 || axis >= tensor.rank()) {
    return absl::InvalidArgumentError(
        absl::StrCat("channel axis ", axis, " is out of range for ", what, " ",
                     tensor.DebugString()));
  }
  QFORGE_RETURN_IF_ERROR(internal::FindNonFinite(tensor, what));
  int64_t outer = 1;
  int64_t inner = 1;
  for (int i = 0; i < axis; ++i) outer *= tensor.dim(i);
  for (int i = axis + 1; i < tensor.rank(); ++i) inner *= tensor.dim(i);
  const int64_t channels = tensor.dim(axis);
  constexpr float kInf = std::numeric_limits<float>::infinity();
  std::vector<FloatRange> ranges(channels, FloatRange{kInf, -kInf});
  const float* data = tensor.data<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t c = 0; c < channels; ++c) {
      const float* p = data + (o * channels + c) * inner;
      float lo = ranges[c].min;
      float hi = ranges[c].max;
      for (int64_t i = 0; i < inner; ++i) {
        lo = std::min(lo, p[i]);
        hi = std::max(hi, p[i]);
      }
      ranges[c] = {lo, hi};
    }
  }
  for (FloatRange& r : ranges) {
    if (r.min > r.max) r = FloatRange{0.0f, 0.0f};  // Empty slice.
  }
  return ranges;
}

absl::StatusOr<QuantParams> WeightQuantParams(const Tensor& weights, int axis,
                                              const QuantTarget& target,
                                              absl::string_view name) {
  if (axis >= 0) {
    QFORGE_ASSIGN_OR_RETURN(std::vector<FloatRange> ranges,
                            ChannelRanges(weights, axis, name));
    if (ranges.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          internal::Quoted("weight", name), " ", weights.DebugString(),
          " has no channels along axis ", axis));
    }
    return QuantParamsForChannelRanges(ranges, axis, target);
  }
  if (axis != -1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weight axis must be -1 (per-tensor) or a channel axis, got ", axis));
  }
  const std::string what = internal::Quoted("weight", name);
  QFORGE_RETURN_IF_ERROR(internal::RequireFloat32(weights, what));
  QFORGE_RETURN_IF_ERROR(internal::FindNonFinite(weights, what));
  FloatRange range;
  if (!weights.empty()) {
    auto values = weights.values<float>();
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    range = {*lo, *hi};
  }
  return QuantParamsForRange(range, target);
}

}  // namespace qforge
