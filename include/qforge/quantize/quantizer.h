// OpQuantizer: how one op is quantized, and the table that finds it.
//
// A quantizer describes, per node, which tensors are quantized and how: a
// declarative OpQuantSpec (activations calibrated, weights per-axis or
// per-tensor, bias at input scale x weight scale, outputs with fixed
// parameters, groups of tensors that must share one scale), plus an optional
// Rewrite hook for what a spec cannot say (e.g. building a lookup table for
// Erf, or folding AnchorBoxes into a constant). A quantizer may decline a
// node with a reason; the node then follows the unknown-op policy.
//
// QuantizerTable is the quantizer part of qforge::Registry, keyed by
// {domain, op_type} and an opset range. Duplicate registration is an
// AlreadyExists error; Replace() overrides explicitly. Lookups are
// thread-safe.
#ifndef QFORGE_QUANTIZE_QUANTIZER_H_
#define QFORGE_QUANTIZE_QUANTIZER_H_

#include <climits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "qforge/core/export.h"
#include "qforge/core/quant_params.h"
#include "qforge/ir/graph.h"
#include "qforge/ir/op_schema.h"
#include "qforge/quantize/quant_config.h"

namespace qforge {

// How one input of a node is quantized.
struct InputQuantSpec {
  enum class Kind {
    kActivation,   // Calibrated range; activation dtype from the config.
    kWeight,       // A constant, quantized symmetric (per-axis or per-tensor).
    kBias,         // A constant, int32 at scale = input scale x weight scale.
    kUnquantized,  // Left as is (shapes, indices, axes, scalars).
  };
  Kind kind = Kind::kActivation;
  // kWeight: the channel axis for per-axis quantization (used when the
  // config asks for per-channel weights).
  int channel_axis = 0;
  // kBias: the inputs whose scales multiply to the bias scale.
  int bias_activation_input = 0;
  int bias_weight_input = 1;

  static InputQuantSpec Activation() { return {}; }
  static InputQuantSpec Weight(int channel_axis) {
    return {.kind = Kind::kWeight, .channel_axis = channel_axis};
  }
  static InputQuantSpec Bias(int activation_input, int weight_input) {
    return {.kind = Kind::kBias,
            .bias_activation_input = activation_input,
            .bias_weight_input = weight_input};
  }
  static InputQuantSpec Unquantized() { return {.kind = Kind::kUnquantized}; }
};

// How one output of a node is quantized.
struct OutputQuantSpec {
  enum class Kind {
    kCalibrated,   // Range from calibration (or a per-tensor override).
    kFixed,        // Fixed parameters, e.g. Sigmoid's 1/256, -128.
    kUnquantized,  // Stays as produced (e.g. Shape's int64 output).
  };
  Kind kind = Kind::kCalibrated;
  // kFixed: scale and zero point for int8 storage; for uint8 the zero point
  // is shifted by +128 (Sigmoid: 1/256 with -128 for int8, 0 for uint8).
  float fixed_scale = 0.0f;
  int64_t fixed_zero_point = 0;

  static OutputQuantSpec Calibrated() { return {}; }
  static OutputQuantSpec Fixed(float scale, int64_t int8_zero_point) {
    return {.kind = Kind::kFixed,
            .fixed_scale = scale,
            .fixed_zero_point = int8_zero_point};
  }
  static OutputQuantSpec Unquantized() { return {.kind = Kind::kUnquantized}; }
};

// A tensor of a node: input or output slot `index`.
struct TensorSlot {
  bool is_output = false;
  int index = 0;
  static TensorSlot Input(int i) { return {false, i}; }
  static TensorSlot Output(int i) { return {true, i}; }
  bool operator==(const TensorSlot&) const = default;
};

struct OpQuantSpec {
  std::vector<InputQuantSpec> inputs;    // One per node input.
  std::vector<OutputQuantSpec> outputs;  // One per node output.
  // Each group names tensors that must share one scale and zero point
  // (Concat, pooling, Reshape, ...). The shared range covers every member.
  std::vector<std::vector<TensorSlot>> shared_scale_groups;
  // Non-empty: the quantizer declines this node, with this reason.
  std::string declined;

  static OpQuantSpec Decline(std::string reason) {
    OpQuantSpec spec;
    spec.declined = std::move(reason);
    return spec;
  }
};

class QuantizeContext;
class Registry;

class QFORGE_EXPORT OpQuantizer {
 public:
  virtual ~OpQuantizer() = default;
  // The spec for `node`. Errors are for malformed nodes; a node the
  // quantizer cannot handle is declined with OpQuantSpec::Decline.
  virtual absl::StatusOr<OpQuantSpec> Spec(const Node& node,
                                           const QuantConfig& config) const = 0;
  // Called after every tensor of the graph has its parameters and before
  // the graph is converted to integer tensors. The default does nothing.
  virtual absl::Status Rewrite(QuantizeContext& ctx, Node& node) const;
};

class QFORGE_EXPORT QuantizerTable {
 public:
  QuantizerTable() = default;
  QuantizerTable(const QuantizerTable&) = delete;
  QuantizerTable& operator=(const QuantizerTable&) = delete;

  // AlreadyExists when a quantizer for `op` overlaps the opset range.
  absl::Status Register(const OpKey& op, std::unique_ptr<OpQuantizer> quantizer,
                        int since_version = 1, int until_version = INT_MAX);
  void Replace(const OpKey& op, std::unique_ptr<OpQuantizer> quantizer,
               int since_version = 1, int until_version = INT_MAX);
  // Removes every quantizer registered for `op`.
  void Remove(const OpKey& op);
  // The quantizer for `op` at `opset` (0: any), or nullptr.
  const OpQuantizer* Find(const OpKey& op, int64_t opset = 0) const;
  // Registered ops as "domain::op_type [since..until]", sorted.
  std::vector<std::string> List() const;

 private:
  struct Entry {
    OpKey op;
    int since_version;
    int until_version;
    std::unique_ptr<OpQuantizer> quantizer;
  };
  // Registry::Transaction: all-or-nothing changes (lib/core/table_transaction.h).
  friend class Registry;
  void BeginTransaction();
  void CommitTransaction();
  void RollbackTransaction();

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  // Snapshots of open transactions, and entries taken out while one is open
  // (kept alive so that a rollback restores the same objects).
  std::vector<std::vector<const Entry*>> txn_snapshots_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Entry>> txn_removed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace qforge

#endif  // QFORGE_QUANTIZE_QUANTIZER_H_
