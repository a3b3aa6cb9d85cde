// Shape and dtype inference of the nn-family schemas, with symbolic and
// unknown dimensions, both layouts, and the errors they report.
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/ir/verifier.h"
#include "qforge/registry.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {

void PrintTo(const Shape& shape, std::ostream* os) { *os << shape.ToString(); }

namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

Dim S(int64_t v) { return Dim::Static(v); }
Dim Sym(const char* s) { return Dim::Symbol(s); }
Dim U() { return Dim::Unknown(); }

class NnSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(RegisterBuiltins(registry_), IsOk());
    g_.set_opset("", 17);
  }
  Value* In(std::vector<Dim> dims, DataType t = DataType::kFloat32) {
    Value* v = g_.AddValue("in", t, Shape(std::move(dims)));
    g_.AddInput(v);
    return v;
  }
  Value* InUnknownRank() {
    Value* v = g_.AddValue("in", DataType::kFloat32, Shape());
    g_.AddInput(v);
    return v;
  }
  Value* Const(Tensor t) { return g_.AddConstant("c", std::move(t)); }
  // Adds the node, verifies, returns the status; outputs in outs_.
  absl::Status Node(const std::string& op, std::vector<Value*> inputs,
                    std::map<std::string, Attribute> attrs = {},
                    Layout layout = Layout::kNCHW, int num_outputs = 1) {
    outs_.clear();
    for (int i = 0; i < num_outputs; ++i) outs_.push_back(g_.AddValue("out"));
    absl::StatusOr<qforge::Node*> n = g_.AddNode({.name = "n",
                                                  .op_type = op,
                                                  .inputs = inputs,
                                                  .outputs = outs_,
                                                  .attributes = attrs});
    if (!n.ok()) return n.status();
    (*n)->set_layout(layout);
    for (Value* o : outs_) g_.AddOutput(o);
    return VerifyGraph(g_, registry_.schemas());
  }
  Shape Out(int i = 0) const { return outs_[i]->shape(); }

  Registry registry_;
  Graph g_;
  std::vector<Value*> outs_;
};

TEST_F(NnSchemaTest, ConvKeepsSymbolsAndUnknowns) {
  Value* x = In({Sym("n"), S(3), U(), S(17)});
  Value* w = Const(Tensor(DataType::kFloat32, {8, 3, 3, 3}));
  ASSERT_THAT(Node("Conv", {x, w}, {{"strides", std::vector<int64_t>{2, 2}}}),
              IsOk());
  EXPECT_EQ(Out(), Shape({Sym("n"), S(8), U(), S(8)}));
}

TEST_F(NnSchemaTest, ConvKernelShapeAttributeWithUnknownWeights) {
  Value* x = In({S(1), S(4), S(9), S(9)});
  Value* w = g_.AddValue("w", DataType::kFloat32, Shape({U(), U(), U(), U()}));
  g_.AddInput(w);
  ASSERT_THAT(Node("Conv", {x, w},
                   {{"kernel_shape", std::vector<int64_t>{3, 5}},
                    {"auto_pad", std::string("VALID")}}),
              IsOk());
  EXPECT_EQ(Out(), Shape({S(1), U(), S(7), S(5)}));
}

TEST_F(NnSchemaTest, ConvUnknownRankInput) {
  Value* x = InUnknownRank();
  Value* w = Const(Tensor(DataType::kFloat32, {8, 3, 3, 3, 3}));
  ASSERT_THAT(Node("Conv", {x, w}), IsOk());
  EXPECT_EQ(Out().rank(), 5);
}

TEST_F(NnSchemaTest, ConvErrors) {
  Value* x = In({S(1), S(4), S(9), S(9)});
  EXPECT_THAT(
      Node("Conv", {x, Const(Tensor(DataType::kFloat32, {8, 4, 3, 3})),
                    Const(Tensor(DataType::kFloat32, {7}))}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("node 'n' (Conv)"), HasSubstr("bias"),
                     HasSubstr("7 values"), HasSubstr("8 output channels"))));
}

TEST_F(NnSchemaTest, ConvDtypeMismatchNamesTensors) {
  Value* x = In({S(1), S(4), S(9), S(9)});
  Value* w =
      g_.AddConstant("weights", Tensor(DataType::kFloat64, {8, 4, 3, 3}));
  EXPECT_THAT(Node("Conv", {x, w}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'in' is float32"),
                             HasSubstr("'weights' is float64"))));
}

TEST_F(NnSchemaTest, MaxPoolCeilModeAndIndices) {
  Value* x = In({S(2), S(3), S(5), S(5)});
  ASSERT_THAT(Node("MaxPool", {x},
                   {{"kernel_shape", std::vector<int64_t>{2, 2}},
                    {"strides", std::vector<int64_t>{2, 2}},
                    {"pads", std::vector<int64_t>{1, 1, 1, 1}},
                    {"ceil_mode", int64_t{1}}},
                   Layout::kNCHW, 2),
              IsOk());
  EXPECT_EQ(Out(0), Shape({2, 3, 3, 3}));
  EXPECT_EQ(Out(1), Shape({2, 3, 3, 3}));
  EXPECT_EQ(outs_[1]->dtype(), DataType::kInt64);
}

TEST_F(NnSchemaTest, AveragePoolNhwcSameUpper) {
  Value* x = In({Sym("n"), S(7), S(7), S(3)});
  ASSERT_THAT(Node("AveragePool", {x},
                   {{"kernel_shape", std::vector<int64_t>{3, 3}},
                    {"strides", std::vector<int64_t>{2, 2}},
                    {"auto_pad", std::string("SAME_UPPER")}},
                   Layout::kNHWC),
              IsOk());
  EXPECT_EQ(Out(), Shape({Sym("n"), S(4), S(4), S(3)}));
}

TEST_F(NnSchemaTest, GlobalPoolBothLayouts) {
  Value* x = In({Sym("n"), S(7), S(6), S(32)});
  ASSERT_THAT(Node("GlobalAveragePool", {x}, {}, Layout::kNHWC), IsOk());
  EXPECT_EQ(Out(), Shape({Sym("n"), S(1), S(1), S(32)}));
}

TEST_F(NnSchemaTest, ResizeNhwcConstantScalesInOnnxOrder) {
  Value* x = In({Sym("n"), S(4), S(5), S(3)});
  Value* scales = Const(Tensor::FromVector<float>({4}, {1, 1, 2, 3}));
  ASSERT_THAT(Node("Resize", {x, nullptr, scales}, {}, Layout::kNHWC), IsOk());
  EXPECT_EQ(Out(), Shape({Sym("n"), S(8), S(15), S(3)}));
}

TEST_F(NnSchemaTest, ResizeSizesAndRuntimeScales) {
  Value* x = In({S(1), S(3), S(4), S(5)});
  Value* sizes = Const(Tensor::FromVector<int64_t>({4}, {1, 3, 9, 2}));
  ASSERT_THAT(Node("Resize", {x, nullptr, nullptr, sizes}), IsOk());
  EXPECT_EQ(Out(), Shape({1, 3, 9, 2}));

  Graph g2;
  Value* x2 = g2.AddValue("x", DataType::kFloat32, Shape({1, 3, 4, 5}));
  Value* s2 = g2.AddValue("scales", DataType::kFloat32, Shape({4}));
  Value* y2 = g2.AddValue("y");
  g2.AddInput(x2);
  g2.AddInput(s2);
  ASSERT_TRUE(g2.AddNode({.name = "r",
                          .op_type = "Resize",
                          .inputs = {x2, nullptr, s2},
                          .outputs = {y2}})
                  .ok());
  g2.AddOutput(y2);
  ASSERT_THAT(VerifyGraph(g2, registry_.schemas()), IsOk());
  EXPECT_EQ(y2->shape(), Shape({U(), U(), U(), U()}));
}

TEST_F(NnSchemaTest, ResizeTfCropUsesRoiExtent) {
  Value* x = In({S(1), S(1), S(10), S(10)});
  Value* roi =
      Const(Tensor::FromVector<float>({8}, {0, 0, 0, 0.25f, 1, 1, 0.5f, 1}));
  Value* scales = Const(Tensor::FromVector<float>({4}, {1, 1, 2, 1}));
  ASSERT_THAT(Node("Resize", {x, roi, scales},
                   {{"coordinate_transformation_mode",
                     std::string("tf_crop_and_resize")}}),
              IsOk());
  // floor(10 * 0.5 * 2) = 10, floor(10 * 0.75 * 1) = 7.
  EXPECT_EQ(Out(), Shape({1, 1, 10, 7}));
}

TEST_F(NnSchemaTest, BatchNormAndLayerNormStatistics) {
  Value* x = In({Sym("n"), S(4), S(6)});
  std::vector<Value*> stats;
  for (int i = 0; i < 4; ++i)
    stats.push_back(Const(Tensor(DataType::kFloat32, {4})));
  ASSERT_THAT(
      Node("BatchNormalization", {x, stats[0], stats[1], stats[2], stats[3]}),
      IsOk());
  EXPECT_EQ(Out(), Shape({Sym("n"), S(4), S(6)}));

  Value* y = In({Sym("n"), S(4), S(6)});
  ASSERT_THAT(
      Node("LayerNormalization", {y, Const(Tensor(DataType::kFloat32, {4, 6}))},
           {{"axis", int64_t{1}}}, Layout::kNCHW, 3),
      IsOk());
  EXPECT_EQ(Out(1), Shape({Sym("n"), S(1), S(1)}));
  EXPECT_EQ(outs_[2]->dtype(), DataType::kFloat32);
}

TEST_F(NnSchemaTest, BatchNormWrongStatisticShape) {
  Value* x = In({S(1), S(4), S(6), S(6)});
  Value* s = Const(Tensor(DataType::kFloat32, {3}));
  Value* o = Const(Tensor(DataType::kFloat32, {4}));
  EXPECT_THAT(Node("BatchNormalization", {x, s, o, o, o}, {}, Layout::kNCHW),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("scale"), HasSubstr("[3]"),
                             HasSubstr("[C] = [4]"))));
}

TEST_F(NnSchemaTest, ReduceMeanAxesKnownAndUnknown) {
  Value* x = In({Sym("n"), S(4), S(6)});
  ASSERT_THAT(
      Node("ReduceMean", {x},
           {{"axes", std::vector<int64_t>{-1}}, {"keepdims", int64_t{0}}}),
      IsOk());
  EXPECT_EQ(Out(), Shape({Sym("n"), S(4)}));
  Value* axes = g_.AddValue("axes", DataType::kInt64, Shape({1}));
  g_.AddInput(axes);
  ASSERT_THAT(Node("ReduceMean", {x, axes}), IsOk());
  EXPECT_EQ(Out(), Shape({U(), U(), U()}));
}

TEST_F(NnSchemaTest, GemmAndMatMul) {
  Value* a = In({Sym("b"), S(5)});
  ASSERT_THAT(Node("Gemm", {a, Const(Tensor(DataType::kFloat32, {7, 5}))},
                   {{"transB", int64_t{1}}}),
              IsOk());
  EXPECT_EQ(Out(), Shape({Sym("b"), S(7)}));
  Value* m = In({Sym("b"), S(1), S(3), S(5)});
  ASSERT_THAT(Node("MatMul", {m, Const(Tensor(DataType::kFloat32, {6, 5, 2}))}),
              IsOk());
  EXPECT_EQ(Out(), Shape({Sym("b"), S(6), S(3), S(2)}));
  ASSERT_THAT(Node("MatMul", {m, Const(Tensor(DataType::kFloat32, {5}))}),
              IsOk());
  EXPECT_EQ(Out(), Shape({Sym("b"), S(1), S(3)}));
  EXPECT_THAT(
      Node("Gemm", {a, Const(Tensor(DataType::kFloat32, {4, 7}))}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("(Gemm)"), HasSubstr("K=5"), HasSubstr("K=4"))));
}

}  // namespace
}  // namespace qforge
