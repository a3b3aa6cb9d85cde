#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <variant>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "onnx/onnx_pb.h"
#include "qforge/io/model.h"
#include "qforge/io/onnx.h"
#include "qforge/ir/verifier.h"
#include "qforge/registry.h"
#include "qforge/testing/status_matchers.h"
#include "tests/io/graph_compare.h"

namespace qforge {
namespace {

using ::qforge::testing::GraphDiff;
using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::HasSubstr;

class OnnxExportTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_THAT(RegisterBuiltins(registry_), IsOk()); }

  // x -> Add(bias) -> sum -> qforge.contrib::AnchorBoxes(sum, <omitted>, scale)
  // -> boxes (output), and an unused constant.
  Graph BuildGraph() {
    Graph g;
    g.set_name("custom");
    g.set_opset("", 13);
    Value* x =
        g.AddValue("x", DataType::kFloat32,
                   Shape(std::vector<Dim>{Dim::Symbol("batch"), Dim::Static(4),
                                          Dim::Unknown()}));
    g.AddInput(x);
    Value* bias = g.AddConstant(
        "bias",
        Tensor::FromVector<float>({1, 4, 1}, {0.5f, -1.0f, 1e-30f, -0.0f}));
    Value* scale =
        g.AddConstant("scale", Tensor::FromVector<Half>({1}, {Half{0x3C01}}));
    Tensor flags(DataType::kBool, {3});
    flags.data<bool>()[1] = true;
    g.AddConstant("unused_flags", std::move(flags));
    g.AddConstant("unused_i8", Tensor::FromVector<int8_t>({2}, {-128, 127}));
    g.AddConstant("unused_f64", Tensor::FromVector<double>({1}, {0.1}));
    Value* sum = g.AddValue("sum");
    Value* boxes = g.AddValue(
        "boxes", DataType::kFloat32,
        Shape(std::vector<Dim>{Dim::Symbol("batch"), Dim::Static(4)}));
    EXPECT_TRUE(g.AddNode({.name = "add",
                           .op_type = "Add",
                           .inputs = {x, bias},
                           .outputs = {sum}})
                    .ok());
    std::map<std::string, Attribute> attrs;
    attrs["stride"] = int64_t{8};
    attrs["size"] = 32.25f;
    attrs["mode"] = std::string("center");
    attrs["ratios"] = std::vector<float>{0.5f, 1.0f, 2.0f};
    attrs["shape"] = std::vector<int64_t>{1, -1};
    attrs["names"] = std::vector<std::string>{"a", ""};
    attrs["table"] = Tensor::FromVector<int32_t>({2}, {7, -9});
    EXPECT_TRUE(g.AddNode({.name = "anchors",
                           .domain = "qforge.contrib",
                           .op_type = "AnchorBoxes",
                           .inputs = {sum, nullptr, scale},
                           .outputs = {boxes},
                           .attributes = std::move(attrs)})
                    .ok());
    g.AddOutput(boxes);
    return g;
  }

  Registry registry_;
};

TEST_F(OnnxExportTest, RoundTripKeepsEverything) {
  Graph original = BuildGraph();
  ASSERT_THAT(VerifyGraph(original, registry_.schemas()), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveOnnxToBytes(original));
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph back, LoadOnnxFromBytes(bytes, registry_));
  // The custom domain was added to the opsets on export.
  EXPECT_EQ(back.opsets().at("qforge.contrib"), 1);
  original.set_opset("qforge.contrib", 1);
  EXPECT_EQ(GraphDiff(original, back), "");
  // Exporting the re-imported graph gives the same bytes.
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string again, SaveOnnxToBytes(back));
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph back2, LoadOnnxFromBytes(again, registry_));
  EXPECT_EQ(GraphDiff(back, back2), "");
}

TEST_F(OnnxExportTest, WritesTheExpectedProto) {
  Graph g = BuildGraph();
  ASSERT_THAT(VerifyGraph(g, registry_.schemas()), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveOnnxToBytes(g));
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(bytes));
  std::map<std::string, int64_t> opsets;
  for (const auto& o : model.opset_import()) opsets[o.domain()] = o.version();
  EXPECT_EQ(opsets,
            (std::map<std::string, int64_t>{{"", 13}, {"qforge.contrib", 1}}));
  ASSERT_EQ(model.graph().input_size(), 1);
  const auto& shape = model.graph().input(0).type().tensor_type().shape();
  ASSERT_EQ(shape.dim_size(), 3);
  EXPECT_EQ(shape.dim(0).dim_param(), "batch");
  EXPECT_EQ(shape.dim(1).dim_value(), 4);
  EXPECT_FALSE(shape.dim(2).has_dim_value() || shape.dim(2).has_dim_param());
  EXPECT_EQ(model.graph().initializer_size(), 5);
  for (const auto& init : model.graph().initializer())
    EXPECT_TRUE(init.has_raw_data());
  // The intermediate value has its inferred dtype in value_info.
  ASSERT_EQ(model.graph().value_info_size(), 1);
  EXPECT_EQ(model.graph().value_info(0).name(), "sum");
  EXPECT_EQ(model.graph().value_info(0).type().tensor_type().elem_type(),
            onnx::TensorProto::FLOAT);
  ASSERT_EQ(model.graph().node_size(), 2);
  const auto& anchors = model.graph().node(1);
  EXPECT_EQ(anchors.domain(), "qforge.contrib");
  ASSERT_EQ(anchors.input_size(), 3);
  EXPECT_EQ(anchors.input(1), "");
}

// x -> Gelu (erf form) -> Gelu (approximate = "tanh") -> y, default opset
// `opset`.
Graph GeluGraph(int64_t opset) {
  Graph g;
  g.set_name("gelu");
  g.set_opset("", opset);
  Value* x = g.AddValue("x", DataType::kFloat32, Shape({1, 8}));
  g.AddInput(x);
  Value* h = g.AddValue("h");
  Value* y = g.AddValue("y");
  EXPECT_TRUE(
      g.AddNode(
           {.name = "g1", .op_type = "Gelu", .inputs = {x}, .outputs = {h}})
          .ok());
  EXPECT_TRUE(g.AddNode({.name = "g2",
                         .op_type = "Gelu",
                         .inputs = {h},
                         .outputs = {y},
                         .attributes = {{"approximate", std::string("tanh")}}})
                  .ok());
  g.AddOutput(y);
  return g;
}

// Gelu joined the default domain in opset 20: below it, the export writes
// ONNX Runtime's com.microsoft::Gelu (erf) / FastGelu (tanh, no bias), and the
// import reads those back as Gelu.
TEST_F(OnnxExportTest, GeluBelowOpset20IsWrittenAsContribOps) {
  Graph g = GeluGraph(13);
  ASSERT_THAT(VerifyGraph(g, registry_.schemas()), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveOnnxToBytes(g));
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(bytes));
  std::map<std::string, int64_t> opsets;
  for (const auto& o : model.opset_import()) opsets[o.domain()] = o.version();
  EXPECT_EQ(opsets,
            (std::map<std::string, int64_t>{{"", 13}, {"com.microsoft", 1}}));
  ASSERT_EQ(model.graph().node_size(), 2);
  EXPECT_EQ(model.graph().node(0).domain(), "com.microsoft");
  EXPECT_EQ(model.graph().node(0).op_type(), "Gelu");
  EXPECT_EQ(model.graph().node(1).domain(), "com.microsoft");
  EXPECT_EQ(model.graph().node(1).op_type(), "FastGelu");
  EXPECT_EQ(model.graph().node(0).attribute_size(), 0);
  EXPECT_EQ(model.graph().node(1).attribute_size(), 0);

  QFORGE_ASSERT_OK_AND_ASSIGN(Graph back, LoadOnnxFromBytes(bytes, registry_));
  ASSERT_EQ(back.nodes().size(), 2u);
  for (const Node* n : back.nodes()) {
    EXPECT_EQ(n->domain(), "");
    EXPECT_EQ(n->op_type(), "Gelu");
  }
  const Node* g2 = back.FindValue("y")->producer();
  ASSERT_NE(g2, nullptr);
  const Attribute* approximate = g2->FindAttribute("approximate");
  ASSERT_NE(approximate, nullptr);
  EXPECT_EQ(std::get<std::string>(*approximate), "tanh");
  EXPECT_EQ(back.FindValue("h")->producer()->FindAttribute("approximate"),
            nullptr);
}

TEST_F(OnnxExportTest, GeluAtOpset20StaysInTheDefaultDomain) {
  Graph g = GeluGraph(20);
  ASSERT_THAT(VerifyGraph(g, registry_.schemas()), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveOnnxToBytes(g));
  onnx::ModelProto model;
  ASSERT_TRUE(model.ParseFromString(bytes));
  ASSERT_EQ(model.opset_import_size(), 1);
  ASSERT_EQ(model.graph().node_size(), 2);
  for (const auto& n : model.graph().node()) {
    EXPECT_EQ(n.domain(), "");
    EXPECT_EQ(n.op_type(), "Gelu");
  }
  EXPECT_EQ(model.graph().node(1).attribute_size(), 1);
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph back, LoadOnnxFromBytes(bytes, registry_));
  EXPECT_EQ(GraphDiff(g, back), "");
}

TEST_F(OnnxExportTest, SaveModelIsAtomic) {
  const std::string path = ::testing::TempDir() + "/qforge_export_test.onnx";
  std::remove(path.c_str());
  Graph g = BuildGraph();
  ASSERT_THAT(SaveModel(g, path), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph back, LoadModel(path, registry_));
  EXPECT_EQ(back.num_nodes(), 2);

  // An NHWC node cannot be written: the earlier file stays intact.
  std::ifstream in(path, std::ios::binary);
  const std::string before((std::istreambuf_iterator<char>(in)), {});
  g.nodes()[0]->set_layout(Layout::kNHWC);
  EXPECT_THAT(SaveOnnx(g, path), StatusIs(absl::StatusCode::kFailedPrecondition,
                                          HasSubstr("node 'add'")));
  std::ifstream in2(path, std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in2)), {}), before);
  std::remove(path.c_str());

  EXPECT_THAT(
      SaveOnnx(BuildGraph(), "/nonexistent/dir/m.onnx"),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/dir")));
}

}  // namespace
}  // namespace qforge
