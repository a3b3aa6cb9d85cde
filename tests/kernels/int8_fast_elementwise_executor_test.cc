// Executor level: one-node quantized graphs (OpHarness) of the ops the fast
// element-wise kernels serve (Add, Sub, Mul with broadcasts, Sigmoid, Tanh,
// HardSwish, Relu, Concat with differing input params, Softmax, Resize via
// the float fallback's Q/DQ), run with each ISA on the same random inputs in
// both profiles: the output bytes equal the scalar kernels'.
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "int8_fast_test_util.h"
#include "kernels/int8/fast/elementwise_kernels.h"
#include "kernels/int8/fast/isa.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "qforge/testing/op_harness.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::kernels::int8::fast::CpuHasIsa;
using ::qforge::kernels::int8::fast::ElementwiseIsa;
using ::qforge::kernels::int8::fast::Isa;
using ::qforge::kernels::int8::fast::IsaName;
using ::qforge::kernels::int8::fast::kAllIsas;
using ::qforge::kernels::int8::fast::SetIsaForTesting;
using ::qforge::kernels::int8::fast::SimdCallsForTesting;
using ::qforge::kernels::int8::fast::fast_testing::
    ExpectEveryIsaGivesTheScalarBytes;
using ::qforge::kernels::int8::fast::fast_testing::IsaSwitchingTest;
using ::qforge::kernels::int8::fast::fast_testing::kProfiles;
using ::qforge::kernels::int8::fast::fast_testing::OneNodeCase;
using ::qforge::kernels::int8::fast::fast_testing::ProfileParamName;
using ::qforge::kernels::int8::fast::fast_testing::RandomFloats;
using ::qforge::testing::IsOk;

std::vector<OneNodeCase> Cases() {
  using testing::OpHarness;
  return {
      {"AddSameShape",
       "Add",
       [](OpHarness& op) {
         op.InputShape(0, {2, 37}).InputShape(1, {2, 37});
       },
       {{2, 37}, {2, 37}}},
      {"AddPerChannelNhwc",
       "Add",
       [](OpHarness& op) {
         op.InputShape(0, {1, 5, 6, 19}).InputShape(1, {19});
       },
       {{1, 5, 6, 19}, {19}}},
      {"SubPerChannelNchw",
       "Sub",
       [](OpHarness& op) {
         op.InputShape(0, {1, 3, 7, 9}).InputShape(1, {3, 1, 1});
       },
       {{1, 3, 7, 9}, {3, 1, 1}}},
      {"MulScalar",
       "Mul",
       [](OpHarness& op) {
         op.InputShape(0, {4, 33}).InputShape(1, {1});
       },
       {{4, 33}, {1}}},
      {"Sigmoid",
       "Sigmoid",
       [](OpHarness& op) {
         op.InputShape(0, {3, 45});
       },
       {{3, 45}}},
      {"Tanh", "Tanh", [](OpHarness& op) { op.InputShape(0, {70}); }, {{70}}},
      {"HardSwish",
       "HardSwish",
       [](OpHarness& op) {
         op.InputShape(0, {2, 40});
       },
       {{2, 40}}},
      {"Concat",
       "Concat",
       [](OpHarness& op) {
         op.InputShape(0, {2, 3, 40})
             .InputShape(1, {2, 5, 40})
             .Attr("axis", int64_t{1});
       },
       {{2, 3, 40}, {2, 5, 40}}},
      {"Softmax",
       "Softmax",
       [](OpHarness& op) {
         op.InputShape(0, {3, 50});
       },
       {{3, 50}}},
  };
}

class ElementwiseExecutorIsaTest : public IsaSwitchingTest {};

TEST_P(ElementwiseExecutorIsaTest, EveryIsaGivesTheScalarBytes) {
  int64_t calls = SimdCallsForTesting();
  const int compared = ExpectEveryIsaGivesTheScalarBytes(
      Cases(), GetParam(), /*seed=*/21,
      [](const std::vector<int64_t>& shape, size_t i) {
        // Different ranges per input, so Concat's inputs get different
        // params.
        return RandomFloats(shape, 200 + i, 1.0f + 2.0f * i);
      },
      [&](Isa isa) {
        if (ElementwiseIsa(isa) != Isa::kScalar) {
          EXPECT_GT(SimdCallsForTesting(), calls)
              << IsaName(isa) << ": the SIMD path did not run";
        }
        calls = SimdCallsForTesting();
      });
  if (compared == 0) GTEST_SKIP() << "this CPU has no SIMD ISA to compare";
}

INSTANTIATE_TEST_SUITE_P(Profiles, ElementwiseExecutorIsaTest,
                         ::testing::ValuesIn(kProfiles), ProfileParamName);

}  // namespace
}  // namespace qforge
