// The fast INT8 element-wise kernels (kernels/int8/fast/elementwise_kernels.h)
// against the normative scalar reference kernels, byte for byte, for every
// ISA this CPU has and both arithmetic profiles: Add, Sub, Mul with
// broadcasting (same shape, scalar, per-channel vectors along the innermost
// dims, general broadcasts), table lookup, QuantizeLinear /
// DequantizeLinear (ties, NaN, infinities, huge values) and Concat. Lengths
// include the SIMD tails (1, 3, 7, 17, 31, 33, 64, ...), zero points the
// extremes, scales span 1e-6..1. A failure prints the seed
// (QFORGE_TEST_SEED reproduces it) and the first differing element. ISAs
// the CPU lacks are skipped with a message.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "int8_fast_test_util.h"
#include "int8_reference_test_util.h"
#include "kernels/int8/fast/elementwise_kernels.h"
#include "kernels/int8/fast/isa.h"
#include "kernels/int8/reference/concat.h"
#include "kernels/int8/reference/elementwise.h"
#include "kernels/int8/reference/lut.h"
#include "kernels/int8/reference/quantize.h"
#include "kernels/int8/reference/softmax.h"
#include "qforge/testing/status_matchers.h"

namespace qforge::kernels::int8::fast {
namespace {

using ::qforge::kernels::int8::fast::fast_testing::FastIsaTest;
using ::qforge::kernels::int8::fast::fast_testing::FirstDifference;
using ::qforge::kernels::int8::fast::fast_testing::IsaParamName;
using ::qforge::kernels::reference::ActivationRange;
using ::qforge::kernels::reference::BinaryParams;
using ::qforge::kernels::reference::QuantParam;
using ::qforge::kernels::reference::testing::kProfiles;
using ::qforge::kernels::reference::testing::RandomInt8;
using ::qforge::kernels::reference::testing::RandomScale;
using ::qforge::kernels::reference::testing::RandomZeroPoint;
using ::qforge::kernels::reference::testing::TestSeed;

const char* ProfileName(ArithmeticProfile p) {
  return p == ArithmeticProfile::kOnnxRuntime ? "onnxruntime"
                                              : "tflite_reference";
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? "," : "") << shape[i];
  s << "]";
  return s.str();
}

class FastElementwiseTest : public FastIsaTest {
 protected:
  void SetUp() override {
    FastIsaTest::SetUp();
    simd_calls_before_ = SimdCallsForTesting();
  }
  // A SIMD ISA must have run the SIMD path at least once (so the
  // comparisons did not silently compare the reference with itself), the
  // scalar ISA never.
  void ExpectSimdRan() {
    const int64_t calls = SimdCallsForTesting() - simd_calls_before_;
    if (ElementwiseIsa(GetParam()) == Isa::kScalar) {
      EXPECT_EQ(calls, 0);
    } else {
      EXPECT_GT(calls, 0);
    }
  }
  uint32_t seed_ = TestSeed(20261123);
  int64_t simd_calls_before_ = 0;
};

TEST_P(FastElementwiseTest, UsesAvx2WhenTheCpuHasAvx2) {
  const Isa isa = GetParam();
  EXPECT_EQ(ElementwiseIsa(isa), isa >= Isa::kAvx2 ? Isa::kAvx2 : Isa::kScalar);
}

// --- Add / Sub / Mul -----------------------------------------------------

struct ShapePair {
  std::vector<int64_t> a, b;
};

std::vector<ShapePair> BroadcastCases() {
  std::vector<ShapePair> cases;
  for (int64_t n : {1, 3, 7, 8, 17, 31, 32, 33, 64, 100, 1000}) {
    cases.push_back({{n}, {n}});        // same shape
    cases.push_back({{2, n}, {1}});     // scalar input2
    cases.push_back({{1}, {3, n}});     // scalar input1
    cases.push_back({{2, 3, n}, {n}});  // per-channel, innermost (NHWC)
    cases.push_back({{n}, {2, 3, n}});  // per-channel input1
    cases.push_back({{1, n, 2, 3}, {n, 1, 1}});  // per-channel (NCHW)
    cases.push_back({{2, n, 5}, {2, 1, 5}});     // middle broadcast
  }
  cases.push_back({{}, {}});             // one element
  cases.push_back({{1, 1}, {1}});        // one element, rank 2
  cases.push_back({{4, 1, 3}, {5, 1}});  // both broadcast
  cases.push_back({{3, 1}, {1, 17}});    // outer product
  cases.push_back({{2, 3, 4, 5}, {3, 1, 5}});
  cases.push_back({{0, 7}, {7}});  // empty
  // Per-channel vectors tiled over several rows, several tiles per output.
  cases.push_back({{4, 50, 64}, {64}});
  cases.push_back({{64}, {4, 50, 64}});
  cases.push_back({{6, 300}, {1, 300}});
  cases.push_back({{3, 6, 17}, {3, 1, 17}});  // vector differs per outer
  return cases;
}

using BinaryFastFn = absl::Status (*)(Isa, ArithmeticProfile,
                                      const BinaryParams&,
                                      absl::Span<const int64_t>, const int8_t*,
                                      absl::Span<const int64_t>, const int8_t*,
                                      int8_t*);
using BinaryRefFn = absl::Status (*)(ArithmeticProfile, const BinaryParams&,
                                     absl::Span<const int64_t>, const int8_t*,
                                     absl::Span<const int64_t>, const int8_t*,
                                     int8_t*);

struct BinaryOpCase {
  const char* name;
  BinaryFastFn fast;
  BinaryRefFn ref;
  bool mul;
};

const BinaryOpCase kBinaryOps[] = {
    {"Add", &Add, &reference::Add, false},
    {"Sub", &Sub, &reference::Sub, false},
    {"Mul", &Mul, &reference::Mul, true},
};

// Random params: input scales over 1e-6..1, an output scale of the
// result's magnitude (times 0.3..3) or, now and then, anywhere in 1e-6..1;
// extreme zero points; a narrowed activation range now and then.
BinaryParams RandomBinaryParams(std::mt19937& rng, bool mul) {
  BinaryParams p;
  p.input1 = {RandomScale(rng, -6, 0), RandomZeroPoint(rng)};
  p.input2 = {RandomScale(rng, -6, 0), RandomZeroPoint(rng)};
  std::uniform_int_distribution<int> pick(0, 5);
  const double magnitude = mul ? double{p.input1.scale} * p.input2.scale * 128.0
                               : std::max(p.input1.scale, p.input2.scale) * 2.0;
  if (pick(rng) == 0) {
    p.output = {RandomScale(rng, -6, 0), RandomZeroPoint(rng)};
  } else {
    p.output = {static_cast<float>(magnitude * RandomScale(rng, -0.5, 0.5)),
                RandomZeroPoint(rng)};
  }
  if (pick(rng) == 0) p.activation = ActivationRange{-20, 90};
  if (pick(rng) == 1) p.activation = ActivationRange{0, 127};
  return p;
}

TEST_P(FastElementwiseTest, BinaryOpsEqualReference) {
  std::mt19937 rng(seed_);
  int checked = 0;
  for (const BinaryOpCase& op : kBinaryOps) {
    for (ArithmeticProfile profile : kProfiles) {
      int trial = 0;
      for (const ShapePair& shapes : BroadcastCases()) {
        for (int rep = 0; rep < 3; ++rep, ++trial) {
          const BinaryParams p = RandomBinaryParams(rng, op.mul);
          absl::StatusOr<std::vector<int64_t>> out_dims =
              reference::BroadcastShapes(shapes.a, shapes.b);
          ASSERT_TRUE(out_dims.ok());
          int64_t na = 1, nb = 1, nout = 1;
          for (int64_t d : shapes.a) na *= d;
          for (int64_t d : shapes.b) nb *= d;
          for (int64_t d : *out_dims) nout *= d;
          const std::vector<int8_t> a = RandomInt8(rng, na);
          const std::vector<int8_t> b = RandomInt8(rng, nb);
          std::vector<int8_t> expected(nout, 0x55), actual(nout, 0x55);
          const absl::Status ref_status =
              op.ref(profile, p, shapes.a, a.data(), shapes.b, b.data(),
                     expected.data());
          const absl::Status fast_status =
              op.fast(GetParam(), profile, p, shapes.a, a.data(), shapes.b,
                      b.data(), actual.data());
          const std::string context =
              std::string(op.name) + " " + ProfileName(profile) +
              " seed=" + std::to_string(seed_) +
              " trial=" + std::to_string(trial) + " shapes " +
              ShapeString(shapes.a) + " " + ShapeString(shapes.b) +
              " params in1 " + reference::DescribeQuantParam(p.input1) +
              " in2 " + reference::DescribeQuantParam(p.input2) + " out " +
              reference::DescribeQuantParam(p.output);
          ASSERT_EQ(fast_status, ref_status) << context;
          if (!ref_status.ok()) continue;
          ++checked;
          const std::string diff = FirstDifference(expected, actual);
          ASSERT_TRUE(diff.empty()) << context << ": " << diff;
        }
      }
    }
  }
  // Most random parameter sets are valid (TFLite Add rejects some).
  EXPECT_GT(checked, 400);
  ExpectSimdRan();
}

// Large and tiny scale ratios and zero-point extremes on long same-shape
// inputs hit the rounding boundaries of every formula many times.
TEST_P(FastElementwiseTest, BinaryOpsEqualReferenceOnAllValuePairs) {
  // Every (a, b) pair once: a = i / 256, b = i % 256.
  std::vector<int8_t> a(65536), b(65536);
  for (int i = 0; i < 65536; ++i) {
    a[i] = static_cast<int8_t>(i >> 8);
    b[i] = static_cast<int8_t>(i & 255);
  }
  const std::vector<int64_t> shape = {65536};
  std::mt19937 rng(seed_ + 1);
  for (const BinaryOpCase& op : kBinaryOps) {
    for (ArithmeticProfile profile : kProfiles) {
      for (int trial = 0; trial < 3; ++trial) {
        BinaryParams p = RandomBinaryParams(rng, op.mul);
        if (trial == 0) {
          p.input1.zero_point = -128;
          p.input2.zero_point = 127;
          p.output.zero_point = -128;
        }
        std::vector<int8_t> expected(65536), actual(65536);
        const absl::Status ref_status = op.ref(
            profile, p, shape, a.data(), shape, b.data(), expected.data());
        const absl::Status fast_status =
            op.fast(GetParam(), profile, p, shape, a.data(), shape, b.data(),
                    actual.data());
        const std::string context = std::string(op.name) + " " +
                                    ProfileName(profile) +
                                    " seed=" + std::to_string(seed_ + 1) +
                                    " trial=" + std::to_string(trial);
        ASSERT_EQ(fast_status, ref_status) << context;
        if (!ref_status.ok()) continue;
        const std::string diff = FirstDifference(expected, actual);
        ASSERT_TRUE(diff.empty()) << context << ": " << diff;
      }
    }
  }
  ExpectSimdRan();
}

// ORT's Add has three span forms (general, input2 constant, input1
// constant) that differ in the last bit of binary32 roundings. Searches
// parameters where the reference's forms give different bytes for the same
// values and checks that the fast kernel follows each form.
TEST_P(FastElementwiseTest, OrtAddFollowsTheReferenceSpanForm) {
  std::mt19937 rng(seed_ + 6);
  std::vector<int8_t> a(256);
  for (int i = 0; i < 256; ++i) a[i] = static_cast<int8_t>(i);
  const std::vector<int64_t> full = {256}, one = {1};
  const ArithmeticProfile ort = ArithmeticProfile::kOnnxRuntime;
  int found = 0;
  for (int attempt = 0; attempt < 20000 && found < 20; ++attempt) {
    const BinaryParams p = RandomBinaryParams(rng, false);
    const int8_t b0 =
        static_cast<int8_t>(std::uniform_int_distribution<int>(-128, 127)(rng));
    const std::vector<int8_t> b(256, b0);
    std::vector<int8_t> general(256), constant2(256), constant1(256);
    ASSERT_TRUE(
        reference::Add(ort, p, full, a.data(), full, b.data(), general.data())
            .ok());
    ASSERT_TRUE(
        reference::Add(ort, p, full, a.data(), one, &b0, constant2.data())
            .ok());
    ASSERT_TRUE(
        reference::Add(ort, p, one, &b0, full, a.data(), constant1.data())
            .ok());
    // The general form with input1 = b, input2 = a, for the input1
    // constant case.
    std::vector<int8_t> general1(256);
    ASSERT_TRUE(
        reference::Add(ort, p, full, b.data(), full, a.data(), general1.data())
            .ok());
    if (general == constant2 && general1 == constant1) continue;
    ++found;
    std::vector<int8_t> fast(256);
    ASSERT_TRUE(
        Add(GetParam(), ort, p, full, a.data(), full, b.data(), fast.data())
            .ok());
    EXPECT_EQ(FirstDifference(general, fast), "")
        << "general, seed=" << seed_ + 6;
    ASSERT_TRUE(
        Add(GetParam(), ort, p, full, a.data(), one, &b0, fast.data()).ok());
    EXPECT_EQ(FirstDifference(constant2, fast), "")
        << "input2 constant, seed=" << seed_ + 6;
    ASSERT_TRUE(
        Add(GetParam(), ort, p, one, &b0, full, a.data(), fast.data()).ok());
    EXPECT_EQ(FirstDifference(constant1, fast), "")
        << "input1 constant, seed=" << seed_ + 6;
    ASSERT_TRUE(
        Add(GetParam(), ort, p, full, b.data(), full, a.data(), fast.data())
            .ok());
    EXPECT_EQ(FirstDifference(general1, fast), "")
        << "general (b, a), seed=" << seed_ + 6;
  }
  EXPECT_GT(found, 0) << "no parameters found where the forms differ";
  ExpectSimdRan();
}

TEST_P(FastElementwiseTest, BinaryOpsReportErrorsLikeReference) {
  const std::vector<int64_t> s3 = {3}, s4 = {4};
  const int8_t a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
  int8_t out_ref[4], out_fast[4];
  BinaryParams p;
  p.input1 = {0.1f, 0};
  p.input2 = {0.2f, 3};
  p.output = {0.3f, -5};
  for (const BinaryOpCase& op : kBinaryOps) {
    for (ArithmeticProfile profile : kProfiles) {
      // Incompatible shapes.
      EXPECT_EQ(op.fast(GetParam(), profile, p, s3, a, s4, b, out_fast),
                op.ref(profile, p, s3, a, s4, b, out_ref));
      // Invalid scale.
      BinaryParams bad = p;
      bad.input2.scale = std::numeric_limits<float>::quiet_NaN();
      const absl::Status ref = op.ref(profile, bad, s3, a, s3, b, out_ref);
      EXPECT_FALSE(ref.ok());
      EXPECT_EQ(op.fast(GetParam(), profile, bad, s3, a, s3, b, out_fast), ref);
      // Null buffer.
      EXPECT_EQ(op.fast(GetParam(), profile, p, s3, nullptr, s3, b, out_fast),
                op.ref(profile, p, s3, nullptr, s3, b, out_ref));
      // TFLite Add/Sub: output multiplier >= 1.
      BinaryParams tiny = p;
      tiny.output.scale = 1e-9f;
      EXPECT_EQ(op.fast(GetParam(), profile, tiny, s3, a, s3, b, out_fast),
                op.ref(profile, tiny, s3, a, s3, b, out_ref));
    }
  }
}

// --- Tables --------------------------------------------------------------

TEST_P(FastElementwiseTest, LookUpEqualsReference) {
  std::mt19937 rng(seed_ + 2);
  std::vector<reference::Int8Lut> tables;
  for (int t = 0; t < 3; ++t) {
    reference::Int8Lut lut;
    const std::vector<int8_t> v = RandomInt8(rng, 256);
    std::copy(v.begin(), v.end(), lut.begin());
    tables.push_back(lut);
  }
  reference::Int8Lut identity;
  for (int i = 0; i < 256; ++i) identity[i] = static_cast<int8_t>(i);
  tables.push_back(identity);
  for (ArithmeticProfile profile : kProfiles) {
    const QuantParam in{RandomScale(rng, -2, -1), RandomZeroPoint(rng)};
    const QuantParam out{1.0f / 256, -128};
    absl::StatusOr<reference::Int8Lut> sigmoid =
        reference::BuildSigmoidLut(profile, in, out);
    ASSERT_TRUE(sigmoid.ok()) << sigmoid.status();
    tables.push_back(*sigmoid);
  }
  // Every input value at every position of a 32-byte block, plus tails.
  for (int64_t n : {1, 3, 7, 17, 31, 32, 33, 64, 256, 1000, 4099}) {
    std::vector<int8_t> x = RandomInt8(rng, n);
    if (n == 256) {
      for (int i = 0; i < 256; ++i) x[i] = static_cast<int8_t>(i);
    }
    for (size_t t = 0; t < tables.size(); ++t) {
      std::vector<int8_t> expected(n), actual(n);
      ASSERT_TRUE(
          reference::ApplyLut(tables[t], x.data(), n, expected.data()).ok());
      ASSERT_TRUE(
          ApplyLut(GetParam(), tables[t], x.data(), n, actual.data()).ok());
      const std::string diff = FirstDifference(expected, actual);
      ASSERT_TRUE(diff.empty()) << "seed=" << seed_ + 2 << " table " << t
                                << " n=" << n << ": " << diff;
    }
  }
  // Invalid arguments: the reference's errors.
  EXPECT_EQ(ApplyLut(GetParam(), identity, nullptr, 3, nullptr),
            reference::ApplyLut(identity, nullptr, 3, nullptr));
  EXPECT_EQ(ApplyLut(GetParam(), identity, nullptr, -1, nullptr),
            reference::ApplyLut(identity, nullptr, -1, nullptr));
  ExpectSimdRan();
}

// --- QuantizeLinear / DequantizeLinear -----------------------------------

// Floats around the quantization grid of (scale, zp): exact ties, values one
// ulp either side of ties, the clamp bounds, and specials.
std::vector<float> QuantizeInputs(std::mt19937& rng, const QuantParam& q,
                                  int64_t n) {
  std::vector<float> x(n);
  std::uniform_int_distribution<int> kind(0, 9);
  std::uniform_real_distribution<double> k(-300.0, 300.0);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(),
                            -std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            0.0f,
                            -0.0f,
                            std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::lowest(),
                            std::numeric_limits<float>::denorm_min(),
                            -std::numeric_limits<float>::denorm_min(),
                            3e9f,
                            -3e9f};
  for (int64_t i = 0; i < n; ++i) {
    const int c = kind(rng);
    const float tie =
        static_cast<float>((std::floor(k(rng)) + 0.5) * double{q.scale});
    if (c == 0) {
      x[i] = specials[std::uniform_int_distribution<int>(0, 11)(rng)];
    } else if (c <= 3) {
      x[i] = tie;
    } else if (c == 4) {
      x[i] = std::nextafter(tie, 1e30f);
    } else if (c == 5) {
      x[i] = std::nextafter(tie, -1e30f);
    } else {
      x[i] = static_cast<float>(k(rng) * double{q.scale});
    }
  }
  return x;
}

TEST_P(FastElementwiseTest, QuantizeLinearEqualsReference) {
  std::mt19937 rng(seed_ + 3);
  for (ArithmeticProfile profile : kProfiles) {
    int trial = 0;
    for (int64_t n : {1, 3, 7, 8, 17, 31, 32, 33, 64, 1000}) {
      for (int rep = 0; rep < 8; ++rep, ++trial) {
        const QuantParam q{RandomScale(rng, -6, 0), RandomZeroPoint(rng)};
        const std::vector<float> x = QuantizeInputs(rng, q, n);
        std::vector<int8_t> expected(n), actual(n);
        ASSERT_TRUE(
            reference::QuantizeLinear(profile, x.data(), n, q, expected.data())
                .ok());
        ASSERT_TRUE(
            QuantizeLinear(GetParam(), profile, x.data(), n, q, actual.data())
                .ok());
        const std::string diff = FirstDifference(expected, actual);
        if (!diff.empty()) {
          size_t i = 0;
          while (expected[i] == actual[i]) ++i;
          FAIL() << ProfileName(profile) << " seed=" << seed_ + 3
                 << " trial=" << trial << " n=" << n << " "
                 << reference::DescribeQuantParam(q) << ": " << diff
                 << " (input " << x[i] << ")";
        }
      }
    }
  }
  const float x[2] = {1.0f, 2.0f};
  int8_t out[2];
  const QuantParam bad{0.0f, 0};
  for (ArithmeticProfile profile : kProfiles) {
    EXPECT_EQ(QuantizeLinear(GetParam(), profile, x, 2, bad, out),
              reference::QuantizeLinear(profile, x, 2, bad, out));
  }
  ExpectSimdRan();
}

TEST_P(FastElementwiseTest, DequantizeLinearEqualsReference) {
  std::mt19937 rng(seed_ + 4);
  for (int64_t n : {1, 3, 7, 17, 31, 32, 33, 64, 1000}) {
    for (int rep = 0; rep < 8; ++rep) {
      const QuantParam q{RandomScale(rng, -6, 0), RandomZeroPoint(rng)};
      const std::vector<int8_t> x = RandomInt8(rng, n);
      std::vector<float> expected(n), actual(n);
      ASSERT_TRUE(
          reference::DequantizeLinear(x.data(), n, q, expected.data()).ok());
      ASSERT_TRUE(
          DequantizeLinear(GetParam(), x.data(), n, q, actual.data()).ok());
      const std::string diff = FirstDifference(expected, actual);
      ASSERT_TRUE(diff.empty())
          << "seed=" << seed_ + 4 << " n=" << n << " "
          << reference::DescribeQuantParam(q) << ": " << diff;
    }
  }
  ExpectSimdRan();
}

// --- Concat --------------------------------------------------------------

TEST_P(FastElementwiseTest, ConcatEqualsReference) {
  std::mt19937 rng(seed_ + 5);
  std::uniform_int_distribution<int> pick(0, 2);
  for (ArithmeticProfile profile : kProfiles) {
    for (int trial = 0; trial < 40; ++trial) {
      const QuantParam out_q{RandomScale(rng, -6, 0), RandomZeroPoint(rng)};
      const int64_t outer = std::uniform_int_distribution<int>(0, 3)(rng);
      const int64_t inner =
          std::vector<int64_t>{1, 3, 7, 17, 33, 100}[trial % 6];
      const int num_inputs = 1 + trial % 4;
      std::vector<std::vector<int8_t>> data(num_inputs);
      std::vector<reference::ConcatInput> inputs(num_inputs);
      int64_t total = 0;
      for (int i = 0; i < num_inputs; ++i) {
        const int64_t axis = std::uniform_int_distribution<int>(0, 5)(rng);
        data[i] = RandomInt8(rng, outer * axis * inner);
        QuantParam q = out_q;  // a third of the inputs copy
        if (pick(rng) != 0) {
          q = {out_q.scale * RandomScale(rng, -1, 1), RandomZeroPoint(rng)};
        }
        inputs[i] = {data[i].data(), axis, q};
        total += axis;
      }
      std::vector<int8_t> expected(outer * total * inner, 0x55);
      std::vector<int8_t> actual(expected.size(), 0x55);
      const absl::Status ref_status = reference::Concat(
          profile, inputs, outer, inner, out_q, expected.data());
      const absl::Status fast_status = Concat(
          GetParam(), profile, inputs, outer, inner, out_q, actual.data());
      ASSERT_EQ(fast_status, ref_status) << "trial " << trial;
      const std::string diff = FirstDifference(expected, actual);
      ASSERT_TRUE(diff.empty()) << ProfileName(profile) << " seed=" << seed_ + 5
                                << " trial=" << trial << ": " << diff;
    }
  }
  // Invalid arguments give the reference's errors.
  const int8_t x[4] = {1, 2, 3, 4};
  int8_t y[8];
  const QuantParam ok_q{0.5f, 0};
  const QuantParam bad_q{-1.0f, 0};
  for (ArithmeticProfile profile : kProfiles) {
    const reference::ConcatInput good{x, 4, ok_q};
    const reference::ConcatInput bad{x, 4, bad_q};
    const reference::ConcatInput null{nullptr, 4, {0.25f, 1}};
    EXPECT_EQ(Concat(GetParam(), profile, {}, 1, 1, ok_q, y),
              reference::Concat(profile, {}, 1, 1, ok_q, y));
    EXPECT_EQ(Concat(GetParam(), profile, {good, bad}, 1, 1, ok_q, y),
              reference::Concat(profile, {good, bad}, 1, 1, ok_q, y));
    EXPECT_EQ(Concat(GetParam(), profile, {good, null}, 1, 1, ok_q, y),
              reference::Concat(profile, {good, null}, 1, 1, ok_q, y));
    EXPECT_EQ(Concat(GetParam(), profile, {good}, 1, 1, bad_q, y),
              reference::Concat(profile, {good}, 1, 1, bad_q, y));
  }
  ExpectSimdRan();
}

// --- Softmax -------------------------------------------------------------

TEST_P(FastElementwiseTest, SoftmaxEqualsReference) {
  std::mt19937 rng(seed_ + 7);
  for (ArithmeticProfile profile : kProfiles) {
    int trial = 0;
    for (int64_t depth : {1, 2, 3, 7, 8, 17, 31, 32, 33, 64, 100, 1000}) {
      for (int rep = 0; rep < 4; ++rep, ++trial) {
        const int64_t rows = 1 + trial % 3;
        reference::SoftmaxParams params;
        params.input_scale = RandomScale(rng, -3, 0);
        std::vector<int8_t> x = RandomInt8(rng, rows * depth);
        if (rep == 1) {  // one dominant value per row, the rest far below
          for (int64_t r = 0; r < rows; ++r) {
            for (int64_t c = 0; c < depth; ++c) x[r * depth + c] = -128;
            x[r * depth + (r % depth)] = 127;
          }
        }
        if (rep == 2) {  // narrow values, many ties
          for (int8_t& v : x) v = static_cast<int8_t>(v & 3);
        }
        std::vector<int8_t> expected(x.size(), 0x55), actual(x.size(), 0x55);
        const absl::Status ref_status = reference::Softmax(
            profile, params, x.data(), rows, depth, expected.data());
        const absl::Status fast_status = Softmax(
            GetParam(), profile, params, x.data(), rows, depth, actual.data());
        const std::string context =
            std::string(ProfileName(profile)) +
            " seed=" + std::to_string(seed_ + 7) +
            " trial=" + std::to_string(trial) +
            " rows=" + std::to_string(rows) +
            " depth=" + std::to_string(depth) +
            " scale=" + std::to_string(params.input_scale);
        ASSERT_EQ(fast_status, ref_status) << context;
        const std::string diff = FirstDifference(expected, actual);
        ASSERT_TRUE(diff.empty()) << context << ": " << diff;
      }
    }
  }
  // Errors as the reference's: bad scale, beta for onnxruntime, a
  // tflite_reference row too long to normalize.
  const std::vector<int8_t> x(3000, 5);
  std::vector<int8_t> y1(3000), y2(3000);
  for (ArithmeticProfile profile : kProfiles) {
    for (const reference::SoftmaxParams& params :
         {reference::SoftmaxParams{0.0f, 1.0f},
          reference::SoftmaxParams{0.1f, 2.0f},
          reference::SoftmaxParams{0.1f, 1.0f}}) {
      EXPECT_EQ(
          Softmax(GetParam(), profile, params, x.data(), 1, 3000, y1.data()),
          reference::Softmax(profile, params, x.data(), 1, 3000, y2.data()));
    }
  }
  ExpectSimdRan();
}

// Under qemu -cpu Nehalem (QFORGE_EXPECT_BEST_ISA=scalar) the element-wise
// kernels must pick the scalar path.
TEST(ElementwiseIsaTest, ScalarOnCpusWithoutAvx2) {
  const char* expected = std::getenv("QFORGE_EXPECT_BEST_ISA");
  if (expected == nullptr) GTEST_SKIP() << "QFORGE_EXPECT_BEST_ISA not set";
  if (std::string(expected) == "scalar") {
    EXPECT_EQ(ElementwiseIsa(BestCpuIsa()), Isa::kScalar);
  }
}

INSTANTIATE_TEST_SUITE_P(Isas, FastElementwiseTest,
                         ::testing::ValuesIn(kAllIsas), IsaParamName);

}  // namespace
}  // namespace qforge::kernels::int8::fast
