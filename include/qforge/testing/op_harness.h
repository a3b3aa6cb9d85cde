// OpHarness: tests a quantizer (built-in or from a plugin) on one node.
//
//   qforge::testing::OpHarness op({"", "Conv"}, registry);
//   op.Attr("strides", std::vector<int64_t>{2, 2})
//       .InputShape(0, {1, 3, 8, 8})
//       .ConstantInput(1, weights)
//       .Seed(7);
//   absl::StatusOr<HarnessResult> r = op.QuantizeAndRun(config);
//   EXPECT_THAT(r->CheckSpecInvariants(), IsOk());
//   EXPECT_THAT(*r, WithinLsb(1.0));      // op_harness_matchers.h
//
// QuantizeAndRun builds a graph of the one node (graph inputs for the
// non-constant inputs, constants for the others), generates seeded
// calibration samples (uniform in each input's range, default [-1, 1]) or
// takes the given values, quantizes the graph through the registry (the
// registry's quantizer, its int8 kernels and the config's profile) and runs
// both the float and the quantized graph on every sample.
//
// The reference of the tolerance policy (tests/TOLERANCES.md) is the float
// op applied to the DEQUANTIZED integer inputs, weights and bias the int8
// node actually reads, clamped to the output's representable range; errors
// are in LSB of the output scale. HarnessResult also keeps the plain float
// output's SQNR, which measures the quantization noise as a whole.
//
// This header is part of the qforge library (no GoogleTest dependency); the
// gtest matchers are header-only in op_harness_matchers.h (CMake target
// qforge::testing).
#ifndef QFORGE_TESTING_OP_HARNESS_H_
#define QFORGE_TESTING_OP_HARNESS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "qforge/core/export.h"
#include "qforge/core/tensor.h"
#include "qforge/ir/attribute.h"
#include "qforge/ir/graph.h"
#include "qforge/ir/op_schema.h"
#include "qforge/quantize/quant_config.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"

namespace qforge::testing {

// Metrics of one output of the node under test, over all samples.
struct QFORGE_EXPORT OutputMetrics {
  std::string name;
  float scale = 0.0f;  // Output quantization.
  int64_t zero_point = 0;
  int64_t num_elements = 0;
  // |int8 - reference| / scale: maximum and mean (the reference is the float
  // op on the dequantized inputs, clamped to the representable range).
  double max_error_lsb = 0.0;
  double mean_error_lsb = 0.0;
  // 10 log10(sum ref^2 / sum (int8 - ref)^2) against the same reference
  // (+inf when equal), and against the float op on the float inputs.
  double sqnr_db = 0.0;
  double sqnr_vs_float_db = 0.0;
  // The element with the largest error: flat index over the concatenated
  // samples, sample number, dequantized int8 value, reference and float.
  int64_t worst_index = -1;
  int64_t worst_sample = -1;
  float worst_int8 = 0.0f;
  float worst_reference = 0.0f;
  float worst_float = 0.0f;

  std::string ToString() const;
};

struct QFORGE_EXPORT HarnessResult {
  uint64_t seed = 0;
  ArithmeticProfile profile = ArithmeticProfile::kOnnxRuntime;
  std::vector<OutputMetrics> outputs;
  Graph float_model;
  Graph quantized_model;
  QuantizeReport report;
  QuantConfig config;
  // The node under test in quantized_model ("op_under_test"), or nullptr
  // when its quantizer declined it.
  const Node* quantized_node = nullptr;

  // OK when the node was quantized and its spec holds in quantized_model:
  // every quantized value has a scale > 0 and a zero point in range; a bias
  // has scale = input scale x weight scale (per channel) and zero point 0;
  // fixed outputs have their fixed params; members of a shared-scale group
  // have equal params. Otherwise FailedPrecondition listing the violations.
  absl::Status CheckSpecInvariants(const Registry& registry) const;
  // The report's note for the node under test ("" when none).
  std::string Note() const;
  std::string ToString() const;
};

class QFORGE_EXPORT OpHarness {
 public:
  OpHarness(OpKey op, const Registry& registry);

  OpHarness& Attr(const std::string& name, Attribute value);
  // A non-constant input (graph input) of this static shape.
  OpHarness& InputShape(int i, std::vector<int64_t> dims);
  // Range of the generated values of input i (default [-1, 1]).
  OpHarness& InputRange(int i, float lo, float hi);
  // Fixed values of non-constant input i, the same in every sample (its
  // shape is taken from the tensor).
  OpHarness& InputValues(int i, Tensor values);
  // A constant input (weights, bias, axes, ...).
  OpHarness& ConstantInput(int i, Tensor value);
  // An omitted optional input.
  OpHarness& OmitInput(int i);
  OpHarness& NumOutputs(int n);
  OpHarness& Seed(uint64_t seed);
  OpHarness& NumSamples(int n);
  OpHarness& Opset(int64_t opset);

  // See the file comment. Errors: bad harness setup (InvalidArgument),
  // quantization or execution failures (their status, naming the step).
  absl::StatusOr<HarnessResult> QuantizeAndRun(const QuantConfig& config) const;

 private:
  struct InputSpec {
    enum class Kind {
      kUnset,
      kGraphInput,
      kConstant,
      kOmitted
    } kind = Kind::kUnset;
    std::vector<int64_t> dims;
    float lo = -1.0f, hi = 1.0f;
    std::optional<Tensor> values;  // Constant value or fixed input values.
  };
  InputSpec& In(int i);
  // The one-node float graph; constants replaced by `constants` where given.
  absl::StatusOr<Graph> BuildGraph(
      const std::map<int, Tensor>& constants) const;

  OpKey op_;
  const Registry& registry_;
  std::map<std::string, Attribute> attributes_;
  std::vector<InputSpec> inputs_;
  int num_outputs_ = 1;
  uint64_t seed_ = 1;
  int num_samples_ = 8;
  int64_t opset_ = 17;
};

}  // namespace qforge::testing

#endif  // QFORGE_TESTING_OP_HARNESS_H_
