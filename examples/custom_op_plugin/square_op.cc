// The Square plugin: everything qforge needs to run and quantize the op.
#include "square_op.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "qforge/core/status.h"
#include "qforge/quantize/quantizer.h"
#include "qforge/runtime/kernel.h"

namespace example {
namespace {

qforge::OpKey Key() { return {kDomain, kSquare}; }

absl::Status SquareFloat(qforge::KernelContext& ctx) {
  const qforge::Tensor* x = ctx.input(0);
  if (x == nullptr || x->dtype() != qforge::DataType::kFloat32) {
    return ctx.Error("expects one float32 input");
  }
  qforge::Tensor* y = ctx.output(0);
  y->Reset(qforge::DataType::kFloat32, x->dims());
  for (int64_t i = 0; i < x->num_elements(); ++i) {
    const float v = x->data<float>()[i];
    y->data<float>()[i] = v * v;
  }
  return absl::OkStatus();
}

// int8 in, int8 out: real = scale * (q - zero_point) on both sides.
class SquareInt8 final : public qforge::OpKernel {
 public:
  SquareInt8(qforge::QuantParams in, qforge::QuantParams out)
      : in_(std::move(in)), out_(std::move(out)) {}

  absl::Status Run(qforge::KernelContext& ctx) const override {
    const qforge::Tensor* x = ctx.input(0);
    if (x == nullptr || x->dtype() != qforge::DataType::kInt8) {
      return ctx.Error("expects one int8 input");
    }
    qforge::Tensor* y = ctx.output(0);
    y->Reset(qforge::DataType::kInt8, x->dims());
    for (int64_t i = 0; i < x->num_elements(); ++i) {
      const double r =
          in_.scale[0] * (x->data<int8_t>()[i] - in_.zero_point[0]);
      const double q =
          std::nearbyint(r * r / out_.scale[0]) + out_.zero_point[0];
      y->data<int8_t>()[i] = static_cast<int8_t>(std::clamp(q, -128.0, 127.0));
    }
    y->set_quant(out_);
    return absl::OkStatus();
  }

 private:
  qforge::QuantParams in_, out_;
};

absl::StatusOr<std::unique_ptr<qforge::OpKernel>> CreateSquareInt8(
    const qforge::KernelInitContext& init) {
  const qforge::Value* x = init.node.input(0);
  const qforge::Value* y = init.node.output(0);
  if (x == nullptr || y == nullptr || !x->quant() || !y->quant() ||
      x->quant()->per_axis() || y->quant()->per_axis()) {
    return absl::InvalidArgumentError(absl::StrCat(
        init.node.Describe(),
        ": int8 Square needs per-tensor quantized input and output"));
  }
  return std::make_unique<SquareInt8>(*x->quant(), *y->quant());
}

// Input and output calibrated; the int8 kernel requantizes.
class SquareQuantizer final : public qforge::OpQuantizer {
 public:
  absl::StatusOr<qforge::OpQuantSpec> Spec(
      const qforge::Node& node,
      const qforge::QuantConfig& config) const override {
    if (config.activation_type != qforge::DataType::kInt8) {
      return qforge::OpQuantSpec::Decline(
          "only int8 activations are supported");
    }
    qforge::OpQuantSpec spec;
    spec.inputs = {qforge::InputQuantSpec::Activation()};
    spec.outputs = {qforge::OutputQuantSpec::Calibrated()};
    return spec;
  }
};

}  // namespace

absl::Status RegisterSquare(qforge::Registry& registry) {
  qforge::OpSchema schema;
  schema.key = Key();
  schema.min_inputs = schema.max_inputs = 1;
  schema.infer = [](qforge::InferenceContext& ctx) -> absl::Status {
    if (ctx.input_dtype(0) != qforge::DataType::kFloat32) {
      return ctx.Error("input must be float32");
    }
    ctx.set_output(0, qforge::DataType::kFloat32, ctx.input_shape(0));
    return absl::OkStatus();
  };
  schema.doc = "y = x * x (examples/custom_op_plugin)";
  QFORGE_RETURN_IF_ERROR(registry.schemas().Register(std::move(schema)));
  QFORGE_RETURN_IF_ERROR(
      registry.kernels().Register({Key(), qforge::DataType::kFloat32,
                                   qforge::StatelessKernel(SquareFloat)}));
  QFORGE_RETURN_IF_ERROR(registry.kernels().Register(
      {Key(), qforge::DataType::kInt8, CreateSquareInt8}));
  return registry.quantizers().Register(Key(),
                                        std::make_unique<SquareQuantizer>());
}

QFORGE_DEFINE_PLUGIN(SquarePlugin, "square_op", "1.0.0", RegisterSquare);

}  // namespace example
