// The Erf and Gelu quantizers and int8 kernels, tested through the OpHarness
// (one node quantized through a registry with the plugin, run in float and
// int8, spec invariants and LSB error against the float op on the
// dequantized inputs).
#include <memory>
#include <string>
#include <vector>

#include "erf/erf_plugin.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/registry.h"
#include "qforge/testing/op_harness.h"
#include "qforge/testing/op_harness_matchers.h"
#include "qforge/testing/status_matchers.h"

namespace qforge::plugins::erf {
namespace {

using ::qforge::testing::HarnessResult;
using ::qforge::testing::IsOk;
using ::qforge::testing::OpHarness;
using ::qforge::testing::StatusIs;
using ::qforge::testing::WithinLsb;
using ::testing::HasSubstr;

std::unique_ptr<Registry> RegistryWithPlugin() {
  auto registry = std::make_unique<Registry>();
  EXPECT_THAT(RegisterBuiltins(*registry), IsOk());
  EXPECT_THAT(RegisterErfPlugin(*registry), IsOk());
  return registry;
}

QuantConfig Config(ArithmeticProfile profile) {
  QuantConfig config;
  config.profile = profile;
  return config;
}

class ErfQuantizerTest : public ::testing::TestWithParam<ArithmeticProfile> {};

TEST_P(ErfQuantizerTest, ErfIsWithinOneLsbWithFixedOutput) {
  std::unique_ptr<Registry> registry = RegistryWithPlugin();
  OpHarness op({"", "Erf"}, *registry);
  op.InputShape(0, {2, 64}).InputRange(0, -3.0f, 3.0f).Seed(11);
  QFORGE_ASSERT_OK_AND_ASSIGN(HarnessResult r,
                              op.QuantizeAndRun(Config(GetParam())));
  ASSERT_NE(r.quantized_node, nullptr) << r.ToString();
  EXPECT_THAT(r.CheckSpecInvariants(*registry), IsOk());
  EXPECT_THAT(r, WithinLsb(1.0));
  ASSERT_EQ(r.outputs.size(), 1u);
  EXPECT_FLOAT_EQ(r.outputs[0].scale, 1.0f / 128.0f);
  EXPECT_EQ(r.outputs[0].zero_point, 0);
  EXPECT_GT(r.outputs[0].sqnr_vs_float_db, 35.0);
}

TEST_P(ErfQuantizerTest, GeluIsWithinOneLsb) {
  std::unique_ptr<Registry> registry = RegistryWithPlugin();
  for (const char* approximate : {"none", "tanh"}) {
    OpHarness op({"", "Gelu"}, *registry);
    op.Attr("approximate", std::string(approximate))
        .InputShape(0, {4, 32})
        .InputRange(0, -5.0f, 4.0f)
        .Seed(5);
    QFORGE_ASSERT_OK_AND_ASSIGN(HarnessResult r,
                                op.QuantizeAndRun(Config(GetParam())));
    ASSERT_NE(r.quantized_node, nullptr) << r.ToString();
    EXPECT_THAT(r.CheckSpecInvariants(*registry), IsOk()) << approximate;
    EXPECT_THAT(r, WithinLsb(1.0)) << approximate;
    EXPECT_GT(r.outputs[0].sqnr_vs_float_db, 35.0) << approximate;
  }
}

INSTANTIATE_TEST_SUITE_P(Profiles, ErfQuantizerTest,
                         ::testing::Values(ArithmeticProfile::kOnnxRuntime,
                                           ArithmeticProfile::kTfliteReference),
                         [](const auto& info) {
                           return std::string(
                               ArithmeticProfileName(info.param));
                         });

TEST(ErfPluginTest, WithoutThePluginErfHasNoQuantizer) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  OpHarness op({"", "Erf"}, registry);
  op.InputShape(0, {8});
  EXPECT_THAT(op.QuantizeAndRun(QuantConfig()),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("no quantizer is registered for op Erf")));
}

TEST(ErfPluginTest, RegisteringTwiceIsAlreadyExists) {
  std::unique_ptr<Registry> registry = RegistryWithPlugin();
  EXPECT_THAT(RegisterErfPlugin(*registry),
              StatusIs(absl::StatusCode::kAlreadyExists, ::testing::_));
}

TEST(ErfPluginTest, RegistersThroughItsDescriptorAllOrNothing) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  EXPECT_STREQ(ErfPlugin().name, "erf");
  ASSERT_THAT(RegisterPlugin(ErfPlugin(), registry), IsOk());
  EXPECT_NE(registry.quantizers().Find({"", "Gelu"}), nullptr);
  // A second registration fails and leaves the registry as it was.
  const std::vector<std::string> before = registry.quantizers().List();
  EXPECT_FALSE(RegisterPlugin(ErfPlugin(), registry).ok());
  EXPECT_EQ(registry.quantizers().List(), before);
}

TEST(ErfPluginTest, BadApproximateIsAnErrorNamingTheNode) {
  std::unique_ptr<Registry> registry = RegistryWithPlugin();
  OpHarness op({"", "Gelu"}, *registry);
  op.Attr("approximate", std::string("erf")).InputShape(0, {8});
  absl::StatusOr<HarnessResult> r = op.QuantizeAndRun(QuantConfig());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("approximate"));
}

}  // namespace
}  // namespace qforge::plugins::erf
