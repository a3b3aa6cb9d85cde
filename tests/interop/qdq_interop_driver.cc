// Test driver for the ONNX Runtime interop tests (ort_interop_test.py):
//
//   qdq_interop_driver quantize FLOAT.onnx CALIB.npz OUT.onnx [CONFIG]
//       quantizes with the default config, or with CONFIG (QuantConfig in
//       protobuf text format, given inline, e.g. 'weight_range: "full"'),
//       and writes QDQ ONNX;
//   qdq_interop_driver run MODEL.onnx INPUTS.npz OUT_DIR
//       runs MODEL (int8 kernels, onnxruntime arithmetic profile) on each
//       sample of INPUTS (leading axis = samples, then the model's full shape)
//       and writes OUT_DIR/<output i>.npy with the samples stacked.
//   qdq_interop_driver import MODEL.onnx
//       imports a QDQ model and prints "quantized_ops=N float_ops=M" (Q/DQ
//       nodes not counted) and "fold_error=..." when folding was abandoned;
// Every command registers the builtins plus, when the build has plugins
// (QFORGE_DRIVER_ERF_PLUGIN), the erf plugin (Erf/Gelu quantizers, kernels).
// Exits 0 on success; on failure prints "error: <status>" and exits 1
// (3 when the model has no kernels for its quantized ops).
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "driver_util.h"
#include "qforge/core/status.h"
#include "qforge/io/model.h"
#include "qforge/io/npy.h"
#include "qforge/io/onnx.h"
#include "qforge/quantize/quant_config.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#ifdef QFORGE_DRIVER_ERF_PLUGIN
#include "erf/erf_plugin.h"
#include "qforge/plugin.h"
#endif

namespace qforge {
namespace {

absl::Status RegisterAll(Registry& registry) {
  QFORGE_RETURN_IF_ERROR(RegisterBuiltins(registry));
#ifdef QFORGE_DRIVER_ERF_PLUGIN
  QFORGE_RETURN_IF_ERROR(RegisterPlugin(plugins::erf::ErfPlugin(), registry));
#endif
  return absl::OkStatus();
}

absl::Status QuantizeCommand(const std::string& in, const std::string& calib,
                             const std::string& out,
                             const std::string& config_text) {
  QFORGE_ASSIGN_OR_RETURN(QuantConfig config, ParseQuantConfig(config_text));
  Registry registry;
  QFORGE_RETURN_IF_ERROR(RegisterAll(registry));
  QFORGE_ASSIGN_OR_RETURN(Graph model, LoadModel(in, registry));
  QFORGE_ASSIGN_OR_RETURN(auto data, OpenCalibrationData(calib));
  QFORGE_ASSIGN_OR_RETURN(QuantizeResult result,
                          Quantize(model, *data, config, registry));
  if (result.report.num_float() > 0) {
    std::cerr << result.report.ToString();
  }
  return SaveOnnx(result.model, out);
}

absl::Status RunCommand(const std::string& model_path,
                        const std::string& inputs_path,
                        const std::string& out_dir, bool* no_kernel) {
  Registry registry;
  QFORGE_RETURN_IF_ERROR(RegisterAll(registry));
  QFORGE_ASSIGN_OR_RETURN(Graph model, LoadModel(model_path, registry));
  // Until the int8 kernels are in the executor, integer tensors would run on
  // kernels that ignore QuantParams: report "not available" instead.
  if (registry.kernels().Find(OpKey{"", "Conv"}, DataType::kInt8) == nullptr) {
    *no_kernel = true;
    return absl::UnimplementedError(
        "the executor has no int8 Conv kernel (int8 kernels not registered)");
  }
  ExecutorOptions options;
  options.profile = ArithmeticProfile::kOnnxRuntime;
  absl::StatusOr<std::unique_ptr<Executor>> executor =
      Executor::Prepare(model, registry, options);
  if (!executor.ok()) {
    *no_kernel = absl::IsNotFound(executor.status()) ||
                 absl::IsUnimplemented(executor.status());
    return executor.status();
  }
  return interop::RunSamplesAndWriteOutputs(
      **executor, model, inputs_path, out_dir,
      interop::SampleBatch::kDropLeadingAxis,
      [](int64_t) { return RunOptions(); });
}

absl::Status ImportCommand(const std::string& path) {
  Registry registry;
  QFORGE_RETURN_IF_ERROR(RegisterAll(registry));
  QFORGE_ASSIGN_OR_RETURN(Graph model, LoadModel(path, registry));
  int quantized = 0;
  int float_ops = 0;
  for (const Node* n : model.nodes()) {
    if (n->op_type() == "QuantizeLinear" || n->op_type() == "DequantizeLinear")
      continue;
    bool q = false;
    for (const Value* v : n->outputs()) {
      if (v != nullptr && v->quant().has_value()) q = true;
    }
    (q ? quantized : float_ops) += 1;
  }
  std::cout << "quantized_ops=" << quantized << " float_ops=" << float_ops
            << "\n";
  auto it = model.metadata().find("qforge.qdq_fold_error");
  if (it != model.metadata().end())
    std::cout << "fold_error=" << it->second << "\n";
  return absl::OkStatus();
}

}  // namespace
}  // namespace qforge

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "import") {
    absl::Status status = qforge::ImportCommand(argv[2]);
    if (!status.ok()) std::cerr << "error: " << status << "\n";
    return status.ok() ? 0 : 1;
  }
  if (argc != 5 && !(argc == 6 && std::string(argv[1]) == "quantize")) {
    std::cerr
        << "usage: qdq_interop_driver quantize FLOAT.onnx CALIB.npz OUT.onnx "
           "[CONFIG]\n"
           "       qdq_interop_driver run MODEL.onnx INPUTS.npz OUT_DIR\n"
           "       qdq_interop_driver import MODEL.onnx\n";
    return 2;
  }
  const std::string command = argv[1];
  absl::Status status;
  bool no_kernel = false;
  if (command == "quantize") {
    status = qforge::QuantizeCommand(argv[2], argv[3], argv[4],
                                     argc == 6 ? argv[5] : "");
  } else if (command == "run") {
    status = qforge::RunCommand(argv[2], argv[3], argv[4], &no_kernel);
  } else {
    std::cerr << "unknown command " << command << "\n";
    return 2;
  }
  if (!status.ok()) {
    std::cerr << "error: " << status << "\n";
    return no_kernel ? 3 : 1;
  }
  return 0;
}
