#include "qforge/ir/graph.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// x -> Relu(r1) -> a -> Relu(r2) -> y
struct Chain {
  Graph g;
  Value* x;
  Value* a;
  Value* y;
  Node* r1;
  Node* r2;
};

Chain MakeChain() {
  Chain c;
  c.x = c.g.AddValue("x", DataType::kFloat32, Shape({1, 4}));
  c.a = c.g.AddValue("a");
  c.y = c.g.AddValue("y");
  c.g.AddInput(c.x);
  c.r2 = *c.g.AddNode({.name = "r2", .op_type = "Relu", .inputs = {c.a}, .outputs = {c.y}});
  c.r1 = *c.g.AddNode({.name = "r1", .op_type = "Relu", .inputs = {c.x}, .outputs = {c.a}});
  c.g.AddOutput(c.y);
  return c;
}

std::vector<std::string> Names(const std::vector<Node*>& nodes) {
  std::vector<std::string> out;
  for (const Node* n : nodes) out.push_back(n->name());
  return out;
}

TEST(Graph, ProducersAndConsumers) {
  Chain c = MakeChain();
  EXPECT_EQ(c.a->producer(), c.r1);
  EXPECT_THAT(c.a->consumers(), ElementsAre(c.r2));
  EXPECT_EQ(c.x->producer(), nullptr);
  EXPECT_TRUE(c.x->is_graph_input());
  EXPECT_TRUE(c.y->is_graph_output());
}

TEST(Graph, TopologicalSortOrdersProducersFirst) {
  Chain c = MakeChain();
  EXPECT_THAT(Names(c.g.nodes()), ElementsAre("r2", "r1"));
  ASSERT_TRUE(c.g.TopologicalSort().ok());
  EXPECT_THAT(Names(c.g.nodes()), ElementsAre("r1", "r2"));
}

TEST(Graph, CycleIsReportedWithNodeNames) {
  Graph g;
  Value* a = g.AddValue("a");
  Value* b = g.AddValue("b");
  ASSERT_TRUE(g.AddNode({.name = "n1", .op_type = "Relu", .inputs = {b}, .outputs = {a}}).ok());
  ASSERT_TRUE(g.AddNode({.name = "n2", .op_type = "Relu", .inputs = {a}, .outputs = {b}}).ok());
  EXPECT_THAT(g.TopologicalSort(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("cycle"), HasSubstr("n1"), HasSubstr("n2"))));
}

TEST(Graph, SecondProducerIsRejected) {
  Chain c = MakeChain();
  EXPECT_THAT(c.g.AddNode({.name = "dup", .op_type = "Relu", .inputs = {c.x}, .outputs = {c.a}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("r1")));
}

TEST(Graph, UniqueNamesAreGenerated) {
  Chain c = MakeChain();
  Value* v = c.g.AddValue("a");
  EXPECT_EQ(v->name(), "a_1");
  Node* n = *c.g.AddNode({.name = "r1", .op_type = "Relu", .inputs = {c.x}, .outputs = {v}});
  EXPECT_EQ(n->name(), "r1_1");
}

TEST(Graph, InsertAfterRewiresConsumersAndOutputs) {
  Chain c = MakeChain();
  Value* t = c.g.AddValue("t");
  Node* id = *c.g.InsertAfter(c.a, {.name = "id", .op_type = "Identity",
                                     .inputs = {c.a}, .outputs = {t}});
  EXPECT_EQ(c.r2->input(0), t);
  EXPECT_THAT(c.a->consumers(), ElementsAre(id));
  Value* u = c.g.AddValue("u");
  ASSERT_TRUE(c.g.InsertAfter(c.y, {.op_type = "Identity", .inputs = {c.y}, .outputs = {u}}).ok());
  EXPECT_THAT(c.g.outputs(), ElementsAre(u));
  EXPECT_FALSE(c.y->is_graph_output());
}

TEST(Graph, RemoveDeadNodesKeepsWhatOutputsNeed) {
  Chain c = MakeChain();
  Value* dead = c.g.AddValue("dead");
  ASSERT_TRUE(c.g.AddNode({.name = "unused", .op_type = "Relu", .inputs = {c.x}, .outputs = {dead}}).ok());
  EXPECT_EQ(c.g.RemoveDeadNodes(), 1);
  EXPECT_EQ(c.g.FindNode("unused"), nullptr);
  EXPECT_EQ(c.g.FindValue("dead"), nullptr);
  EXPECT_THAT(c.x->consumers(), ElementsAre(c.r1));
}

TEST(Graph, CloneIsDeep) {
  Chain c = MakeChain();
  c.r1->SetAttribute("alpha", 0.5f);
  c.g.AddConstant("w", Tensor::FromVector<float>({2}, {1, 2}));
  Graph copy = c.g.Clone();
  Node* r1 = copy.FindNode("r1");
  ASSERT_NE(r1, nullptr);
  EXPECT_NE(r1, c.r1);
  EXPECT_EQ(r1->input(0), copy.FindValue("x"));
  EXPECT_EQ(copy.FindValue("a")->producer(), r1);
  EXPECT_EQ(*r1->GetFloat("alpha", 0), 0.5f);
  EXPECT_EQ(copy.FindValue("w")->constant()->data<float>()[1], 2.0f);
  EXPECT_EQ(copy.outputs().size(), 1u);
}

TEST(Node, AttributeAccessorsCheckKinds) {
  Chain c = MakeChain();
  c.r1->SetAttribute("axis", int64_t{2});
  c.r1->SetAttribute("mode", std::string("linear"));
  EXPECT_EQ(*c.r1->GetInt("axis", 0), 2);
  EXPECT_EQ(*c.r1->GetInt("missing", 9), 9);
  EXPECT_EQ(*c.r1->GetFloat("axis", 0), 2.0f);
  EXPECT_THAT(c.r1->GetInt("mode", 0),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("node 'r1' (Relu): attribute 'mode' is string, expected int")));
  EXPECT_THAT(c.r1->RequireInts("pads"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'pads' is missing")));
}

}  // namespace
}  // namespace qforge
