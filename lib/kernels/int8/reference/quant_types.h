// Small parameter types shared by the INT8 reference kernels.
//
// The kernels work on raw buffers and take their quantization parameters in
// these plain structs, independent of the graph IR; a quantizer translates a
// node's QuantParams into them.
#ifndef QFORGE_LIB_KERNELS_INT8_REFERENCE_QUANT_TYPES_H_
#define QFORGE_LIB_KERNELS_INT8_REFERENCE_QUANT_TYPES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace qforge::kernels::reference {

// One (scale, zero point) pair: real = scale * (q - zero_point).
struct QuantParam {
  float scale = 1.0f;
  int32_t zero_point = 0;

  bool operator==(const QuantParam&) const = default;
};

// The fused activation of an op as an integer clamp applied to the final
// quantized output (TFLite's quantized_activation_min/max; for ONNX Runtime
// the Relu/Clip a QDQ graph folds into the Q node's range). The effective
// range is the intersection with the output type's range.
struct ActivationRange {
  int32_t min = -128;
  int32_t max = 127;
};

// Weight quantization: one scale (per-tensor) or one per output channel;
// zero points empty (all zero), one, or one per output channel.
struct WeightQuant {
  std::vector<float> scales;
  std::vector<int32_t> zero_points;

  float scale(int64_t channel) const {
    return scales.size() == 1 ? scales[0] : scales[channel];
  }
  int32_t zero_point(int64_t channel) const {
    if (zero_points.empty()) return 0;
    return zero_points.size() == 1 ? zero_points[0] : zero_points[channel];
  }
  bool all_zero_points_zero() const {
    for (int32_t z : zero_points) {
      if (z != 0) return false;
    }
    return true;
  }
};

inline constexpr int32_t kInt8Min = -128;
inline constexpr int32_t kInt8Max = 127;

// OK when scale is finite and > 0 and zero_point lies in [qmin, qmax];
// otherwise InvalidArgument naming `what`.
absl::Status ValidateQuantParam(const QuantParam& q, absl::string_view what,
                                int32_t qmin = kInt8Min,
                                int32_t qmax = kInt8Max);

// OK when min <= max and the range intersects [-128, 127].
absl::Status ValidateActivationRange(const ActivationRange& range);

// OK when the scales (1 or `channels`) are finite and > 0 and the zero points
// (0, 1 or `channels`) lie in [-128, 127].
absl::Status ValidateWeightQuant(const WeightQuant& w, int64_t channels);

// The effective output clamp: [max(range.min, -128), min(range.max, 127)].
inline int32_t ClampToActivation(int32_t value, const ActivationRange& range) {
  const int32_t lo = range.min > kInt8Min ? range.min : kInt8Min;
  const int32_t hi = range.max < kInt8Max ? range.max : kInt8Max;
  return value < lo ? lo : (value > hi ? hi : value);
}

// "scale=0.5 zero_point=-3", for error messages.
std::string DescribeQuantParam(const QuantParam& q);

}  // namespace qforge::kernels::reference

#endif  // QFORGE_LIB_KERNELS_INT8_REFERENCE_QUANT_TYPES_H_
