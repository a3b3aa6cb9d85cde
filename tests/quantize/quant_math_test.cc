#include "qforge/quantize/quant_math.h"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/core/tensor.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Quantize / dequantize as a runtime does (float arithmetic).
int64_t Quantize(float x, float scale, int64_t zp, int64_t qmin, int64_t qmax) {
  const double q = std::nearbyint(static_cast<double>(x) / scale) + zp;
  return static_cast<int64_t>(std::clamp<double>(q, qmin, qmax));
}
float Dequantize(int64_t q, float scale, int64_t zp) {
  return scale * static_cast<float>(q - zp);
}

// Properties every per-tensor result must have for `range` and `target`.
void ExpectSound(const QuantParams& p, FloatRange range, const QuantTarget& t) {
  ASSERT_THAT(p.Validate(), IsOk());
  ASSERT_EQ(p.scale.size(), 1u);
  const float scale = p.scale[0];
  const int64_t zp = p.zero_point[0];
  EXPECT_GT(scale, 0.0f);
  EXPECT_GE(zp, t.qmin());
  EXPECT_LE(zp, t.qmax());
  // 0 is exactly representable.
  EXPECT_EQ(Quantize(0.0f, scale, zp, t.qmin(), t.qmax()), zp);
  EXPECT_EQ(Dequantize(zp, scale, zp), 0.0f);
  // The ends of the range are representable within half a step (plus a
  // float ulp), i.e. the grid covers the range.
  for (float x : {range.min, range.max}) {
    const int64_t q = Quantize(x, scale, zp, t.qmin(), t.qmax());
    EXPECT_LE(std::abs(Dequantize(q, scale, zp) - x), 0.5f * scale * 1.0001f)
        << "x=" << x << " " << p.ToString();
  }
}

TEST(QuantMathTest, Int8AsymmetricByFormula) {
  const QuantTarget t = QuantTarget::Int8Activation();
  auto p = QuantParamsForRange({-1.0f, 3.0f}, t);
  ASSERT_THAT(p, IsOk());
  // scale = 4 / 255; zero point = round(-128 - (-1) / scale) = round(-64.25).
  EXPECT_FLOAT_EQ(p->scale[0], 4.0f / 255.0f);
  EXPECT_EQ(p->zero_point[0], -64);
  EXPECT_EQ(p->storage, DataType::kInt8);
  EXPECT_EQ(p->axis, -1);
  ExpectSound(*p, {-1.0f, 3.0f}, t);
}

TEST(QuantMathTest, RangeIsExtendedToZero) {
  const QuantTarget t = QuantTarget::Int8Activation();
  auto pos = QuantParamsForRange({2.0f, 5.0f}, t);
  ASSERT_THAT(pos, IsOk());
  EXPECT_FLOAT_EQ(pos->scale[0], 5.0f / 255.0f);
  EXPECT_EQ(pos->zero_point[0], -128);
  ExpectSound(*pos, {2.0f, 5.0f}, t);
  auto neg = QuantParamsForRange({-5.0f, -2.0f}, t);
  ASSERT_THAT(neg, IsOk());
  EXPECT_FLOAT_EQ(neg->scale[0], 5.0f / 255.0f);
  EXPECT_EQ(neg->zero_point[0], 127);
  ExpectSound(*neg, {-5.0f, -2.0f}, t);
}

TEST(QuantMathTest, Uint8AndInt16) {
  const QuantTarget u8 = QuantTarget::Uint8Activation();
  auto p = QuantParamsForRange({-1.0f, 3.0f}, u8);
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->storage, DataType::kUint8);
  EXPECT_EQ(p->zero_point[0], 64);  // round(0 + 1 / (4 / 255)) = round(63.75)
  ExpectSound(*p, {-1.0f, 3.0f}, u8);

  const QuantTarget i16 = QuantTarget::Int16Activation();
  auto q = QuantParamsForRange({-2.0f, 3.0f}, i16);
  ASSERT_THAT(q, IsOk());
  EXPECT_EQ(q->storage, DataType::kInt16);
  EXPECT_EQ(q->zero_point[0], 0);
  EXPECT_FLOAT_EQ(q->scale[0], 3.0f / 32767.0f);
  ExpectSound(*q, {-2.0f, 3.0f}, i16);
}

TEST(QuantMathTest, RandomRangesAreSound) {
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> log_mag(-5.0f, 5.0f);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  for (const QuantTarget& t :
       {QuantTarget::Int8Activation(), QuantTarget::Uint8Activation(),
        QuantTarget::Int16Activation(), QuantTarget::Int8Weight()}) {
    for (int i = 0; i < 500; ++i) {
      float a = unit(rng) * std::pow(10.0f, log_mag(rng));
      float b = unit(rng) * std::pow(10.0f, log_mag(rng));
      if (a > b) std::swap(a, b);
      auto p = QuantParamsForRange({a, b}, t);
      ASSERT_THAT(p, IsOk());
      ExpectSound(*p, {a, b}, t);
    }
  }
}

TEST(QuantMathTest, SymmetricWeightsUseNarrowRange) {
  const QuantTarget t = QuantTarget::Int8Weight();
  EXPECT_EQ(t.qmin(), -127);
  EXPECT_EQ(t.qmax(), 127);
  std::mt19937 rng(22);
  std::normal_distribution<float> normal(0.0f, 0.2f);
  std::vector<float> w(4 * 3 * 3 * 3);
  for (float& x : w) x = normal(rng);
  w[5] = -0.9f;  // The largest magnitude, negative, in output channel 0.
  const Tensor weights = Tensor::FromVector<float>({4, 3, 3, 3}, w);
  auto p = WeightQuantParams(weights, /*axis=*/0);
  ASSERT_THAT(p, IsOk());
  ASSERT_THAT(p->Validate(), IsOk());
  EXPECT_EQ(p->axis, 0);
  ASSERT_EQ(p->scale.size(), 4u);
  EXPECT_FLOAT_EQ(p->scale[0], 0.9f / 127.0f);
  for (int c = 0; c < 4; ++c) {
    EXPECT_EQ(p->zero_point[c], 0);
    float amax = 0.0f;
    for (int i = 0; i < 27; ++i) amax = std::max(amax, std::abs(w[c * 27 + i]));
    EXPECT_FLOAT_EQ(p->scale[c], amax / 127.0f);
    for (int i = 0; i < 27; ++i) {
      const double q = std::nearbyint(w[c * 27 + i] / p->scale[c]);
      EXPECT_GE(q, -127.0);  // Never -128, even for the -amax weight.
      EXPECT_LE(q, 127.0);
    }
  }
  // Per-tensor: one scale from the global max |w|.
  auto per_tensor = WeightQuantParams(weights, -1);
  ASSERT_THAT(per_tensor, IsOk());
  EXPECT_EQ(per_tensor->axis, -1);
  EXPECT_FLOAT_EQ(per_tensor->scale[0], 0.9f / 127.0f);
}

TEST(QuantMathTest, ZeroRangeChannels) {
  // Channel 0 normal, channel 1 all zero, channel 2 all 0.3, channel 3 all
  // -2.5 (axis 1 of a [2, 4, 3] tensor).
  std::vector<float> w(2 * 4 * 3);
  for (int o = 0; o < 2; ++o) {
    for (int i = 0; i < 3; ++i) {
      w[(o * 4 + 0) * 3 + i] = 0.1f * (i + 1) * (o ? -1.0f : 1.0f);
      w[(o * 4 + 1) * 3 + i] = 0.0f;
      w[(o * 4 + 2) * 3 + i] = 0.3f;
      w[(o * 4 + 3) * 3 + i] = -2.5f;
    }
  }
  const Tensor weights = Tensor::FromVector<float>({2, 4, 3}, w);
  auto ranges = ChannelRanges(weights, 1);
  ASSERT_THAT(ranges, IsOk());
  EXPECT_EQ((*ranges)[0], (FloatRange{-0.3f, 0.3f}));
  EXPECT_EQ((*ranges)[1], (FloatRange{0.0f, 0.0f}));
  EXPECT_EQ((*ranges)[2], (FloatRange{0.3f, 0.3f}));

  const QuantTarget t = QuantTarget::Int8Weight();
  auto p = WeightQuantParams(weights, 1, t, "conv.weight");
  ASSERT_THAT(p, IsOk());
  ASSERT_THAT(p->Validate(), IsOk());
  EXPECT_EQ(p->scale[1], t.zero_range_scale);  // All zero: 1.0.
  EXPECT_EQ(p->scale[1], 1.0f);
  // Constant channels: the value is exactly representable and round-trips.
  for (int c : {2, 3}) {
    const float v = w[c * 3];
    const int64_t q = Quantize(v, p->scale[c], 0, t.qmin(), t.qmax());
    EXPECT_EQ(Dequantize(q, p->scale[c], 0), v) << "channel " << c;
    EXPECT_NE(q, 0);
  }
  // Same for asymmetric activations that are constant.
  for (float v : {0.3f, -2.5f, 1e-3f}) {
    for (const QuantTarget& at :
         {QuantTarget::Int8Activation(), QuantTarget::Uint8Activation(),
          QuantTarget::Int16Activation()}) {
      auto ap = QuantParamsForRange({v, v}, at);
      ASSERT_THAT(ap, IsOk());
      ExpectSound(*ap, {v, v}, at);
      const int64_t q =
          Quantize(v, ap->scale[0], ap->zero_point[0], at.qmin(), at.qmax());
      EXPECT_EQ(Dequantize(q, ap->scale[0], ap->zero_point[0]), v)
          << v << " " << at.ToString();
    }
  }
  // All-zero activation.
  auto zero = QuantParamsForRange({0.0f, 0.0f}, QuantTarget::Int8Activation());
  ASSERT_THAT(zero, IsOk());
  EXPECT_EQ(zero->scale[0], 1.0f);
  ASSERT_THAT(zero->Validate(), IsOk());
}

TEST(QuantMathTest, TinyScalesAreClamped) {
  auto p = QuantParamsForRange({0.0f, 1e-12f}, QuantTarget::Int8Activation());
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->scale[0], kMinQuantScale);
  EXPECT_EQ(p->zero_point[0], -128);
  auto w = QuantParamsForRange({-1e-30f, 1e-30f}, QuantTarget::Int8Weight());
  ASSERT_THAT(w, IsOk());
  EXPECT_EQ(w->scale[0], kMinQuantScale);
  // A product of two minimal scales is still a normal float.
  EXPECT_GE(kMinQuantScale * kMinQuantScale, std::numeric_limits<float>::min());
}

TEST(QuantMathTest, HugeRangesStayFinite) {
  const float big = std::numeric_limits<float>::max();
  auto p = QuantParamsForRange({-big, big}, QuantTarget::Int8Activation());
  ASSERT_THAT(p, IsOk());
  EXPECT_TRUE(std::isfinite(p->scale[0]));
  ASSERT_THAT(p->Validate(), IsOk());
}

TEST(QuantMathTest, BitsNarrowerThanStorage) {
  QuantTarget int4;
  int4.bits = 4;
  int4.symmetric = true;
  int4.narrow_range = true;
  EXPECT_EQ(int4.qmin(), -7);
  EXPECT_EQ(int4.qmax(), 7);
  auto p = QuantParamsForRange({-1.4f, 0.7f}, int4);
  ASSERT_THAT(p, IsOk());
  EXPECT_EQ(p->bits, 4);
  EXPECT_FLOAT_EQ(p->scale[0], 0.2f);
  ASSERT_THAT(p->Validate(), IsOk());
}

TEST(QuantMathTest, Errors) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT(
      QuantParamsForRange({nan, 1.0f}, QuantTarget::Int8Activation()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not finite")));
  EXPECT_THAT(
      QuantParamsForRange({2.0f, 1.0f}, QuantTarget::Int8Activation()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("min > max")));
  QuantTarget bad;
  bad.storage = DataType::kFloat32;
  EXPECT_THAT(
      QuantParamsForRange({0.0f, 1.0f}, bad),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("float32")));
  bad = QuantTarget{};
  bad.bits = 9;
  EXPECT_THAT(QuantParamsForRange({0.0f, 1.0f}, bad),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("9")));
  EXPECT_THAT(
      QuantParamsForChannelRanges({}, 0, QuantTarget::Int8Weight()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least one")));
  EXPECT_THAT(
      QuantParamsForChannelRanges({{0.0f, 1.0f}, {3.0f, nan}}, 0,
                                  QuantTarget::Int8Weight()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("channel 1")));

  std::vector<float> w(6, 1.0f);
  w[4] = nan;
  const Tensor weights = Tensor::FromVector<float>({2, 3}, w);
  EXPECT_THAT(WeightQuantParams(weights, 0, QuantTarget::Int8Weight(), "fc.w"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("'fc.w'"), HasSubstr("NaN"),
                             HasSubstr("element 4"), HasSubstr("[1, 1]"))));
  EXPECT_THAT(
      WeightQuantParams(weights, 2),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("axis 2")));
  EXPECT_THAT(WeightQuantParams(Tensor(DataType::kInt8, {2}), 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("int8")));
  EXPECT_THAT(
      WeightQuantParams(Tensor(DataType::kFloat32, {0, 3}), 0),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no channels")));
}

}  // namespace
}  // namespace qforge
