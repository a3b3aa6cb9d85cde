// The quantization driver: PrepareForQuantization, Calibrate and
// QuantizeWithStats (see include/qforge/quantize/quantize.h).
#include "qforge/quantize/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <regex>
#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "qforge/core/status.h"
#include "qforge/ir/verifier.h"
#include "qforge/quantize/calibration_diagnostics.h"
#include "qforge/quantize/quant_math.h"
#include "qforge/runtime/executor.h"
#include "quantize/activation_storage.h"
#include "quantize/passes.h"

namespace qforge {
namespace {

bool IsWeightedLayer(const Node& node) {
  return node.domain().empty() &&
         (node.op_type() == "Conv" || node.op_type() == "Gemm" ||
          node.op_type() == "MatMul");
}

int64_t OpsetOf(const Graph& graph, const Node& node) {
  const OpKey key = OpKey::Of(node);
  if (key.domain.empty()) return graph.onnx_opset();
  auto it = graph.opsets().find(key.domain);
  return it == graph.opsets().end() ? 0 : it->second;
}

// Why a node stays float because of the config, or "" when it does not.
std::string ExclusionReason(const Node& node, const QuantConfig& config,
                            const Node* first_layer, const Node* last_layer) {
  for (const std::string& n : config.exclude_nodes) {
    if (n == node.name()) return "excluded by name (exclude_nodes)";
  }
  for (const std::string& p : config.exclude_name_patterns) {
    if (std::regex_match(node.name(), std::regex(p))) {
      return absl::StrCat("excluded by pattern '", p, "' (exclude_name_patterns)");
    }
  }
  for (const std::string& op : config.exclude_op_types) {
    if (op == node.op_type() || op == OpKey::Of(node).ToString()) {
      return absl::StrCat("excluded by op type (exclude_op_types: ", op, ")");
    }
  }
  if (config.keep_first_layer_float && &node == first_layer) {
    return "first quantizable layer kept float (keep_first_layer_float)";
  }
  if (config.keep_last_layer_float && &node == last_layer) {
    return "last quantizable layer kept float (keep_last_layer_float)";
  }
  return "";
}

// What the driver decided for one node.
struct NodePlan {
  Node* node = nullptr;
  const OpQuantizer* quantizer = nullptr;
  OpQuantSpec spec;
  bool quantized = false;
  std::string reason;  // Why float, or notes.
};

// Decides, for each node, whether it is quantized and with which spec.
absl::StatusOr<std::vector<NodePlan>> PlanNodes(const Graph& graph,
                                                const QuantConfig& config,
                                                const Registry& registry) {
  QFORGE_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  const Node* first_layer = nullptr;
  const Node* last_layer = nullptr;
  for (Node* n : order) {
    if (!IsWeightedLayer(*n)) continue;
    if (first_layer == nullptr) first_layer = n;
    last_layer = n;
  }
  std::vector<NodePlan> plans;
  for (Node* node : order) {
    NodePlan plan;
    plan.node = node;
    plan.reason = ExclusionReason(*node, config, first_layer, last_layer);
    if (!plan.reason.empty()) {
      plans.push_back(std::move(plan));
      continue;
    }
    const OpKey key = OpKey::Of(*node);
    plan.quantizer = registry.quantizers().Find(key, OpsetOf(graph, *node));
    if (plan.quantizer == nullptr) plan.quantizer = registry.quantizers().Find(key);
    if (plan.quantizer == nullptr) {
      if (config.unknown_op_policy == UnknownOpPolicy::kError) {
        return absl::NotFoundError(absl::StrCat(
            node->Describe(), ": no quantizer is registered for op ", key.ToString(),
            ". Either register a quantizer for it (in code, or load the plugin "
            "that provides it with --plugin), or keep it in float: set "
            "unknown_op_policy: \"keep_float\" or exclude the node "
            "(exclude_nodes: \"",
            node->name(), "\")"));
      }
      plan.reason = absl::StrCat("no quantizer for op ", key.ToString(),
                                 " (unknown_op_policy: keep_float)");
      plans.push_back(std::move(plan));
      continue;
    }
    QFORGE_ASSIGN_OR_RETURN(plan.spec, plan.quantizer->Spec(*node, config));
    if (!plan.spec.declined.empty()) {
      plan.reason = absl::StrCat("declined by its quantizer: ", plan.spec.declined);
      plans.push_back(std::move(plan));
      continue;
    }
    if (plan.spec.inputs.size() != static_cast<size_t>(node->num_inputs()) ||
        plan.spec.outputs.size() != static_cast<size_t>(node->num_outputs())) {
      return absl::InternalError(absl::StrCat(
          node->Describe(), ": its quantizer's spec covers ", plan.spec.inputs.size(),
          " inputs and ", plan.spec.outputs.size(), " outputs; the node has ",
          node->num_inputs(), " and ", node->num_outputs()));
    }
    plan.quantized = true;
    plans.push_back(std::move(plan));
  }
  return plans;
}

// Values whose statistics quantization needs: calibrated activation inputs
// and outputs of quantized nodes (constants excluded: their range is known).
std::vector<const Value*> ValuesToCalibrate(const std::vector<NodePlan>& plans) {
  std::vector<const Value*> out;
  absl::flat_hash_set<const Value*> seen;
  auto add = [&](const Value* v) {
    if (v != nullptr && !v->is_constant() && v->dtype() == DataType::kFloat32 &&
        seen.insert(v).second) {
      out.push_back(v);
    }
  };
  for (const NodePlan& plan : plans) {
    if (!plan.quantized) continue;
    for (int i = 0; i < plan.node->num_inputs(); ++i) {
      const auto kind = plan.spec.inputs[i].kind;
      if (kind == InputQuantSpec::Kind::kActivation ||
          kind == InputQuantSpec::Kind::kWeight) {
        add(plan.node->input(i));
      }
    }
    for (int i = 0; i < plan.node->num_outputs(); ++i) {
      if (plan.spec.outputs[i].kind == OutputQuantSpec::Kind::kCalibrated) {
        add(plan.node->output(i));
      }
    }
  }
  return out;
}

// --- Parameter assignment ------------------------------------------------------

// Union-find over values that must share one scale and zero point.
class ShareGroups {
 public:
  const Value* Find(const Value* v) {
    auto it = parent_.find(v);
    if (it == parent_.end() || it->second == v) return v;
    const Value* root = Find(it->second);
    parent_[v] = root;
    return root;
  }
  void Union(const Value* a, const Value* b) {
    const Value* ra = Find(a);
    const Value* rb = Find(b);
    parent_[ra] = ra;
    if (ra != rb) parent_[rb] = ra;
  }

 private:
  absl::flat_hash_map<const Value*, const Value*> parent_;
};

QuantTarget ActivationTarget(const QuantConfig& config) {
  return config.activation_type == DataType::kUint8 ? QuantTarget::Uint8Activation()
                                                    : QuantTarget::Int8Activation();
}

// int8 symmetric narrow range: [-127, 127], or 7 bits [-63, 63].
QuantTarget WeightTarget(const QuantConfig& config) {
  QuantTarget t = QuantTarget::Int8Weight();
  if (config.weight_range == WeightRange::kReduced) t.bits = 7;
  return t;
}

class Driver final : public QuantizeContext {
 public:
  Driver(Graph graph, const CalibrationStats& stats, const QuantConfig& config,
         const Registry& registry)
      : graph_(std::move(graph)), stats_(stats), config_(config), registry_(registry) {}

  Graph& graph() override { return graph_; }
  const QuantConfig& config() const override { return config_; }
  const Registry& registry() const override { return registry_; }
  const TensorStats* stats(const Value& value) const override {
    return stats_.Find(value.name());
  }
  std::optional<QuantParams> params(const Value& value) const override {
    auto it = params_.find(&value);
    if (it == params_.end()) return std::nullopt;
    return it->second;
  }
  void set_params(Value& value, QuantParams params) override { params_[&value] = std::move(params); }
  void Note(const Node& node, std::string note) override {
    std::string& notes = notes_[node.name()];
    if (!notes.empty()) notes += "; ";
    notes += note;
  }

  absl::Status FoldToConstant(Node& node, const Tensor& value) override;

  absl::StatusOr<QuantizeResult> Run();

 private:
  absl::StatusOr<FloatRange> RangeOf(const Value& v);
  FloatRange LimitToSaturation(const Value& v, FloatRange r);
  absl::StatusOr<QuantParams> OverrideParams(const Value& v);
  absl::Status AssignActivationParams();
  absl::Status AssignWeightAndBiasParams();
  absl::Status Convert();
  void AddFusions();

  Graph graph_;
  const CalibrationStats& stats_;
  const QuantConfig& config_;
  const Registry& registry_;
  std::vector<NodePlan> plans_;
  absl::flat_hash_map<const Value*, QuantParams> params_;
  std::map<std::string, std::string> notes_;
  ShareGroups groups_;
  // Values whose range does not widen their group's (fused producers).
  absl::flat_hash_set<const Value*> range_followers_;
  // Values with parameters fixed by their producer (Sigmoid, Softmax, ...).
  absl::flat_hash_map<const Value*, QuantParams> fixed_;
  // Values some quantized node reads as an activation or produces.
  std::vector<const Value*> activations_;
  // (node, input) pairs reading a weight or bias, with the spec.
  struct ConstantUse {
    Node* node;
    int input;
    InputQuantSpec spec;
  };
  std::vector<ConstantUse> constant_uses_;
  absl::flat_hash_set<const Node*> quantized_nodes_;
  // Outputs that FoldToConstant replaced by constants, with their values.
  std::vector<std::pair<Value*, Tensor>> folded_;
  QuantizeReport report_;
};

absl::Status Driver::FoldToConstant(Node& node, const Tensor& value) {
  Value* out = node.num_outputs() == 1 ? node.output(0) : nullptr;
  if (out == nullptr || !quantized_nodes_.contains(&node)) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": only a quantized node with one output can be "
        "folded to a constant"));
  }
  if (!params_.contains(out)) {
    return absl::FailedPreconditionError(absl::StrCat(
        node.Describe(), ": output '", out->name(),
        "' has no quantization parameters to store the folded constant with"));
  }
  if (value.dtype() != DataType::kFloat32) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": a folded constant must be float32, got ",
        DataTypeName(value.dtype())));
  }
  const Shape& shape = out->shape();
  bool shape_matches = shape.rank_known() && shape.rank() == value.rank();
  for (int d = 0; shape_matches && d < value.rank(); ++d) {
    shape_matches = shape.dim(d).is_static() && shape.dim(d).value == value.dim(d);
  }
  if (!shape_matches) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": folded constant has shape [",
        absl::StrJoin(value.dims(), ","), "] but output '", out->name(),
        "' has shape ", shape.ToString()));
  }
  for (const auto& [v, t] : folded_) {
    if (v == out) return absl::AlreadyExistsError(absl::StrCat(node.Describe(), " is already folded"));
  }
  folded_.emplace_back(out, value);
  Note(node, "folded to a constant at quantization time");
  return absl::OkStatus();
}

absl::StatusOr<FloatRange> Driver::RangeOf(const Value& v) {
  if (v.is_constant()) {
    const Tensor& t = *v.constant();
    FloatRange r{0.0f, 0.0f};
    if (t.dtype() != DataType::kFloat32) {
      return absl::InvalidArgumentError(absl::StrCat(
          "constant '", v.name(), "' is ", DataTypeName(t.dtype()),
          "; only float32 constants are quantized"));
    }
    const auto values = t.values<float>();
    if (!values.empty()) {
      r.min = *std::min_element(values.begin(), values.end());
      r.max = *std::max_element(values.begin(), values.end());
    }
    return r;
  }
  const TensorStats* s = stats_.Find(v.name());
  if (s == nullptr || !s->has_data()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "tensor '", v.name(), "' has no calibration statistics; calibrate the "
        "prepared graph first (were the statistics made for another model?)"));
  }
  return ChooseRange(*s, config_.calibration_method, config_.range);
}

// Input half-width beyond which a quantized Sigmoid / Tanh output with the
// fixed output step `s` no longer changes: sigmoid(x) is within s/2 of 0 or 1
// once |x| >= ln(2/s - 1), tanh(x) within s/2 of -1 or 1 once
// |x| >= ln(4/s - 1) / 2. With the int8 spec's steps (Sigmoid 1/256, Tanh
// 1/128) both are ln 511 (6.24) and ln(511)/2 (3.12). 0 (no limit) for other
// ops or steps too coarse for the formula.
double SaturationHalfWidth(const Node& n, double s) {
  if (!n.domain().empty() || !(s > 0.0) || s >= 1.0) return 0.0;
  if (n.op_type() == "Sigmoid") return std::log(2.0 / s - 1.0);
  if (n.op_type() == "Tanh") return std::log(4.0 / s - 1.0) / 2.0;
  return 0.0;
}

// A value read only by quantized Sigmoid / Tanh nodes with fixed output
// parameters (and not a model output): calibrated values beyond the
// activations' saturation points quantize to the same outputs, so the range
// is limited to [-T, T] (T: the largest of the readers' half-widths) and the
// in-range values get a finer step. (The TFLite converter and ONNX Runtime
// keep the full calibrated range.)
FloatRange Driver::LimitToSaturation(const Value& v, FloatRange r) {
  if (v.is_graph_output() || v.consumers().empty()) return r;
  float half_width = 0.0f;
  for (const Node* c : v.consumers()) {
    if (!quantized_nodes_.contains(c) || c->num_outputs() != 1) return r;
    auto fixed = fixed_.find(c->output(0));
    if (fixed == fixed_.end() || fixed->second.scale.size() != 1) return r;
    const double t = SaturationHalfWidth(*c, fixed->second.scale[0]);
    if (t <= 0.0) return r;
    half_width = std::max(half_width, static_cast<float>(t));
  }
  if (r.min >= -half_width && r.max <= half_width) return r;
  const FloatRange limited{std::clamp(r.min, -half_width, half_width),
                           std::clamp(r.max, -half_width, half_width)};
  for (const Node* c : v.consumers()) {
    Note(*c,
         absl::StrFormat(
             "input '%s' range [%g, %g] limited to [%g, %g], beyond which "
             "the quantized %s output no longer changes",
             v.name(), r.min, r.max, limited.min, limited.max, c->op_type()));
  }
  return limited;
}

absl::StatusOr<QuantParams> Driver::OverrideParams(const Value& v) {
  const TensorOverride& o = config_.tensor_overrides.at(v.name());
  if (o.scale.has_value()) {
    QuantParams p = QuantParams::PerTensor(*o.scale, *o.zero_point, config_.activation_type);
    absl::Status status = p.Validate();
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor override '", v.name(), "': ", status.message()));
    }
    return p;
  }
  return QuantParamsForRange(FloatRange{*o.min, *o.max}, ActivationTarget(config_));
}

// Relu or Clip directly after a quantized producer whose output nothing else
// reads: the producer's output takes the activation's parameters, so the
// quantization itself clamps (what ONNX Runtime and TFLite fuse).
void Driver::AddFusions() {
  for (const NodePlan& plan : plans_) {
    const Node& n = *plan.node;
    if (!plan.quantized || !n.domain().empty() ||
        (n.op_type() != "Relu" && n.op_type() != "Clip")) {
      continue;
    }
    const Value* in = n.input(0);
    const Value* out = n.output(0);
    if (in == nullptr || out == nullptr || in->producer() == nullptr ||
        in->is_graph_output() || in->consumers().size() != 1 ||
        !quantized_nodes_.contains(in->producer()) || fixed_.contains(in)) {
      continue;
    }
    groups_.Union(out, in);
    range_followers_.insert(in);
    Note(n, absl::StrCat("fused into the output range of ", in->producer()->Describe()));
  }
}

absl::Status Driver::AssignActivationParams() {
  // Collect activations, fixed outputs and shared groups.
  absl::flat_hash_set<const Value*> seen;
  auto add = [&](const Value* v) {
    if (v != nullptr && seen.insert(v).second) activations_.push_back(v);
  };
  for (NodePlan& plan : plans_) {
    if (!plan.quantized) continue;
    Node& n = *plan.node;
    for (int i = 0; i < n.num_inputs(); ++i) {
      const Value* v = n.input(i);
      if (v == nullptr) continue;
      const InputQuantSpec& in = plan.spec.inputs[i];
      if (in.kind == InputQuantSpec::Kind::kActivation) {
        add(v);
      } else if (in.kind == InputQuantSpec::Kind::kWeight) {
        if (v->is_constant()) {
          constant_uses_.push_back({&n, i, in});
        } else {
          add(v);  // A dynamic "weight" (e.g. MatMul of two activations).
        }
      } else if (in.kind == InputQuantSpec::Kind::kBias) {
        if (!v->is_constant()) {
          return absl::InvalidArgumentError(absl::StrCat(
              n.Describe(), ": bias input '", v->name(), "' must be a constant"));
        }
        constant_uses_.push_back({&n, i, in});
      }
    }
    for (int i = 0; i < n.num_outputs(); ++i) {
      const Value* v = n.output(i);
      if (v == nullptr) continue;
      const OutputQuantSpec& out = plan.spec.outputs[i];
      if (out.kind == OutputQuantSpec::Kind::kUnquantized) continue;
      add(v);
      if (out.kind == OutputQuantSpec::Kind::kFixed) {
        int64_t zp = out.fixed_zero_point;
        if (config_.activation_type == DataType::kUint8) zp += 128;
        fixed_[v] = QuantParams::PerTensor(out.fixed_scale, zp, config_.activation_type);
      }
    }
  }
  AddFusions();

  // Shared-scale groups. A member with fixed parameters joins its group only
  // when every other member's range fits them; otherwise a requantizing
  // Identity decouples it (e.g. a Sigmoid feeding a Concat of wider inputs).
  for (NodePlan& plan : plans_) {
    if (!plan.quantized) continue;
    Node& n = *plan.node;
    for (const std::vector<TensorSlot>& group : plan.spec.shared_scale_groups) {
      std::vector<const Value*> members;
      for (const TensorSlot& slot : group) {
        const Value* v = slot.is_output ? n.output(slot.index) : n.input(slot.index);
        if (v != nullptr) members.push_back(v);
      }
      if (members.size() < 2) continue;
      // Does some member's range not fit a fixed member's parameters?
      for (size_t m = 0; m < members.size(); ++m) {
        auto fixed = fixed_.find(members[m]);
        if (fixed == fixed_.end()) continue;
        const QuantParams& p = fixed->second;
        const float lo = p.scale[0] * (p.qmin() - p.zero_point[0]);
        const float hi = p.scale[0] * (p.qmax() - p.zero_point[0]);
        bool fits = true;
        for (const Value* other : members) {
          if (other == members[m] || fixed_.contains(other)) continue;
          absl::StatusOr<FloatRange> r = RangeOf(*other);
          if (!r.ok() || r->min < lo - p.scale[0] || r->max > hi + p.scale[0]) fits = false;
        }
        if (fits) continue;
        // Requantize: the fixed value feeds a new Identity whose output joins.
        Value* source = const_cast<Value*>(members[m]);
        const bool is_input = !group.empty();
        int slot_index = -1;
        for (int i = 0; i < n.num_inputs(); ++i) {
          if (n.input(i) == source) slot_index = i;
        }
        if (!is_input || slot_index < 0) continue;  // Fixed outputs stay.
        Value* requantized = graph_.AddValue(absl::StrCat(source->name(), "_requantized"),
                                             source->dtype(), source->shape());
        QFORGE_ASSIGN_OR_RETURN(
            Node * identity,
            graph_.AddNode({.name = absl::StrCat(n.name(), "_requantize_", slot_index),
                            .op_type = "Identity",
                            .inputs = {source},
                            .outputs = {requantized}}));
        for (int i = 0; i < n.num_inputs(); ++i) {
          if (n.input(i) == source) n.SetInput(i, requantized);
        }
        quantized_nodes_.insert(identity);
        range_followers_.insert(requantized);
        activations_.push_back(requantized);
        Note(n, absl::StrCat("input '", source->name(),
                             "' requantized to share the group's scale"));
        members[m] = requantized;
      }
      for (size_t m = 1; m < members.size(); ++m) groups_.Union(members[0], members[m]);
    }
  }

  // One range (or fixed/override parameters) per group.
  struct GroupState {
    std::optional<FloatRange> range;
    std::optional<QuantParams> pinned;
    std::string pinned_by;
  };
  absl::flat_hash_map<const Value*, GroupState> state;
  for (const Value* v : activations_) {
    GroupState& g = state[groups_.Find(v)];
    auto fixed = fixed_.find(v);
    if (fixed != fixed_.end() || config_.tensor_overrides.contains(v->name())) {
      QuantParams p;
      if (fixed != fixed_.end()) {
        p = fixed->second;
      } else {
        QFORGE_ASSIGN_OR_RETURN(p, OverrideParams(*v));
      }
      if (g.pinned.has_value() && !(*g.pinned == p)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "tensors '", g.pinned_by, "' and '", v->name(),
            "' must share one scale but have different fixed parameters (",
            g.pinned->ToString(), " vs ", p.ToString(), ")"));
      }
      g.pinned = p;
      g.pinned_by = v->name();
      continue;
    }
    if (range_followers_.contains(v)) continue;
    QFORGE_ASSIGN_OR_RETURN(FloatRange r, RangeOf(*v));
    r = LimitToSaturation(*v, r);
    if (g.range.has_value()) {
      g.range->min = std::min(g.range->min, r.min);
      g.range->max = std::max(g.range->max, r.max);
    } else {
      g.range = r;
    }
  }
  for (const Value* v : activations_) {
    GroupState& g = state[groups_.Find(v)];
    QuantParams p;
    if (g.pinned.has_value()) {
      p = *g.pinned;
    } else {
      FloatRange r = g.range.value_or(FloatRange{0.0f, 0.0f});
      if (!g.range.has_value()) {
        // Only followers: take the follower's own range.
        QFORGE_ASSIGN_OR_RETURN(r, RangeOf(*v));
        r = LimitToSaturation(*v, r);
      }
      QFORGE_ASSIGN_OR_RETURN(p, QuantParamsForRange(r, ActivationTarget(config_)));
    }
    params_[v] = std::move(p);
  }
  return absl::OkStatus();
}

absl::Status Driver::AssignWeightAndBiasParams() {
  // Weights first: biases need them.
  for (const ConstantUse& use : constant_uses_) {
    if (use.spec.kind != InputQuantSpec::Kind::kWeight) continue;
    Value* w = use.node->input(use.input);
    const Tensor& t = *w->constant();
    if (t.dtype() != DataType::kFloat32) {
      return absl::InvalidArgumentError(absl::StrCat(
          use.node->Describe(), ": weight '", w->name(), "' is ",
          DataTypeName(t.dtype()), ", expected float32"));
    }
    int axis = config_.per_channel_weights ? use.spec.channel_axis : -1;
    if (axis < 0 && config_.per_channel_weights) axis += t.rank();
    if (axis >= t.rank()) axis = -1;
    QFORGE_ASSIGN_OR_RETURN(QuantParams p, WeightQuantParams(t, axis, WeightTarget(config_),
                                                             w->name()));
    // Reduced-range weights are ordinary int8 tensors whose values lie in
    // [-63, 63]: `bits` stays 8, as a QDQ file (which has no bit width) reads
    // back, so that export and import round-trip exactly.
    p.bits = 8;
    auto it = params_.find(w);
    if (it != params_.end() && !(it->second == p)) {
      return absl::UnimplementedError(absl::StrCat(
          "weight '", w->name(), "' is read by several nodes that quantize it "
          "differently"));
    }
    params_[w] = std::move(p);
  }
  for (const ConstantUse& use : constant_uses_) {
    if (use.spec.kind != InputQuantSpec::Kind::kBias) continue;
    Node& n = *use.node;
    Value* b = n.input(use.input);
    const Value* x = n.input(use.spec.bias_activation_input);
    Value* w = n.input(use.spec.bias_weight_input);
    auto xp = params_.find(x);
    auto wp = params_.find(w);
    if (x == nullptr || w == nullptr || xp == params_.end() || wp == params_.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          n.Describe(), ": bias '", b->name(),
          "' needs quantized activation and weight inputs"));
    }
    const Tensor& bt = *b->constant();
    if (bt.dtype() != DataType::kFloat32) {
      return absl::InvalidArgumentError(absl::StrCat(
          n.Describe(), ": bias '", b->name(), "' is ", DataTypeName(bt.dtype()),
          ", expected float32"));
    }
    QuantParams& wq = wp->second;
    const float sx = xp->second.scale[0];
    const int64_t channels = bt.num_elements();
    if (wq.scale.size() != 1 && static_cast<int64_t>(wq.scale.size()) != channels) {
      return absl::InvalidArgumentError(absl::StrCat(
          n.Describe(), ": bias '", b->name(), "' has ", channels,
          " elements but weight '", w->name(), "' has ", wq.scale.size(), " channel scales"));
    }
    // A bias that would overflow int32 raises its channel's weight scale.
    constexpr double kInt32Max = 2147483647.0;
    bool raised = false;
    for (int64_t c = 0; c < channels; ++c) {
      float& sw = wq.scale[wq.scale.size() == 1 ? 0 : c];
      const double needed = std::fabs(bt.data<float>()[c]) / (kInt32Max * sx);
      if (static_cast<double>(sw) < needed) {
        Note(n, absl::StrCat("weight scale of channel ", c, " raised from ", sw, " to ",
                             needed, " so that bias '", b->name(), "' fits in int32"));
        sw = static_cast<float>(needed * (1.0 + 1e-6));
        raised = true;
      }
    }
    (void)raised;
    std::vector<float> scales;
    for (int64_t c = 0; c < channels; ++c) {
      scales.push_back(sx * wq.scale[wq.scale.size() == 1 ? 0 : c]);
    }
    params_[b] = channels == 1 && wq.scale.size() == 1
                     ? QuantParams::PerTensor(scales[0], 0, DataType::kInt32)
                     : QuantParams::PerAxis(scales, std::vector<int64_t>(channels, 0), 0,
                                            DataType::kInt32);
  }
  return absl::OkStatus();
}

// Quantizes a float constant to `p` (round half to even, saturating).
Tensor QuantizeConstant(const Tensor& t, const QuantParams& p) {
  Tensor q(p.storage, t.dims());
  const float* x = t.data<float>();
  const int64_t n = t.num_elements();
  int64_t inner = 1;
  int64_t channels = 1;
  if (p.axis >= 0) {
    channels = t.dim(p.axis);
    for (int d = p.axis + 1; d < t.rank(); ++d) inner *= t.dim(d);
  }
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = p.axis >= 0 ? (i / inner) % channels : 0;
    const double v = std::nearbyint(static_cast<double>(x[i]) / p.scale[c]) + p.zero_point[c];
    const double clamped = std::clamp(v, static_cast<double>(p.qmin()), static_cast<double>(p.qmax()));
    switch (p.storage) {
      case DataType::kInt8: q.data<int8_t>()[i] = static_cast<int8_t>(clamped); break;
      case DataType::kUint8: q.data<uint8_t>()[i] = static_cast<uint8_t>(clamped); break;
      case DataType::kInt16: q.data<int16_t>()[i] = static_cast<int16_t>(clamped); break;
      case DataType::kInt32: q.data<int32_t>()[i] = static_cast<int32_t>(clamped); break;
      default: break;
    }
  }
  q.set_quant(p);
  return q;
}

Value* ScaleConstant(Graph& g, const std::string& base, const QuantParams& p) {
  if (p.axis < 0) return g.AddConstant(absl::StrCat(base, "_scale"), Tensor::Scalar<float>(p.scale[0]));
  const int64_t n = static_cast<int64_t>(p.scale.size());
  return g.AddConstant(absl::StrCat(base, "_scale"), Tensor::FromVector<float>({n}, p.scale));
}

Value* ZeroPointConstant(Graph& g, const std::string& base, const QuantParams& p) {
  const int64_t n = static_cast<int64_t>(p.zero_point.size());
  Tensor zp(p.storage, p.axis < 0 ? std::vector<int64_t>{} : std::vector<int64_t>{n});
  for (int64_t i = 0; i < zp.num_elements(); ++i) {
    if (p.storage == DataType::kUint8) {
      zp.data<uint8_t>()[i] = static_cast<uint8_t>(p.zero_point[i]);
    } else if (p.storage == DataType::kInt8) {
      zp.data<int8_t>()[i] = static_cast<int8_t>(p.zero_point[i]);
    } else {
      zp.data<int32_t>()[i] = static_cast<int32_t>(p.zero_point[i]);
    }
  }
  return g.AddConstant(absl::StrCat(base, "_zero_point"), std::move(zp));
}

absl::Status Driver::Convert() {
  // Constants: quantized copies, read only by the quantized nodes.
  for (const ConstantUse& use : constant_uses_) {
    Value* v = use.node->input(use.input);
    if (v->constant()->dtype() != DataType::kFloat32) continue;  // Already done.
    const QuantParams& p = params_.at(v);
    Value* q = graph_.AddConstant(absl::StrCat(v->name(), "_quantized"),
                                  QuantizeConstant(*v->constant(), p));
    q->set_quant(p);
    use.node->SetInput(use.input, q);
    for (ConstantUse& other : constant_uses_) {
      if (other.node->input(other.input) == v) other.node->SetInput(other.input, q);
    }
  }
  // Activations. `quantized_of` maps a float value to its integer twin.
  absl::flat_hash_map<const Value*, Value*> quantized_of;
  for (const Value* cv : activations_) {
    Value* v = const_cast<Value*>(cv);
    const QuantParams& p = params_.at(v);
    Node* producer = v->producer();
    const bool produced_quantized = producer != nullptr && quantized_nodes_.contains(producer);
    if (v->is_constant()) {
      // A constant read as an activation (e.g. an Add operand).
      Value* q = graph_.AddConstant(absl::StrCat(v->name(), "_quantized"),
                                    QuantizeConstant(*v->constant(), p));
      q->set_quant(p);
      quantized_of[v] = q;
      continue;
    }
    if (produced_quantized) {
      // The producer writes integers directly; float readers get a
      // DequantizeLinear. The integer value keeps the name, except for graph
      // outputs, whose name belongs to the float value the user sees.
      std::vector<Node*> float_readers;
      for (Node* c : v->consumers()) {
        if (!quantized_nodes_.contains(c)) float_readers.push_back(c);
      }
      const bool needs_float = !float_readers.empty() || v->is_graph_output();
      if (needs_float) {
        const std::string name = v->name();
        Value* f = graph_.AddValue(absl::StrCat(name, "_dequantized"), DataType::kFloat32,
                                   v->shape());
        for (Node* c : float_readers) {
          for (int i = 0; i < c->num_inputs(); ++i) {
            if (c->input(i) == v) c->SetInput(i, f);
          }
        }
        if (v->is_graph_output()) {
          std::vector<Value*> outs = graph_.outputs();
          for (Value*& o : outs) {
            if (o == v) o = f;
          }
          graph_.SetOutputs(outs);
          QFORGE_RETURN_IF_ERROR(graph_.RenameValue(v, absl::StrCat(name, "_quantized")));
          QFORGE_RETURN_IF_ERROR(graph_.RenameValue(f, name));
        }
        QFORGE_RETURN_IF_ERROR(
            graph_.AddNode({.name = absl::StrCat(v->name(), "_DequantizeLinear"),
                            .op_type = "DequantizeLinear",
                            .inputs = {v, ScaleConstant(graph_, v->name(), p),
                                       ZeroPointConstant(graph_, v->name(), p)},
                            .outputs = {f}})
                .status());
      }
      v->set_dtype(p.storage);
      v->set_quant(p);
      quantized_of[v] = v;
    } else {
      // A float value (graph input, or output of a node kept float) read by
      // quantized nodes: they read a QuantizeLinear of it.
      Value* q = graph_.AddValue(absl::StrCat(v->name(), "_quantized"), p.storage, v->shape());
      q->set_quant(p);
      QFORGE_RETURN_IF_ERROR(
          graph_.AddNode({.name = absl::StrCat(v->name(), "_QuantizeLinear"),
                          .op_type = "QuantizeLinear",
                          .inputs = {v, ScaleConstant(graph_, q->name(), p),
                                     ZeroPointConstant(graph_, q->name(), p)},
                          .outputs = {q}})
              .status());
      quantized_of[v] = q;
    }
  }
  // Quantized nodes read the integer twins.
  for (const Node* cn : quantized_nodes_) {
    Node* n = const_cast<Node*>(cn);
    for (int i = 0; i < n->num_inputs(); ++i) {
      auto it = quantized_of.find(n->input(i));
      if (it != quantized_of.end() && it->second != n->input(i)) n->SetInput(i, it->second);
    }
  }
  // Folded outputs: already wired as quantized values; their producers go
  // and the values become quantized constants.
  for (auto& [v, value] : folded_) {
    Node* producer = v->producer();
    const QuantParams& p = params_.at(v);
    if (producer != nullptr) {
      quantized_nodes_.erase(producer);
      graph_.RemoveNode(producer);
    }
    v->set_constant(QuantizeConstant(value, p));
    v->set_quant(p);
  }
  QFORGE_RETURN_IF_ERROR(graph_.TopologicalSort());
  graph_.RemoveDeadNodes();
  return absl::OkStatus();
}

int64_t ParameterBytes(const Graph& g) {
  int64_t bytes = 0;
  for (const Value* v : g.values()) {
    if (v->is_constant() && !v->consumers().empty()) bytes += v->constant()->num_bytes();
  }
  return bytes;
}

absl::StatusOr<QuantizeResult> Driver::Run() {
  QFORGE_RETURN_IF_ERROR(config_.Validate());
  report_.float_parameter_bytes = ParameterBytes(graph_);
  QFORGE_ASSIGN_OR_RETURN(plans_, PlanNodes(graph_, config_, registry_));
  for (const NodePlan& plan : plans_) {
    if (plan.quantized) quantized_nodes_.insert(plan.node);
  }
  QFORGE_RETURN_IF_ERROR(AssignActivationParams());
  QFORGE_RETURN_IF_ERROR(AssignWeightAndBiasParams());
  for (const NodePlan& plan : plans_) {
    if (plan.quantized) QFORGE_RETURN_IF_ERROR(plan.quantizer->Rewrite(*this, *plan.node));
  }
  // Report entries before conversion renames anything.
  for (const NodePlan& plan : plans_) {
    QuantizeReport::NodeEntry e;
    e.node = plan.node->name();
    e.op = OpKey::Of(*plan.node).ToString();
    e.quantized = plan.quantized;
    e.reason = plan.reason;
    auto note = notes_.find(e.node);
    if (note != notes_.end()) {
      e.reason = e.reason.empty() ? note->second : absl::StrCat(e.reason, "; ", note->second);
    }
    e.origins = plan.node->origins();
    report_.nodes.push_back(std::move(e));
  }
  QFORGE_RETURN_IF_ERROR(Convert());
  if (config_.activation_type == DataType::kUint8) {
    // Executed as int8 (zero point - 128); the QDQ export writes uint8 again.
    QFORGE_RETURN_IF_ERROR(
        internal::ConvertActivationStorage(graph_, DataType::kUint8, DataType::kInt8).status());
    graph_.set_metadata(internal::kActivationTypeKey, "uint8");
  }
  QFORGE_RETURN_IF_ERROR(VerifyGraph(graph_, registry_.schemas()));
  graph_.set_metadata("qforge.arithmetic_profile", ArithmeticProfileName(config_.profile));
  report_.quantized_parameter_bytes = ParameterBytes(graph_);
  CalibrationDiagnostics diagnostics;
  for (const CalibrationWarning& w : diagnostics.Check(stats_)) {
    report_.warnings.push_back(w.message);
  }
  for (const auto& [name, s] : stats_.tensors()) {
    report_.num_calibration_samples = std::max(report_.num_calibration_samples, s.num_samples());
  }
  return QuantizeResult{std::move(graph_), std::move(report_)};
}

}  // namespace

absl::StatusOr<Graph> PrepareForQuantization(const Graph& model, const QuantConfig& config,
                                             const Registry& registry) {
  QFORGE_RETURN_IF_ERROR(config.Validate());
  Graph g = model.Clone();
  QFORGE_RETURN_IF_ERROR(VerifyGraph(g, registry.schemas()));
  QFORGE_RETURN_IF_ERROR(internal::ResolveOpAliases(g, config.op_aliases).status());
  QFORGE_RETURN_IF_ERROR(internal::FoldConstants(g, registry).status());
  QFORGE_RETURN_IF_ERROR(internal::FoldBatchNormalization(g).status());
  // GELU written out with Erf becomes one Gelu node only when a quantizer
  // for Gelu is registered (the erf plugin): the fused node then quantizes
  // as one table. Without one, fusing would only turn quantizable Mul/Add
  // nodes into an op that stays float, so the graph is left as written.
  // A pattern with a node the config excludes stays as written.
  if (registry.quantizers().Find(OpKey{"", "Gelu"}) != nullptr) {
    auto excluded = [&config](const Node& node) {
      return !ExclusionReason(node, config, nullptr, nullptr).empty();
    };
    QFORGE_RETURN_IF_ERROR(internal::FuseErfGelu(g, excluded).status());
  }
  QFORGE_RETURN_IF_ERROR(VerifyGraph(g, registry.schemas()));
  return g;
}

absl::StatusOr<CalibrationStats> Calibrate(const Graph& prepared, const CalibrationData& data,
                                           const QuantConfig& config, const Registry& registry,
                                           int64_t begin, int64_t end,
                                           const ProgressCallback& progress) {
  QFORGE_RETURN_IF_ERROR(config.Validate());
  if (end < 0) end = data.num_samples();
  if (begin < 0 || begin > end || end > data.num_samples()) {
    return absl::OutOfRangeError(absl::StrCat("calibration samples [", begin, ", ", end,
                                              ") are outside [0, ", data.num_samples(), ")"));
  }
  if (begin == end) {
    return absl::FailedPreconditionError("calibration needs at least one sample");
  }
  QFORGE_ASSIGN_OR_RETURN(std::vector<NodePlan> plans, PlanNodes(prepared, config, registry));
  std::vector<const Value*> wanted = ValuesToCalibrate(plans);
  RunOptions options;
  absl::flat_hash_set<std::string> wanted_names;
  for (const Value* v : wanted) {
    options.fetch.push_back(v->name());
    wanted_names.insert(v->name());
  }
  QFORGE_ASSIGN_OR_RETURN(CalibrationStats stats, CalibrationStats::Create(config.observer));
  if (wanted.empty()) return stats;
  ExecutorOptions exec_options;
  exec_options.outputs = options.fetch;
  QFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Executor> executor,
                          Executor::Prepare(prepared, registry, exec_options));
  options.observer = [&](const Node&, const Value& v, const Tensor& t) -> absl::Status {
    if (!wanted_names.contains(v.name()) || t.dtype() != DataType::kFloat32) {
      return absl::OkStatus();
    }
    return stats.Update(v.name(), t);
  };
  // Graph inputs are not produced by a node: observe them directly.
  std::vector<const Value*> wanted_inputs;
  for (const Value* in : prepared.inputs()) {
    if (wanted_names.contains(in->name())) wanted_inputs.push_back(in);
  }
  for (int64_t i = begin; i < end; ++i) {
    QFORGE_ASSIGN_OR_RETURN(TensorMap sample, data.Sample(i));
    for (const Value* in : wanted_inputs) {
      auto it = sample.find(in->name());
      if (it != sample.end()) QFORGE_RETURN_IF_ERROR(stats.Update(in->name(), it->second));
    }
    absl::StatusOr<TensorMap> out = executor->Run(sample, options);
    if (!out.ok()) {
      return absl::Status(out.status().code(),
                          absl::StrCat("calibration sample ", i, ": ", out.status().message()));
    }
    if (progress) progress(i - begin + 1, end - begin);
  }
  return stats;
}

absl::StatusOr<QuantizeResult> QuantizeWithStats(const Graph& prepared,
                                                 const CalibrationStats& stats,
                                                 const QuantConfig& config,
                                                 const Registry& registry) {
  Driver driver(prepared.Clone(), stats, config, registry);
  return driver.Run();
}

absl::StatusOr<QuantizeResult> Quantize(const Graph& model, const CalibrationData& data,
                                        const QuantConfig& config, const Registry& registry,
                                        const ProgressCallback& progress) {
  QFORGE_ASSIGN_OR_RETURN(Graph prepared, PrepareForQuantization(model, config, registry));
  QFORGE_ASSIGN_OR_RETURN(CalibrationStats stats,
                          Calibrate(prepared, data, config, registry, 0, -1, progress));
  QFORGE_ASSIGN_OR_RETURN(QuantizeResult result,
                          QuantizeWithStats(prepared, stats, config, registry));
  for (const std::string& w : data.warnings()) result.report.warnings.push_back(w);
  return result;
}

}  // namespace qforge
