// libqforge_erf.so, loaded at run time: LoadPlugin registers the Erf and Gelu
// quantizers and int8 kernels, which then quantize an Erf node within 1 LSB.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/plugin.h"
#include "qforge/registry.h"
#include "qforge/testing/op_harness.h"
#include "qforge/testing/op_harness_matchers.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::HarnessResult;
using ::qforge::testing::IsOk;
using ::qforge::testing::OpHarness;
using ::qforge::testing::WithinLsb;

TEST(ErfModuleTest, LoadedModuleQuantizesErfAndGelu) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  EXPECT_EQ(registry.quantizers().Find({"", "Erf"}), nullptr);
  QFORGE_ASSERT_OK_AND_ASSIGN(PluginInfo info,
                              LoadPlugin(QFORGE_ERF_MODULE, registry));
  EXPECT_EQ(info.name, "erf");
  EXPECT_NE(registry.quantizers().Find({"", "Erf"}), nullptr);
  EXPECT_NE(registry.quantizers().Find({"", "Gelu"}), nullptr);
  for (const char* op : {"Erf", "Gelu"}) {
    OpHarness harness({"", op}, registry);
    harness.InputShape(0, {4, 32}).InputRange(0, -4.0f, 4.0f).Seed(9);
    QFORGE_ASSERT_OK_AND_ASSIGN(HarnessResult r,
                                harness.QuantizeAndRun(QuantConfig()));
    ASSERT_NE(r.quantized_node, nullptr) << op;
    EXPECT_THAT(r.CheckSpecInvariants(registry), IsOk()) << op;
    EXPECT_THAT(r, WithinLsb(1.0)) << op;
  }
}

}  // namespace
}  // namespace qforge
