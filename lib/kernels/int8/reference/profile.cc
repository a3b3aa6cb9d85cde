#include "kernels/int8/reference/profile.h"

namespace qforge::kernels::reference {

absl::string_view ProfileName(ArithmeticProfile profile) {
  switch (profile) {
    case ArithmeticProfile::kOnnxRuntime:
      return "onnxruntime";
    case ArithmeticProfile::kTfliteReference:
      return "tflite_reference";
  }
  return "unknown";
}

}  // namespace qforge::kernels::reference
