// Built-in quantizers. Each is a spec; none needs a rewrite. The int8
// kernels that run the result are in lib/kernels/int8.
//
//   Conv, Gemm, MatMul      activation x weight (per output channel) + bias
//   Add, Sub, Mul           every input an activation, output calibrated
//   Relu, Clip, LeakyRelu,  output calibrated (Relu and Clip fuse into their
//   HardSwish, Resize       producer when it is quantized: quantize.cc);
//   (linear), pooling       Resize nearest shares its input's scale
//   averages, ReduceMean
//   Sigmoid, Softmax        fixed output 1/256, -128 (int8)
//   Tanh                    fixed output 1/128, 0
//   MaxPool, AveragePool,   input and output share one scale
//   Concat (all inputs),
//   Reshape, Flatten,
//   Transpose, Squeeze,
//   Unsqueeze, Pad, Slice,
//   Split, Identity
#include "quantize/builtin_quantizers.h"

#include <functional>

#include "absl/strings/str_cat.h"
#include "qforge/core/status.h"

namespace qforge::internal {
namespace {

using Kind = InputQuantSpec::Kind;

// A quantizer whose spec is a function of the node.
class SpecQuantizer final : public OpQuantizer {
 public:
  using Fn = std::function<absl::StatusOr<OpQuantSpec>(const Node&, const QuantConfig&)>;
  explicit SpecQuantizer(Fn fn) : fn_(std::move(fn)) {}
  absl::StatusOr<OpQuantSpec> Spec(const Node& node, const QuantConfig& config) const override {
    return fn_(node, config);
  }

 private:
  Fn fn_;
};

// Input 0 an activation, the others left as they are; outputs as given.
OpQuantSpec FirstInputActivation(const Node& node, OutputQuantSpec output) {
  OpQuantSpec spec;
  spec.inputs.assign(node.num_inputs(), InputQuantSpec::Unquantized());
  if (node.num_inputs() > 0) spec.inputs[0] = InputQuantSpec::Activation();
  spec.outputs.assign(node.num_outputs(), output);
  return spec;
}

// Input 0 and every output share one scale.
OpQuantSpec PassThrough(const Node& node) {
  OpQuantSpec spec = FirstInputActivation(node, OutputQuantSpec::Calibrated());
  std::vector<TensorSlot> group = {TensorSlot::Input(0)};
  for (int i = 0; i < node.num_outputs(); ++i) group.push_back(TensorSlot::Output(i));
  spec.shared_scale_groups.push_back(std::move(group));
  return spec;
}

bool IsFloatConstant(const Value* v) {
  return v != nullptr && v->is_constant() && v->constant()->dtype() == DataType::kFloat32;
}

absl::StatusOr<OpQuantSpec> ConvSpec(const Node& node, const QuantConfig&) {
  if (!IsFloatConstant(node.input(1))) {
    return OpQuantSpec::Decline("its weights are not a float32 constant");
  }
  if (node.input(2) != nullptr && !IsFloatConstant(node.input(2))) {
    return OpQuantSpec::Decline("its bias is not a float32 constant");
  }
  OpQuantSpec spec;
  spec.inputs = {InputQuantSpec::Activation(), InputQuantSpec::Weight(0)};
  if (node.num_inputs() > 2) spec.inputs.push_back(InputQuantSpec::Bias(0, 1));
  spec.outputs = {OutputQuantSpec::Calibrated()};
  return spec;
}

absl::StatusOr<OpQuantSpec> GemmSpec(const Node& node, const QuantConfig&) {
  QFORGE_ASSIGN_OR_RETURN(float alpha, node.GetFloat("alpha", 1.0f));
  QFORGE_ASSIGN_OR_RETURN(float beta, node.GetFloat("beta", 1.0f));
  QFORGE_ASSIGN_OR_RETURN(int64_t trans_a, node.GetInt("transA", 0));
  QFORGE_ASSIGN_OR_RETURN(int64_t trans_b, node.GetInt("transB", 0));
  if (alpha != 1.0f || beta != 1.0f) {
    return OpQuantSpec::Decline(absl::StrCat("alpha=", alpha, ", beta=", beta,
                                             " (only 1 and 1 are quantized)"));
  }
  if (trans_a != 0) return OpQuantSpec::Decline("transA=1 is not quantized");
  const Value* w = node.input(1);
  if (!IsFloatConstant(w) || w->constant()->rank() != 2) {
    return OpQuantSpec::Decline("its weights are not a 2-D float32 constant");
  }
  const int64_t n = w->constant()->dim(trans_b ? 0 : 1);
  OpQuantSpec spec;
  spec.inputs = {InputQuantSpec::Activation(), InputQuantSpec::Weight(trans_b ? 0 : 1)};
  const Value* c = node.input(2);
  if (node.num_inputs() > 2) {
    if (c != nullptr &&
        (!IsFloatConstant(c) || c->constant()->num_elements() != n || c->constant()->rank() > 2 ||
         (c->constant()->rank() == 2 && c->constant()->dim(0) != 1))) {
      return OpQuantSpec::Decline(
          absl::StrCat("its C input is not a bias of ", n, " elements"));
    }
    spec.inputs.push_back(InputQuantSpec::Bias(0, 1));
  }
  spec.outputs = {OutputQuantSpec::Calibrated()};
  return spec;
}

absl::StatusOr<OpQuantSpec> MatMulSpec(const Node& node, const QuantConfig&) {
  OpQuantSpec spec;
  const Value* b = node.input(1);
  spec.inputs = {InputQuantSpec::Activation(),
                 IsFloatConstant(b) && b->constant()->rank() == 2
                     ? InputQuantSpec::Weight(1)
                     : InputQuantSpec::Activation()};
  spec.outputs = {OutputQuantSpec::Calibrated()};
  return spec;
}

absl::StatusOr<OpQuantSpec> ElementwiseSpec(const Node& node, const QuantConfig&) {
  OpQuantSpec spec;
  spec.inputs.assign(node.num_inputs(), InputQuantSpec::Activation());
  spec.outputs = {OutputQuantSpec::Calibrated()};
  return spec;
}

absl::StatusOr<OpQuantSpec> ConcatSpec(const Node& node, const QuantConfig&) {
  OpQuantSpec spec;
  spec.inputs.assign(node.num_inputs(), InputQuantSpec::Activation());
  spec.outputs = {OutputQuantSpec::Calibrated()};
  std::vector<TensorSlot> group = {TensorSlot::Output(0)};
  for (int i = 0; i < node.num_inputs(); ++i) group.push_back(TensorSlot::Input(i));
  spec.shared_scale_groups.push_back(std::move(group));
  return spec;
}

absl::StatusOr<OpQuantSpec> ResizeSpec(const Node& node, const QuantConfig&) {
  QFORGE_ASSIGN_OR_RETURN(std::string mode, node.GetString("mode", "nearest"));
  if (mode == "nearest") return PassThrough(node);
  if (mode == "linear") return FirstInputActivation(node, OutputQuantSpec::Calibrated());
  return OpQuantSpec::Decline(absl::StrCat("mode '", mode, "' is not quantized"));
}

absl::StatusOr<OpQuantSpec> AveragePoolSpec(const Node& node, const QuantConfig&) {
  return PassThrough(node);
}

}  // namespace

absl::Status RegisterBuiltinQuantizers(QuantizerTable& table) {
  auto add = [&](const char* op, SpecQuantizer::Fn fn) {
    return table.Register(OpKey{"", op}, std::make_unique<SpecQuantizer>(std::move(fn)));
  };
  auto calibrated = [](const Node& n, const QuantConfig&) -> absl::StatusOr<OpQuantSpec> {
    return FirstInputActivation(n, OutputQuantSpec::Calibrated());
  };
  auto pass_through = [](const Node& n, const QuantConfig&) -> absl::StatusOr<OpQuantSpec> {
    return PassThrough(n);
  };
  auto fixed = [](float scale, int64_t zero_point) {
    return [=](const Node& n, const QuantConfig&) -> absl::StatusOr<OpQuantSpec> {
      return FirstInputActivation(n, OutputQuantSpec::Fixed(scale, zero_point));
    };
  };
  QFORGE_RETURN_IF_ERROR(add("Conv", ConvSpec));
  QFORGE_RETURN_IF_ERROR(add("Gemm", GemmSpec));
  QFORGE_RETURN_IF_ERROR(add("MatMul", MatMulSpec));
  for (const char* op : {"Add", "Sub", "Mul"}) {
    QFORGE_RETURN_IF_ERROR(add(op, ElementwiseSpec));
  }
  for (const char* op : {"Relu", "Clip", "LeakyRelu", "HardSwish", "GlobalAveragePool",
                         "ReduceMean"}) {
    QFORGE_RETURN_IF_ERROR(add(op, calibrated));
  }
  QFORGE_RETURN_IF_ERROR(add("Sigmoid", fixed(1.0f / 256.0f, -128)));
  QFORGE_RETURN_IF_ERROR(add("Softmax", fixed(1.0f / 256.0f, -128)));
  QFORGE_RETURN_IF_ERROR(add("Tanh", fixed(1.0f / 128.0f, 0)));
  QFORGE_RETURN_IF_ERROR(add("AveragePool", AveragePoolSpec));
  for (const char* op : {"MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze",
                         "Pad", "Slice", "Split", "Identity"}) {
    QFORGE_RETURN_IF_ERROR(add(op, pass_through));
  }
  QFORGE_RETURN_IF_ERROR(add("Concat", ConcatSpec));
  QFORGE_RETURN_IF_ERROR(add("Resize", ResizeSpec));
  return absl::OkStatus();
}

}  // namespace qforge::internal
