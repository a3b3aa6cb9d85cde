// The fast INT8 kernels (kernels/int8/fast/) against the normative scalar
// reference kernels, byte for byte, for every ISA this CPU has and both
// arithmetic profiles, on randomized shapes that include the edges (K not a
// multiple of the block, N and M tails, 1x1 and 3x3 windows, strides 1 and 2,
// padding, dilations, channel counts 1, 3, 7, 17, 64, extreme zero points,
// per-channel scales spanning 1e-6..1). A failure prints the seed
// (QFORGE_TEST_SEED reproduces it) and the first differing element.
// ISAs the CPU lacks are skipped with a message (not executed here).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "int8_fast_test_util.h"
#include "int8_reference_test_util.h"
#include "kernels/int8/fast/isa.h"
#include "kernels/int8/fast/kernels.h"
#include "kernels/int8/reference/conv.h"
#include "kernels/int8/reference/fully_connected.h"
#include "qforge/testing/status_matchers.h"

namespace qforge::kernels::int8::fast {
namespace {

using ::qforge::kernels::int8::fast::fast_testing::FastIsaTest;
using ::qforge::kernels::int8::fast::fast_testing::FirstDifference;
using ::qforge::kernels::int8::fast::fast_testing::IsaParamName;
using ::qforge::kernels::reference::testing::kProfiles;
using ::qforge::kernels::reference::testing::RandomInt8;
using ::qforge::kernels::reference::testing::RandomZeroPoint;
using ::qforge::kernels::reference::testing::TestSeed;
using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::HasSubstr;

// --- ISA selection
// ------------------------------------------------------------

TEST(IsaTest, ParsesEveryNameAndRejectsOthers) {
  for (Isa isa : kAllIsas) {
    absl::StatusOr<Isa> parsed = ParseIsa(IsaName(isa));
    ASSERT_TRUE(parsed.ok()) << IsaName(isa);
    EXPECT_EQ(*parsed, isa);
  }
  EXPECT_THAT(ParseIsa("AVX2"), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("unknown ISA 'AVX2'")));
  EXPECT_THAT(ResolveIsaSetting("sse9"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("QFORGE_ISA: unknown ISA 'sse9'")));
}

TEST(IsaTest, UnsetOrEmptyMeansBestAndScalarIsAlwaysThere) {
  EXPECT_TRUE(CpuHasIsa(Isa::kScalar));
  EXPECT_TRUE(CpuHasIsa(BestCpuIsa()));
  absl::StatusOr<Isa> unset = ResolveIsaSetting(nullptr);
  ASSERT_TRUE(unset.ok());
  EXPECT_EQ(*unset, BestCpuIsa());
  absl::StatusOr<Isa> empty = ResolveIsaSetting("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, BestCpuIsa());
  absl::StatusOr<Isa> scalar = ResolveIsaSetting("scalar");
  ASSERT_TRUE(scalar.ok());
  EXPECT_EQ(*scalar, Isa::kScalar);
}

// Set by the ctest that runs this binary under qemu-x86_64 -cpu Nehalem.
TEST(IsaTest, DetectsTheExpectedBestIsa) {
  const char* expected = std::getenv("QFORGE_EXPECT_BEST_ISA");
  std::printf("CPU ISAs:");
  for (Isa isa : kAllIsas) {
    if (CpuHasIsa(isa)) std::printf(" %s", IsaName(isa));
  }
  std::printf("; best %s\n", IsaName(BestCpuIsa()));
  if (expected == nullptr) GTEST_SKIP() << "QFORGE_EXPECT_BEST_ISA not set";
  EXPECT_STREQ(IsaName(BestCpuIsa()), expected);
}

TEST(IsaTest, ForcingAnIsaTheCpuLacksIsAnError) {
  for (Isa isa : kAllIsas) {
    absl::StatusOr<Isa> r = ResolveIsaSetting(IsaName(isa));
    if (CpuHasIsa(isa)) {
      ASSERT_TRUE(r.ok()) << IsaName(isa);
      EXPECT_EQ(*r, isa);
      EXPECT_TRUE(SetIsaForTesting(isa).ok());
      absl::StatusOr<Isa> active = ActiveIsa();
      ASSERT_TRUE(active.ok());
      EXPECT_EQ(*active, isa);
    } else {
      EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument,
                              HasSubstr("this CPU cannot run")));
      EXPECT_THAT(SetIsaForTesting(isa),
                  StatusIs(absl::StatusCode::kInvalidArgument,
                           HasSubstr(IsaName(isa))));
    }
  }
  EXPECT_TRUE(SetIsaForTesting(std::nullopt).ok());
}

// --- Random parameters
// -----------------------------------------------------------

struct Quant {
  reference::QuantParam input, output;
  reference::WeightQuant weights;
  reference::ActivationRange activation;
};

// Per-channel scales spanning 1e-6..1 (or one per-tensor scale), extreme zero
// points; the output scale keeps a typical channel's outputs inside the int8
// range so that both rounding and saturation are exercised.
Quant RandomQuant(std::mt19937& rng, ArithmeticProfile profile,
                  int64_t channels, int64_t depth, bool symmetric_weights) {
  Quant q;
  std::uniform_real_distribution<double> u01(0.0, 1.0);
  q.input.scale = static_cast<float>(std::pow(10.0, -3.0 + 2.0 * u01(rng)));
  q.input.zero_point = RandomZeroPoint(rng);
  const bool per_channel = u01(rng) < 0.7;
  const int64_t n = per_channel ? channels : 1;
  const bool spanning = u01(rng) < 0.5;
  for (int64_t c = 0; c < n; ++c) {
    const double e = spanning ? -6.0 * u01(rng) : -2.5 + 0.5 * u01(rng);
    q.weights.scales.push_back(static_cast<float>(std::pow(10.0, e)));
  }
  if (!symmetric_weights) {
    const int64_t zn = u01(rng) < 0.5 ? n : 1;
    for (int64_t c = 0; c < zn; ++c) {
      q.weights.zero_points.push_back(RandomZeroPoint(rng));
    }
  }
  // Accumulator spread ~ 128 * 128 * sqrt(depth) * sw.
  const double typical_sw = spanning ? 1e-3 : 1e-2;
  q.output.scale = static_cast<float>(q.input.scale * typical_sw * 128.0 *
                                      std::sqrt(static_cast<double>(depth)) *
                                      (0.5 + u01(rng)));
  q.output.zero_point = RandomZeroPoint(rng);
  switch (std::uniform_int_distribution<int>(0, 3)(rng)) {
    case 0:  // Relu-like
      q.activation = {q.output.zero_point, 127};
      break;
    case 1: {  // Random narrower window
      const int lo = std::uniform_int_distribution<int>(-128, 0)(rng);
      q.activation = {lo, std::uniform_int_distribution<int>(lo, 127)(rng)};
      break;
    }
    default:
      break;
  }
  (void)profile;
  return q;
}

std::vector<int32_t> RandomBias(std::mt19937& rng, int64_t n) {
  std::uniform_int_distribution<int32_t> d(-(1 << 20), 1 << 20);
  std::vector<int32_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(rng);
  return v;
}

// Outputs strictly inside the activation clamp, over all checks of a test:
// the random parameters must exercise rounding, not only saturation.
struct Coverage {
  int64_t inside = 0, total = 0;
  void Add(const std::vector<int8_t>& out,
           const reference::ActivationRange& a) {
    const int lo = std::max(a.min, -128), hi = std::min(a.max, 127);
    for (int8_t v : out) inside += v > lo && v < hi;
    total += static_cast<int64_t>(out.size());
  }
  void Check() const {
    ASSERT_GT(total, 0);
    EXPECT_GT(static_cast<double>(inside) / total, 0.1)
        << inside << " of " << total << " outputs are not clamped";
  }
};
Coverage g_coverage;

class FastKernelTest : public FastIsaTest {
 protected:
  void SetUp() override {
    FastIsaTest::SetUp();
    g_coverage = Coverage();
  }
  // The path the fast kernels take for this ISA.
  Isa Expected() const { return ImplementedIsa(GetParam()); }
  // Depthwise convolution has no VNNI kernel.
  Isa ConvExpected() const {
    return std::min(ImplementedIsa(GetParam()), Isa::kAvx2);
  }
};

// --- Fully connected
// ---------------------------------------------------------------

struct FcCase {
  int64_t m, k, n;
};

using FcFactory = FullyConnectedKernel (*)(
    Isa, ArithmeticProfile, const reference::FullyConnectedParams&,
    const int8_t*, const int32_t*);

void CheckFullyConnected(Isa isa, Isa expected, ArithmeticProfile profile,
                         const FcCase& c, uint32_t seed,
                         FcFactory create = &FullyConnectedKernel::Create,
                         bool no_int8_min_weights = false) {
  std::mt19937 rng(seed);
  const bool symmetric = std::uniform_int_distribution<int>(0, 2)(rng) == 0;
  Quant q = RandomQuant(rng, profile, c.n, c.k, symmetric);
  reference::FullyConnectedParams p;
  p.rows = c.m;
  p.input_depth = c.k;
  p.output_depth = c.n;
  p.weight_layout = std::uniform_int_distribution<int>(0, 1)(rng)
                        ? reference::WeightLayout::kOutputMajor
                        : reference::WeightLayout::kInputMajor;
  p.input = q.input;
  p.weights = q.weights;
  p.output = q.output;
  p.activation = q.activation;
  const std::vector<int8_t> x = RandomInt8(rng, c.m * c.k);
  std::vector<int8_t> w = RandomInt8(rng, c.k * c.n);
  if (no_int8_min_weights) {
    // Full-range quantized weights lie in [-127, 127]; half of them at the
    // extremes.
    for (int8_t& v : w) {
      if (v == -128 || v < -100) v = -127;
      if (v > 100) v = 127;
    }
  }
  const bool with_bias = std::uniform_int_distribution<int>(0, 3)(rng) != 0;
  const std::vector<int32_t> bias = RandomBias(rng, c.n);
  const int32_t* b = with_bias ? bias.data() : nullptr;
  std::vector<int8_t> want(static_cast<size_t>(c.m * c.n));
  std::vector<int8_t> got(want.size(), 0);
  const absl::Status want_status =
      reference::FullyConnected(profile, p, x.data(), w.data(), b, want.data());
  FullyConnectedKernel kernel = create(isa, profile, p, w.data(), b);
  const absl::Status got_status = kernel.Run(c.m, x.data(), got.data());
  const std::string where =
      ::testing::PrintToString(std::vector<int64_t>{c.m, c.k, c.n});
  SCOPED_TRACE(::testing::Message()
               << "FullyConnected isa " << IsaName(isa) << " profile "
               << ArithmeticProfileName(profile) << " MxKxN " << where
               << " seed " << seed);
  ASSERT_EQ(want_status, got_status);
  ASSERT_TRUE(want_status.ok()) << want_status;
  EXPECT_EQ(kernel.isa(), expected);
  EXPECT_EQ(FirstDifference(want, got, c.n), "");
  g_coverage.Add(want, p.activation);
}

std::vector<FcCase> FcCases() {
  std::vector<FcCase> cases;
  for (int64_t m : {1, 2, 3, 4, 5, 7, 13}) {
    for (int64_t k : {1, 2, 3, 15, 16, 17, 64, 67}) {
      for (int64_t n : {1, 7, 8, 9, 16, 17, 33}) cases.push_back({m, k, n});
    }
  }
  cases.push_back({100, 300, 70});
  cases.push_back({97, 576, 64});
  cases.push_back({1, 1280, 100});
  return cases;
}

TEST_P(FastKernelTest, FullyConnectedEqualsReference) {
  uint32_t seed = TestSeed(1234);
  for (ArithmeticProfile profile : kProfiles) {
    for (const FcCase& c : FcCases()) {
      CheckFullyConnected(GetParam(), Expected(), profile, c, seed++);
      if (HasFatalFailure()) return;
    }
  }
  g_coverage.Check();
}

// Batch 1 with weights in [-127, 127]: the AVX2 matrix-vector kernel's
// vpmaddubsw form (avx2_kernels.h, GemvS8Sign), with inputs at -128 and
// weights at +-127 (the largest products).
TEST_P(FastKernelTest, FullyConnectedBatch1FullRangeWeightsEqualsReference) {
  uint32_t seed = TestSeed(2468);
  for (ArithmeticProfile profile : kProfiles) {
    for (int64_t k : {1, 3, 4, 5, 8, 63, 64, 67, 1280}) {
      for (int64_t n : {1, 7, 8, 9, 31, 32, 33, 100}) {
        CheckFullyConnected(GetParam(), Expected(), profile, {1, k, n}, seed++,
                            &FullyConnectedKernel::Create, true);
        if (HasFatalFailure()) return;
      }
    }
  }
}

// tflite_reference FULLY_CONNECTED rescales in double (docs/arithmetic.md):
// on a product just below a tie (14.49963 here, found by a search over
// float32 scales) the Q31 multiplier rounds to 15, the double rescale to 14.
// The fast kernel must give the reference's byte in both requant modes.
TEST_P(FastKernelTest, FullyConnectedTfliteDoubleRescaleEqualsReference) {
  for (auto mode : {reference::TfliteLinearRequant::kDouble,
                    reference::TfliteLinearRequant::kFixedPoint}) {
    reference::FullyConnectedParams p;
    p.rows = 3;
    p.input_depth = 16;
    p.output_depth = 2;
    p.input = {0.03214494f, 0};
    p.weights.scales = {0.0029675406f, 0.001f};
    p.output = {0.18040621f, 0};
    p.tflite_requant = mode;
    // Row r: acc[0] = 27422 + r (x = 1 on the first input, w = 1).
    std::vector<int8_t> x(static_cast<size_t>(p.rows * p.input_depth), 0);
    for (int64_t r = 0; r < p.rows; ++r) x[r * p.input_depth] = 1;
    std::vector<int8_t> w(static_cast<size_t>(2 * p.input_depth), 0);
    w[0] = 1;
    const int32_t bias[2] = {27421, 5};
    std::vector<int8_t> want(static_cast<size_t>(p.rows * 2));
    std::vector<int8_t> got(want.size(), 0);
    ASSERT_THAT(
        reference::FullyConnected(ArithmeticProfile::kTfliteReference, p,
                                  x.data(), w.data(), bias, want.data()),
        IsOk());
    EXPECT_EQ(want[0],
              mode == reference::TfliteLinearRequant::kDouble ? 14 : 15);
    FullyConnectedKernel kernel = FullyConnectedKernel::Create(
        GetParam(), ArithmeticProfile::kTfliteReference, p, w.data(), bias);
    ASSERT_THAT(kernel.Run(p.rows, x.data(), got.data()), IsOk());
    EXPECT_EQ(FirstDifference(want, got, 2), "");
  }
}

// --- Conv2D
// ---------------------------------------------------------------------------

struct ConvCase {
  int64_t batch, h, w, c, o, groups, kh, kw, stride, dilation, pad;
};

// The geometry of a convolution case (ConvCase, DwCase), each pad drawn
// from [0, c.pad] (top, left, bottom, right).
template <typename Case>
reference::ConvGeometry Geometry(const Case& c, std::mt19937& rng) {
  reference::ConvGeometry g;
  g.batch = c.batch;
  g.input_height = c.h;
  g.input_width = c.w;
  g.kernel_height = c.kh;
  g.kernel_width = c.kw;
  g.stride_height = c.stride;
  g.stride_width = c.stride;
  g.dilation_height = c.dilation;
  g.dilation_width = c.dilation;
  std::uniform_int_distribution<int64_t> pad(0, c.pad);
  g.pad_top = pad(rng);
  g.pad_left = pad(rng);
  g.pad_bottom = pad(rng);
  g.pad_right = pad(rng);
  return g;
}

using ConvFactory = Conv2DKernel (*)(Isa, ArithmeticProfile,
                                     const reference::Conv2DParams&,
                                     const int8_t*, const int32_t*);

void CheckConv(Isa isa, Isa expected, ArithmeticProfile profile,
               const ConvCase& c, uint32_t seed, bool force_asymmetric,
               ConvFactory create = &Conv2DKernel::Create) {
  std::mt19937 rng(seed);
  const int64_t depth = c.kh * c.kw * c.c / c.groups;
  const bool symmetric =
      !force_asymmetric && (profile == ArithmeticProfile::kTfliteReference ||
                            std::uniform_int_distribution<int>(0, 2)(rng) == 0);
  Quant q = RandomQuant(rng, profile, c.o, depth, symmetric);
  reference::Conv2DParams p;
  p.geometry = Geometry(c, rng);
  reference::ConvGeometry& g = p.geometry;
  p.input_channels = c.c;
  p.output_channels = c.o;
  p.groups = c.groups;
  p.input = q.input;
  p.weights = q.weights;
  p.output = q.output;
  p.activation = q.activation;
  const std::vector<int8_t> x = RandomInt8(rng, c.batch * c.h * c.w * c.c);
  const std::vector<int8_t> w = RandomInt8(rng, c.o * depth);
  const std::vector<int32_t> bias = RandomBias(rng, c.o);
  const bool with_bias = std::uniform_int_distribution<int>(0, 3)(rng) != 0;
  const int32_t* b = with_bias ? bias.data() : nullptr;
  const int64_t oh = std::max<int64_t>(0, g.output_height());
  const int64_t ow = std::max<int64_t>(0, g.output_width());
  std::vector<int8_t> want(static_cast<size_t>(c.batch * oh * ow * c.o));
  std::vector<int8_t> got(want.size(), 0);
  const absl::Status want_status =
      reference::Conv2D(profile, p, x.data(), w.data(), b, want.data());
  Conv2DKernel kernel = create(isa, profile, p, w.data(), b);
  const absl::Status got_status = kernel.Run(g, x.data(), got.data());
  SCOPED_TRACE(::testing::Message()
               << "Conv2D isa " << IsaName(isa) << " profile "
               << ArithmeticProfileName(profile) << " N" << c.batch << " H"
               << c.h << " W" << c.w << " C" << c.c << " O" << c.o << " g"
               << c.groups << " k" << c.kh << "x" << c.kw << " s" << c.stride
               << " d" << c.dilation << " pads " << g.pad_top << ","
               << g.pad_left << "," << g.pad_bottom << "," << g.pad_right
               << " seed " << seed);
  ASSERT_EQ(want_status, got_status);
  if (!want_status.ok()) return;  // Same error (e.g. too large a window).
  const bool simd_case = !(profile == ArithmeticProfile::kTfliteReference &&
                           !p.weights.all_zero_points_zero());
  EXPECT_EQ(kernel.isa(), simd_case ? expected : Isa::kScalar);
  EXPECT_EQ(FirstDifference(want, got, c.o), "");
  g_coverage.Add(want, p.activation);
}

std::vector<ConvCase> ConvCases() {
  std::vector<ConvCase> cases;
  for (int64_t ch : {1, 3, 7, 17, 64}) {
    // 1x1 stride 1 (the pointwise fast path) and 3x3 with padding.
    cases.push_back({1, 5, 6, ch, 17, 1, 1, 1, 1, 1, 0});
    cases.push_back({2, 4, 3, ch, 7, 1, 1, 1, 1, 1, 0});
    cases.push_back({1, 7, 6, ch, 64, 1, 3, 3, 1, 1, 1});
    cases.push_back({1, 8, 7, ch, 3, 1, 3, 3, 2, 1, 2});
    cases.push_back({1, 9, 9, ch, 1, 1, 3, 3, 1, 2, 2});
    cases.push_back({1, 6, 5, ch, 9, 1, 1, 1, 2, 1, 1});
  }
  // Grouped, non-square windows, dilation with stride.
  cases.push_back({1, 6, 6, 6, 9, 3, 3, 3, 1, 1, 1});
  cases.push_back({2, 7, 5, 8, 16, 2, 2, 3, 2, 2, 1});
  cases.push_back({1, 5, 5, 4, 4, 4, 3, 3, 1, 1, 1});  // groups == C
  cases.push_back({1, 3, 3, 5, 6, 1, 5, 5, 1, 1, 0});  // window > input: error
  std::mt19937 rng(TestSeed(777));
  for (int i = 0; i < 20; ++i) {
    std::uniform_int_distribution<int64_t> dim(1, 9), ch(1, 20), k(1, 3),
        s(1, 2), pad(0, 2), grp(1, 3);
    ConvCase c{1,      dim(rng), dim(rng), ch(rng), ch(rng), 1,
               k(rng), k(rng),   s(rng),   s(rng),  pad(rng)};
    const int64_t gr = grp(rng);
    c.c *= gr;
    c.o *= gr;
    c.groups = gr;
    cases.push_back(c);
  }
  return cases;
}

TEST_P(FastKernelTest, Conv2DEqualsReference) {
  uint32_t seed = TestSeed(5678);
  for (ArithmeticProfile profile : kProfiles) {
    for (const ConvCase& c : ConvCases()) {
      CheckConv(GetParam(), Expected(), profile, c, seed++, false);
      if (HasFatalFailure()) return;
    }
  }
  g_coverage.Check();
}

// An input whose zero-padded int16 copy exceeds the direct AVX2 path's
// limit (1 Mi elements) takes im2col with the direct packing (9 channels:
// taps padded to 10 values); a 2x2 window with stride 2 keeps the
// reference fast.
TEST_P(FastKernelTest, Conv2DLargeImageEqualsReference) {
  uint32_t seed = TestSeed(1357);
  for (ArithmeticProfile profile : kProfiles) {
    CheckConv(GetParam(), Expected(), profile,
              {1, 341, 341, 9, 3, 1, 2, 2, 2, 1, 1}, seed++, false);
    if (HasFatalFailure()) return;
  }
}

TEST_P(FastKernelTest, Conv2DTfliteAsymmetricWeightsFailLikeReference) {
  CheckConv(GetParam(), Expected(), ArithmeticProfile::kTfliteReference,
            {1, 4, 4, 3, 5, 1, 3, 3, 1, 1, 1}, TestSeed(99), true);
}

// --- DepthwiseConv2D
// --------------------------------------------------------------

struct DwCase {
  int64_t batch, h, w, c, mult, kh, kw, stride, dilation, pad;
};

void CheckDepthwise(Isa isa, Isa expected, ArithmeticProfile profile,
                    const DwCase& c, uint32_t seed) {
  std::mt19937 rng(seed);
  const int64_t oc = c.c * c.mult;
  const bool symmetric = profile == ArithmeticProfile::kTfliteReference ||
                         std::uniform_int_distribution<int>(0, 2)(rng) == 0;
  Quant q = RandomQuant(rng, profile, oc, c.kh * c.kw, symmetric);
  reference::DepthwiseConv2DParams p;
  p.geometry = Geometry(c, rng);
  reference::ConvGeometry& g = p.geometry;
  p.input_channels = c.c;
  p.depth_multiplier = c.mult;
  p.input = q.input;
  p.weights = q.weights;
  p.output = q.output;
  p.activation = q.activation;
  const std::vector<int8_t> x = RandomInt8(rng, c.batch * c.h * c.w * c.c);
  const std::vector<int8_t> w = RandomInt8(rng, c.kh * c.kw * oc);
  const std::vector<int32_t> bias = RandomBias(rng, oc);
  const bool with_bias = std::uniform_int_distribution<int>(0, 3)(rng) != 0;
  const int32_t* b = with_bias ? bias.data() : nullptr;
  const int64_t oh = std::max<int64_t>(0, g.output_height());
  const int64_t ow = std::max<int64_t>(0, g.output_width());
  std::vector<int8_t> want(static_cast<size_t>(c.batch * oh * ow * oc));
  std::vector<int8_t> got(want.size(), 0);
  const absl::Status want_status = reference::DepthwiseConv2D(
      profile, p, x.data(), w.data(), b, want.data());
  DepthwiseConv2DKernel kernel =
      DepthwiseConv2DKernel::Create(isa, profile, p, w.data(), b);
  const absl::Status got_status = kernel.Run(g, x.data(), got.data());
  SCOPED_TRACE(::testing::Message()
               << "DepthwiseConv2D isa " << IsaName(isa) << " profile "
               << ArithmeticProfileName(profile) << " N" << c.batch << " H"
               << c.h << " W" << c.w << " C" << c.c << " M" << c.mult << " k"
               << c.kh << "x" << c.kw << " s" << c.stride << " d" << c.dilation
               << " seed " << seed);
  ASSERT_EQ(want_status, got_status);
  if (!want_status.ok()) return;
  EXPECT_EQ(kernel.isa(), expected);
  EXPECT_EQ(FirstDifference(want, got, oc), "");
  g_coverage.Add(want, p.activation);
}

TEST_P(FastKernelTest, DepthwiseConv2DEqualsReference) {
  uint32_t seed = TestSeed(9012);
  std::vector<DwCase> cases;
  for (int64_t ch : {1, 3, 7, 17, 64}) {
    cases.push_back({1, 7, 8, ch, 1, 3, 3, 1, 1, 1});
    cases.push_back({2, 9, 7, ch, 1, 3, 3, 2, 1, 1});
    cases.push_back({1, 9, 9, ch, 1, 3, 3, 1, 2, 2});
    cases.push_back({1, 5, 6, ch, 1, 1, 1, 1, 1, 0});
    cases.push_back({1, 10, 9, ch, 1, 5, 5, 2, 1, 2});
    cases.push_back({1, 6, 6, ch, 2, 3, 3, 1, 1, 1});
    cases.push_back({1, 7, 6, ch, 3, 3, 3, 2, 1, 1});
  }
  cases.push_back({1, 12, 12, 9, 1, 9, 9, 1, 1, 4});  // > 64 taps
  cases.push_back({1, 12, 12, 40, 1, 9, 9, 1, 1, 4});
  cases.push_back({1, 9, 11, 48, 1, 3, 3, 1, 1, 1});  // 32 + 16 channels
  // Randomized: kernel sizes 1..7, depth multipliers 1..3, strides 1..2,
  // dilations 1..2, padding up to the kernel size, channel counts around
  // the 8/16/32 blocks.
  std::mt19937 shape_rng(seed);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(shape_rng);
  };
  const int64_t channel_choices[] = {1,  2,  3,  5,  7,  8,  9,  15,
                                     16, 17, 24, 31, 32, 33, 40, 64};
  for (int i = 0; i < 60; ++i) {
    DwCase c;
    c.batch = uniform(1, 2);
    c.c = channel_choices[uniform(0, 15)];
    c.mult = uniform(1, 3);
    c.kh = uniform(1, 7);
    c.kw = uniform(1, 7);
    c.stride = uniform(1, 2);
    c.dilation = uniform(1, 2);
    c.pad = uniform(0, std::max(c.kh, c.kw) - 1);
    c.h = uniform((c.kh - 1) * c.dilation + 1, 14);
    c.w = uniform((c.kw - 1) * c.dilation + 1, 14);
    cases.push_back(c);
  }
  for (ArithmeticProfile profile : kProfiles) {
    for (const DwCase& c : cases) {
      CheckDepthwise(GetParam(), ConvExpected(), profile, c, seed++);
      if (HasFatalFailure()) return;
    }
  }
  g_coverage.Check();
}

// The VNNI fully connected path (u8 x s8 packing, sign flip and weight-sum
// correction folded into the bias, per-row weight zero-point correction)
// with the scalar emulation of vpdpbusd as its micro-kernel: runs on any CPU
// with AVX2 (the output stage); the real VNNI micro-kernels run in
// FastKernelTest/avxvnni and /avx512vnni where the CPU has them.
FullyConnectedKernel CreateEmulatedVnni(
    Isa isa, ArithmeticProfile profile,
    const reference::FullyConnectedParams& p, const int8_t* w,
    const int32_t* b) {
  return FullyConnectedKernel::CreateWithVnniGemmForTesting(
      isa, &EmulatedGemmU8S8, profile, p, w, b);
}

TEST(VnniEmulationTest, FullyConnectedEqualsReference) {
  if (!CpuHasIsa(Isa::kAvx2)) {
    GTEST_SKIP() << "the VNNI path's output stage needs AVX2";
  }
  g_coverage = Coverage();
  uint32_t seed = TestSeed(4321);
  for (ArithmeticProfile profile : kProfiles) {
    for (const FcCase& c : FcCases()) {
      CheckFullyConnected(Isa::kAvx512Vnni, Isa::kAvx512Vnni, profile, c,
                          seed++, &CreateEmulatedVnni);
      if (HasFatalFailure()) return;
    }
  }
  g_coverage.Check();
}

Conv2DKernel CreateEmulatedVnniConv(Isa isa, ArithmeticProfile profile,
                                    const reference::Conv2DParams& p,
                                    const int8_t* w, const int32_t* b) {
  return Conv2DKernel::CreateWithVnniGemmForTesting(isa, &EmulatedGemmU8S8,
                                                    profile, p, w, b);
}

TEST(VnniEmulationTest, Conv2DEqualsReference) {
  if (!CpuHasIsa(Isa::kAvx2)) {
    GTEST_SKIP() << "the VNNI path's output stage needs AVX2";
  }
  g_coverage = Coverage();
  uint32_t seed = TestSeed(8765);
  for (ArithmeticProfile profile : kProfiles) {
    for (const ConvCase& c : ConvCases()) {
      CheckConv(Isa::kAvxVnni, Isa::kAvxVnni, profile, c, seed++, false,
                &CreateEmulatedVnniConv);
      if (HasFatalFailure()) return;
    }
  }
  g_coverage.Check();
}

INSTANTIATE_TEST_SUITE_P(Isas, FastKernelTest, ::testing::ValuesIn(kAllIsas),
                         IsaParamName);

}  // namespace
}  // namespace qforge::kernels::int8::fast
