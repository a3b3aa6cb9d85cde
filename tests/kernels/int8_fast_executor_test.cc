// Executor level: the bundled digits CNN (examples/digits), quantized in
// each arithmetic profile, gives identical output bytes on the test images
// with the scalar reference kernels and with every SIMD ISA this CPU has
// (the in-process equivalent of QFORGE_ISA=scalar vs QFORGE_ISA=avx2).
#include <cstdlib>
#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/int8/fast/isa.h"
#include "kernels/int8/fast/kernels.h"
#include "qforge/io/model.h"
#include "qforge/io/npy.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::kernels::int8::fast::CpuHasIsa;
using ::qforge::kernels::int8::fast::ImplementedIsa;
using ::qforge::kernels::int8::fast::Isa;
using ::qforge::kernels::int8::fast::IsaName;
using ::qforge::kernels::int8::fast::kAllIsas;
using ::qforge::kernels::int8::fast::SetIsaForTesting;
using ::qforge::testing::IsOk;

std::string DigitsPath(const std::string& file) {
  const char* root = std::getenv("QFORGE_SOURCE_DIR");
  return std::string(root != nullptr ? root : ".") + "/examples/digits/" + file;
}

class DigitsIsaTest : public ::testing::TestWithParam<ArithmeticProfile> {
 protected:
  void TearDown() override { EXPECT_THAT(SetIsaForTesting(std::nullopt), IsOk()); }
};

TEST_P(DigitsIsaTest, EveryIsaGivesTheScalarBytes) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Graph model, LoadModel(DigitsPath("digits_cnn.onnx"), registry));
  QFORGE_ASSERT_OK_AND_ASSIGN(NpzContents calib,
                              ReadNpz(DigitsPath("digits_calib.npz")));
  QFORGE_ASSERT_OK_AND_ASSIGN(auto data,
                              TensorCalibrationData::Create(TensorMap(calib)));
  QuantConfig config;
  config.profile = GetParam();
  config.unknown_op_policy = UnknownOpPolicy::kKeepFloat;
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult q,
                              Quantize(model, *data, config, registry));
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
    EXPECT_EQ(std::memcmp(fast.raw_data(), scalar.raw_data(),
                          scalar.num_bytes()),
              0)
        << IsaName(isa) << " (kernels: " << IsaName(ImplementedIsa(isa))
        << ") differs from scalar";
    ++compared;
  }
  std::printf("[%s] %d SIMD ISA(s) compared against scalar\n",
              ArithmeticProfileName(GetParam()), compared);
}

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
    EXPECT_THAT(std::string(exec.status().message()),
                ::testing::AllOf(::testing::HasSubstr("(Conv)"),
                                 ::testing::HasSubstr(std::string(
                                     expected.status().message()))));
    std::printf("QFORGE_ISA=%s: %s\n", setting,
                std::string(exec.status().message()).c_str());
  }
}

INSTANTIATE_TEST_SUITE_P(Profiles, DigitsIsaTest,
                         ::testing::Values(ArithmeticProfile::kOnnxRuntime,
                                           ArithmeticProfile::kTfliteReference),
                         [](const auto& info) {
                           return std::string(
                               ArithmeticProfileName(info.param));
                         });

}  // namespace
}  // namespace qforge
