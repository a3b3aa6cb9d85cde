// Shared pieces of the fast INT8 kernel tests (int8_fast*_test.cc): the
// ISA- and profile-parameterized fixtures with their test-name generators,
// the first-difference message of a byte comparison, random float inputs,
// and the executor-level check that every SIMD ISA this CPU has gives the
// scalar kernels' output bytes on one-node quantized graphs.
#ifndef QFORGE_TESTS_KERNELS_INT8_FAST_TEST_UTIL_H_
#define QFORGE_TESTS_KERNELS_INT8_FAST_TEST_UTIL_H_

#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "int8_reference_test_util.h"
#include "kernels/int8/fast/isa.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "qforge/testing/op_harness.h"
#include "qforge/testing/status_matchers.h"

namespace qforge::kernels::int8::fast::fast_testing {

using ::qforge::kernels::reference::testing::kProfiles;

// Test-name generators for INSTANTIATE_TEST_SUITE_P.
inline std::string IsaParamName(const ::testing::TestParamInfo<Isa>& info) {
  return IsaName(info.param);
}
inline std::string ProfileParamName(
    const ::testing::TestParamInfo<ArithmeticProfile>& info) {
  return ArithmeticProfileName(info.param);
}

// A kernel test run once per ISA (instantiate with
// ::testing::ValuesIn(kAllIsas), IsaParamName); ISAs the CPU lacks are
// skipped with a message.
class FastIsaTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    if (!CpuHasIsa(GetParam())) {
      GTEST_SKIP() << "this CPU lacks " << IsaName(GetParam())
                   << "; its kernels were not executed here";
    }
  }
};

// An executor test run once per arithmetic profile (instantiate with
// ::testing::ValuesIn(kProfiles), ProfileParamName)
// that switches ISAs with SetIsaForTesting; the setting is reset after.
class IsaSwitchingTest : public ::testing::TestWithParam<ArithmeticProfile> {
 protected:
  void TearDown() override {
    EXPECT_THAT(SetIsaForTesting(std::nullopt), ::qforge::testing::IsOk());
  }
};

// Empty when equal; else the first differing element, with its row (or
// pixel, per `outer`) and channel when `channels` > 0.
template <typename T>
std::string FirstDifference(const std::vector<T>& expected,
                            const std::vector<T>& actual, int64_t channels = 0,
                            const char* outer = "row") {
  if (expected.size() != actual.size()) {
    return "sizes differ: " + std::to_string(expected.size()) + " vs " +
           std::to_string(actual.size());
  }
  for (size_t i = 0; i < expected.size(); ++i) {
    if (std::memcmp(&expected[i], &actual[i], sizeof(T)) != 0) {
      std::ostringstream s;
      s << "first difference at element " << i << " of " << expected.size();
      if (channels > 0) {
        s << " (" << outer << " " << i / channels << ", channel "
          << i % channels << ")";
      }
      s << ": reference " << +expected[i] << ", fast " << +actual[i];
      return s.str();
    }
  }
  return "";
}

// A float32 tensor of uniform values in [-scale, scale).
inline Tensor RandomFloats(std::vector<int64_t> dims, uint64_t seed,
                           float scale = 1.0f) {
  Tensor t(DataType::kFloat32, std::move(dims));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  for (float& x : t.values<float>()) x = dist(rng);
  return t;
}

// A one-node graph for OpHarness: `build` declares its inputs and
// attributes; `input_shapes` are the activation inputs fed at run time.
struct OneNodeCase {
  const char* name;
  const char* op;
  std::function<void(::qforge::testing::OpHarness&)> build;
  std::vector<std::vector<int64_t>> input_shapes;
};

// Quantizes each case in `profile` (harness seed `seed`), runs it with the
// scalar kernels and with every SIMD ISA this CPU has on the inputs of
// `make_input(shape, input index)`, and expects identical output bytes.
// `after_simd_run(isa)`, when given, runs after each SIMD run (e.g. to check
// the SIMD path was taken). Returns the number of SIMD runs compared.
inline int ExpectEveryIsaGivesTheScalarBytes(
    const std::vector<OneNodeCase>& cases, ArithmeticProfile profile, int seed,
    const std::function<Tensor(const std::vector<int64_t>&, size_t)>&
        make_input,
    const std::function<void(Isa)>& after_simd_run = nullptr) {
  Registry registry;
  EXPECT_THAT(RegisterBuiltins(registry), ::qforge::testing::IsOk());
  int compared = 0;
  for (const OneNodeCase& c : cases) {
    SCOPED_TRACE(c.name);
    ::qforge::testing::OpHarness op({"", c.op}, registry);
    c.build(op);
    op.Seed(seed);
    QuantConfig config;
    config.profile = profile;
    absl::StatusOr<::qforge::testing::HarnessResult> r =
        op.QuantizeAndRun(config);
    EXPECT_THAT(r.status(), ::qforge::testing::IsOk());
    if (!r.ok()) continue;
    EXPECT_NE(r->quantized_node, nullptr) << "not quantized: " << r->Note();
    if (r->quantized_node == nullptr) continue;
    const Graph& g = r->quantized_model;
    TensorMap inputs;
    for (size_t i = 0; i < c.input_shapes.size(); ++i) {
      inputs[g.inputs()[i]->name()] = make_input(c.input_shapes[i], i);
    }
    const std::string out = g.outputs()[0]->name();
    auto run = [&](Isa isa) -> absl::StatusOr<Tensor> {
      QFORGE_RETURN_IF_ERROR(SetIsaForTesting(isa));
      QFORGE_ASSIGN_OR_RETURN(auto exec, Executor::Prepare(g, registry));
      QFORGE_ASSIGN_OR_RETURN(TensorMap result, exec->Run(inputs));
      return result.at(out);
    };
    absl::StatusOr<Tensor> scalar = run(Isa::kScalar);
    EXPECT_THAT(scalar.status(), ::qforge::testing::IsOk());
    if (!scalar.ok()) continue;
    for (Isa isa : kAllIsas) {
      if (isa == Isa::kScalar || !CpuHasIsa(isa)) continue;
      absl::StatusOr<Tensor> fast = run(isa);
      EXPECT_THAT(fast.status(), ::qforge::testing::IsOk()) << IsaName(isa);
      if (!fast.ok()) continue;
      if (after_simd_run) after_simd_run(isa);
      EXPECT_EQ(fast->dims(), scalar->dims()) << IsaName(isa);
      EXPECT_TRUE(fast->dims() == scalar->dims() &&
                  std::memcmp(fast->raw_data(), scalar->raw_data(),
                              scalar->num_bytes()) == 0)
          << c.name << ": " << IsaName(isa) << " differs from scalar";
      ++compared;
    }
  }
  return compared;
}

}  // namespace qforge::kernels::int8::fast::fast_testing

#endif  // QFORGE_TESTS_KERNELS_INT8_FAST_TEST_UTIL_H_
