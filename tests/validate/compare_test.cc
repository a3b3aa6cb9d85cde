// Layer-wise comparison: (de)quantization helpers against hand values, and
// CompareModels on small QDQ graphs whose errors are computed independently
// here (round half to even, saturate, dequantize, then the metric formulas).
#include "qforge/validate/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/io/model.h"
#include "qforge/io/npy.h"
#include "qforge/ir/layout.h"
#include "qforge/ir/verifier.h"
#include "qforge/quantize/quantize.h"
#include "qforge/runtime/executor.h"
#include "qforge/runtime/kernel.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::DoubleNear;
using ::testing::HasSubstr;

std::string SourceDir() {
  const char* dir = std::getenv("QFORGE_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

TEST(QuantizeTensor, RoundsHalfToEvenAndSaturates) {
  Tensor x = Tensor::FromVector<float>(
      {6}, {0.25f, 0.75f, -0.25f, 100.0f, -100.0f, 0.5f});
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Tensor q, QuantizeTensor(x, QuantParams::PerTensor(0.5f, 1)));
  // x / 0.5 = 0.5, 1.5, -0.5, 200, -200, 1 -> even: 0, 2, -0, sat, sat, 1.
  EXPECT_EQ(q.ToVector<int8_t>(), (std::vector<int8_t>{1, 3, 1, 127, -128, 2}));
  ASSERT_TRUE(q.quant().has_value());
}

TEST(DequantizeTensor, PerAxis) {
  Tensor q = Tensor::FromVector<int8_t>({2, 2}, {1, 2, 3, 4});
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Tensor r,
      DequantizeTensor(q, QuantParams::PerAxis({0.5f, 2.0f}, {1, 0}, 0)));
  EXPECT_EQ(r.ToVector<float>(), (std::vector<float>{0.0f, 0.5f, 6.0f, 8.0f}));
  EXPECT_THAT(
      DequantizeTensor(q,
                       QuantParams::PerAxis({0.5f, 2.0f, 1.0f}, {0, 0, 0}, 1)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("do not fit")));
}

// Float: a = Identity(x), b = Identity(x), out_a = Identity(a),
// out_b = Identity(b). Quantized: x -> Q(s_a) -> Identity -> a (int8) -> DQ
// -> out_a, and likewise for b with s_b.
struct Models {
  Graph float_model;
  Graph quantized;
};

absl::Status AddIdentity(Graph& g, Value* in, Value* out) {
  NodeSpec spec;
  spec.name = "id_" + out->name();
  spec.op_type = "Identity";
  spec.inputs = {in};
  spec.outputs = {out};
  return g.AddNode(std::move(spec)).status();
}

Models BuildModels(const Registry& registry, float s_a, float s_b) {
  Models m;
  {
    Graph& g = m.float_model;
    g.set_opset("", 13);
    Value* x = g.AddValue("x", DataType::kFloat32, Shape({1, 3}));
    g.AddInput(x);
    for (const char* name : {"a", "b"}) {
      Value* v = g.AddValue(name, DataType::kFloat32, Shape({1, 3}));
      Value* out = g.AddValue(std::string("out_") + name, DataType::kFloat32,
                              Shape({1, 3}));
      EXPECT_THAT(AddIdentity(g, x, v), IsOk());
      EXPECT_THAT(AddIdentity(g, v, out), IsOk());
      g.AddOutput(out);
    }
    EXPECT_THAT(VerifyGraph(g, registry.schemas()), IsOk());
  }
  {
    Graph& g = m.quantized;
    g.set_opset("", 13);
    Value* x = g.AddValue("x", DataType::kFloat32, Shape({1, 3}));
    g.AddInput(x);
    for (auto [name, scale] :
         {std::pair<std::string, float>{"a", s_a}, {"b", s_b}}) {
      const QuantParams p = QuantParams::PerTensor(scale, 0);
      Value* sc = g.AddConstant(name + "_scale", Tensor::Scalar<float>(scale));
      Value* zp = g.AddConstant(name + "_zp", Tensor::Scalar<int8_t>(0));
      Value* xq = g.AddValue(name + "_xq", DataType::kInt8, Shape({1, 3}));
      xq->set_quant(p);
      NodeSpec q;
      q.name = "q_" + name;
      q.op_type = "QuantizeLinear";
      q.inputs = {x, sc, zp};
      q.outputs = {xq};
      EXPECT_THAT(g.AddNode(std::move(q)).status(), IsOk());
      Value* v = g.AddValue(name, DataType::kInt8, Shape({1, 3}));
      v->set_quant(p);
      EXPECT_THAT(AddIdentity(g, xq, v), IsOk());
      Value* out = g.AddValue("out_" + name, DataType::kFloat32, Shape({1, 3}));
      NodeSpec dq;
      dq.name = "dq_" + name;
      dq.op_type = "DequantizeLinear";
      dq.inputs = {v, sc, zp};
      dq.outputs = {out};
      EXPECT_THAT(g.AddNode(std::move(dq)).status(), IsOk());
      g.AddOutput(out);
    }
    EXPECT_THAT(VerifyGraph(g, registry.schemas()), IsOk());
  }
  return m;
}

Tensor RandomSamples(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n * 3);
  for (float& f : v) f = dist(rng);
  return Tensor::FromVector<float>({n, 3}, v);
}

// The error of quantizing the samples with `scale` (zero point 0), computed
// here: nearbyint rounds half to even in the default rounding mode.
ErrorMetrics ExpectedQuantError(const Tensor& samples, float scale) {
  ErrorAccumulator acc;
  std::vector<float> ref, approx;
  for (int64_t i = 0; i < samples.num_elements(); ++i) {
    const float x = samples.data<float>()[i];
    const double q = std::clamp<double>(std::nearbyint(x / scale), -128, 127);
    ref.push_back(x);
    approx.push_back(static_cast<float>(q * scale));
  }
  const int64_t n = static_cast<int64_t>(ref.size());
  EXPECT_THAT(acc.Add(Tensor::FromVector<float>({n}, ref),
                      Tensor::FromVector<float>({n}, approx)),
              IsOk());
  return acc.Result();
}

void ExpectMetricsEq(const ErrorMetrics& got, const ErrorMetrics& want) {
  EXPECT_THAT(got.sqnr_db, DoubleNear(want.sqnr_db, 1e-9));
  EXPECT_THAT(got.cosine, DoubleNear(want.cosine, 1e-12));
  EXPECT_THAT(got.max_abs, DoubleNear(want.max_abs, 1e-7));
  EXPECT_THAT(got.mean_abs, DoubleNear(want.mean_abs, 1e-7));
  EXPECT_EQ(got.num_elements, want.num_elements);
}

class CompareTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_THAT(RegisterBuiltins(registry_), IsOk()); }
  Registry registry_;
};

TEST_F(CompareTest, CumulativeAndIsolatedErrorsMatchIndependentComputation) {
  constexpr float kScaleA = 0.1f, kScaleB = 0.01f;
  Models m = BuildModels(registry_, kScaleA, kScaleB);
  const Tensor samples = RandomSamples(40, 7);
  QFORGE_ASSERT_OK_AND_ASSIGN(auto data,
                              TensorCalibrationData::Create({{"x", samples}}));
  CompareOptions options;
  options.prepare_float_model = false;
  QFORGE_ASSERT_OK_AND_ASSIGN(
      ComparisonReport report,
      CompareModels(m.float_model, m.quantized, *data, registry_, options));
  EXPECT_EQ(report.num_samples, 40);
  const ErrorMetrics want_a = ExpectedQuantError(samples, kScaleA);
  const ErrorMetrics want_b = ExpectedQuantError(samples, kScaleB);
  ASSERT_EQ(report.outputs.size(), 2u);
  EXPECT_EQ(report.outputs[0].name, "out_a");
  ExpectMetricsEq(report.outputs[0].cumulative, want_a);
  ExpectMetricsEq(report.outputs[1].cumulative, want_b);
  // Layers: the quantized Identity outputs, coarse scale (lower SQNR) first.
  ASSERT_EQ(report.layers.size(), 2u);
  EXPECT_EQ(report.layers[0].name, "a");
  EXPECT_EQ(report.layers[1].name, "b");
  for (const TensorComparison& c : report.layers) {
    const ErrorMetrics& want = c.name == "a" ? want_a : want_b;
    EXPECT_TRUE(c.quantized);
    EXPECT_EQ(c.op, "Identity");
    ExpectMetricsEq(c.cumulative, want);
    ASSERT_TRUE(c.isolated.has_value()) << c.name;
    ExpectMetricsEq(*c.isolated, want);
  }
  EXPECT_LT(want_a.sqnr_db, want_b.sqnr_db);
  const std::string text = report.ToString();
  EXPECT_THAT(text, HasSubstr("Layers, worst first"));
  EXPECT_THAT(text, HasSubstr("Identity"));
  const std::string json = report.ToJson();
  EXPECT_THAT(json, HasSubstr("\"name\": \"a\""));
  EXPECT_THAT(json, HasSubstr("\"isolated\": {\"sqnr_db\""));
}

TEST_F(CompareTest, TopOneAccuracyAndAgreement) {
  Models m = BuildModels(registry_, 0.5f, 0.01f);
  const int64_t n = 50;
  const Tensor samples = RandomSamples(n, 11);
  // Labels: argmax of the float sample for even samples, (argmax + 1) % 3
  // for odd ones, so the float accuracy is exactly 50%.
  std::vector<int64_t> labels;
  std::vector<int64_t> float_class, quant_class;
  for (int64_t s = 0; s < n; ++s) {
    const float* x = samples.data<float>() + 3 * s;
    int64_t best = 0, qbest = 0;
    double qv[3];
    for (int i = 0; i < 3; ++i) {
      qv[i] = std::clamp<double>(std::nearbyint(x[i] / 0.5f), -128, 127) * 0.5f;
      if (x[i] > x[best]) best = i;
      if (qv[i] > qv[qbest]) qbest = i;
    }
    float_class.push_back(best);
    quant_class.push_back(qbest);
    labels.push_back(s % 2 == 0 ? best : (best + 1) % 3);
  }
  int64_t q_correct = 0, agree = 0;
  for (int64_t s = 0; s < n; ++s) {
    q_correct += quant_class[s] == labels[s];
    agree += quant_class[s] == float_class[s];
  }
  QFORGE_ASSERT_OK_AND_ASSIGN(auto data,
                              TensorCalibrationData::Create({{"x", samples}}));
  CompareOptions options;
  options.prepare_float_model = false;
  options.labels = Tensor::FromVector<int64_t>({n}, labels);
  QFORGE_ASSERT_OK_AND_ASSIGN(
      ComparisonReport report,
      CompareModels(m.float_model, m.quantized, *data, registry_, options));
  ASSERT_TRUE(report.has_labels);
  EXPECT_DOUBLE_EQ(report.float_top1, 0.5);
  EXPECT_DOUBLE_EQ(report.quantized_top1, static_cast<double>(q_correct) / n);
  EXPECT_DOUBLE_EQ(report.top1_agreement, static_cast<double>(agree) / n);
  EXPECT_LT(report.top1_agreement, 1.0)
      << "scale 0.5 should flip some argmaxes";
  EXPECT_THAT(report.ToString(), HasSubstr("Top-1 accuracy: float 50.00%"));

  options.labels = Tensor::FromVector<int64_t>({3}, {0, 1, 2});
  EXPECT_THAT(
      CompareModels(m.float_model, m.quantized, *data, registry_, options),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("labels")));
}

// An int8 Relu for the test registry (replacing any built-in one):
// q_out = clamp(round_half_even(max(0, s_in (q - zp_in)) / s_out) + zp_out).
absl::Status TestInt8Relu(KernelContext& ctx) {
  const QuantParams& in = *ctx.node().input(0)->quant();
  const QuantParams& out = *ctx.node().output(0)->quant();
  const Tensor& x = *ctx.input(0);
  Tensor* y = ctx.output(0);
  y->Reset(DataType::kInt8, x.dims());
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    const double r = std::max(
        0.0, double{in.scale[0]} * (x.data<int8_t>()[i] - in.zero_point[0]));
    const double q = std::nearbyint(static_cast<float>(r) / out.scale[0]) +
                     out.zero_point[0];
    y->data<int8_t>()[i] = static_cast<int8_t>(std::clamp(q, -128.0, 127.0));
  }
  return absl::OkStatus();
}

// Requantizes like TestInt8Relu, from real values.
std::vector<float> ReluRequant(const std::vector<float>& real, float s_out) {
  std::vector<float> out;
  for (float r : real) {
    const double q = std::clamp<double>(
        std::nearbyint(std::max(0.0f, r) / s_out), -128, 127);
    out.push_back(static_cast<float>(q * s_out));
  }
  return out;
}

std::vector<float> QuantDequant(const std::vector<float>& x, float s) {
  std::vector<float> out;
  for (float v : x) {
    out.push_back(static_cast<float>(
        std::clamp<double>(std::nearbyint(v / s), -128, 127) * s));
  }
  return out;
}

TEST_F(CompareTest, IsolatedErrorFeedsEachLayerTheFloatInputs) {
  registry_.kernels().Replace(
      {{"", "Relu"}, DataType::kInt8, StatelessKernel(TestInt8Relu)});
  // Float: r1 = Relu(x), r2 = Relu(r1), out = Identity(r2).
  // Quantized: x -> Q(s1) -> Relu -> r1 (s2) -> Relu -> r2 (s3) -> DQ -> out.
  // Cumulatively, r2 inherits the coarse s1 grid of x; in isolation it is
  // fed the float r1 quantized with s2.
  constexpr float s1 = 0.05f, s2 = 0.02f, s3 = 0.03f;
  Graph fm;
  {
    fm.set_opset("", 13);
    Value* x = fm.AddValue("x", DataType::kFloat32, Shape({1, 3}));
    fm.AddInput(x);
    Value* r1 = fm.AddValue("r1", DataType::kFloat32, Shape({1, 3}));
    Value* r2 = fm.AddValue("r2", DataType::kFloat32, Shape({1, 3}));
    Value* out = fm.AddValue("out", DataType::kFloat32, Shape({1, 3}));
    NodeSpec a{"relu1", "", "Relu", {x}, {r1}, {}};
    NodeSpec b{"relu2", "", "Relu", {r1}, {r2}, {}};
    ASSERT_THAT(fm.AddNode(std::move(a)).status(), IsOk());
    ASSERT_THAT(fm.AddNode(std::move(b)).status(), IsOk());
    ASSERT_THAT(AddIdentity(fm, r2, out), IsOk());
    fm.AddOutput(out);
    ASSERT_THAT(VerifyGraph(fm, registry_.schemas()), IsOk());
  }
  Graph qm;
  {
    qm.set_opset("", 13);
    Value* x = qm.AddValue("x", DataType::kFloat32, Shape({1, 3}));
    qm.AddInput(x);
    Value* sc1 = qm.AddConstant("s1", Tensor::Scalar<float>(s1));
    Value* sc3 = qm.AddConstant("s3", Tensor::Scalar<float>(s3));
    Value* zp = qm.AddConstant("zp", Tensor::Scalar<int8_t>(0));
    auto int8 = [&](const char* name, float scale) {
      Value* v = qm.AddValue(name, DataType::kInt8, Shape({1, 3}));
      v->set_quant(QuantParams::PerTensor(scale, 0));
      return v;
    };
    Value* xq = int8("x_q", s1);
    Value* r1 = int8("r1", s2);
    Value* r2 = int8("r2", s3);
    Value* out = qm.AddValue("out", DataType::kFloat32, Shape({1, 3}));
    NodeSpec q{"q", "", "QuantizeLinear", {x, sc1, zp}, {xq}, {}};
    NodeSpec a{"relu1", "", "Relu", {xq}, {r1}, {}};
    NodeSpec b{"relu2", "", "Relu", {r1}, {r2}, {}};
    NodeSpec dq{"dq", "", "DequantizeLinear", {r2, sc3, zp}, {out}, {}};
    for (NodeSpec* spec : {&q, &a, &b, &dq}) {
      ASSERT_THAT(qm.AddNode(std::move(*spec)).status(), IsOk());
    }
    qm.AddOutput(out);
  }
  const Tensor samples = RandomSamples(30, 5);
  std::vector<float> x = samples.ToVector<float>();
  const int64_t n = static_cast<int64_t>(x.size());
  // Independent expectations.
  std::vector<float> f_r1, f_r2;
  for (float v : x) f_r1.push_back(std::max(0.0f, v));
  f_r2 = f_r1;
  const std::vector<float> q_r1 =
      ReluRequant(QuantDequant(x, s1), s2);               // Cumulative r1.
  const std::vector<float> q_r2 = ReluRequant(q_r1, s3);  // Cumulative r2.
  const std::vector<float> iso_r2 = ReluRequant(QuantDequant(f_r1, s2), s3);
  auto metrics = [&](const std::vector<float>& ref,
                     const std::vector<float>& approx) {
    return CompareTensors(Tensor::FromVector<float>({n}, ref),
                          Tensor::FromVector<float>({n}, approx))
        .value();
  };
  QFORGE_ASSERT_OK_AND_ASSIGN(auto data,
                              TensorCalibrationData::Create({{"x", samples}}));
  CompareOptions options;
  options.prepare_float_model = false;
  QFORGE_ASSERT_OK_AND_ASSIGN(ComparisonReport report,
                              CompareModels(fm, qm, *data, registry_, options));
  ASSERT_EQ(report.layers.size(), 2u) << report.ToString();
  const TensorComparison* r1 = nullptr;
  const TensorComparison* r2 = nullptr;
  for (const TensorComparison& c : report.layers)
    (c.name == "r1" ? r1 : r2) = &c;
  ASSERT_NE(r1, nullptr);
  ASSERT_NE(r2, nullptr);
  EXPECT_EQ(r2->name, "r2");
  ExpectMetricsEq(r1->cumulative, metrics(f_r1, q_r1));
  ASSERT_TRUE(r1->isolated.has_value());
  ExpectMetricsEq(*r1->isolated,
                  metrics(f_r1, q_r1));  // The first layer sees the same input.
  ExpectMetricsEq(r2->cumulative, metrics(f_r2, q_r2));
  ASSERT_TRUE(r2->isolated.has_value());
  ExpectMetricsEq(*r2->isolated, metrics(f_r2, iso_r2));
  EXPECT_NE(r2->isolated->sqnr_db, r2->cumulative.sqnr_db);
  ASSERT_EQ(report.outputs.size(), 1u);
  EXPECT_EQ(report.outputs[0].op, "DequantizeLinear");
  ExpectMetricsEq(report.outputs[0].cumulative, metrics(f_r2, q_r2));
}

TEST_F(CompareTest, FloatModelAgainstItselfIsExact) {
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Graph model,
      LoadModel(SourceDir() + "/examples/digits/digits_cnn.onnx", registry_));
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph prepared,
                              PrepareForQuantization(model, {}, registry_));
  QFORGE_ASSERT_OK_AND_ASSIGN(
      auto data,
      OpenCalibrationData(SourceDir() + "/examples/digits/digits_calib.npz"));
  CompareOptions options;
  options.end = 8;
  QFORGE_ASSERT_OK_AND_ASSIGN(
      ComparisonReport report,
      CompareModels(model, prepared, *data, registry_, options));
  EXPECT_EQ(report.num_samples, 8);
  ASSERT_EQ(report.outputs.size(), 1u);
  EXPECT_TRUE(std::isinf(report.outputs[0].cumulative.sqnr_db));
  EXPECT_EQ(report.outputs[0].cumulative.max_abs, 0.0);
  EXPECT_GT(report.layers.size(), 3u);
  for (const TensorComparison& c : report.layers) {
    EXPECT_FALSE(c.quantized);
    EXPECT_FALSE(c.isolated.has_value());
    EXPECT_EQ(c.cumulative.max_abs, 0.0) << c.name;
  }
  EXPECT_EQ(report.top1_agreement, 1.0);
}

TEST_F(CompareTest, DigitsQuantizedModel) {
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Graph model,
      LoadModel(SourceDir() + "/examples/digits/digits_cnn.onnx", registry_));
  QFORGE_ASSERT_OK_AND_ASSIGN(
      auto data,
      OpenCalibrationData(SourceDir() + "/examples/digits/digits_calib.npz"));
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult result,
                              Quantize(model, *data, {}, registry_));
  if (!Executor::Prepare(result.model, registry_).ok()) {
    GTEST_SKIP() << "the executor has no int8 kernels yet";
  }
  CompareOptions options;
  options.end = 32;
  QFORGE_ASSERT_OK_AND_ASSIGN(
      ComparisonReport report,
      CompareModels(model, result.model, *data, registry_, options));
  ASSERT_EQ(report.outputs.size(), 1u);
  EXPECT_GT(report.outputs[0].cumulative.sqnr_db, 15.0) << report.ToString();
  EXPECT_GT(report.top1_agreement, 0.8) << report.ToString();
  int with_isolated = 0;
  for (size_t i = 0; i < report.layers.size(); ++i) {
    if (!report.layers[i].isolated) continue;
    ++with_isolated;
    if (i > 0 && report.layers[i - 1].isolated) {
      EXPECT_LE(report.layers[i - 1].isolated->sqnr_db,
                report.layers[i].isolated->sqnr_db);
    }
  }
  EXPECT_GT(with_isolated, 3) << report.ToString();
  // Convs with a fused Relu are compared after the Relu: a good layer, not
  // the ~1 dB a comparison with the pre-Relu float values would give.
  int fused = 0;
  for (const TensorComparison& c : report.layers) {
    if (!c.fused_relu) continue;
    ++fused;
    EXPECT_EQ(c.op, "Conv") << c.name;
    ASSERT_TRUE(c.isolated.has_value()) << c.name;
    EXPECT_GT(c.isolated->sqnr_db, 20.0) << c.name;
  }
  EXPECT_GE(fused, 3) << report.ToString();
}

// The TFLite converter's int8 model of the Keras CNN
// (tests/interop/fixtures/keras_cnn/): its RELU6 convolutions import as
// Conv + Clip(0, 6) sharing params, one of them a Concat input whose shared
// scale ([-0.99, 6]) is wider than the Clip, so the Conv's own int8 output
// is not clamped at 0 by its params: compared after the Clip on both sides,
// each such layer is a good one, not a ~6 dB layer topping the list.
TEST_F(CompareTest, TfliteFusedRelu6ComparedAfterTheClip) {
  const std::string dir = SourceDir() + "/tests/interop/fixtures/keras_cnn/";
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Graph model, LoadModel(dir + "keras_cnn_float.tflite", registry_));
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Graph quantized,
      LoadModel(dir + "keras_cnn_converter_int8.tflite", registry_));
  ASSERT_THAT(ConvertLayout(model, Layout::kNCHW, registry_.schemas()), IsOk());
  ASSERT_THAT(ConvertLayout(quantized, Layout::kNCHW, registry_.schemas()),
              IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor images,
                              ReadNpy(dir + "keras_cnn_test_images.npy"));
  QFORGE_ASSERT_OK_AND_ASSIGN(
      auto data,
      TensorCalibrationData::Create({{model.inputs()[0]->name(), images}}));
  CompareOptions options;
  options.end = 32;
  QFORGE_ASSERT_OK_AND_ASSIGN(
      ComparisonReport report,
      CompareModels(model, quantized, *data, registry_, options));
  int fused = 0;
  for (const TensorComparison& c : report.layers) {
    if (!c.fused_clip) continue;
    ++fused;
    EXPECT_FALSE(c.fused_relu);
    EXPECT_EQ(c.op, "Conv") << c.name;
    EXPECT_GT(c.cumulative.sqnr_db, 30.0) << c.name << "\n"
                                          << report.ToString();
  }
  EXPECT_EQ(fused, 3) << report.ToString();
  EXPECT_THAT(report.ToString(), HasSubstr("Conv+Clip"));
  EXPECT_THAT(report.ToJson(), HasSubstr("\"fused_clip\": true"));
}

}  // namespace
}  // namespace qforge
