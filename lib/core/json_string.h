// JSON string literals for qforge's JSON reports (CLI, quantize, compare).
#ifndef QFORGE_LIB_CORE_JSON_STRING_H_
#define QFORGE_LIB_CORE_JSON_STRING_H_

#include <string>

#include "absl/strings/string_view.h"

namespace qforge::internal {

// `s` as a quoted JSON string: quotes, backslashes and control characters
// escaped (\n, \r, \t, else \u00XX); other bytes are copied as they are.
std::string JsonString(absl::string_view s);

}  // namespace qforge::internal

#endif  // QFORGE_LIB_CORE_JSON_STRING_H_
