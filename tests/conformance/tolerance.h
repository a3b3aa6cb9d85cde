// The ONNX conformance tolerance, shared by the conformance runner and the
// CLI tests: |actual - expected| <= atol + rtol * |expected| with rtol 1e-3,
// atol 1e-7; NaN equals NaN, infinities must match exactly, integers and
// bools compare exactly, dtypes and shapes must match.
#ifndef QFORGE_TESTS_CONFORMANCE_TOLERANCE_H_
#define QFORGE_TESTS_CONFORMANCE_TOLERANCE_H_

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "qforge/core/tensor.h"

namespace qforge::testing {

inline constexpr double kConformanceRtol = 1e-3;
inline constexpr double kConformanceAtol = 1e-7;

// Empty when `actual` matches `expected`; otherwise what differs, prefixed
// with `what`.
inline std::string ConformanceDiff(const std::string& what,
                                   const Tensor& actual,
                                   const Tensor& expected) {
  if (actual.dtype() != expected.dtype()) {
    return absl::StrCat(what, ": dtype ", DataTypeName(actual.dtype()),
                        ", expected ", DataTypeName(expected.dtype()));
  }
  if (actual.dims() != expected.dims()) {
    return absl::StrCat(what, ": shape ", DimsToString(actual.dims()),
                        ", expected ", DimsToString(expected.dims()));
  }
  const bool is_float = IsFloatingPoint(expected.dtype());
  int64_t mismatches = 0;
  std::string first;
  for (int64_t i = 0; i < expected.num_elements(); ++i) {
    bool ok;
    if (is_float) {
      const double a = actual.GetAsDouble(i);
      const double e = expected.GetAsDouble(i);
      if (std::isnan(e) || std::isnan(a)) {
        ok = std::isnan(e) && std::isnan(a);
      } else if (std::isinf(e) || std::isinf(a)) {
        ok = a == e;
      } else {
        ok = std::fabs(a - e) <=
             kConformanceAtol + kConformanceRtol * std::fabs(e);
      }
    } else {
      ok = actual.GetAsInt64(i) == expected.GetAsInt64(i);
    }
    if (!ok) {
      if (mismatches < 5) {
        absl::StrAppend(&first, "\n    [", i, "] actual ",
                        actual.GetAsDouble(i), " expected ",
                        expected.GetAsDouble(i));
      }
      ++mismatches;
    }
  }
  if (mismatches == 0) return "";
  return absl::StrCat(what, ": ", mismatches, " of ", expected.num_elements(),
                      " elements differ beyond rtol ", kConformanceRtol,
                      " atol ", kConformanceAtol, first);
}

}  // namespace qforge::testing

#endif  // QFORGE_TESTS_CONFORMANCE_TOLERANCE_H_
