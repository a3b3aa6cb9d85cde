// Tests of the pooling and Resize float kernels. Pools are checked against a
// direct-loop reference written here and against the ONNX spec's examples;
// Resize against small cases computed by hand from the ONNX formulas (the
// derivations are in the comments).
#include <cmath>
#include <limits>
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
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

Tensor Iota(std::vector<int64_t> dims, float start = 1.0f) {
  std::vector<float> v(NumElements(dims));
  std::iota(v.begin(), v.end(), start);
  return Tensor::FromVector<float>(dims, v);
}

// --- Pools
// ---------------------------------------------------------------------

struct PoolCase {
  std::string name;
  bool max = true;
  std::vector<int64_t> x_dims;
  std::map<std::string, Attribute> attrs;
  // The reference takes explicit geometry, derived by hand in each case.
  std::vector<int64_t> kernel, strides, dilations, pads;
  std::vector<int64_t> out;  // Expected output spatial dims.
  bool count_include_pad = false;
};

void PrintTo(const PoolCase& c, std::ostream* os) { *os << c.name; }

// Direct loops: window o*s - pad_begin + j*d for j < k; taps outside the
// input are skipped; the include-pad divisor counts taps inside
// [-pad_begin, in + pad_end).
Tensor RefPool(const Tensor& x, const PoolCase& c) {
  const int ns = x.rank() - 2;
  std::vector<int64_t> s = c.strides, d = c.dilations, p = c.pads;
  if (s.empty()) s.assign(ns, 1);
  if (d.empty()) d.assign(ns, 1);
  if (p.empty()) p.assign(2 * ns, 0);
  std::vector<int64_t> in(x.dims().begin() + 2, x.dims().end());
  std::vector<int64_t> dims = {x.dim(0), x.dim(1)};
  dims.insert(dims.end(), c.out.begin(), c.out.end());
  Tensor y(DataType::kFloat32, dims);
  const int64_t out_sp = NumElements(c.out), in_sp = NumElements(in);
  const int64_t k_sp = NumElements(c.kernel);
  for (int64_t nc = 0; nc < x.dim(0) * x.dim(1); ++nc) {
    for (int64_t o = 0; o < out_sp; ++o) {
      std::vector<int64_t> oi(ns);
      for (int64_t r = o, i = ns - 1; i >= 0; --i) {
        oi[i] = r % c.out[i];
        r /= c.out[i];
      }
      double best = -std::numeric_limits<double>::infinity(), sum = 0;
      int64_t valid = 0, include = 0;
      for (int64_t t = 0; t < k_sp; ++t) {
        std::vector<int64_t> ki(ns);
        for (int64_t r = t, i = ns - 1; i >= 0; --i) {
          ki[i] = r % c.kernel[i];
          r /= c.kernel[i];
        }
        bool inside = true, padded = true;
        int64_t off = 0;
        for (int i = 0; i < ns; ++i) {
          const int64_t pos = oi[i] * s[i] - p[i] + ki[i] * d[i];
          if (pos < 0 || pos >= in[i]) inside = false;
          if (pos < -p[i] || pos >= in[i] + p[ns + i]) padded = false;
          off = off * in[i] + pos;
        }
        if (padded) ++include;
        if (!inside) continue;
        const double v = x.data<float>()[nc * in_sp + off];
        best = std::max(best, v);
        sum += v;
        ++valid;
      }
      y.data<float>()[nc * out_sp + o] = static_cast<float>(
          c.max ? best : sum / (c.count_include_pad ? include : valid));
    }
  }
  return y;
}

class PoolTest : public ::testing::TestWithParam<PoolCase> {};

TEST_P(PoolTest, MatchesDirectLoopsInBothLayouts) {
  const PoolCase& c = GetParam();
  Tensor x = RandomTensor(c.x_dims, 11, -5, 5);
  Tensor expected = RefPool(x, c);
  std::optional<Tensor> nchw_indices;
  for (Layout layout : {Layout::kNCHW, Layout::kNHWC}) {
    SCOPED_TRACE(LayoutName(layout));
    OneNodeSpec spec;
    spec.op = c.max ? "MaxPool" : "AveragePool";
    spec.layout = layout;
    spec.attributes = c.attrs;
    spec.num_outputs = c.max ? 2 : 1;
    spec.inputs = {NodeInput::Fed(layout == Layout::kNHWC ? ToNhwc(x) : x)};
    QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
    Tensor y = layout == Layout::kNHWC ? ToNchw(r.outputs[0]) : r.outputs[0];
    EXPECT_TRUE(AllClose(y, expected, 1e-6, 1e-6));
    EXPECT_EQ(r.inferred[0], Shape(r.outputs[0].dims()));
    if (c.max) {
      // Indices point at the maximum in the flattened NCHW input.
      const Tensor& idx = r.outputs[1];
      ASSERT_EQ(idx.dims(), r.outputs[0].dims());
      Tensor idx_f(DataType::kFloat32, idx.dims());
      for (int64_t i = 0; i < idx.num_elements(); ++i) {
        const int64_t j = idx.data<int64_t>()[i];
        ASSERT_GE(j, 0);
        ASSERT_LT(j, x.num_elements());
        EXPECT_EQ(x.data<float>()[j], r.outputs[0].data<float>()[i]);
        idx_f.data<float>()[i] = static_cast<float>(j);
      }
      Tensor as_nchw = layout == Layout::kNHWC ? ToNchw(idx_f) : idx_f;
      if (!nchw_indices.has_value()) {
        nchw_indices = as_nchw;
      } else {
        EXPECT_TRUE(AllClose(as_nchw, *nchw_indices, 0, 0));
      }
    }
  }
}

using Ints = std::vector<int64_t>;

INSTANTIATE_TEST_SUITE_P(
    Shapes, PoolTest,
    ::testing::Values(
        // floor((7 + 2 - 3) / 2) + 1 = 4.
        PoolCase{"Max3x3S2P1",
                 true,
                 {2, 3, 7, 7},
                 {{"kernel_shape", Ints{3, 3}},
                  {"strides", Ints{2, 2}},
                  {"pads", Ints{1, 1, 1, 1}}},
                 {3, 3},
                 {2, 2},
                 {},
                 {1, 1, 1, 1},
                 {4, 4}},
        // (6 - (2-1)*2 - 1) / 1 + 1 = 4 along both axes.
        PoolCase{"MaxDilations",
                 true,
                 {1, 2, 6, 6},
                 {{"kernel_shape", Ints{2, 2}}, {"dilations", Ints{2, 2}}},
                 {2, 2},
                 {},
                 {2, 2},
                 {},
                 {4, 4}},
        // ceil((5 + 1 + 1 - 2) / 2) + 1 = 4, but window 4 would start at
        // 3*2 - 1 = 5 = in, inside the end padding: dropped -> 3.
        PoolCase{"MaxCeilDropsWindowInPadding",
                 true,
                 {1, 1, 5, 5},
                 {{"kernel_shape", Ints{2, 2}},
                  {"strides", Ints{2, 2}},
                  {"pads", Ints{1, 1, 1, 1}},
                  {"ceil_mode", int64_t{1}}},
                 {2, 2},
                 {2, 2},
                 {},
                 {1, 1, 1, 1},
                 {3, 3}},
        // ceil((4 - 3) / 2) + 1 = 2.
        PoolCase{"MaxCeil",
                 true,
                 {1, 2, 4, 4},
                 {{"kernel_shape", Ints{3, 3}},
                  {"strides", Ints{2, 2}},
                  {"ceil_mode", int64_t{1}}},
                 {3, 3},
                 {2, 2},
                 {},
                 {},
                 {2, 2}},
        // SAME_UPPER, in 5, k 2, s 1: out 5, pads (0, 1).
        PoolCase{"MaxSameUpper",
                 true,
                 {1, 2, 5, 5},
                 {{"kernel_shape", Ints{2, 2}},
                  {"auto_pad", std::string("SAME_UPPER")}},
                 {2, 2},
                 {},
                 {},
                 {0, 0, 1, 1},
                 {5, 5}},
        PoolCase{"Max1d",
                 true,
                 {2, 3, 11},
                 {{"kernel_shape", Ints{3}}, {"strides", Ints{2}}},
                 {3},
                 {2},
                 {},
                 {},
                 {5}},
        PoolCase{
            "Max3d",
            true,
            {1, 2, 4, 5, 6},
            {{"kernel_shape", Ints{2, 2, 3}}, {"pads", Ints{0, 1, 1, 1, 0, 1}}},
            {2, 2, 3},
            {},
            {},
            {0, 1, 1, 1, 0, 1},
            {4, 5, 6}},
        PoolCase{"AvgPadsExcluded",
                 false,
                 {2, 3, 6, 7},
                 {{"kernel_shape", Ints{3, 3}}, {"pads", Ints{1, 2, 1, 0}}},
                 {3, 3},
                 {},
                 {},
                 {1, 2, 1, 0},
                 {6, 7}},
        PoolCase{"AvgPadsIncluded",
                 false,
                 {2, 3, 6, 7},
                 {{"kernel_shape", Ints{3, 3}},
                  {"pads", Ints{1, 2, 1, 0}},
                  {"count_include_pad", int64_t{1}}},
                 {3, 3},
                 {},
                 {},
                 {1, 2, 1, 0},
                 {6, 7},
                 true},
        // ceil((5 + 1 + 0 - 3) / 2) + 1 = 3; the last window covers
        // positions 3..5, of which 5 is past the padded input.
        PoolCase{"AvgCeilIncludePad",
                 false,
                 {1, 1, 5, 5},
                 {{"kernel_shape", Ints{3, 3}},
                  {"strides", Ints{2, 2}},
                  {"pads", Ints{1, 1, 0, 0}},
                  {"ceil_mode", int64_t{1}},
                  {"count_include_pad", int64_t{1}}},
                 {3, 3},
                 {2, 2},
                 {},
                 {1, 1, 0, 0},
                 {3, 3},
                 true},
        // SAME_LOWER, in 6, k 3, s 2: out 3, total pad 1 at the start.
        PoolCase{"AvgSameLower",
                 false,
                 {1, 2, 6, 6},
                 {{"kernel_shape", Ints{3, 3}},
                  {"strides", Ints{2, 2}},
                  {"auto_pad", std::string("SAME_LOWER")}},
                 {3, 3},
                 {2, 2},
                 {},
                 {1, 1, 0, 0},
                 {3, 3}},
        PoolCase{"Avg3dValid",
                 false,
                 {1, 2, 5, 4, 6},
                 {{"kernel_shape", Ints{2, 3, 2}},
                  {"strides", Ints{2, 1, 2}},
                  {"auto_pad", std::string("VALID")}},
                 {2, 3, 2},
                 {2, 1, 2},
                 {},
                 {},
                 {2, 2, 3}}),
    [](const ::testing::TestParamInfo<PoolCase>& info) {
      return info.param.name;
    });

// ONNX spec examples (maxpool_with_argmax_2d_precomputed_*).
TEST(MaxPoolSpecTest, ArgmaxRowAndColumnMajor) {
  OneNodeSpec spec;
  spec.op = "MaxPool";
  spec.num_outputs = 2;
  spec.attributes = {{"kernel_shape", Ints{2, 2}},
                     {"strides", Ints{2, 2}},
                     {"storage_order", int64_t{1}}};
  spec.inputs = {NodeInput::Fed(Iota({1, 1, 5, 5}))};
  QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
  EXPECT_THAT(r.outputs[0].ToVector<float>(), ElementsAre(7, 9, 17, 19));
  EXPECT_THAT(r.outputs[1].ToVector<int64_t>(), ElementsAre(6, 16, 8, 18));

  spec.attributes = {{"kernel_shape", Ints{5, 5}}, {"pads", Ints{2, 2, 2, 2}}};
  QFORGE_ASSERT_OK_AND_ASSIGN(r, RunOneNode(spec));
  EXPECT_THAT(
      r.outputs[0].ToVector<float>(),
      ElementsAreArray({13, 14, 15, 15, 15, 18, 19, 20, 20, 20, 23, 24, 25,
                        25, 25, 23, 24, 25, 25, 25, 23, 24, 25, 25, 25}));
  EXPECT_THAT(
      r.outputs[1].ToVector<int64_t>(),
      ElementsAreArray({12, 13, 14, 14, 14, 17, 18, 19, 19, 19, 22, 23, 24,
                        24, 24, 22, 23, 24, 24, 24, 22, 23, 24, 24, 24}));
}

TEST(MaxPoolSpecTest, Uint8) {
  std::vector<uint8_t> v(25);
  std::iota(v.begin(), v.end(), uint8_t{1});
  OneNodeSpec spec;
  spec.op = "MaxPool";
  spec.attributes = {{"kernel_shape", Ints{5, 5}}, {"pads", Ints{2, 2, 2, 2}}};
  spec.inputs = {NodeInput::Fed(Tensor::FromVector<uint8_t>({1, 1, 5, 5}, v))};
  QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
  EXPECT_EQ(r.outputs[0].dtype(), DataType::kUint8);
  EXPECT_THAT(
      r.outputs[0].ToVector<uint8_t>(),
      ElementsAreArray({13, 14, 15, 15, 15, 18, 19, 20, 20, 20, 23, 24, 25,
                        25, 25, 23, 24, 25, 25, 25, 23, 24, 25, 25, 25}));
}

TEST(AveragePoolSpecTest, PrecomputedPads) {
  OneNodeSpec spec;
  spec.op = "AveragePool";
  spec.attributes = {{"kernel_shape", Ints{5, 5}}, {"pads", Ints{2, 2, 2, 2}}};
  spec.inputs = {NodeInput::Fed(Iota({1, 1, 5, 5}))};
  QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
  EXPECT_TRUE(AllClose(
      r.outputs[0],
      Tensor::FromVector<float>(
          {1, 1, 5, 5},
          {7,  7.5,  8,  8.5,  9,  9.5,  10, 10.5, 11, 11.5, 12, 12.5, 13, 13.5,
           14, 14.5, 15, 15.5, 16, 16.5, 17, 17.5, 18, 18.5, 19})));
  spec.attributes["count_include_pad"] = int64_t{1};
  QFORGE_ASSERT_OK_AND_ASSIGN(r, RunOneNode(spec));
  EXPECT_TRUE(AllClose(
      r.outputs[0],
      Tensor::FromVector<float>(
          {1, 1, 5, 5}, {2.52,  3.6,  4.8,  4.08, 3.24, 4.56, 6.4,  8.4, 7.04,
                         5.52,  7.2,  10,   13,   10.8, 8.4,  6.96, 9.6, 12.4,
                         10.24, 7.92, 6.12, 8.4,  10.8, 8.88, 6.84})));
}

TEST(GlobalPoolTest, BothLayouts) {
  Tensor x = RandomTensor({2, 3, 4, 5}, 3);
  Tensor mean(DataType::kFloat32, {2, 3, 1, 1}),
      max(DataType::kFloat32, {2, 3, 1, 1});
  for (int64_t nc = 0; nc < 6; ++nc) {
    double s = 0, m = -1e30;
    for (int64_t i = 0; i < 20; ++i) {
      s += x.data<float>()[nc * 20 + i];
      m = std::max<double>(m, x.data<float>()[nc * 20 + i]);
    }
    mean.data<float>()[nc] = static_cast<float>(s / 20);
    max.data<float>()[nc] = static_cast<float>(m);
  }
  for (const char* op : {"GlobalAveragePool", "GlobalMaxPool"}) {
    for (Layout layout : {Layout::kNCHW, Layout::kNHWC}) {
      SCOPED_TRACE(absl::StrCat(op, " ", LayoutName(layout)));
      OneNodeSpec spec;
      spec.op = op;
      spec.layout = layout;
      spec.inputs = {NodeInput::Fed(layout == Layout::kNHWC ? ToNhwc(x) : x)};
      QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult r, RunOneNode(spec));
      EXPECT_EQ(r.inferred[0], Shape(r.outputs[0].dims()));
      Tensor y = layout == Layout::kNHWC ? ToNchw(r.outputs[0]) : r.outputs[0];
      EXPECT_TRUE(AllClose(y, std::string(op) == "GlobalMaxPool" ? max : mean));
    }
  }
}

TEST(PoolErrorTest, BadAttributes) {
  OneNodeSpec spec;
  spec.op = "MaxPool";
  spec.inputs = {NodeInput::Fed(RandomTensor({1, 1, 4, 4}, 1))};
  EXPECT_THAT(RunOneNode(spec), StatusIs(absl::StatusCode::kInvalidArgument,
                                         AllOf(HasSubstr("(MaxPool)"),
                                               HasSubstr("kernel_shape"))));
  spec.attributes = {{"kernel_shape", Ints{5, 5}}};
  EXPECT_THAT(RunOneNode(spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("larger than the padded input")));
  spec.attributes = {{"kernel_shape", Ints{2, 2}},
                     {"storage_order", int64_t{2}}};
  EXPECT_THAT(RunOneNode(spec), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("storage_order")));
  spec.attributes = {{"kernel_shape", Ints{2, 2}}, {"ceil_mode", int64_t{3}}};
  EXPECT_THAT(RunOneNode(spec), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("ceil_mode")));
  spec.op = "AveragePool";
  spec.attributes = {{"kernel_shape", Ints{2, 2, 2}}};
  EXPECT_THAT(RunOneNode(spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("'kernel_shape' has 3 values")));
}

// --- Resize
// --------------------------------------------------------------------

OneNodeSpec ResizeSpec(Tensor x, std::map<std::string, Attribute> attrs,
                       std::vector<float> scales,
                       std::vector<int64_t> sizes = {},
                       std::vector<float> roi = {}) {
  OneNodeSpec spec;
  spec.op = "Resize";
  spec.opset = 13;
  spec.attributes = std::move(attrs);
  auto n = [](const auto& v) {
    return std::vector<int64_t>{int64_t(v.size())};
  };
  spec.inputs = {NodeInput::Fed(std::move(x))};
  spec.inputs.push_back(
      roi.empty() ? NodeInput::Omitted()
                  : NodeInput::Const(Tensor::FromVector<float>(n(roi), roi)));
  spec.inputs.push_back(
      scales.empty()
          ? NodeInput::Omitted()
          : NodeInput::Const(Tensor::FromVector<float>(n(scales), scales)));
  if (!sizes.empty()) {
    spec.inputs.push_back(
        NodeInput::Const(Tensor::FromVector<int64_t>(n(sizes), sizes)));
  }
  return spec;
}

std::vector<float> ResizeRow(const std::string& coord, const std::string& mode,
                             const std::string& nearest, int64_t out) {
  std::map<std::string, Attribute> attrs = {
      {"mode", mode}, {"coordinate_transformation_mode", coord}};
  if (!nearest.empty()) attrs["nearest_mode"] = nearest;
  auto result = RunOneNode(
      ResizeSpec(Tensor::FromVector<float>({1, 1, 1, 4}, {1, 2, 3, 4}), attrs,
                 {}, {1, 1, 1, out}));
  EXPECT_THAT(result, testing::IsOk());
  if (!result.ok()) return {};
  return result->outputs[0].ToVector<float>();
}

// Input [1, 2, 3, 4] resized to 8 (scale 2); x_original per output index:
//   half_pixel: o/2 - 0.25 = -0.25, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.25
//   asymmetric: o/2        = 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5
//   align_corners: o*3/7   = 0, .43, .86, 1.29, 1.71, 2.14, 2.57, 3
// then rounded by nearest_mode and clamped to [0, 3].
TEST(ResizeTest, NearestModesByHand) {
  EXPECT_THAT(ResizeRow("half_pixel", "nearest", "round_prefer_floor", 8),
              ElementsAre(1, 1, 2, 2, 3, 3, 4, 4));
  EXPECT_THAT(ResizeRow("half_pixel", "nearest", "floor", 8),
              ElementsAre(1, 1, 1, 2, 2, 3, 3, 4));
  EXPECT_THAT(ResizeRow("half_pixel", "nearest", "ceil", 8),
              ElementsAre(1, 2, 2, 3, 3, 4, 4, 4));
  EXPECT_THAT(ResizeRow("asymmetric", "nearest", "round_prefer_ceil", 8),
              ElementsAre(1, 2, 2, 3, 3, 4, 4, 4));
  EXPECT_THAT(ResizeRow("asymmetric", "nearest", "round_prefer_floor", 8),
              ElementsAre(1, 1, 2, 2, 3, 3, 4, 4));
  EXPECT_THAT(ResizeRow("align_corners", "nearest", "round_prefer_floor", 8),
              ElementsAre(1, 1, 2, 2, 3, 3, 4, 4));
  EXPECT_THAT(ResizeRow("align_corners", "nearest", "floor", 8),
              ElementsAre(1, 1, 1, 2, 2, 3, 3, 4));
  // tf_half_pixel_for_nn: (o + 0.5) / 2 = 0.25, 0.75, ... -> round half down.
  EXPECT_THAT(ResizeRow("tf_half_pixel_for_nn", "nearest", "", 8),
              ElementsAre(1, 2, 2, 3, 3, 4, 4, 4));
}

TEST(ResizeTest, LinearByHand) {
  // Asymmetric: 1 + x, the last one clamped at the edge.
  EXPECT_THAT(ResizeRow("asymmetric", "linear", "", 8),
              ElementsAre(1, 1.5, 2, 2.5, 3, 3.5, 4, 4));
  // Half pixel downsample by 2: x = 2o + 0.5 -> 1.5, 3.5.
  EXPECT_THAT(ResizeRow("half_pixel", "linear", "", 2), ElementsAre(1.5, 3.5));
  // pytorch_half_pixel with a single output samples x = 0.
  EXPECT_THAT(ResizeRow("pytorch_half_pixel", "linear", "", 1), ElementsAre(1));
  // half_pixel with a single output samples the centre (x = 1.5).
  EXPECT_THAT(ResizeRow("half_pixel", "linear", "", 1), ElementsAre(2.5));
  // align_corners to 7: x = o * 3 / 6 = o / 2.
  EXPECT_THAT(ResizeRow("align_corners", "linear", "", 7),
              ElementsAre(1, 1.5, 2, 2.5, 3, 3.5, 4));
}

// ONNX spec example resize_upsample_scales_linear (2x2 -> 4x4, half_pixel).
TEST(ResizeTest, BilinearSpecExample) {
  QFORGE_ASSERT_OK_AND_ASSIGN(
      OneNodeResult r,
      RunOneNode(
          ResizeSpec(Tensor::FromVector<float>({1, 1, 2, 2}, {1, 2, 3, 4}),
                     {{"mode", std::string("linear")}}, {1, 1, 2, 2})));
  EXPECT_TRUE(
      AllClose(r.outputs[0],
               Tensor::FromVector<float>(
                   {1, 1, 4, 4}, {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5,
                                  2.75, 3.25, 3.5, 3, 3.25, 3.75, 4})));
  EXPECT_EQ(r.inferred[0], Shape({1, 1, 4, 4}));
}

// Keys cubic with a = -0.75 at t = 0.5: weights W(1.5) = -0.09375 and
// W(0.5) = 0.59375 on indices -1, 0, 1, 2 (index -1 clamps to 0).
TEST(ResizeTest, CubicByHand) {
  auto run = [](bool exclude) {
    std::map<std::string, Attribute> attrs = {
        {"mode", std::string("cubic")},
        {"coordinate_transformation_mode", std::string("asymmetric")},
        {"exclude_outside", int64_t{exclude}}};
    auto r = RunOneNode(
        ResizeSpec(Tensor::FromVector<float>({1, 1, 1, 4}, {1, 2, 3, 4}), attrs,
                   {1, 1, 1, 2}));
    EXPECT_THAT(r, testing::IsOk());
    return r.ok() ? r->outputs[0].ToVector<float>() : std::vector<float>(8);
  };
  std::vector<float> y = run(false);
  ASSERT_EQ(y.size(), 8u);
  EXPECT_FLOAT_EQ(y[0], 1.0f);
  // -0.09375*1 + 0.59375*1 + 0.59375*2 - 0.09375*3.
  EXPECT_FLOAT_EQ(y[1], 1.40625f);
  // Cubic convolution reproduces a linear ramp away from the edges.
  EXPECT_FLOAT_EQ(y[3], 2.5f);
  // exclude_outside drops index -1 and renormalizes: 1.5 / 1.09375.
  y = run(true);
  EXPECT_FLOAT_EQ(y[1], static_cast<float>(1.5 / 1.09375));
}

// tf_crop_and_resize on x[h][w] = 4h + w + 1 (bilinear is exact on it).
// roi H [0.4, 1.2], W [0.6, 1.7], 3x3 output:
//   h = 1.2 + 1.2 o -> 1.2, 2.4, 3.6 (> 3: extrapolated)
//   w = 1.8 + 1.65 o -> 1.8, 3.45, 5.1 (> 3: extrapolated)
TEST(ResizeTest, TfCropAndResizeExtrapolates) {
  QFORGE_ASSERT_OK_AND_ASSIGN(
      OneNodeResult r,
      RunOneNode(ResizeSpec(Iota({1, 1, 4, 4}),
                            {{"mode", std::string("linear")},
                             {"coordinate_transformation_mode",
                              std::string("tf_crop_and_resize")},
                             {"extrapolation_value", 10.0f}},
                            {}, {1, 1, 3, 3},
                            {0, 0, 0.4f, 0.6f, 1, 1, 1.2f, 1.7f})));
  EXPECT_TRUE(
      AllClose(r.outputs[0],
               Tensor::FromVector<float>(
                   {1, 1, 3, 3}, {7.6f, 10, 10, 12.4f, 10, 10, 10, 10, 10}),
               1e-5, 1e-5));
}

// ONNX spec example: nearest with scales [1, 1, 2, 3], and its Upsample-9 twin.
TEST(ResizeTest, NearestScalesAndUpsample) {
  const std::vector<float> expected = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,
                                       3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
  QFORGE_ASSERT_OK_AND_ASSIGN(
      OneNodeResult r,
      RunOneNode(
          ResizeSpec(Tensor::FromVector<float>({1, 1, 2, 2}, {1, 2, 3, 4}),
                     {{"mode", std::string("nearest")}}, {1, 1, 2, 3})));
  EXPECT_THAT(r.outputs[0].ToVector<float>(), ElementsAreArray(expected));
  EXPECT_EQ(r.inferred[0], Shape({1, 1, 4, 6}));
  OneNodeSpec up;
  up.op = "Upsample";
  up.opset = 9;
  up.attributes = {{"mode", std::string("nearest")}};
  up.inputs = {
      NodeInput::Fed(Tensor::FromVector<float>({1, 1, 2, 2}, {1, 2, 3, 4})),
      NodeInput::Const(Tensor::FromVector<float>({4}, {1, 1, 2, 3}))};
  QFORGE_ASSERT_OK_AND_ASSIGN(r, RunOneNode(up));
  EXPECT_THAT(r.outputs[0].ToVector<float>(), ElementsAreArray(expected));
  // Upsample-7 carries the scales as an attribute.
  up.opset = 7;
  up.attributes["scales"] = std::vector<float>{1, 1, 2, 3};
  up.inputs.pop_back();
  QFORGE_ASSERT_OK_AND_ASSIGN(r, RunOneNode(up));
  EXPECT_THAT(r.outputs[0].ToVector<float>(), ElementsAreArray(expected));
  EXPECT_EQ(r.inferred[0], Shape({1, 1, 4, 6}));
}

// In NHWC, scales/sizes keep ONNX axis order; results equal NCHW's.
TEST(ResizeTest, NhwcMatchesNchw) {
  Tensor x = RandomTensor({2, 3, 5, 4}, 21);
  struct Case {
    std::string mode, coord;
    std::vector<float> scales;
    std::vector<int64_t> sizes;
  };
  const std::vector<Case> cases = {
      {"nearest", "half_pixel", {1, 1, 2, 0.5}, {}},
      {"linear", "align_corners", {}, {2, 3, 7, 9}},
      {"cubic", "pytorch_half_pixel", {1, 1, 1.5, 1.75}, {}},
      {"linear", "half_pixel", {}, {2, 3, 3, 2}}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.mode + " " + c.coord);
    std::map<std::string, Attribute> attrs = {
        {"mode", c.mode}, {"coordinate_transformation_mode", c.coord}};
    QFORGE_ASSERT_OK_AND_ASSIGN(
        OneNodeResult nchw,
        RunOneNode(ResizeSpec(x, attrs, c.scales, c.sizes)));
    OneNodeSpec spec = ResizeSpec(ToNhwc(x), attrs, c.scales, c.sizes);
    spec.layout = Layout::kNHWC;
    QFORGE_ASSERT_OK_AND_ASSIGN(OneNodeResult nhwc, RunOneNode(spec));
    EXPECT_EQ(nhwc.inferred[0], Shape(nhwc.outputs[0].dims()));
    EXPECT_TRUE(AllClose(ToNchw(nhwc.outputs[0]), nchw.outputs[0], 1e-6, 1e-6));
  }
}

TEST(ResizeTest, Errors) {
  Tensor x = RandomTensor({1, 1, 2, 2}, 1);
  EXPECT_THAT(RunOneNode(ResizeSpec(x, {{"mode", std::string("bicubic")}},
                                    {1, 1, 2, 2})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("(Resize)"), HasSubstr("'mode'"))));
  EXPECT_THAT(
      RunOneNode(ResizeSpec(x, {}, {1, 1, 2, 2}, {1, 1, 4, 4})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("only one of")));
  EXPECT_THAT(
      RunOneNode(ResizeSpec(x, {}, {1, 2, 2})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("rank 4")));
  EXPECT_THAT(
      RunOneNode(ResizeSpec(x, {}, {1, 1, -2, 2})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("positive")));
  EXPECT_THAT(
      RunOneNode(ResizeSpec(x, {{"antialias", int64_t{1}}}, {1, 1, 2, 2})),
      // The verifier reports every schema problem as InvalidArgument.
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("antialias"), HasSubstr("not supported"))));
  EXPECT_THAT(
      RunOneNode(
          ResizeSpec(x, {{"nearest_mode", std::string("up")}}, {1, 1, 2, 2})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nearest_mode")));
}

}  // namespace
}  // namespace qforge

namespace qforge {
namespace {

// Hostile attributes must give errors, never crashes, hangs or huge
// allocations: every combination below is verified and, when the schema
// accepts it, run.
TEST(NnRobustnessTest, BadAttributesNeverCrash) {
  using testing::NodeInput;
  const int64_t big = int64_t{1} << 40;
  const std::vector<std::pair<std::string, Attribute>> bad_attrs = {
      {"kernel_shape", std::vector<int64_t>{big, big}},
      {"kernel_shape", std::vector<int64_t>{0, 1}},
      {"kernel_shape", std::vector<int64_t>{-3, 2}},
      {"kernel_shape", std::string("3x3")},
      {"strides", std::vector<int64_t>{0, 0}},
      {"strides", std::vector<int64_t>{big, 1}},
      {"dilations", std::vector<int64_t>{big, 1}},
      {"dilations", std::vector<int64_t>{-1, 1}},
      {"pads", std::vector<int64_t>{big, big, big, big}},
      {"pads", std::vector<int64_t>{1}},
      {"pads", std::vector<int64_t>{-2, 0, 0, 0}},
      {"auto_pad", std::string("SAME_MIDDLE")},
      {"auto_pad", int64_t{1}},
      {"group", int64_t{0}},
      {"group", int64_t{-2}},
      {"group", big},
      {"ceil_mode", int64_t{7}},
      {"storage_order", int64_t{-1}},
      {"count_include_pad", int64_t{9}},
      {"axis", int64_t{100}},
      {"axis", int64_t{-100}},
      {"axes", std::vector<int64_t>{7}},
      {"axes", std::vector<int64_t>{1, 1}},
      {"epsilon", std::string("tiny")},
      {"transA", int64_t{2}},
      {"training_mode", int64_t{5}},
      {"mode", std::string("quadratic")},
      {"coordinate_transformation_mode", std::string("sideways")},
      {"cubic_coeff_a", std::vector<float>{1, 2}},
      {"stash_type", int64_t{3}},
  };
  struct OpCase {
    std::string op;
    std::vector<NodeInput> inputs;
    std::map<std::string, Attribute> base;
  };
  auto x4 = [] { return NodeInput::Fed(RandomTensor({1, 2, 5, 5}, 1)); };
  const std::vector<OpCase> ops = {
      {"Conv", {x4(), NodeInput::Const(RandomTensor({2, 2, 3, 3}, 2))}, {}},
      {"Conv",
       {x4(), NodeInput::Const(RandomTensor({2, 1, 3, 3}, 2))},
       {{"group", int64_t{2}}}},
      {"MaxPool", {x4()}, {{"kernel_shape", std::vector<int64_t>{2, 2}}}},
      {"AveragePool", {x4()}, {{"kernel_shape", std::vector<int64_t>{2, 2}}}},
      {"GlobalAveragePool", {x4()}, {}},
      {"BatchNormalization",
       {x4(), NodeInput::Const(RandomTensor({2}, 3)),
        NodeInput::Const(RandomTensor({2}, 4)),
        NodeInput::Const(RandomTensor({2}, 5)),
        NodeInput::Const(RandomTensor({2}, 6, 0.5f, 1))},
       {}},
      {"LayerNormalization",
       {x4(), NodeInput::Const(RandomTensor({5}, 3))},
       {}},
      {"ReduceMean", {x4()}, {}},
      {"Gemm",
       {NodeInput::Fed(RandomTensor({2, 3}, 1)),
        NodeInput::Fed(RandomTensor({3, 4}, 2))},
       {}},
      {"Resize",
       {x4(), NodeInput::Omitted(),
        NodeInput::Const(Tensor::FromVector<float>({4}, {1, 1, 2, 2}))},
       {}},
  };
  int ran = 0;
  for (const OpCase& oc : ops) {
    for (const auto& [name, value] : bad_attrs) {
      for (Layout layout : {Layout::kNCHW, Layout::kNHWC}) {
        OneNodeSpec spec;
        spec.op = oc.op;
        spec.inputs = oc.inputs;
        spec.attributes = oc.base;
        spec.attributes[name] = value;
        spec.layout = layout;
        spec.num_outputs = oc.op == "MaxPool" ? 2 : 1;
        absl::StatusOr<OneNodeResult> r = RunOneNode(spec);
        if (r.ok()) {
          ++ran;
        } else {
          EXPECT_NE(r.status().code(), absl::StatusCode::kInternal)
              << r.status();
          EXPECT_THAT(std::string(r.status().message()),
                      HasSubstr("node 'node'"))
              << oc.op << " " << name;
        }
      }
    }
  }
  EXPECT_GT(ran, 0);  // Irrelevant attributes are ignored.
}

}  // namespace
}  // namespace qforge
