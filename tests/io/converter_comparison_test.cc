// Side by side with the TFLite converter (issue 6): a trained Keras CNN
// (BatchNorm, ReLU6, sigmoid and tanh branches, a Concatenate; fixture made by
// tests/interop/make_keras_cnn_fixture.py with a pinned TensorFlow) quantized
// by the converter and by qforge from the same float .tflite with the same
// 256 calibration images. Both int8 models run on qforge's int8 kernels with
// the tflite_reference profile (bit-exact with LiteRT's BUILTIN_REF kernels,
// checked in litert_interop), and qforge's top-1 accuracy on the 540-image
// test split and its output SQNR against the float model must be at least the
// converter's. docs/converter_comparison.md reports the figures.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/io/model.h"
#include "qforge/io/npy.h"
#include "qforge/io/tflite.h"
#include "qforge/ir/layout.h"
#include "qforge/quantize/calibration_data.h"
#include "qforge/quantize/quant_config.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using testing::IsOk;

std::string Fixture(const std::string& name) {
  const char* dir = std::getenv("QFORGE_SOURCE_DIR");
  return std::string(dir != nullptr ? dir : ".") +
         "/tests/interop/fixtures/keras_cnn/" + name;
}

// Logits [samples][10] of `graph` (float inputs and outputs) on `images`
// [S, 8, 8, 1], one sample per run (the model has a fixed batch of 1).
absl::StatusOr<std::vector<std::vector<double>>> RunAll(
    Graph& graph, const Tensor& images, const Registry& registry,
    std::optional<ArithmeticProfile> profile) {
  // The int8 kernels compute in NCHW; model inputs and outputs keep NHWC.
  QFORGE_RETURN_IF_ERROR(
      ConvertLayout(graph, Layout::kNCHW, registry.schemas()));
  ExecutorOptions options;
  options.profile = profile;
  QFORGE_ASSIGN_OR_RETURN(auto exec,
                          Executor::Prepare(graph, registry, options));
  const int64_t samples = images.dim(0);
  const int64_t size = images.num_elements() / samples;
  std::vector<int64_t> dims(images.dims().begin(), images.dims().end());
  dims[0] = 1;
  std::vector<std::vector<double>> logits;
  for (int64_t s = 0; s < samples; ++s) {
    Tensor x(DataType::kFloat32, dims);
    std::memcpy(x.raw_data(), images.data<float>() + s * size,
                size * sizeof(float));
    TensorMap inputs;
    inputs[graph.inputs()[0]->name()] = std::move(x);
    QFORGE_ASSIGN_OR_RETURN(TensorMap out, exec->Run(inputs));
    const Tensor& y = out.at(graph.outputs()[0]->name());
    if (y.dtype() != DataType::kFloat32 || y.num_elements() != 10) {
      return absl::InternalError("the model's output is not 10 float logits");
    }
    logits.emplace_back(y.data<float>(), y.data<float>() + 10);
  }
  return logits;
}

double Accuracy(const std::vector<std::vector<double>>& logits,
                const Tensor& labels) {
  int64_t right = 0;
  for (size_t s = 0; s < logits.size(); ++s) {
    size_t best = 0;
    for (size_t c = 1; c < logits[s].size(); ++c) {
      if (logits[s][c] > logits[s][best]) best = c;
    }
    right += static_cast<int64_t>(best) == labels.data<int64_t>()[s];
  }
  return static_cast<double>(right) / logits.size();
}

// 10 log10(sum ref^2 / sum (ref - got)^2) over all samples and logits.
double SqnrDb(const std::vector<std::vector<double>>& ref,
              const std::vector<std::vector<double>>& got) {
  double signal = 0, noise = 0;
  for (size_t s = 0; s < ref.size(); ++s) {
    for (size_t c = 0; c < ref[s].size(); ++c) {
      signal += ref[s][c] * ref[s][c];
      noise += (ref[s][c] - got[s][c]) * (ref[s][c] - got[s][c]);
    }
  }
  return 10.0 * std::log10(signal / noise);
}

class ConverterComparisonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(RegisterBuiltins(registry_), IsOk());
    QFORGE_ASSERT_OK_AND_ASSIGN(images_,
                                ReadNpy(Fixture("keras_cnn_test_images.npy")));
    QFORGE_ASSERT_OK_AND_ASSIGN(labels_,
                                ReadNpy(Fixture("keras_cnn_test_labels.npy")));
    ASSERT_EQ(images_.dims(), std::vector<int64_t>({540, 8, 8, 1}));
    ASSERT_EQ(labels_.dtype(), DataType::kInt64);
    ASSERT_EQ(labels_.num_elements(), 540);
  }

  // qforge's full-integer TFLite export of the float model (float inputs and
  // outputs, like the converter's model), read back.
  absl::StatusOr<Graph> QforgeInt8(const Graph& float_model) {
    QuantConfig config;
    config.profile = ArithmeticProfile::kTfliteReference;
    QFORGE_ASSIGN_OR_RETURN(
        std::unique_ptr<CalibrationData> calib,
        OpenCalibrationData(Fixture("keras_cnn_calib.npz")));
    if (calib->num_samples() != 256) {
      return absl::InternalError("expected 256 calibration samples");
    }
    QFORGE_ASSIGN_OR_RETURN(QuantizeResult result,
                            Quantize(float_model, *calib, config, registry_));
    if (result.report.num_float() != 0) {
      return absl::InternalError(result.report.ToString());
    }
    QFORGE_ASSIGN_OR_RETURN(std::string bytes, SaveTfliteToBytes(result.model));
    return LoadTfliteFromBytes(bytes, registry_, "qforge export");
  }

  Registry registry_;
  Tensor images_;
  Tensor labels_;
};

TEST_F(ConverterComparisonTest, QforgeIsAtLeastAsAccurateAsTheConverter) {
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Graph float_model,
      LoadModel(Fixture("keras_cnn_float.tflite"), registry_));
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Graph converter,
      LoadModel(Fixture("keras_cnn_converter_int8.tflite"), registry_));
  EXPECT_EQ(converter.metadata().at("qforge.arithmetic_profile"),
            "tflite_reference");
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph ours, QforgeInt8(float_model));
  EXPECT_EQ(ours.metadata().at("qforge.arithmetic_profile"),
            "tflite_reference");

  QFORGE_ASSERT_OK_AND_ASSIGN(
      auto float_logits, RunAll(float_model, images_, registry_, std::nullopt));
  QFORGE_ASSERT_OK_AND_ASSIGN(auto converter_logits,
                              RunAll(converter, images_, registry_,
                                     ArithmeticProfile::kTfliteReference));
  QFORGE_ASSERT_OK_AND_ASSIGN(
      auto our_logits,
      RunAll(ours, images_, registry_, ArithmeticProfile::kTfliteReference));

  const double float_acc = Accuracy(float_logits, labels_);
  const double converter_acc = Accuracy(converter_logits, labels_);
  const double our_acc = Accuracy(our_logits, labels_);
  const double converter_sqnr = SqnrDb(float_logits, converter_logits);
  const double our_sqnr = SqnrDb(float_logits, our_logits);
  std::printf(
      "540 test images: float top-1 %.4f; TFLite converter int8 top-1 %.4f, "
      "SQNR %.3f dB; qforge int8 top-1 %.4f, SQNR %.3f dB\n",
      float_acc, converter_acc, converter_sqnr, our_acc, our_sqnr);
  RecordProperty("float_top1", std::to_string(float_acc));
  RecordProperty("converter_top1", std::to_string(converter_acc));
  RecordProperty("converter_sqnr_db", std::to_string(converter_sqnr));
  RecordProperty("qforge_top1", std::to_string(our_acc));
  RecordProperty("qforge_sqnr_db", std::to_string(our_sqnr));

  // The fixture is a meaningful model and both quantizations are sane.
  EXPECT_GE(float_acc, 0.95);
  EXPECT_GE(converter_sqnr, 20.0);
  // The claim.
  EXPECT_GE(our_acc, converter_acc);
  EXPECT_GE(our_sqnr, converter_sqnr);
}

}  // namespace
}  // namespace qforge
