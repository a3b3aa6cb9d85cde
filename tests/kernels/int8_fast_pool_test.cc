// The fast INT8 pooling kernels (kernels/int8/fast/pooling.h) against the
// normative reference kernels, byte for byte and status for status, for
// every ISA this CPU has and both arithmetic profiles: randomized NHWC shapes
// with channel counts around the vector blocks (1, 3, 7, 17, 64, ...),
// kernel sizes 1..7, strides 1..3, padding, ceil mode, same and different
// input/output parameters, extreme zero points, activation clamps.
// A failure prints the seed (QFORGE_TEST_SEED reproduces it) and the first
// differing element.
#include <algorithm>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "int8_fast_test_util.h"
#include "int8_reference_test_util.h"
#include "kernels/int8/fast/isa.h"
#include "kernels/int8/fast/pooling.h"
#include "kernels/int8/reference/pooling.h"

namespace qforge::kernels::int8::fast {
namespace {

using ::qforge::kernels::int8::fast::fast_testing::FirstDifference;
using ::qforge::kernels::reference::testing::kProfiles;
using ::qforge::kernels::reference::testing::RandomInt8;
using ::qforge::kernels::reference::testing::RandomZeroPoint;
using ::qforge::kernels::reference::testing::TestSeed;

int64_t Pick(std::mt19937& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

constexpr int64_t kChannels[] = {1, 3, 7, 8, 9, 16, 17, 31, 32, 33, 40, 64};

reference::ActivationRange RandomActivation(std::mt19937& rng,
                                            int32_t zero_point) {
  switch (Pick(rng, 0, 3)) {
    case 0:
      return {zero_point, 127};  // Relu-like
    case 1: {
      const int32_t lo = static_cast<int32_t>(Pick(rng, -128, 0));
      return {lo, static_cast<int32_t>(Pick(rng, lo, 127))};
    }
    default:
      return {};
  }
}

// Input and output parameters: equal, equal within TFLite's 1e-6 tolerance,
// or different.
void RandomPoolQuant(std::mt19937& rng, reference::QuantParam* in,
                     reference::QuantParam* out) {
  in->scale = reference::testing::RandomScale(rng, -3, 0);
  in->zero_point = RandomZeroPoint(rng);
  switch (Pick(rng, 0, 3)) {
    case 0:
    case 1:
      *out = *in;
      break;
    case 2:
      *out = *in;
      out->scale = in->scale + 5e-7f;
      break;
    default:
      out->scale =
          in->scale * static_cast<float>(std::uniform_real_distribution<double>(
                          0.3, 3.0)(rng));
      out->zero_point = RandomZeroPoint(rng);
      break;
  }
}

std::vector<Isa> CpuIsas() {
  std::vector<Isa> isas;
  for (Isa isa : kAllIsas) {
    if (CpuHasIsa(isa)) {
      isas.push_back(isa);
    } else {
      std::printf("this CPU lacks %s; its kernels were not executed here\n",
                  IsaName(isa));
    }
  }
  return isas;
}

enum class Op { kMax, kAverage };

// Counts the checks whose outputs were compared (not only errors).
struct Counts {
  int compared = 0, errors = 0;
};

void CheckPool(Op op, ArithmeticProfile profile, uint32_t seed,
               Counts* counts) {
  std::mt19937 rng(seed);
  reference::Pool2DParams p;
  p.batch = Pick(rng, 1, 2);
  p.channels = kChannels[Pick(rng, 0, std::size(kChannels) - 1)];
  p.kernel_height = Pick(rng, 1, 7);
  p.kernel_width = Pick(rng, 1, 7);
  p.stride_height = Pick(rng, 1, 3);
  p.stride_width = Pick(rng, 1, 3);
  p.pad_top = Pick(rng, 0, p.kernel_height - 1);
  p.pad_bottom = Pick(rng, 0, p.kernel_height - 1);
  p.pad_left = Pick(rng, 0, p.kernel_width - 1);
  p.pad_right = Pick(rng, 0, p.kernel_width - 1);
  p.input_height = Pick(rng, 1, 13);
  p.input_width = Pick(rng, 1, 13);
  if (Pick(rng, 0, 5) == 0) {  // the whole image (ORT: the global pool)
    p.kernel_height = p.input_height;
    p.kernel_width = p.input_width;
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 0;
  }
  const bool ceil_mode = Pick(rng, 0, 1) == 1;
  p.output_height = reference::PoolOutputSize(p.input_height, p.kernel_height,
                                              p.stride_height, p.pad_top,
                                              p.pad_bottom, ceil_mode);
  p.output_width =
      reference::PoolOutputSize(p.input_width, p.kernel_width, p.stride_width,
                                p.pad_left, p.pad_right, ceil_mode);
  p.count_include_pad =
      profile == ArithmeticProfile::kOnnxRuntime && Pick(rng, 0, 1) == 1;
  RandomPoolQuant(rng, &p.input, &p.output);
  p.activation = RandomActivation(rng, p.output.zero_point);
  const std::vector<int8_t> x =
      RandomInt8(rng, p.batch * p.input_height * p.input_width * p.channels);
  const int64_t out_count = p.batch * std::max<int64_t>(p.output_height, 0) *
                            std::max<int64_t>(p.output_width, 0) * p.channels;
  std::vector<int8_t> want(static_cast<size_t>(out_count), 0);
  const absl::Status want_status =
      op == Op::kMax
          ? reference::MaxPool2D(profile, p, x.data(), want.data())
          : reference::AveragePool2D(profile, p, x.data(), want.data());
  for (Isa isa : CpuIsas()) {
    std::vector<int8_t> got(want.size(), 0);
    const absl::Status got_status =
        op == Op::kMax ? MaxPool2D(isa, profile, p, x.data(), got.data())
                       : AveragePool2D(isa, profile, p, x.data(), got.data());
    SCOPED_TRACE(::testing::Message()
                 << (op == Op::kMax ? "MaxPool" : "AveragePool") << " isa "
                 << IsaName(isa) << " profile "
                 << ArithmeticProfileName(profile) << " N" << p.batch << " H"
                 << p.input_height << " W" << p.input_width << " C"
                 << p.channels << " k" << p.kernel_height << "x"
                 << p.kernel_width << " s" << p.stride_height << "x"
                 << p.stride_width << " pads " << p.pad_top << "," << p.pad_left
                 << "," << p.pad_bottom << "," << p.pad_right << " include_pad "
                 << p.count_include_pad << " seed " << seed);
    ASSERT_EQ(want_status, got_status);
    if (want_status.ok()) {
      EXPECT_EQ(FirstDifference(want, got, p.channels, "pixel"), "");
    }
  }
  (want_status.ok() ? counts->compared : counts->errors) += 1;
}

TEST(FastPoolTest, MaxPoolEqualsReference) {
  uint32_t seed = TestSeed(31337);
  for (ArithmeticProfile profile : kProfiles) {
    Counts counts;
    for (int i = 0; i < 150; ++i) {
      CheckPool(Op::kMax, profile, seed++, &counts);
      if (HasFatalFailure()) return;
    }
    EXPECT_GT(counts.compared, 100) << "too few valid random cases";
  }
}

TEST(FastPoolTest, AveragePoolEqualsReference) {
  uint32_t seed = TestSeed(27182);
  for (ArithmeticProfile profile : kProfiles) {
    Counts counts;
    for (int i = 0; i < 200; ++i) {
      CheckPool(Op::kAverage, profile, seed++, &counts);
      if (HasFatalFailure()) return;
    }
    // tflite_reference rejects different params (about a quarter).
    EXPECT_GT(counts.compared, 100) << "too few valid random cases";
    EXPECT_GT(counts.errors, 0) << "error paths not exercised";
  }
}

void CheckGlobal(ArithmeticProfile profile,
                 const reference::GlobalPoolParams& p, uint32_t seed,
                 std::mt19937& rng, int* compared) {
  const std::vector<int8_t> x =
      RandomInt8(rng, p.batch * p.height * p.width * p.channels);
  std::vector<int8_t> want(static_cast<size_t>(p.batch * p.channels), 0);
  const absl::Status want_status =
      reference::GlobalAveragePool(profile, p, x.data(), want.data());
  for (Isa isa : CpuIsas()) {
    std::vector<int8_t> got(want.size(), 0);
    const absl::Status got_status =
        GlobalAveragePool(isa, profile, p, x.data(), got.data());
    SCOPED_TRACE(::testing::Message()
                 << "GlobalAveragePool isa " << IsaName(isa) << " profile "
                 << ArithmeticProfileName(profile) << " N" << p.batch << " H"
                 << p.height << " W" << p.width << " C" << p.channels
                 << " seed " << seed);
    ASSERT_EQ(want_status, got_status);
    if (want_status.ok()) {
      EXPECT_EQ(FirstDifference(want, got, p.channels, "pixel"), "");
    }
  }
  if (want_status.ok()) ++*compared;
}

TEST(FastPoolTest, GlobalAveragePoolEqualsReference) {
  uint32_t seed = TestSeed(16180);
  for (ArithmeticProfile profile : kProfiles) {
    int compared = 0;
    for (int i = 0; i < 120; ++i, ++seed) {
      std::mt19937 rng(seed);
      reference::GlobalPoolParams p;
      p.batch = Pick(rng, 1, 3);
      p.height = Pick(rng, 1, 16);
      p.width = Pick(rng, 1, 16);
      p.channels = kChannels[Pick(rng, 0, std::size(kChannels) - 1)];
      p.input.scale = reference::testing::RandomScale(rng, -3, 0);
      p.input.zero_point = RandomZeroPoint(rng);
      // Output scale around the mean's spread, sometimes far off (tiny
      // scales saturate; large ones leave MLAS's accepted range).
      const double spread = Pick(rng, 0, 9) == 0 ? 1e-5 : 0.2;
      p.output.scale = static_cast<float>(
          p.input.scale * spread *
          std::uniform_real_distribution<double>(0.5, 2.0)(rng));
      p.output.zero_point = RandomZeroPoint(rng);
      p.activation = RandomActivation(rng, p.output.zero_point);
      CheckGlobal(profile, p, seed, rng, &compared);
      if (HasFatalFailure()) return;
    }
    EXPECT_GT(compared, 90);
  }
}

TEST(FastPoolTest, LargeImageGlobalPoolEqualsReference) {
  // 56x56 (more than 2^8 pixels per channel sum) with extreme inputs.
  std::mt19937 rng(TestSeed(4242));
  for (ArithmeticProfile profile : kProfiles) {
    reference::GlobalPoolParams p;
    p.batch = 1;
    p.height = 56;
    p.width = 57;
    p.channels = 72;
    p.input = {0.05f, -128};
    p.output = {0.04f, 5};
    int compared = 0;
    CheckGlobal(profile, p, 4242, rng, &compared);
    EXPECT_EQ(compared, 1);
  }
}

TEST(FastPoolTest, ReduceMeanEqualsReference) {
  uint32_t seed = TestSeed(5772);
  for (ArithmeticProfile profile : kProfiles) {
    int compared = 0;
    for (int i = 0; i < 150; ++i, ++seed) {
      std::mt19937 rng(seed);
      reference::ReduceMeanParams p;
      const int64_t rank = Pick(rng, 1, 5);
      for (int64_t d = 0; d < rank; ++d) {
        p.dims.push_back(d == rank - 1
                             ? kChannels[Pick(rng, 0, std::size(kChannels) - 1)]
                             : Pick(rng, 1, 7));
      }
      // Mostly one contiguous block (the AVX2 path: NHWC [1, 2] among
      // them), sometimes a gap (the reference path).
      if (rank == 4 && Pick(rng, 0, 2) == 0) {
        p.axes = {1, 2};
      } else {
        const int64_t first = Pick(rng, 0, rank - 1);
        const int64_t last = Pick(rng, first, rank - 1);
        for (int64_t a = last; a >= first; --a) p.axes.push_back(a);
        if (rank >= 3 && Pick(rng, 0, 4) == 0) p.axes = {0, rank - 1};
      }
      p.input.scale = reference::testing::RandomScale(rng, -3, 0);
      p.input.zero_point = RandomZeroPoint(rng);
      p.output.scale = static_cast<float>(
          p.input.scale *
          std::uniform_real_distribution<double>(0.05, 2.0)(rng));
      p.output.zero_point = RandomZeroPoint(rng);
      p.activation = RandomActivation(rng, p.output.zero_point);
      int64_t count = 1, n = 1;
      for (int64_t d = 0; d < rank; ++d) count *= p.dims[d];
      for (int64_t a : p.axes) n *= p.dims[a];
      const std::vector<int8_t> x = RandomInt8(rng, count);
      std::vector<int8_t> want(static_cast<size_t>(count / n), 0);
      const absl::Status want_status =
          reference::ReduceMean(profile, p, x.data(), want.data());
      for (Isa isa : CpuIsas()) {
        std::vector<int8_t> got(want.size(), 0);
        const absl::Status got_status =
            ReduceMean(isa, profile, p, x.data(), got.data());
        SCOPED_TRACE(::testing::Message()
                     << "ReduceMean isa " << IsaName(isa) << " profile "
                     << ArithmeticProfileName(profile) << " dims "
                     << ::testing::PrintToString(p.dims) << " axes "
                     << ::testing::PrintToString(p.axes) << " seed " << seed);
        ASSERT_EQ(want_status, got_status);
        if (want_status.ok()) {
          EXPECT_EQ(FirstDifference(want, got, p.dims.back()), "");
        }
      }
      if (HasFatalFailure()) return;
      if (want_status.ok()) ++compared;
    }
    EXPECT_GT(compared, 120);
  }
}

TEST(FastPoolTest, InvalidParametersFailLikeReference) {
  for (ArithmeticProfile profile : kProfiles) {
    reference::Pool2DParams p;
    p.input_height = 4;
    p.input_width = 4;
    p.channels = 8;
    p.kernel_height = 2;
    p.kernel_width = 2;
    p.stride_height = 4;
    p.stride_width = 1;
    p.pad_bottom = 5;  // the second window row lies in the padding
    p.output_height = 2;
    p.output_width = 3;
    std::vector<int8_t> x(128, 1), want(64, 0), got(64, 0);
    for (Isa isa : CpuIsas()) {
      EXPECT_EQ(MaxPool2D(isa, profile, p, x.data(), got.data()),
                reference::MaxPool2D(profile, p, x.data(), want.data()));
      EXPECT_EQ(AveragePool2D(isa, profile, p, x.data(), got.data()),
                reference::AveragePool2D(profile, p, x.data(), want.data()));
      reference::Pool2DParams bad_scale = p;
      bad_scale.output_height = 1;
      bad_scale.pad_bottom = 0;
      bad_scale.input.scale = -1.0f;
      EXPECT_EQ(
          MaxPool2D(isa, profile, bad_scale, x.data(), got.data()),
          reference::MaxPool2D(profile, bad_scale, x.data(), want.data()));
      EXPECT_FALSE(MaxPool2D(isa, profile, p, x.data(), got.data()).ok());
    }
  }
}

}  // namespace
}  // namespace qforge::kernels::int8::fast
