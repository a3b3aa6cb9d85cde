// QuantConfig: every choice a quantization run makes, in one plain struct.
//
// The defaults quantize a model the way most deployments want it: int8
// asymmetric activations, int8 symmetric per-channel weights (7-bit,
// [-63, 63], for the onnxruntime profile so that ONNX Runtime's fused kernels
// compute exact sums on every x86 CPU; [-127, 127] for tflite_reference),
// int32 bias, min/max calibration, and the onnxruntime arithmetic profile
// (choose tflite_reference for TFLite output). An op with no quantizer is an
// error by default (UnknownOpPolicy::kError); kKeepFloat keeps it in float
// between DequantizeLinear and QuantizeLinear and lists it in the report.
//
// The same settings live in a protobuf text-format file (the CLI's
// --config), e.g.
//
//   activation_type: "int8"
//   weight_range: "full"            # full (default) | reduced
//   calibration_method: "percentile"
//   percentile: 99.99
//   exclude_op_types: "Softmax"
//   unknown_op_policy: "keep_float"
//   tensor_overrides { name: "logits" min: -20 max: 20 }
//
// Unknown fields and invalid values are InvalidArgument errors naming them.
#ifndef QFORGE_QUANTIZE_QUANT_CONFIG_H_
#define QFORGE_QUANTIZE_QUANT_CONFIG_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "qforge/core/arithmetic_profile.h"
#include "qforge/core/data_type.h"
#include "qforge/core/export.h"
#include "qforge/quantize/calibration.h"

namespace qforge {

// Integer range of quantized weights (Conv, Gemm, MatMul constants).
//  * kFull (default): int8 symmetric narrow range [-127, 127].
//  * kReduced: 7-bit, [-63, 63] (symmetric, zero point 0; ONNX Runtime's
//    `reduce_range`). x86 CPUs without VNNI (AVX2 only) run ORT's fused
//    u8s8/s8s8 Conv/Gemm/MatMul kernels with `pmaddubsw`, which saturates
//    the int16 sum of two uint8 x int8 products: 2 * 255 * 127 > 32767, but
//    2 * 255 * 63 < 32767. With 7-bit weights ORT's fused kernels compute the
//    exact int32 sums on every CPU, so ORT's default session and qforge's
//    onnxruntime profile agree (docs/arithmetic.md has the measurements).
//    Choose it when the model will run on ONNX Runtime on such CPUs; it
//    costs one bit of weight precision everywhere else.
enum class WeightRange { kFull, kReduced };

enum class UnknownOpPolicy {
  kError,      // Fail, naming the node, the op and the fixes.
  kKeepFloat,  // Keep it float between Dequantize/Quantize; report it.
};

// Fixes the quantization of one tensor instead of calibrating it: either a
// real range (min <= 0 <= max after widening to include 0) or explicit
// scale and zero point.
struct TensorOverride {
  std::optional<float> min;
  std::optional<float> max;
  std::optional<float> scale;
  std::optional<int64_t> zero_point;
  bool operator==(const TensorOverride&) const = default;
};

struct QFORGE_EXPORT QuantConfig {
  // Activations: kInt8 (asymmetric, default) or kUint8.
  DataType activation_type = DataType::kInt8;
  // Weights: int8 symmetric, per output channel by default.
  bool per_channel_weights = true;
  // [-127, 127] or 7-bit [-63, 63] (see WeightRange).
  WeightRange weight_range = WeightRange::kFull;
  ArithmeticProfile profile = ArithmeticProfile::kOnnxRuntime;

  // Calibration.
  CalibrationMethod calibration_method = CalibrationMethod::kMinMax;
  ObserverOptions observer;
  RangeOptions range;
  // Samples run through the model per executor call during calibration.
  int calibration_batch_size = 16;
  // Fewer samples than this is a warning in the report.
  int min_calibration_samples = 100;

  // Nodes kept float, by exact node name, by regular expression (ECMAScript
  // syntax, matched against the whole name) and by op type.
  std::vector<std::string> exclude_nodes;
  std::vector<std::string> exclude_name_patterns;
  std::vector<std::string> exclude_op_types;
  // Keep the first / last quantizable layer (Conv, Gemm, MatMul) in float.
  bool keep_first_layer_float = false;
  bool keep_last_layer_float = false;

  // Per-tensor overrides, by value name.
  std::map<std::string, TensorOverride> tensor_overrides;

  UnknownOpPolicy unknown_op_policy = UnknownOpPolicy::kError;

  // Other names for registered ops, "domain::OpType" -> "domain::OpType"
  // (the default domain is written without "::"), e.g.
  // "com.example::AnchorBoxes" -> "qforge.contrib::AnchorBoxes".
  std::map<std::string, std::string> op_aliases;

  // OK when every field is in range and every pattern compiles.
  absl::Status Validate() const;

  bool operator==(const QuantConfig&) const = default;
};

// Text format (see the header comment).
QFORGE_EXPORT absl::StatusOr<QuantConfig> ParseQuantConfig(absl::string_view text);
QFORGE_EXPORT std::string QuantConfigToText(const QuantConfig& config);
QFORGE_EXPORT absl::StatusOr<QuantConfig> LoadQuantConfig(absl::string_view path);
QFORGE_EXPORT absl::Status SaveQuantConfig(const QuantConfig& config,
                                           absl::string_view path);

QFORGE_EXPORT const char* UnknownOpPolicyName(UnknownOpPolicy policy);
// "full", "reduced" and back.
QFORGE_EXPORT const char* WeightRangeName(WeightRange range);
QFORGE_EXPORT absl::StatusOr<WeightRange> ParseWeightRange(absl::string_view name);

}  // namespace qforge

#endif  // QFORGE_QUANTIZE_QUANT_CONFIG_H_
