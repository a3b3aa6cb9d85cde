#include "qforge/ir/verifier.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/registry.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class VerifierTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_THAT(RegisterBuiltins(registry_), IsOk()); }
  Registry registry_;
};

TEST_F(VerifierTest, InfersBroadcastShapeAndDtype) {
  Graph g;
  g.set_opset("", 17);
  Value* a = g.AddValue("a", DataType::kFloat32, Shape({2, 1, 4}));
  Value* b = g.AddValue("b", DataType::kFloat32, Shape({3, 1}));
  Value* y = g.AddValue("y");
  g.AddInput(a);
  g.AddInput(b);
  ASSERT_TRUE(g.AddNode({.name = "add", .op_type = "Add", .inputs = {a, b}, .outputs = {y}}).ok());
  g.AddOutput(y);
  ASSERT_THAT(VerifyGraph(g, registry_.schemas()), IsOk());
  EXPECT_EQ(y->dtype(), DataType::kFloat32);
  EXPECT_EQ(y->shape(), Shape({2, 3, 4}));
}

TEST_F(VerifierTest, Float64MeetingFloat32NamesBothTensors) {
  Graph g;
  Value* a = g.AddValue("image", DataType::kFloat32, Shape({4}));
  Value* b = g.AddValue("offsets", DataType::kFloat64, Shape({4}));
  Value* y = g.AddValue("y");
  g.AddInput(a);
  g.AddInput(b);
  ASSERT_TRUE(g.AddNode({.name = "add0", .op_type = "Add", .inputs = {a, b}, .outputs = {y}}).ok());
  g.AddOutput(y);
  EXPECT_THAT(VerifyGraph(g, registry_.schemas()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("node 'add0' (Add)"), HasSubstr("'image' is float32"),
                             HasSubstr("'offsets' is float64"))));
}

TEST_F(VerifierTest, Int8MeetingFloatSuggestsDequantize) {
  Graph g;
  Value* a = g.AddValue("q", DataType::kInt8, Shape({4}));
  Value* b = g.AddValue("f", DataType::kFloat32, Shape({4}));
  Value* y = g.AddValue("y");
  g.AddInput(a);
  g.AddInput(b);
  ASSERT_TRUE(g.AddNode({.name = "mix", .op_type = "Add", .inputs = {a, b}, .outputs = {y}}).ok());
  g.AddOutput(y);
  EXPECT_THAT(VerifyGraph(g, registry_.schemas()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("DequantizeLinear")));
}

TEST_F(VerifierTest, ReportsEveryProblem) {
  Graph g;
  Value* x = g.AddValue("x", DataType::kFloat32, Shape({4}));
  Value* ghost = g.AddValue("ghost", DataType::kFloat32, Shape({4}));
  Value* y = g.AddValue("y");
  Value* z = g.AddValue("z");
  g.AddInput(x);
  ASSERT_TRUE(g.AddNode({.name = "a", .op_type = "Add", .inputs = {x, ghost}, .outputs = {y}}).ok());
  ASSERT_TRUE(g.AddNode({.name = "b", .op_type = "Relu", .inputs = {x, x}, .outputs = {z}}).ok());
  g.AddOutput(y);
  g.AddOutput(z);
  VerifyResult result;
  EXPECT_FALSE(VerifyGraph(g, registry_.schemas(), &result).ok());
  EXPECT_THAT(result.errors,
              ElementsAre(HasSubstr("'ghost' is dangling"),
                          HasSubstr("node 'b' (Relu): has 2 inputs, expected 1")));
}

TEST_F(VerifierTest, UnknownOpsAreKeptNotRejected) {
  Graph g;
  Value* x = g.AddValue("x", DataType::kFloat32, Shape({1, 8, 8, 16}));
  Value* y = g.AddValue("anchors", DataType::kFloat32, Shape({1, 576, 4}));
  g.AddInput(x);
  ASSERT_TRUE(g.AddNode({.name = "anchors_p3", .domain = "qforge.contrib",
                         .op_type = "AnchorBoxes", .inputs = {x}, .outputs = {y}}).ok());
  g.AddOutput(y);
  VerifyResult result;
  EXPECT_THAT(VerifyGraph(g, registry_.schemas(), &result), IsOk());
  EXPECT_THAT(result.unknown_ops,
              ElementsAre("anchors_p3 (qforge.contrib::AnchorBoxes)"));
  EXPECT_EQ(y->shape(), Shape({1, 576, 4}));
}

}  // namespace
}  // namespace qforge
