// The harness itself: it measures a correct int8 kernel as within 1 LSB, and
// a wrong one (an int8 Sigmoid replaced by a constant) as far off, with the
// seed and the worst element in the failure message.
#include "qforge/testing/op_harness.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/registry.h"
#include "qforge/testing/op_harness_matchers.h"
#include "qforge/testing/status_matchers.h"

namespace qforge::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(OpHarnessTest, CorrectKernelIsWithinOneLsb) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  OpHarness op({"", "Sigmoid"}, registry);
  op.InputShape(0, {2, 16}).InputRange(0, -6.0f, 6.0f).Seed(3);
  QFORGE_ASSERT_OK_AND_ASSIGN(HarnessResult r,
                              op.QuantizeAndRun(QuantConfig()));
  EXPECT_THAT(r.CheckSpecInvariants(registry), IsOk());
  EXPECT_THAT(r, WithinLsb(1.0));
  ASSERT_EQ(r.outputs.size(), 1u);
  EXPECT_EQ(r.outputs[0].num_elements, 2 * 16 * 8);  // 8 samples by default.
  EXPECT_EQ(r.seed, 3u);
}

TEST(OpHarnessTest, BrokenKernelFailsWithSeedAndWorstElement) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  // An int8 Sigmoid that always outputs -128 (probability 0).
  registry.kernels().Replace(
      {{"", "Sigmoid"},
       DataType::kInt8,
       StatelessKernel([](KernelContext& ctx) {
         const Tensor* x = ctx.input(0);
         ctx.output(0)->Reset(DataType::kInt8, x->dims());
         for (int8_t& v : ctx.output(0)->values<int8_t>()) v = -128;
         return absl::OkStatus();
       })});
  OpHarness op({"", "Sigmoid"}, registry);
  op.InputShape(0, {2, 16}).InputRange(0, -6.0f, 6.0f).Seed(5);
  QFORGE_ASSERT_OK_AND_ASSIGN(HarnessResult r,
                              op.QuantizeAndRun(QuantConfig()));
  EXPECT_THAT(r, Not(WithinLsb(1.0)));
  ASSERT_EQ(r.outputs.size(), 1u);
  // The largest sigmoid of the inputs is close to 1, i.e. ~255 LSB away.
  EXPECT_GT(r.outputs[0].max_error_lsb, 200.0);
  EXPECT_EQ(r.outputs[0].worst_int8, 0.0f);
  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(::testing::ExplainMatchResult(WithinLsb(1.0), r, &listener));
  EXPECT_THAT(listener.str(), HasSubstr("seed 5"));
  EXPECT_THAT(listener.str(), HasSubstr("worst element"));
}

TEST(OpHarnessTest, UnsetInputIsAnError) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  OpHarness op({"", "Add"}, registry);
  op.InputShape(1, {2});
  EXPECT_THAT(op.QuantizeAndRun(QuantConfig()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("input 0 is not set")));
}

}  // namespace
}  // namespace qforge::testing
