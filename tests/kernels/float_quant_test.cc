// QuantizeLinear and DequantizeLinear: schemas and reference kernels.
// Expected values are worked out by hand from the ONNX formulas.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "op_test_util.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::OpTest;
using ::qforge::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Tensor F(std::vector<int64_t> dims, std::vector<float> v) {
  return Tensor::FromVector<float>(std::move(dims), v);
}

TEST(QuantizeLinearTest, PerTensorUint8RoundsHalfToEven) {
  // x / 2 = 0, 0.25, 0.75, 1.25, 2.5 -> 2, 3.5 -> 4, -0.5 -> -0, 300, -300;
  // + 10, saturated to [0, 255].
  OpTest op("QuantizeLinear");
  op.Input(F({9}, {0, 0.5f, 1.5f, 2.5f, 5, 7, -1, 600, -600}))
      .Constant(Tensor::Scalar<float>(2))
      .Constant(Tensor::Scalar<uint8_t>(10));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  ASSERT_EQ(y.dtype(), DataType::kUint8);
  EXPECT_THAT(y.ToVector<uint8_t>(),
              ElementsAre(10, 10, 11, 11, 12, 14, 10, 255, 0));
}

TEST(QuantizeLinearTest, DefaultsToUint8WithZeroPointZero) {
  OpTest op("QuantizeLinear");
  op.Input(F({3}, {-1, 1.4f, 1.6f})).Constant(Tensor::Scalar<float>(1));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  ASSERT_EQ(y.dtype(), DataType::kUint8);
  EXPECT_THAT(y.ToVector<uint8_t>(), ElementsAre(0, 1, 2));
}

TEST(QuantizeLinearTest, Int8Saturation) {
  OpTest op("QuantizeLinear");
  op.Input(F({4}, {-130, -1.25f, 63.5f, 100}))
      .Constant(Tensor::Scalar<float>(0.5f))
      .Constant(Tensor::Scalar<int8_t>(-1));
  // -260 - 1 -> -128; -2.5 -> -2, -1 -> -3; 127 - 1 = 126; 200 - 1 -> 127.
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  ASSERT_EQ(y.dtype(), DataType::kInt8);
  EXPECT_THAT(y.ToVector<int8_t>(), ElementsAre(-128, -3, 126, 127));
}

TEST(QuantizeLinearTest, MatchesNearbyIntOnHalvesAndExtremes) {
  // Independent reference: std::nearbyint in the default rounding mode
  // (to nearest, ties to even), then + zero point and saturation.
  std::vector<float> x;
  for (int i = -1100; i <= 1100; ++i) x.push_back(i * 0.25f);  // Many ties.
  for (float v :
       {-0.0f, 1e-30f, -1e-30f, 8388607.5f, -8388607.5f, 8388608.0f,
        -8388609.0f, 3e9f, -3e9f, std::numeric_limits<float>::infinity(),
        -std::numeric_limits<float>::infinity()}) {
    x.push_back(v);
  }
  const int64_t n = static_cast<int64_t>(x.size());
  for (int8_t zp : {int8_t{0}, int8_t{-3}, int8_t{5}}) {
    OpTest op("QuantizeLinear");
    op.Input(F({n}, x))
        .Constant(Tensor::Scalar<float>(1))
        .Constant(Tensor::Scalar<int8_t>(zp));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    ASSERT_EQ(y.dtype(), DataType::kInt8);
    for (int64_t i = 0; i < n; ++i) {
      const double q = std::clamp<double>(std::nearbyint(x[i]) + zp, -128, 127);
      ASSERT_EQ(y.data<int8_t>()[i], static_cast<int8_t>(q))
          << "x = " << x[i] << ", zero point " << int{zp};
    }
  }
}

TEST(QuantizeLinearTest, NanGivesZeroPoint) {
  OpTest op("QuantizeLinear");
  op.Input(F({1}, {std::numeric_limits<float>::quiet_NaN()}))
      .Constant(Tensor::Scalar<float>(1))
      .Constant(Tensor::Scalar<int8_t>(5));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<int8_t>(), ElementsAre(5));
}

TEST(QuantizeLinearTest, PerAxis) {
  // x: [2, 3, 2]; axis 1 scales {1, 2, 4}, zero points {0, 10, -10}.
  // x[i][c][k] = 8 for all -> 8, 14, -8.
  OpTest op("QuantizeLinear");
  op.Input(F({2, 3, 2}, std::vector<float>(12, 8)))
      .Constant(F({3}, {1, 2, 4}))
      .Constant(Tensor::FromVector<int8_t>({3}, {0, 10, -10}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<int8_t>(),
              ElementsAre(8, 8, 14, 14, -8, -8, 8, 8, 14, 14, -8, -8));
}

TEST(QuantizeLinearTest, PerAxisLastAxis) {
  OpTest op("QuantizeLinear");
  op.Input(F({2, 2}, {1, 1, 3, 3}))
      .Constant(F({2}, {1, 0.5f}))
      .Attr("axis", int64_t{-1});
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<uint8_t>(), ElementsAre(1, 2, 3, 6));
}

TEST(QuantizeLinearTest, Int32Input) {
  OpTest op("QuantizeLinear");
  op.Input(Tensor::FromVector<int32_t>({3}, {-7, 5, 1000}))
      .Constant(Tensor::Scalar<float>(2))
      .Constant(Tensor::Scalar<int8_t>(0));
  // -3.5 -> -4, 2.5 -> 2, 500 -> 127.
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<int8_t>(), ElementsAre(-4, 2, 127));
}

TEST(QuantizeLinearTest, Errors) {
  {
    OpTest op("QuantizeLinear");
    op.Input(F({2, 3}, std::vector<float>(6))).Constant(F({2}, {1, 1}));
    EXPECT_THAT(op.Verify(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("test_node"), HasSubstr("2 values"),
                               HasSubstr("size 3"))));
  }
  {
    OpTest op("QuantizeLinear");
    op.Input(F({2, 3}, std::vector<float>(6)), Shape()).Input(F({2}, {1, 1}));
    EXPECT_THAT(op.Run(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("test_node"), HasSubstr("size 3"))));
  }
  {
    OpTest op("QuantizeLinear");
    op.Input(F({2}, {1, 1}))
        .Constant(Tensor::Scalar<float>(1))
        .Constant(Tensor::Scalar<int32_t>(0));
    EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("int32")));
  }
  {
    OpTest op("QuantizeLinear");
    op.Input(F({2}, {1, 1})).Constant(Tensor::Scalar<double>(1));
    EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("float64")));
  }
  {
    OpTest op("QuantizeLinear");
    op.Input(F({2}, {1, 1}))
        .Constant(F({2}, {1, 1}))
        .Constant(Tensor::FromVector<uint8_t>({3}, {0, 0, 0}));
    EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("zero point")));
  }
}

TEST(DequantizeLinearTest, PerTensor) {
  OpTest op("DequantizeLinear");
  op.Input(Tensor::FromVector<uint8_t>({4}, {0, 3, 128, 255}))
      .Constant(Tensor::Scalar<float>(2))
      .Constant(Tensor::Scalar<uint8_t>(128));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  ASSERT_EQ(y.dtype(), DataType::kFloat32);
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(-256, -250, 0, 254));
}

TEST(DequantizeLinearTest, Int8PerAxisAndNoZeroPoint) {
  {
    OpTest op("DequantizeLinear");
    op.Input(Tensor::FromVector<int8_t>({2, 2}, {-128, 127, 1, -1}))
        .Constant(F({2}, {0.5f, 0.25f}))
        .Constant(Tensor::FromVector<int8_t>({2}, {0, -1}))
        .Attr("axis", int64_t{0});
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<float>(), ElementsAre(-64, 63.5f, 0.5f, 0));
  }
  {
    OpTest op("DequantizeLinear");
    op.Input(Tensor::FromVector<int32_t>({2}, {-1000000, 3}))
        .Constant(Tensor::Scalar<float>(0.5f));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<float>(), ElementsAre(-500000, 1.5f));
  }
}

TEST(DequantizeLinearTest, RoundTripsQuantizeLinear) {
  // Quantized values dequantize to within half a step of the input.
  const std::vector<float> x = {-1.0f, -0.33f, 0.0f, 0.2f, 0.9f};
  const float scale = 2.0f / 255;
  OpTest q("QuantizeLinear");
  q.Input(F({5}, x))
      .Constant(Tensor::Scalar<float>(scale))
      .Constant(Tensor::Scalar<uint8_t>(128));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor qx, q.RunOne());
  OpTest dq("DequantizeLinear");
  dq.Input(qx)
      .Constant(Tensor::Scalar<float>(scale))
      .Constant(Tensor::Scalar<uint8_t>(128));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, dq.RunOne());
  for (int i = 0; i < 5; ++i) {
    EXPECT_NEAR(y.data<float>()[i], x[i], scale / 2 + 1e-7f) << i;
  }
}

TEST(DequantizeLinearTest, Errors) {
  {
    OpTest op("DequantizeLinear");
    op.Input(Tensor::FromVector<int8_t>({2}, {1, 2}))
        .Constant(Tensor::Scalar<float>(1))
        .Constant(Tensor::Scalar<uint8_t>(0));
    EXPECT_THAT(op.Verify(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("test_node"), HasSubstr("int8"),
                               HasSubstr("uint8"))));
  }
  {
    OpTest op("DequantizeLinear");
    op.Input(F({2}, {1, 2})).Constant(Tensor::Scalar<float>(1));
    EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("float32")));
  }
  {
    OpTest op("DequantizeLinear");
    op.Input(Tensor::FromVector<int8_t>({2, 2}, {1, 2, 3, 4}))
        .Constant(F({2}, {1, 1}))
        .Attr("axis", int64_t{2});
    EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("axis 2")));
  }
}

}  // namespace
}  // namespace qforge
