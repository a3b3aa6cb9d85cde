// The quantization driver on the bundled digits model and on small graphs:
// what is quantized, the parameters' invariants, and the error policy.
#include "qforge/quantize/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/io/model.h"
#include "qforge/io/onnx.h"
#include "onnx/onnx_pb.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string SourceDir() {
  const char* dir = std::getenv("QFORGE_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

class DigitsQuantizeTest : public ::testing::Test {
 protected:
  // The graph written as QDQ ONNX and read back.
  absl::StatusOr<Graph> LoadModelFromTempOnnx(const Graph& g) {
    QFORGE_ASSIGN_OR_RETURN(std::string bytes, SaveOnnxToBytes(g));
    return LoadOnnxFromBytes(bytes, registry_, "temp");
  }
  void SetUp() override {
    ASSERT_THAT(RegisterBuiltins(registry_), IsOk());
    QFORGE_ASSERT_OK_AND_ASSIGN(
        model_, LoadModel(SourceDir() + "/examples/digits/digits_cnn.onnx", registry_));
    QFORGE_ASSERT_OK_AND_ASSIGN(
        data_, OpenCalibrationData(SourceDir() + "/examples/digits/digits_calib.npz"));
  }
  Registry registry_;
  Graph model_;
  std::unique_ptr<CalibrationData> data_;
};

TEST_F(DigitsQuantizeTest, EveryNodeIsQuantizedAndParamsAreValid) {
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult result, Quantize(model_, *data_, {}, registry_));
  EXPECT_EQ(result.report.num_float(), 0) << result.report.ToString();
  EXPECT_GT(result.report.num_quantized(), 10);
  const Graph& q = result.model;
  // Graph inputs and outputs keep their names and stay float.
  ASSERT_EQ(q.inputs().size(), 1u);
  EXPECT_EQ(q.inputs()[0]->name(), "image");
  EXPECT_EQ(q.inputs()[0]->dtype(), DataType::kFloat32);
  ASSERT_EQ(q.outputs().size(), 1u);
  EXPECT_EQ(q.outputs()[0]->name(), "logits");
  EXPECT_EQ(q.outputs()[0]->dtype(), DataType::kFloat32);
  int convs = 0;
  for (const Node* n : q.nodes()) {
    if (n->op_type() == "QuantizeLinear" || n->op_type() == "DequantizeLinear") continue;
    EXPECT_NE(n->op_type(), "BatchNormalization") << "BatchNormalization must be folded";
    for (const Value* v : n->outputs()) {
      ASSERT_TRUE(v->quant().has_value()) << n->Describe() << " output " << v->name();
      EXPECT_EQ(v->dtype(), DataType::kInt8) << v->name();
      EXPECT_THAT(v->quant()->Validate(), IsOk()) << v->name();
    }
    if (n->op_type() == "Conv") {
      ++convs;
      const QuantParams& x = *n->input(0)->quant();
      const QuantParams& w = *n->input(1)->quant();
      const QuantParams& b = *n->input(2)->quant();
      EXPECT_EQ(n->input(1)->dtype(), DataType::kInt8);
      EXPECT_EQ(n->input(2)->dtype(), DataType::kInt32);
      for (int64_t z : w.zero_point) EXPECT_EQ(z, 0);
      ASSERT_EQ(w.scale.size(), b.scale.size());
      for (size_t c = 0; c < w.scale.size(); ++c) {
        EXPECT_FLOAT_EQ(b.scale[c], x.scale[0] * w.scale[c]) << n->name() << " channel " << c;
      }
      const Tensor& wt = *n->input(1)->constant();
      for (int8_t v : wt.values<int8_t>()) EXPECT_GE(v, -127) << "weights use [-127, 127]";
    }
    if (n->op_type() == "Sigmoid") {
      EXPECT_EQ(n->output(0)->quant()->scale[0], 1.0f / 256.0f);
      EXPECT_EQ(n->output(0)->quant()->zero_point[0], -128);
    }
    if (n->op_type() == "Concat" || n->op_type() == "MaxPool") {
      for (const Value* in : n->inputs()) {
        EXPECT_EQ(*in->quant(), *n->output(0)->quant())
            << n->Describe() << ": input " << in->name() << " must share the output's scale";
      }
    }
  }
  // 5 Convs in the model, plus the standalone BatchNormalization turned into
  // a depthwise Conv.
  EXPECT_EQ(convs, 6);
  EXPECT_LT(result.report.quantized_parameter_bytes, result.report.float_parameter_bytes / 2);
}

// Largest |q| over the Conv/Gemm weights of a quantized graph, and whether
// every weight channel reaches it (symmetric quantization maps each
// channel's max |w| to the top of the range).
int MaxAbsWeight(const Graph& q) {
  int max_abs = 0;
  for (const Node* n : q.nodes()) {
    if (n->op_type() != "Conv" && n->op_type() != "Gemm") continue;
    for (int8_t v : n->input(1)->constant()->values<int8_t>()) {
      max_abs = std::max(max_abs, std::abs(static_cast<int>(v)));
    }
  }
  return max_abs;
}

TEST_F(DigitsQuantizeTest, WeightRangeFullByDefaultSevenBitWhenReduced) {
  QuantConfig config;  // Defaults: onnxruntime profile, full weight range.
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult full, Quantize(model_, *data_, config, registry_));
  EXPECT_EQ(MaxAbsWeight(full.model), 127);
  config.weight_range = WeightRange::kReduced;
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult reduced, Quantize(model_, *data_, config, registry_));
  EXPECT_EQ(MaxAbsWeight(reduced.model), 63);
  config.profile = ArithmeticProfile::kTfliteReference;
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult tflite, Quantize(model_, *data_, config, registry_));
  EXPECT_EQ(MaxAbsWeight(tflite.model), 63);
  // Reduced weights: scale = max|w| / 63 per channel, so q = round(w / s)
  // equals round(63 * w / max|w|) (up to a half-step tie).
  for (const Node* n : reduced.model.nodes()) {
    if (n->op_type() != "Conv") continue;
    const QuantParams& p = *n->input(1)->quant();
    EXPECT_EQ(p.bits, 8) << "stored as plain int8";
    for (int64_t z : p.zero_point) EXPECT_EQ(z, 0);
  }
}

// uint8 activations: the quantized graph runs them as int8 with zero point
// - 128 (docs/arithmetic.md), so it equals the int8 graph value for value
// (the asymmetric parameters of a range differ exactly by 128), and the
// metadata records uint8 for the export.
TEST_F(DigitsQuantizeTest, Uint8ActivationsRunAsInt8WithShiftedZeroPoints) {
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult s8, Quantize(model_, *data_, {}, registry_));
  QuantConfig config;
  config.activation_type = DataType::kUint8;
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult u8, Quantize(model_, *data_, config, registry_));
  EXPECT_EQ(u8.model.metadata().at("qforge.activation_type"), "uint8");
  EXPECT_EQ(s8.model.metadata().count("qforge.activation_type"), 0u);
  int compared = 0;
  for (const Value* v : s8.model.values()) {
    if (!v->quant().has_value()) continue;
    const Value* w = u8.model.FindValue(v->name());
    ASSERT_NE(w, nullptr) << v->name();
    ASSERT_TRUE(w->quant().has_value()) << v->name();
    EXPECT_EQ(*w->quant(), *v->quant()) << v->name();
    EXPECT_EQ(w->dtype(), v->dtype()) << v->name();
    ++compared;
  }
  EXPECT_GT(compared, 20);
  // The uint8 export: every QuantizeLinear writes uint8.
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveOnnxToBytes(u8.model));
  onnx::ModelProto proto;
  ASSERT_TRUE(proto.ParseFromString(bytes));
  std::map<std::string, int> zero_point_types;
  for (const auto& t : proto.graph().initializer()) zero_point_types[t.name()] = t.data_type();
  int quantize_nodes = 0;
  for (const auto& n : proto.graph().node()) {
    if (n.op_type() != "QuantizeLinear") continue;
    ++quantize_nodes;
    ASSERT_EQ(n.input_size(), 3) << n.name();
    EXPECT_EQ(zero_point_types[n.input(2)], onnx::TensorProto::UINT8) << n.name();
  }
  EXPECT_GT(quantize_nodes, 10);
  // Read back: int8 again, the same parameters as the int8 graph.
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph back_s8, LoadModelFromTempOnnx(s8.model));
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph back_u8, LoadModelFromTempOnnx(u8.model));
  EXPECT_EQ(back_u8.metadata().at("qforge.activation_type"), "uint8");
  for (const Value* v : back_s8.values()) {
    if (!v->quant().has_value()) continue;
    const Value* w = back_u8.FindValue(v->name());
    ASSERT_NE(w, nullptr) << v->name();
    EXPECT_EQ(w->quant(), v->quant()) << v->name();
  }
}

TEST_F(DigitsQuantizeTest, MissingQuantizerFailsNamingNodeOpAndFixes) {
  registry_.quantizers().Remove(OpKey{"", "Sigmoid"});
  EXPECT_THAT(Quantize(model_, *data_, {}, registry_),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("(Sigmoid)"), HasSubstr("no quantizer"),
                             HasSubstr("--plugin"), HasSubstr("keep_float"),
                             HasSubstr("exclude_nodes"))));
  QuantConfig keep;
  keep.unknown_op_policy = UnknownOpPolicy::kKeepFloat;
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult result, Quantize(model_, *data_, keep, registry_));
  ASSERT_EQ(result.report.num_float(), 1) << result.report.ToString();
  for (const auto& e : result.report.nodes) {
    if (!e.quantized) {
      EXPECT_EQ(e.op, "Sigmoid");
      EXPECT_THAT(e.reason, HasSubstr("keep_float"));
    }
  }
  // The Sigmoid runs in float between DequantizeLinear and QuantizeLinear.
  for (const Node* n : result.model.nodes()) {
    if (n->op_type() != "Sigmoid") continue;
    EXPECT_EQ(n->input(0)->dtype(), DataType::kFloat32);
    EXPECT_EQ(n->input(0)->producer()->op_type(), "DequantizeLinear");
    EXPECT_EQ(n->output(0)->dtype(), DataType::kFloat32);
  }
  EXPECT_THAT(result.report.ToString(), HasSubstr("Sigmoid"));
}

TEST_F(DigitsQuantizeTest, ExclusionsKeepNodesFloatWithTheirReason) {
  QuantConfig config;
  config.keep_first_layer_float = true;
  config.exclude_op_types = {"Gemm"};
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult result, Quantize(model_, *data_, config, registry_));
  int float_nodes = 0;
  for (const auto& e : result.report.nodes) {
    if (e.quantized) continue;
    ++float_nodes;
    EXPECT_THAT(e.reason, ::testing::AnyOf(HasSubstr("keep_first_layer_float"),
                                           HasSubstr("exclude_op_types")));
  }
  EXPECT_EQ(float_nodes, 2);
}

}  // namespace
}  // namespace qforge
