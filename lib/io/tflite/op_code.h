// The one place that reads a TFLite OperatorCode's builtin op.
//
// Schema 3a added the 32-bit `builtin_code` next to the original 8-bit
// `deprecated_builtin_code`. Writers fill both (the deprecated one with
// PLACEHOLDER_FOR_GREATER_OP_CODES = 127 for codes above 127) and old files
// have only the deprecated one, so the op is the larger of the two.
#ifndef QFORGE_LIB_IO_TFLITE_OP_CODE_H_
#define QFORGE_LIB_IO_TFLITE_OP_CODE_H_

#include <algorithm>
#include <cstdint>

#include "io/tflite/schema_generated.h"

namespace qforge::internal {

inline int32_t TfliteBuiltinCode(const tflite_fb::OperatorCode& code) {
  return std::max<int32_t>(
      static_cast<int32_t>(code.builtin_code()),
      static_cast<int32_t>(code.deprecated_builtin_code()));
}

}  // namespace qforge::internal

#endif  // QFORGE_LIB_IO_TFLITE_OP_CODE_H_
