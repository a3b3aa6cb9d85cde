#include "qforge/quantize/quant_config.h"

#include <regex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "io/atomic_file.h"
#include "qforge/core/status.h"
#include "quantize/proto/quant_config.pb.h"

namespace qforge {
namespace {

using internal::proto::QuantConfigProto;

// Collects text-format parse errors with their line and column.
class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    errors.push_back(absl::StrCat("line ", line + 1, ", column ", column + 1,
                                  ": ", message));
  }
  void AddWarning(int line, google::protobuf::io::ColumnNumber column,
                  const std::string& message) override {
    AddError(line, column, message);
  }
  std::vector<std::string> errors;
};

absl::StatusOr<UnknownOpPolicy> ParsePolicy(absl::string_view name) {
  if (name == "error") return UnknownOpPolicy::kError;
  if (name == "keep_float") return UnknownOpPolicy::kKeepFloat;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown_op_policy '", name, "' is not one of: error, keep_float"));
}

}  // namespace

const char* UnknownOpPolicyName(UnknownOpPolicy policy) {
  return policy == UnknownOpPolicy::kKeepFloat ? "keep_float" : "error";
}

const char* WeightRangeName(WeightRange range) {
  switch (range) {
    case WeightRange::kFull: return "full";
    case WeightRange::kReduced: return "reduced";
  }
  return "full";
}

absl::StatusOr<WeightRange> ParseWeightRange(absl::string_view name) {
  if (name == "full") return WeightRange::kFull;
  if (name == "reduced") return WeightRange::kReduced;
  return absl::InvalidArgumentError(absl::StrCat(
      "weight_range '", name, "' is not one of: full, reduced"));
}

absl::Status QuantConfig::Validate() const {
  if (activation_type != DataType::kInt8 && activation_type != DataType::kUint8) {
    return absl::InvalidArgumentError(
        absl::StrCat("activation_type must be int8 or uint8, got ",
                     DataTypeName(activation_type)));
  }
  if (activation_type == DataType::kUint8 && profile != ArithmeticProfile::kOnnxRuntime) {
    return absl::InvalidArgumentError(absl::StrCat(
        "activation_type uint8 needs the onnxruntime profile, got ",
        ArithmeticProfileName(profile),
        " (TFLite's int8 kernels take int8 activations; its uint8 kernels are a "
        "different arithmetic)"));
  }
  QFORGE_RETURN_IF_ERROR(observer.Validate());
  QFORGE_RETURN_IF_ERROR(range.Validate());
  if (calibration_batch_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "calibration_batch_size must be >= 1, got ", calibration_batch_size));
  }
  if (min_calibration_samples < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "min_calibration_samples must be >= 0, got ", min_calibration_samples));
  }
  for (const std::string& pattern : exclude_name_patterns) {
    try {
      std::regex re(pattern);
    } catch (const std::regex_error& e) {
      return absl::InvalidArgumentError(absl::StrCat(
          "exclude_name_patterns: '", pattern, "' is not a valid regular expression: ",
          e.what()));
    }
  }
  for (const auto& [name, o] : tensor_overrides) {
    const bool has_range = o.min.has_value() || o.max.has_value();
    const bool has_params = o.scale.has_value() || o.zero_point.has_value();
    if (has_range == has_params) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor override '", name,
          "' must give either min and max, or scale and zero_point"));
    }
    if (has_range && (!o.min || !o.max || !(*o.min <= *o.max))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor override '", name, "' needs min <= max"));
    }
    if (has_params && (!o.scale || !o.zero_point || !(*o.scale > 0.0f))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor override '", name, "' needs scale > 0 and a zero_point"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<QuantConfig> ParseQuantConfig(absl::string_view text) {
  QuantConfigProto proto;
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &proto)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid quantization config: ", absl::StrJoin(errors.errors, "; ")));
  }
  QuantConfig c;
  if (proto.has_activation_type()) {
    QFORGE_ASSIGN_OR_RETURN(c.activation_type, ParseDataType(proto.activation_type()));
  }
  if (proto.has_per_channel_weights()) c.per_channel_weights = proto.per_channel_weights();
  if (proto.has_weight_range()) {
    QFORGE_ASSIGN_OR_RETURN(c.weight_range, ParseWeightRange(proto.weight_range()));
  }
  if (proto.has_profile()) {
    QFORGE_ASSIGN_OR_RETURN(c.profile, ParseArithmeticProfile(proto.profile()));
  }
  if (proto.has_calibration_method()) {
    QFORGE_ASSIGN_OR_RETURN(c.calibration_method,
                            ParseCalibrationMethod(proto.calibration_method()));
  }
  if (proto.has_histogram_bins()) c.observer.num_bins = proto.histogram_bins();
  if (proto.has_averaging_constant()) c.observer.averaging_constant = proto.averaging_constant();
  if (proto.has_percentile()) c.range.percentile = proto.percentile();
  if (proto.has_entropy_quantized_bins()) {
    c.range.num_quantized_bins = proto.entropy_quantized_bins();
  }
  if (proto.has_mse_num_levels()) c.range.mse_num_levels = proto.mse_num_levels();
  if (proto.has_mse_symmetric()) c.range.mse_symmetric = proto.mse_symmetric();
  if (proto.has_calibration_batch_size()) {
    c.calibration_batch_size = proto.calibration_batch_size();
  }
  if (proto.has_min_calibration_samples()) {
    c.min_calibration_samples = proto.min_calibration_samples();
  }
  c.exclude_nodes.assign(proto.exclude_nodes().begin(), proto.exclude_nodes().end());
  c.exclude_name_patterns.assign(proto.exclude_name_patterns().begin(),
                                 proto.exclude_name_patterns().end());
  c.exclude_op_types.assign(proto.exclude_op_types().begin(),
                            proto.exclude_op_types().end());
  if (proto.has_keep_first_layer_float()) {
    c.keep_first_layer_float = proto.keep_first_layer_float();
  }
  if (proto.has_keep_last_layer_float()) {
    c.keep_last_layer_float = proto.keep_last_layer_float();
  }
  for (const auto& o : proto.tensor_overrides()) {
    if (o.name().empty()) {
      return absl::InvalidArgumentError("a tensor override has no name");
    }
    TensorOverride t;
    if (o.has_min()) t.min = o.min();
    if (o.has_max()) t.max = o.max();
    if (o.has_scale()) t.scale = o.scale();
    if (o.has_zero_point()) t.zero_point = o.zero_point();
    if (!c.tensor_overrides.emplace(o.name(), t).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor override '", o.name(), "' is given twice"));
    }
  }
  if (proto.has_unknown_op_policy()) {
    QFORGE_ASSIGN_OR_RETURN(c.unknown_op_policy, ParsePolicy(proto.unknown_op_policy()));
  }
  for (const auto& a : proto.op_aliases()) {
    if (a.from().empty() || a.to().empty()) {
      return absl::InvalidArgumentError("an op alias needs both 'from' and 'to'");
    }
    c.op_aliases[a.from()] = a.to();
  }
  QFORGE_RETURN_IF_ERROR(c.Validate());
  return c;
}

std::string QuantConfigToText(const QuantConfig& c) {
  QuantConfigProto proto;
  proto.set_activation_type(std::string(DataTypeName(c.activation_type)));
  proto.set_per_channel_weights(c.per_channel_weights);
  proto.set_weight_range(WeightRangeName(c.weight_range));
  proto.set_profile(ArithmeticProfileName(c.profile));
  proto.set_calibration_method(std::string(CalibrationMethodName(c.calibration_method)));
  proto.set_histogram_bins(c.observer.num_bins);
  proto.set_averaging_constant(c.observer.averaging_constant);
  proto.set_percentile(c.range.percentile);
  proto.set_entropy_quantized_bins(c.range.num_quantized_bins);
  proto.set_mse_num_levels(c.range.mse_num_levels);
  proto.set_mse_symmetric(c.range.mse_symmetric);
  proto.set_calibration_batch_size(c.calibration_batch_size);
  proto.set_min_calibration_samples(c.min_calibration_samples);
  for (const auto& n : c.exclude_nodes) proto.add_exclude_nodes(n);
  for (const auto& n : c.exclude_name_patterns) proto.add_exclude_name_patterns(n);
  for (const auto& n : c.exclude_op_types) proto.add_exclude_op_types(n);
  proto.set_keep_first_layer_float(c.keep_first_layer_float);
  proto.set_keep_last_layer_float(c.keep_last_layer_float);
  for (const auto& [name, o] : c.tensor_overrides) {
    auto* t = proto.add_tensor_overrides();
    t->set_name(name);
    if (o.min) t->set_min(*o.min);
    if (o.max) t->set_max(*o.max);
    if (o.scale) t->set_scale(*o.scale);
    if (o.zero_point) t->set_zero_point(*o.zero_point);
  }
  proto.set_unknown_op_policy(UnknownOpPolicyName(c.unknown_op_policy));
  for (const auto& [from, to] : c.op_aliases) {
    auto* a = proto.add_op_aliases();
    a->set_from(from);
    a->set_to(to);
  }
  std::string text;
  google::protobuf::TextFormat::PrintToString(proto, &text);
  return text;
}

absl::StatusOr<QuantConfig> LoadQuantConfig(absl::string_view path) {
  std::string text;
  QFORGE_RETURN_IF_ERROR(internal::ReadFileToString(path, &text, int64_t{1} << 24));
  absl::StatusOr<QuantConfig> config = ParseQuantConfig(text);
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

absl::Status SaveQuantConfig(const QuantConfig& config, absl::string_view path) {
  return internal::WriteFileAtomically(path, QuantConfigToText(config));
}

}  // namespace qforge
