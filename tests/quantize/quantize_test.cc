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
#include "onnx/onnx_pb.h"
#include "qforge/io/model.h"
#include "qforge/io/onnx.h"
#include "qforge/runtime/executor.h"
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

// Sigmoid and Tanh have fixed int8 outputs, so inputs beyond the points where
// the output is within half an output step of its asymptote (sigmoid: |x| >=
// ln 511; tanh: |x| >= ln(511) / 2) all quantize to the same output. A value
// read only by such nodes gets its calibrated range limited there (a finer
// step for the values that matter; with both readers, the wider limit); a
// value with another reader keeps its range. Either way the int8 outputs stay
// within 1 LSB of the float ones, saturated inputs included.
class SaturationRangeTest : public ::testing::TestWithParam<ArithmeticProfile> {
};

TEST_P(SaturationRangeTest, InputsReadOnlyBySigmoidOrTanhAreLimited) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  Graph g;
  g.set_opset("", 17);
  Value* x = g.AddValue("x", DataType::kFloat32, Shape({1, 8}));
  g.AddInput(x);
  auto node = [&](const std::string& op, const std::string& name,
                  std::vector<Value*> inputs) {
    Value* out = g.AddValue(name);
    EXPECT_THAT(g.AddNode({.name = name + "_node",
                           .op_type = op,
                           .inputs = inputs,
                           .outputs = {out}})
                    .status(),
                IsOk());
    return out;
  };
  Value* half = g.AddConstant("half", Tensor::FromVector<float>({}, {0.5f}));
  Value* a = node("Add", "a", {x, half});  // Read by Sigmoid only.
  Value* b = node("Add", "b", {x, half});  // Read by Tanh only.
  Value* c = node("Add", "c", {x, half});  // Read by Sigmoid and Relu.
  Value* d = node("Add", "d", {x, half});  // Read by Sigmoid and Tanh.
  g.AddOutput(node("Sigmoid", "sig_a", {a}));
  g.AddOutput(node("Tanh", "tanh_b", {b}));
  g.AddOutput(node("Sigmoid", "sig_c", {c}));
  g.AddOutput(node("Relu", "relu_c", {c}));
  g.AddOutput(node("Sigmoid", "sig_d", {d}));
  g.AddOutput(node("Tanh", "tanh_d", {d}));

  Tensor samples(DataType::kFloat32, {64, 8});
  auto xs = samples.values<float>();
  for (size_t i = 0; i < xs.size(); ++i) {
    xs[i] = -20.0f + 40.0f * static_cast<float>(i) / (xs.size() - 1);
  }
  QFORGE_ASSERT_OK_AND_ASSIGN(auto data,
                              TensorCalibrationData::Create({{"x", samples}}));
  QuantConfig config;
  config.profile = GetParam();
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult result,
                              Quantize(g, *data, config, registry));
  EXPECT_EQ(result.report.num_float(), 0) << result.report.ToString();
  EXPECT_THAT(result.report.ToString(),
              AllOf(HasSubstr("the quantized Sigmoid output no longer"),
                    HasSubstr("the quantized Tanh output no longer")));
  std::map<std::string, QuantParams> params;
  for (const Value* v : result.model.values()) {
    if (v->quant().has_value()) params[v->name()] = *v->quant();
  }
  ASSERT_TRUE(params.contains("a") && params.contains("b") &&
              params.contains("c") && params.contains("d"));
  const double ln511 = std::log(511.0);
  EXPECT_NEAR(params["a"].scale[0], 2 * ln511 / 255, 1e-6);
  EXPECT_NEAR(params["b"].scale[0], ln511 / 255, 1e-6);
  EXPECT_NEAR(params["c"].scale[0], 40.0 / 255, 1e-6);  // [-19.5, 20.5].
  // Both readers saturate only beyond the wider (Sigmoid's) point.
  EXPECT_NEAR(params["d"].scale[0], 2 * ln511 / 255, 1e-6);

  // Float vs int8 outputs, on inputs well past the saturation points too.
  // Bound: the activation's largest slope (sigmoid 1/4, tanh 1) times half a
  // step of x (range [-20, 20]) and of its input, plus one output step.
  QFORGE_ASSERT_OK_AND_ASSIGN(auto exec,
                              Executor::Prepare(result.model, registry));
  Tensor probe(DataType::kFloat32, {1, 8});
  const std::vector<float> values = {-20, -7, -3.5f, -1, 0.3f, 2.9f, 6.5f, 20};
  std::copy(values.begin(), values.end(), probe.values<float>().begin());
  QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap out, exec->Run({{"x", probe}}));
  const double x_step = 40.0 / 255;
  const double sig_bound =
      0.25 * (x_step + params["a"].scale[0]) / 2 + 1.0 / 256;
  const double tanh_bound = (x_step + params["b"].scale[0]) / 2 + 1.0 / 128;
  for (int i = 0; i < 8; ++i) {
    const double in = values[i] + 0.5;
    const bool saturated = std::abs(values[i]) > 6;
    // Saturated inputs: the int8 output is the output step nearest to the
    // float value (the limit loses nothing there).
    EXPECT_NEAR(out.at("sig_a").data<float>()[i], 1 / (1 + std::exp(-in)),
                saturated ? 1.0 / 256 : sig_bound)
        << "x = " << values[i];
    EXPECT_NEAR(out.at("tanh_b").data<float>()[i], std::tanh(in),
                saturated ? 1.0 / 128 : tanh_bound)
        << "x = " << values[i];
    EXPECT_NEAR(out.at("sig_d").data<float>()[i], 1 / (1 + std::exp(-in)),
                saturated ? 1.0 / 256 : sig_bound)
        << "x = " << values[i];
    EXPECT_NEAR(
        out.at("tanh_d").data<float>()[i], std::tanh(in),
        saturated ? 1.0 / 128 : (x_step + params["d"].scale[0]) / 2 + 1.0 / 128)
        << "x = " << values[i];
  }
}

INSTANTIATE_TEST_SUITE_P(
    Profiles, SaturationRangeTest,
    ::testing::Values(ArithmeticProfile::kOnnxRuntime,
                      ArithmeticProfile::kTfliteReference));

}  // namespace
}  // namespace qforge
