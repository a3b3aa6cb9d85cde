#include "qforge/core/tensor.h"

#include <cstdint>
#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/core/quant_params.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::HasSubstr;

TEST(Tensor, AllocatesAlignedZeroedBuffer) {
  Tensor t(DataType::kFloat32, {2, 3, 5});
  EXPECT_EQ(t.num_elements(), 30);
  EXPECT_EQ(t.num_bytes(), 120u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % Tensor::kAlignment, 0u);
  for (float v : t.values<float>()) EXPECT_EQ(v, 0.0f);
}

TEST(Tensor, ScalarHasOneElement) {
  Tensor t = Tensor::Scalar<int64_t>(7);
  EXPECT_EQ(t.rank(), 0);
  EXPECT_EQ(t.num_elements(), 1);
  EXPECT_EQ(t.GetAsInt64(0), 7);
}

TEST(Tensor, CopyIsDeepAndMoveTransfers) {
  Tensor a = Tensor::FromVector<int8_t>({3}, {1, -2, 3});
  Tensor b = a;
  b.data<int8_t>()[0] = 100;
  EXPECT_EQ(a.data<int8_t>()[0], 1);
  Tensor c = std::move(b);
  EXPECT_EQ(c.data<int8_t>()[0], 100);
  EXPECT_EQ(c.DebugString(), "int8[3]");
}

TEST(Tensor, ResetReusesAndZeroes) {
  Tensor t = Tensor::FromVector<float>({4}, {1, 2, 3, 4});
  t.Reset(DataType::kInt32, {2});
  EXPECT_EQ(t.dtype(), DataType::kInt32);
  EXPECT_EQ(t.data<int32_t>()[1], 0);
}

TEST(Tensor, ResetUninitializedReshapesAndReusesTheBuffer) {
  Tensor t = Tensor::FromVector<float>({4}, {1, 2, 3, 4});
  t.set_quant(QuantParams::PerTensor(0.5f, 1));
  const void* before = t.raw_data();
  t.ResetUninitialized(DataType::kInt32, {2, 1});
  EXPECT_EQ(t.dtype(), DataType::kInt32);
  EXPECT_EQ(t.dims(), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(t.num_elements(), 2);
  EXPECT_FALSE(t.quant().has_value());
  // 8 bytes fit the 16-byte allocation: reused, not zero-filled.
  EXPECT_EQ(t.raw_data(), before);
  float first;
  std::memcpy(&first, t.raw_data(), sizeof(first));
  EXPECT_EQ(first, 1.0f);
  // A larger size allocates anew; the caller writes every element.
  t.ResetUninitialized(DataType::kFloat32, {1000});
  EXPECT_EQ(t.num_elements(), 1000);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % Tensor::kAlignment, 0u);
  // Reset still zero-fills after an uninitialized reset.
  for (float& v : t.values<float>()) v = 7.0f;
  t.Reset(DataType::kFloat32, {1000});
  for (float v : t.values<float>()) ASSERT_EQ(v, 0.0f);
}

TEST(Tensor, ZeroSizedTensor) {
  Tensor t(DataType::kFloat32, {0, 4});
  EXPECT_EQ(t.num_elements(), 0);
  EXPECT_TRUE(t.empty());
  Tensor copy = t;
  EXPECT_EQ(copy.dims(), (std::vector<int64_t>{0, 4}));
}

TEST(QuantParams, RangesFollowStorageAndBits) {
  QuantParams p = QuantParams::PerTensor(0.5f, -3);
  EXPECT_EQ(p.qmin(), -128);
  EXPECT_EQ(p.qmax(), 127);
  p.bits = 4;
  EXPECT_EQ(p.qmin(), -8);
  EXPECT_EQ(p.qmax(), 7);
  QuantParams u = QuantParams::PerTensor(0.5f, 3, DataType::kUint8);
  EXPECT_EQ(u.qmin(), 0);
  EXPECT_EQ(u.qmax(), 255);
  EXPECT_THAT(u.Validate(), IsOk());
}

TEST(QuantParams, ValidateNamesTheBadNumber) {
  EXPECT_THAT(QuantParams::PerTensor(0.0f, 0).Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("scale[0] = 0")));
  EXPECT_THAT(QuantParams::PerTensor(1.0f, 200).Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("200")));
  QuantParams axis = QuantParams::PerAxis({1.0f, 2.0f}, {0}, 0);
  EXPECT_THAT(axis.Validate(), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("2 scales and 1 zero points")));
}

TEST(DataType, NamesRoundTrip) {
  for (DataType t : {DataType::kFloat32, DataType::kFloat64, DataType::kFloat16,
                     DataType::kInt8, DataType::kUint8, DataType::kInt16,
                     DataType::kInt32, DataType::kInt64, DataType::kBool}) {
    absl::StatusOr<DataType> parsed = ParseDataType(DataTypeName(t));
    ASSERT_THAT(parsed, IsOk());
    EXPECT_EQ(*parsed, t);
  }
  EXPECT_THAT(ParseDataType("float128"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("float128")));
}

}  // namespace
}  // namespace qforge
