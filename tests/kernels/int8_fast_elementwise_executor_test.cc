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
using ::qforge::testing::IsOk;

Tensor RandomInput(std::vector<int64_t> dims, uint64_t seed, float scale) {
  Tensor t(DataType::kFloat32, std::move(dims));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (float& x : t.values<float>()) x = dist(rng);
  return t;
}

struct Case {
  const char* name;
  const char* op;
  std::function<void(testing::OpHarness&)> build;
  std::vector<std::vector<int64_t>> input_shapes;
};

std::vector<Case> Cases() {
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

class ElementwiseExecutorIsaTest
    : public ::testing::TestWithParam<ArithmeticProfile> {
 protected:
  void TearDown() override {
    EXPECT_THAT(SetIsaForTesting(std::nullopt), IsOk());
  }
};

TEST_P(ElementwiseExecutorIsaTest, EveryIsaGivesTheScalarBytes) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  int compared = 0;
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    testing::OpHarness op({"", c.op}, registry);
    c.build(op);
    op.Seed(21);
    QuantConfig config;
    config.profile = GetParam();
    QFORGE_ASSERT_OK_AND_ASSIGN(testing::HarnessResult r,
                                op.QuantizeAndRun(config));
    ASSERT_NE(r.quantized_node, nullptr) << "not quantized: " << r.Note();
    const Graph& g = r.quantized_model;
    TensorMap inputs;
    for (size_t i = 0; i < c.input_shapes.size(); ++i) {
      // Different ranges per input, so Concat's inputs get different params.
      inputs[g.inputs()[i]->name()] =
          RandomInput(c.input_shapes[i], 200 + i, 1.0f + 2.0f * i);
    }
    const std::string out = g.outputs()[0]->name();
    auto run = [&](Isa isa) -> absl::StatusOr<Tensor> {
      QFORGE_RETURN_IF_ERROR(SetIsaForTesting(isa));
      QFORGE_ASSIGN_OR_RETURN(auto exec, Executor::Prepare(g, registry));
      QFORGE_ASSIGN_OR_RETURN(TensorMap result, exec->Run(inputs));
      return result.at(out);
    };
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor scalar, run(Isa::kScalar));
    for (Isa isa : kAllIsas) {
      if (isa == Isa::kScalar || !CpuHasIsa(isa)) continue;
      const int64_t calls = SimdCallsForTesting();
      QFORGE_ASSERT_OK_AND_ASSIGN(Tensor fast, run(isa));
      if (ElementwiseIsa(isa) != Isa::kScalar) {
        EXPECT_GT(SimdCallsForTesting(), calls)
            << c.name << ": the SIMD path did not run";
      }
      ASSERT_EQ(fast.dims(), scalar.dims());
      EXPECT_EQ(
          std::memcmp(fast.raw_data(), scalar.raw_data(), scalar.num_bytes()),
          0)
          << c.name << ": " << IsaName(isa) << " differs from scalar";
      ++compared;
    }
  }
  if (compared == 0) GTEST_SKIP() << "this CPU has no SIMD ISA to compare";
}

INSTANTIATE_TEST_SUITE_P(Profiles, ElementwiseExecutorIsaTest,
                         ::testing::Values(ArithmeticProfile::kOnnxRuntime,
                                           ArithmeticProfile::kTfliteReference),
                         [](const auto& info) {
                           return std::string(
                               ArithmeticProfileName(info.param));
                         });

}  // namespace
}  // namespace qforge
