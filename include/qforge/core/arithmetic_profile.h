// Arithmetic profiles: whose integer arithmetic the int8 kernels reproduce.
//
// A quantized model is computed the way its deployment runtime computes it,
// so that qforge's layer-by-layer comparison says what the device will
// output. Each profile is written down per op, as exact integer formulas, in
// docs/arithmetic.md; every kernel ISA path reproduces it bit for bit.
#ifndef QFORGE_CORE_ARITHMETIC_PROFILE_H_
#define QFORGE_CORE_ARITHMETIC_PROFILE_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "qforge/core/export.h"

namespace qforge {

enum class ArithmeticProfile {
  // ONNX Runtime's CPU kernels for QDQ models: float requantization,
  // round half to even.
  kOnnxRuntime,
  // TFLite's (and TFLite Micro's) reference int8 kernels: fixed-point
  // multipliers with double rounding, float-built tables, per op.
  kTfliteReference,
};

// "onnxruntime" or "tflite_reference".
QFORGE_EXPORT const char* ArithmeticProfileName(ArithmeticProfile profile);
QFORGE_EXPORT absl::StatusOr<ArithmeticProfile> ParseArithmeticProfile(
    absl::string_view name);

}  // namespace qforge

#endif  // QFORGE_CORE_ARITHMETIC_PROFILE_H_
