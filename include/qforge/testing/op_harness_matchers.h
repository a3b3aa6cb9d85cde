// GoogleTest matchers for OpHarness results (op_harness.h). Header-only, part
// of the qforge::testing CMake target:
//
//   QFORGE_ASSERT_OK_AND_ASSIGN(HarnessResult r, op.QuantizeAndRun(config));
//   EXPECT_THAT(r, WithinLsb(1.0));        // every output, mean <= 0.5 LSB
//   EXPECT_THAT(r, WithinLsb(2.0, 1.0));
//
// On failure the message gives the seed, the profile and, per output, the
// worst element (index, sample, int8 value, reference, float value).
#ifndef QFORGE_TESTING_OP_HARNESS_MATCHERS_H_
#define QFORGE_TESTING_OP_HARNESS_MATCHERS_H_

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "qforge/testing/op_harness.h"
#include "qforge/testing/status_matchers.h"

namespace qforge::testing {

MATCHER_P2(WithinLsb, max_lsb, mean_lsb,
           absl::StrCat(negation ? "not " : "", "within ", max_lsb,
                        " LSB (mean ", mean_lsb,
                        " LSB) of the float op on dequantized inputs")) {
  const HarnessResult& r = arg;
  if (r.outputs.empty()) {
    *result_listener << "no int8 output was measured (node not quantized?) "
                     << r.ToString();
    return false;
  }
  bool ok = true;
  for (const OutputMetrics& m : r.outputs) {
    if (m.num_elements == 0 || m.max_error_lsb > max_lsb ||
        m.mean_error_lsb > mean_lsb) {
      ok = false;
    }
  }
  if (!ok) *result_listener << r.ToString();
  return ok;
}

// WithinLsb(max) with the policy's default mean bound of 0.5 LSB.
inline auto WithinLsb(double max_lsb) { return WithinLsb(max_lsb, 0.5); }

}  // namespace qforge::testing

#endif  // QFORGE_TESTING_OP_HARNESS_MATCHERS_H_
