// Builds y = Relu(x + b) with the public API of an installed qforge, runs it
// and checks the result. Exit code 0 on success.
#include <cstdio>

#include "qforge/core/status.h"
#include "qforge/ir/verifier.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"

namespace {

absl::Status Run() {
  qforge::Registry registry;
  QFORGE_RETURN_IF_ERROR(qforge::RegisterBuiltins(registry));
  qforge::Graph graph;
  qforge::Value* x = graph.AddValue("x", qforge::DataType::kFloat32, qforge::Shape({3}));
  qforge::Value* b = graph.AddConstant(
      "b", qforge::Tensor::FromVector<float>({3}, {1.0f, -1.0f, 0.5f}));
  qforge::Value* sum = graph.AddValue("sum");
  qforge::Value* y = graph.AddValue("y");
  graph.AddInput(x);
  QFORGE_RETURN_IF_ERROR(
      graph.AddNode({.name = "add", .op_type = "Add", .inputs = {x, b}, .outputs = {sum}})
          .status());
  QFORGE_RETURN_IF_ERROR(
      graph.AddNode({.name = "relu", .op_type = "Relu", .inputs = {sum}, .outputs = {y}})
          .status());
  graph.AddOutput(y);
  QFORGE_RETURN_IF_ERROR(qforge::VerifyGraph(graph, registry.schemas()));
  QFORGE_ASSIGN_OR_RETURN(auto executor, qforge::Executor::Prepare(graph, registry));
  qforge::TensorMap inputs;
  inputs["x"] = qforge::Tensor::FromVector<float>({3}, {-2.0f, 0.0f, 1.0f});
  QFORGE_ASSIGN_OR_RETURN(qforge::TensorMap outputs, executor->Run(inputs));
  const float* out = outputs.at("y").data<float>();
  if (out[0] != 0.0f || out[1] != 0.0f || out[2] != 1.5f) {
    return absl::InternalError("wrong result");
  }
  return absl::OkStatus();
}

}  // namespace

int main() {
  absl::Status status = Run();
  if (!status.ok()) {
    std::fprintf(stderr, "consumer: %s\n", status.ToString().c_str());
    return 1;
  }
  std::printf("consumer: OK\n");
  return 0;
}
