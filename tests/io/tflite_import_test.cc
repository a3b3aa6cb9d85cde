#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "flatbuffers/flexbuffers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/tflite/op_code.h"
#include "io/tflite_model_builder.h"
#include "qforge/io/model.h"
#include "qforge/io/tflite.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::IsOk;
using testing::StatusIs;
using testing::TfliteModelBuilder;
namespace tfl = ::qforge::tflite_fb;

std::vector<float> RandomFloats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Independent NHWC convolution with TFLite weights [O, kH, kW, I] (SAME
// padding as TensorFlow: extra padding at the end), stride 1, groups =
// C / I, then the activation.
std::vector<float> NaiveConvNhwc(const std::vector<float>& x, int h, int w,
                                 int c, const std::vector<float>& filt, int o,
                                 int kh, int kw, int ci,
                                 const std::vector<float>& bias, bool relu) {
  const int groups = c / ci;
  const int opg = o / groups;
  const int pad_h = (kh - 1) / 2, pad_w = (kw - 1) / 2;
  std::vector<float> y(static_cast<size_t>(h) * w * o);
  for (int oy = 0; oy < h; ++oy)
    for (int ox = 0; ox < w; ++ox)
      for (int oc = 0; oc < o; ++oc) {
        const int g = oc / opg;
        double acc = bias.empty() ? 0.0 : bias[oc];
        for (int ky = 0; ky < kh; ++ky)
          for (int kx = 0; kx < kw; ++kx) {
            const int iy = oy + ky - pad_h, ix = ox + kx - pad_w;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            for (int i = 0; i < ci; ++i) {
              acc += static_cast<double>(x[(iy * w + ix) * c + g * ci + i]) *
                     filt[((oc * kh + ky) * kw + kx) * ci + i];
            }
          }
        y[(oy * w + ox) * o + oc] = relu ? std::max(0.0, acc) : acc;
      }
  return y;
}

class TfliteImportTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_THAT(RegisterBuiltins(registry_), IsOk()); }

  absl::StatusOr<TensorMap> RunGraph(Graph& graph, const std::string& input,
                                     Tensor x) {
    QFORGE_ASSIGN_OR_RETURN(auto exec, Executor::Prepare(graph, registry_));
    TensorMap inputs;
    inputs[input] = std::move(x);
    return exec->Run(inputs);
  }

  Registry registry_;
};

flatbuffers::Offset<void> ConvOptions(flatbuffers::FlatBufferBuilder& b,
                                      tfl::ActivationFunctionType act) {
  return tfl::CreateConv2DOptions(b, tfl::Padding_SAME, 1, 1, act).Union();
}

// input [1,4,5,4] -> CONV_2D (filter [6,3,3,2]: two groups, SAME, fused
// RELU) -> output [1,4,5,6].
std::string GroupedConvModel(const std::vector<float>& filt,
                             const std::vector<float>& bias) {
  TfliteModelBuilder m;
  const int x = m.AddTensor("x", tfl::TensorType_FLOAT32, {1, 4, 5, 4});
  const int w =
      m.AddConstant<float>("w", tfl::TensorType_FLOAT32, {6, 3, 3, 2}, filt);
  const int b = m.AddConstant<float>("b", tfl::TensorType_FLOAT32, {6}, bias);
  const int y = m.AddTensor("y", tfl::TensorType_FLOAT32, {1, 4, 5, 6});
  m.AddOp(m.AddOpCode(tfl::BuiltinOperator_CONV_2D), {x, w, b}, {y},
          tfl::BuiltinOptions_Conv2DOptions,
          [](flatbuffers::FlatBufferBuilder& fb) {
            return ConvOptions(fb, tfl::ActivationFunctionType_RELU);
          });
  m.SetIo({x}, {y});
  return m.Finish();
}

TEST_F(TfliteImportTest, Conv2dStaysNhwcAndMatchesNaiveConvolution) {
  const std::vector<float> filt = RandomFloats(6 * 3 * 3 * 2, 1);
  const std::vector<float> bias = RandomFloats(6, 2);
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Graph graph,
      LoadTfliteFromBytes(GroupedConvModel(filt, bias), registry_));
  ASSERT_EQ(graph.num_nodes(), 2);
  const Node* conv = graph.nodes()[0];
  EXPECT_EQ(conv->op_type(), "Conv");
  EXPECT_EQ(conv->layout(), Layout::kNHWC);
  EXPECT_EQ(*conv->GetInt("group", 0), 2);
  EXPECT_EQ(*conv->GetString("auto_pad", ""), "SAME_UPPER");
  // Weights in ONNX order [M, C/group, kH, kW].
  EXPECT_THAT(conv->input(1)->constant()->dims(), ElementsAre(6, 2, 3, 3));
  EXPECT_EQ(graph.nodes()[1]->op_type(), "Relu");
  EXPECT_EQ(graph.outputs()[0]->name(), "y");

  const std::vector<float> xs = RandomFloats(4 * 5 * 4, 3);
  QFORGE_ASSERT_OK_AND_ASSIGN(
      TensorMap out,
      RunGraph(graph, "x", Tensor::FromVector<float>({1, 4, 5, 4}, xs)));
  const std::vector<float> want =
      NaiveConvNhwc(xs, 4, 5, 4, filt, 6, 3, 3, 2, bias, /*relu=*/true);
  const Tensor& y = out.at("y");
  ASSERT_THAT(y.dims(), ElementsAre(1, 4, 5, 6));
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(y.data<float>()[i], want[i], 1e-5) << i;
  }
}

TEST_F(TfliteImportTest, DepthwiseConvWithMultiplierMatchesNaive) {
  // input [1,3,3,2], filter [1,3,3,4] (multiplier 2), VALID -> [1,1,1,4].
  const std::vector<float> filt = RandomFloats(9 * 4, 4);
  TfliteModelBuilder m;
  const int x = m.AddTensor("x", tfl::TensorType_FLOAT32, {1, 3, 3, 2});
  const int w =
      m.AddConstant<float>("w", tfl::TensorType_FLOAT32, {1, 3, 3, 4}, filt);
  const int y = m.AddTensor("y", tfl::TensorType_FLOAT32, {1, 1, 1, 4});
  m.AddOp(m.AddOpCode(tfl::BuiltinOperator_DEPTHWISE_CONV_2D), {x, w, -1}, {y},
          tfl::BuiltinOptions_DepthwiseConv2DOptions,
          [](flatbuffers::FlatBufferBuilder& b) {
            return tfl::CreateDepthwiseConv2DOptions(b, tfl::Padding_VALID, 1,
                                                     1, 2)
                .Union();
          });
  m.SetIo({x}, {y});
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph graph,
                              LoadTfliteFromBytes(m.Finish(), registry_));
  ASSERT_EQ(graph.num_nodes(), 1);
  EXPECT_EQ(*graph.nodes()[0]->GetInt("group", 0), 2);
  const std::vector<float> xs = RandomFloats(18, 5);
  QFORGE_ASSERT_OK_AND_ASSIGN(
      TensorMap out,
      RunGraph(graph, "x", Tensor::FromVector<float>({1, 3, 3, 2}, xs)));
  // Output channel oc reads input channel oc / 2 (TFLite depthwise order).
  for (int oc = 0; oc < 4; ++oc) {
    double acc = 0;
    for (int k = 0; k < 9; ++k) acc += xs[k * 2 + oc / 2] * filt[k * 4 + oc];
    EXPECT_NEAR(out.at("y").data<float>()[oc], acc, 1e-5) << oc;
  }
}

TEST_F(TfliteImportTest, FullyConnectedFlattensInputAndFusesRelu6) {
  // input [1,2,2,2] (8 features) -> FC weights [3, 8], bias [3], RELU6.
  const std::vector<float> wv = RandomFloats(24, 6);
  std::vector<float> bias = {0.5f, -0.25f, 7.0f};
  TfliteModelBuilder m;
  const int x = m.AddTensor("x", tfl::TensorType_FLOAT32, {1, 2, 2, 2});
  const int w = m.AddConstant<float>("w", tfl::TensorType_FLOAT32, {3, 8}, wv);
  const int b = m.AddConstant<float>("b", tfl::TensorType_FLOAT32, {3}, bias);
  const int y = m.AddTensor("y", tfl::TensorType_FLOAT32, {1, 3});
  m.AddOp(m.AddOpCode(tfl::BuiltinOperator_FULLY_CONNECTED), {x, w, b}, {y},
          tfl::BuiltinOptions_FullyConnectedOptions,
          [](flatbuffers::FlatBufferBuilder& fb) {
            return tfl::CreateFullyConnectedOptions(
                       fb, tfl::ActivationFunctionType_RELU6)
                .Union();
          });
  m.SetIo({x}, {y});
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph graph,
                              LoadTfliteFromBytes(m.Finish(), registry_));
  std::vector<std::string> ops;
  for (const Node* n : graph.nodes()) ops.push_back(n->op_type());
  EXPECT_THAT(ops, ElementsAre("Reshape", "Gemm", "Clip"));
  const std::vector<float> xs = RandomFloats(8, 7);
  QFORGE_ASSERT_OK_AND_ASSIGN(
      TensorMap out,
      RunGraph(graph, "x", Tensor::FromVector<float>({1, 2, 2, 2}, xs)));
  for (int o = 0; o < 3; ++o) {
    double acc = bias[o];
    for (int k = 0; k < 8; ++k) acc += xs[k] * wv[o * 8 + k];
    EXPECT_NEAR(out.at("y").data<float>()[o], std::clamp(acc, 0.0, 6.0), 1e-5);
  }
}

TEST_F(TfliteImportTest, ElementwiseChainRuns) {
  // y = softmax(mean(max_pool(pad(x) + c), axes [1, 2])) along the channels.
  TfliteModelBuilder m;
  const int x = m.AddTensor("x", tfl::TensorType_FLOAT32, {1, 2, 2, 3});
  const int pads = m.AddConstant<int32_t>("pads", tfl::TensorType_INT32, {4, 2},
                                          {0, 0, 1, 1, 1, 1, 0, 0});
  const int padded =
      m.AddTensor("padded", tfl::TensorType_FLOAT32, {1, 4, 4, 3});
  const int c = m.AddConstant<float>("c", tfl::TensorType_FLOAT32, {3},
                                     {1.0f, 2.0f, 3.0f});
  const int sum = m.AddTensor("sum", tfl::TensorType_FLOAT32, {1, 4, 4, 3});
  const int pooled =
      m.AddTensor("pooled", tfl::TensorType_FLOAT32, {1, 2, 2, 3});
  const int axes =
      m.AddConstant<int32_t>("axes", tfl::TensorType_INT32, {2}, {1, 2});
  const int mean = m.AddTensor("mean", tfl::TensorType_FLOAT32, {1, 3});
  const int y = m.AddTensor("y", tfl::TensorType_FLOAT32, {1, 3});
  m.AddOp(m.AddOpCode(tfl::BuiltinOperator_PAD), {x, pads}, {padded});
  m.AddOp(m.AddOpCode(tfl::BuiltinOperator_ADD), {padded, c}, {sum});
  m.AddOp(m.AddOpCode(tfl::BuiltinOperator_MAX_POOL_2D), {sum}, {pooled},
          tfl::BuiltinOptions_Pool2DOptions,
          [](flatbuffers::FlatBufferBuilder& b) {
            return tfl::CreatePool2DOptions(b, tfl::Padding_VALID, 2, 2, 2, 2)
                .Union();
          });
  m.AddOp(m.AddOpCode(tfl::BuiltinOperator_MEAN), {pooled, axes}, {mean});
  m.AddOp(m.AddOpCode(tfl::BuiltinOperator_SOFTMAX), {mean}, {y},
          tfl::BuiltinOptions_SoftmaxOptions,
          [](flatbuffers::FlatBufferBuilder& b) {
            return tfl::CreateSoftmaxOptions(b, 1.0f).Union();
          });
  m.SetIo({x}, {y});
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph graph,
                              LoadTfliteFromBytes(m.Finish(), registry_));
  const std::vector<float> xs = RandomFloats(12, 8);
  QFORGE_ASSERT_OK_AND_ASSIGN(
      TensorMap out,
      RunGraph(graph, "x", Tensor::FromVector<float>({1, 2, 2, 3}, xs)));
  // Each 2x2 window of the padded 4x4 image holds exactly one input pixel
  // and three zeros, so the max is max(pixel, 0) + c.
  std::vector<double> logits(3);
  for (int ch = 0; ch < 3; ++ch) {
    double acc = 0;
    for (int p = 0; p < 4; ++p)
      acc += std::max(0.0f, xs[p * 3 + ch]) + (ch + 1);
    logits[ch] = acc / 4;
  }
  double z = 0;
  for (double l : logits) z += std::exp(l);
  for (int ch = 0; ch < 3; ++ch) {
    EXPECT_NEAR(out.at("y").data<float>()[ch], std::exp(logits[ch]) / z, 1e-5);
  }
}

TEST_F(TfliteImportTest, OpCodeIsTheLargerOfBothFields) {
  flatbuffers::FlatBufferBuilder b;
  // New writers: 127 in the deprecated field, the real code in builtin_code.
  b.Finish(tfl::CreateOperatorCode(b, 127, 0, 1, tfl::BuiltinOperator_GELU));
  EXPECT_EQ(internal::TfliteBuiltinCode(
                *flatbuffers::GetRoot<tfl::OperatorCode>(b.GetBufferPointer())),
            150);
  // Old writers: only the deprecated field.
  flatbuffers::FlatBufferBuilder b2;
  b2.Finish(tfl::CreateOperatorCode(b2, 3));
  EXPECT_EQ(
      internal::TfliteBuiltinCode(
          *flatbuffers::GetRoot<tfl::OperatorCode>(b2.GetBufferPointer())),
      3);
}

TEST_F(TfliteImportTest, QuantizedTensorsCarryPerTensorAndPerAxisParams) {
  // A converter-style int8 CONV_2D: per-tensor activations, per-axis weights
  // (axis 0) and int32 bias.
  TfliteModelBuilder m;
  const int xf = m.AddTensor("x", tfl::TensorType_FLOAT32, {1, 3, 3, 2});
  const int xq = m.AddTensor("x_q", tfl::TensorType_INT8, {1, 3, 3, 2},
                             {.scale = {0.02f}, .zero_point = {-3}});
  const int w = m.AddConstant<int8_t>(
      "w", tfl::TensorType_INT8, {2, 1, 1, 2}, {10, -20, 127, -127},
      {.scale = {0.01f, 0.05f}, .zero_point = {0, 0}});
  const int b = m.AddConstant<int32_t>(
      "b", tfl::TensorType_INT32, {2}, {100, -50},
      {.scale = {0.0002f, 0.001f}, .zero_point = {0, 0}});
  const int yq = m.AddTensor("y_q", tfl::TensorType_INT8, {1, 3, 3, 2},
                             {.scale = {0.05f}, .zero_point = {5}});
  const int yf = m.AddTensor("y", tfl::TensorType_FLOAT32, {1, 3, 3, 2});
  m.AddOp(m.AddOpCode(tfl::BuiltinOperator_QUANTIZE), {xf}, {xq});
  m.AddOp(m.AddOpCode(tfl::BuiltinOperator_CONV_2D), {xq, w, b}, {yq},
          tfl::BuiltinOptions_Conv2DOptions,
          [](flatbuffers::FlatBufferBuilder& fb) {
            return ConvOptions(fb, tfl::ActivationFunctionType_NONE);
          });
  m.AddOp(m.AddOpCode(tfl::BuiltinOperator_DEQUANTIZE), {yq}, {yf});
  m.SetIo({xf}, {yf});
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph graph,
                              LoadTfliteFromBytes(m.Finish(), registry_));
  EXPECT_EQ(graph.metadata().at("qforge.arithmetic_profile"),
            "tflite_reference");
  const Value* x_q = graph.FindValue("x_q");
  ASSERT_NE(x_q, nullptr);
  EXPECT_EQ(x_q->dtype(), DataType::kInt8);
  EXPECT_EQ(x_q->quant(), QuantParams::PerTensor(0.02f, -3));
  const Node* conv = x_q->consumers()[0];
  ASSERT_EQ(conv->op_type(), "Conv");
  const Value* wv = conv->input(1);
  ASSERT_TRUE(wv->quant().has_value());
  EXPECT_EQ(wv->quant()->axis, 0);
  EXPECT_THAT(wv->quant()->scale, ElementsAre(0.01f, 0.05f));
  const Value* bv = conv->input(2);
  EXPECT_EQ(bv->quant()->storage, DataType::kInt32);
  EXPECT_EQ(bv->quant()->bits, 32);
  EXPECT_EQ(x_q->producer()->op_type(), "QuantizeLinear");
  EXPECT_EQ(graph.FindValue("y")->producer()->op_type(), "DequantizeLinear");
}

TEST_F(TfliteImportTest, DepthwiseWeightsPerAxisMoveFromAxis3ToAxis0) {
  TfliteModelBuilder m;
  const int x = m.AddTensor("x", tfl::TensorType_INT8, {1, 2, 2, 2},
                            {.scale = {0.1f}, .zero_point = {0}});
  const int w = m.AddConstant<int8_t>(
      "w", tfl::TensorType_INT8, {1, 1, 1, 2}, {3, 4},
      {.scale = {0.5f, 0.25f}, .zero_point = {0, 0}, .axis = 3});
  const int y = m.AddTensor("y", tfl::TensorType_INT8, {1, 2, 2, 2},
                            {.scale = {0.1f}, .zero_point = {0}});
  m.AddOp(m.AddOpCode(tfl::BuiltinOperator_DEPTHWISE_CONV_2D), {x, w}, {y},
          tfl::BuiltinOptions_DepthwiseConv2DOptions,
          [](flatbuffers::FlatBufferBuilder& b) {
            return tfl::CreateDepthwiseConv2DOptions(b, tfl::Padding_SAME, 1, 1,
                                                     1)
                .Union();
          });
  m.SetIo({x}, {y});
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph graph,
                              LoadTfliteFromBytes(m.Finish(), registry_));
  const Value* wv = graph.nodes()[0]->input(1);
  EXPECT_THAT(wv->constant()->dims(), ElementsAre(2, 1, 1, 1));
  EXPECT_EQ(wv->quant()->axis, 0);
  EXPECT_THAT(wv->quant()->scale, ElementsAre(0.5f, 0.25f));
}

TEST_F(TfliteImportTest, CustomOpIsKeptOpaqueWithVerifiedOptions) {
  flexbuffers::Builder fbb;
  fbb.Map([&] {
    fbb.Int("num_anchors", 3);
    fbb.Float("scale", 0.5f);
  });
  fbb.Finish();
  const std::string options(
      reinterpret_cast<const char*>(fbb.GetBuffer().data()), fbb.GetSize());
  auto build = [&](const std::string& opts) {
    TfliteModelBuilder m;
    const int x = m.AddTensor("x", tfl::TensorType_FLOAT32, {1, 4});
    const int y = m.AddTensor("y", tfl::TensorType_FLOAT32, {1, 4});
    m.AddOp(m.AddOpCode(tfl::BuiltinOperator_CUSTOM, "AnchorBoxes"), {x}, {y},
            tfl::BuiltinOptions_NONE, nullptr, opts);
    m.SetIo({x}, {y});
    return m.Finish();
  };
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph graph,
                              LoadTfliteFromBytes(build(options), registry_));
  ASSERT_EQ(graph.num_nodes(), 1);
  const Node* n = graph.nodes()[0];
  EXPECT_EQ(n->domain(), "tflite.custom");
  EXPECT_EQ(n->op_type(), "AnchorBoxes");
  EXPECT_EQ(n->custom_options(), options);
  // Corrupt flexbuffer: the root's byte width says 8 but only 3 bytes exist.
  EXPECT_THAT(
      LoadTfliteFromBytes(build(std::string("\x01\x02\x08", 3)), registry_),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr("operator #0 (CUSTOM 'AnchorBoxes')"),
                     HasSubstr("not a valid flexbuffer"))));
}

TEST_F(TfliteImportTest, CustomOpSurvivesExportAndReimport) {
  flexbuffers::Builder fbb;
  fbb.Map([&] { fbb.Int("num_anchors", 3); });
  fbb.Finish();
  const std::string options(
      reinterpret_cast<const char*>(fbb.GetBuffer().data()), fbb.GetSize());
  TfliteModelBuilder m;
  const int x = m.AddTensor("x", tfl::TensorType_FLOAT32, {1, 4});
  const int r = m.AddTensor("r", tfl::TensorType_FLOAT32, {1, 4});
  const int y = m.AddTensor("y", tfl::TensorType_FLOAT32, {1, 4});
  m.AddOp(m.AddOpCode(tfl::BuiltinOperator_RELU), {x}, {r});
  m.AddOp(m.AddOpCode(tfl::BuiltinOperator_CUSTOM, "AnchorBoxes"), {r}, {y},
          tfl::BuiltinOptions_NONE, nullptr, options);
  m.SetIo({x}, {y});
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph graph,
                              LoadTfliteFromBytes(m.Finish(), registry_));
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveTfliteToBytes(graph));
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph back, LoadTfliteFromBytes(bytes, registry_));
  ASSERT_EQ(back.num_nodes(), 2);
  const Node* custom = back.nodes()[1];
  EXPECT_EQ(custom->domain(), "tflite.custom");
  EXPECT_EQ(custom->op_type(), "AnchorBoxes");
  EXPECT_EQ(custom->custom_options(), options);
  EXPECT_EQ(back.nodes()[0]->op_type(), "Relu");
}

TEST_F(TfliteImportTest, UnsupportedBuiltinNamesTheOp) {
  TfliteModelBuilder m;
  const int x = m.AddTensor("x", tfl::TensorType_FLOAT32, {4});
  const int y = m.AddTensor("y", tfl::TensorType_FLOAT32, {4});
  m.AddOp(m.AddOpCode(47 /* EXP */), {x}, {y});
  m.SetIo({x}, {y});
  EXPECT_THAT(LoadTfliteFromBytes(m.Finish(), registry_, "m.tflite"),
              StatusIs(absl::StatusCode::kUnimplemented,
                       AllOf(HasSubstr("m.tflite"),
                             HasSubstr("operator #0 (builtin op 47)"))));
}

// --- malformed files ---------------------------------------------------------

std::string AddModel(int x_buffer = 0, int opcode = 0, int input_index = 0) {
  TfliteModelBuilder m;
  const int x = m.AddTensor("x", tfl::TensorType_FLOAT32, {2}, {}, x_buffer);
  const int c =
      m.AddConstant<float>("c", tfl::TensorType_FLOAT32, {2}, {1.0f, 2.0f});
  const int y = m.AddTensor("y", tfl::TensorType_FLOAT32, {2});
  const int code = m.AddOpCode(tfl::BuiltinOperator_ADD);
  m.AddOp(code + opcode, {x + input_index, c}, {y});
  m.SetIo({x}, {y});
  return m.Finish();
}

TEST_F(TfliteImportTest, AddModelRuns) {
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph graph,
                              LoadTfliteFromBytes(AddModel(), registry_));
  QFORGE_ASSERT_OK_AND_ASSIGN(
      TensorMap out,
      RunGraph(graph, "x", Tensor::FromVector<float>({2}, {0.5f, -4.0f})));
  EXPECT_THAT(out.at("y").ToVector<float>(), ElementsAre(1.5f, -2.0f));
}

TEST_F(TfliteImportTest, MalformedFilesGiveClearErrors) {
  using absl::StatusCode;
  EXPECT_THAT(LoadTfliteFromBytes("", registry_, "e.tflite"),
              StatusIs(StatusCode::kDataLoss,
                       AllOf(HasSubstr("e.tflite"), HasSubstr("too short"))));
  std::string model = AddModel();
  std::string wrong_id = model;
  wrong_id[4] = 'X';
  EXPECT_THAT(LoadTfliteFromBytes(wrong_id, registry_),
              StatusIs(StatusCode::kDataLoss, HasSubstr("TFL3")));
  EXPECT_THAT(LoadTfliteFromBytes(model.substr(0, model.size() / 2), registry_),
              StatusIs(StatusCode::kDataLoss, HasSubstr("verifier")));
  EXPECT_THAT(
      LoadTfliteFromBytes(AddModel(/*x_buffer=*/9), registry_),
      StatusIs(StatusCode::kDataLoss,
               HasSubstr("tensor #0 'x' refers to buffer 9, but the model "
                         "has 2 buffers")));
  EXPECT_THAT(
      LoadTfliteFromBytes(AddModel(0, /*opcode=*/4), registry_),
      StatusIs(StatusCode::kDataLoss,
               HasSubstr("operator #0 refers to operator code 4, but the "
                         "model has 1 operator codes")));
  EXPECT_THAT(
      LoadTfliteFromBytes(AddModel(0, 0, /*input_index=*/40), registry_),
      StatusIs(StatusCode::kDataLoss,
               HasSubstr("operator #0 (ADD) input #0 refers to tensor 40, "
                         "but the subgraph has 3 tensors")));
}

TEST_F(TfliteImportTest, BufferSizeMustMatchShape) {
  TfliteModelBuilder m;
  const int x = m.AddTensor("x", tfl::TensorType_FLOAT32, {3});
  const int c =
      m.AddConstant<float>("c", tfl::TensorType_FLOAT32, {3}, {1.0f, 2.0f});
  const int y = m.AddTensor("y", tfl::TensorType_FLOAT32, {3});
  m.AddOp(m.AddOpCode(tfl::BuiltinOperator_ADD), {x, c}, {y});
  m.SetIo({x}, {y});
  EXPECT_THAT(
      LoadTfliteFromBytes(m.Finish(), registry_),
      StatusIs(absl::StatusCode::kDataLoss,
               HasSubstr("tensor #1 'c' has shape [3] of float32 (12 bytes), "
                         "but buffer 1 holds 8 bytes")));
}

TEST_F(TfliteImportTest, PerAxisScalesMustMatchTheQuantizedDimension) {
  TfliteModelBuilder m;
  const int x =
      m.AddTensor("x", tfl::TensorType_INT8, {2, 3},
                  {.scale = {0.1f, 0.2f}, .zero_point = {0, 0}, .axis = 1});
  const int y = m.AddTensor("y", tfl::TensorType_INT8, {2, 3});
  m.AddOp(m.AddOpCode(tfl::BuiltinOperator_RELU), {x}, {y});
  m.SetIo({x}, {y});
  EXPECT_THAT(
      LoadTfliteFromBytes(m.Finish(), registry_),
      StatusIs(absl::StatusCode::kDataLoss,
               HasSubstr("2 per-axis scales along quantized_dimension 1")));
}

TEST_F(TfliteImportTest, TruncationsAndBitFlipsNeverCrash) {
  const std::string model =
      GroupedConvModel(RandomFloats(108, 1), RandomFloats(6, 2));
  for (size_t n = 0; n < model.size(); n += 7) {
    (void)LoadTfliteFromBytes(model.substr(0, n), registry_).ok();
  }
  int loaded = 0;
  for (size_t i = 0; i < model.size(); ++i) {
    for (int bit = 0; bit < 8; bit += 3) {
      std::string flipped = model;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      absl::StatusOr<Graph> g = LoadTfliteFromBytes(flipped, registry_);
      if (g.ok()) ++loaded;
    }
  }
  EXPECT_GT(loaded, 0);  // Flips inside weight data stay loadable.
}

TEST_F(TfliteImportTest, LoadModelPicksTfliteByExtension) {
  const std::string path = ::testing::TempDir() + "/tflite_import_test.tflite";
  {
    std::ofstream f(path, std::ios::binary);
    f << AddModel();
  }
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph graph, LoadModel(path, registry_));
  EXPECT_EQ(graph.num_nodes(), 1);
  std::remove(path.c_str());
  EXPECT_THAT(
      LoadModel(path, registry_),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("tflite_import_test")));
}

}  // namespace
}  // namespace qforge
