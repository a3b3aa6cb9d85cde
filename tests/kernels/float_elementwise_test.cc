// Elementwise ops, activations, Softmax, Identity and Cast: schemas and
// float kernels. Expected values are hand-computed or come from the
// defining formula evaluated here in double precision.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "op_test_util.h"
#include "qforge/core/float16.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::OpTest;
using ::qforge::testing::StatusIs;
using ::testing::AllOf;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::FloatNear;
using ::testing::HasSubstr;
using ::testing::Pointwise;

template <typename T>
Tensor T1(std::vector<int64_t> dims, std::vector<T> v) {
  return Tensor::FromVector<T>(std::move(dims), v);
}
Tensor F(std::vector<int64_t> dims, std::vector<float> v) {
  return Tensor::FromVector<float>(std::move(dims), v);
}
Tensor H(std::vector<int64_t> dims, std::vector<float> v) {
  std::vector<Half> h;
  for (float f : v) h.push_back(Half{FloatToHalf(f)});
  return Tensor::FromVector<Half>(std::move(dims), h);
}
Tensor B(std::vector<int64_t> dims, std::vector<bool> v) {
  Tensor t(DataType::kBool, std::move(dims));
  for (size_t i = 0; i < v.size(); ++i) t.data<bool>()[i] = v[i];
  return t;
}
std::vector<float> HalfValues(const Tensor& t) {
  std::vector<float> out;
  for (Half h : t.values<Half>()) out.push_back(HalfToFloat(h.bits));
  return out;
}

// --- Add / Sub / Mul / Div ---------------------------------------------------

TEST(AddTest, SameShape) {
  OpTest op("Add");
  op.Input(F({2, 2}, {1, 2, 3, 4})).Input(F({2, 2}, {10, 20, 30, 40}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (std::vector<int64_t>{2, 2}));
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(11, 22, 33, 44));
}

TEST(AddTest, BroadcastsTrailingVector) {
  OpTest op("Add");
  op.Input(F({2, 3}, {0, 1, 2, 3, 4, 5})).Constant(F({3}, {10, 20, 30}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (std::vector<int64_t>{2, 3}));
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(10, 21, 32, 13, 24, 35));
}

TEST(AddTest, BroadcastsBothWays) {
  // a: [2,1,3], b: [4,1] -> [2,4,3]; out[i][j][k] = a[i][0][k] + b[j][0].
  std::vector<float> a(6), b(4);
  for (int i = 0; i < 6; ++i) a[i] = 100.0f * i;
  for (int j = 0; j < 4; ++j) b[j] = j + 0.5f;
  OpTest op("Add");
  op.Input(F({2, 1, 3}, a)).Input(F({4, 1}, b));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  ASSERT_EQ(y.dims(), (std::vector<int64_t>{2, 4, 3}));
  std::vector<float> expected;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 3; ++k) expected.push_back(a[i * 3 + k] + b[j]);
  EXPECT_THAT(y.ToVector<float>(), ElementsAreArray(expected));
}

TEST(AddTest, BroadcastsMiddleAxis) {
  // a: [2,3,4], b: [3,1] -> out[i][j][k] = a[i][j][k] + b[j].
  std::vector<float> a(24);
  for (int i = 0; i < 24; ++i) a[i] = static_cast<float>(i);
  OpTest op("Add");
  op.Input(F({2, 3, 4}, a)).Input(F({3, 1}, {1000, 2000, 3000}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  std::vector<float> expected;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k)
        expected.push_back(a[i * 12 + j * 4 + k] + 1000.0f * (j + 1));
  EXPECT_THAT(y.ToVector<float>(), ElementsAreArray(expected));
}

TEST(AddTest, ScalarOperand) {
  OpTest op("Add");
  op.Input(Tensor::Scalar<float>(0.5f)).Input(F({3}, {1, 2, 3}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (std::vector<int64_t>{3}));
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(1.5f, 2.5f, 3.5f));
}

TEST(AddTest, EmptyOperandGivesEmptyOutput) {
  OpTest op("Add");
  op.Input(F({0, 3}, {})).Input(F({3}, {1, 2, 3}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (std::vector<int64_t>{0, 3}));
}

TEST(AddTest, SymbolicDimsBroadcastAtInference) {
  OpTest op("Add");
  op.Input(F({2, 3}, std::vector<float>(6, 1)),
           Shape({Dim::Symbol("n"), Dim::Static(3)}))
      .Input(F({1, 3}, {1, 2, 3}));
  ASSERT_THAT(op.Verify(), IsOk());
  EXPECT_EQ(op.output(0).shape(), Shape({Dim::Symbol("n"), Dim::Static(3)}));
  EXPECT_EQ(op.output(0).dtype(), DataType::kFloat32);
}

TEST(AddTest, IncompatibleShapesFailAtVerification) {
  OpTest op("Add");
  op.Input(F({2, 3}, std::vector<float>(6)))
      .Input(F({4}, std::vector<float>(4)));
  EXPECT_THAT(op.Verify(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("node 'test_node' (Add)"),
                             HasSubstr("[2,3]"), HasSubstr("[4]"))));
}

TEST(AddTest, IncompatibleShapesFailAtRunTime) {
  OpTest op("Add");
  op.Input(F({2, 3}, std::vector<float>(6)), Shape())
      .Input(F({4}, std::vector<float>(4)), Shape());
  EXPECT_THAT(op.Run(), StatusIs(absl::StatusCode::kInvalidArgument,
                                 AllOf(HasSubstr("test_node"),
                                       HasSubstr("do not broadcast"))));
}

TEST(AddTest, Float64MeetingFloat32IsAnError) {
  OpTest op("Add");
  op.Input(F({2}, {1, 2})).Input(T1<double>({2}, {1, 2}));
  EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                    AllOf(HasSubstr("node 'test_node' (Add)"),
                                          HasSubstr("'in0' is float32"),
                                          HasSubstr("'in1' is float64"))));
}

TEST(AddTest, BoolIsRejected) {
  OpTest op("Add");
  op.Input(B({1}, {true})).Input(B({1}, {true}));
  EXPECT_THAT(op.Verify(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bool")));
}

TEST(AddTest, IntegersWrapAround) {
  {
    OpTest op("Add");
    op.Input(T1<int8_t>({2}, {100, -100})).Input(T1<int8_t>({2}, {100, -100}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<int8_t>(), ElementsAre(-56, 56));
  }
  {
    OpTest op("Add");
    op.Input(T1<uint8_t>({2}, {200, 1})).Input(T1<uint8_t>({1}, {100}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<uint8_t>(), ElementsAre(44, 101));
  }
  {
    constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
    OpTest op("Add");
    op.Input(T1<int32_t>({1}, {kMax})).Input(T1<int32_t>({1}, {1}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<int32_t>(),
                ElementsAre(std::numeric_limits<int32_t>::min()));
  }
}

TEST(AddTest, Float16) {
  OpTest op("Add");
  op.Input(H({2}, {1.5f, -2.0f})).Input(H({2}, {2.25f, 0.125f}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(HalfValues(y), ElementsAre(3.75f, -1.875f));
}

TEST(SubTest, BroadcastsFirstOperand) {
  OpTest op("Sub");
  op.Input(F({3}, {1, 2, 3})).Input(F({2, 3}, {1, 1, 1, 10, 10, 10}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(0, 1, 2, -9, -8, -7));
}

TEST(SubTest, Int64AndUint16) {
  {
    OpTest op("Sub");
    op.Input(T1<int64_t>({2}, {5, -5})).Input(T1<int64_t>({}, {7}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<int64_t>(), ElementsAre(-2, -12));
  }
  {
    OpTest op("Sub");
    op.Input(T1<uint16_t>({2}, {1, 65535})).Input(T1<uint16_t>({2}, {2, 1}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<uint16_t>(), ElementsAre(65535, 65534));
  }
}

TEST(MulTest, FloatAndWrappingUint16) {
  {
    OpTest op("Mul");
    op.Input(F({2, 2}, {1, 2, 3, 4})).Input(F({2, 1}, {-1, 0.5f}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<float>(), ElementsAre(-1, -2, 1.5f, 2));
  }
  {
    // 65535 * 65535 = 4294836225 = 0xFFFE0001 -> low 16 bits 1.
    OpTest op("Mul");
    op.Input(T1<uint16_t>({1}, {65535})).Input(T1<uint16_t>({1}, {65535}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<uint16_t>(), ElementsAre(1));
  }
}

TEST(DivTest, Float) {
  OpTest op("Div");
  op.Input(F({3}, {1, -3, 1})).Input(F({3}, {4, 2, 0}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  auto v = y.ToVector<float>();
  EXPECT_EQ(v[0], 0.25f);
  EXPECT_EQ(v[1], -1.5f);
  EXPECT_TRUE(std::isinf(v[2]) && v[2] > 0);
}

TEST(DivTest, IntegersTruncateTowardsZero) {
  OpTest op("Div");
  op.Input(T1<int32_t>({4}, {7, -7, 7, std::numeric_limits<int32_t>::min()}))
      .Input(T1<int32_t>({4}, {2, 2, -2, -1}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<int32_t>(),
              ElementsAre(3, -3, -3, std::numeric_limits<int32_t>::min()));
}

TEST(DivTest, IntegerDivisionByZeroIsAnError) {
  OpTest op("Div");
  op.Input(T1<uint8_t>({3}, {1, 2, 3})).Input(T1<uint8_t>({3}, {1, 0, 1}));
  EXPECT_THAT(op.Run(), StatusIs(absl::StatusCode::kInvalidArgument,
                                 AllOf(HasSubstr("test_node"),
                                       HasSubstr("division by zero"),
                                       HasSubstr("element 1"))));
}

// --- Pow ---------------------------------------------------------------------

TEST(PowTest, FloatBroadcast) {
  OpTest op("Pow");
  op.Input(F({2, 2}, {1, 2, 3, 4})).Input(F({2}, {2, 0.5f}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<float>(),
              Pointwise(FloatNear(1e-6f),
                        std::vector<float>{1, std::sqrt(2.0f), 9, 2}));
}

TEST(PowTest, MixedTypes) {
  {
    OpTest op("Pow");
    op.Input(F({3}, {1, 2, -3})).Input(T1<int64_t>({3}, {4, -1, 3}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_EQ(y.dtype(), DataType::kFloat32);
    EXPECT_THAT(y.ToVector<float>(), ElementsAre(1, 0.5f, -27));
  }
  {
    OpTest op("Pow");
    op.Input(T1<int32_t>({3}, {2, 3, 4})).Input(F({3}, {3, 2, 0.5f}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_EQ(y.dtype(), DataType::kInt32);
    EXPECT_THAT(y.ToVector<int32_t>(), ElementsAre(8, 9, 2));
  }
}

TEST(PowTest, IntegerExponents) {
  OpTest op("Pow");
  op.Input(T1<int64_t>({6}, {3, -2, 2, 1, -1, 10}))
      .Input(T1<int64_t>({6}, {4, 3, -1, -5, -3, 0}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<int64_t>(), ElementsAre(81, -8, 0, 1, -1, 1));
}

TEST(PowTest, IntegerBaseIsExactBeyondDoublePrecision) {
  // 3^39 = 4052555153018976267 needs 62 bits: exact only in integer math.
  OpTest op("Pow");
  op.Input(T1<int64_t>({1}, {3})).Input(T1<int32_t>({1}, {39}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<int64_t>(), ElementsAre(4052555153018976267LL));
}

TEST(PowTest, RejectsInt8Base) {
  OpTest op("Pow");
  op.Input(T1<int8_t>({1}, {2})).Input(T1<int8_t>({1}, {2}));
  EXPECT_THAT(op.Verify(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("int8")));
}

// --- unary maps --------------------------------------------------------------

const std::vector<float> kSamples = {-4.5f, -1.0f, -0.25f, 0.0f,
                                     0.3f,  1.0f,  2.5f,   9.0f};

// Runs a float32 unary op over kSamples and compares with `f` in double.
template <typename Fn>
void ExpectUnaryFloat(const char* op_type, Fn f, float tol,
                      std::map<std::string, Attribute> attrs = {}) {
  SCOPED_TRACE(op_type);
  OpTest op(op_type);
  op.Input(F({2, 4}, kSamples));
  for (auto& [k, v] : attrs) op.Attr(k, v);
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  ASSERT_EQ(y.dims(), (std::vector<int64_t>{2, 4}));
  std::vector<float> expected;
  for (float x : kSamples) expected.push_back(static_cast<float>(f(double{x})));
  EXPECT_THAT(y.ToVector<float>(), Pointwise(FloatNear(tol), expected));
}

TEST(UnaryTest, FloatFormulas) {
  ExpectUnaryFloat(
      "Exp", [](double x) { return std::exp(x); }, 1e-3f);
  ExpectUnaryFloat(
      "Erf", [](double x) { return std::erf(x); }, 1e-6f);
  ExpectUnaryFloat(
      "Tanh", [](double x) { return std::tanh(x); }, 1e-6f);
  ExpectUnaryFloat(
      "Sigmoid", [](double x) { return 1 / (1 + std::exp(-x)); }, 1e-6f);
  ExpectUnaryFloat(
      "Relu", [](double x) { return x > 0 ? x : 0; }, 0);
  ExpectUnaryFloat(
      "LeakyRelu", [](double x) { return x > 0 ? x : 0.01 * x; }, 1e-6f);
  ExpectUnaryFloat("LeakyRelu", [](double x) { return x > 0 ? x : 0.5 * x; },
                   1e-6f, {{"alpha", 0.5f}});
  ExpectUnaryFloat(
      "HardSigmoid",
      [](double x) { return std::clamp(0.2 * x + 0.5, 0.0, 1.0); }, 1e-6f);
  ExpectUnaryFloat("HardSigmoid",
                   [](double x) { return std::clamp(0.5 * x + 0.6, 0.0, 1.0); },
                   1e-6f, {{"alpha", 0.5f}, {"beta", 0.6f}});
  ExpectUnaryFloat(
      "HardSwish",
      [](double x) { return x * std::clamp(x / 6 + 0.5, 0.0, 1.0); }, 1e-6f);
}

TEST(UnaryTest, HandPickedValues) {
  OpTest op("HardSwish");
  op.Input(F({4}, {-4, -3, 1, 4}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(
      y.ToVector<float>(),
      Pointwise(FloatNear(1e-6f), std::vector<float>{0, 0, 2.0f / 3, 4}));
}

TEST(UnaryTest, SqrtOfNegativeIsNan) {
  OpTest op("Sqrt");
  op.Input(F({3}, {4, 2.25f, -1}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  auto v = y.ToVector<float>();
  EXPECT_EQ(v[0], 2);
  EXPECT_EQ(v[1], 1.5f);
  EXPECT_TRUE(std::isnan(v[2]));
}

TEST(UnaryTest, SigmoidIsStableForLargeInputs) {
  OpTest op("Sigmoid");
  op.Input(F({2}, {-1000, 1000}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(0, 1));
}

TEST(UnaryTest, DoubleAndHalf) {
  {
    OpTest op("Exp");
    op.Input(T1<double>({2}, {1.0, -0.5}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<double>(),
                ElementsAre(DoubleNear(std::exp(1.0), 1e-15),
                            DoubleNear(std::exp(-0.5), 1e-15)));
  }
  {
    OpTest op("Tanh");
    op.Input(H({2}, {0.5f, -2.0f}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_EQ(y.dtype(), DataType::kFloat16);
    // binary16 has an 11-bit significand: relative error <= 2^-11.
    EXPECT_THAT(HalfValues(y), ElementsAre(FloatNear(std::tanh(0.5f), 5e-4f),
                                           FloatNear(std::tanh(-2.0f), 5e-4f)));
  }
}

TEST(UnaryTest, ReluOnIntegers) {
  OpTest op("Relu");
  op.Input(T1<int8_t>({3}, {-128, 0, 127}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<int8_t>(), ElementsAre(0, 0, 127));
}

TEST(UnaryTest, ExpRejectsIntegers) {
  OpTest op("Exp");
  op.Input(T1<int32_t>({1}, {1}));
  EXPECT_THAT(op.Verify(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("test_node"), HasSubstr("int32"))));
}

// --- Clip --------------------------------------------------------------------

TEST(ClipTest, MinAndMaxInputs) {
  OpTest op("Clip");
  op.Input(F({5}, {-3, -1, 0, 1, 3}))
      .Constant(Tensor::Scalar<float>(-1.5f))
      .Constant(Tensor::Scalar<float>(2));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(-1.5f, -1, 0, 1, 2));
}

TEST(ClipTest, OnlyMax) {
  OpTest op("Clip");
  op.Input(F({3}, {-30, 0, 30})).Omitted().Input(Tensor::Scalar<float>(10));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(-30, 0, 10));
}

TEST(ClipTest, NoBoundsIsIdentity) {
  OpTest op("Clip");
  op.Input(F({2}, {-1e30f, 1e30f}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(-1e30f, 1e30f));
}

TEST(ClipTest, Opset6Attributes) {
  OpTest op("Clip", 6);
  op.Input(F({3}, {-5, 0.5f, 5})).Attr("min", 0.0f).Attr("max", 1.0f);
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(0, 0.5f, 1));
}

TEST(ClipTest, MinAboveMaxGivesMax) {
  OpTest op("Clip");
  op.Input(F({3}, {-5, 0, 5}))
      .Constant(Tensor::Scalar<float>(2))
      .Constant(Tensor::Scalar<float>(1));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(1, 1, 1));
}

TEST(ClipTest, Int8) {
  OpTest op("Clip");
  op.Input(T1<int8_t>({4}, {-128, -5, 5, 127}))
      .Constant(Tensor::Scalar<int8_t>(-10));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<int8_t>(), ElementsAre(-10, -5, 5, 127));
}

TEST(ClipTest, NonScalarBoundIsAnError) {
  OpTest op("Clip");
  op.Input(F({2}, {1, 2})).Constant(F({2}, {0, 0}));
  EXPECT_THAT(op.Verify(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("test_node"), HasSubstr("scalar"))));
}

TEST(ClipTest, BoundOfOtherTypeIsAnError) {
  OpTest op("Clip");
  op.Input(F({2}, {1, 2})).Constant(Tensor::Scalar<double>(0));
  EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("float64")));
}

// --- Softmax -----------------------------------------------------------------

// softmax of x over `n` elements at stride `inner`, evaluated in double.
std::vector<float> ReferenceSoftmax(const std::vector<float>& x, int64_t outer,
                                    int64_t n, int64_t inner) {
  std::vector<float> y(x.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < inner; ++j) {
      double sum = 0;
      for (int64_t k = 0; k < n; ++k)
        sum += std::exp(double{x[(o * n + k) * inner + j]});
      for (int64_t k = 0; k < n; ++k) {
        const int64_t i = (o * n + k) * inner + j;
        y[i] = static_cast<float>(std::exp(double{x[i]}) / sum);
      }
    }
  }
  return y;
}

std::vector<float> Ramp(int n, float scale) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = std::sin(i * 1.3f) * scale;
  return v;
}

TEST(SoftmaxTest, HandComputedRow) {
  // e^0 : e^ln2 : e^ln5 = 1 : 2 : 5.
  OpTest op("Softmax");
  op.Input(F({1, 3}, {0, std::log(2.0f), std::log(5.0f)}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(
      y.ToVector<float>(),
      Pointwise(FloatNear(1e-6f), std::vector<float>{0.125f, 0.25f, 0.625f}));
}

TEST(SoftmaxTest, Opset13DefaultAxisIsLast) {
  const auto x = Ramp(24, 3);
  OpTest op("Softmax", 13);
  op.Input(F({2, 3, 4}, x));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<float>(),
              Pointwise(FloatNear(1e-6f), ReferenceSoftmax(x, 6, 4, 1)));
}

TEST(SoftmaxTest, Opset13MiddleAxis) {
  const auto x = Ramp(24, 3);
  OpTest op("Softmax", 13);
  op.Input(F({2, 3, 4}, x)).Attr("axis", int64_t{1});
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<float>(),
              Pointwise(FloatNear(1e-6f), ReferenceSoftmax(x, 2, 3, 4)));
}

TEST(SoftmaxTest, Opset11CoercesTo2D) {
  const auto x = Ramp(24, 3);
  {
    // Default axis 1: each of the 2 batches normalizes over 3 * 4 elements.
    OpTest op("Softmax", 11);
    op.Input(F({2, 3, 4}, x));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<float>(),
                Pointwise(FloatNear(1e-6f), ReferenceSoftmax(x, 2, 12, 1)));
  }
  {
    OpTest op("Softmax", 11);
    op.Input(F({2, 3, 4}, x)).Attr("axis", int64_t{0});
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<float>(),
                Pointwise(FloatNear(1e-6f), ReferenceSoftmax(x, 1, 24, 1)));
  }
}

TEST(SoftmaxTest, LargeInputsDoNotOverflow) {
  OpTest op("Softmax");
  op.Input(F({2}, {1000, 1000 + std::log(3.0f)}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<float>(),
              Pointwise(FloatNear(1e-4f), std::vector<float>{0.25f, 0.75f}));
}

TEST(SoftmaxTest, Float16AndFloat64) {
  {
    OpTest op("Softmax");
    op.Input(H({1, 3}, {0, std::log(2.0f), std::log(5.0f)}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(
        HalfValues(y),
        Pointwise(FloatNear(1e-3f), std::vector<float>{0.125f, 0.25f, 0.625f}));
  }
  {
    OpTest op("Softmax");
    op.Input(T1<double>({2}, {0, std::log(3.0)}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<double>(),
                ElementsAre(DoubleNear(0.25, 1e-15), DoubleNear(0.75, 1e-15)));
  }
}

TEST(SoftmaxTest, BadAxisIsAnError) {
  OpTest op("Softmax");
  op.Input(F({2, 3}, std::vector<float>(6))).Attr("axis", int64_t{2});
  EXPECT_THAT(op.Verify(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("test_node"), HasSubstr("axis 2"),
                             HasSubstr("rank 2"))));
}

TEST(SoftmaxTest, BadAxisIsAnErrorAtRunTimeToo) {
  OpTest op("Softmax");
  op.Input(F({2, 3}, std::vector<float>(6)), Shape()).Attr("axis", int64_t{-3});
  EXPECT_THAT(op.Run(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("test_node"), HasSubstr("axis -3"))));
}

// --- Identity and Cast -------------------------------------------------------

TEST(IdentityTest, AnyType) {
  {
    OpTest op("Identity");
    op.Input(T1<int64_t>({2}, {-1, 1LL << 40}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<int64_t>(), ElementsAre(-1, 1LL << 40));
  }
  {
    OpTest op("Identity");
    op.Input(B({2}, {true, false}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<bool>(), ElementsAre(true, false));
  }
}

// ONNX TensorProto.DataType codes.
constexpr int64_t kOnnxFloat = 1, kOnnxUint8 = 2, kOnnxInt8 = 3, kOnnxInt32 = 6,
                  kOnnxString = 8, kOnnxBool = 9, kOnnxFloat16 = 10,
                  kOnnxDouble = 11;

TEST(CastTest, FloatToIntTruncatesAndSaturates) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  OpTest op("Cast");
  op.Input(F({6}, {1.7f, -1.7f, 3e10f, -3e10f, nan, -0.0f}))
      .Attr("to", kOnnxInt32);
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  ASSERT_EQ(y.dtype(), DataType::kInt32);
  EXPECT_THAT(y.ToVector<int32_t>(),
              ElementsAre(1, -1, std::numeric_limits<int32_t>::max(),
                          std::numeric_limits<int32_t>::min(), 0, 0));
}

TEST(CastTest, FloatToUint8) {
  OpTest op("Cast");
  op.Input(F({4}, {-1, 300, 2.9f, 255.5f})).Attr("to", kOnnxUint8);
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<uint8_t>(), ElementsAre(0, 255, 2, 255));
}

TEST(CastTest, IntToNarrowerIntWraps) {
  OpTest op("Cast");
  op.Input(T1<int32_t>({3}, {300, -129, 127})).Attr("to", kOnnxInt8);
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<int8_t>(), ElementsAre(44, 127, 127));
}

TEST(CastTest, ToAndFromBool) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  {
    OpTest op("Cast");
    op.Input(F({4}, {0, -0.0f, 0.5f, nan})).Attr("to", kOnnxBool);
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<bool>(), ElementsAre(false, false, true, true));
  }
  {
    OpTest op("Cast");
    op.Input(B({2}, {true, false})).Attr("to", kOnnxDouble);
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<double>(), ElementsAre(1.0, 0.0));
  }
}

TEST(CastTest, DoubleToFloat16RoundsOnce) {
  // 1 + 2^-11 + 2^-40 lies just above the midpoint between the float16
  // values 1 and 1 + 2^-10, so it rounds up. Rounding to float first would
  // drop the 2^-40 and then round the exact tie down to 1.
  const double d = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  OpTest op("Cast");
  op.Input(T1<double>({3}, {d, 0.1, 70000.0})).Attr("to", kOnnxFloat16);
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  ASSERT_EQ(y.dtype(), DataType::kFloat16);
  const auto h = y.ToVector<Half>();
  EXPECT_EQ(h[0].bits, 0x3C01);
  EXPECT_EQ(h[1].bits, 0x2E66);  // 0.1 -> 0.0999755859375.
  EXPECT_EQ(h[2].bits, 0x7C00);  // Overflow -> +inf.
}

TEST(CastTest, Float16ToFloatAndInt64ToFloat) {
  {
    OpTest op("Cast");
    op.Input(H({2}, {0.5f, -1024.0f})).Attr("to", kOnnxFloat);
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<float>(), ElementsAre(0.5f, -1024.0f));
  }
  {
    OpTest op("Cast");
    op.Input(T1<int64_t>({2}, {-7, 1LL << 40})).Attr("to", kOnnxFloat);
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<float>(), ElementsAre(-7.0f, 1099511627776.0f));
  }
}

TEST(CastTest, UnsupportedTargetIsAnError) {
  OpTest op("Cast");
  op.Input(F({1}, {1})).Attr("to", kOnnxString);
  EXPECT_THAT(op.Verify(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("test_node"), HasSubstr("string"))));
  OpTest missing("Cast");
  missing.Input(F({1}, {1}));
  EXPECT_THAT(missing.Verify(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'to'")));
}

}  // namespace
}  // namespace qforge
