// FullyConnected, Conv2D and DepthwiseConv2D reference kernels vs the float
// op applied to their dequantized inputs, weights and bias (tolerance policy
// in tests/TOLERANCES.md), in both arithmetic profiles; accumulators vs
// exact 64-bit sums.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "int8_reference_test_util.h"
#include "kernels/int8/reference/conv.h"
#include "kernels/int8/reference/fully_connected.h"
#include "kernels/int8/reference/requantize.h"

namespace qforge::kernels::reference {
namespace {

using testing::Context;
using testing::ErrorTracker;
using testing::kProfiles;
using testing::OutputParamsFor;
using testing::RandomInt8;
using testing::RandomScale;
using testing::RandomZeroPoint;
using testing::TestSeed;
using testing::ToQuantized;

constexpr int64_t kChannelChoices[] = {1, 3, 7, 17, 64};

int64_t Pick(std::mt19937& rng, std::initializer_list<int64_t> choices) {
  std::uniform_int_distribution<size_t> d(0, choices.size() - 1);
  return *(choices.begin() + d(rng));
}

WeightQuant RandomWeightQuant(std::mt19937& rng, int64_t channels,
                              bool symmetric) {
  WeightQuant w;
  const bool per_channel = std::bernoulli_distribution(0.7)(rng);
  const int64_t n = per_channel ? channels : 1;
  for (int64_t c = 0; c < n; ++c) w.scales.push_back(RandomScale(rng, -6, 0));
  if (!symmetric && std::bernoulli_distribution(0.5)(rng)) {
    std::uniform_int_distribution<int32_t> zp(-20, 20);
    for (int64_t c = 0; c < n; ++c) w.zero_points.push_back(zp(rng));
  }
  return w;
}

std::vector<int32_t> RandomBias(std::mt19937& rng, int64_t n, int64_t depth) {
  std::uniform_int_distribution<int32_t> d(static_cast<int32_t>(-depth * 4000),
                                           static_cast<int32_t>(depth * 4000));
  std::vector<int32_t> b(static_cast<size_t>(n));
  for (auto& v : b) v = d(rng);
  return b;
}

ActivationRange RandomActivation(std::mt19937& rng, const QuantParam& out) {
  if (std::bernoulli_distribution(0.25)(rng)) return {out.zero_point, 127};
  return {};
}

int32_t Lo(const ActivationRange& a) { return std::max(a.min, -128); }
int32_t Hi(const ActivationRange& a) { return std::min(a.max, 127); }

TEST(FullyConnectedTest, MatchesFloatWithinOneLsb) {
  const uint32_t seed = TestSeed(101);
  std::mt19937 rng(seed);
  for (ArithmeticProfile profile : kProfiles) {
    ErrorTracker tracker;
    for (int trial = 0; trial < 120; ++trial) {
      FullyConnectedParams p;
      p.rows = Pick(rng, {1, 3, 7});
      p.input_depth = Pick(rng, {1, 3, 7, 17, 64});
      p.output_depth = kChannelChoices[trial % 5];
      p.weight_layout = std::bernoulli_distribution(0.5)(rng)
                            ? WeightLayout::kOutputMajor
                            : WeightLayout::kInputMajor;
      p.input = {RandomScale(rng, -3, 0), RandomZeroPoint(rng)};
      p.weights = RandomWeightQuant(rng, p.output_depth, /*symmetric=*/false);
      const auto x = RandomInt8(rng, p.rows * p.input_depth);
      const auto w = RandomInt8(rng, p.input_depth * p.output_depth);
      const auto bias = RandomBias(rng, p.output_depth, p.input_depth);
      std::vector<double> real(p.rows * p.output_depth);
      for (int64_t m = 0; m < p.rows; ++m) {
        for (int64_t n = 0; n < p.output_depth; ++n) {
          double sum = 0;
          for (int64_t k = 0; k < p.input_depth; ++k) {
            const int64_t wi = p.weight_layout == WeightLayout::kOutputMajor
                                   ? n * p.input_depth + k
                                   : k * p.output_depth + n;
            sum += (static_cast<double>(p.input.scale) *
                    (x[m * p.input_depth + k] - p.input.zero_point)) *
                   (static_cast<double>(p.weights.scale(n)) *
                    (w[wi] - p.weights.zero_point(n)));
          }
          sum +=
              static_cast<double>(p.input.scale) * p.weights.scale(n) * bias[n];
          real[m * p.output_depth + n] = sum;
        }
      }
      p.output = OutputParamsFor(rng, real);
      p.activation = RandomActivation(rng, p.output);
      std::vector<int8_t> got(real.size());
      ASSERT_TRUE(FullyConnected(profile, p, x.data(), w.data(), bias.data(),
                                 got.data())
                      .ok());
      ASSERT_TRUE(tracker.Check(
          got, ToQuantized(real, p.output), Lo(p.activation), Hi(p.activation),
          Context(profile, seed, trial,
                  absl::StrCat("M=", p.rows, " K=", p.input_depth,
                               " N=", p.output_depth))));
    }
    EXPECT_TRUE(tracker.CheckMean()) << ProfileName(profile);
  }
}

TEST(FullyConnectedTest, AccumulatorsAreExactAndWrapModulo2To32) {
  const uint32_t seed = TestSeed(102);
  std::mt19937 rng(seed);
  FullyConnectedParams p;
  p.rows = 3;
  p.input_depth = 37;
  p.output_depth = 5;
  p.input = {0.1f, -7};
  p.weights.scales = {0.01f};
  p.weights.zero_points = {3, -2, 0, 9, -128};
  const auto x = RandomInt8(rng, p.rows * p.input_depth);
  const auto w = RandomInt8(rng, p.input_depth * p.output_depth);
  const auto bias = RandomBias(rng, p.output_depth, 1000);
  std::vector<int32_t> acc(p.rows * p.output_depth);
  ASSERT_TRUE(
      FullyConnectedAccumulate(p, x.data(), w.data(), bias.data(), acc.data())
          .ok());
  for (int64_t m = 0; m < p.rows; ++m) {
    for (int64_t n = 0; n < p.output_depth; ++n) {
      int64_t sum = bias[n];
      for (int64_t k = 0; k < p.input_depth; ++k) {
        sum += int64_t{x[m * p.input_depth + k] - (-7)} *
               (w[n * p.input_depth + k] - p.weights.zero_points[n]);
      }
      EXPECT_EQ(acc[m * p.output_depth + n], sum) << "seed=" << seed;
    }
  }
  // 70000 products of 255 * 255 overflow int32: the accumulator wraps.
  FullyConnectedParams big;
  big.rows = 1;
  big.input_depth = 70000;
  big.output_depth = 1;
  big.input = {1.0f, -128};
  big.weights.scales = {1.0f};
  big.weights.zero_points = {-128};
  std::vector<int8_t> ones(70000, 127);
  int32_t wrapped = 0;
  ASSERT_TRUE(
      FullyConnectedAccumulate(big, ones.data(), ones.data(), nullptr, &wrapped)
          .ok());
  const int64_t exact = int64_t{70000} * 255 * 255;
  EXPECT_EQ(static_cast<uint32_t>(wrapped),
            static_cast<uint32_t>(exact & 0xffffffff));
}

// TFLite's BUILTIN_REF FULLY_CONNECTED rescales the accumulator in double
// (round(double(acc) * double(sx) * double(sw) / double(sy)), half away from
// zero), not with the Q31 multiplier of CONV_2D: the Q31 path rounds twice
// (to 2^shift precision in SaturatingRoundingDoublingHighMul, then in
// RoundingDivideByPOT), so a product just below a tie can come out 1 LSB
// higher. Each case below (found by a search over float32 scales) has an
// exact real value acc * sx * sw / sy within 1e-3 of a tie but far from it in
// double precision: its correctly rounded value is what TFLite computes and
// the Q31 derivation misses it by 1.
TEST(FullyConnectedTest, TfliteRescalesInDoubleNotWithQ31Multiplier) {
  struct Case {
    float sx, sw, sy;
    int32_t acc;
  };
  const Case cases[] = {
      {0.03214494f, 0.0029675406f, 0.18040621f, 27422},   // 14.49963
      {0.016097102f, 0.006618399f, 0.10601662f, -7463},   // -7.49964
      {0.04802651f, 0.0148074515f, 0.2564961f, -25067},   // -69.49970
      {0.030103134f, 0.0071572065f, 0.1122257f, -17449},  // -33.49913
  };
  for (const Case& c : cases) {
    // Independent value: 64-bit-mantissa product, far from the tie.
    const long double exact = static_cast<long double>(c.acc) * c.sx * c.sw /
                              static_cast<long double>(c.sy);
    const int32_t want = static_cast<int32_t>(std::llround(exact));
    ASSERT_GT(std::fabs(std::fabs(exact - std::trunc(exact)) - 0.5L), 1e-4L);
    // The Q31 derivation (CONV_2D's) gives a different byte here: this is
    // what the test guards against.
    const QuantizedMultiplier q31 = QuantizeMultiplier(
        static_cast<double>(c.sx) * static_cast<double>(c.sw) /
        static_cast<double>(c.sy));
    EXPECT_EQ(std::abs(MultiplyByQuantizedMultiplier(c.acc, q31) - want), 1)
        << "acc=" << c.acc;
    EXPECT_EQ(RequantizeTfliteDouble(
                  c.acc, TfliteFullyConnectedScale(c.sx, c.sw, c.sy), 0),
              want);
    // Through the kernel: per-channel (channel 0 carries the case) and
    // per-tensor, weights 1, x = 1, bias acc - 1, output zero point 0 and 3.
    for (bool per_channel : {true, false}) {
      for (int32_t zy : {0, 3}) {
        FullyConnectedParams p;
        p.rows = 1;
        p.input_depth = 1;
        p.output_depth = 2;
        p.input = {c.sx, 0};
        p.weights.scales = per_channel ? std::vector<float>{c.sw, 0.001f}
                                       : std::vector<float>{c.sw};
        p.output = {c.sy, zy};
        const int8_t x[1] = {1};
        const int8_t w[2] = {1, 1};
        const int32_t bias[2] = {c.acc - 1, 0};
        int8_t y[2] = {0, 0};
        ASSERT_TRUE(FullyConnected(ArithmeticProfile::kTfliteReference, p, x, w,
                                   bias, y)
                        .ok());
        EXPECT_EQ(y[0], want + zy)
            << "acc=" << c.acc << " per_channel=" << per_channel;
        // The same product as a BATCH_MATMUL keeps the Q31 multiplier.
        p.tflite_requant = TfliteLinearRequant::kFixedPoint;
        ASSERT_TRUE(FullyConnected(ArithmeticProfile::kTfliteReference, p, x, w,
                                   bias, y)
                        .ok());
        EXPECT_EQ(y[0], MultiplyByQuantizedMultiplier(c.acc, q31) + zy);
      }
    }
  }
  // Ties round half away from zero (std::round), unlike onnxruntime's
  // half-to-even: 5 * 0.5 = 2.5 -> 3, -5 * 0.5 -> -3, 7 * 0.5 = 3.5 -> 4.
  EXPECT_EQ(RequantizeTfliteDouble(5, 0.5, 0), 3);
  EXPECT_EQ(RequantizeTfliteDouble(-5, 0.5, 0), -3);
  EXPECT_EQ(RequantizeTfliteDouble(7, 0.5, 0), 4);
  // Saturation, also for accumulators whose product exceeds int32.
  EXPECT_EQ(RequantizeTfliteDouble(2000000000, 4.0, -5), 127);
  EXPECT_EQ(RequantizeTfliteDouble(-2000000000, 4.0, 5), -128);
}

TEST(FullyConnectedTest, RejectsBadParameters) {
  FullyConnectedParams p;
  p.rows = 1;
  p.input_depth = 2;
  p.output_depth = 2;
  p.weights.scales = {0.1f, 0.2f, 0.3f};  // wrong count
  std::vector<int8_t> x(2), w(4), y(2);
  EXPECT_EQ(FullyConnected(ArithmeticProfile::kOnnxRuntime, p, x.data(),
                           w.data(), nullptr, y.data())
                .code(),
            absl::StatusCode::kInvalidArgument);
  p.weights.scales = {0.1f};
  p.output.scale = 0.0f;
  EXPECT_EQ(FullyConnected(ArithmeticProfile::kTfliteReference, p, x.data(),
                           w.data(), nullptr, y.data())
                .code(),
            absl::StatusCode::kInvalidArgument);
  p.output.scale = 1.0f;
  p.rows = -1;
  EXPECT_FALSE(FullyConnected(ArithmeticProfile::kTfliteReference, p, x.data(),
                              w.data(), nullptr, y.data())
                   .ok());
}

ConvGeometry RandomGeometry(std::mt19937& rng) {
  ConvGeometry g;
  std::uniform_int_distribution<int64_t> hw(1, 9), k(1, 3), s(1, 2), d(1, 2),
      pad(0, 2);
  for (int attempt = 0; attempt < 100; ++attempt) {
    g.batch = Pick(rng, {1, 2});
    g.input_height = hw(rng);
    g.input_width = hw(rng);
    g.kernel_height = k(rng);
    g.kernel_width = k(rng);
    g.stride_height = s(rng);
    g.stride_width = s(rng);
    g.dilation_height = d(rng);
    g.dilation_width = d(rng);
    g.pad_top = pad(rng);
    g.pad_left = pad(rng);
    g.pad_bottom = pad(rng);
    g.pad_right = pad(rng);
    if (g.output_height() > 0 && g.output_width() > 0) break;
  }
  return g;
}

// Float convolution on dequantized values (double), NHWC / OHWI / groups;
// depthwise when depth_multiplier > 0 (weights [1, kH, kW, C*M]).
std::vector<double> FloatConv(const ConvGeometry& g, int64_t C, int64_t O,
                              int64_t groups, int64_t depth_multiplier,
                              const QuantParam& in, const WeightQuant& wq,
                              const std::vector<int8_t>& x,
                              const std::vector<int8_t>& w,
                              const std::vector<int32_t>& bias) {
  const int64_t OH = g.output_height(), OW = g.output_width();
  std::vector<double> out(g.batch * OH * OW * O, 0.0);
  for (int64_t b = 0; b < g.batch; ++b)
    for (int64_t oy = 0; oy < OH; ++oy)
      for (int64_t ox = 0; ox < OW; ++ox)
        for (int64_t o = 0; o < O; ++o) {
          double sum = static_cast<double>(in.scale) * wq.scale(o) * bias[o];
          for (int64_t ky = 0; ky < g.kernel_height; ++ky)
            for (int64_t kx = 0; kx < g.kernel_width; ++kx) {
              const int64_t iy =
                  oy * g.stride_height - g.pad_top + ky * g.dilation_height;
              const int64_t ix =
                  ox * g.stride_width - g.pad_left + kx * g.dilation_width;
              // Padding holds the real value 0.
              if (iy < 0 || iy >= g.input_height || ix < 0 ||
                  ix >= g.input_width)
                continue;
              const int64_t base =
                  ((b * g.input_height + iy) * g.input_width + ix) * C;
              auto real_x = [&](int64_t c) {
                return static_cast<double>(in.scale) *
                       (x[base + c] - in.zero_point);
              };
              auto real_w = [&](int64_t index) {
                return static_cast<double>(wq.scale(o)) *
                       (w[index] - wq.zero_point(o));
              };
              if (depth_multiplier > 0) {
                const int64_t c = o / depth_multiplier;
                sum += real_x(c) * real_w((ky * g.kernel_width + kx) * O + o);
              } else {
                const int64_t cg = C / groups;
                const int64_t group = o / (O / groups);
                for (int64_t c = 0; c < cg; ++c) {
                  sum += real_x(group * cg + c) *
                         real_w(((o * g.kernel_height + ky) * g.kernel_width +
                                 kx) *
                                    cg +
                                c);
                }
              }
            }
          out[((b * OH + oy) * OW + ox) * O + o] = sum;
        }
  return out;
}

TEST(Conv2DTest, MatchesFloatWithinOneLsb) {
  const uint32_t seed = TestSeed(201);
  std::mt19937 rng(seed);
  for (ArithmeticProfile profile : kProfiles) {
    ErrorTracker tracker;
    for (int trial = 0; trial < 100; ++trial) {
      Conv2DParams p;
      p.geometry = RandomGeometry(rng);
      p.input_channels = kChannelChoices[trial % 5];
      p.output_channels = kChannelChoices[(trial / 5) % 5];
      p.groups = 1;
      if (trial % 7 == 3) {  // grouped / depthwise-as-groups
        p.groups = p.input_channels;
        p.output_channels = p.input_channels * Pick(rng, {1, 2});
      }
      p.input = {RandomScale(rng, -3, 0), RandomZeroPoint(rng)};
      p.weights = RandomWeightQuant(
          rng, p.output_channels,
          /*symmetric=*/profile == ArithmeticProfile::kTfliteReference);
      const ConvGeometry& g = p.geometry;
      const int64_t cg = p.input_channels / p.groups;
      const auto x = RandomInt8(
          rng, g.batch * g.input_height * g.input_width * p.input_channels);
      const auto w = RandomInt8(
          rng, p.output_channels * g.kernel_height * g.kernel_width * cg);
      const auto bias =
          RandomBias(rng, p.output_channels, g.kernel_height * cg);
      const auto real = FloatConv(g, p.input_channels, p.output_channels,
                                  p.groups, 0, p.input, p.weights, x, w, bias);
      p.output = OutputParamsFor(rng, real);
      p.activation = RandomActivation(rng, p.output);
      std::vector<int8_t> got(real.size());
      const absl::Status status =
          Conv2D(profile, p, x.data(), w.data(), bias.data(), got.data());
      ASSERT_TRUE(status.ok()) << status;
      ASSERT_TRUE(tracker.Check(
          got, ToQuantized(real, p.output), Lo(p.activation), Hi(p.activation),
          Context(profile, seed, trial,
                  absl::StrCat("C=", p.input_channels, " O=", p.output_channels,
                               " groups=", p.groups, " H=", g.input_height,
                               " W=", g.input_width, " k=", g.kernel_height,
                               "x", g.kernel_width, " s=", g.stride_height, "x",
                               g.stride_width, " d=", g.dilation_height, "x",
                               g.dilation_width))));
    }
    EXPECT_TRUE(tracker.CheckMean()) << ProfileName(profile);
  }
}

TEST(Conv2DTest, PaddingUsesTheInputZeroPoint) {
  // 1x1 image, 3x3 kernel, pad 1: only the centre tap is inside; the real
  // output is x * w regardless of the zero point.
  Conv2DParams p;
  p.geometry.input_height = 1;
  p.geometry.input_width = 1;
  p.geometry.kernel_height = 3;
  p.geometry.kernel_width = 3;
  p.geometry.pad_top = p.geometry.pad_left = 1;
  p.geometry.pad_bottom = p.geometry.pad_right = 1;
  p.input_channels = 1;
  p.output_channels = 1;
  p.input = {0.5f, 100};
  p.weights.scales = {0.25f};
  p.output = {0.125f, 0};
  std::vector<int8_t> x = {110};  // real 5
  std::vector<int8_t> w(9, 1);    // real 0.25 each
  int32_t acc = 0;
  ASSERT_TRUE(Conv2DAccumulate(p, x.data(), w.data(), nullptr, &acc).ok());
  EXPECT_EQ(acc, 10);  // (110 - 100) * 1
  for (ArithmeticProfile profile : kProfiles) {
    int8_t y = 0;
    ASSERT_TRUE(Conv2D(profile, p, x.data(), w.data(), nullptr, &y).ok());
    EXPECT_EQ(y, 10);  // 1.25 / 0.125
  }
}

TEST(Conv2DTest, RejectsBadParameters) {
  Conv2DParams p;
  p.geometry.input_height = 2;
  p.geometry.input_width = 2;
  p.geometry.kernel_height = 3;  // larger than the unpadded input
  p.geometry.kernel_width = 3;
  p.input_channels = 2;
  p.output_channels = 2;
  p.weights.scales = {1.0f};
  std::vector<int8_t> buf(64);
  EXPECT_EQ(Conv2D(ArithmeticProfile::kOnnxRuntime, p, buf.data(), buf.data(),
                   nullptr, buf.data())
                .code(),
            absl::StatusCode::kInvalidArgument);
  p.geometry.kernel_height = p.geometry.kernel_width = 1;
  p.groups = 3;  // does not divide the channels
  EXPECT_EQ(Conv2D(ArithmeticProfile::kOnnxRuntime, p, buf.data(), buf.data(),
                   nullptr, buf.data())
                .code(),
            absl::StatusCode::kInvalidArgument);
  p.groups = 1;
  p.weights.zero_points = {1};  // asymmetric weights
  EXPECT_TRUE(Conv2D(ArithmeticProfile::kOnnxRuntime, p, buf.data(), buf.data(),
                     nullptr, buf.data())
                  .ok());
  EXPECT_EQ(Conv2D(ArithmeticProfile::kTfliteReference, p, buf.data(),
                   buf.data(), nullptr, buf.data())
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DepthwiseConv2DTest, MatchesFloatWithinOneLsb) {
  const uint32_t seed = TestSeed(301);
  std::mt19937 rng(seed);
  for (ArithmeticProfile profile : kProfiles) {
    ErrorTracker tracker;
    for (int trial = 0; trial < 100; ++trial) {
      DepthwiseConv2DParams p;
      p.geometry = RandomGeometry(rng);
      p.input_channels = kChannelChoices[trial % 5];
      p.depth_multiplier = Pick(rng, {1, 1, 2, 3});
      const int64_t O = p.input_channels * p.depth_multiplier;
      p.input = {RandomScale(rng, -3, 0), RandomZeroPoint(rng)};
      p.weights = RandomWeightQuant(
          rng, O, /*symmetric=*/profile == ArithmeticProfile::kTfliteReference);
      const ConvGeometry& g = p.geometry;
      const auto x = RandomInt8(
          rng, g.batch * g.input_height * g.input_width * p.input_channels);
      const auto w = RandomInt8(rng, g.kernel_height * g.kernel_width * O);
      const auto bias = RandomBias(rng, O, g.kernel_height);
      const auto real = FloatConv(g, p.input_channels, O, 1, p.depth_multiplier,
                                  p.input, p.weights, x, w, bias);
      p.output = OutputParamsFor(rng, real);
      p.activation = RandomActivation(rng, p.output);
      std::vector<int8_t> got(real.size());
      const absl::Status status = DepthwiseConv2D(
          profile, p, x.data(), w.data(), bias.data(), got.data());
      ASSERT_TRUE(status.ok()) << status;
      ASSERT_TRUE(tracker.Check(
          got, ToQuantized(real, p.output), Lo(p.activation), Hi(p.activation),
          Context(profile, seed, trial,
                  absl::StrCat("C=", p.input_channels,
                               " M=", p.depth_multiplier))));
    }
    EXPECT_TRUE(tracker.CheckMean()) << ProfileName(profile);
  }
}

TEST(DepthwiseConv2DTest, EqualsGroupedConvolution) {
  // A depthwise convolution is a grouped convolution with groups = C; the
  // accumulators must agree exactly after reordering the weights.
  const uint32_t seed = TestSeed(302);
  std::mt19937 rng(seed);
  DepthwiseConv2DParams d;
  d.geometry = RandomGeometry(rng);
  d.input_channels = 7;
  d.depth_multiplier = 2;
  d.input = {0.1f, 3};
  d.weights.scales = {0.01f};
  const int64_t O = 14;
  const ConvGeometry& g = d.geometry;
  const auto x = RandomInt8(rng, g.batch * g.input_height * g.input_width * 7);
  const auto w = RandomInt8(rng, g.kernel_height * g.kernel_width * O);
  Conv2DParams c;
  c.geometry = g;
  c.input_channels = 7;
  c.output_channels = O;
  c.groups = 7;
  c.input = d.input;
  c.weights = d.weights;
  std::vector<int8_t> w_ohwi(w.size());
  for (int64_t o = 0; o < O; ++o)
    for (int64_t k = 0; k < g.kernel_height * g.kernel_width; ++k)
      w_ohwi[o * g.kernel_height * g.kernel_width + k] = w[k * O + o];
  const int64_t n = g.batch * g.output_height() * g.output_width() * O;
  std::vector<int32_t> acc_d(n), acc_c(n);
  ASSERT_TRUE(
      DepthwiseConv2DAccumulate(d, x.data(), w.data(), nullptr, acc_d.data())
          .ok());
  ASSERT_TRUE(
      Conv2DAccumulate(c, x.data(), w_ohwi.data(), nullptr, acc_c.data()).ok());
  EXPECT_EQ(acc_d, acc_c) << "seed=" << seed;
}

}  // namespace
}  // namespace qforge::kernels::reference
