// GoogleTest matchers for absl::Status and absl::StatusOr.
//
//   EXPECT_THAT(LoadModel(path, registry), IsOk());
//   EXPECT_THAT(status, StatusIs(absl::StatusCode::kNotFound,
//                                HasSubstr("AnchorBoxes")));
//
// Part of the qforge::testing CMake target.
#ifndef QFORGE_TESTING_STATUS_MATCHERS_H_
#define QFORGE_TESTING_STATUS_MATCHERS_H_

#include <ostream>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "qforge/core/status.h"

namespace qforge::testing {
namespace internal {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace internal

MATCHER(IsOk, negation ? "is not OK" : "is OK") {
  const absl::Status& status = internal::GetStatus(arg);
  if (!status.ok()) *result_listener << "status: " << status;
  return status.ok();
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + ::testing::PrintToString(code)) {
  const absl::Status& status = internal::GetStatus(arg);
  *result_listener << "status: " << status;
  return status.code() == code &&
         ::testing::ExplainMatchResult(message_matcher,
                                       std::string(status.message()),
                                       result_listener);
}

}  // namespace qforge::testing

// Asserts that an expression returning Status/StatusOr is OK.
#define QFORGE_ASSERT_OK(expr) ASSERT_THAT((expr), ::qforge::testing::IsOk())
#define QFORGE_EXPECT_OK(expr) EXPECT_THAT((expr), ::qforge::testing::IsOk())

// `lhs = value of rexpr`, failing the test when rexpr is not OK.
#define QFORGE_ASSERT_OK_AND_ASSIGN(lhs, rexpr)                           \
  QFORGE_ASSERT_OK_AND_ASSIGN_IMPL_(                                      \
      QFORGE_STATUS_CONCAT_(qforge_test_statusor_, __LINE__), lhs, rexpr)
#define QFORGE_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                      \
  ASSERT_THAT(statusor, ::qforge::testing::IsOk());             \
  lhs = std::move(statusor).value()

#endif  // QFORGE_TESTING_STATUS_MATCHERS_H_
