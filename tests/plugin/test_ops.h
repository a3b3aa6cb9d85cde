// Registrations shared by the test plugins (tests/plugin/*_plugin.cc): a
// made-up op "qforge.test::Twice" (y = 2x) with a schema, a float kernel and a
// quantizer, and a register function that adds them, replaces the built-in
// Relu kernel and removes the Sigmoid quantizer, so that a rollback has
// additions, replacements and removals to undo.
#ifndef QFORGE_TESTS_PLUGIN_TEST_OPS_H_
#define QFORGE_TESTS_PLUGIN_TEST_OPS_H_

#include <memory>

#include "absl/status/status.h"
#include "qforge/core/status.h"
#include "qforge/registry.h"

namespace qforge::test_plugin {

class TwiceQuantizer final : public OpQuantizer {
 public:
  absl::StatusOr<OpQuantSpec> Spec(const Node& node,
                                   const QuantConfig& config) const override {
    return OpQuantSpec::Decline("test quantizer");
  }
};

inline absl::Status TwiceKernel(KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (x == nullptr || x->dtype() != DataType::kFloat32) {
    return ctx.Error("expects a float32 input");
  }
  Tensor* y = ctx.output(0);
  y->Reset(DataType::kFloat32, x->dims());
  const float* in = x->data<float>();
  float* out = y->data<float>();
  for (int64_t i = 0; i < x->num_elements(); ++i) out[i] = 2.0f * in[i];
  return absl::OkStatus();
}

// Registers everything; `fail_at_end` then returns an error, as a register
// function that fails halfway.
inline absl::Status RegisterTestOps(Registry& registry, bool fail_at_end) {
  OpSchema schema;
  schema.key = {"qforge.test", "Twice"};
  schema.min_inputs = schema.max_inputs = 1;
  schema.infer = [](InferenceContext& ctx) {
    ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
    return absl::OkStatus();
  };
  schema.doc = "y = 2x (test plugin)";
  QFORGE_RETURN_IF_ERROR(registry.schemas().Register(std::move(schema)));
  QFORGE_RETURN_IF_ERROR(
      registry.kernels().Register({{"qforge.test", "Twice"},
                                   DataType::kFloat32,
                                   StatelessKernel(TwiceKernel)}));
  QFORGE_RETURN_IF_ERROR(registry.quantizers().Register(
      {"qforge.test", "Twice"}, std::make_unique<TwiceQuantizer>()));
  // A replacement and a removal of built-ins.
  registry.kernels().Replace(
      {{"", "Relu"}, DataType::kFloat32, StatelessKernel(TwiceKernel)});
  registry.quantizers().Remove({"", "Sigmoid"});
  if (fail_at_end) {
    return absl::InternalError("test plugin fails after registering");
  }
  return absl::OkStatus();
}

}  // namespace qforge::test_plugin

#endif  // QFORGE_TESTS_PLUGIN_TEST_OPS_H_
