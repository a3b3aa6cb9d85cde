// Executor level: the bundled digits CNN (examples/digits), quantized in
// each arithmetic profile, gives identical output bytes on the test images
// with the scalar reference kernels and with every SIMD ISA this CPU has
// (the in-process equivalent of QFORGE_ISA=scalar vs QFORGE_ISA=avx2).
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "digits_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "int8_fast_test_util.h"
#include "kernels/int8/fast/isa.h"
#include "kernels/int8/fast/kernels.h"
#include "qforge/io/model.h"
#include "qforge/io/npy.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "qforge/testing/op_harness.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::kernels::int8::fast::CpuHasIsa;
using ::qforge::kernels::int8::fast::ImplementedIsa;
using ::qforge::kernels::int8::fast::Isa;
using ::qforge::kernels::int8::fast::IsaName;
using ::qforge::kernels::int8::fast::kAllIsas;
using ::qforge::kernels::int8::fast::SetIsaForTesting;
using ::qforge::kernels::int8::fast::fast_testing::
    ExpectEveryIsaGivesTheScalarBytes;
using ::qforge::kernels::int8::fast::fast_testing::IsaSwitchingTest;
using ::qforge::kernels::int8::fast::fast_testing::kProfiles;
using ::qforge::kernels::int8::fast::fast_testing::OneNodeCase;
using ::qforge::kernels::int8::fast::fast_testing::ProfileParamName;
using ::qforge::kernels::int8::fast::fast_testing::RandomFloats;
using ::qforge::testing::DigitsPath;
using ::qforge::testing::IsOk;
using ::qforge::testing::QuantizedDigits;
using ::qforge::testing::QuantizeDigits;

class DigitsIsaTest : public IsaSwitchingTest {};

TEST_P(DigitsIsaTest, EveryIsaGivesTheScalarBytes) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizedDigits digits,
                              QuantizeDigits(registry, GetParam()));
  const Graph& model = digits.float_model;
  const QuantizeResult& q = digits.quantized;
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor images,
                              ReadNpy(DigitsPath("digits_test_images.npy")));
  const std::string in = model.inputs()[0]->name();
  const std::string out = model.outputs()[0]->name();

  auto run = [&](Isa isa) -> absl::StatusOr<Tensor> {
    QFORGE_RETURN_IF_ERROR(SetIsaForTesting(isa));
    QFORGE_ASSIGN_OR_RETURN(auto exec, Executor::Prepare(q.model, registry));
    QFORGE_ASSIGN_OR_RETURN(TensorMap result, exec->Run({{in, images}}));
    return result.at(out);
  };
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor scalar, run(Isa::kScalar));
  int compared = 0;
  for (Isa isa : kAllIsas) {
    if (isa == Isa::kScalar) continue;
    if (!CpuHasIsa(isa)) {
      std::printf("[%s] this CPU lacks %s: not executed here\n",
                  ArithmeticProfileName(GetParam()), IsaName(isa));
      continue;
    }
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor fast, run(isa));
    ASSERT_EQ(fast.dims(), scalar.dims());
    ASSERT_EQ(fast.dtype(), scalar.dtype());
    EXPECT_EQ(
        std::memcmp(fast.raw_data(), scalar.raw_data(), scalar.num_bytes()), 0)
        << IsaName(isa) << " (kernels: " << IsaName(ImplementedIsa(isa))
        << ") differs from scalar";
    ++compared;
  }
  std::printf("[%s] %d SIMD ISA(s) compared against scalar\n",
              ArithmeticProfileName(GetParam()), compared);
}

// One-node quantized graphs (OpHarness) of every op the fast kernels serve,
// run through the executor with each ISA on the same random inputs: the
// output bytes equal the scalar kernels'.
std::vector<OneNodeCase> OneNodeCases() {
  using testing::OpHarness;
  return {
      {"Conv3x3Pad",
       "Conv",
       [](OpHarness& op) {
         op.InputShape(0, {2, 7, 9, 8})
             .ConstantInput(1, RandomFloats({13, 7, 3, 3}, 1))
             .ConstantInput(2, RandomFloats({13}, 2))
             .Attr("pads", std::vector<int64_t>{1, 1, 1, 1});
       },
       {{2, 7, 9, 8}}},
      {"Conv1x1",
       "Conv",
       [](OpHarness& op) {
         op.InputShape(0, {1, 17, 5, 6})
             .ConstantInput(1, RandomFloats({9, 17, 1, 1}, 3));
       },
       {{1, 17, 5, 6}}},
      {"ConvGroupedStride2Dilated",
       "Conv",
       [](OpHarness& op) {
         op.InputShape(0, {1, 6, 11, 10})
             .ConstantInput(1, RandomFloats({4, 3, 3, 3}, 4))
             .Attr("group", int64_t{2})
             .Attr("strides", std::vector<int64_t>{2, 2})
             .Attr("dilations", std::vector<int64_t>{2, 1})
             .Attr("pads", std::vector<int64_t>{2, 1, 0, 1});
       },
       {{1, 6, 11, 10}}},
      {"ConvDepthwise",
       "Conv",
       [](OpHarness& op) {
         op.InputShape(0, {1, 19, 8, 7})
             .ConstantInput(1, RandomFloats({19, 1, 3, 3}, 5))
             .ConstantInput(2, RandomFloats({19}, 6))
             .Attr("group", int64_t{19})
             .Attr("pads", std::vector<int64_t>{1, 1, 1, 1});
       },
       {{1, 19, 8, 7}}},
      {"GemmTransB",
       "Gemm",
       [](OpHarness& op) {
         op.InputShape(0, {5, 33})
             .ConstantInput(1, RandomFloats({21, 33}, 7))
             .ConstantInput(2, RandomFloats({21}, 8))
             .Attr("transB", int64_t{1});
       },
       {{5, 33}}},
      {"MatMulConstant",
       "MatMul",
       [](OpHarness& op) {
         op.InputShape(0, {2, 3, 18})
             .ConstantInput(1, RandomFloats({18, 11}, 9));
       },
       {{2, 3, 18}}},
      {"MatMulTwoActivations",
       "MatMul",
       [](OpHarness& op) {
         op.InputShape(0, {2, 5, 9}).InputShape(1, {2, 9, 7});
       },
       {{2, 5, 9}, {2, 9, 7}}},
  };
}

class OneNodeIsaTest : public IsaSwitchingTest {};

TEST_P(OneNodeIsaTest, EveryIsaGivesTheScalarBytes) {
  ExpectEveryIsaGivesTheScalarBytes(
      OneNodeCases(), GetParam(), /*seed=*/11,
      [](const std::vector<int64_t>& shape, size_t i) {
        return RandomFloats(shape, 100 + i);
      });
}

INSTANTIATE_TEST_SUITE_P(Profiles, OneNodeIsaTest,
                         ::testing::ValuesIn(kProfiles), ProfileParamName);

// Run by the ctests int8_fast.qforge_isa_* with QFORGE_ISA set: preparing
// a quantized model succeeds when the setting names an ISA this CPU has and
// otherwise fails with the setting's error, naming the node.
TEST(QforgeIsaEnvTest, PrepareFollowsTheSetting) {
  const char* setting = std::getenv("QFORGE_ISA");
  if (setting == nullptr) GTEST_SKIP() << "QFORGE_ISA not set";
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Graph model, LoadModel(DigitsPath("digits_cnn.onnx"), registry));
  QFORGE_ASSERT_OK_AND_ASSIGN(NpzContents calib,
                              ReadNpz(DigitsPath("digits_calib.npz")));
  QFORGE_ASSERT_OK_AND_ASSIGN(auto data,
                              TensorCalibrationData::Create(TensorMap(calib)));
  QuantConfig config;
  config.unknown_op_policy = UnknownOpPolicy::kKeepFloat;
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult q,
                              Quantize(model, *data, config, registry));
  const absl::StatusOr<Isa> expected =
      kernels::int8::fast::ResolveIsaSetting(setting);
  auto exec = Executor::Prepare(q.model, registry);
  if (expected.ok()) {
    EXPECT_THAT(exec.status(), IsOk());
  } else {
    ASSERT_FALSE(exec.ok());
    EXPECT_THAT(
        std::string(exec.status().message()),
        ::testing::AllOf(
            ::testing::HasSubstr("(Conv)"),
            ::testing::HasSubstr(std::string(expected.status().message()))));
    std::printf("QFORGE_ISA=%s: %s\n", setting,
                std::string(exec.status().message()).c_str());
  }
}

INSTANTIATE_TEST_SUITE_P(Profiles, DigitsIsaTest,
                         ::testing::ValuesIn(kProfiles), ProfileParamName);

}  // namespace
}  // namespace qforge
