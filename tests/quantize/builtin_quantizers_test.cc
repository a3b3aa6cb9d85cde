// Each built-in quantizer, through the OpHarness, in both arithmetic
// profiles: the spec invariants hold on the quantized node, and the int8
// kernel's output is within 1 LSB per element (mean <= 0.5 LSB) of the float
// op applied to the dequantized inputs, weights and bias (tests/TOLERANCES.md).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/registry.h"
#include "qforge/testing/op_harness.h"
#include "qforge/testing/op_harness_matchers.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::HarnessResult;
using ::qforge::testing::OpHarness;
using ::qforge::testing::WithinLsb;
using ::testing::HasSubstr;

Tensor RandomTensor(std::vector<int64_t> dims, uint64_t seed, float lo = -1.0f,
                    float hi = 1.0f) {
  Tensor t(DataType::kFloat32, std::move(dims));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (float& x : t.values<float>()) x = dist(rng);
  return t;
}

Tensor Ints(std::vector<int64_t> values) {
  const int64_t n = static_cast<int64_t>(values.size());
  return Tensor::FromVector<int64_t>({n}, values);
}

Tensor Floats(std::vector<float> values) {
  const int64_t n = static_cast<int64_t>(values.size());
  return Tensor::FromVector<float>({n}, values);
}

class BuiltinQuantizersTest
    : public ::testing::TestWithParam<ArithmeticProfile> {
 protected:
  void SetUp() override {
    ASSERT_THAT(RegisterBuiltins(registry_), testing::IsOk());
  }

  OpHarness Op(const char* op) { return OpHarness({"", op}, registry_); }

  QuantConfig Config() const {
    QuantConfig c;
    c.profile = GetParam();
    return c;
  }

  // Quantizes and runs `op`; checks the invariants and the error bound.
  HarnessResult Check(const OpHarness& op, double max_lsb = 1.0,
                      double mean_lsb = 0.5) {
    absl::StatusOr<HarnessResult> r = op.QuantizeAndRun(Config());
    EXPECT_THAT(r, testing::IsOk());
    if (!r.ok()) return HarnessResult();
    EXPECT_THAT(r->CheckSpecInvariants(registry_), testing::IsOk())
        << r->ToString();
    EXPECT_THAT(*r, WithinLsb(max_lsb, mean_lsb));
    if (std::getenv("QFORGE_HARNESS_VERBOSE") != nullptr) {
      std::printf("%s\n", r->ToString().c_str());
    }
    return std::move(*r);
  }

  Registry registry_;
};

// --- Linear ops
// ---------------------------------------------------------------

TEST_P(BuiltinQuantizersTest, ConvWithBiasAndPadding) {
  OpHarness op = Op("Conv");
  op.InputShape(0, {1, 3, 8, 8})
      .ConstantInput(1, RandomTensor({4, 3, 3, 3}, 11))
      .ConstantInput(2, RandomTensor({4}, 12, -0.5f, 0.5f))
      .Attr("pads", std::vector<int64_t>{1, 1, 1, 1})
      .Seed(7);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, ConvStrided) {
  OpHarness op = Op("Conv");
  op.InputShape(0, {2, 3, 9, 9})
      .ConstantInput(1, RandomTensor({5, 3, 3, 3}, 13))
      .Attr("strides", std::vector<int64_t>{2, 2})
      .Seed(8);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, ConvSameUpperDilated) {
  OpHarness op = Op("Conv");
  op.InputShape(0, {1, 2, 7, 7})
      .ConstantInput(1, RandomTensor({3, 2, 3, 3}, 14))
      .ConstantInput(2, RandomTensor({3}, 15))
      .Attr("auto_pad", std::string("SAME_UPPER"))
      .Attr("dilations", std::vector<int64_t>{2, 2})
      .InputRange(0, -2.0f, 3.0f)
      .Seed(9);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, ConvGrouped) {
  OpHarness op = Op("Conv");
  op.InputShape(0, {1, 4, 6, 6})
      .ConstantInput(1, RandomTensor({6, 2, 3, 3}, 16))
      .ConstantInput(2, RandomTensor({6}, 17))
      .Attr("group", int64_t{2})
      .Attr("pads", std::vector<int64_t>{1, 0, 1, 0})
      .Seed(10);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, ConvDepthwise) {
  OpHarness op = Op("Conv");
  op.InputShape(0, {1, 4, 7, 7})
      .ConstantInput(1, RandomTensor({4, 1, 3, 3}, 18))
      .ConstantInput(2, RandomTensor({4}, 19))
      .Attr("group", int64_t{4})
      .Attr("pads", std::vector<int64_t>{1, 1, 1, 1})
      .Attr("strides", std::vector<int64_t>{2, 2})
      .Seed(11);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, ConvDepthwiseMultiplier) {
  OpHarness op = Op("Conv");
  op.InputShape(0, {1, 3, 5, 5})
      .ConstantInput(1, RandomTensor({6, 1, 3, 3}, 20))
      .Attr("group", int64_t{3})
      .Seed(12);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, GemmTransB) {
  OpHarness op = Op("Gemm");
  op.InputShape(0, {3, 16})
      .ConstantInput(1, RandomTensor({10, 16}, 21))
      .ConstantInput(2, RandomTensor({10}, 22))
      .Attr("transB", int64_t{1})
      .Seed(13);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, GemmNoTrans) {
  OpHarness op = Op("Gemm");
  op.InputShape(0, {2, 8}).ConstantInput(1, RandomTensor({8, 5}, 23)).Seed(14);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, MatMulConstantWeights) {
  OpHarness op = Op("MatMul");
  op.InputShape(0, {2, 3, 6})
      .ConstantInput(1, RandomTensor({6, 4}, 24))
      .Seed(15);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, MatMulTwoActivations) {
  OpHarness op = Op("MatMul");
  op.InputShape(0, {2, 3, 4})
      .InputShape(1, {2, 4, 5})
      .InputRange(1, -2.0f, 1.0f)
      .Seed(16);
  Check(op);
}

// --- Element-wise binary
// ---------------------------------------------------------

TEST_P(BuiltinQuantizersTest, AddSameShape) {
  OpHarness op = Op("Add");
  op.InputShape(0, {1, 3, 4, 4})
      .InputShape(1, {1, 3, 4, 4})
      .InputRange(1, -3.0f, 0.5f)
      .Seed(17);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, AddBroadcast) {
  OpHarness op = Op("Add");
  op.InputShape(0, {2, 3, 4, 4})
      .InputShape(1, {1, 3, 1, 1})
      .InputRange(1, 0.0f, 5.0f)
      .Seed(18);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, SubBroadcast) {
  OpHarness op = Op("Sub");
  op.InputShape(0, {2, 5})
      .InputShape(1, {5})
      .InputRange(0, -2.0f, 2.0f)
      .Seed(19);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, MulBroadcastAndConstant) {
  OpHarness op = Op("Mul");
  op.InputShape(0, {1, 2, 3, 3})
      .InputShape(1, {1, 2, 1, 3})
      .InputRange(1, -4.0f, 4.0f)
      .Seed(20);
  Check(op);
  OpHarness by_constant = Op("Mul");
  by_constant.InputShape(0, {1, 4, 2, 2})
      .ConstantInput(1, Tensor::Scalar<float>(4.0f))
      .Seed(21);
  Check(by_constant);
}

// --- Element-wise unary
// ----------------------------------------------------------

TEST_P(BuiltinQuantizersTest, Relu) {
  OpHarness op = Op("Relu");
  op.InputShape(0, {2, 64}).InputRange(0, -3.0f, 5.0f).Seed(22);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, Clip) {
  OpHarness op = Op("Clip");
  op.InputShape(0, {2, 64})
      .ConstantInput(1, Tensor::Scalar<float>(-0.5f))
      .ConstantInput(2, Tensor::Scalar<float>(1.5f))
      .InputRange(0, -3.0f, 3.0f)
      .Seed(23);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, LeakyRelu) {
  OpHarness op = Op("LeakyRelu");
  op.InputShape(0, {2, 64})
      .Attr("alpha", 0.1f)
      .InputRange(0, -4.0f, 4.0f)
      .Seed(24);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, Sigmoid) {
  OpHarness op = Op("Sigmoid");
  op.InputShape(0, {4, 64}).InputRange(0, -8.0f, 8.0f).Seed(25);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, Tanh) {
  OpHarness op = Op("Tanh");
  op.InputShape(0, {4, 64}).InputRange(0, -3.0f, 3.0f).Seed(26);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, HardSwish) {
  OpHarness op = Op("HardSwish");
  op.InputShape(0, {4, 64}).InputRange(0, -6.0f, 6.0f).Seed(27);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, Softmax) {
  OpHarness op = Op("Softmax");
  op.InputShape(0, {4, 10}).InputRange(0, -4.0f, 4.0f).Seed(28);
  Check(op);
}

// --- Pooling, reductions
// ----------------------------------------------------------

TEST_P(BuiltinQuantizersTest, MaxPool) {
  OpHarness op = Op("MaxPool");
  op.InputShape(0, {1, 3, 8, 8})
      .Attr("kernel_shape", std::vector<int64_t>{2, 2})
      .Attr("strides", std::vector<int64_t>{2, 2})
      .Seed(29);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, AveragePoolPadded) {
  OpHarness op = Op("AveragePool");
  op.InputShape(0, {1, 2, 7, 7})
      .Attr("kernel_shape", std::vector<int64_t>{3, 3})
      .Attr("pads", std::vector<int64_t>{1, 1, 1, 1})
      .Attr("strides", std::vector<int64_t>{2, 2})
      .Seed(30);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, GlobalAveragePool) {
  OpHarness op = Op("GlobalAveragePool");
  op.InputShape(0, {2, 4, 5, 5}).InputRange(0, -1.0f, 3.0f).Seed(31);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, ReduceMeanSpatial) {
  OpHarness op = Op("ReduceMean");
  op.InputShape(0, {2, 3, 4, 4})
      .Attr("axes", std::vector<int64_t>{2, 3})
      .Attr("keepdims", int64_t{0})
      .Seed(32);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, ReduceMeanNhwcSpatial) {
  // TFLite's MEAN over H, W of an NHWC tensor, imported as is.
  OpHarness op = Op("ReduceMean");
  op.InputShape(0, {2, 4, 4, 3})
      .Attr("axes", std::vector<int64_t>{1, 2})
      .Attr("keepdims", int64_t{1})
      .Seed(135);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, ReduceMeanLastAxisNoKeepDims) {
  OpHarness op = Op("ReduceMean");
  op.InputShape(0, {3, 5, 7})
      .InputRange(0, -2.0f, 1.0f)
      .Attr("axes", std::vector<int64_t>{-1})
      .Attr("keepdims", int64_t{0})
      .Seed(136);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, ReduceMeanAllAxes) {
  OpHarness op = Op("ReduceMean");
  op.InputShape(0, {2, 3, 4}).Seed(137);
  Check(op);
}

// --- Data movement
// -----------------------------------------------------------------

TEST_P(BuiltinQuantizersTest, ConcatOfDifferentRanges) {
  OpHarness op = Op("Concat");
  op.InputShape(0, {1, 2, 4, 4})
      .InputShape(1, {1, 3, 4, 4})
      .InputRange(1, -4.0f, 2.0f)
      .Attr("axis", int64_t{1})
      .Seed(33);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, Identity) {
  OpHarness op = Op("Identity");
  op.InputShape(0, {3, 7}).Seed(34);
  Check(op, 0.0, 0.0);
}

TEST_P(BuiltinQuantizersTest, ResizeNearest) {
  OpHarness op = Op("Resize");
  op.InputShape(0, {1, 2, 3, 3})
      .OmitInput(1)
      .ConstantInput(2, Floats({1.0f, 1.0f, 2.0f, 2.0f}))
      .Attr("mode", std::string("nearest"))
      .Seed(35);
  Check(op, 0.0, 0.0);
}

TEST_P(BuiltinQuantizersTest, ResizeLinear) {
  OpHarness op = Op("Resize");
  op.InputShape(0, {1, 2, 3, 3})
      .OmitInput(1)
      .ConstantInput(2, Floats({1.0f, 1.0f, 2.0f, 2.0f}))
      .Attr("mode", std::string("linear"))
      .Seed(36);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, PadConstantUsesZeroPoint) {
  OpHarness op = Op("Pad");
  op.InputShape(0, {1, 2, 3, 3})
      .ConstantInput(1, Ints({0, 0, 1, 2, 0, 0, 2, 1}))
      .InputRange(0, 0.5f, 3.0f)  // zero point far from the data
      .Seed(37);
  HarnessResult r = Check(op, 0.0, 0.0);
}

// Dtype-generic tensor kernels run on int8; output params equal the input's.
TEST_P(BuiltinQuantizersTest, TensorOps) {
  {
    OpHarness op = Op("Reshape");
    op.InputShape(0, {2, 3, 4}).ConstantInput(1, Ints({6, 4})).Seed(38);
    Check(op, 0.0, 0.0);
  }
  {
    OpHarness op = Op("Flatten");
    op.InputShape(0, {2, 3, 2, 2}).Seed(39);
    Check(op, 0.0, 0.0);
  }
  {
    OpHarness op = Op("Transpose");
    op.InputShape(0, {2, 3, 4})
        .Attr("perm", std::vector<int64_t>{2, 0, 1})
        .Seed(40);
    Check(op, 0.0, 0.0);
  }
  {
    OpHarness op = Op("Squeeze");
    op.InputShape(0, {2, 1, 4}).ConstantInput(1, Ints({1})).Seed(41);
    Check(op, 0.0, 0.0);
  }
  {
    OpHarness op = Op("Unsqueeze");
    op.InputShape(0, {2, 4}).ConstantInput(1, Ints({0})).Seed(42);
    Check(op, 0.0, 0.0);
  }
  {
    OpHarness op = Op("Slice");
    op.InputShape(0, {4, 6})
        .ConstantInput(1, Ints({1, 0}))
        .ConstantInput(2, Ints({3, 5}))
        .ConstantInput(3, Ints({0, 1}))
        .ConstantInput(4, Ints({1, 2}))
        .Seed(43);
    Check(op, 0.0, 0.0);
  }
  {
    OpHarness op = Op("Split");
    op.InputShape(0, {2, 6}).Attr("axis", int64_t{1}).NumOutputs(2).Seed(44);
    Check(op, 0.0, 0.0);
  }
}

// --- Degenerate cases
// ------------------------------------------------------------------

TEST_P(BuiltinQuantizersTest, ConvWeightChannelAllEqualOrZero) {
  Tensor w = RandomTensor({3, 2, 3, 3}, 45);
  for (int64_t i = 0; i < 18; ++i) w.data<float>()[i] = 0.3f;   // Channel 0.
  for (int64_t i = 18; i < 36; ++i) w.data<float>()[i] = 0.0f;  // Channel 1.
  OpHarness op = Op("Conv");
  op.InputShape(0, {1, 2, 5, 5})
      .ConstantInput(1, std::move(w))
      .ConstantInput(2, Floats({0.1f, -0.2f, 0.3f}))
      .Seed(46);
  Check(op);
}

TEST_P(BuiltinQuantizersTest, TinyWeightScaleRaisedForBias) {
  Tensor w = RandomTensor({2, 4}, 47, -1e-9f, 1e-9f);
  OpHarness op = Op("Gemm");
  op.InputShape(0, {3, 4})
      .ConstantInput(1, std::move(w))
      .ConstantInput(2, Floats({100.0f, -50.0f}))
      .Attr("transB", int64_t{1})
      .Seed(48);
  HarnessResult r = Check(op);
  EXPECT_THAT(r.Note(), HasSubstr("raised")) << r.ToString();
  EXPECT_THAT(r.Note(), HasSubstr("fits in int32"));
}

TEST_P(BuiltinQuantizersTest, AllZeroActivations) {
  OpHarness conv = Op("Conv");
  conv.InputValues(0, Tensor(DataType::kFloat32, {1, 2, 4, 4}))
      .ConstantInput(1, RandomTensor({3, 2, 3, 3}, 49))
      .ConstantInput(2, Floats({0.5f, -0.25f, 0.0f}))
      .Seed(50);
  Check(conv);
  OpHarness add = Op("Add");
  add.InputValues(0, Tensor(DataType::kFloat32, {2, 3}))
      .InputShape(1, {2, 3})
      .Seed(51);
  Check(add);
}

TEST_P(BuiltinQuantizersTest, ConstantActivations) {
  Tensor x(DataType::kFloat32, {1, 2, 3, 3});
  for (float& v : x.values<float>()) v = 0.75f;
  OpHarness op = Op("MaxPool");
  op.InputValues(0, std::move(x))
      .Attr("kernel_shape", std::vector<int64_t>{2, 2})
      .Seed(52);
  Check(op);
}

INSTANTIATE_TEST_SUITE_P(Profiles, BuiltinQuantizersTest,
                         ::testing::Values(ArithmeticProfile::kOnnxRuntime,
                                           ArithmeticProfile::kTfliteReference),
                         [](const auto& info) {
                           return std::string(
                               ArithmeticProfileName(info.param));
                         });

}  // namespace
}  // namespace qforge
