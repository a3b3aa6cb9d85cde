// The bundled digits CNN (examples/digits) for kernel tests: its files, and
// the model quantized on its calibration set with the default configuration
// in a given arithmetic profile.
#ifndef QFORGE_TESTS_KERNELS_DIGITS_TEST_UTIL_H_
#define QFORGE_TESTS_KERNELS_DIGITS_TEST_UTIL_H_

#include <cstdlib>
#include <string>

#include "absl/status/statusor.h"
#include "qforge/core/arithmetic_profile.h"
#include "qforge/core/status.h"
#include "qforge/io/model.h"
#include "qforge/io/npy.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"

namespace qforge::testing {

// examples/digits/FILE under $QFORGE_SOURCE_DIR (ctest sets it), else ".".
inline std::string DigitsPath(const std::string& file) {
  const char* root = std::getenv("QFORGE_SOURCE_DIR");
  return std::string(root != nullptr ? root : ".") + "/examples/digits/" + file;
}

struct QuantizedDigits {
  Graph float_model;
  QuantizeResult quantized;
};

// Loads digits_cnn.onnx and quantizes it on digits_calib.npz. The exported
// model has a Constant node (the Mul's factor), which stays float.
inline absl::StatusOr<QuantizedDigits> QuantizeDigits(
    const Registry& registry, ArithmeticProfile profile) {
  QFORGE_ASSIGN_OR_RETURN(Graph model,
                          LoadModel(DigitsPath("digits_cnn.onnx"), registry));
  QFORGE_ASSIGN_OR_RETURN(NpzContents calib,
                          ReadNpz(DigitsPath("digits_calib.npz")));
  QFORGE_ASSIGN_OR_RETURN(auto data,
                          TensorCalibrationData::Create(TensorMap(calib)));
  QuantConfig config;
  config.profile = profile;
  config.unknown_op_policy = UnknownOpPolicy::kKeepFloat;
  QFORGE_ASSIGN_OR_RETURN(QuantizeResult q,
                          Quantize(model, *data, config, registry));
  return QuantizedDigits{std::move(model), std::move(q)};
}

}  // namespace qforge::testing

#endif  // QFORGE_TESTS_KERNELS_DIGITS_TEST_UTIL_H_
