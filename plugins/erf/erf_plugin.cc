#include "erf/erf_plugin.h"

#include <cmath>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "kernels/float/gelu.h"
#include "qforge/core/status.h"
#include "qforge/plugin.h"

namespace qforge::plugins::erf {
namespace {

using kernels::reference::Int8Lut;
using kernels::reference::QuantParam;

// Input 0 an activation; output 0 as given.
OpQuantSpec UnarySpec(OutputQuantSpec output) {
  OpQuantSpec spec;
  spec.inputs = {InputQuantSpec::Activation()};
  spec.outputs = {output};
  return spec;
}

absl::Status CheckUnary(const Node& node) {
  if (node.num_inputs() != 1 || node.input(0) == nullptr ||
      node.num_outputs() != 1 || node.output(0) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": expected one input and one output, got ",
        node.num_inputs(), " and ", node.num_outputs()));
  }
  return absl::OkStatus();
}

// approximate = "none" -> false, "tanh" -> true.
absl::StatusOr<bool> GeluUsesTanh(const Node& node) {
  QFORGE_ASSIGN_OR_RETURN(std::string approximate,
                          node.GetString("approximate", "none"));
  if (approximate != "none" && approximate != "tanh") {
    return absl::InvalidArgumentError(
        absl::StrCat(node.Describe(),
                     ": attribute approximate must be 'none' or 'tanh', got '",
                     approximate, "'"));
  }
  return approximate == "tanh";
}

class ErfQuantizer final : public OpQuantizer {
 public:
  absl::StatusOr<OpQuantSpec> Spec(const Node& node,
                                   const QuantConfig&) const override {
    QFORGE_RETURN_IF_ERROR(CheckUnary(node));
    // erf(x) is in [-1, 1]: the full int8 range at 1/128 (as Tanh), exact
    // at -1 and one LSB short of +1 (127/128), where erf(x) > 127/128 only
    // for |x| > 1.77.
    return UnarySpec(OutputQuantSpec::Fixed(1.0f / 128.0f, 0));
  }
};

class GeluQuantizer final : public OpQuantizer {
 public:
  absl::StatusOr<OpQuantSpec> Spec(const Node& node,
                                   const QuantConfig&) const override {
    QFORGE_RETURN_IF_ERROR(CheckUnary(node));
    QFORGE_RETURN_IF_ERROR(GeluUsesTanh(node).status());
    // GELU is unbounded above; its range follows the data.
    return UnarySpec(OutputQuantSpec::Calibrated());
  }
};

// Per-tensor int8 params of the node's input 0 (output 0 when `output`).
// The plugin reads Value::quant() itself rather than lib/kernels/int8/util.h
// so that its shared-library build needs no qforge internals beyond the
// reference table sources (plugins/erf/CMakeLists.txt).
absl::StatusOr<QuantParam> Int8Params(const Node& node, bool output) {
  const Value* v = output ? node.output(0) : node.input(0);
  const char* what = output ? "output 0" : "input 0";
  if (v == nullptr || !v->quant().has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": ", what, " has no quantization parameters"));
  }
  const QuantParams& q = *v->quant();
  if (q.storage != DataType::kInt8) {
    return absl::UnimplementedError(
        absl::StrCat(node.Describe(), ": ", what, " '", v->name(), "' is ",
                     DataTypeName(q.storage), "; the table kernel is int8"));
  }
  if (q.per_axis() || q.scale.size() != 1 || q.zero_point.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(node.Describe(), ": ", what, " '", v->name(),
                     "' must have per-tensor parameters"));
  }
  return QuantParam{q.scale[0], static_cast<int32_t>(q.zero_point[0])};
}

// Registers `factory` for {"", op} and int8 inputs. A kernel already
// registered for int8 (the float Erf kernel runs plain integer tensors)
// keeps serving nodes whose input carries no quantization parameters.
absl::Status RegisterInt8Kernel(KernelTable& table, const char* op,
                                KernelFactory factory) {
  const OpKey key{"", op};
  const KernelDef* previous = table.Find(key, DataType::kInt8);
  if (previous == nullptr) {
    return table.Register({key, DataType::kInt8, std::move(factory)});
  }
  KernelFactory fallback = previous->create;
  table.Replace(
      {key, DataType::kInt8,
       [factory = std::move(factory), fallback = std::move(fallback)](
           const KernelInitContext& init)
           -> absl::StatusOr<std::unique_ptr<OpKernel>> {
         const Value* x = init.node.input(0);
         const bool quantized = x != nullptr && x->quant().has_value();
         return quantized ? factory(init) : fallback(init);
       }});
  return absl::OkStatus();
}

std::unique_ptr<OpKernel> TableKernel(const Int8Lut& lut) {
  return std::make_unique<FunctionKernel>(
      [lut](KernelContext& ctx) -> absl::Status {
        const Tensor* x = ctx.input(0);
        if (x == nullptr || x->dtype() != DataType::kInt8) {
          return ctx.Error("input 0 must be int8");
        }
        Tensor* y = ctx.output(0);
        if (y == nullptr) return ctx.Error("output 0 is missing");
        y->Reset(DataType::kInt8, x->dims());
        return kernels::reference::ApplyLut(
            lut, x->data<int8_t>(), x->num_elements(), y->data<int8_t>());
      });
}

absl::StatusOr<std::unique_ptr<OpKernel>> WithNode(
    const Node& node, absl::StatusOr<Int8Lut> lut) {
  if (!lut.ok()) {
    return absl::Status(
        lut.status().code(),
        absl::StrCat(node.Describe(), ": ", lut.status().message()));
  }
  return TableKernel(*lut);
}

absl::StatusOr<std::unique_ptr<OpKernel>> CreateErfInt8(
    const KernelInitContext& init) {
  QFORGE_ASSIGN_OR_RETURN(QuantParam in, Int8Params(init.node, false));
  QFORGE_ASSIGN_OR_RETURN(QuantParam out, Int8Params(init.node, true));
  return WithNode(init.node, BuildErfLut(init.profile, in, out));
}

absl::StatusOr<std::unique_ptr<OpKernel>> CreateGeluInt8(
    const KernelInitContext& init) {
  QFORGE_ASSIGN_OR_RETURN(bool tanh, GeluUsesTanh(init.node));
  QFORGE_ASSIGN_OR_RETURN(QuantParam in, Int8Params(init.node, false));
  QFORGE_ASSIGN_OR_RETURN(QuantParam out, Int8Params(init.node, true));
  return WithNode(init.node, BuildGeluLut(init.profile, in, out, tanh));
}

}  // namespace

absl::StatusOr<Int8Lut> BuildErfLut(ArithmeticProfile profile,
                                    const QuantParam& input,
                                    const QuantParam& output) {
  return kernels::reference::BuildLut(
      profile, input, output, [](float x) -> float { return std::erf(x); });
}

absl::StatusOr<Int8Lut> BuildGeluLut(ArithmeticProfile profile,
                                     const QuantParam& input,
                                     const QuantParam& output,
                                     bool tanh_approximation) {
  return kernels::reference::BuildLut(
      profile, input, output, [tanh_approximation](float x) -> float {
        return kernels::Gelu(x, tanh_approximation);
      });
}

absl::Status RegisterErfPlugin(Registry& registry) {
  QFORGE_RETURN_IF_ERROR(registry.quantizers().Register(
      OpKey{"", "Erf"}, std::make_unique<ErfQuantizer>()));
  QFORGE_RETURN_IF_ERROR(registry.quantizers().Register(
      OpKey{"", "Gelu"}, std::make_unique<GeluQuantizer>()));
  QFORGE_RETURN_IF_ERROR(RegisterInt8Kernel(
      registry.kernels(), "Erf", CreateErfInt8));
  QFORGE_RETURN_IF_ERROR(RegisterInt8Kernel(
      registry.kernels(), "Gelu", CreateGeluInt8));
  return absl::OkStatus();
}

QFORGE_DEFINE_PLUGIN(ErfPlugin, kPluginName, kPluginVersion, RegisterErfPlugin);

}  // namespace qforge::plugins::erf
