// Models written by the TFLite converter (tests/interop/fixtures/, made by
// tests/interop/make_tflite_fixtures.py with a pinned TensorFlow): qforge
// reads them (wire compatibility of lib/io/tflite/schema.fbs with
// converter-made files) and reproduces the outputs TensorFlow / LiteRT
// computed when the fixtures were made.
#include <cstdlib>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/io/model.h"
#include "qforge/io/npy.h"
#include "qforge/ir/layout.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using testing::IsOk;

std::string Fixture(const std::string& name) {
  const char* dir = std::getenv("QFORGE_SOURCE_DIR");
  return std::string(dir != nullptr ? dir : ".") + "/tests/interop/fixtures/" +
         name;
}

class TfliteFixtureTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override { ASSERT_THAT(RegisterBuiltins(registry_), IsOk()); }
  Registry registry_;
};

TEST_P(TfliteFixtureTest, FloatModelMatchesTensorFlow) {
  const std::string name = GetParam();
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph graph,
                              LoadModel(Fixture(name + ".tflite"), registry_));
  QFORGE_ASSERT_OK_AND_ASSIGN(NpzContents io, ReadNpz(Fixture(name + ".npz")));
  QFORGE_ASSERT_OK_AND_ASSIGN(auto exec, Executor::Prepare(graph, registry_));
  ASSERT_EQ(graph.inputs().size(), 1u);
  TensorMap inputs;
  inputs[graph.inputs()[0]->name()] = io.at("input");
  QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap out, exec->Run(inputs));
  const Tensor& got = out.at(graph.outputs()[0]->name());
  const Tensor& want = io.at("output");
  ASSERT_EQ(got.num_elements(), want.num_elements());
  double span = 1e-6;
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    span = std::max(span, std::abs(static_cast<double>(want.data<float>()[i])));
  }
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    EXPECT_NEAR(got.data<float>()[i], want.data<float>()[i], 1e-4 * span)
        << name << " #" << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Converter, TfliteFixtureTest,
                         ::testing::Values("tf_conv_relu", "tf_depthwise_relu6",
                                           "tf_dense", "tf_pool_mean",
                                           "tf_concat_softmax",
                                           "tf_pad_transpose_reshape",
                                           "tf_resize", "tf_batch_matmul"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

// GELU, LEAKY_RELU and HARD_SWISH (the converter fuses x * relu6(x + 3) / 6)
// as the converter writes them. (No kernel runs Gelu yet.)
TEST(TfliteConverterOpsTest, ActivationsMapToOnnxOps) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Graph graph, LoadModel(Fixture("tf_activations.tflite"), registry));
  std::vector<std::string> ops;
  for (const Node* n : graph.nodes()) ops.push_back(n->op_type());
  EXPECT_THAT(ops, ::testing::UnorderedElementsAre("Gelu", "LeakyRelu",
                                                   "HardSwish", "Add", "Add"));
  for (const Node* n : graph.nodes()) {
    if (n->op_type() == "LeakyRelu")
      EXPECT_FLOAT_EQ(*n->GetFloat("alpha", 0), 0.2f);
  }
}

// The converter's full-integer model runs on qforge's int8 kernels
// (tflite_reference profile) bit for bit like LiteRT's BUILTIN_REF kernels.
TEST(TfliteConverterInt8Test, MatchesLiteRtReferenceKernels) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Graph graph, LoadModel(Fixture("small_cnn_int8.tflite"), registry));
  EXPECT_EQ(graph.metadata().at("qforge.arithmetic_profile"),
            "tflite_reference");
  ASSERT_THAT(ConvertLayout(graph, Layout::kNCHW, registry.schemas()), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(NpzContents io,
                              ReadNpz(Fixture("small_cnn_int8.npz")));
  ExecutorOptions options;
  options.profile = ArithmeticProfile::kTfliteReference;
  QFORGE_ASSERT_OK_AND_ASSIGN(auto exec,
                              Executor::Prepare(graph, registry, options));
  const Tensor& xs = io.at("input");   // [S, 1, 8, 8, 1] int8
  const Tensor& ys = io.at("output");  // [S, 1, 10] int8
  const int64_t samples = xs.dim(0);
  const int64_t in_size = xs.num_elements() / samples;
  const int64_t out_size = ys.num_elements() / samples;
  int64_t equal = 0;
  for (int64_t s = 0; s < samples; ++s) {
    std::vector<int64_t> dims(xs.dims().begin() + 1, xs.dims().end());
    Tensor x(DataType::kInt8, dims);
    std::memcpy(x.raw_data(), xs.data<int8_t>() + s * in_size, in_size);
    TensorMap inputs;
    inputs[graph.inputs()[0]->name()] = std::move(x);
    QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap out, exec->Run(inputs));
    const Tensor& y = out.at(graph.outputs()[0]->name());
    ASSERT_EQ(y.num_elements(), out_size);
    for (int64_t i = 0; i < out_size; ++i) {
      equal += y.data<int8_t>()[i] == ys.data<int8_t>()[s * out_size + i];
    }
  }
  EXPECT_EQ(equal, samples * out_size);
}

}  // namespace
}  // namespace qforge
