// The built-in op quantizers (specs for qforge's op set).
#ifndef QFORGE_LIB_QUANTIZE_BUILTIN_QUANTIZERS_H_
#define QFORGE_LIB_QUANTIZE_BUILTIN_QUANTIZERS_H_

#include "absl/status/status.h"
#include "qforge/quantize/quantizer.h"

namespace qforge::internal {

absl::Status RegisterBuiltinQuantizers(QuantizerTable& table);

}  // namespace qforge::internal

#endif  // QFORGE_LIB_QUANTIZE_BUILTIN_QUANTIZERS_H_
