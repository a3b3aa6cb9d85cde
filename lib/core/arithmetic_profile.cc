#include "qforge/core/arithmetic_profile.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace qforge {

const char* ArithmeticProfileName(ArithmeticProfile profile) {
  return profile == ArithmeticProfile::kTfliteReference ? "tflite_reference"
                                                        : "onnxruntime";
}

absl::StatusOr<ArithmeticProfile> ParseArithmeticProfile(absl::string_view name) {
  if (name == "onnxruntime") return ArithmeticProfile::kOnnxRuntime;
  if (name == "tflite_reference") return ArithmeticProfile::kTfliteReference;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown arithmetic profile '", name,
      "'; expected onnxruntime or tflite_reference"));
}

}  // namespace qforge
