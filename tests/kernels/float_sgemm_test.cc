// The float32 SGEMM dispatch (lib/kernels/float/sgemm.h): the AVX2+FMA
// kernel against a double-precision reference on randomized shapes with M,
// N and K tails and blocking edges, transposed operands, accumulation and
// pre-packed B; and the fallback (no fast SGEMM) under the scalar ISA. A
// failure prints the seed (QFORGE_TEST_SEED overrides the base seed).
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/float/sgemm.h"
#include "kernels/int8/fast/isa.h"

namespace qforge::kernels {
namespace {

using int8::fast::CpuHasIsa;
using int8::fast::Isa;
using int8::fast::SetIsaForTesting;

uint32_t BaseSeed() {
  const char* s = std::getenv("QFORGE_TEST_SEED");
  return s != nullptr ? static_cast<uint32_t>(std::strtoul(s, nullptr, 10))
                      : 20261123u;
}

// Restores the default ISA choice when a test ends.
class IsaScope {
 public:
  explicit IsaScope(Isa isa) { ok_ = SetIsaForTesting(isa).ok(); }
  ~IsaScope() { (void)SetIsaForTesting(std::nullopt); }
  bool ok() const { return ok_; }

 private:
  bool ok_ = false;
};

struct Case {
  int64_t m, n, k;
  bool trans_a, trans_b, accumulate, packed;
  int64_t ldc_extra;
  bool row_bias = false, col_bias = false;
};

// Runs one case; the result must be within the rigorous float dot-product
// error bound of the double reference: |c - ref| <= (k + 2) * u * sum|a b|
// (+ |c0| * u when accumulating), u = FLT_EPSILON / 2.
void CheckCase(const Case& c, uint32_t seed) {
  SCOPED_TRACE(testing::Message()
               << "m=" << c.m << " n=" << c.n << " k=" << c.k
               << " transA=" << c.trans_a << " transB=" << c.trans_b
               << " accumulate=" << c.accumulate << " packed=" << c.packed
               << " ldc_extra=" << c.ldc_extra << " row_bias=" << c.row_bias
               << " col_bias=" << c.col_bias << " seed=" << seed);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> a(c.m * c.k), b(c.k * c.n);
  for (float& v : a) v = dist(rng);
  for (float& v : b) v = dist(rng);
  // Stored as [k, m] when transA, [n, k] when transB.
  const int64_t rs_a = c.trans_a ? 1 : c.k, cs_a = c.trans_a ? c.m : 1;
  const int64_t rs_b = c.trans_b ? 1 : c.n, cs_b = c.trans_b ? c.k : 1;
  const int64_t ldc = c.n + c.ldc_extra;
  std::vector<float> out(c.m * ldc);
  for (float& v : out) v = dist(rng);
  const std::vector<float> before = out;
  std::vector<float> rb(c.m), cb(c.n);
  for (float& v : rb) v = dist(rng);
  for (float& v : cb) v = dist(rng);
  const float* rbp = c.row_bias ? rb.data() : nullptr;
  const float* cbp = c.col_bias ? cb.data() : nullptr;
  bool ran;
  if (c.packed) {
    PackedSgemmB pb = PackSgemmB(c.k, c.n, b.data(), rs_b, cs_b);
    ASSERT_FALSE(pb.empty());
    ran = FastSgemmPacked(c.m, a.data(), rs_a, cs_a, pb, out.data(), ldc,
                          c.accumulate, rbp, cbp);
  } else {
    ran = FastSgemm(c.m, c.n, c.k, a.data(), rs_a, cs_a, b.data(), rs_b, cs_b,
                    out.data(), ldc, c.accumulate, rbp, cbp);
  }
  ASSERT_TRUE(ran);
  const double u = FLT_EPSILON / 2;
  int failures = 0;
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const float got = out[i * ldc + j];
      if (j >= c.n) {  // Padding columns are untouched.
        ASSERT_EQ(got, before[i * ldc + j]) << "(" << i << ", " << j << ")";
        continue;
      }
      double ref = 0, mag = 0;
      for (int64_t p = 0; p < c.k; ++p) {
        const double prod = static_cast<double>(a[i * rs_a + p * cs_a]) *
                            b[p * rs_b + j * cs_b];
        ref += prod;
        mag += std::fabs(prod);
      }
      // The biases are a few more terms of the sum.
      for (const float* bias :
           {rbp ? rbp + i : nullptr, cbp ? cbp + j : nullptr}) {
        if (bias == nullptr) continue;
        ref += *bias;
        mag += std::fabs(*bias);
      }
      double bound = (c.k + 4) * u * mag;
      if (c.accumulate) {
        const double c0 = before[i * ldc + j];
        ref += c0;
        bound += (c.k + 5) * u * (mag + std::fabs(c0));
      }
      if (std::fabs(got - ref) > bound + 1e-30 && ++failures <= 5) {
        ADD_FAILURE() << "C(" << i << ", " << j << ") = " << got
                      << ", reference " << ref << ", bound " << bound;
      }
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(FastSgemmTest, MatchesDoubleReferenceOnRandomShapes) {
  if (!CpuHasIsa(Isa::kAvx2)) GTEST_SKIP() << "CPU without AVX2";
  IsaScope scope(Isa::kAvx2);
  ASSERT_TRUE(scope.ok());
  if (!FastSgemmAvailable()) GTEST_SKIP() << "CPU without FMA";
  uint32_t seed = BaseSeed();
  std::mt19937 rng(seed);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  std::vector<Case> cases;
  // Fixed edges: single row/column, exact tiles, tails around 6 x 16 tiles,
  // the 72-row A block, the 256 K block and the 2048-column B block.
  for (int64_t m : {1, 5, 6, 7, 72, 73}) {
    for (int64_t n : {1, 15, 16, 17}) {
      cases.push_back({m, n, 9, false, false, false, false, 0});
    }
  }
  cases.push_back({13, 33, 255, false, false, false, false, 0, true, false});
  cases.push_back({13, 33, 256, false, false, true, true, 3, false, true});
  cases.push_back({13, 33, 257, true, true, false, true, 0, true, true});
  cases.push_back({7, 2049, 300, false, false, false, false, 1, true, false});
  cases.push_back({80, 2050, 17, false, true, true, true, 0, false, true});
  // Random shapes, operand layouts and modes.
  for (int i = 0; i < 60; ++i) {
    cases.push_back({pick(1, 40), pick(1, 70), pick(1, 600), pick(0, 1) == 1,
                     pick(0, 1) == 1, pick(0, 1) == 1, pick(0, 1) == 1,
                     pick(0, 2), pick(0, 1) == 1, pick(0, 1) == 1});
  }
  for (const Case& c : cases) {
    CheckCase(c, ++seed);
    if (HasFatalFailure()) return;
  }
}

TEST(FastSgemmTest, KZeroLeavesTheBias) {
  if (!CpuHasIsa(Isa::kAvx2)) GTEST_SKIP() << "CPU without AVX2";
  IsaScope scope(Isa::kAvx2);
  if (!FastSgemmAvailable()) GTEST_SKIP() << "CPU without FMA";
  std::vector<float> out = {1, 2, 3, 4};
  const float rb[] = {10, 20}, cb[] = {100, 200};
  ASSERT_TRUE(FastSgemm(2, 2, 0, nullptr, 0, 1, nullptr, 2, 1, out.data(), 2,
                        false, rb, cb));
  EXPECT_EQ(out, (std::vector<float>{110, 210, 120, 220}));
}

TEST(FastSgemmTest, KZeroClearsOrKeepsC) {
  if (!CpuHasIsa(Isa::kAvx2)) GTEST_SKIP() << "CPU without AVX2";
  IsaScope scope(Isa::kAvx2);
  if (!FastSgemmAvailable()) GTEST_SKIP() << "CPU without FMA";
  std::vector<float> out = {1, 2, 3, 4};
  ASSERT_TRUE(
      FastSgemm(2, 2, 0, nullptr, 0, 1, nullptr, 2, 1, out.data(), 2, true));
  EXPECT_EQ(out, (std::vector<float>{1, 2, 3, 4}));
  ASSERT_TRUE(
      FastSgemm(2, 2, 0, nullptr, 0, 1, nullptr, 2, 1, out.data(), 2, false));
  EXPECT_EQ(out, (std::vector<float>{0, 0, 0, 0}));
}

TEST(FastSgemmTest, ScalarIsaFallsBack) {
  IsaScope scope(Isa::kScalar);
  ASSERT_TRUE(scope.ok());
  EXPECT_FALSE(FastSgemmAvailable());
  float a = 1, b = 2, c = 0;
  EXPECT_FALSE(FastSgemm(1, 1, 1, &a, 1, 1, &b, 1, 1, &c, 1, false));
  EXPECT_EQ(c, 0.0f);
  EXPECT_TRUE(PackSgemmB(1, 1, &b, 1, 1).empty());
}

// Set by the ctest that runs this binary under qemu-x86_64 -cpu Nehalem:
// the default ISA choice must not use the AVX2 SGEMM there.
TEST(FastSgemmTest, DefaultChoiceMatchesTheCpu) {
  const char* expected = std::getenv("QFORGE_EXPECT_BEST_ISA");
  std::printf("fast SGEMM available: %d\n", FastSgemmAvailable() ? 1 : 0);
  if (expected == nullptr) GTEST_SKIP() << "QFORGE_EXPECT_BEST_ISA not set";
  if (std::string(expected) == "scalar") EXPECT_FALSE(FastSgemmAvailable());
}

}  // namespace
}  // namespace qforge::kernels
