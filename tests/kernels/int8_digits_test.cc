// End to end: quantize the bundled digits CNN (examples/digits) with its
// calibration set, run float and int8 on the test images in both arithmetic
// profiles, and compare top-1 accuracy against the labels.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "digits_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/io/model.h"
#include "qforge/io/npy.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::DigitsPath;
using ::qforge::testing::IsOk;
using ::qforge::testing::QuantizedDigits;
using ::qforge::testing::QuantizeDigits;

// Per-row argmax of a [N, classes] float tensor.
std::vector<int64_t> Argmax(const Tensor& logits) {
  std::vector<int64_t> out;
  const int64_t n = logits.dim(0), k = logits.dim(1);
  const float* p = logits.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = 0;
    for (int64_t j = 1; j < k; ++j) {
      if (p[i * k + j] > p[i * k + best]) best = j;
    }
    out.push_back(best);
  }
  return out;
}

class DigitsInt8Test : public ::testing::TestWithParam<ArithmeticProfile> {};

TEST_P(DigitsInt8Test, AccuracyWithinOnePointOfFloat) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizedDigits digits,
                              QuantizeDigits(registry, GetParam()));
  const Graph& model = digits.float_model;
  const QuantizeResult& q = digits.quantized;
  // Every compute node is quantized (BatchNormalization is folded).
  for (const QuantizeReport::NodeEntry& e : q.report.nodes) {
    if (e.op == "Constant") continue;
    EXPECT_TRUE(e.quantized)
        << e.node << " (" << e.op << ") kept float: " << e.reason;
  }

  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor images,
                              ReadNpy(DigitsPath("digits_test_images.npy")));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor labels,
                              ReadNpy(DigitsPath("digits_test_labels.npy")));
  ASSERT_EQ(labels.num_elements(), images.dim(0));

  QFORGE_ASSERT_OK_AND_ASSIGN(auto float_exec,
                              Executor::Prepare(model, registry));
  QFORGE_ASSERT_OK_AND_ASSIGN(auto int8_exec,
                              Executor::Prepare(q.model, registry));
  const std::string in = model.inputs()[0]->name();
  const std::string out = model.outputs()[0]->name();
  QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap f, float_exec->Run({{in, images}}));
  QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap i8, int8_exec->Run({{in, images}}));
  ASSERT_TRUE(f.contains(out));
  ASSERT_TRUE(i8.contains(out));
  ASSERT_EQ(i8.at(out).dtype(), DataType::kFloat32);
  const std::vector<int64_t> pf = Argmax(f.at(out));
  const std::vector<int64_t> pq = Argmax(i8.at(out));
  const int64_t n = images.dim(0);
  int64_t float_correct = 0, int8_correct = 0, agree = 0;
  for (int64_t s = 0; s < n; ++s) {
    const int64_t label = labels.GetAsInt64(s);
    float_correct += pf[s] == label;
    int8_correct += pq[s] == label;
    agree += pf[s] == pq[s];
  }
  const double float_acc = 100.0 * float_correct / n;
  const double int8_acc = 100.0 * int8_correct / n;
  const double agreement = 100.0 * agree / n;
  std::printf(
      "[%s] float top-1 %.2f%%, int8 top-1 %.2f%%, agreement %.2f%% (%ld "
      "samples)\n",
      ArithmeticProfileName(GetParam()), float_acc, int8_acc, agreement,
      static_cast<long>(n));
  EXPECT_GT(float_acc, 80.0);  // Sanity: the float model works.
  EXPECT_LE(std::abs(float_acc - int8_acc), 1.0);
  EXPECT_GE(agreement, 98.0);
}

INSTANTIATE_TEST_SUITE_P(Profiles, DigitsInt8Test,
                         ::testing::Values(ArithmeticProfile::kOnnxRuntime,
                                           ArithmeticProfile::kTfliteReference),
                         [](const auto& info) {
                           return std::string(
                               ArithmeticProfileName(info.param));
                         });

}  // namespace
}  // namespace qforge
