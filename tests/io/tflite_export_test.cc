// TFLite export: float and full-integer models, round trips through the
// importer, and the int8 spec's constraints on the written file.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/tflite/op_code.h"
#include "io/tflite/schema_generated.h"
#include "qforge/io/model.h"
#include "qforge/io/tflite.h"
#include "qforge/ir/layout.h"
#include "qforge/ir/verifier.h"
#include "qforge/quantize/calibration_data.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::IsOk;
using testing::StatusIs;
namespace tfl = ::qforge::tflite_fb;

std::string SourceDir() {
  const char* dir = std::getenv("QFORGE_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

class TfliteExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(RegisterBuiltins(registry_), IsOk());
    QFORGE_ASSERT_OK_AND_ASSIGN(
        model_,
        LoadModel(SourceDir() + "/examples/digits/digits_cnn.onnx", registry_));
    QFORGE_ASSERT_OK_AND_ASSIGN(
        data_,
        OpenCalibrationData(SourceDir() + "/examples/digits/digits_calib.npz"));
  }

  absl::StatusOr<Tensor> RunOne(const Graph& graph, int64_t sample) {
    QFORGE_ASSIGN_OR_RETURN(TensorMap in, data_->Sample(sample));
    QFORGE_ASSIGN_OR_RETURN(auto exec, Executor::Prepare(graph, registry_));
    TensorMap inputs;
    // The calibration file names the model's single input.
    inputs[graph.inputs()[0]->name()] = in.begin()->second;
    QFORGE_ASSIGN_OR_RETURN(TensorMap out, exec->Run(inputs));
    return out.at(graph.outputs()[0]->name());
  }

  absl::StatusOr<QuantizeResult> QuantizeDigits() {
    QuantConfig config;
    config.profile = ArithmeticProfile::kTfliteReference;
    return Quantize(model_, *data_, config, registry_);
  }

  Registry registry_;
  Graph model_;
  std::unique_ptr<CalibrationData> data_;
};

const tfl::Model* Parse(const std::string& bytes) {
  flatbuffers::Verifier v(reinterpret_cast<const uint8_t*>(bytes.data()),
                          bytes.size());
  if (!tfl::VerifyModelBuffer(v)) return nullptr;
  return tfl::GetModel(bytes.data());
}

std::vector<int32_t> OpCodes(const tfl::Model& m) {
  std::vector<int32_t> out;
  for (const tfl::Operator* op : *m.subgraphs()->Get(0)->operators()) {
    out.push_back(internal::TfliteBuiltinCode(
        *m.operator_codes()->Get(op->opcode_index())));
  }
  return out;
}

// The CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED operators of the first
// subgraph, with their op codes.
std::vector<std::pair<const tfl::Operator*, int32_t>> LinearOps(
    const tfl::Model& m) {
  std::vector<std::pair<const tfl::Operator*, int32_t>> out;
  for (const tfl::Operator* op : *m.subgraphs()->Get(0)->operators()) {
    const int32_t code = internal::TfliteBuiltinCode(
        *m.operator_codes()->Get(op->opcode_index()));
    if (code == tfl::BuiltinOperator_CONV_2D ||
        code == tfl::BuiltinOperator_DEPTHWISE_CONV_2D ||
        code == tfl::BuiltinOperator_FULLY_CONNECTED) {
      out.emplace_back(op, code);
    }
  }
  return out;
}

TEST_F(TfliteExportTest, FloatOnnxModelRoundTripsThroughTflite) {
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveTfliteToBytes(model_));
  const tfl::Model* m = Parse(bytes);
  ASSERT_NE(m, nullptr);
  // NCHW became NHWC: convolutions are CONV_2D with OHWI weights.
  const std::vector<int32_t> codes = OpCodes(*m);
  EXPECT_THAT(codes, ::testing::Contains(tfl::BuiltinOperator_CONV_2D));
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph back,
                              LoadTfliteFromBytes(bytes, registry_));
  for (int64_t s = 0; s < 3; ++s) {
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor want, RunOne(model_, s));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor got, RunOne(back, s));
    ASSERT_EQ(want.dims(), got.dims());
    for (int64_t i = 0; i < want.num_elements(); ++i) {
      EXPECT_NEAR(got.data<float>()[i], want.data<float>()[i], 1e-4) << i;
    }
  }
  // Export of the re-imported graph gives the same op sequence.
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string again, SaveTfliteToBytes(back));
  const tfl::Model* m2 = Parse(again);
  ASSERT_NE(m2, nullptr);
  EXPECT_EQ(OpCodes(*m2), codes);
}

TEST_F(TfliteExportTest, QuantizedModelFollowsTheInt8Spec) {
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult q, QuantizeDigits());
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveTfliteToBytes(q.model));
  const tfl::Model* m = Parse(bytes);
  ASSERT_NE(m, nullptr);
  const tfl::SubGraph* sg = m->subgraphs()->Get(0);
  const auto linear = LinearOps(*m);
  EXPECT_FALSE(linear.empty());
  for (const auto& [op, code] : linear) {
    const tfl::Tensor* x = sg->tensors()->Get(op->inputs()->Get(0));
    const tfl::Tensor* w = sg->tensors()->Get(op->inputs()->Get(1));
    EXPECT_EQ(x->type(), tfl::TensorType_INT8);
    ASSERT_EQ(w->type(), tfl::TensorType_INT8);
    const auto* wq = w->quantization();
    ASSERT_NE(wq, nullptr);
    const int channels =
        w->shape()->Get(code == tfl::BuiltinOperator_DEPTHWISE_CONV_2D ? 3 : 0);
    EXPECT_EQ(wq->quantized_dimension(),
              code == tfl::BuiltinOperator_DEPTHWISE_CONV_2D ? 3 : 0);
    EXPECT_TRUE(wq->scale()->size() == 1 ||
                static_cast<int>(wq->scale()->size()) == channels);
    for (int64_t z : *wq->zero_point()) EXPECT_EQ(z, 0);
    const auto* data = m->buffers()->Get(w->buffer())->data();
    ASSERT_NE(data, nullptr);
    for (uint8_t byte : *data) EXPECT_NE(static_cast<int8_t>(byte), -128);
    if (op->inputs()->size() > 2 && op->inputs()->Get(2) >= 0) {
      const tfl::Tensor* b = sg->tensors()->Get(op->inputs()->Get(2));
      EXPECT_EQ(b->type(), tfl::TensorType_INT32);
      // Bias scale = input scale * weight scale (per channel).
      for (uint32_t c = 0; c < b->quantization()->scale()->size(); ++c) {
        const float ws = wq->scale()->Get(wq->scale()->size() == 1 ? 0 : c);
        EXPECT_NEAR(b->quantization()->scale()->Get(c),
                    x->quantization()->scale()->Get(0) * ws, 1e-6 * ws);
      }
    }
  }
  // Float model IO by default.
  EXPECT_EQ(sg->tensors()->Get(sg->inputs()->Get(0))->type(),
            tfl::TensorType_FLOAT32);
  EXPECT_EQ(sg->tensors()->Get(sg->outputs()->Get(0))->type(),
            tfl::TensorType_FLOAT32);
}

TEST_F(TfliteExportTest, QuantizedRoundTripKeepsParamsAndResults) {
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult q, QuantizeDigits());
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveTfliteToBytes(q.model));
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph back,
                              LoadTfliteFromBytes(bytes, registry_));
  EXPECT_EQ(back.metadata().at("qforge.arithmetic_profile"),
            "tflite_reference");
  // The int8 kernels run NCHW.
  ASSERT_THAT(ConvertLayout(back, Layout::kNCHW, registry_.schemas()), IsOk());
  for (int64_t s = 0; s < 3; ++s) {
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor want, RunOne(q.model, s));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor got, RunOne(back, s));
    ASSERT_EQ(want.dims(), got.dims());
    for (int64_t i = 0; i < want.num_elements(); ++i) {
      EXPECT_EQ(got.data<float>()[i], want.data<float>()[i])
          << "sample " << s << " #" << i;
    }
  }
}

TEST_F(TfliteExportTest, IntegerModelIo) {
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult q, QuantizeDigits());
  for (TfliteIoType io : {TfliteIoType::kInt8, TfliteIoType::kUint8}) {
    QFORGE_ASSERT_OK_AND_ASSIGN(
        std::string bytes,
        SaveTfliteToBytes(q.model, {.input_type = io, .output_type = io}));
    const tfl::Model* m = Parse(bytes);
    ASSERT_NE(m, nullptr);
    const tfl::SubGraph* sg = m->subgraphs()->Get(0);
    const auto want = io == TfliteIoType::kInt8 ? tfl::TensorType_INT8
                                                : tfl::TensorType_UINT8;
    const tfl::Tensor* in = sg->tensors()->Get(sg->inputs()->Get(0));
    EXPECT_EQ(in->type(), want);
    EXPECT_EQ(sg->tensors()->Get(sg->outputs()->Get(0))->type(), want);
    // Names of the model's inputs stay.
    EXPECT_EQ(in->name()->str(), q.model.inputs()[0]->name());
    QFORGE_EXPECT_OK(LoadTfliteFromBytes(bytes, registry_).status());
  }
  // A float graph has no integer inputs to offer.
  EXPECT_THAT(SaveTfliteToBytes(model_, {.input_type = TfliteIoType::kInt8}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("float inputs")));
}

TEST_F(TfliteExportTest, SaveModelWritesTfliteAtomically) {
  const std::string path = ::testing::TempDir() + "/tflite_export_test.tflite";
  ASSERT_THAT(SaveModel(model_, path), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph back, LoadModel(path, registry_));
  EXPECT_GT(back.num_nodes(), 0);
  // A graph that cannot be written leaves the earlier file intact.
  std::ifstream in(path, std::ios::binary);
  const std::string before((std::istreambuf_iterator<char>(in)), {});
  Graph bad;
  Value* x = bad.AddValue("x", DataType::kFloat32, Shape({4}));
  Value* y = bad.AddValue("y", DataType::kFloat32, Shape({4}));
  bad.AddInput(x);
  bad.AddOutput(y);
  ASSERT_THAT(
      bad.AddNode(
             {.name = "e", .op_type = "Exp", .inputs = {x}, .outputs = {y}})
          .status(),
      IsOk());
  EXPECT_THAT(SaveModel(bad, path), StatusIs(absl::StatusCode::kUnimplemented,
                                             HasSubstr("node 'e' (Exp)")));
  std::ifstream in2(path, std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in2)), {}), before);
  std::remove(path.c_str());
}

TEST_F(TfliteExportTest, PerTensorWeightsGetAPerTensorBias) {
  // XNNPACK refuses per-channel bias params next to per-tensor weights.
  QuantConfig config;
  config.profile = ArithmeticProfile::kTfliteReference;
  config.per_channel_weights = false;
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult q,
                              Quantize(model_, *data_, config, registry_));
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveTfliteToBytes(q.model));
  const tfl::Model* m = Parse(bytes);
  ASSERT_NE(m, nullptr);
  const tfl::SubGraph* sg = m->subgraphs()->Get(0);
  const auto linear = LinearOps(*m);
  EXPECT_FALSE(linear.empty());
  for (const auto& [op, code] : linear) {
    const tfl::Tensor* w = sg->tensors()->Get(op->inputs()->Get(1));
    const tfl::Tensor* b = sg->tensors()->Get(op->inputs()->Get(2));
    ASSERT_NE(w->quantization(), nullptr);
    ASSERT_NE(b->quantization(), nullptr);
    EXPECT_EQ(w->quantization()->scale()->size(), 1u) << w->name()->str();
    EXPECT_EQ(b->quantization()->scale()->size(), 1u) << b->name()->str();
  }
}

TEST_F(TfliteExportTest, FlattenOfADynamicBatchIsAReshapeWithMinusOne) {
  // examples/models/tiny_cnn.onnx has a symbolic batch: Flatten [?, 16].
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Graph tiny,
      LoadModel(SourceDir() + "/examples/models/tiny_cnn.onnx", registry_));
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveTfliteToBytes(tiny));
  const tfl::Model* m = Parse(bytes);
  ASSERT_NE(m, nullptr);
  const tfl::SubGraph* sg = m->subgraphs()->Get(0);
  int reshapes = 0;
  for (const tfl::Operator* op : *sg->operators()) {
    if (internal::TfliteBuiltinCode(*m->operator_codes()->Get(
            op->opcode_index())) != tfl::BuiltinOperator_RESHAPE) {
      continue;
    }
    ++reshapes;
    const tfl::Tensor* shape = sg->tensors()->Get(op->inputs()->Get(1));
    const auto* data = m->buffers()->Get(shape->buffer())->data();
    ASSERT_NE(data, nullptr);
    ASSERT_EQ(data->size(), 2 * sizeof(int32_t));
    int32_t dims[2];
    std::memcpy(dims, data->data(), sizeof(dims));
    EXPECT_EQ(dims[0], -1);
    EXPECT_EQ(dims[1], 16);
  }
  EXPECT_EQ(reshapes, 1);
  QFORGE_EXPECT_OK(LoadTfliteFromBytes(bytes, registry_).status());
}

TEST_F(TfliteExportTest, ActivationsAreFusedIntoTheirProducers) {
  // Every Relu of the digits CNN follows a Conv (after BatchNormalization
  // folding) with the same params, so the int8 export has no RELU op and as
  // many fused RELUs as the ONNX model has Relu nodes.
  int relus = 0;
  for (const Node* n : model_.nodes()) relus += n->op_type() == "Relu";
  ASSERT_GT(relus, 0);
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult q, QuantizeDigits());
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveTfliteToBytes(q.model));
  const tfl::Model* m = Parse(bytes);
  ASSERT_NE(m, nullptr);
  EXPECT_THAT(OpCodes(*m),
              ::testing::Not(::testing::Contains(tfl::BuiltinOperator_RELU)));
  int fused = 0;
  const tfl::SubGraph* sg = m->subgraphs()->Get(0);
  for (const tfl::Operator* op : *sg->operators()) {
    tfl::ActivationFunctionType act = tfl::ActivationFunctionType_NONE;
    if (const auto* o = op->builtin_options_as_Conv2DOptions()) {
      act = o->fused_activation_function();
    } else if (const auto* d =
                   op->builtin_options_as_DepthwiseConv2DOptions()) {
      act = d->fused_activation_function();
    }
    if (act == tfl::ActivationFunctionType_RELU) ++fused;
  }
  EXPECT_EQ(fused, relus);
}

// x -> Conv(w, b) -> Clip(0, 6) -> y; a second branch Add(x, x) -> Relu whose
// Add output is also a graph output (not fused).
TEST(TfliteExportFusionTest, FloatFusionFollowsTheRules) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  Graph g;
  g.set_opset("", 13);
  Value* x = g.AddValue("x", DataType::kFloat32, Shape({1, 2, 3, 3}));
  g.AddInput(x);
  std::vector<float> wv(2 * 2 * 1 * 1);
  for (size_t i = 0; i < wv.size(); ++i) wv[i] = 0.5f * (i + 1) - 1.0f;
  Value* w = g.AddConstant("w", Tensor::FromVector<float>({2, 2, 1, 1}, wv));
  Value* b = g.AddConstant("b", Tensor::FromVector<float>({2}, {0.25f, -0.5f}));
  Value* lo = g.AddConstant("lo", Tensor::Scalar<float>(0.0f));
  Value* hi = g.AddConstant("hi", Tensor::Scalar<float>(6.0f));
  Value* c = g.AddValue("c");
  Value* y = g.AddValue("y");
  Value* s = g.AddValue("s");
  Value* r = g.AddValue("r");
  ASSERT_THAT(g.AddNode({.name = "conv",
                         .op_type = "Conv",
                         .inputs = {x, w, b},
                         .outputs = {c}})
                  .status(),
              IsOk());
  ASSERT_THAT(g.AddNode({.name = "clip",
                         .op_type = "Clip",
                         .inputs = {c, lo, hi},
                         .outputs = {y}})
                  .status(),
              IsOk());
  ASSERT_THAT(
      g.AddNode(
           {.name = "add", .op_type = "Add", .inputs = {x, x}, .outputs = {s}})
          .status(),
      IsOk());
  ASSERT_THAT(
      g.AddNode(
           {.name = "relu", .op_type = "Relu", .inputs = {s}, .outputs = {r}})
          .status(),
      IsOk());
  g.AddOutput(y);
  g.AddOutput(s);
  g.AddOutput(r);
  ASSERT_THAT(VerifyGraph(g, registry.schemas()), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveTfliteToBytes(g));
  const tfl::Model* m = Parse(bytes);
  ASSERT_NE(m, nullptr);
  const tfl::SubGraph* sg = m->subgraphs()->Get(0);
  int conv = 0, add = 0, relu = 0;
  for (const tfl::Operator* op : *sg->operators()) {
    const int32_t code = internal::TfliteBuiltinCode(
        *m->operator_codes()->Get(op->opcode_index()));
    const std::string out =
        sg->tensors()->Get(op->outputs()->Get(0))->name()->str();
    if (code == tfl::BuiltinOperator_CONV_2D) {
      ++conv;
      EXPECT_EQ(
          op->builtin_options_as_Conv2DOptions()->fused_activation_function(),
          tfl::ActivationFunctionType_RELU6);
      // The conv writes the activation's output (NHWC, transposed back to y).
      EXPECT_THAT(out, ::testing::StartsWith("y"));
    } else if (code == tfl::BuiltinOperator_ADD) {
      ++add;
      EXPECT_EQ(
          op->builtin_options_as_AddOptions()->fused_activation_function(),
          tfl::ActivationFunctionType_NONE);
      EXPECT_EQ(out, "s");
    } else if (code == tfl::BuiltinOperator_RELU) {
      ++relu;
    }
  }
  EXPECT_EQ(conv, 1);
  EXPECT_EQ(add, 1);
  EXPECT_EQ(relu, 1);
  EXPECT_THAT(OpCodes(*m),
              ::testing::Not(::testing::Contains(tfl::BuiltinOperator_RELU6)));
}

// A graph output that is the DequantizeLinear of a quantized constant is
// written as a float constant (LiteRT's default interpreter does not run a
// DEQUANTIZE of a constant into a graph output); with integer outputs the
// quantized constant itself is the output.
TEST(TfliteExportConstantOutputTest,
     DequantizedConstantOutputIsAFloatConstant) {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.AddValue("x", DataType::kFloat32, Shape({2}));
  Value* q = g.AddValue("q", DataType::kInt8, Shape({2}));
  Value* y = g.AddValue("y", DataType::kFloat32, Shape({2}));
  q->set_quant(QuantParams::PerTensor(0.5f, 3));
  y->set_quant(std::nullopt);
  g.AddInput(x);
  Value* k = g.AddConstant(
      "k", Tensor::FromVector<int8_t>({2, 3}, {-128, -1, 0, 3, 4, 127}));
  k->set_quant(QuantParams::PerAxis({0.25f, 2.0f}, {0, -2}, 0));
  Value* a = g.AddValue("anchors", DataType::kFloat32, Shape({2, 3}));
  ASSERT_THAT(g.AddNode({.name = "qx",
                         .op_type = "QuantizeLinear",
                         .inputs = {x},
                         .outputs = {q}})
                  .status(),
              IsOk());
  ASSERT_THAT(g.AddNode({.name = "dqx",
                         .op_type = "DequantizeLinear",
                         .inputs = {q},
                         .outputs = {y}})
                  .status(),
              IsOk());
  ASSERT_THAT(g.AddNode({.name = "dqk",
                         .op_type = "DequantizeLinear",
                         .inputs = {k},
                         .outputs = {a}})
                  .status(),
              IsOk());
  g.AddOutput(y);
  g.AddOutput(a);
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveTfliteToBytes(g));
  const tfl::Model* m = Parse(bytes);
  ASSERT_NE(m, nullptr);
  const tfl::SubGraph* sg = m->subgraphs()->Get(0);
  // QUANTIZE and DEQUANTIZE of x only.
  EXPECT_THAT(OpCodes(*m), ElementsAre(tfl::BuiltinOperator_QUANTIZE,
                                       tfl::BuiltinOperator_DEQUANTIZE));
  ASSERT_EQ(sg->outputs()->size(), 2u);
  const tfl::Tensor* t = sg->tensors()->Get(sg->outputs()->Get(1));
  EXPECT_EQ(t->name()->str(), "anchors");
  EXPECT_EQ(t->type(), tfl::TensorType_FLOAT32);
  const auto* data = m->buffers()->Get(t->buffer())->data();
  ASSERT_NE(data, nullptr);
  ASSERT_EQ(data->size(), 6 * sizeof(float));
  std::vector<float> got(6);
  std::memcpy(got.data(), data->data(), data->size());
  // Row 0: scale 0.25, zero point 0; row 1: scale 2, zero point -2.
  EXPECT_THAT(got, ElementsAre(-32.0f, -0.25f, 0.0f, 10.0f, 12.0f, 258.0f));

  // Integer outputs: the int8 constant with its params.
  QFORGE_ASSERT_OK_AND_ASSIGN(
      std::string ibytes,
      SaveTfliteToBytes(g, {.output_type = TfliteIoType::kInt8}));
  const tfl::Model* mi = Parse(ibytes);
  ASSERT_NE(mi, nullptr);
  const tfl::SubGraph* sgi = mi->subgraphs()->Get(0);
  const tfl::Tensor* ti = sgi->tensors()->Get(sgi->outputs()->Get(1));
  EXPECT_EQ(ti->type(), tfl::TensorType_INT8);
  ASSERT_NE(ti->quantization(), nullptr);
  EXPECT_THAT(*ti->quantization()->scale(), ElementsAre(0.25f, 2.0f));

  // uint8 outputs: a uint8 constant (values and zero point + 128), not a
  // QUANTIZE of the constant (which LiteRT cannot run). uint8 IO needs
  // per-tensor params.
  k->set_quant(QuantParams::PerTensor(0.25f, 0));
  QFORGE_ASSERT_OK_AND_ASSIGN(
      std::string ubytes,
      SaveTfliteToBytes(g, {.output_type = TfliteIoType::kUint8}));
  const tfl::Model* mu = Parse(ubytes);
  ASSERT_NE(mu, nullptr);
  const tfl::SubGraph* sgu = mu->subgraphs()->Get(0);
  for (const tfl::Operator* op : *sgu->operators()) {
    const tfl::Tensor* in = sgu->tensors()->Get(op->inputs()->Get(0));
    EXPECT_EQ(mu->buffers()->Get(in->buffer())->data(), nullptr)
        << "an op reads the constant '" << in->name()->str() << "'";
  }
  const tfl::Tensor* tu = sgu->tensors()->Get(sgu->outputs()->Get(1));
  EXPECT_EQ(tu->type(), tfl::TensorType_UINT8);
  const auto* udata = mu->buffers()->Get(tu->buffer())->data();
  ASSERT_NE(udata, nullptr);
  EXPECT_THAT(std::vector<uint8_t>(udata->begin(), udata->end()),
              ElementsAre(0, 127, 128, 131, 132, 255));
}

}  // namespace
}  // namespace qforge
