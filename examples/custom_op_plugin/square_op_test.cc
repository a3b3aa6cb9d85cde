// Tests the Square quantizer with qforge's testing toolkit: one node,
// calibrated, quantized, run in float and int8, spec invariants and error.
#include "square_op.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/plugin.h"
#include "qforge/registry.h"
#include "qforge/testing/op_harness.h"
#include "qforge/testing/op_harness_matchers.h"
#include "qforge/testing/status_matchers.h"

namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::OpHarness;
using ::qforge::testing::WithinLsb;

TEST(SquareOpTest, QuantizedSquareIsWithinOneLsb) {
  qforge::Registry registry;
  ASSERT_THAT(qforge::RegisterBuiltins(registry), IsOk());
  ASSERT_THAT(qforge::RegisterPlugin(example::SquarePlugin(), registry),
              IsOk());
  OpHarness op({example::kDomain, example::kSquare}, registry);
  op.InputShape(0, {2, 32}).InputRange(0, -3.0f, 3.0f).Seed(11);
  QFORGE_ASSERT_OK_AND_ASSIGN(qforge::testing::HarnessResult r,
                              op.QuantizeAndRun(qforge::QuantConfig()));
  EXPECT_THAT(r.CheckSpecInvariants(registry), IsOk());
  EXPECT_THAT(r, WithinLsb(1.0));
}

TEST(SquareOpTest, RegistersAllOrNothing) {
  qforge::Registry registry;
  ASSERT_THAT(qforge::RegisterPlugin(example::SquarePlugin(), registry),
              IsOk());
  // A second registration collides and leaves the registry as it was.
  const auto before = registry.quantizers().List();
  EXPECT_FALSE(qforge::RegisterPlugin(example::SquarePlugin(), registry).ok());
  EXPECT_EQ(registry.quantizers().List(), before);
}

}  // namespace
