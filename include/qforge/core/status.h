// Status propagation helpers.
//
// qforge reports every error as an absl::Status or absl::StatusOr; no
// exception leaves the library. This Abseil release (20220623) has no status
// macros, so qforge defines its own:
//
//   QFORGE_RETURN_IF_ERROR(DoThing());
//   QFORGE_ASSIGN_OR_RETURN(Graph graph, LoadModel(path, registry));
//
// Both evaluate their argument exactly once and return the error status
// unchanged from the enclosing function.
#ifndef QFORGE_CORE_STATUS_H_
#define QFORGE_CORE_STATUS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define QFORGE_STATUS_CONCAT_INNER_(a, b) a##b
#define QFORGE_STATUS_CONCAT_(a, b) QFORGE_STATUS_CONCAT_INNER_(a, b)

#define QFORGE_RETURN_IF_ERROR(expr)                         \
  do {                                                       \
    ::absl::Status qforge_status_ = (expr);                  \
    if (!qforge_status_.ok()) return qforge_status_;         \
  } while (0)

#define QFORGE_ASSIGN_OR_RETURN(lhs, rexpr) \
  QFORGE_ASSIGN_OR_RETURN_IMPL_(            \
      QFORGE_STATUS_CONCAT_(qforge_statusor_, __LINE__), lhs, rexpr)

#define QFORGE_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();   \
  lhs = std::move(statusor).value()

#endif  // QFORGE_CORE_STATUS_H_
