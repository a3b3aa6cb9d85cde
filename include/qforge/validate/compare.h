// Layer-wise validation: how far a quantized model is from its float model.
//
//   QFORGE_ASSIGN_OR_RETURN(ComparisonReport report,
//       CompareModels(float_model, result.model, *data, registry, {}));
//   std::cout << report.ToString();
//
// Both models run over every sample of `data` (streaming: one sample's
// tensors are held at a time, metrics accumulate in ErrorAccumulator). Values
// are matched by name: the quantizer keeps the float model's value names for
// quantized values. Integer tensors with QuantParams are dequantized
// (r = scale * (q - zero_point), per tensor or per axis) before comparison.
//
// The float reference is the PREPARED float graph: PrepareForQuantization
// folds BatchNormalization into Conv (so the BN output's name disappears)
// and resolves aliases. CompareModels prepares `float_model` itself with
// CompareOptions::config (the config used to quantize) unless
// `prepare_float_model` is false; preparing an already prepared graph
// changes nothing.
//
// Two errors are reported for each quantized tensor:
//   * cumulative: the quantized model run end to end; the error of a layer
//     includes what every earlier layer contributed;
//   * isolated: the layer alone. For every node of the quantized graph whose
//     outputs are quantized (other than QuantizeLinear / DequantizeLinear),
//     a one-node graph is built (constants copied with their QuantParams,
//     every other input a graph input of the node's quantized input type)
//     and prepared once; per sample, each input is the FLOAT model's tensor
//     of the same name, quantized with that input's QuantParams (round half
//     to even, saturating, as ONNX QuantizeLinear), and the node's
//     dequantized outputs are compared with the float model's.
// A Relu fused into a node's output range (the quantizer keeps the Relu node
// with the same params) makes that node's integer output max(0, x) by
// design; it is compared with max(0, float) (both sides clamped: the params
// may be a wider shared scale that leaves the clamp to the Relu) and marked
// fused_relu. A Clip fused the same way (e.g. a TFLite RELU6) is compared
// after its constant bounds and marked fused_clip.
// Layers are listed worst first: lowest isolated SQNR (then cumulative).
//
// With labels (one class index per sample), the top-1 accuracy of both
// models on the first graph output (argmax over its last axis) and their
// top-1 agreement are reported; the agreement is reported without labels
// too.
#ifndef QFORGE_VALIDATE_COMPARE_H_
#define QFORGE_VALIDATE_COMPARE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "qforge/core/export.h"
#include "qforge/core/tensor.h"
#include "qforge/ir/graph.h"
#include "qforge/quantize/calibration_data.h"
#include "qforge/quantize/quant_config.h"
#include "qforge/registry.h"
#include "qforge/validate/metrics.h"

namespace qforge {

struct CompareOptions {
  // Used to prepare the float model (see the header comment).
  QuantConfig config;
  bool prepare_float_model = true;
  // Compute isolated (per layer) errors.
  bool isolated = true;
  // Class index per sample (any integer or float dtype; num_elements must
  // equal the number of samples), or nullopt.
  std::optional<Tensor> labels;
  // Samples [begin, end) of the data (end = -1: all).
  int64_t begin = 0;
  int64_t end = -1;
  // Called after each sample: (samples done, total).
  std::function<void(int64_t, int64_t)> progress;
};

struct TensorComparison {
  std::string name;        // The value's name (in both graphs).
  std::string node;        // The producing node in the quantized graph.
  std::string op;          // Its op type.
  bool quantized = false;  // The quantized graph holds it as integers.
  // A Relu is fused into its quantized range (the Relu node after it keeps
  // the same params): both sides are compared after max(0, x), shown
  // "Conv+Relu".
  bool fused_relu = false;
  // The same for a Clip with constant bounds (shown "Conv+Clip").
  bool fused_clip = false;
  ErrorMetrics cumulative;
  std::optional<ErrorMetrics> isolated;
};

struct QFORGE_EXPORT ComparisonReport {
  int64_t num_samples = 0;
  // Graph outputs of the quantized model, in graph order.
  std::vector<TensorComparison> outputs;
  // Intermediate values found in both graphs, worst first.
  std::vector<TensorComparison> layers;
  // Top-1 over the first graph output.
  bool has_labels = false;
  double float_top1 = 0.0;      // With labels only.
  double quantized_top1 = 0.0;  // With labels only.
  double top1_agreement = 0.0;
  bool has_top1 = false;  // The first output has a class axis.

  // A table: outputs, accuracy, then layers worst first.
  std::string ToString() const;
  std::string ToJson() const;
};

QFORGE_EXPORT absl::StatusOr<ComparisonReport> CompareModels(
    const Graph& float_model, const Graph& quantized_model,
    const CalibrationData& data, const Registry& registry,
    const CompareOptions& options = {});

// Real values of `tensor` read with `params` (per tensor or per axis), as
// float32. InvalidArgument when the params do not fit the tensor.
QFORGE_EXPORT absl::StatusOr<Tensor> DequantizeTensor(
    const Tensor& tensor, const QuantParams& params);
// Quantizes float `tensor` with `params` into params.storage (round half to
// even, saturating to [qmin, qmax]).
QFORGE_EXPORT absl::StatusOr<Tensor> QuantizeTensor(const Tensor& tensor,
                                                    const QuantParams& params);

}  // namespace qforge

#endif  // QFORGE_VALIDATE_COMPARE_H_
