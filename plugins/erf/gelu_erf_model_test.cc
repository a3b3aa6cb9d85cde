// examples/models/gelu_erf.onnx (made by examples/models/make_gelu_erf.py):
// two GELUs written out with Erf (torch's and tf2onnx's forms), fused and
// quantized with the erf plugin; layer-wise SQNR of each GELU output on the
// calibration data >= 35 dB.
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "erf/erf_plugin.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/io/model.h"
#include "qforge/io/npy.h"
#include "qforge/quantize/calibration_data.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "qforge/testing/status_matchers.h"
#include "qforge/validate/compare.h"

namespace qforge::plugins::erf {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ExamplePath(const std::string& file) {
  const char* root = std::getenv("QFORGE_SOURCE_DIR");
  return std::string(root != nullptr ? root : ".") + "/examples/models/" + file;
}

class GeluErfModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(RegisterBuiltins(registry_), IsOk());
    ASSERT_THAT(RegisterErfPlugin(registry_), IsOk());
    QFORGE_ASSERT_OK_AND_ASSIGN(
        model_, LoadModel(ExamplePath("gelu_erf.onnx"), registry_));
    QFORGE_ASSERT_OK_AND_ASSIGN(
        data_, OpenCalibrationData(ExamplePath("gelu_erf_calib.npz")));
  }

  int CountOps(const Graph& g, const std::string& op) {
    int n = 0;
    for (const Node* node : g.nodes()) n += node->op_type() == op;
    return n;
  }

  Registry registry_;
  Graph model_;
  std::unique_ptr<CalibrationData> data_;
};

TEST_F(GeluErfModelTest, FloatModelMatchesNumpyReference) {
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor expected,
                              ReadNpy(ExamplePath("gelu_erf_expected.npy")));
  ASSERT_EQ(expected.dims(), (std::vector<int64_t>{128, 10}));
  ASSERT_EQ(data_->num_samples(), 128);
  // The prepared graph (fused Gelu) and the model as written agree with the
  // float64 numpy reference.
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph prepared,
                              PrepareForQuantization(model_, {}, registry_));
  for (const Graph* g : {&model_, &prepared}) {
    QFORGE_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Executor> exec,
                                Executor::Prepare(*g, registry_));
    for (int64_t i = 0; i < data_->num_samples(); i += 16) {
      QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap sample, data_->Sample(i));
      QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap out, exec->Run(sample));
      const Tensor& y = out.at("y");
      ASSERT_EQ(y.num_elements(), 10);
      for (int j = 0; j < 10; ++j) {
        EXPECT_NEAR(y.data<float>()[j], expected.data<float>()[i * 10 + j],
                    1e-4)
            << "sample " << i << " element " << j;
      }
    }
  }
}

TEST_F(GeluErfModelTest, BothFormsAreFusedWithTheUsersNodesAsOrigins) {
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph prepared,
                              PrepareForQuantization(model_, {}, registry_));
  EXPECT_EQ(CountOps(prepared, "Gelu"), 2);
  EXPECT_EQ(CountOps(prepared, "Erf"), 0);
  EXPECT_EQ(CountOps(prepared, "Mul"), 0);
  const Node* gelu1 = prepared.FindNode("gelu1_half");
  ASSERT_NE(gelu1, nullptr);
  EXPECT_EQ(gelu1->op_type(), "Gelu");
  EXPECT_EQ(gelu1->output(0)->name(), "gelu1");
  EXPECT_THAT(gelu1->origins(),
              ElementsAre("gelu1_div", "gelu1_erf", "gelu1_add", "gelu1_mul",
                          "gelu1_half"));
  const Node* gelu2 = prepared.FindNode("gelu2_mul");
  ASSERT_NE(gelu2, nullptr);
  EXPECT_EQ(gelu2->op_type(), "Gelu");
  EXPECT_THAT(gelu2->origins(),
              ElementsAre("gelu2_scale", "gelu2_erf", "gelu2_add", "gelu2_half",
                          "gelu2_mul"));
}

TEST_F(GeluErfModelTest, QuantizesWithGeluSqnrAbove35Db) {
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult result,
                              Quantize(model_, *data_, {}, registry_));
  EXPECT_EQ(result.report.num_float(), 0) << result.report.ToString();
  bool reported = false;
  for (const QuantizeReport::NodeEntry& e : result.report.nodes) {
    if (e.node != "gelu2_mul") continue;
    reported = true;
    EXPECT_TRUE(e.quantized);
    EXPECT_THAT(e.origins, ElementsAre("gelu2_scale", "gelu2_erf", "gelu2_add",
                                       "gelu2_half", "gelu2_mul"));
  }
  EXPECT_TRUE(reported) << result.report.ToString();

  QFORGE_ASSERT_OK_AND_ASSIGN(
      ComparisonReport cmp,
      CompareModels(model_, result.model, *data_, registry_));
  int checked = 0;
  for (const TensorComparison& layer : cmp.layers) {
    if (layer.name != "gelu1" && layer.name != "gelu2") continue;
    ++checked;
    EXPECT_EQ(layer.op, "Gelu");
    EXPECT_TRUE(layer.quantized);
    ASSERT_TRUE(layer.isolated.has_value());
    // Layer-wise: the fused GELU alone, on the float model's inputs.
    EXPECT_GE(layer.isolated->sqnr_db, 35.0) << layer.name;
    // End to end (fc1, gelu1, fc2 quantized before gelu2) the errors add up.
    EXPECT_GE(layer.cumulative.sqnr_db, 30.0) << layer.name;
  }
  EXPECT_EQ(checked, 2) << cmp.ToString();
}

TEST_F(GeluErfModelTest, WithoutThePluginErfIsNotFusedAndFailsNamingTheNode) {
  Registry builtins;
  ASSERT_THAT(RegisterBuiltins(builtins), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph prepared,
                              PrepareForQuantization(model_, {}, builtins));
  EXPECT_EQ(CountOps(prepared, "Gelu"), 0);
  EXPECT_EQ(CountOps(prepared, "Erf"), 2);
  EXPECT_THAT(Quantize(model_, *data_, {}, builtins),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("gelu1_")));
}

}  // namespace
}  // namespace qforge::plugins::erf
