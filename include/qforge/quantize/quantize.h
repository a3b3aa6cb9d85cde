// Quantize: a float model plus calibration data in, an INT8 model out.
//
//   qforge::Registry registry;
//   QFORGE_RETURN_IF_ERROR(qforge::RegisterBuiltins(registry));
//   QFORGE_ASSIGN_OR_RETURN(qforge::Graph model, qforge::LoadModel("m.onnx", registry));
//   QFORGE_ASSIGN_OR_RETURN(auto data, qforge::OpenCalibrationData("calib.npz"));
//   QFORGE_ASSIGN_OR_RETURN(qforge::QuantizeResult result,
//                           qforge::Quantize(model, *data, {}, registry));
//   std::cout << result.report.ToString();
//
// The steps, each available on its own:
//   1. PrepareForQuantization: op aliases resolved, constant subgraphs
//      folded, BatchNormalization folded
//      into the preceding Conv/Gemm (a standalone one becomes a per-channel
//      depthwise 1x1 Conv), GELU written out with Erf fused into one Gelu
//      node when the registry has a Gelu quantizer (the erf plugin), graph
//      verified. Deterministic, so statistics
//      computed in one process match the graph prepared in another.
//   2. Calibrate: runs the prepared float graph over the samples and streams
//      statistics of every tensor that will be quantized; only the nodes
//      those tensors need run. Statistics of shards merge (calibration.h).
//   3. QuantizeWithStats: asks each node's quantizer for its spec, assigns
//      parameters (calibrated ranges, weights from their values, bias at
//      input x weight scale, fixed outputs, shared-scale groups, fused
//      activations), runs rewrite hooks and converts the graph: quantized
//      values become int8 (int32 for bias) with QuantParams; QuantizeLinear
//      and DequantizeLinear stand where float and integer tensors meet, at
//      graph inputs and outputs and around nodes kept float.
//
// Nothing is left float silently: every node kept float is in the report
// with its reason. An op with no quantizer fails under the default policy,
// with a message naming the node, the op and both fixes.
#ifndef QFORGE_QUANTIZE_QUANTIZE_H_
#define QFORGE_QUANTIZE_QUANTIZE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "qforge/core/export.h"
#include "qforge/ir/graph.h"
#include "qforge/quantize/calibration.h"
#include "qforge/quantize/calibration_data.h"
#include "qforge/quantize/quant_config.h"
#include "qforge/registry.h"

namespace qforge {

struct QFORGE_EXPORT QuantizeReport {
  struct NodeEntry {
    std::string node;
    std::string op;
    bool quantized = false;
    // Why the node stayed float, or notes about how it was quantized
    // (e.g. a weight scale raised so that the bias fits in int32).
    std::string reason;
    // The user's original nodes this node stands for (after fusion).
    std::vector<std::string> origins;
  };
  std::vector<NodeEntry> nodes;
  std::vector<std::string> warnings;  // Calibration diagnostics, data casts.
  int64_t num_calibration_samples = 0;
  int64_t float_parameter_bytes = 0;
  int64_t quantized_parameter_bytes = 0;

  int num_quantized() const;
  int num_float() const;
  // A human-readable summary: counts, nodes kept float and why, warnings,
  // parameter bytes before and after.
  std::string ToString() const;
  std::string ToJson() const;
};

struct QuantizeResult {
  Graph model;
  QuantizeReport report;
};

// Called after each calibration sample: (samples done, total).
using ProgressCallback = std::function<void(int64_t done, int64_t total)>;

QFORGE_EXPORT absl::StatusOr<Graph> PrepareForQuantization(
    const Graph& model, const QuantConfig& config, const Registry& registry);

// Statistics of the prepared graph over samples [begin, end) of `data`
// (end = -1: all).
QFORGE_EXPORT absl::StatusOr<CalibrationStats> Calibrate(
    const Graph& prepared, const CalibrationData& data, const QuantConfig& config,
    const Registry& registry, int64_t begin = 0, int64_t end = -1,
    const ProgressCallback& progress = nullptr);

QFORGE_EXPORT absl::StatusOr<QuantizeResult> QuantizeWithStats(
    const Graph& prepared, const CalibrationStats& stats, const QuantConfig& config,
    const Registry& registry);

// Prepare, calibrate over all of `data`, quantize.
QFORGE_EXPORT absl::StatusOr<QuantizeResult> Quantize(
    const Graph& model, const CalibrationData& data, const QuantConfig& config,
    const Registry& registry, const ProgressCallback& progress = nullptr);

// What a quantizer's Rewrite hook may read and change.
class QFORGE_EXPORT QuantizeContext {
 public:
  virtual ~QuantizeContext() = default;
  virtual Graph& graph() = 0;
  virtual const QuantConfig& config() const = 0;
  virtual const Registry& registry() const = 0;
  // Statistics of a value, or nullptr when it was not calibrated.
  virtual const TensorStats* stats(const Value& value) const = 0;
  // The parameters assigned to a value, or nullopt (it stays float).
  virtual std::optional<QuantParams> params(const Value& value) const = 0;
  virtual void set_params(Value& value, QuantParams params) = 0;
  // Adds a note to the node's report entry.
  virtual void Note(const Node& node, std::string note) = 0;
  // Replaces a quantized node with one output by a constant known at
  // quantization time: `value` (float32, the output's shape) is stored
  // quantized with the parameters assigned to the output, and the node is
  // removed when the graph is converted (e.g. AnchorBoxes with static shapes).
  // Readers that stay float read it through a DequantizeLinear.
  virtual absl::Status FoldToConstant(Node& node, const Tensor& value) = 0;
};

}  // namespace qforge

#endif  // QFORGE_QUANTIZE_QUANTIZE_H_
