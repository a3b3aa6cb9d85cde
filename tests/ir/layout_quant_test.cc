// ConvertLayout on quantized graphs: QuantParams follow the values (per-axis
// axes move with their dims), the inserted Transposes carry the params, the
// stats name the values stored permuted, and LayoutOptions::int8_exact keeps
// quantized Softmax / ReduceMean where the int8 kernels would compute other
// bytes.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/ir/layout.h"
#include "qforge/registry.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;

const QuantParams kAct = QuantParams::PerTensor(0.05f, -3);

class LayoutQuantTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(RegisterBuiltins(registry_), IsOk());
    g_.set_opset("", 17);
  }

  Value* Int8(const std::string& name, std::vector<int64_t> dims) {
    Value* v = g_.AddValue(name, DataType::kInt8, Shape(dims));
    v->set_quant(kAct);
    return v;
  }
  Value* Input(const std::string& name, std::vector<int64_t> dims) {
    Value* v = Int8(name, std::move(dims));
    g_.AddInput(v);
    return v;
  }
  Node* Op(const std::string& op, std::vector<Value*> inputs, Value* out,
           std::map<std::string, Attribute> attrs = {}) {
    absl::StatusOr<Node*> n = g_.AddNode({.name = op + "_" + out->name(),
                                          .op_type = op,
                                          .inputs = std::move(inputs),
                                          .outputs = {out},
                                          .attributes = std::move(attrs)});
    EXPECT_THAT(n, IsOk());
    return n.ok() ? *n : nullptr;
  }
  // int8 Conv 3x3 pad 1 of x [1, c, 6, 5] to `o` channels, per-axis weights.
  Value* Conv(Value* x, int64_t c, int64_t o, const std::string& out) {
    Tensor w(DataType::kInt8, {o, c, 3, 3});
    Value* wv = g_.AddConstant(out + "_w", std::move(w));
    wv->set_quant(QuantParams::PerAxis(std::vector<float>(o, 0.01f),
                                       std::vector<int64_t>(o, 0), 0));
    Value* y = Int8(out, {1, o, 6, 5});
    Op("Conv", {x, wv}, y,
       {{"pads", std::vector<int64_t>{1, 1, 1, 1}},
        {"kernel_shape", std::vector<int64_t>{3, 3}}});
    return y;
  }
  absl::Status Convert(LayoutStats* stats, bool exact) {
    return ConvertLayout(g_, Layout::kNHWC, registry_.schemas(), stats,
                         {.int8_exact = exact});
  }
  Node* Producer(const std::string& value) {
    const Value* v = g_.FindValue(value);
    return v == nullptr ? nullptr : v->producer();
  }
  // The producer, looking through a Transpose the pass put after it.
  Node* Computing(const std::string& value) {
    Node* n = Producer(value);
    if (n != nullptr && n->op_type() == "Transpose") {
      n = n->input(0)->producer();
    }
    return n;
  }

  Registry registry_;
  Graph g_;
};

TEST_F(LayoutQuantTest, ParamsFollowAndPerChannelConstantAxisMoves) {
  Value* x = Input("x", {1, 4, 6, 5});
  Value* c = Conv(x, 4, 3, "c");
  // A per-channel int8 operand [3, 1, 1] quantized along axis 0 (C).
  Tensor k(DataType::kInt8, {3, 1, 1});
  k.set_quant(QuantParams::PerAxis({0.1f, 0.2f, 0.3f}, {0, 1, 2}, 0));
  k.data<int8_t>()[0] = 10;
  k.data<int8_t>()[1] = 20;
  k.data<int8_t>()[2] = 30;
  Value* kv = g_.AddConstant("k", k);
  kv->set_quant(k.quant());
  Value* y = Int8("y", {1, 3, 6, 5});
  Op("Add", {c, kv}, y);
  g_.AddOutput(y);

  LayoutStats stats;
  ASSERT_THAT(Convert(&stats, /*exact=*/true), IsOk());
  // The constant was aligned to [1, 3, 1, 1] and permuted to [1, 1, 1, 3]:
  // its channel axis is now 3, its values in channel order.
  const Node* add = Computing("y");
  ASSERT_NE(add, nullptr);
  ASSERT_EQ(add->op_type(), "Add");
  const Value* kc = add->input(1);
  ASSERT_TRUE(kc->is_constant());
  EXPECT_EQ(kc->constant()->dims(), (std::vector<int64_t>{1, 1, 1, 3}));
  ASSERT_TRUE(kc->quant().has_value());
  EXPECT_EQ(kc->quant()->axis, 3);
  EXPECT_EQ(kc->quant()->scale, (std::vector<float>{0.1f, 0.2f, 0.3f}));
  ASSERT_TRUE(kc->constant()->quant().has_value());
  EXPECT_EQ(kc->constant()->quant()->axis, 3);
  EXPECT_EQ(kc->constant()->data<int8_t>()[2], 30);
  // Conv weights are not rewritten (OIHW, axis 0).
  const Node* conv = Producer(add->input(0)->name());
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(conv->layout(), Layout::kNHWC);
  EXPECT_EQ(conv->input(1)->quant()->axis, 0);
  // Every activation still carries the per-tensor params, including the
  // values the inserted Transposes produce.
  int transposes = 0;
  for (const Node* n : g_.nodes()) {
    if (n->op_type() != "Transpose") continue;
    ++transposes;
    EXPECT_EQ(n->output(0)->quant(), kAct) << n->Describe();
    EXPECT_EQ(n->output(0)->dtype(), DataType::kInt8);
  }
  EXPECT_EQ(transposes, 2);  // After x and before y.
  // The output keeps its name, shape and params.
  EXPECT_EQ(g_.outputs()[0]->name(), "y");
  EXPECT_EQ(g_.outputs()[0]->shape().ToString(),
            Shape({1, 3, 6, 5}).ToString());
  EXPECT_EQ(g_.outputs()[0]->quant(), kAct);
  // The stats name the values stored NHWC under their original names.
  EXPECT_EQ(stats.permuted_values.at("c"), (std::vector<int64_t>{0, 2, 3, 1}));
  EXPECT_EQ(stats.permuted_values.count("y"), 0);
  EXPECT_EQ(stats.permuted_values.count("x"), 0);
}

TEST_F(LayoutQuantTest, ExactModeKeepsSoftmaxOffTheLastAxis) {
  for (const bool exact : {false, true}) {
    SCOPED_TRACE(exact ? "int8_exact" : "default");
    g_ = Graph();
    g_.set_opset("", 17);
    Value* x = Input("x", {1, 4, 6, 5});
    Value* c = Conv(x, 4, 3, "c");
    Value* over_w = Int8("over_w", {1, 3, 6, 5});
    Value* over_c = Int8("over_c", {1, 3, 6, 5});
    Op("Softmax", {c}, over_w, {{"axis", int64_t{-1}}});
    Op("Softmax", {c}, over_c, {{"axis", int64_t{1}}});
    g_.AddOutput(over_w);
    g_.AddOutput(over_c);
    ASSERT_THAT(Convert(nullptr, exact), IsOk());
    const Node* w = Producer("over_w");
    const Node* ch = Computing("over_c");
    ASSERT_NE(w, nullptr);
    ASSERT_NE(ch, nullptr);
    // Over C: follows, C is the last NHWC axis.
    ASSERT_EQ(ch->op_type(), "Softmax");
    EXPECT_EQ(ch->GetInt("axis", 0).value(), 3);
    // Over W: the default pass follows with axis 2; the exact mode gives it
    // its NCHW input back (axis -1 unchanged, no Transpose after it).
    if (exact) {
      EXPECT_EQ(w->op_type(), "Softmax");
      EXPECT_EQ(w->GetInt("axis", 0).value(), -1);
      EXPECT_EQ(w->input(0)->producer()->op_type(), "Transpose");
    } else {
      ASSERT_EQ(w->op_type(), "Transpose");
      EXPECT_EQ(Producer(w->input(0)->name())->GetInt("axis", 0).value(), 2);
    }
  }
}

TEST_F(LayoutQuantTest, ExactModeMakesTheSpatialMeanNhwcOnly) {
  Value* x = Input("x", {1, 4, 6, 5});
  // Spatial mean straight on the (unpermuted) graph input, keepdims 0.
  Value* mean = Int8("mean", {1, 4});
  Op("ReduceMean", {x}, mean,
     {{"axes", std::vector<int64_t>{-1, 2}}, {"keepdims", int64_t{0}}});
  // A mean over C after a Conv: not the spatial mean, stays NCHW.
  Value* c = Conv(x, 4, 3, "c");
  Value* over_c = Int8("over_c", {1, 1, 6, 5});
  Op("ReduceMean", {c}, over_c, {{"axes", std::vector<int64_t>{1}}});
  g_.AddOutput(mean);
  g_.AddOutput(over_c);
  LayoutStats stats;
  ASSERT_THAT(Convert(&stats, /*exact=*/true), IsOk());
  const Node* m = Producer("mean");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->op_type(), "ReduceMean");
  EXPECT_EQ(m->layout(), Layout::kNHWC);
  std::vector<int64_t> axes = m->GetInts("axes", {}).value();
  std::sort(axes.begin(), axes.end());
  EXPECT_EQ(axes, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(m->input(0)->producer()->op_type(), "Transpose");
  EXPECT_EQ(m->input(0)->shape().ToString(), Shape({1, 6, 5, 4}).ToString());
  const Node* r = Producer("over_c");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->op_type(), "ReduceMean");
  EXPECT_EQ(r->layout(), Layout::kNCHW);
  EXPECT_EQ(r->GetInts("axes", {}).value(), (std::vector<int64_t>{1}));
  EXPECT_EQ(r->input(0)->shape().ToString(), Shape({1, 3, 6, 5}).ToString());
}

}  // namespace
}  // namespace qforge
