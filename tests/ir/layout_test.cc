// Tests of ConvertLayout: graphs give the same results (within float
// rounding) before and after conversion, spatial nodes switch layout, the
// user-visible inputs and outputs keep their names and shapes, and
// Transposes appear only where expected.
#include "qforge/ir/layout.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/io/npy.h"
#include "qforge/io/onnx.h"
#include "qforge/ir/verifier.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;

Tensor Random(std::vector<int64_t> dims, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  Tensor t(DataType::kFloat32, std::move(dims));
  for (float& v : t.values<float>()) v = dist(rng);
  return t;
}

// A naive float Transpose, registered only when the built-in op set does
// not provide one yet.
absl::Status NaiveTranspose(KernelContext& ctx) {
  const Tensor& x = *ctx.input(0);
  QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> perm,
                          ctx.node().GetInts("perm", {}));
  const int r = x.rank();
  std::vector<int64_t> out_dims(r);
  for (int i = 0; i < r; ++i) out_dims[i] = x.dim(perm[i]);
  Tensor& y = *ctx.output(0);
  y.Reset(x.dtype(), out_dims);
  std::vector<int64_t> strides(r, 1);
  for (int i = r - 2; i >= 0; --i) strides[i] = strides[i + 1] * x.dim(i + 1);
  std::vector<int64_t> idx(r, 0);
  for (int64_t i = 0; i < y.num_elements(); ++i) {
    int64_t off = 0;
    for (int d = 0; d < r; ++d) off += idx[d] * strides[perm[d]];
    y.data<float>()[i] = x.data<float>()[off];
    for (int d = r - 1; d >= 0; --d) {
      if (++idx[d] < out_dims[d]) break;
      idx[d] = 0;
    }
  }
  return absl::OkStatus();
}

class LayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(RegisterBuiltins(registry_), IsOk());
    if (!registry_.kernels().Has({"", "Transpose"})) {
      ASSERT_THAT(
          registry_.kernels().Register({{"", "Transpose"},
                                        DataType::kFloat32,
                                        StatelessKernel(NaiveTranspose)}),
          IsOk());
    }
    g_.set_opset("", 17);
  }

  bool Has(const char* op) const { return registry_.kernels().Has({"", op}); }

  Value* Input(const std::string& name, std::vector<int64_t> dims) {
    Value* v = g_.AddValue(name, DataType::kFloat32, Shape(dims));
    g_.AddInput(v);
    feed_[name] = Random(dims, static_cast<uint32_t>(feed_.size() + 100));
    return v;
  }
  Value* Const(const std::string& name, Tensor t) {
    return g_.AddConstant(name, std::move(t));
  }
  Value* Op(const std::string& op, std::vector<Value*> inputs,
            std::map<std::string, Attribute> attrs = {},
            Layout layout = Layout::kNCHW) {
    Value* out = g_.AddValue(op + "_out");
    absl::StatusOr<Node*> n = g_.AddNode({.name = op,
                                          .op_type = op,
                                          .inputs = inputs,
                                          .outputs = {out},
                                          .attributes = attrs});
    EXPECT_THAT(n, IsOk());
    if (n.ok()) (*n)->set_layout(layout);
    return out;
  }
  Value* ConvOp(Value* x, int64_t c_in, int64_t c_out,
                std::map<std::string, Attribute> attrs = {},
                Layout layout = Layout::kNCHW) {
    static uint32_t seed = 1;
    Value* w = Const("w", Random({c_out, c_in, 3, 3}, seed++));
    Value* b = Const("b", Random({c_out}, seed++));
    if (!attrs.count("pads")) attrs["pads"] = std::vector<int64_t>{1, 1, 1, 1};
    return Op("Conv", {x, w, b}, attrs, layout);
  }

  TensorMap RunGraph() {
    EXPECT_THAT(VerifyGraph(g_, registry_.schemas()), IsOk());
    absl::StatusOr<std::unique_ptr<Executor>> exec =
        Executor::Prepare(g_, registry_);
    EXPECT_THAT(exec, IsOk());
    if (!exec.ok()) return {};
    absl::StatusOr<TensorMap> out = (*exec)->Run(feed_);
    EXPECT_THAT(out, IsOk());
    return out.ok() ? *out : TensorMap();
  }

  int CountOp(const std::string& op) const {
    int n = 0;
    for (const Node* node : g_.nodes()) n += node->op_type() == op;
    return n;
  }

  struct Boundary {
    std::vector<std::string> names;
    std::vector<Shape> shapes;
    bool operator==(const Boundary&) const = default;
  };
  Boundary Inputs() const {
    Boundary b;
    for (const Value* v : g_.inputs()) {
      b.names.push_back(v->name());
      b.shapes.push_back(v->shape());
    }
    return b;
  }
  Boundary Outputs() const {
    Boundary b;
    for (const Value* v : g_.outputs()) {
      b.names.push_back(v->name());
      b.shapes.push_back(v->shape());
    }
    return b;
  }

  // Runs, converts to `target`, checks boundaries and results, returns the
  // number of Transposes in the converted graph.
  int ConvertAndCompare(Layout target, LayoutStats* stats = nullptr) {
    EXPECT_THAT(VerifyGraph(g_, registry_.schemas()), IsOk());
    const Boundary in = Inputs(), out = Outputs();
    TensorMap before = RunGraph();
    EXPECT_THAT(ConvertLayout(g_, target, registry_.schemas(), stats), IsOk());
    EXPECT_EQ(Inputs(), in);
    EXPECT_EQ(Outputs(), out);
    TensorMap after = RunGraph();
    EXPECT_EQ(before.size(), after.size());
    for (const auto& [name, t] : before) {
      EXPECT_TRUE(after.count(name)) << name;
      if (!after.count(name)) continue;
      const Tensor& u = after.at(name);
      EXPECT_EQ(u.dims(), t.dims()) << name;
      if (u.dims() != t.dims()) continue;
      int bad = 0;
      for (int64_t i = 0; i < t.num_elements(); ++i) {
        const double a = t.GetAsDouble(i), b = u.GetAsDouble(i);
        if (std::fabs(a - b) > 1e-5 * std::fabs(a) + 1e-6) ++bad;
      }
      EXPECT_EQ(bad, 0) << name;
    }
    for (const Node* n : g_.nodes()) {
      static const std::set<std::string> kSpatial = {
          "Conv",   "MaxPool",           "AveragePool", "GlobalAveragePool",
          "Resize", "BatchNormalization"};
      if (kSpatial.count(n->op_type()))
        EXPECT_EQ(n->layout(), target) << n->Describe();
    }
    return CountOp("Transpose");
  }

  Registry registry_;
  Graph g_;
  TensorMap feed_;
};

TEST_F(LayoutTest, ConvChainGetsTransposesOnlyAtBoundaries) {
  Value* x = Input("x", {2, 3, 10, 9});
  Value* c1 = ConvOp(x, 3, 4);
  Value* r = Op("Relu", {c1});
  Value* c2 = ConvOp(r, 4, 6, {{"strides", std::vector<int64_t>{2, 2}}});
  Value* p =
      Op("MaxPool", {c2}, {{"kernel_shape", std::vector<int64_t>{2, 2}}});
  Value* a = Op("AveragePool", {p},
                {{"kernel_shape", std::vector<int64_t>{2, 2}},
                 {"pads", std::vector<int64_t>{1, 1, 0, 0}}});
  g_.AddOutput(a);
  LayoutStats stats;
  EXPECT_EQ(ConvertAndCompare(Layout::kNHWC, &stats), 2);
  EXPECT_EQ(stats.nodes_converted, 4);
  EXPECT_EQ(stats.transposes_inserted, 2);
  // Conv weights are not rewritten.
  EXPECT_EQ(stats.constants_permuted, 0);
  // And back: every Transpose cancels.
  EXPECT_EQ(ConvertAndCompare(Layout::kNCHW, &stats), 0);
  EXPECT_EQ(stats.nodes_converted, 4);
}

TEST_F(LayoutTest, ResidualAddWithPerChannelConstant) {
  Value* x = Input("x", {1, 4, 6, 6});
  Value* a = ConvOp(x, 4, 4);
  Value* b = ConvOp(Op("Relu", {a}), 4, 4);
  Value* sum = Op("Add", {a, b});
  // A per-channel constant [C, 1, 1] broadcasting against [N, C, H, W].
  Value* scale = Const("scale", Random({4, 1, 1}, 7));
  Value* m = Op("Mul", {sum, scale});
  Value* bn = Op("BatchNormalization",
                 {m, Const("s", Random({4}, 1)), Const("bb", Random({4}, 2)),
                  Const("mean", Random({4}, 3)),
                  Const("var", Tensor::FromVector<float>({4}, {1, 2, 3, 4}))});
  Value* gap = Op("GlobalAveragePool", {bn});
  g_.AddOutput(gap);
  g_.AddOutput(a);  // An intermediate that is also a graph output.
  LayoutStats stats;
  // In: 1; out: one per graph output.
  EXPECT_EQ(ConvertAndCompare(Layout::kNHWC, &stats), 3);
  EXPECT_EQ(stats.constants_permuted, 1);
  const Value* permuted = nullptr;
  for (const Node* n : g_.nodes()) {
    if (n->op_type() == "Mul") permuted = n->input(1);
  }
  ASSERT_NE(permuted, nullptr);
  ASSERT_TRUE(permuted->is_constant());
  EXPECT_EQ(permuted->constant()->dims(), (std::vector<int64_t>{1, 1, 1, 4}));
}

TEST_F(LayoutTest, SoftmaxOverChannelsFollowsWithNewAxis) {
  g_.set_opset("", 13);
  Value* x = Input("x", {2, 5, 4, 3});
  Value* c = ConvOp(x, 5, 6);
  Value* s = Op("Softmax", {c}, {{"axis", int64_t{1}}});
  g_.AddOutput(s);
  EXPECT_EQ(ConvertAndCompare(Layout::kNHWC), 2);
  for (const Node* n : g_.nodes()) {
    if (n->op_type() == "Softmax") EXPECT_EQ(*n->GetInt("axis", 0), 3);
  }
}

TEST_F(LayoutTest, ReduceMeanWithoutKeepdimsEndsTheLayout) {
  Value* x = Input("x", {2, 3, 6, 5});
  Value* c = ConvOp(x, 3, 4);
  Value* m =
      Op("ReduceMean", {c},
         {{"axes", std::vector<int64_t>{2, 3}}, {"keepdims", int64_t{0}}});
  Value* y = Op(
      "Gemm", {m, Const("gw", Random({4, 7}, 5)), Const("gb", Random({7}, 6))});
  g_.AddOutput(y);
  // [N, H, W, C] reduced over H, W is [N, C]: nothing to undo.
  EXPECT_EQ(ConvertAndCompare(Layout::kNHWC), 1);
}

TEST_F(LayoutTest, KeepdimsReduceAndResizeFollow) {
  Value* x = Input("x", {1, 3, 5, 4});
  Value* c = ConvOp(x, 3, 4);
  Value* r =
      Op("Resize",
         {c, nullptr,
          Const("scales", Tensor::FromVector<float>({4}, {1, 1, 2, 1.5}))},
         {{"mode", std::string("linear")}});
  Value* m = Op("ReduceMean", {r}, {{"axes", std::vector<int64_t>{1}}});
  g_.AddOutput(m);
  g_.AddOutput(r);
  EXPECT_EQ(ConvertAndCompare(Layout::kNHWC), 3);
}

TEST_F(LayoutTest, MatMulGetsItsInputBack) {
  Value* x = Input("x", {1, 3, 4, 8});
  Value* c = ConvOp(x, 3, 2);
  Value* y = Op("MatMul", {c, Const("m", Random({8, 5}, 3))});
  g_.AddOutput(y);
  EXPECT_EQ(ConvertAndCompare(Layout::kNHWC), 2);
}

TEST_F(LayoutTest, ExistingTransposesCompose) {
  Value* x = Input("x", {1, 3, 6, 6});
  // A cancelling pair before the conv, and a user Transpose to NHWC after.
  Value* t1 =
      Op("Transpose", {x}, {{"perm", std::vector<int64_t>{0, 2, 3, 1}}});
  Value* t2 =
      Op("Transpose", {t1}, {{"perm", std::vector<int64_t>{0, 3, 1, 2}}});
  Value* c = ConvOp(t2, 3, 4);
  Value* t3 =
      Op("Transpose", {c}, {{"perm", std::vector<int64_t>{0, 2, 3, 1}}});
  g_.AddOutput(t3);
  if (!registry_.schemas().Find({"", "Transpose"})) {
    GTEST_SKIP() << "needs the Transpose schema (op set from ops-a)";
  }
  // Only the Transpose feeding the conv remains; the conv's NHWC output is
  // exactly what the user's Transpose produced.
  EXPECT_EQ(ConvertAndCompare(Layout::kNHWC), 1);
}

TEST_F(LayoutTest, NativeNhwcGraphConvertsToNchw) {
  Value* x = Input("x", {1, 7, 8, 3});
  Value* c = ConvOp(x, 3, 5, {}, Layout::kNHWC);
  Value* r = Op("Relu", {c});
  Value* p = Op("MaxPool", {r},
                {{"kernel_shape", std::vector<int64_t>{3, 3}},
                 {"strides", std::vector<int64_t>{2, 2}}},
                Layout::kNHWC);
  g_.AddOutput(p);
  EXPECT_EQ(ConvertAndCompare(Layout::kNCHW), 2);
}

TEST_F(LayoutTest, ConvPoolConcatReshapeGemm) {
  if (!Has("Concat") || !Has("Reshape")) {
    GTEST_SKIP() << "needs Concat and Reshape kernels (op set from ops-a)";
  }
  Value* x = Input("x", {2, 3, 8, 8});
  Value* a = Op("Relu", {ConvOp(x, 3, 4)});
  Value* pa = Op("MaxPool", {a},
                 {{"kernel_shape", std::vector<int64_t>{2, 2}},
                  {"strides", std::vector<int64_t>{2, 2}}});
  Value* b = ConvOp(x, 3, 2,
                    {{"strides", std::vector<int64_t>{2, 2}},
                     {"pads", std::vector<int64_t>{1, 1, 0, 0}}});
  Value* cat = Op("Concat", {pa, b}, {{"axis", int64_t{1}}});
  Value* flat =
      Op("Reshape",
         {cat, Const("shape", Tensor::FromVector<int64_t>({2}, {2, -1}))});
  Value* y = Op("Gemm", {flat, Const("gw", Random({96, 10}, 9))});
  g_.AddOutput(y);
  // One after the input (shared by both convs), one before the Reshape.
  EXPECT_EQ(ConvertAndCompare(Layout::kNHWC), 2);
  for (const Node* n : g_.nodes()) {
    if (n->op_type() == "Concat") EXPECT_EQ(*n->GetInt("axis", 0), 3);
  }
}

TEST_F(LayoutTest, AxisOpsFollow) {
  if (!Has("Slice") || !Has("Pad") || !Has("Squeeze") || !Has("Unsqueeze") ||
      !Has("Split")) {
    GTEST_SKIP() << "needs the tensor op set from ops-a";
  }
  g_.set_opset("", 13);
  Value* x = Input("x", {1, 4, 6, 6});
  Value* c = ConvOp(x, 4, 4);
  Value* padded =
      Op("Pad", {c, Const("pads", Tensor::FromVector<int64_t>(
                                      {8}, {0, 0, 1, 2, 0, 1, 0, 1}))});
  Value* sliced =
      Op("Slice",
         {padded, Const("starts", Tensor::FromVector<int64_t>({2}, {1, 2})),
          Const("ends", Tensor::FromVector<int64_t>({2}, {3, 7})),
          Const("axes", Tensor::FromVector<int64_t>({2}, {1, 3}))});
  Value* gap = Op("GlobalAveragePool", {sliced});
  Value* sq =
      Op("Squeeze",
         {gap, Const("sq_axes", Tensor::FromVector<int64_t>({2}, {2, 3}))});
  Value* us = Op("Unsqueeze",
                 {sq, Const("us_axes", Tensor::FromVector<int64_t>({1}, {2}))});
  g_.AddOutput(us);
  Value* m = Op("ReduceMean", {padded},
                {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}});
  g_.AddOutput(m);
  // Pad and Slice follow; Squeeze of the pooled [N, 1, 1, C] and the
  // keepdims=0 ReduceMean leave values in their original layout: only the
  // input needs a Transpose.
  EXPECT_EQ(ConvertAndCompare(Layout::kNHWC), 1);
}

// The example model (conv, depthwise conv, BN, residual Add, MaxPool,
// Mul by a Constant, Sigmoid, Concat, ReduceMean, Gemm) converted to NHWC
// computes the same logits, with a single Transpose after the input.
TEST(LayoutModelTest, DigitsModelInNhwc) {
  const char* src = std::getenv("QFORGE_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  const std::string dir = std::string(src) + "/examples/digits/";
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph g,
                              LoadOnnx(dir + "digits_cnn.onnx", registry));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor images,
                              ReadNpy(dir + "digits_test_images.npy"));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor logits,
                              ReadNpy(dir + "digits_test_logits.npy"));
  // The first 32 images.
  const int64_t n = 32;
  Tensor batch(DataType::kFloat32, {n, 1, 8, 8});
  std::copy(images.data<float>(), images.data<float>() + n * 64,
            batch.data<float>());
  TensorMap feed;
  feed[g.inputs()[0]->name()] = batch;
  const std::string out_name = g.outputs()[0]->name();

  QFORGE_ASSERT_OK_AND_ASSIGN(auto exec, Executor::Prepare(g, registry));
  QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap before, exec->Run(feed));
  exec.reset();
  LayoutStats stats;
  ASSERT_THAT(ConvertLayout(g, Layout::kNHWC, registry.schemas(), &stats),
              IsOk());
  ASSERT_THAT(VerifyGraph(g, registry.schemas()), IsOk());
  EXPECT_EQ(stats.transposes_inserted, 1);
  EXPECT_EQ(stats.nodes_converted, 8);
  QFORGE_ASSERT_OK_AND_ASSIGN(exec, Executor::Prepare(g, registry));
  QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap after, exec->Run(feed));
  const Tensor& a = before.at(out_name);
  const Tensor& b = after.at(out_name);
  ASSERT_EQ(a.dims(), (std::vector<int64_t>{n, 10}));
  ASSERT_EQ(b.dims(), a.dims());
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    EXPECT_NEAR(b.data<float>()[i], a.data<float>()[i],
                1e-4 + 1e-5 * std::fabs(a.data<float>()[i]));
    // And both match the logits recorded when the model was trained.
    EXPECT_NEAR(a.data<float>()[i], logits.data<float>()[i], 1e-3);
  }
}

}  // namespace
}  // namespace qforge
