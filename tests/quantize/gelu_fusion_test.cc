// The Gelu op (schema and float kernel, ONNX opset 20) and the pass that
// fuses GELU written out with Erf into it (lib/quantize/passes.cc), on the
// three forms, operands in either order, and cases that must not fuse.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/ir/verifier.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "qforge/testing/status_matchers.h"
#include "quantize/passes.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr float kSqrt2 = 1.41421356f;
constexpr float kInvSqrt2 = 0.70710678f;

enum class Form {
  kTorch,      // ((x * (1 + erf(x / sqrt2))) * 0.5
  kTf2onnx,    // (0.5 * x) * (1 + erf(x * (1/sqrt2)))
  kHalfOnSum,  // x * ((1 + erf(x / sqrt2)) * 0.5)
};

struct Options {
  Form form = Form::kTorch;
  bool swap = false;  // Every commutative Mul/Add with its operands swapped.
  float divisor = kSqrt2;
  bool erf_is_graph_output = false;
  bool other_operand = false;  // The last Mul reads another value, not x.
};

class GraphBuilder {
 public:
  explicit GraphBuilder(const Options& o) : o_(o) {
    g_.set_opset("", 17);
    x_ = g_.AddValue("x", DataType::kFloat32, Shape({2, 5}));
    g_.AddInput(x_);
    z_ = g_.AddValue("z", DataType::kFloat32, Shape({2, 5}));
    g_.AddInput(z_);
  }

  Value* Scalar(const std::string& name, float v) {
    return g_.AddConstant(name, Tensor::FromVector<float>({}, {v}));
  }

  Value* Bin(const std::string& op, const std::string& name, Value* a, Value* b,
             bool commutative = true) {
    Value* out = g_.AddValue(name + "_out");
    if (commutative && o_.swap) std::swap(a, b);
    EXPECT_TRUE(
        g_.AddNode(
              {.name = name, .op_type = op, .inputs = {a, b}, .outputs = {out}})
            .ok());
    return out;
  }

  Graph Build() {
    Value* scaled;
    if (o_.form == Form::kTf2onnx) {
      scaled = Bin("Mul", "scale", x_, Scalar("inv_sqrt2", kInvSqrt2));
    } else {
      scaled = Bin("Div", "div", x_, Scalar("sqrt2", o_.divisor), false);
    }
    Value* e = g_.AddValue("erf_out");
    EXPECT_TRUE(g_.AddNode({.name = "erf",
                            .op_type = "Erf",
                            .inputs = {scaled},
                            .outputs = {e}})
                    .ok());
    Value* sum = Bin("Add", "add", e, Scalar("one", 1.0f));
    Value* x_last = o_.other_operand ? z_ : x_;
    Value* y;
    switch (o_.form) {
      case Form::kTorch:
        y = Bin("Mul", "mul_half", Bin("Mul", "mul_x", x_last, sum),
                Scalar("half", 0.5f));
        break;
      case Form::kTf2onnx:
        y = Bin("Mul", "mul_sum",
                Bin("Mul", "half_x", Scalar("half", 0.5f), x_last), sum);
        break;
      case Form::kHalfOnSum:
        y = Bin("Mul", "mul_x", x_last,
                Bin("Mul", "half_sum", sum, Scalar("half", 0.5f)));
        break;
    }
    EXPECT_TRUE(g_.RenameValue(y, "y").ok());
    g_.AddOutput(y);
    if (o_.erf_is_graph_output) g_.AddOutput(e);
    return std::move(g_);
  }

 private:
  Options o_;
  Graph g_;
  Value* x_;
  Value* z_;
};

class GeluFusionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_THAT(RegisterBuiltins(registry_), IsOk()); }

  // Output "y" of `g` on a fixed x in [-4, 4] (and z).
  std::vector<float> Run(const Graph& g) {
    std::vector<float> xs;
    for (int i = 0; i < 10; ++i) xs.push_back(-4.0f + 0.8f * i + 0.1f);
    TensorMap in;
    in["x"] = Tensor::FromVector<float>({2, 5}, xs);
    in["z"] = Tensor::FromVector<float>({2, 5}, std::vector<float>(10, 1.0f));
    absl::StatusOr<std::unique_ptr<Executor>> exec =
        Executor::Prepare(g, registry_);
    EXPECT_THAT(exec.status(), IsOk());
    if (!exec.ok()) return {};
    absl::StatusOr<TensorMap> out = (*exec)->Run(in);
    EXPECT_THAT(out.status(), IsOk());
    if (!out.ok()) return {};
    const Tensor& y = out->at("y");
    return std::vector<float>(y.data<float>(),
                              y.data<float>() + y.num_elements());
  }

  Registry registry_;
};

struct FusedCase {
  Form form;
  bool swap;
  const char* last_node;
  std::vector<std::string> origins;
};

TEST_F(GeluFusionTest, AllThreeFormsInEitherOperandOrderFuse) {
  const std::vector<FusedCase> cases = {
      {Form::kTorch,
       false,
       "mul_half",
       {"div", "erf", "add", "mul_x", "mul_half"}},
      {Form::kTorch,
       true,
       "mul_half",
       {"div", "erf", "add", "mul_x", "mul_half"}},
      {Form::kTf2onnx,
       false,
       "mul_sum",
       {"scale", "erf", "add", "half_x", "mul_sum"}},
      {Form::kTf2onnx,
       true,
       "mul_sum",
       {"scale", "erf", "add", "half_x", "mul_sum"}},
      {Form::kHalfOnSum,
       false,
       "mul_x",
       {"div", "erf", "add", "half_sum", "mul_x"}},
      {Form::kHalfOnSum,
       true,
       "mul_x",
       {"div", "erf", "add", "half_sum", "mul_x"}},
  };
  for (const FusedCase& c : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "form " << static_cast<int>(c.form) << " swap " << c.swap);
    Graph g = GraphBuilder({.form = c.form, .swap = c.swap}).Build();
    ASSERT_THAT(VerifyGraph(g, registry_.schemas()), IsOk());
    const std::vector<float> before = Run(g);
    QFORGE_ASSERT_OK_AND_ASSIGN(int fused, internal::FuseErfGelu(g));
    EXPECT_EQ(fused, 1);
    ASSERT_THAT(VerifyGraph(g, registry_.schemas()), IsOk());
    ASSERT_EQ(g.num_nodes(), 1);
    const Node* gelu = g.nodes()[0];
    EXPECT_EQ(gelu->op_type(), "Gelu");
    EXPECT_EQ(gelu->name(), c.last_node);
    EXPECT_EQ(gelu->input(0)->name(), "x");
    EXPECT_EQ(gelu->output(0)->name(), "y");
    absl::StatusOr<std::string> approximate =
        gelu->GetString("approximate", "");
    ASSERT_THAT(approximate.status(), IsOk());
    EXPECT_EQ(*approximate, "none");
    EXPECT_EQ(gelu->origins(), c.origins);
    // The constants are gone with the nodes that read them.
    EXPECT_EQ(g.FindValue("one"), nullptr);
    // Same values as the graph as written, and as 0.5 x (1 + erf(x/sqrt2))
    // in long double.
    const std::vector<float> after = Run(g);
    ASSERT_EQ(after.size(), before.size());
    for (size_t i = 0; i < after.size(); ++i) {
      const long double x = -4.0L + 0.8L * i + 0.1L;
      const long double exact =
          0.5L * x * (1.0L + std::erf(x / std::sqrt(2.0L)));
      EXPECT_NEAR(after[i], before[i], 1e-6f) << i;
      EXPECT_NEAR(after[i], static_cast<double>(exact), 2e-6) << i;
    }
  }
}

TEST_F(GeluFusionTest, LookalikesDoNotFuse) {
  const std::vector<Options> cases = {
      {.form = Form::kTorch, .divisor = 2.0f},              // Not sqrt2.
      {.form = Form::kTorch, .erf_is_graph_output = true},  // erf used outside.
      {.form = Form::kTf2onnx,
       .other_operand = true},  // (0.5 z) * (1 + erf(x/..)).
      {.form = Form::kHalfOnSum, .swap = true, .other_operand = true},
  };
  for (const Options& o : cases) {
    Graph g = GraphBuilder(o).Build();
    ASSERT_THAT(VerifyGraph(g, registry_.schemas()), IsOk());
    const int nodes = g.num_nodes();
    QFORGE_ASSERT_OK_AND_ASSIGN(int fused, internal::FuseErfGelu(g));
    EXPECT_EQ(fused, 0);
    EXPECT_EQ(g.num_nodes(), nodes);
  }
}

TEST_F(GeluFusionTest, PrepareFusesOnlyWithAGeluQuantizer) {
  Graph g = GraphBuilder({.form = Form::kTorch}).Build();
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph plain,
                              PrepareForQuantization(g, {}, registry_));
  EXPECT_EQ(plain.num_nodes(), 5);

  class Stub final : public OpQuantizer {
    absl::StatusOr<OpQuantSpec> Spec(const Node&,
                                     const QuantConfig&) const override {
      return OpQuantSpec::Decline("stub");
    }
  };
  ASSERT_THAT(
      registry_.quantizers().Register({"", "Gelu"}, std::make_unique<Stub>()),
      IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph fused,
                              PrepareForQuantization(g, {}, registry_));
  ASSERT_EQ(fused.num_nodes(), 1);
  EXPECT_EQ(fused.nodes()[0]->op_type(), "Gelu");

  // A node of the pattern excluded by the config keeps the pattern as is.
  QuantConfig config;
  config.exclude_nodes = {"erf"};
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph kept,
                              PrepareForQuantization(g, config, registry_));
  EXPECT_EQ(kept.num_nodes(), 5);
  config = QuantConfig();
  config.exclude_op_types = {"Div"};
  QFORGE_ASSERT_OK_AND_ASSIGN(kept, PrepareForQuantization(g, config, registry_));
  EXPECT_EQ(kept.num_nodes(), 5);
}

// --- The Gelu op itself ------------------------------------------------------

Graph OneGelu(const std::string& approximate, int64_t opset) {
  Graph g;
  g.set_opset("", opset);
  Value* x = g.AddValue("x", DataType::kFloat32, Shape({7}));
  g.AddInput(x);
  Value* y = g.AddValue("y");
  EXPECT_TRUE(g.AddNode({.name = "gelu",
                         .op_type = "Gelu",
                         .inputs = {x},
                         .outputs = {y},
                         .attributes = {{"approximate", approximate}}})
                  .ok());
  g.AddOutput(y);
  return g;
}

TEST_F(GeluFusionTest, GeluKernelMatchesLongDoubleInBothModes) {
  const std::vector<float> xs = {-6.0f, -2.5f, -0.75f, 0.0f, 0.3f, 1.7f, 5.0f};
  const long double k =
      std::sqrt(2.0L / 3.14159265358979323846264338327950288L);
  for (int64_t opset : {17, 20}) {
    for (const std::string approximate : {"none", "tanh"}) {
      Graph g = OneGelu(approximate, opset);
      ASSERT_THAT(VerifyGraph(g, registry_.schemas()), IsOk());
      QFORGE_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Executor> exec,
                                  Executor::Prepare(g, registry_));
      TensorMap in;
      in["x"] = Tensor::FromVector<float>({7}, xs);
      QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap out, exec->Run(in));
      for (size_t i = 0; i < xs.size(); ++i) {
        const long double x = xs[i];
        const long double exact =
            approximate == "none"
                ? 0.5L * x * (1.0L + std::erf(x / std::sqrt(2.0L)))
                : 0.5L * x *
                      (1.0L + std::tanh(k * (x + 0.044715L * x * x * x)));
        EXPECT_NEAR(out.at("y").data<float>()[i], static_cast<double>(exact),
                    1e-6 * (1.0 + std::fabs(static_cast<double>(x))))
            << approximate << " x=" << xs[i];
      }
    }
  }
}

TEST_F(GeluFusionTest, BadApproximateFailsVerificationNamingTheNode) {
  Graph g = OneGelu("fast", 20);
  EXPECT_THAT(VerifyGraph(g, registry_.schemas()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'gelu'"), HasSubstr("approximate"))));
}

}  // namespace
}  // namespace qforge
