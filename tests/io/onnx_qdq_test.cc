// QDQ export and import: a quantized graph written to ONNX is plain QDQ
// (integer tensors, DequantizeLinear -> float op -> QuantizeLinear), and
// reading it back folds the patterns into the same quantized graph.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "onnx/onnx_pb.h"
#include "qforge/io/model.h"
#include "qforge/io/onnx.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "qforge/testing/status_matchers.h"
#include "tests/io/graph_compare.h"

namespace qforge {
namespace {

using ::qforge::testing::AttributesEqual;
using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::qforge::testing::TensorsBitwiseEqual;
using ::testing::HasSubstr;

std::string SourceDir() {
  const char* dir = std::getenv("QFORGE_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

const onnx::NodeProto* ProducerOf(const onnx::GraphProto& g,
                                  const std::string& name) {
  for (const auto& n : g.node()) {
    for (const auto& o : n.output()) {
      if (o == name) return &n;
    }
  }
  return nullptr;
}

const onnx::TensorProto* InitializerOf(const onnx::GraphProto& g,
                                       const std::string& name) {
  for (const auto& t : g.initializer()) {
    if (t.name() == name) return &t;
  }
  return nullptr;
}

class QdqTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(RegisterBuiltins(registry_), IsOk());
    QFORGE_ASSERT_OK_AND_ASSIGN(
        Graph model,
        LoadModel(SourceDir() + "/examples/digits/digits_cnn.onnx", registry_));
    QFORGE_ASSERT_OK_AND_ASSIGN(
        auto data,
        OpenCalibrationData(SourceDir() + "/examples/digits/digits_calib.npz"));
    QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult result,
                                Quantize(model, *data, {}, registry_));
    quantized_ = std::move(result.model);
  }
  Registry registry_;
  Graph quantized_;
};

TEST_F(QdqTest, ExportWritesStandardQdq) {
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveOnnxToBytes(quantized_));
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(bytes));
  for (const auto& opset : model.opset_import()) {
    if (opset.domain().empty()) EXPECT_GE(opset.version(), 13);
  }
  bool has_profile = false;
  for (const auto& p : model.metadata_props()) {
    if (p.key() == "qforge.arithmetic_profile") has_profile = true;
  }
  EXPECT_TRUE(has_profile);
  const onnx::GraphProto& g = model.graph();
  int convs = 0;
  for (const auto& n : g.node()) {
    if (n.op_type() == "QuantizeLinear" || n.op_type() == "DequantizeLinear") {
      ASSERT_GE(n.input_size(), 3) << n.name();
      continue;
    }
    // Every op of the digits model is quantized: every float input is a
    // DequantizeLinear output and every output feeds a QuantizeLinear.
    for (const std::string& in : n.input()) {
      const onnx::NodeProto* p = ProducerOf(g, in);
      const onnx::TensorProto* init = InitializerOf(g, in);
      if (init != nullptr && init->data_type() == onnx::TensorProto::INT64)
        continue;
      ASSERT_NE(p, nullptr) << n.name() << " input " << in;
      EXPECT_EQ(p->op_type(), "DequantizeLinear")
          << n.name() << " input " << in;
    }
    for (const std::string& out : n.output()) {
      int readers = 0;
      for (const auto& c : g.node()) {
        for (const auto& in : c.input()) {
          if (in != out) continue;
          ++readers;
          EXPECT_EQ(c.op_type(), "QuantizeLinear")
              << n.name() << " output " << out;
        }
      }
      EXPECT_EQ(readers, 1) << out;
    }
    if (n.op_type() != "Conv") continue;
    ++convs;
    // Weights: DQ of an int8 initializer with per-axis scales on axis 0;
    // bias: DQ of an int32 initializer on axis 0, zero points 0.
    for (int slot : {1, 2}) {
      const onnx::NodeProto* dq = ProducerOf(g, n.input(slot));
      ASSERT_NE(dq, nullptr);
      const onnx::TensorProto* w = InitializerOf(g, dq->input(0));
      ASSERT_NE(w, nullptr) << dq->input(0);
      EXPECT_EQ(w->data_type(),
                slot == 1 ? onnx::TensorProto::INT8 : onnx::TensorProto::INT32);
      const onnx::TensorProto* scale = InitializerOf(g, dq->input(1));
      ASSERT_NE(scale, nullptr);
      ASSERT_EQ(scale->dims_size(), 1);
      EXPECT_EQ(scale->dims(0), w->dims(0));
      int64_t axis = -1;
      for (const auto& a : dq->attribute()) {
        if (a.name() == "axis") axis = a.i();
      }
      EXPECT_EQ(axis, 0) << dq->name();
    }
  }
  EXPECT_GT(convs, 3);
}

TEST_F(QdqTest, RoundTripGivesTheSameQuantizedGraph) {
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveOnnxToBytes(quantized_));
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph back,
                              LoadOnnxFromBytes(bytes, registry_, "qdq"));
  EXPECT_EQ(back.metadata(), quantized_.metadata());
  EXPECT_EQ(back.metadata().count("qforge.qdq_fold_error"), 0u);
  // Same nodes (by name): op, inputs, outputs, attributes.
  ASSERT_EQ(back.num_nodes(), quantized_.num_nodes());
  for (const Node* n : quantized_.nodes()) {
    const Node* m = back.FindNode(n->name());
    ASSERT_NE(m, nullptr) << n->Describe();
    EXPECT_EQ(m->op_type(), n->op_type());
    ASSERT_EQ(m->num_inputs(), n->num_inputs()) << n->Describe();
    ASSERT_EQ(m->num_outputs(), n->num_outputs()) << n->Describe();
    for (int i = 0; i < n->num_inputs(); ++i) {
      EXPECT_EQ(m->input(i)->name(), n->input(i)->name())
          << n->Describe() << " input " << i;
    }
    for (int i = 0; i < n->num_outputs(); ++i) {
      EXPECT_EQ(m->output(i)->name(), n->output(i)->name())
          << n->Describe() << " output " << i;
    }
    EXPECT_EQ(m->attributes().size(), n->attributes().size()) << n->Describe();
    for (const auto& [name, attr] : n->attributes()) {
      const Attribute* other = m->FindAttribute(name);
      ASSERT_NE(other, nullptr) << n->Describe() << " " << name;
      EXPECT_TRUE(AttributesEqual(attr, *other))
          << n->Describe() << " " << name;
    }
  }
  // Same values: dtype, QuantParams, constant data bitwise.
  int quantized_values = 0;
  for (const Value* v : quantized_.values()) {
    const Value* w = back.FindValue(v->name());
    ASSERT_NE(w, nullptr) << v->name();
    EXPECT_EQ(w->dtype(), v->dtype()) << v->name();
    EXPECT_EQ(w->quant(), v->quant())
        << v->name() << ": " << (w->quant() ? w->quant()->ToString() : "none")
        << " vs " << (v->quant() ? v->quant()->ToString() : "none");
    ASSERT_EQ(w->is_constant(), v->is_constant()) << v->name();
    if (v->quant().has_value()) ++quantized_values;
    if (v->is_constant()) {
      EXPECT_TRUE(TensorsBitwiseEqual(*w->constant(), *v->constant()))
          << v->name();
      EXPECT_EQ(w->constant()->quant(), v->constant()->quant()) << v->name();
    }
  }
  EXPECT_GT(quantized_values, 20);
  EXPECT_EQ(back.values().size(), quantized_.values().size());
  // Exporting again gives the same bytes.
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string again, SaveOnnxToBytes(back));
  EXPECT_EQ(again.size(), bytes.size());
}

// A requantizing Identity (different params in and out) is written as
// DQ -> Identity -> Q and read back as a quantized Identity.
TEST(QdqSmallTest, RequantizeIdentityRoundTrips) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  Graph g;
  g.set_opset("", 13);
  Value* x = g.AddValue("x", DataType::kFloat32, Shape({1, 4}));
  g.AddInput(x);
  Value* xq = g.AddValue("x_q", DataType::kInt8, Shape({1, 4}));
  QuantParams pin = QuantParams::PerTensor(0.5f, 3);
  xq->set_quant(pin);
  ASSERT_THAT(
      g.AddNode({.name = "q",
                 .op_type = "QuantizeLinear",
                 .inputs = {x, g.AddConstant("s0", Tensor::Scalar<float>(0.5f)),
                            g.AddConstant("z0", Tensor::Scalar<int8_t>(3))},
                 .outputs = {xq}})
          .status(),
      IsOk());
  Value* yq = g.AddValue("y_q", DataType::kInt8, Shape({1, 4}));
  QuantParams pout = QuantParams::PerTensor(0.25f, -7);
  yq->set_quant(pout);
  ASSERT_THAT(g.AddNode({.name = "requant",
                         .op_type = "Identity",
                         .inputs = {xq},
                         .outputs = {yq}})
                  .status(),
              IsOk());
  Value* y = g.AddValue("y", DataType::kFloat32, Shape({1, 4}));
  ASSERT_THAT(
      g.AddNode(
           {.name = "dq",
            .op_type = "DequantizeLinear",
            .inputs = {yq, g.AddConstant("s1", Tensor::Scalar<float>(0.25f)),
                       g.AddConstant("z1", Tensor::Scalar<int8_t>(-7))},
            .outputs = {y}})
          .status(),
      IsOk());
  g.AddOutput(y);

  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveOnnxToBytes(g));
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(bytes));
  std::vector<std::string> ops;
  for (const auto& n : model.graph().node()) ops.push_back(n.op_type());
  EXPECT_THAT(ops, ::testing::ElementsAre("QuantizeLinear", "DequantizeLinear",
                                          "Identity", "QuantizeLinear",
                                          "DequantizeLinear"));

  QFORGE_ASSERT_OK_AND_ASSIGN(Graph back,
                              LoadOnnxFromBytes(bytes, registry, "requant"));
  ASSERT_EQ(back.num_nodes(), 3);
  const Node* id = back.FindNode("requant");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->input(0)->name(), "x_q");
  EXPECT_EQ(id->output(0)->name(), "y_q");
  EXPECT_EQ(id->input(0)->quant(), pin);
  EXPECT_EQ(id->output(0)->quant(), pout);
  EXPECT_EQ(id->output(0)->dtype(), DataType::kInt8);
}

// An ONNX Runtime style QDQ model (Q -> DQ pairs on activations, DQ of int8
// weights and int32 bias) folds into a quantized Conv; the QuantizeLinear at
// the input and the DequantizeLinear at the output stay.
// Activation zero points -5 (x) and 3 (y) in int8, or +128 in uint8.
Tensor ActivationZeroPoint(DataType storage, int zp_int8) {
  return storage == DataType::kInt8
             ? Tensor::Scalar<int8_t>(static_cast<int8_t>(zp_int8))
             : Tensor::Scalar<uint8_t>(static_cast<uint8_t>(zp_int8 + 128));
}

void BuildOrtStyleQdqConv(Graph& g, DataType storage) {
  g.set_opset("", 13);
  auto add = [&](NodeSpec spec) {
    ASSERT_THAT(g.AddNode(std::move(spec)).status(), IsOk());
  };
  Value* x = g.AddValue("x", DataType::kFloat32, Shape({1, 2, 3, 3}));
  g.AddInput(x);
  Value* xs = g.AddConstant("xs", Tensor::Scalar<float>(0.02f));
  Value* xz = g.AddConstant("xz", ActivationZeroPoint(storage, -5));
  Value* xq = g.AddValue("x_q", storage);
  Value* xd = g.AddValue("x_dq", DataType::kFloat32);
  add({.name = "qx",
       .op_type = "QuantizeLinear",
       .inputs = {x, xs, xz},
       .outputs = {xq}});
  add({.name = "dqx",
       .op_type = "DequantizeLinear",
       .inputs = {xq, xs, xz},
       .outputs = {xd}});
  Tensor w(DataType::kInt8, {3, 2, 1, 1});
  for (int i = 0; i < 6; ++i)
    w.data<int8_t>()[i] = static_cast<int8_t>(i * 20 - 50);
  Value* wq = g.AddConstant("w_q", w);
  Value* wd = g.AddValue("w_dq", DataType::kFloat32);
  add({.name = "dqw",
       .op_type = "DequantizeLinear",
       .inputs = {wq,
                  g.AddConstant(
                      "ws", Tensor::FromVector<float>({3}, {0.1f, 0.2f, 0.3f})),
                  g.AddConstant("wz",
                                Tensor::FromVector<int8_t>({3}, {0, 0, 0}))},
       .outputs = {wd},
       .attributes = {{"axis", int64_t{0}}}});
  Value* bq =
      g.AddConstant("b_q", Tensor::FromVector<int32_t>({3}, {100, -200, 300}));
  Value* bd = g.AddValue("b_dq", DataType::kFloat32);
  add({.name = "dqb",
       .op_type = "DequantizeLinear",
       .inputs = {bq,
                  g.AddConstant("bs", Tensor::FromVector<float>(
                                          {3}, {0.002f, 0.004f, 0.006f})),
                  g.AddConstant("bz",
                                Tensor::FromVector<int32_t>({3}, {0, 0, 0}))},
       .outputs = {bd},
       .attributes = {{"axis", int64_t{0}}}});
  Value* c = g.AddValue("c", DataType::kFloat32);
  add({.name = "conv",
       .op_type = "Conv",
       .inputs = {xd, wd, bd},
       .outputs = {c}});
  Value* ys = g.AddConstant("ys", Tensor::Scalar<float>(0.05f));
  Value* yz = g.AddConstant("yz", ActivationZeroPoint(storage, 3));
  Value* cq = g.AddValue("c_q", storage);
  Value* y = g.AddValue("y", DataType::kFloat32);
  add({.name = "qc",
       .op_type = "QuantizeLinear",
       .inputs = {c, ys, yz},
       .outputs = {cq}});
  add({.name = "dqc",
       .op_type = "DequantizeLinear",
       .inputs = {cq, ys, yz},
       .outputs = {y}});
  g.AddOutput(y);
}

TEST(QdqSmallTest, OrtStyleQdqConvFolds) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  Graph g;
  BuildOrtStyleQdqConv(g, DataType::kInt8);
  Tensor w(DataType::kInt8, {3, 2, 1, 1});
  for (int i = 0; i < 6; ++i)
    w.data<int8_t>()[i] = static_cast<int8_t>(i * 20 - 50);

  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveOnnxToBytes(g));
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph back,
                              LoadOnnxFromBytes(bytes, registry, "ort"));
  EXPECT_EQ(back.metadata().count("qforge.activation_type"), 0u);
  std::vector<std::string> ops;
  for (const Node* n : back.nodes()) ops.push_back(n->op_type());
  EXPECT_THAT(ops, ::testing::ElementsAre("QuantizeLinear", "Conv",
                                          "DequantizeLinear"));
  const Node* conv = back.FindNode("conv");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->input(0)->name(), "x_q");
  EXPECT_EQ(conv->input(0)->quant(), QuantParams::PerTensor(0.02f, -5));
  EXPECT_EQ(conv->input(1)->name(), "w_q");
  ASSERT_TRUE(conv->input(1)->is_constant());
  EXPECT_EQ(conv->input(1)->constant()->quant(),
            QuantParams::PerAxis({0.1f, 0.2f, 0.3f}, {0, 0, 0}, 0));
  EXPECT_TRUE(TensorsBitwiseEqual(*conv->input(1)->constant(), w));
  QuantParams bias = QuantParams::PerAxis({0.002f, 0.004f, 0.006f}, {0, 0, 0},
                                          0, DataType::kInt32);
  bias.bits = 32;
  EXPECT_EQ(conv->input(2)->quant(), bias);
  EXPECT_EQ(conv->output(0)->name(), "c_q");
  EXPECT_EQ(conv->output(0)->dtype(), DataType::kInt8);
  EXPECT_EQ(conv->output(0)->quant(), QuantParams::PerTensor(0.05f, 3));
  EXPECT_EQ(back.outputs()[0]->name(), "y");
}

// DequantizeLinear -> Clip (bounds as float constant inputs, as exporters
// write ReLU6) -> QuantizeLinear folds into an int8 Clip that keeps its float
// bounds, and computes what the QDQ form means: q(clip(dq(x))).
TEST(QdqSmallTest, ClipWithConstantBoundsFolds) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  Graph g;
  g.set_opset("", 13);
  auto add = [&](NodeSpec spec) {
    ASSERT_THAT(g.AddNode(std::move(spec)).status(), IsOk());
  };
  Value* x = g.AddValue("x", DataType::kFloat32, Shape({1, 64}));
  g.AddInput(x);
  Value* xs = g.AddConstant("xs", Tensor::Scalar<float>(0.125f));
  Value* xz = g.AddConstant("xz", Tensor::Scalar<int8_t>(-7));
  Value* xq = g.AddValue("x_q", DataType::kInt8);
  Value* xd = g.AddValue("x_dq", DataType::kFloat32);
  add({.name = "qx",
       .op_type = "QuantizeLinear",
       .inputs = {x, xs, xz},
       .outputs = {xq}});
  add({.name = "dqx",
       .op_type = "DequantizeLinear",
       .inputs = {xq, xs, xz},
       .outputs = {xd}});
  Value* c = g.AddValue("c", DataType::kFloat32);
  add({.name = "relu6",
       .op_type = "Clip",
       .inputs = {xd, g.AddConstant("lo", Tensor::Scalar<float>(0.0f)),
                  g.AddConstant("hi", Tensor::Scalar<float>(6.0f))},
       .outputs = {c}});
  Value* ys = g.AddConstant("ys", Tensor::Scalar<float>(0.03f));
  Value* yz = g.AddConstant("yz", Tensor::Scalar<int8_t>(-128));
  Value* cq = g.AddValue("c_q", DataType::kInt8);
  Value* y = g.AddValue("y", DataType::kFloat32);
  add({.name = "qc",
       .op_type = "QuantizeLinear",
       .inputs = {c, ys, yz},
       .outputs = {cq}});
  add({.name = "dqc",
       .op_type = "DequantizeLinear",
       .inputs = {cq, ys, yz},
       .outputs = {y}});
  g.AddOutput(y);

  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveOnnxToBytes(g));
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph back,
                              LoadOnnxFromBytes(bytes, registry, "clip"));
  std::vector<std::string> ops;
  for (const Node* n : back.nodes()) ops.push_back(n->op_type());
  EXPECT_THAT(ops, ::testing::ElementsAre("QuantizeLinear", "Clip",
                                          "DequantizeLinear"));
  const Node* clip = back.FindNode("relu6");
  ASSERT_NE(clip, nullptr);
  EXPECT_EQ(clip->input(0)->dtype(), DataType::kInt8);
  EXPECT_EQ(clip->output(0)->quant(), QuantParams::PerTensor(0.03f, -128));

  std::vector<float> xv(64);
  for (int i = 0; i < 64; ++i) xv[i] = -3.0f + 0.17f * static_cast<float>(i);
  QFORGE_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Executor> exec,
                              Executor::Prepare(back, registry));
  QFORGE_ASSERT_OK_AND_ASSIGN(
      TensorMap out,
      exec->Run({{"x", Tensor::FromVector<float>({1, 64}, xv)}}));
  ASSERT_TRUE(out.count("y"));
  for (int i = 0; i < 64; ++i) {
    // Round half to even, as ONNX QuantizeLinear.
    const float q =
        std::clamp(std::nearbyint(xv[i] / 0.125f) - 7.0f, -128.0f, 127.0f);
    const float clipped = std::clamp((q + 7.0f) * 0.125f, 0.0f, 6.0f);
    const float yq =
        std::clamp(std::nearbyint(clipped / 0.03f) - 128.0f, -128.0f, 127.0f);
    EXPECT_EQ(out.at("y").data<float>()[i], (yq + 128.0f) * 0.03f) << i;
  }
}

// The same model with uint8 activations (ONNX Runtime's quantizer default):
// folded into int8 values with zero point - 128 (same arithmetic), the
// boundary QuantizeLinear / DequantizeLinear read int8 zero points, the
// metadata records uint8, and exporting writes the uint8 zero points again.
TEST(QdqSmallTest, Uint8ActivationsFoldAsInt8AndExportAsUint8) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  Graph g;
  BuildOrtStyleQdqConv(g, DataType::kUint8);
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveOnnxToBytes(g));
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph back,
                              LoadOnnxFromBytes(bytes, registry, "ort"));
  EXPECT_EQ(back.metadata().at("qforge.activation_type"), "uint8");
  const Node* conv = back.FindNode("conv");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->input(0)->dtype(), DataType::kInt8);
  EXPECT_EQ(conv->input(0)->quant(), QuantParams::PerTensor(0.02f, -5));
  EXPECT_EQ(conv->input(1)->dtype(), DataType::kInt8);  // Weights untouched.
  EXPECT_EQ(conv->output(0)->dtype(), DataType::kInt8);
  EXPECT_EQ(conv->output(0)->quant(), QuantParams::PerTensor(0.05f, 3));
  for (const Node* n : back.nodes()) {
    if (n->op_type() != "QuantizeLinear" && n->op_type() != "DequantizeLinear")
      continue;
    ASSERT_NE(n->input(2), nullptr) << n->Describe();
    const Tensor& zp = *n->input(2)->constant();
    EXPECT_EQ(zp.dtype(), DataType::kInt8) << n->Describe();
    EXPECT_EQ(zp.GetAsInt64(0), n->op_type() == "QuantizeLinear" ? -5 : 3)
        << n->Describe();
  }
  // Export: uint8 again, same zero points as the file that was read.
  onnx::ModelProto model;
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string again, SaveOnnxToBytes(back));
  ASSERT_TRUE(model.ParseFromString(again));
  int activation_qdq = 0;
  for (const auto& n : model.graph().node()) {
    if (n.op_type() != "QuantizeLinear" && n.op_type() != "DequantizeLinear")
      continue;
    const onnx::TensorProto* zp = InitializerOf(model.graph(), n.input(2));
    ASSERT_NE(zp, nullptr) << n.name();
    const bool weight = n.input(0) == "w_q" || n.input(0) == "b_q";
    if (weight) {
      EXPECT_NE(zp->data_type(), onnx::TensorProto::UINT8) << n.name();
      continue;
    }
    ++activation_qdq;
    EXPECT_EQ(zp->data_type(), onnx::TensorProto::UINT8) << n.name();
  }
  EXPECT_GE(activation_qdq, 3);
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph twice,
                              LoadOnnxFromBytes(again, registry, "again"));
  const Node* conv2 = twice.FindNode("conv");
  ASSERT_NE(conv2, nullptr);
  EXPECT_EQ(conv2->input(0)->quant(), QuantParams::PerTensor(0.02f, -5));
  EXPECT_EQ(conv2->output(0)->quant(), QuantParams::PerTensor(0.05f, 3));
}

// x -> Q1 -> DQ1 -> Q2 -> DQ2 -> MaxPool -> Q3 -> DQ3 -> y: the second
// fake-quantization is redundant when Q2 has Q1's parameters (removed on
// import) and a requantize otherwise (an Identity whose origins name both
// nodes). Either way the imported graph computes what the file says.
Graph DoubleFakeQuantMaxPool(float s2, int8_t z2) {
  Graph g;
  g.set_opset("", 13);
  Value* x = g.AddValue("x", DataType::kFloat32, Shape({1, 1, 4, 4}));
  g.AddInput(x);
  auto qdq = [&](Value* in, const std::string& tag, float s, int8_t z) {
    Value* sc = g.AddConstant(tag + "_s", Tensor::Scalar<float>(s));
    Value* zp = g.AddConstant(tag + "_z", Tensor::Scalar<int8_t>(z));
    Value* q = g.AddValue(tag + "_q", DataType::kInt8);
    Value* f = g.AddValue(tag + "_f", DataType::kFloat32);
    EXPECT_THAT(g.AddNode({.name = "Q" + tag,
                           .op_type = "QuantizeLinear",
                           .inputs = {in, sc, zp},
                           .outputs = {q}})
                    .status(),
                IsOk());
    EXPECT_THAT(g.AddNode({.name = "DQ" + tag,
                           .op_type = "DequantizeLinear",
                           .inputs = {q, sc, zp},
                           .outputs = {f}})
                    .status(),
                IsOk());
    return f;
  };
  Value* a = qdq(x, "1", 0.05f, -3);
  Value* b = qdq(a, "2", s2, z2);
  Value* m = g.AddValue("m", DataType::kFloat32);
  EXPECT_THAT(
      g.AddNode({.name = "pool",
                 .op_type = "MaxPool",
                 .inputs = {b},
                 .outputs = {m},
                 .attributes = {{"kernel_shape", std::vector<int64_t>{2, 2}}}})
          .status(),
      IsOk());
  Value* y = qdq(m, "3", s2, z2);
  g.AddOutput(y);
  return g;
}

std::vector<std::string> OpTypes(const Graph& g) {
  std::vector<std::string> ops;
  for (const Node* n : g.nodes()) ops.push_back(n->op_type());
  return ops;
}

TEST(QdqSmallTest, RedundantQdqPairsAreRemovedOrBecomeRequantize) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  Tensor input(DataType::kFloat32, {1, 1, 4, 4});
  for (int i = 0; i < 16; ++i)
    input.data<float>()[i] = 0.37f * static_cast<float>(i) - 2.9f;
  struct Case {
    float s2;
    int8_t z2;
    std::vector<std::string> ops;
  };
  for (const Case& c :
       {Case{0.05f, -3, {"QuantizeLinear", "MaxPool", "DequantizeLinear"}},
        Case{0.08f,
             10,
             {"QuantizeLinear", "Identity", "MaxPool", "DequantizeLinear"}}}) {
    SCOPED_TRACE(::testing::Message() << "s2 " << c.s2);
    Graph g = DoubleFakeQuantMaxPool(c.s2, c.z2);
    QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveOnnxToBytes(g));
    QFORGE_ASSERT_OK_AND_ASSIGN(Graph back,
                                LoadOnnxFromBytes(bytes, registry, "fq"));
    EXPECT_EQ(back.metadata().count("qforge.qdq_fold_error"), 0u);
    EXPECT_EQ(OpTypes(back), c.ops);
    if (c.ops.size() == 4) {
      const Node* id = back.FindNode("Q2");
      ASSERT_NE(id, nullptr);
      EXPECT_EQ(id->op_type(), "Identity");
      EXPECT_THAT(id->origins(), ::testing::ElementsAre("DQ1", "Q2"));
      EXPECT_EQ(id->output(0)->quant(), QuantParams::PerTensor(0.08f, 10));
    }
    // Same result as the file's float Q/DQ semantics.
    QFORGE_ASSERT_OK_AND_ASSIGN(auto float_exec,
                                Executor::Prepare(g, registry));
    QFORGE_ASSERT_OK_AND_ASSIGN(auto int_exec,
                                Executor::Prepare(back, registry));
    QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap want,
                                float_exec->Run({{"x", input}}));
    QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap got, int_exec->Run({{"x", input}}));
    const Tensor& w = want.at("3_f");
    const Tensor& o = got.at("3_f");
    ASSERT_EQ(o.num_elements(), w.num_elements());
    for (int64_t i = 0; i < w.num_elements(); ++i) {
      EXPECT_EQ(o.data<float>()[i], w.data<float>()[i]) << i;
    }
  }
}

// Below opset 13, Softmax flattens its trailing dims; exporting would change
// the meaning of a Softmax over a non-last axis, so it is refused.
TEST(QdqSmallTest, OldOpsetSoftmaxOverInnerAxisIsRefused) {
  Graph g;
  g.set_opset("", 11);
  Value* x = g.AddValue("x", DataType::kInt8, Shape({1, 3, 4}));
  x->set_quant(QuantParams::PerTensor(0.1f, 0));
  g.AddInput(x);
  Value* y = g.AddValue("y", DataType::kInt8, Shape({1, 3, 4}));
  y->set_quant(QuantParams::PerTensor(1.0f / 256, -128));
  ASSERT_THAT(
      g.AddNode(
           {.name = "sm", .op_type = "Softmax", .inputs = {x}, .outputs = {y}})
          .status(),
      IsOk());
  g.AddOutput(y);
  EXPECT_THAT(SaveOnnxToBytes(g).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("node 'sm' (Softmax)")));
}

}  // namespace
}  // namespace qforge
