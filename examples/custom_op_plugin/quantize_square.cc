// Quantizes a small model containing com.example::Square (x -> Square ->
// Relu -> y), first with the plugin linked statically, then with the plugin
// loaded from its shared library, and checks the int8 model against the
// float one. Exit status 0 on success.
#include <cmath>
#include <iostream>

#include "qforge/core/status.h"
#include "qforge/plugin.h"
#include "qforge/quantize/calibration_data.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "square_op.h"

namespace {

absl::StatusOr<qforge::Graph> MakeModel() {
  qforge::Graph g;
  g.set_opset("", 17);
  g.set_opset(example::kDomain, 1);
  qforge::Value* x =
      g.AddValue("x", qforge::DataType::kFloat32, qforge::Shape({1, 16}));
  qforge::Value* sq =
      g.AddValue("sq", qforge::DataType::kFloat32, qforge::Shape({1, 16}));
  qforge::Value* y =
      g.AddValue("y", qforge::DataType::kFloat32, qforge::Shape({1, 16}));
  g.AddInput(x);
  g.AddOutput(y);
  QFORGE_RETURN_IF_ERROR(g.AddNode({.name = "square",
                                    .domain = example::kDomain,
                                    .op_type = example::kSquare,
                                    .inputs = {x},
                                    .outputs = {sq},
                                    .attributes = {}})
                             .status());
  QFORGE_RETURN_IF_ERROR(g.AddNode({.name = "relu",
                                    .domain = "",
                                    .op_type = "Relu",
                                    .inputs = {sq},
                                    .outputs = {y},
                                    .attributes = {}})
                             .status());
  return g;
}

absl::Status QuantizeAndCheck(const qforge::Registry& registry) {
  QFORGE_ASSIGN_OR_RETURN(qforge::Graph model, MakeModel());
  // 32 samples in [-2, 2).
  qforge::Tensor samples(qforge::DataType::kFloat32, {32, 16});
  for (int64_t i = 0; i < samples.num_elements(); ++i) {
    samples.data<float>()[i] =
        -2.0f + 4.0f * static_cast<float>((i * 37) % 512) / 512.0f;
  }
  qforge::TensorMap calib;
  calib["x"] = samples;
  QFORGE_ASSIGN_OR_RETURN(
      auto data, qforge::TensorCalibrationData::Create(std::move(calib)));
  QFORGE_ASSIGN_OR_RETURN(
      qforge::QuantizeResult result,
      qforge::Quantize(model, *data, qforge::QuantConfig(), registry));
  std::cout << result.report.ToString();
  if (result.report.num_float() != 0) {
    return absl::InternalError("some node stayed float");
  }
  QFORGE_ASSIGN_OR_RETURN(auto float_exec,
                          qforge::Executor::Prepare(model, registry));
  QFORGE_ASSIGN_OR_RETURN(auto int8_exec,
                          qforge::Executor::Prepare(result.model, registry));
  QFORGE_ASSIGN_OR_RETURN(qforge::TensorMap sample, data->Sample(3));
  QFORGE_ASSIGN_OR_RETURN(qforge::TensorMap f, float_exec->Run(sample));
  QFORGE_ASSIGN_OR_RETURN(qforge::TensorMap q, int8_exec->Run(sample));
  double worst = 0;
  for (int64_t i = 0; i < 16; ++i) {
    worst = std::max(
        worst, static_cast<double>(std::fabs(f.at("y").data<float>()[i] -
                                             q.at("y").data<float>()[i])));
  }
  std::cout << "max |float - int8| = " << worst << "\n";
  // The output range is [0, 4]: one LSB is 4/255; allow two (input and
  // output rounding).
  if (worst > 2 * 4.0 / 255.0)
    return absl::InternalError("int8 result too far off");
  return absl::OkStatus();
}

absl::Status Main() {
  {
    qforge::Registry registry;
    QFORGE_RETURN_IF_ERROR(qforge::RegisterBuiltins(registry));
    QFORGE_RETURN_IF_ERROR(
        qforge::RegisterPlugin(example::SquarePlugin(), registry));
    std::cout << "-- plugin linked statically\n";
    QFORGE_RETURN_IF_ERROR(QuantizeAndCheck(registry));
  }
  qforge::Registry registry;
  QFORGE_RETURN_IF_ERROR(qforge::RegisterBuiltins(registry));
  QFORGE_ASSIGN_OR_RETURN(qforge::PluginInfo info,
                          qforge::LoadPlugin(SQUARE_OP_MODULE, registry));
  std::cout << "-- plugin " << info.name << " " << info.version
            << " loaded from " << info.path << "\n";
  return QuantizeAndCheck(registry);
}

}  // namespace

int main() {
  absl::Status status = Main();
  if (!status.ok()) {
    std::cerr << "error: " << status << "\n";
    return 1;
  }
  return 0;
}
