// From real-valued ranges to quantization parameters.
//
// A calibrated activation range or a weight's per-channel ranges become
// `QuantParams` (scale, zero point) for a target integer type. The rules,
// shared by every quantizer:
//
//  * The range always includes 0, so that 0.0 is exactly representable
//    (q == zero_point): padding, ReLU outputs and zero-initialized values stay
//    exact.
//  * Asymmetric targets (default for activations: int8 [-128, 127], uint8
//    [0, 255]) map [min, max] onto [qmin, qmax]:
//        scale = (max - min) / (qmax - qmin)
//        zero_point = round(qmin - min / scale)   (half away from zero,
//                                                  clamped to [qmin, qmax])
//    computed in double, with the zero point derived from the float scale
//    that is stored. The represented range may differ from [min, max] by up
//    to half a step at one end (zero-point nudging).
//  * Symmetric targets (weights: int8 narrow range [-127, 127]; int16
//    activations as in TFLite's 16x8 scheme) have zero_point 0 for signed
//    storage (the midpoint, e.g. 128, for unsigned storage) and
//        scale = max(|min|, |max|) / n
//    where n is the number of steps on the shorter side of the zero point
//    (127 for int8 narrow or not, 32767 for int16).
//  * Degenerate ranges. All values equal to c != 0: the scale is c divided by
//    the largest power of two m that fits the steps on c's side of the zero
//    point (128 for int8 asymmetric, 64 for int8 symmetric), so that c is
//    exactly q = zero_point + m steps, dequantizes to exactly c, and quantizes
//    back to exactly q. All values zero: the scale is
//    `QuantTarget::zero_range_scale` (1.0 by default, as ONNX Runtime's
//    quantization tool does): any scale represents 0 exactly, and a scale of
//    1 keeps derived scales (bias scale = input scale * weight scale) far from
//    underflow, so that a zero weight channel cannot make an int32 bias
//    overflow.
//  * Scales are clamped below at kMinQuantScale = 2^-26 (~1.49e-8), like
//    PyTorch's observers clamp at float epsilon: the product of two such
//    scales (a bias scale) is still a normal float (2^-52), and 1/scale and
//    requantization multipliers stay finite. Ranges narrower than about
//    255 * 2^-26 ~ 3.8e-6 are therefore represented more coarsely than their
//    width asks for.
#ifndef QFORGE_QUANTIZE_QUANT_MATH_H_
#define QFORGE_QUANTIZE_QUANT_MATH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "qforge/core/data_type.h"
#include "qforge/core/export.h"
#include "qforge/core/quant_params.h"
#include "qforge/core/tensor.h"

namespace qforge {

// Smallest scale qforge produces (see the header comment).
inline constexpr float kMinQuantScale = 0x1p-26f;

// A closed real interval [min, max].
struct QFORGE_EXPORT FloatRange {
  float min = 0.0f;
  float max = 0.0f;

  // The smallest interval containing this one and 0.
  FloatRange WithZero() const;
  std::string ToString() const;  // "[-1.5, 3.25]"
  bool operator==(const FloatRange& other) const = default;
};

// What a range is quantized to.
struct QFORGE_EXPORT QuantTarget {
  DataType storage = DataType::kInt8;
  // Bit width of the integer values; 0 means every bit of `storage`.
  int bits = 0;
  // Symmetric: zero point fixed at 0 (signed) or the midpoint (unsigned).
  bool symmetric = false;
  // Narrow range: the lowest integer (e.g. -128) is not used, which makes
  // signed symmetric quantization exactly symmetric ([-127, 127]).
  bool narrow_range = false;
  // Scale of an all-zero range (see the header comment).
  float zero_range_scale = 1.0f;

  // int8 asymmetric [-128, 127]: the default for activations.
  static QuantTarget Int8Activation();
  // uint8 asymmetric [0, 255].
  static QuantTarget Uint8Activation();
  // int16 symmetric, zero point 0, scale = max|x| / 32767 (TFLite 16x8).
  static QuantTarget Int16Activation();
  // int8 symmetric narrow range [-127, 127], zero point 0: weights.
  static QuantTarget Int8Weight();

  int effective_bits() const;
  // Integer bounds actually used: [qmin (+1 when narrow), qmax].
  int64_t qmin() const;
  int64_t qmax() const;
  // Integer type, bit width fitting the storage, finite positive
  // zero_range_scale.
  absl::Status Validate() const;
  std::string ToString() const;  // "int8 asymmetric", "int8 symmetric narrow"
};

// Per-tensor parameters for `range`. InvalidArgument for a non-finite range,
// min > max, or an invalid target.
QFORGE_EXPORT absl::StatusOr<QuantParams> QuantParamsForRange(
    FloatRange range, const QuantTarget& target);

// Per-axis parameters, one channel per range along `axis` (>= 0).
QFORGE_EXPORT absl::StatusOr<QuantParams> QuantParamsForChannelRanges(
    absl::Span<const FloatRange> ranges, int axis, const QuantTarget& target);

// The [min, max] of each slice of a float32 tensor along `axis`
// (0 <= axis < rank). Error (naming `name`, the element and its index) for
// NaN/Inf, non-float32 tensors and bad axes; an empty slice gives [0, 0].
QFORGE_EXPORT absl::StatusOr<std::vector<FloatRange>> ChannelRanges(
    const Tensor& tensor, int axis, absl::string_view name = "");

// Parameters for a weight tensor straight from its values (weights need no
// calibration): per-channel along `axis`, or per-tensor when axis == -1.
// Default target: int8 symmetric narrow range.
QFORGE_EXPORT absl::StatusOr<QuantParams> WeightQuantParams(
    const Tensor& weights, int axis,
    const QuantTarget& target = QuantTarget::Int8Weight(),
    absl::string_view name = "");

}  // namespace qforge

#endif  // QFORGE_QUANTIZE_QUANT_MATH_H_
