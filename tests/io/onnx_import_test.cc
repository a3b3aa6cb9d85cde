#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/onnx_tensor.h"
#include "onnx/onnx_pb.h"
#include "qforge/core/float16.h"
#include "qforge/io/model.h"
#include "qforge/io/onnx.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using TP = onnx::TensorProto;

void SetTensorType(onnx::ValueInfoProto* info, const std::string& name,
                   int elem_type, const std::vector<std::string>& dims) {
  info->set_name(name);
  auto* tt = info->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem_type);
  auto* shape = tt->mutable_shape();
  for (const std::string& d : dims) {
    auto* dim = shape->add_dim();
    if (!d.empty() && (std::isdigit(static_cast<unsigned char>(d[0])) != 0)) {
      dim->set_dim_value(std::stoll(d));
    } else if (!d.empty()) {
      dim->set_dim_param(d);
    }
  }
}

// y = Relu(x + bias), x: float[N, 3], bias: float[2, 3] = {1, -1, 0.5} twice.
onnx::ModelProto AddReluModel() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  auto* g = model.mutable_graph();
  g->set_name("add_relu");
  SetTensorType(g->add_input(), "x", TP::FLOAT, {"N", "3"});
  SetTensorType(g->add_output(), "y", TP::FLOAT, {"N", "3"});
  auto* bias = g->add_initializer();
  bias->set_name("bias");
  bias->set_data_type(TP::FLOAT);
  bias->add_dims(2);
  bias->add_dims(3);
  const float values[6] = {1.0f, -1.0f, 0.5f, 1.0f, -1.0f, 0.5f};
  bias->set_raw_data(reinterpret_cast<const char*>(values), sizeof(values));
  auto* add = g->add_node();
  add->set_name("add");
  add->set_op_type("Add");
  add->add_input("x");
  add->add_input("bias");
  add->add_output("sum");
  auto* relu = g->add_node();
  relu->set_op_type("Relu");  // No name: one is generated.
  relu->add_input("sum");
  relu->add_output("y");
  return model;
}

std::string Serialize(const onnx::ModelProto& model) {
  std::string bytes;
  EXPECT_TRUE(model.SerializeToString(&bytes));
  return bytes;
}

class OnnxImportTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_THAT(RegisterBuiltins(registry_), IsOk()); }
  Registry registry_;
};

TEST_F(OnnxImportTest, ImportsGraphStructureAndRuns) {
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Graph graph, LoadOnnxFromBytes(Serialize(AddReluModel()), registry_));
  EXPECT_EQ(graph.name(), "add_relu");
  EXPECT_EQ(graph.onnx_opset(), 13);
  ASSERT_EQ(graph.inputs().size(), 1u);
  EXPECT_EQ(graph.inputs()[0]->name(), "x");
  EXPECT_EQ(graph.inputs()[0]->dtype(), DataType::kFloat32);
  EXPECT_EQ(graph.inputs()[0]->shape(),
            Shape(std::vector<Dim>{Dim::Symbol("N"), Dim::Static(3)}));
  ASSERT_EQ(graph.outputs().size(), 1u);
  EXPECT_EQ(graph.outputs()[0]->name(), "y");
  ASSERT_EQ(graph.num_nodes(), 2);
  const std::vector<Node*> nodes = graph.nodes();
  EXPECT_EQ(nodes[0]->name(), "add");
  EXPECT_EQ(nodes[0]->op_type(), "Add");
  EXPECT_FALSE(nodes[1]->name().empty());
  EXPECT_NE(nodes[1]->name(), "add");
  const Value* bias = graph.FindValue("bias");
  ASSERT_NE(bias, nullptr);
  ASSERT_TRUE(bias->is_constant());
  EXPECT_THAT(bias->constant()->ToVector<float>(),
              ElementsAre(1.0f, -1.0f, 0.5f, 1.0f, -1.0f, 0.5f));
  // The verifier inferred the intermediate value's dtype.
  EXPECT_EQ(graph.FindValue("sum")->dtype(), DataType::kFloat32);

  QFORGE_ASSERT_OK_AND_ASSIGN(auto exec, Executor::Prepare(graph, registry_));
  TensorMap inputs;
  inputs["x"] = Tensor::FromVector<float>({2, 3}, {0, 0, 0, -3, 2, -1});
  QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap out, exec->Run(inputs));
  // Relu(x + bias) computed by hand.
  EXPECT_THAT(out["y"].ToVector<float>(),
              ElementsAre(1.0f, 0.0f, 0.5f, 0.0f, 1.0f, 0.0f));
}

TEST_F(OnnxImportTest, InitializerListedAsInputIsAConstant) {
  onnx::ModelProto model = AddReluModel();
  SetTensorType(model.mutable_graph()->add_input(), "bias", TP::FLOAT,
                {"2", "3"});
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph graph,
                              LoadOnnxFromBytes(Serialize(model), registry_));
  ASSERT_EQ(graph.inputs().size(), 1u);
  EXPECT_TRUE(graph.FindValue("bias")->is_constant());
}

TEST_F(OnnxImportTest, CustomDomainNodeIsKeptOpaqueWithAttributes) {
  onnx::ModelProto model;
  auto* opset = model.add_opset_import();
  opset->set_version(13);
  auto* custom = model.add_opset_import();
  custom->set_domain("qforge.contrib");
  custom->set_version(1);
  auto* g = model.mutable_graph();
  SetTensorType(g->add_input(), "x", TP::FLOAT, {"1", "4"});
  SetTensorType(g->add_output(), "boxes", TP::FLOAT, {"1", "4", "4"});
  auto* node = g->add_node();
  node->set_name("anchors");
  node->set_domain("qforge.contrib");
  node->set_op_type("AnchorBoxes");
  node->add_input("x");
  node->add_input("");  // Omitted optional input.
  node->add_input("x");
  node->add_output("boxes");
  auto add_attr = [&](const std::string& name,
                      onnx::AttributeProto::AttributeType type) {
    auto* a = node->add_attribute();
    a->set_name(name);
    a->set_type(type);
    return a;
  };
  add_attr("stride", onnx::AttributeProto::INT)->set_i(8);
  add_attr("size", onnx::AttributeProto::FLOAT)->set_f(32.5f);
  add_attr("mode", onnx::AttributeProto::STRING)->set_s("center");
  auto* ints = add_attr("shape", onnx::AttributeProto::INTS);
  ints->add_ints(3);
  ints->add_ints(-1);
  auto* floats = add_attr("ratios", onnx::AttributeProto::FLOATS);
  floats->add_floats(0.5f);
  floats->add_floats(2.0f);
  auto* strings = add_attr("names", onnx::AttributeProto::STRINGS);
  strings->add_strings("a");
  strings->add_strings("bc");
  auto* t = add_attr("table", onnx::AttributeProto::TENSOR)->mutable_t();
  t->set_data_type(TP::INT64);
  t->add_dims(2);
  t->add_int64_data(7);
  t->add_int64_data(-9);

  QFORGE_ASSERT_OK_AND_ASSIGN(Graph graph,
                              LoadOnnxFromBytes(Serialize(model), registry_));
  EXPECT_EQ(graph.opsets().at("qforge.contrib"), 1);
  ASSERT_EQ(graph.num_nodes(), 1);
  const Node& n = *graph.nodes()[0];
  EXPECT_EQ(n.domain(), "qforge.contrib");
  EXPECT_EQ(n.op_type(), "AnchorBoxes");
  ASSERT_EQ(n.num_inputs(), 3);
  EXPECT_NE(n.input(0), nullptr);
  EXPECT_EQ(n.input(1), nullptr);
  EXPECT_EQ(n.input(2), n.input(0));
  EXPECT_EQ(*n.GetInt("stride", 0), 8);
  EXPECT_EQ(*n.GetFloat("size", 0), 32.5f);
  EXPECT_EQ(*n.GetString("mode", ""), "center");
  EXPECT_THAT(*n.GetInts("shape", {}), ElementsAre(3, -1));
  EXPECT_THAT(*n.GetFloats("ratios", {}), ElementsAre(0.5f, 2.0f));
  EXPECT_THAT(std::get<std::vector<std::string>>(*n.FindAttribute("names")),
              ElementsAre("a", "bc"));
  QFORGE_ASSERT_OK_AND_ASSIGN(const Tensor* table, n.GetTensor("table"));
  EXPECT_THAT(table->ToVector<int64_t>(), ElementsAre(7, -9));
  // Declared output type is kept for the opaque op.
  EXPECT_EQ(graph.FindValue("boxes")->dtype(), DataType::kFloat32);
  EXPECT_EQ(graph.FindValue("boxes")->shape(), Shape({1, 4, 4}));
}

TEST_F(OnnxImportTest, GraphAttributeIsUnimplementedNamingNode) {
  onnx::ModelProto model = AddReluModel();
  auto* a = model.mutable_graph()->mutable_node(0)->add_attribute();
  a->set_name("body");
  a->set_type(onnx::AttributeProto::GRAPH);
  a->mutable_g()->set_name("sub");
  EXPECT_THAT(LoadOnnxFromBytes(Serialize(model), registry_),
              StatusIs(absl::StatusCode::kUnimplemented,
                       AllOf(HasSubstr("node 'add' (Add)"), HasSubstr("'body'"),
                             HasSubstr("subgraph"))));
}

TEST_F(OnnxImportTest, InitializerWithWrongElementCountIsDataLoss) {
  onnx::ModelProto model = AddReluModel();
  auto* bias = model.mutable_graph()->mutable_initializer(0);
  bias->set_raw_data(std::string(8, '\0'));
  EXPECT_THAT(LoadOnnxFromBytes(Serialize(model), registry_, "m.onnx"),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("m.onnx"), HasSubstr("'bias'"),
                             HasSubstr("8 bytes"), HasSubstr("24"))));
  bias->clear_raw_data();
  bias->add_float_data(1.0f);
  EXPECT_THAT(
      LoadOnnxFromBytes(Serialize(model), registry_),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr("'bias'"), HasSubstr("float_data holds 1"))));
}

TEST_F(OnnxImportTest, ExternalDataIsUnimplemented) {
  onnx::ModelProto model = AddReluModel();
  auto* bias = model.mutable_graph()->mutable_initializer(0);
  bias->clear_raw_data();
  bias->set_data_location(TP::EXTERNAL);
  auto* entry = bias->add_external_data();
  entry->set_key("location");
  entry->set_value("weights.bin");
  EXPECT_THAT(LoadOnnxFromBytes(Serialize(model), registry_),
              StatusIs(absl::StatusCode::kUnimplemented,
                       AllOf(HasSubstr("'bias'"), HasSubstr("weights.bin"),
                             HasSubstr("external"))));
}

TEST_F(OnnxImportTest, UnsupportedElementTypeIsUnimplemented) {
  onnx::ModelProto model = AddReluModel();
  SetTensorType(model.mutable_graph()->mutable_input(0), "x", TP::UINT32,
                {"3"});
  EXPECT_THAT(LoadOnnxFromBytes(Serialize(model), registry_),
              StatusIs(absl::StatusCode::kUnimplemented,
                       AllOf(HasSubstr("'x'"), HasSubstr("UINT32"))));
}

TEST_F(OnnxImportTest, UndefinedInputNameIsInvalidArgument) {
  onnx::ModelProto model = AddReluModel();
  model.mutable_graph()->mutable_node(1)->set_input(0, "nowhere");
  EXPECT_THAT(
      LoadOnnxFromBytes(Serialize(model), registry_),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'nowhere'")));
}

TEST_F(OnnxImportTest, EmptyAndGarbageBytesAreDataLoss) {
  EXPECT_THAT(LoadOnnxFromBytes("", registry_, "empty.onnx"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("empty.onnx")));
  EXPECT_THAT(
      LoadOnnxFromBytes("\xff\xff\xff\xff garbage", registry_, "g.onnx"),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("g.onnx")));
}

TEST_F(OnnxImportTest, TruncationsAndBitFlipsNeverCrash) {
  const std::string bytes = Serialize(AddReluModel());
  for (size_t len = 0; len < bytes.size(); ++len) {
    absl::StatusOr<Graph> g =
        LoadOnnxFromBytes(bytes.substr(0, len), registry_);
    // Some prefixes are valid protobuf; they must still load or fail cleanly.
    if (!g.ok()) EXPECT_FALSE(g.status().message().empty());
  }
  int failures = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string flipped = bytes;
      flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
      absl::StatusOr<Graph> g = LoadOnnxFromBytes(flipped, registry_);
      if (!g.ok()) ++failures;
    }
  }
  EXPECT_GT(failures, 0);
}

TEST_F(OnnxImportTest, MissingFileIsNotFound) {
  EXPECT_THAT(LoadOnnx("/nonexistent/dir/model.onnx", registry_),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("model.onnx")));
}

TEST_F(OnnxImportTest, LoadModelDispatchesOnExtension) {
  const std::string path = ::testing::TempDir() + "/qforge_import_test.onnx";
  {
    std::ofstream f(path, std::ios::binary);
    f << Serialize(AddReluModel());
  }
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph graph, LoadModel(path, registry_));
  EXPECT_EQ(graph.num_nodes(), 2);
  std::remove(path.c_str());
  EXPECT_THAT(LoadModel("missing_model.tflite", registry_),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("missing_model.tflite")));
  EXPECT_THAT(
      LoadModel("model.bin", registry_),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("model.bin")));
}

// --- TensorProto conversion
// ---------------------------------------------------

TEST(OnnxTensorTest, TypedFields) {
  TP p;
  p.set_name("t");
  p.set_data_type(TP::FLOAT);
  p.add_dims(2);
  p.add_float_data(1.5f);
  p.add_float_data(-2.0f);
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor f, internal::TensorFromOnnx(p, "t"));
  EXPECT_EQ(f.dtype(), DataType::kFloat32);
  EXPECT_THAT(f.ToVector<float>(), ElementsAre(1.5f, -2.0f));

  TP d;
  d.set_data_type(TP::DOUBLE);
  d.add_double_data(0.25);
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor dt, internal::TensorFromOnnx(d, "d"));
  EXPECT_EQ(dt.rank(), 0);
  EXPECT_THAT(dt.ToVector<double>(), ElementsAre(0.25));

  TP i8;
  i8.set_data_type(TP::INT8);
  i8.add_dims(3);
  i8.add_int32_data(-128);
  i8.add_int32_data(0);
  i8.add_int32_data(127);
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor i8t, internal::TensorFromOnnx(i8, "i8"));
  EXPECT_THAT(i8t.ToVector<int8_t>(), ElementsAre(-128, 0, 127));
  i8.set_int32_data(0, -129);
  EXPECT_THAT(internal::TensorFromOnnx(i8, "i8"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("-129")));

  TP u16;
  u16.set_data_type(TP::UINT16);
  u16.add_int32_data(65535);
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor u16t,
                              internal::TensorFromOnnx(u16, "u16"));
  EXPECT_THAT(u16t.ToVector<uint16_t>(), ElementsAre(65535));

  TP h;
  h.set_data_type(TP::FLOAT16);
  h.add_dims(2);
  h.add_int32_data(0x3C00);  // 1.0
  h.add_int32_data(0xC000);  // -2.0
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor ht, internal::TensorFromOnnx(h, "h"));
  EXPECT_EQ(ht.dtype(), DataType::kFloat16);
  EXPECT_EQ(ht.GetAsDouble(0), 1.0);
  EXPECT_EQ(ht.GetAsDouble(1), -2.0);

  TP b;
  b.set_data_type(TP::BOOL);
  b.add_dims(3);
  b.add_int32_data(1);
  b.add_int32_data(0);
  b.add_int32_data(1);
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor bt, internal::TensorFromOnnx(b, "b"));
  EXPECT_THAT(bt.ToVector<bool>(), ElementsAre(true, false, true));

  TP i64;
  i64.set_data_type(TP::INT64);
  i64.add_dims(1);
  i64.add_int64_data(int64_t{1} << 40);
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor i64t,
                              internal::TensorFromOnnx(i64, "i64"));
  EXPECT_THAT(i64t.ToVector<int64_t>(), ElementsAre(int64_t{1} << 40));

  TP empty;
  empty.set_data_type(TP::FLOAT);
  empty.add_dims(0);
  empty.add_dims(4);
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor et, internal::TensorFromOnnx(empty, "e"));
  EXPECT_EQ(et.num_elements(), 0);
  EXPECT_THAT(et.dims(), ElementsAre(0, 4));
}

TEST(OnnxTensorTest, RejectsBadTensors) {
  TP s;
  s.set_data_type(TP::STRING);
  s.add_string_data("x");
  EXPECT_THAT(internal::TensorFromOnnx(s, "tensor 's'"),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("string")));
  TP neg;
  neg.set_data_type(TP::FLOAT);
  neg.add_dims(-1);
  EXPECT_THAT(internal::TensorFromOnnx(neg, "tensor 'neg'"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("'neg'")));
  TP huge;
  huge.set_data_type(TP::FLOAT);
  huge.add_dims(int64_t{1} << 30);
  huge.add_dims(int64_t{1} << 30);
  EXPECT_THAT(internal::TensorFromOnnx(huge, "tensor 'huge'"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("'huge'")));
  TP big_raw;
  big_raw.set_data_type(TP::FLOAT);
  big_raw.add_dims(int64_t{1} << 35);
  big_raw.set_raw_data("abcd");
  EXPECT_THAT(internal::TensorFromOnnx(big_raw, "tensor 'big'"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("'big'")));
  TP bf;
  bf.set_data_type(TP::BFLOAT16);
  EXPECT_THAT(
      internal::TensorFromOnnx(bf, "tensor 'bf'"),
      StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("BFLOAT16")));
}

TEST(OnnxTensorTest, BytesRoundTrip) {
  Tensor t = Tensor::FromVector<int32_t>({2, 2}, {1, -2, 3, 1 << 30});
  TP p;
  ASSERT_THAT(internal::TensorToOnnx(t, "w", &p), IsOk());
  std::string name;
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Tensor back,
      internal::TensorFromOnnxBytes(p.SerializeAsString(), "w.pb", &name));
  EXPECT_EQ(name, "w");
  EXPECT_THAT(back.dims(), ElementsAre(2, 2));
  EXPECT_THAT(back.ToVector<int32_t>(), ElementsAre(1, -2, 3, 1 << 30));
  EXPECT_THAT(internal::TensorFromOnnxBytes("\x0a\xff", "bad.pb"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad.pb")));
}

}  // namespace
}  // namespace qforge
