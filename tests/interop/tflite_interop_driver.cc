// Test driver for the LiteRT interop test (litert_interop_test.py):
//
//   tflite_interop_driver models DIR
//       writes single-op float TFLite models DIR/<op>.tflite, built directly
//       in TFLite terms (as a converter writes them);
//   tflite_interop_driver quantize FLOAT.(onnx|tflite) CALIB.npz OUT.tflite IO
//                         [per_tensor]
//       quantizes with the tflite_reference profile and exports a
//       full-integer TFLite model whose inputs/outputs are IO (float | int8);
//       per_tensor: one weight scale per tensor instead of per channel;
//   tflite_interop_driver run MODEL.tflite INPUTS.npz OUT_DIR
//       imports MODEL, runs it on each sample of INPUTS (leading axis =
//       samples, each run with a batch of 1; int8 kernels with the
//       tflite_reference profile) and writes OUT_DIR/output_<i>.npy with the
//       samples stacked.
// Exits 0 on success; on failure prints "error: <status>" and exits 1.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "driver_util.h"
#include "io/tflite_model_builder.h"
#include "qforge/core/status.h"
#include "qforge/io/model.h"
#include "qforge/io/npy.h"
#include "qforge/io/tflite.h"
#include "qforge/quantize/calibration_data.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"

namespace qforge {
namespace {

using testing::TfliteModelBuilder;
namespace tfl = ::qforge::tflite_fb;
using Builder = flatbuffers::FlatBufferBuilder;

std::vector<float> Ramp(int n, float scale, float offset) {
  std::vector<float> v(n);
  // A fixed pseudo-random pattern (no RNG: the fixture must not change).
  for (int i = 0; i < n; ++i)
    v[i] = scale * static_cast<float>((i * 37 + 11) % 23 - 11) / 11.0f + offset;
  return v;
}

absl::Status WriteModel(const std::string& path, const TfliteModelBuilder& m) {
  std::string bytes = m.Finish();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr)
    return absl::NotFoundError(absl::StrCat("cannot write ", path));
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  std::fclose(f);
  return ok ? absl::OkStatus()
            : absl::DataLossError(absl::StrCat("short write ", path));
}

// One unary op [1,H,W,C] -> out with optional options.
TfliteModelBuilder Unary(int32_t code, std::vector<int32_t> in_shape,
                         std::vector<int32_t> out_shape,
                         tfl::BuiltinOptions type = tfl::BuiltinOptions_NONE,
                         TfliteModelBuilder::OptionsFn options = nullptr) {
  TfliteModelBuilder m;
  const int x = m.AddTensor("x", tfl::TensorType_FLOAT32, in_shape);
  const int y = m.AddTensor("y", tfl::TensorType_FLOAT32, out_shape);
  m.AddOp(m.AddOpCode(code), {x}, {y}, type, std::move(options));
  m.SetIo({x}, {y});
  return m;
}

absl::Status ModelsCommand(const std::string& dir) {
  auto path = [&](const char* name) {
    return absl::StrCat(dir, "/", name, ".tflite");
  };
  {
    TfliteModelBuilder m;
    const int x = m.AddTensor("x", tfl::TensorType_FLOAT32, {1, 8, 8, 3});
    const int w = m.AddConstant<float>("w", tfl::TensorType_FLOAT32,
                                       {4, 3, 3, 3}, Ramp(108, 0.5f, 0.0f));
    const int b = m.AddConstant<float>("b", tfl::TensorType_FLOAT32, {4},
                                       Ramp(4, 0.2f, 0.0f));
    const int y = m.AddTensor("y", tfl::TensorType_FLOAT32, {1, 4, 4, 4});
    m.AddOp(
        m.AddOpCode(tfl::BuiltinOperator_CONV_2D), {x, w, b}, {y},
        tfl::BuiltinOptions_Conv2DOptions, [](Builder& fb) {
          return tfl::CreateConv2DOptions(fb, tfl::Padding_SAME, 2, 2).Union();
        });
    m.SetIo({x}, {y});
    QFORGE_RETURN_IF_ERROR(WriteModel(path("conv"), m));
  }
  {
    // CONV_2D with a fused RELU6 (qforge imports it as Conv + Clip and
    // exports it fused again).
    TfliteModelBuilder m;
    const int x = m.AddTensor("x", tfl::TensorType_FLOAT32, {1, 6, 6, 3});
    const int w = m.AddConstant<float>("w", tfl::TensorType_FLOAT32,
                                       {4, 3, 3, 3}, Ramp(108, 1.5f, 0.2f));
    const int b = m.AddConstant<float>("b", tfl::TensorType_FLOAT32, {4},
                                       Ramp(4, 0.5f, 0.1f));
    const int y = m.AddTensor("y", tfl::TensorType_FLOAT32, {1, 6, 6, 4});
    m.AddOp(m.AddOpCode(tfl::BuiltinOperator_CONV_2D), {x, w, b}, {y},
            tfl::BuiltinOptions_Conv2DOptions, [](Builder& fb) {
              return tfl::CreateConv2DOptions(fb, tfl::Padding_SAME, 1, 1,
                                              tfl::ActivationFunctionType_RELU6)
                  .Union();
            });
    m.SetIo({x}, {y});
    QFORGE_RETURN_IF_ERROR(WriteModel(path("conv_relu6"), m));
  }
  {
    TfliteModelBuilder m;
    const int x = m.AddTensor("x", tfl::TensorType_FLOAT32, {1, 6, 6, 4});
    const int w = m.AddConstant<float>("w", tfl::TensorType_FLOAT32,
                                       {1, 3, 3, 4}, Ramp(36, 0.7f, 0.1f));
    const int b = m.AddConstant<float>("b", tfl::TensorType_FLOAT32, {4},
                                       Ramp(4, 0.1f, 0.0f));
    const int y = m.AddTensor("y", tfl::TensorType_FLOAT32, {1, 4, 4, 4});
    m.AddOp(m.AddOpCode(tfl::BuiltinOperator_DEPTHWISE_CONV_2D), {x, w, b}, {y},
            tfl::BuiltinOptions_DepthwiseConv2DOptions, [](Builder& fb) {
              return tfl::CreateDepthwiseConv2DOptions(fb, tfl::Padding_VALID,
                                                       1, 1, 1)
                  .Union();
            });
    m.SetIo({x}, {y});
    QFORGE_RETURN_IF_ERROR(WriteModel(path("depthwise_conv"), m));
  }
  {
    TfliteModelBuilder m;
    const int x = m.AddTensor("x", tfl::TensorType_FLOAT32, {1, 16});
    const int w = m.AddConstant<float>("w", tfl::TensorType_FLOAT32, {5, 16},
                                       Ramp(80, 0.4f, 0.0f));
    const int b = m.AddConstant<float>("b", tfl::TensorType_FLOAT32, {5},
                                       Ramp(5, 0.3f, 0.0f));
    const int y = m.AddTensor("y", tfl::TensorType_FLOAT32, {1, 5});
    m.AddOp(m.AddOpCode(tfl::BuiltinOperator_FULLY_CONNECTED), {x, w, b}, {y},
            tfl::BuiltinOptions_FullyConnectedOptions, [](Builder& fb) {
              return tfl::CreateFullyConnectedOptions(fb).Union();
            });
    m.SetIo({x}, {y});
    QFORGE_RETURN_IF_ERROR(WriteModel(path("fully_connected"), m));
  }
  for (auto [name, code] : {std::pair{"add", tfl::BuiltinOperator_ADD},
                            std::pair{"mul", tfl::BuiltinOperator_MUL},
                            std::pair{"sub", tfl::BuiltinOperator_SUB}}) {
    TfliteModelBuilder m;
    const int x = m.AddTensor("x", tfl::TensorType_FLOAT32, {1, 4, 4, 3});
    const int c = m.AddConstant<float>("c", tfl::TensorType_FLOAT32, {3},
                                       {0.5f, -0.25f, 1.0f});
    const int y = m.AddTensor("y", tfl::TensorType_FLOAT32, {1, 4, 4, 3});
    m.AddOp(m.AddOpCode(code), {x, c}, {y});
    m.SetIo({x}, {y});
    QFORGE_RETURN_IF_ERROR(WriteModel(path(name), m));
  }
  for (auto [name, code] :
       {std::pair{"average_pool", tfl::BuiltinOperator_AVERAGE_POOL_2D},
        std::pair{"max_pool", tfl::BuiltinOperator_MAX_POOL_2D}}) {
    QFORGE_RETURN_IF_ERROR(WriteModel(
        path(name), Unary(code, {1, 8, 8, 3}, {1, 4, 4, 3},
                          tfl::BuiltinOptions_Pool2DOptions, [](Builder& fb) {
                            return tfl::CreatePool2DOptions(
                                       fb, tfl::Padding_SAME, 2, 2, 3, 3)
                                .Union();
                          })));
  }
  QFORGE_RETURN_IF_ERROR(
      WriteModel(path("softmax"),
                 Unary(tfl::BuiltinOperator_SOFTMAX, {1, 10}, {1, 10},
                       tfl::BuiltinOptions_SoftmaxOptions, [](Builder& fb) {
                         return tfl::CreateSoftmaxOptions(fb, 1.0f).Union();
                       })));
  QFORGE_RETURN_IF_ERROR(WriteModel(
      path("logistic"),
      Unary(tfl::BuiltinOperator_LOGISTIC, {1, 4, 4, 3}, {1, 4, 4, 3})));
  QFORGE_RETURN_IF_ERROR(
      WriteModel(path("tanh"),
                 Unary(tfl::BuiltinOperator_TANH, {1, 4, 4, 3}, {1, 4, 4, 3})));
  QFORGE_RETURN_IF_ERROR(
      WriteModel(path("relu"),
                 Unary(tfl::BuiltinOperator_RELU, {1, 4, 4, 3}, {1, 4, 4, 3})));
  QFORGE_RETURN_IF_ERROR(WriteModel(
      path("relu6"),
      Unary(tfl::BuiltinOperator_RELU6, {1, 4, 4, 3}, {1, 4, 4, 3})));
  {
    TfliteModelBuilder m;
    const int x = m.AddTensor("x", tfl::TensorType_FLOAT32, {1, 4, 4, 3});
    const int axes =
        m.AddConstant<int32_t>("axes", tfl::TensorType_INT32, {2}, {1, 2});
    const int y = m.AddTensor("y", tfl::TensorType_FLOAT32, {1, 1, 1, 3});
    m.AddOp(m.AddOpCode(tfl::BuiltinOperator_MEAN), {x, axes}, {y},
            tfl::BuiltinOptions_ReducerOptions, [](Builder& fb) {
              return tfl::CreateReducerOptions(fb, true).Union();
            });
    m.SetIo({x}, {y});
    QFORGE_RETURN_IF_ERROR(WriteModel(path("mean"), m));
  }
  {
    // Two branches of different ranges meet in a CONCATENATION.
    TfliteModelBuilder m;
    const int x = m.AddTensor("x", tfl::TensorType_FLOAT32, {1, 4, 4, 2});
    const int c =
        m.AddConstant<float>("c", tfl::TensorType_FLOAT32, {1}, {3.0f});
    const int x3 = m.AddTensor("x3", tfl::TensorType_FLOAT32, {1, 4, 4, 2});
    const int y = m.AddTensor("y", tfl::TensorType_FLOAT32, {1, 4, 4, 4});
    m.AddOp(m.AddOpCode(tfl::BuiltinOperator_MUL), {x, c}, {x3});
    m.AddOp(m.AddOpCode(tfl::BuiltinOperator_CONCATENATION), {x, x3}, {y},
            tfl::BuiltinOptions_ConcatenationOptions, [](Builder& fb) {
              return tfl::CreateConcatenationOptions(fb, 3).Union();
            });
    m.SetIo({x}, {y});
    QFORGE_RETURN_IF_ERROR(WriteModel(path("concatenation"), m));
  }
  return absl::OkStatus();
}

absl::Status QuantizeCommand(const std::string& in, const std::string& calib,
                             const std::string& out, const std::string& io,
                             bool per_tensor) {
  Registry registry;
  QFORGE_RETURN_IF_ERROR(RegisterBuiltins(registry));
  QFORGE_ASSIGN_OR_RETURN(Graph model, LoadModel(in, registry));
  QFORGE_ASSIGN_OR_RETURN(auto data, OpenCalibrationData(calib));
  QuantConfig config;
  config.profile = ArithmeticProfile::kTfliteReference;
  config.per_channel_weights = !per_tensor;
  QFORGE_ASSIGN_OR_RETURN(QuantizeResult result,
                          Quantize(model, *data, config, registry));
  if (result.report.num_float() > 0) std::cerr << result.report.ToString();
  const TfliteIoType type =
      io == "int8" ? TfliteIoType::kInt8 : TfliteIoType::kFloat32;
  return SaveTflite(result.model, out,
                    {.input_type = type, .output_type = type});
}

absl::Status RunCommand(const std::string& model_path,
                        const std::string& inputs_path,
                        const std::string& out_dir) {
  Registry registry;
  QFORGE_RETURN_IF_ERROR(RegisterBuiltins(registry));
  QFORGE_ASSIGN_OR_RETURN(Graph model, LoadModel(model_path, registry));
  // A quantized model runs NHWC, as imported (Executor::Prepare).
  ExecutorOptions options;
  options.profile = ArithmeticProfile::kTfliteReference;
  QFORGE_ASSIGN_OR_RETURN(auto executor,
                          Executor::Prepare(model, registry, options));
  // Debug aid: QFORGE_DUMP_DIR=D writes every value of sample 0 to
  // D/<index>.npy and its name to D/names.txt.
  const char* dump = std::getenv("QFORGE_DUMP_DIR");
  std::string names;
  int dumped = 0;
  const absl::Status status = interop::RunSamplesAndWriteOutputs(
      *executor, model, inputs_path, out_dir,
      interop::SampleBatch::kKeepBatchOfOne, [&](int64_t i) {
        RunOptions run_options;
        if (dump != nullptr && i == 0) {
          run_options.observer = [&](const Node&, const Value& v,
                                     const Tensor& t) {
            absl::StrAppend(&names, v.name(), "\n");
            return WriteNpy(absl::StrCat(dump, "/", dumped++, ".npy"), t);
          };
        }
        return run_options;
      });
  if (!names.empty()) {
    FILE* f = std::fopen(absl::StrCat(dump, "/names.txt").c_str(), "w");
    if (f != nullptr) {
      std::fputs(names.c_str(), f);
      std::fclose(f);
    }
  }
  return status;
}

}  // namespace
}  // namespace qforge

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  absl::Status status;
  if (args.size() == 2 && args[0] == "models") {
    status = qforge::ModelsCommand(args[1]);
  } else if ((args.size() == 5 ||
              (args.size() == 6 && args[5] == "per_tensor")) &&
             args[0] == "quantize") {
    status = qforge::QuantizeCommand(args[1], args[2], args[3], args[4],
                                     args.size() == 6);
  } else if (args.size() == 4 && args[0] == "run") {
    status = qforge::RunCommand(args[1], args[2], args[3]);
  } else {
    std::cerr
        << "usage: tflite_interop_driver models DIR\n"
           "       tflite_interop_driver quantize FLOAT CALIB.npz OUT.tflite "
           "float|int8 [per_tensor]\n"
           "       tflite_interop_driver run MODEL.tflite INPUTS.npz OUT_DIR\n";
    return 2;
  }
  if (!status.ok()) {
    std::cerr << "error: " << status << "\n";
    return 1;
  }
  return 0;
}
