// Tests of the nn-family float kernels: Conv, Gemm, MatMul,
// BatchNormalization, LayerNormalization, ReduceMean. Expected values come
// from naive direct loops written here (in double), from hand-computed cases
// and from the ONNX operator spec's examples.
#include <cmath>
#include <numeric>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/nn_test_util.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::AllClose;
using ::qforge::testing::NodeInput;
using ::qforge::testing::OneNodeResult;
using ::qforge::testing::OneNodeSpec;
using ::qforge::testing::RandomTensor;
using ::qforge::testing::RunOneNode;
using ::qforge::testing::StatusIs;
using ::qforge::testing::ToNchw;
using ::qforge::testing::ToNhwc;
using ::testing::AllOf;
using ::testing::HasSubstr;

// --- Conv
// ----------------------------------------------------------------------

struct ConvCase {
  std::string name;
  std::vector<int64_t> x_dims;  // NCHW.
  std::vector<int64_t> w_dims;
  int64_t group = 1;
  std::vector<int64_t> strides, dilations, pads;  // Empty = defaults.
  bool bias = true;
};

// Direct-loop N-D convolution in double (explicit pads only).
Tensor RefConv(const Tensor& x, const Tensor& w, const Tensor* b, int64_t group,
               std::vector<int64_t> strides, std::vector<int64_t> dilations,
               std::vector<int64_t> pads) {
  const int ns = x.rank() - 2;
  if (strides.empty()) strides.assign(ns, 1);
  if (dilations.empty()) dilations.assign(ns, 1);
  if (pads.empty()) pads.assign(2 * ns, 0);
  const int64_t n_n = x.dim(0), c_n = x.dim(1), m_n = w.dim(0), cg = w.dim(1);
  std::vector<int64_t> in(ns), k(ns), out(ns);
  for (int i = 0; i < ns; ++i) {
    in[i] = x.dim(2 + i);
    k[i] = w.dim(2 + i);
    out[i] =
        (in[i] + pads[i] + pads[ns + i] - ((k[i] - 1) * dilations[i] + 1)) /
            strides[i] +
        1;
  }
  std::vector<int64_t> out_dims = {n_n, m_n};
  out_dims.insert(out_dims.end(), out.begin(), out.end());
  Tensor y(DataType::kFloat32, out_dims);
  const int64_t out_sp = NumElements(out), k_sp = NumElements(k),
                in_sp = NumElements(in);
  const int64_t mg = m_n / group;
  for (int64_t n = 0; n < n_n; ++n) {
    for (int64_t m = 0; m < m_n; ++m) {
      const int64_t g = m / mg;
      for (int64_t p = 0; p < out_sp; ++p) {
        std::vector<int64_t> o(ns);
        for (int64_t r = p, i = ns - 1; i >= 0; --i) {
          o[i] = r % out[i];
          r /= out[i];
        }
        double acc = b ? b->data<float>()[m] : 0.0;
        for (int64_t c = 0; c < cg; ++c) {
          for (int64_t t = 0; t < k_sp; ++t) {
            std::vector<int64_t> kk(ns);
            for (int64_t r = t, i = ns - 1; i >= 0; --i) {
              kk[i] = r % k[i];
              r /= k[i];
            }
            int64_t off = 0;
            bool valid = true;
            for (int i = 0; i < ns; ++i) {
              const int64_t pos =
                  o[i] * strides[i] - pads[i] + kk[i] * dilations[i];
              if (pos < 0 || pos >= in[i]) valid = false;
              off = off * in[i] + pos;
            }
            if (!valid) continue;
            const double xv =
                x.data<float>()[(n * c_n + g * cg + c) * in_sp + off];
            const double wv = w.data<float>()[(m * cg + c) * k_sp + t];
            acc += xv * wv;
          }
        }
        y.data<float>()[(n * m_n + m) * out_sp + p] = static_cast<float>(acc);
      }
    }
  }
  return y;
}

void PrintTo(const ConvCase& c, std::ostream* os) { *os << c.name; }

std::map<std::string, Attribute> ConvAttrs(const ConvCase& c) {
  std::map<std::string, Attribute> a;
  if (c.group != 1) a["group"] = c.group;
  if (!c.strides.empty()) a["strides"] = c.strides;
  if (!c.dilations.empty()) a["dilations"] = c.dilations;
  if (!c.pads.empty()) a["pads"] = c.pads;
  return a;
}

class ConvTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvTest, MatchesDirectLoopsInBothLayouts) {
  const ConvCase& c = GetParam();
  Tensor x = RandomTensor(c.x_dims, 1);
  Tensor w = RandomTensor(c.w_dims, 2);
  Tensor b = RandomTensor({c.w_dims[0]}, 3);
  Tensor expected = RefConv(x, w, c.bias ? &b : nullptr, c.group, c.strides,
                            c.dilations, c.pads);
  for (bool const_w : {true, false}) {
    for (Layout layout : {Layout::kNCHW, Layout::kNHWC}) {
      SCOPED_TRACE(
          absl::StrCat(LayoutName(layout), const_w ? " const W" : " fed W"));
      OneNodeSpec spec;
      spec.op = "Conv";
      spec.layout = layout;
      spec.attributes = ConvAttrs(c);
      spec.inputs = {NodeInput::Fed(layout == Layout::kNHWC ? ToNhwc(x) : x),
                     const_w ? NodeInput::Const(w) : NodeInput::Fed(w)};
      if (c.bias) spec.inputs.push_back(NodeInput::Const(b));
      QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
      Tensor y = layout == Layout::kNHWC ? ToNchw(r.outputs[0]) : r.outputs[0];
      EXPECT_TRUE(AllClose(y, expected, 1e-5, 1e-5));
      // Shape inference agrees with the computed shape.
      EXPECT_EQ(r.inferred[0], Shape(r.outputs[0].dims()));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ConvTest,
    ::testing::Values(
        ConvCase{"Basic3x3Pad1",
                 {2, 3, 7, 6},
                 {4, 3, 3, 3},
                 1,
                 {},
                 {},
                 {1, 1, 1, 1}},
        ConvCase{"StridesDilationsAsymPads",
                 {1, 3, 11, 9},
                 {5, 3, 3, 2},
                 1,
                 {2, 3},
                 {2, 1},
                 {1, 0, 2, 1}},
        ConvCase{"NoBias", {1, 2, 5, 5}, {3, 2, 2, 2}, 1, {}, {}, {}, false},
        ConvCase{
            "Groups2", {2, 4, 6, 5}, {6, 2, 3, 3}, 2, {1, 2}, {}, {1, 1, 1, 1}},
        ConvCase{"Depthwise",
                 {2, 4, 9, 8},
                 {4, 1, 3, 3},
                 4,
                 {2, 2},
                 {},
                 {1, 1, 1, 1}},
        ConvCase{"DepthwiseMultiplier2",
                 {1, 3, 7, 7},
                 {6, 1, 3, 3},
                 3,
                 {1, 1},
                 {2, 2},
                 {2, 1, 0, 2}},
        ConvCase{
            "DepthwiseStride3NoPad", {1, 5, 10, 11}, {5, 1, 2, 4}, 5, {3, 2}},
        // Output rows of 19 and 21 values and 10 channels: the 8-wide
        // vector paths of the AVX2 depthwise helpers plus their tails
        // (stride 2 and dilation 2 along W).
        ConvCase{"DepthwiseWideStride2",
                 {1, 3, 6, 37},
                 {3, 1, 3, 3},
                 3,
                 {1, 2},
                 {},
                 {1, 1, 1, 1}},
        ConvCase{"DepthwiseWideDilated",
                 {1, 2, 5, 21},
                 {2, 1, 3, 3},
                 2,
                 {},
                 {1, 2},
                 {1, 2, 1, 2}},
        ConvCase{"Depthwise10Channels",
                 {1, 10, 6, 6},
                 {10, 1, 3, 3},
                 10,
                 {},
                 {},
                 {1, 1, 1, 1}},
        ConvCase{"Pointwise", {2, 8, 5, 4}, {6, 8, 1, 1}, 1},
        // K = 40 * 9 = 360 crosses the fast SGEMM's 256 K block; 37 output
        // channels and 49 positions leave tails of its 6 x 16 tiles.
        ConvCase{"ManyChannels",
                 {1, 40, 7, 7},
                 {37, 40, 3, 3},
                 1,
                 {},
                 {},
                 {1, 1, 1, 1}},
        ConvCase{"PointwiseGroups", {1, 8, 3, 3}, {4, 2, 1, 1}, 4},
        ConvCase{"PointwiseStride2", {1, 4, 7, 7}, {3, 4, 1, 1}, 1, {2, 2}},
        ConvCase{"SingleInputChannel",
                 {1, 1, 6, 6},
                 {4, 1, 3, 3},
                 1,
                 {},
                 {},
                 {1, 1, 1, 1}},
        ConvCase{"Conv1d", {2, 3, 17}, {4, 3, 5}, 1, {2}, {2}, {3, 1}},
        ConvCase{"Conv1dDepthwise", {1, 4, 9}, {4, 1, 3}, 4, {}, {}, {1, 1}},
        ConvCase{"Conv3dGroups",
                 {1, 4, 5, 6, 4},
                 {4, 2, 2, 3, 2},
                 2,
                 {1, 2, 1},
                 {1, 1, 2},
                 {1, 0, 1, 0, 1, 1}}),
    [](const ::testing::TestParamInfo<ConvCase>& info) {
      return info.param.name;
    });

// The example of the ONNX operator spec (Conv, "conv_with_padding").
TEST(ConvSpecTest, OnnxSpecExampleWithPadding) {
  std::vector<float> xv(25);
  std::iota(xv.begin(), xv.end(), 0.0f);
  OneNodeSpec spec;
  spec.op = "Conv";
  spec.attributes = {{"kernel_shape", std::vector<int64_t>{3, 3}},
                     {"pads", std::vector<int64_t>{1, 1, 1, 1}}};
  spec.inputs = {NodeInput::Fed(Tensor::FromVector<float>({1, 1, 5, 5}, xv)),
                 NodeInput::Fed(Tensor::FromVector<float>(
                     {1, 1, 3, 3}, std::vector<float>(9, 1.0f)))};
  QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
  Tensor expected = Tensor::FromVector<float>(
      {1, 1, 5, 5},
      {12,  21, 27, 33,  24,  33,  54,  63, 72,  51,  63,  99, 108,
       117, 81, 93, 144, 153, 162, 111, 72, 111, 117, 123, 84});
  EXPECT_TRUE(AllClose(r.outputs[0], expected));
}

// auto_pad against explicit pads derived by hand from the ONNX formulas.
struct AutoPadCase {
  std::string auto_pad;
  std::vector<int64_t> x_dims, w_dims, strides, dilations;
  std::vector<int64_t> expected_pads;  // Hand-derived.
};

class ConvAutoPadTest : public ::testing::TestWithParam<AutoPadCase> {};

TEST_P(ConvAutoPadTest, EqualsExplicitPads) {
  const AutoPadCase& c = GetParam();
  Tensor x = RandomTensor(c.x_dims, 4);
  Tensor w = RandomTensor(c.w_dims, 5);
  Tensor expected =
      RefConv(x, w, nullptr, 1, c.strides, c.dilations, c.expected_pads);
  for (Layout layout : {Layout::kNCHW, Layout::kNHWC}) {
    OneNodeSpec spec;
    spec.op = "Conv";
    spec.layout = layout;
    spec.attributes = {{"auto_pad", c.auto_pad}};
    if (!c.strides.empty()) spec.attributes["strides"] = c.strides;
    if (!c.dilations.empty()) spec.attributes["dilations"] = c.dilations;
    spec.inputs = {NodeInput::Fed(layout == Layout::kNHWC ? ToNhwc(x) : x),
                   NodeInput::Const(w)};
    QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
    Tensor y = layout == Layout::kNHWC ? ToNchw(r.outputs[0]) : r.outputs[0];
    EXPECT_TRUE(AllClose(y, expected, 1e-5, 1e-5)) << c.auto_pad;
    EXPECT_EQ(r.inferred[0], Shape(r.outputs[0].dims()));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Modes, ConvAutoPadTest,
    ::testing::Values(
        // in 5, k 3, s 2: out 3, total pad (3-1)*2+3-5 = 2.
        AutoPadCase{
            "SAME_UPPER", {1, 2, 5, 5}, {3, 2, 3, 3}, {2, 2}, {}, {1, 1, 1, 1}},
        // in 5, k 2, s 1: out 5, total pad 1: the odd one at the end / start.
        AutoPadCase{
            "SAME_UPPER", {1, 2, 5, 6}, {3, 2, 2, 2}, {}, {}, {0, 0, 1, 1}},
        AutoPadCase{
            "SAME_LOWER", {1, 2, 5, 6}, {3, 2, 2, 2}, {}, {}, {1, 1, 0, 0}},
        // in 6, k 3, dilation 2 (extent 5), s 1: out 6, total pad 4.
        AutoPadCase{
            "SAME_LOWER", {1, 1, 6, 6}, {2, 1, 3, 3}, {}, {2, 2}, {2, 2, 2, 2}},
        // in 7, k 4, s 3: out 3, total pad (3-1)*3+4-7 = 3 -> 1+2 / 2+1.
        AutoPadCase{
            "SAME_UPPER", {1, 1, 7, 7}, {1, 1, 4, 4}, {3, 3}, {}, {1, 1, 2, 2}},
        AutoPadCase{
            "SAME_LOWER", {1, 1, 7, 7}, {1, 1, 4, 4}, {3, 3}, {}, {2, 2, 1, 1}},
        AutoPadCase{
            "VALID", {1, 2, 7, 8}, {2, 2, 3, 2}, {2, 3}, {}, {0, 0, 0, 0}}));

TEST(ConvShapeTest, InfersNhwcShapeFromWeights) {
  Graph g;
  Value* x = g.AddValue("x", DataType::kFloat32,
                        Shape({Dim::Symbol("n"), Dim::Static(20),
                               Dim::Static(18), Dim::Static(6)}));
  Value* w = g.AddConstant("w", RandomTensor({8, 3, 3, 3}, 1));
  Value* y = g.AddValue("y");
  g.AddInput(x);
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Node * node,
      g.AddNode({.name = "conv",
                 .op_type = "Conv",
                 .inputs = {x, w},
                 .outputs = {y},
                 .attributes = {{"group", int64_t{2}},
                                {"strides", std::vector<int64_t>{2, 2}},
                                {"auto_pad", std::string("SAME_UPPER")}}}));
  node->set_layout(Layout::kNHWC);
  g.AddOutput(y);
  ASSERT_THAT(VerifyGraph(g, testing::BuiltinRegistry().schemas()),
              testing::IsOk());
  EXPECT_EQ(y->shape(), Shape({Dim::Symbol("n"), Dim::Static(10),
                               Dim::Static(9), Dim::Static(8)}));
}

// Errors found by the schema (static shapes) and by the kernel (dynamic
// shapes hidden from the schema) name the node and the numbers.
OneNodeSpec ConvSpec(std::vector<int64_t> x_dims, std::vector<int64_t> w_dims,
                     std::map<std::string, Attribute> attrs) {
  OneNodeSpec spec;
  spec.op = "Conv";
  spec.attributes = std::move(attrs);
  spec.inputs = {NodeInput::Fed(RandomTensor(x_dims, 1)),
                 NodeInput::Fed(RandomTensor(w_dims, 2))};
  return spec;
}

TEST(ConvErrorTest, GroupNotDividingChannels) {
  EXPECT_THAT(
      RunOneNode(ConvSpec({1, 3, 5, 5}, {4, 1, 3, 3}, {{"group", int64_t{2}}})),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("node 'node' (Conv)"), HasSubstr("3 channels"),
                     HasSubstr("group 2"))));
  EXPECT_THAT(
      RunOneNode(ConvSpec({1, 4, 5, 5}, {3, 2, 3, 3}, {{"group", int64_t{2}}})),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("not divisible by group 2")));
}

TEST(ConvErrorTest, KernelLargerThanPaddedInput) {
  EXPECT_THAT(RunOneNode(ConvSpec({1, 1, 2, 5}, {1, 1, 3, 3}, {})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("(Conv)"),
                             HasSubstr("larger than the padded input"),
                             HasSubstr("2 + pads 0 + 0 = 2"))));
}

TEST(ConvErrorTest, BadAttributesAreErrorsNotCrashes) {
  EXPECT_THAT(
      RunOneNode(ConvSpec({1, 1, 5, 5}, {1, 1, 3, 3},
                          {{"auto_pad", std::string("SAME")}})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("auto_pad")));
  EXPECT_THAT(
      RunOneNode(ConvSpec({1, 1, 5, 5}, {1, 1, 3, 3},
                          {{"strides", std::vector<int64_t>{1}}})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'strides'")));
  EXPECT_THAT(
      RunOneNode(ConvSpec({1, 1, 5, 5}, {1, 1, 3, 3},
                          {{"strides", std::vector<int64_t>{0, 1}}})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'strides'")));
  EXPECT_THAT(
      RunOneNode(ConvSpec({1, 1, 5, 5}, {1, 1, 3, 3},
                          {{"pads", std::vector<int64_t>{1, -1, 1, 1}}})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'pads'")));
  EXPECT_THAT(
      RunOneNode(ConvSpec({1, 1, 5, 5}, {1, 1, 3, 3},
                          {{"kernel_shape", std::vector<int64_t>{2, 2}}})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("kernel_shape")));
  EXPECT_THAT(
      RunOneNode(
          ConvSpec({1, 1, 5, 5}, {1, 1, 3, 3}, {{"group", std::string("x")}})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'group'")));
  EXPECT_THAT(RunOneNode(ConvSpec({1, 1, 5, 5}, {1, 1, 3}, {})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("rank")));
  EXPECT_THAT(
      RunOneNode(ConvSpec({5, 5}, {5, 5}, {})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("spatial axis")));
}

// The kernel checks what a schema could not see (dimensions unknown when
// the graph was verified).
TEST(ConvErrorTest, KernelValidatesAtRunTime) {
  Graph g;
  Value* x = g.AddValue("x", DataType::kFloat32,
                        Shape(std::vector<Dim>(4, Dim::Unknown())));
  Value* w = g.AddValue("w", DataType::kFloat32,
                        Shape(std::vector<Dim>(4, Dim::Unknown())));
  Value* y = g.AddValue("y");
  g.AddInput(x);
  g.AddInput(w);
  ASSERT_TRUE(g.AddNode({.name = "c1",
                         .op_type = "Conv",
                         .inputs = {x, w},
                         .outputs = {y},
                         .attributes = {{"group", int64_t{2}}}})
                  .ok());
  g.AddOutput(y);
  ASSERT_THAT(VerifyGraph(g, testing::BuiltinRegistry().schemas()),
              testing::IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(auto exec,
                              Executor::Prepare(g, testing::BuiltinRegistry()));
  TensorMap in;
  in["x"] = RandomTensor({1, 3, 4, 4}, 1);
  in["w"] = RandomTensor({2, 1, 3, 3}, 2);
  EXPECT_THAT(exec->Run(in), StatusIs(absl::StatusCode::kInvalidArgument,
                                      AllOf(HasSubstr("node 'c1' (Conv)"),
                                            HasSubstr("3 channels"))));
  in["x"] = RandomTensor({1, 2, 2, 2}, 1);
  EXPECT_THAT(exec->Run(in),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("larger than the padded input")));
  in["x"] = RandomTensor({1, 2, 4, 4}, 1);
  EXPECT_THAT(exec->Run(in), testing::IsOk());
}

// --- Gemm
// ----------------------------------------------------------------------

struct GemmCase {
  int64_t m, k, n;
  bool trans_a, trans_b;
  float alpha, beta;
  std::vector<int64_t> c_dims;  // {-1} = no C.
};

class GemmTest : public ::testing::TestWithParam<GemmCase> {};

TEST_P(GemmTest, MatchesNaiveLoops) {
  const GemmCase& c = GetParam();
  Tensor a = RandomTensor(c.trans_a ? std::vector<int64_t>{c.k, c.m}
                                    : std::vector<int64_t>{c.m, c.k},
                          7);
  Tensor b = RandomTensor(c.trans_b ? std::vector<int64_t>{c.n, c.k}
                                    : std::vector<int64_t>{c.k, c.n},
                          8);
  const bool has_c = !(c.c_dims.size() == 1 && c.c_dims[0] == -1);
  Tensor cc = has_c ? RandomTensor(c.c_dims, 9) : Tensor();
  Tensor expected(DataType::kFloat32, {c.m, c.n});
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < c.n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < c.k; ++p) {
        const double av = c.trans_a ? a.data<float>()[p * c.m + i]
                                    : a.data<float>()[i * c.k + p];
        const double bv = c.trans_b ? b.data<float>()[j * c.k + p]
                                    : b.data<float>()[p * c.n + j];
        acc += av * bv;
      }
      double cv = 0;
      if (has_c) {
        // Right-aligned broadcast of C to [M, N].
        const int r = cc.rank();
        const int64_t ci = r == 2 ? (cc.dim(0) == 1 ? 0 : i) : 0;
        const int64_t cj = r >= 1 ? (cc.dim(r - 1) == 1 ? 0 : j) : 0;
        const int64_t cols = r >= 1 ? cc.dim(r - 1) : 1;
        cv = cc.data<float>()[ci * cols + cj];
      }
      expected.data<float>()[i * c.n + j] =
          static_cast<float>(c.alpha * acc + c.beta * cv);
    }
  }
  // A constant B is pre-packed by the float32 kernel (fast SGEMM).
  for (bool const_b : {true, false}) {
    SCOPED_TRACE(const_b ? "const B" : "fed B");
    OneNodeSpec spec;
    spec.op = "Gemm";
    spec.attributes = {{"transA", int64_t{c.trans_a}},
                       {"transB", int64_t{c.trans_b}},
                       {"alpha", c.alpha},
                       {"beta", c.beta}};
    spec.inputs = {NodeInput::Fed(a),
                   const_b ? NodeInput::Const(b) : NodeInput::Fed(b)};
    if (has_c) spec.inputs.push_back(NodeInput::Fed(cc));
    QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
    EXPECT_TRUE(AllClose(r.outputs[0], expected, 1e-5, 1e-5));
    EXPECT_EQ(r.inferred[0], Shape({c.m, c.n}));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Variants, GemmTest,
    ::testing::Values(GemmCase{3, 5, 4, false, false, 1.0f, 1.0f, {-1}},
                      GemmCase{3, 5, 4, true, false, 0.5f, 1.0f, {3, 4}},
                      GemmCase{3, 5, 4, false, true, 1.0f, 0.25f, {4}},
                      GemmCase{3, 5, 4, true, true, 0.25f, 0.35f, {1, 4}},
                      GemmCase{6, 2, 7, false, false, 2.0f, -1.0f, {6, 1}},
                      GemmCase{2, 3, 4, false, false, 1.0f, 1.0f, {}},
                      GemmCase{2, 3, 4, false, false, 1.0f, 1.0f, {1}},
                      GemmCase{17, 33, 9, false, true, 1.0f, 1.0f, {9}},
                      // K = 300 crosses the fast SGEMM's 256 K block.
                      GemmCase{7, 300, 40, false, true, 1.0f, 1.0f, {40}},
                      GemmCase{7, 300, 40, true, false, 1.0f, 0.5f, {-1}}));

TEST(GemmErrorTest, MismatchedInnerDimensionAndBadBias) {
  OneNodeSpec spec;
  spec.op = "Gemm";
  spec.inputs = {NodeInput::Fed(RandomTensor({2, 3}, 1)),
                 NodeInput::Fed(RandomTensor({4, 5}, 2))};
  EXPECT_THAT(
      RunOneNode(spec),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("(Gemm)"), HasSubstr("K=3"), HasSubstr("K=4"))));
  spec.inputs = {NodeInput::Fed(RandomTensor({2, 3}, 1)),
                 NodeInput::Fed(RandomTensor({3, 5}, 2)),
                 NodeInput::Fed(RandomTensor({3}, 3))};
  EXPECT_THAT(RunOneNode(spec), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("does not broadcast")));
}

// --- MatMul
// --------------------------------------------------------------------

Tensor RefMatMul(const Tensor& a, const Tensor& b) {
  // Numpy semantics through explicit index arithmetic.
  std::vector<int64_t> ad = a.dims(), bd = b.dims();
  if (ad.size() == 1) ad.insert(ad.begin(), 1);
  if (bd.size() == 1) bd.push_back(1);
  const int64_t m = ad[ad.size() - 2], k = ad.back(), n = bd.back();
  const int br = static_cast<int>(std::max(ad.size(), bd.size())) - 2;
  std::vector<int64_t> batch(br);
  auto bdim = [&](const std::vector<int64_t>& d, int i) {
    const int off = i - (br - (static_cast<int>(d.size()) - 2));
    return off >= 0 ? d[off] : int64_t{1};
  };
  for (int i = 0; i < br; ++i) batch[i] = std::max(bdim(ad, i), bdim(bd, i));
  std::vector<int64_t> out = batch;
  if (a.rank() > 1) out.push_back(m);
  if (b.rank() > 1) out.push_back(n);
  Tensor y(DataType::kFloat32, out);
  const int64_t nb = NumElements(batch);
  for (int64_t bi = 0; bi < nb; ++bi) {
    std::vector<int64_t> idx(br);
    for (int64_t r = bi, i = br - 1; i >= 0; --i) {
      idx[i] = r % batch[i];
      r /= batch[i];
    }
    int64_t aoff = 0, boff = 0;
    for (int i = 0; i < br; ++i) {
      aoff = aoff * bdim(ad, i) + (bdim(ad, i) == 1 ? 0 : idx[i]);
      boff = boff * bdim(bd, i) + (bdim(bd, i) == 1 ? 0 : idx[i]);
    }
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p) {
          acc += double(a.data<float>()[aoff * m * k + i * k + p]) *
                 b.data<float>()[boff * k * n + p * n + j];
        }
        y.data<float>()[(bi * m + i) * n + j] = static_cast<float>(acc);
      }
    }
  }
  return y;
}

TEST(MatMulTest, NumpySemantics) {
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>>
      cases = {{{3, 4}, {4, 5}},
               {{4}, {4, 5}},
               {{3, 4}, {4}},
               {{4}, {4}},
               {{2, 3, 4}, {2, 4, 5}},
               {{2, 3, 4}, {4, 5}},
               {{3, 4}, {2, 4, 5}},
               {{2, 1, 3, 4}, {3, 4, 5}},
               {{1, 2, 3, 4}, {1, 2, 4, 3}},
               {{5}, {2, 5, 3}},
               {{2, 3, 5}, {5}}};
  uint32_t seed = 10;
  for (const auto& [ad, bd] : cases) {
    SCOPED_TRACE(absl::StrCat(DimsToString(ad), " x ", DimsToString(bd)));
    Tensor a = RandomTensor(ad, seed++);
    Tensor b = RandomTensor(bd, seed++);
    OneNodeSpec spec;
    spec.op = "MatMul";
    spec.inputs = {NodeInput::Fed(a), NodeInput::Fed(b)};
    QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
    EXPECT_TRUE(AllClose(r.outputs[0], RefMatMul(a, b), 1e-5, 1e-6));
    EXPECT_EQ(r.inferred[0], Shape(r.outputs[0].dims()));
  }
}

TEST(MatMulTest, HandComputed) {
  OneNodeSpec spec;
  spec.op = "MatMul";
  spec.inputs = {
      NodeInput::Fed(Tensor::FromVector<float>({2, 2}, {1, 2, 3, 4})),
      NodeInput::Fed(Tensor::FromVector<float>({2}, {5, 6}))};
  QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
  EXPECT_EQ(r.outputs[0].dims(), (std::vector<int64_t>{2}));
  EXPECT_THAT(r.outputs[0].ToVector<float>(),
              ::testing::ElementsAre(17.0f, 39.0f));
}

TEST(MatMulTest, IntegersAreExact) {
  OneNodeSpec spec;
  spec.op = "MatMul";
  spec.inputs = {
      NodeInput::Fed(Tensor::FromVector<int32_t>({2, 2}, {1, 2, 3, 4})),
      NodeInput::Fed(Tensor::FromVector<int32_t>({2, 2}, {5, 6, 7, 8}))};
  QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
  EXPECT_THAT(r.outputs[0].ToVector<int32_t>(),
              ::testing::ElementsAre(19, 22, 43, 50));
}

TEST(MatMulTest, Errors) {
  OneNodeSpec spec;
  spec.op = "MatMul";
  spec.inputs = {NodeInput::Fed(RandomTensor({2, 3, 4}, 1)),
                 NodeInput::Fed(RandomTensor({3, 4, 5}, 2))};
  EXPECT_THAT(RunOneNode(spec), StatusIs(absl::StatusCode::kInvalidArgument,
                                         AllOf(HasSubstr("(MatMul)"),
                                               HasSubstr("do not broadcast"))));
  spec.inputs = {NodeInput::Fed(RandomTensor({2, 3}, 1)),
                 NodeInput::Fed(RandomTensor({4, 5}, 2))};
  EXPECT_THAT(RunOneNode(spec), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("inner dimensions differ")));
}

// --- BatchNormalization
// ----------------------------------------------------------

TEST(BatchNormTest, MatchesFormulaInBothLayouts) {
  Tensor x = RandomTensor({2, 3, 4, 5}, 1, -3, 3);
  Tensor scale = RandomTensor({3}, 2);
  Tensor bias = RandomTensor({3}, 3);
  Tensor mean = RandomTensor({3}, 4);
  Tensor var = RandomTensor({3}, 5, 0.1f, 2.0f);
  const float eps = 1e-2f;
  Tensor expected(DataType::kFloat32, x.dims());
  for (int64_t i = 0; i < x.num_elements(); ++i) {
    const int64_t c = (i / 20) % 3;
    expected.data<float>()[i] =
        static_cast<float>((x.data<float>()[i] - mean.data<float>()[c]) /
                               std::sqrt(double(var.data<float>()[c]) + eps) *
                               scale.data<float>()[c] +
                           bias.data<float>()[c]);
  }
  for (Layout layout : {Layout::kNCHW, Layout::kNHWC}) {
    OneNodeSpec spec;
    spec.op = "BatchNormalization";
    spec.layout = layout;
    spec.attributes = {{"epsilon", eps}};
    spec.inputs = {NodeInput::Fed(layout == Layout::kNHWC ? ToNhwc(x) : x),
                   NodeInput::Const(scale), NodeInput::Const(bias),
                   NodeInput::Const(mean), NodeInput::Const(var)};
    QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
    Tensor y = layout == Layout::kNHWC ? ToNchw(r.outputs[0]) : r.outputs[0];
    EXPECT_TRUE(AllClose(y, expected, 1e-5, 1e-6)) << LayoutName(layout);
  }
}

TEST(BatchNormTest, TrainingModeUsesBatchStatistics) {
  // x is [N=2, C=2, L=2]: channel 0 holds {1, 2, 3, 6}, channel 1 {0, 0, 4, 4}.
  const Tensor x = Tensor::FromVector<float>({2, 2, 2}, {1, 2, 0, 0, 3, 6, 4, 4});
  OneNodeSpec spec;
  spec.op = "BatchNormalization";
  spec.attributes = {{"training_mode", int64_t{1}}, {"momentum", 0.5f}, {"epsilon", 0.0f}};
  spec.inputs = {NodeInput::Fed(x),
                 NodeInput::Const(Tensor::FromVector<float>({2}, {1, 2})),
                 NodeInput::Const(Tensor::FromVector<float>({2}, {0, 1})),
                 NodeInput::Const(Tensor::FromVector<float>({2}, {10, 20})),
                 NodeInput::Const(Tensor::FromVector<float>({2}, {1, 1}))};
  spec.num_outputs = 3;
  QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
  // Channel 0: mean 3, population variance (4 + 1 + 0 + 9) / 4 = 3.5.
  // Channel 1: mean 2, variance 4.
  const double s0 = 1.0 / std::sqrt(3.5);
  const Tensor expected = Tensor::FromVector<float>(
      {2, 2, 2}, {float((1 - 3) * s0), float((2 - 3) * s0), 1 + 2 * (0 - 2) / 2.0f,
                  1 + 2 * (0 - 2) / 2.0f, float((3 - 3) * s0), float((6 - 3) * s0),
                  1 + 2 * (4 - 2) / 2.0f, 1 + 2 * (4 - 2) / 2.0f});
  EXPECT_TRUE(AllClose(r.outputs[0], expected, 1e-5, 1e-6));
  EXPECT_TRUE(AllClose(r.outputs[1], Tensor::FromVector<float>({2}, {6.5f, 11.0f}), 1e-6, 0));
  EXPECT_TRUE(AllClose(r.outputs[2], Tensor::FromVector<float>({2}, {2.25f, 2.5f}), 1e-6, 0));
}

TEST(BatchNormTest, WrongStatisticShape) {
  OneNodeSpec spec;
  spec.op = "BatchNormalization";
  spec.inputs = {NodeInput::Fed(RandomTensor({1, 2, 3}, 1)),
                 NodeInput::Const(RandomTensor({3}, 2)),
                 NodeInput::Const(RandomTensor({2}, 3)),
                 NodeInput::Const(RandomTensor({2}, 4)),
                 NodeInput::Const(RandomTensor({2}, 5, 0.5f, 1.0f))};
  EXPECT_THAT(RunOneNode(spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("scale"), HasSubstr("[2]"))));
}

// --- LayerNormalization
// ----------------------------------------------------------

TEST(LayerNormTest, MatchesTwoPassFormula) {
  Tensor x = RandomTensor({2, 3, 4, 5}, 1, -2, 2);
  for (int64_t axis : {-1, -2, 1, 0, 3}) {
    SCOPED_TRACE(absl::StrCat("axis ", axis));
    const int a = static_cast<int>(axis < 0 ? axis + 4 : axis);
    std::vector<int64_t> norm(x.dims().begin() + a, x.dims().end());
    Tensor scale = RandomTensor(norm, 2);
    Tensor bias = RandomTensor(norm, 3);
    const int64_t inner = NumElements(norm);
    const int64_t outer = x.num_elements() / inner;
    const double eps = 1e-3;
    Tensor expected(DataType::kFloat32, x.dims());
    std::vector<int64_t> stat_dims(x.dims().begin(), x.dims().begin() + a);
    stat_dims.resize(4, 1);
    Tensor mean_t(DataType::kFloat32, stat_dims),
        inv_t(DataType::kFloat32, stat_dims);
    for (int64_t r = 0; r < outer; ++r) {
      double mean = 0, var = 0;
      for (int64_t i = 0; i < inner; ++i)
        mean += x.data<float>()[r * inner + i];
      mean /= inner;
      for (int64_t i = 0; i < inner; ++i) {
        var += std::pow(x.data<float>()[r * inner + i] - mean, 2);
      }
      var /= inner;
      const double inv = 1 / std::sqrt(var + eps);
      for (int64_t i = 0; i < inner; ++i) {
        expected.data<float>()[r * inner + i] =
            static_cast<float>((x.data<float>()[r * inner + i] - mean) * inv *
                                   scale.data<float>()[i] +
                               bias.data<float>()[i]);
      }
      mean_t.data<float>()[r] = static_cast<float>(mean);
      inv_t.data<float>()[r] = static_cast<float>(inv);
    }
    OneNodeSpec spec;
    spec.op = "LayerNormalization";
    spec.num_outputs = 3;
    spec.attributes = {{"axis", axis}, {"epsilon", static_cast<float>(eps)}};
    spec.inputs = {NodeInput::Fed(x), NodeInput::Const(scale),
                   NodeInput::Const(bias)};
    QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
    EXPECT_TRUE(AllClose(r.outputs[0], expected, 1e-5, 1e-5));
    EXPECT_TRUE(AllClose(r.outputs[1], mean_t, 1e-5, 1e-6));
    EXPECT_TRUE(AllClose(r.outputs[2], inv_t, 1e-5, 1e-6));
    EXPECT_EQ(r.inferred[1], Shape(stat_dims));
  }
}

TEST(LayerNormTest, BroadcastScaleNoBias) {
  // Scale [1] broadcasts over the normalized axis; no bias.
  Tensor x = Tensor::FromVector<float>({2, 2}, {1, 3, 2, 2});
  OneNodeSpec spec;
  spec.op = "LayerNormalization";
  spec.attributes = {{"epsilon", 0.0f}};
  spec.inputs = {NodeInput::Fed(x),
                 NodeInput::Const(Tensor::FromVector<float>({1}, {2}))};
  QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
  // Row 0: mean 2, std 1 -> [-1, 1] * 2. Row 1: zero variance, eps 0 -> NaN.
  EXPECT_FLOAT_EQ(r.outputs[0].data<float>()[0], -2.0f);
  EXPECT_FLOAT_EQ(r.outputs[0].data<float>()[1], 2.0f);
}

TEST(LayerNormTest, BadScaleShape) {
  OneNodeSpec spec;
  spec.op = "LayerNormalization";
  spec.inputs = {NodeInput::Fed(RandomTensor({2, 3}, 1)),
                 NodeInput::Const(RandomTensor({2}, 2))};
  EXPECT_THAT(RunOneNode(spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("(LayerNormalization)"),
                             HasSubstr("does not broadcast"))));
}

// --- ReduceMean
// -------------------------------------------------------------------

TEST(ReduceMeanTest, AxesAndKeepdims) {
  Tensor x = RandomTensor({3, 4, 5}, 1);
  struct Case {
    std::vector<int64_t> axes;
    int64_t keepdims;
    std::vector<int64_t> out_dims;
  };
  const std::vector<Case> cases = {
      {{1}, 1, {3, 1, 5}}, {{1}, 0, {3, 5}}, {{-1, 0}, 1, {1, 4, 1}},
      {{}, 1, {1, 1, 1}},  {{}, 0, {}},      {{0, 1, 2}, 0, {}},
      {{2}, 0, {3, 4}}};
  for (const Case& c : cases) {
    SCOPED_TRACE(
        absl::StrCat("axes ", DimsToString(c.axes), " keepdims ", c.keepdims));
    std::vector<bool> red(3, c.axes.empty());
    for (int64_t a : c.axes) red[a < 0 ? a + 3 : a] = true;
    Tensor expected(DataType::kFloat32, c.out_dims);
    std::vector<double> sum(expected.num_elements(), 0);
    int64_t count = 1;
    for (int d = 0; d < 3; ++d) count *= red[d] ? x.dim(d) : 1;
    for (int64_t i = 0; i < 3; ++i) {
      for (int64_t j = 0; j < 4; ++j) {
        for (int64_t k = 0; k < 5; ++k) {
          const int64_t idx[3] = {i, j, k};
          int64_t o = 0;
          for (int d = 0; d < 3; ++d) {
            if (!red[d]) o = o * x.dim(d) + idx[d];
          }
          sum[o] += x.data<float>()[(i * 4 + j) * 5 + k];
        }
      }
    }
    for (size_t o = 0; o < sum.size(); ++o) {
      expected.data<float>()[o] = static_cast<float>(sum[o] / count);
    }
    OneNodeSpec spec;
    spec.op = "ReduceMean";
    spec.attributes = {{"keepdims", c.keepdims}};
    if (!c.axes.empty()) spec.attributes["axes"] = c.axes;
    spec.inputs = {NodeInput::Fed(x)};
    QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
    EXPECT_TRUE(AllClose(r.outputs[0], expected, 1e-5, 1e-6));
    EXPECT_EQ(r.inferred[0], Shape(c.out_dims));
  }
}

TEST(ReduceMeanTest, AxesAsInputAndErrors) {
  OneNodeSpec spec;
  spec.op = "ReduceMean";
  spec.opset = 18;
  spec.attributes = {{"keepdims", int64_t{0}}};
  spec.inputs = {
      NodeInput::Fed(Tensor::FromVector<float>({2, 2}, {1, 2, 3, 5})),
      NodeInput::Const(Tensor::FromVector<int64_t>({1}, {1}))};
  QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
  EXPECT_THAT(r.outputs[0].ToVector<float>(),
              ::testing::ElementsAre(1.5f, 4.0f));

  OneNodeSpec bad;
  bad.op = "ReduceMean";
  bad.attributes = {{"axes", std::vector<int64_t>{3}}};
  bad.inputs = {NodeInput::Fed(RandomTensor({2, 2}, 1))};
  EXPECT_THAT(RunOneNode(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                        AllOf(HasSubstr("(ReduceMean)"),
                                              HasSubstr("out of range"))));
}

}  // namespace
}  // namespace qforge
