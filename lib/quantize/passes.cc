#include "quantize/passes.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "qforge/core/status.h"

namespace qforge::internal {
namespace {

std::string QualifiedName(const Node& node) {
  return node.domain().empty() || node.domain() == "ai.onnx"
             ? node.op_type()
             : absl::StrCat(node.domain(), "::", node.op_type());
}

// The float32 data of a constant input, or an error naming the node.
absl::StatusOr<const Tensor*> ConstantFloat(const Node& node, int i,
                                            int64_t expected_elements) {
  const Value* v = node.input(i);
  if (v == nullptr || !v->is_constant() ||
      v->constant()->dtype() != DataType::kFloat32) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": input ", i, " must be a float32 constant to fold"));
  }
  if (expected_elements >= 0 && v->constant()->num_elements() != expected_elements) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": input ", i, " '", v->name(), "' has ",
        v->constant()->num_elements(), " elements, expected ", expected_elements));
  }
  return v->constant();
}

// Per-channel multiplier g / sqrt(v + eps) and shift beta - m * multiplier.
struct Affine {
  std::vector<float> scale;
  std::vector<float> shift;
};

absl::StatusOr<Affine> BatchNormAffine(const Node& bn, int64_t channels) {
  QFORGE_ASSIGN_OR_RETURN(float epsilon, bn.GetFloat("epsilon", 1e-5f));
  QFORGE_ASSIGN_OR_RETURN(int64_t training, bn.GetInt("training_mode", 0));
  if (training != 0) {
    return absl::UnimplementedError(
        absl::StrCat(bn.Describe(), ": training_mode=1 cannot be folded"));
  }
  QFORGE_ASSIGN_OR_RETURN(const Tensor* gamma, ConstantFloat(bn, 1, channels));
  QFORGE_ASSIGN_OR_RETURN(const Tensor* beta, ConstantFloat(bn, 2, channels));
  QFORGE_ASSIGN_OR_RETURN(const Tensor* mean, ConstantFloat(bn, 3, channels));
  QFORGE_ASSIGN_OR_RETURN(const Tensor* var, ConstantFloat(bn, 4, channels));
  Affine a;
  for (int64_t c = 0; c < channels; ++c) {
    const double m = static_cast<double>(gamma->data<float>()[c]) /
                     std::sqrt(static_cast<double>(var->data<float>()[c]) + epsilon);
    a.scale.push_back(static_cast<float>(m));
    a.shift.push_back(static_cast<float>(beta->data<float>()[c] -
                                         mean->data<float>()[c] * m));
  }
  return a;
}

// Makes `keep` produce `bn`'s output value: `keep`'s old output is dropped.
absl::Status TakeOverOutput(Graph& graph, Node* keep, Node* bn) {
  Value* old_out = keep->output(0);
  Value* bn_out = bn->output(0);
  const std::string name = bn_out->name();
  const std::string bn_name = bn->name();
  graph.ReplaceAllUses(bn_out, old_out);
  graph.RemoveNode(bn);
  graph.RemoveDeadNodes();
  QFORGE_RETURN_IF_ERROR(graph.RenameValue(old_out, name));
  if (keep->origins().empty()) keep->add_origin(keep->name());
  keep->add_origin(bn_name);
  return absl::OkStatus();
}

absl::Status FoldIntoConv(Graph& graph, Node* conv, Node* bn) {
  const Value* w = conv->input(1);
  const Tensor& wt = *w->constant();
  const int64_t out_channels = wt.dim(0);
  QFORGE_ASSIGN_OR_RETURN(Affine a, BatchNormAffine(*bn, out_channels));
  Tensor new_w = wt;
  const int64_t per_channel = wt.num_elements() / std::max<int64_t>(out_channels, 1);
  for (int64_t o = 0; o < out_channels; ++o) {
    float* row = new_w.data<float>() + o * per_channel;
    for (int64_t k = 0; k < per_channel; ++k) row[k] *= a.scale[o];
  }
  Tensor new_b(DataType::kFloat32, {out_channels});
  const Value* b = conv->input(2);
  for (int64_t o = 0; o < out_channels; ++o) {
    const float old_b = b != nullptr ? b->constant()->data<float>()[o] : 0.0f;
    new_b.data<float>()[o] = old_b * a.scale[o] + a.shift[o];
  }
  conv->SetInput(1, graph.AddConstant(absl::StrCat(w->name(), "_bn_folded"), std::move(new_w)));
  conv->SetInput(2, graph.AddConstant(absl::StrCat(conv->name(), "_bias_bn_folded"),
                                      std::move(new_b)));
  return TakeOverOutput(graph, conv, bn);
}

absl::Status BatchNormToDepthwiseConv(Graph& graph, Node* bn, int64_t channels) {
  QFORGE_ASSIGN_OR_RETURN(Affine a, BatchNormAffine(*bn, channels));
  Value* x = bn->input(0);
  Value* y = bn->output(0);
  const std::string name = bn->name();
  Value* w = graph.AddConstant(absl::StrCat(name, "_scale"),
                               Tensor::FromVector<float>({channels, 1, 1, 1}, a.scale));
  Value* b = graph.AddConstant(absl::StrCat(name, "_shift"),
                               Tensor::FromVector<float>({channels}, a.shift));
  const Layout layout = bn->layout();
  graph.RemoveNode(bn);
  QFORGE_ASSIGN_OR_RETURN(
      Node * conv,
      graph.AddNode({.name = name,
                     .op_type = "Conv",
                     .inputs = {x, w, b},
                     .outputs = {y},
                     .attributes = {{"group", channels},
                                    {"kernel_shape", std::vector<int64_t>{1, 1}}}}));
  conv->set_layout(layout);
  conv->add_origin(name);
  return absl::OkStatus();
}

bool IsFoldableConv(const Node* n) {
  if (n == nullptr || n->op_type() != "Conv" || !n->domain().empty()) {
    return false;
  }
  const Value* w = n->input(1);
  if (w == nullptr || !w->is_constant() || w->constant()->dtype() != DataType::kFloat32 ||
      w->constant()->rank() < 3) {
    return false;
  }
  const Value* b = n->input(2);
  if (b != nullptr && (!b->is_constant() || b->constant()->dtype() != DataType::kFloat32 ||
                       b->constant()->num_elements() != w->constant()->dim(0))) {
    return false;
  }
  const Value* out = n->output(0);
  return out != nullptr && out->consumers().size() == 1 && !out->is_graph_output();
}

// --- GELU fusion -------------------------------------------------------------

bool IsDefaultOp(const Node* n, const char* op) {
  return n != nullptr && n->op_type() == op &&
         (n->domain().empty() || n->domain() == "ai.onnx");
}

// A one-element float32 constant within a relative 1e-4 of `target`, whose
// rank does not exceed `x`'s (broadcasting it does not change x's shape).
bool IsScalarNear(const Value* v, double target, const Value* x) {
  if (v == nullptr || !v->is_constant()) return false;
  const Tensor* t = v->constant();
  if (t->dtype() != DataType::kFloat32 || t->num_elements() != 1) return false;
  if (t->rank() > 0 &&
      (!x->shape().rank_known() || t->rank() > x->shape().rank())) {
    return false;
  }
  const double c = t->data<float>()[0];
  return std::abs(c - target) <= 1e-4 * std::abs(target);
}

// The only consumer of `v` if it has exactly one use and is not a graph
// output, else nullptr.
Node* SoleConsumer(const Value* v) {
  if (v == nullptr || v->is_graph_output() || v->consumers().size() != 1) {
    return nullptr;
  }
  return v->consumers()[0];
}

// For a two-input node, the input that is not `operand` (nullptr when
// `operand` is not an input).
Value* OtherInput(const Node* n, const Value* operand) {
  if (n->num_inputs() != 2) return nullptr;
  if (n->input(0) == operand) return n->input(1);
  if (n->input(1) == operand) return n->input(0);
  return nullptr;
}

// A binary Mul/Add of `operand` with a constant near `target`.
bool IsOpWithConstant(const Node* n, const char* op, const Value* operand,
                      double target, const Value* x) {
  if (!IsDefaultOp(n, op)) return false;
  return IsScalarNear(OtherInput(n, operand), target, x);
}

struct GeluMatch {
  Value* x = nullptr;
  Value* y = nullptr;
  std::vector<Node*> nodes;  // In pattern order; the last produces y.
};

std::optional<GeluMatch> MatchErfGelu(Node* erf) {
  constexpr double kSqrt2 = 1.4142135623730950488;
  constexpr double kInvSqrt2 = 0.70710678118654752440;
  if (!IsDefaultOp(erf, "Erf") || erf->num_inputs() != 1 ||
      erf->num_outputs() != 1) {
    return std::nullopt;
  }
  Value* scaled = erf->input(0);
  if (scaled == nullptr || SoleConsumer(scaled) != erf) return std::nullopt;
  Node* div = scaled->producer();
  if (div == nullptr || div->num_inputs() != 2 || div->num_outputs() != 1) {
    return std::nullopt;
  }
  GeluMatch m;
  if (IsDefaultOp(div, "Div")) {
    m.x = div->input(0);
    if (m.x == nullptr || !IsScalarNear(div->input(1), kSqrt2, m.x)) {
      return std::nullopt;
    }
  } else if (IsDefaultOp(div, "Mul")) {
    for (int i = 0; i < 2 && m.x == nullptr; ++i) {
      Value* cand = div->input(i);
      if (cand != nullptr && !cand->is_constant() &&
          IsScalarNear(div->input(1 - i), kInvSqrt2, cand)) {
        m.x = cand;
      }
    }
    if (m.x == nullptr) return std::nullopt;
  } else {
    return std::nullopt;
  }
  const Value* x = m.x;
  if (x->dtype() != DataType::kFloat32 || x->is_constant()) return std::nullopt;

  // 1 + erf(...)
  Node* add = SoleConsumer(erf->output(0));
  if (add == nullptr || add->num_outputs() != 1 ||
      !IsOpWithConstant(add, "Add", erf->output(0), 1.0, x)) {
    return std::nullopt;
  }
  Value* sum = add->output(0);
  Node* mul1 = SoleConsumer(sum);
  if (mul1 == nullptr || !IsDefaultOp(mul1, "Mul") ||
      mul1->num_outputs() != 1) {
    return std::nullopt;
  }
  Value* other = OtherInput(mul1, sum);
  if (other == nullptr) return std::nullopt;
  m.nodes = {div, erf, add};
  if (other == x) {
    // (x * sum) * 0.5
    Node* mul2 = SoleConsumer(mul1->output(0));
    if (mul2 == nullptr || mul2->num_outputs() != 1 ||
        !IsOpWithConstant(mul2, "Mul", mul1->output(0), 0.5, x)) {
      return std::nullopt;
    }
    m.nodes.push_back(mul1);
    m.nodes.push_back(mul2);
    m.y = mul2->output(0);
  } else if (IsScalarNear(other, 0.5, x)) {
    // x * (sum * 0.5)
    Node* mul2 = SoleConsumer(mul1->output(0));
    if (mul2 == nullptr || !IsDefaultOp(mul2, "Mul") ||
        mul2->num_outputs() != 1 || OtherInput(mul2, mul1->output(0)) != x) {
      return std::nullopt;
    }
    m.nodes.push_back(mul1);
    m.nodes.push_back(mul2);
    m.y = mul2->output(0);
  } else {
    // (x * 0.5) * sum
    Node* half = other->producer();
    if (half == nullptr || half->num_outputs() != 1 ||
        SoleConsumer(other) != mul1 ||
        !IsOpWithConstant(half, "Mul", x, 0.5, x)) {
      return std::nullopt;
    }
    m.nodes.push_back(half);
    m.nodes.push_back(mul1);
    m.y = mul1->output(0);
  }
  if (m.y == nullptr) return std::nullopt;
  return m;
}

absl::Status ReplaceWithGelu(Graph& graph, const GeluMatch& m) {
  Node* last = m.nodes.back();
  const std::string name = last->name();
  const Layout layout = last->layout();
  std::vector<std::string> origins;
  for (const Node* n : m.nodes) {
    if (n->origins().empty()) {
      origins.push_back(n->name());
    } else {
      origins.insert(origins.end(), n->origins().begin(), n->origins().end());
    }
  }
  for (Node* n : m.nodes) graph.RemoveNode(n);
  QFORGE_ASSIGN_OR_RETURN(
      Node * gelu,
      graph.AddNode({.name = name,
                     .op_type = "Gelu",
                     .inputs = {m.x},
                     .outputs = {m.y},
                     .attributes = {{"approximate", std::string("none")}}}));
  gelu->set_layout(layout);
  gelu->set_origins(std::move(origins));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int> FuseErfGelu(Graph& graph,
                                const std::function<bool(const Node&)>& keep) {
  int fused = 0;
  bool changed = true;
  while (changed) {
    changed = false;
    for (Node* node : graph.nodes()) {
      std::optional<GeluMatch> m = MatchErfGelu(node);
      if (!m.has_value()) continue;
      if (keep && std::any_of(m->nodes.begin(), m->nodes.end(),
                              [&](const Node* n) { return keep(*n); })) {
        continue;
      }
      QFORGE_RETURN_IF_ERROR(ReplaceWithGelu(graph, *m));
      ++fused;
      changed = true;
      break;  // The node list changed.
    }
  }
  if (fused > 0) {
    graph.RemoveDeadNodes();
    QFORGE_RETURN_IF_ERROR(graph.TopologicalSort());
  }
  return fused;
}

absl::StatusOr<int> FoldConstants(Graph& graph, const Registry& registry) {
  QFORGE_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  int folded = 0;
  for (Node* node : order) {
    bool all_constant = true;
    for (const Value* in : node->inputs()) {
      if (in != nullptr && !in->is_constant()) all_constant = false;
    }
    if (!all_constant || node->num_outputs() == 0) continue;
    const OpKey key = OpKey::Of(*node);
    const Value* first = node->input(0);
    const KernelDef* def = registry.kernels().Find(
        key, first != nullptr ? first->dtype() : DataType::kUndefined);
    if (def == nullptr) continue;
    KernelInitContext init{*node, {}};
    init.opset = key.domain.empty() ? graph.onnx_opset() : 0;
    std::vector<const Tensor*> inputs;
    for (const Value* in : node->inputs()) {
      inputs.push_back(in != nullptr ? in->constant() : nullptr);
    }
    init.constant_inputs = inputs;
    QFORGE_ASSIGN_OR_RETURN(std::unique_ptr<OpKernel> kernel, def->create(init));
    std::vector<Tensor> results(node->num_outputs());
    std::vector<Tensor*> outputs;
    for (int i = 0; i < node->num_outputs(); ++i) {
      outputs.push_back(node->output(i) != nullptr ? &results[i] : nullptr);
    }
    KernelContext ctx(*node, inputs, outputs);
    QFORGE_RETURN_IF_ERROR(kernel->Run(ctx));
    std::vector<Value*> outs = node->outputs();
    graph.RemoveNode(node);
    for (size_t i = 0; i < outs.size(); ++i) {
      if (outs[i] != nullptr) outs[i]->set_constant(std::move(results[i]));
    }
    ++folded;
  }
  return folded;
}

absl::StatusOr<int> ResolveOpAliases(Graph& graph,
                                     const std::map<std::string, std::string>& aliases) {
  if (aliases.empty()) return 0;
  int renamed = 0;
  std::vector<Node*> nodes = graph.nodes();
  for (Node* node : nodes) {
    auto it = aliases.find(QualifiedName(*node));
    if (it == aliases.end()) continue;
    const std::string& target = it->second;
    const size_t sep = target.find("::");
    std::string domain = sep == std::string::npos ? "" : target.substr(0, sep);
    std::string op = sep == std::string::npos ? target : target.substr(sep + 2);
    if (op.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("op alias '", it->first, "' -> '", target, "' names no op type"));
    }
    // Nodes are immutable in their op; rebuild the node under the new name.
    NodeSpec spec{.name = node->name(),
                  .domain = std::move(domain),
                  .op_type = std::move(op),
                  .inputs = node->inputs(),
                  .outputs = node->outputs(),
                  .attributes = node->attributes()};
    const Layout layout = node->layout();
    std::string options = node->custom_options();
    std::vector<std::string> origins = node->origins();
    graph.RemoveNode(node);
    QFORGE_ASSIGN_OR_RETURN(Node * replacement, graph.AddNode(std::move(spec)));
    replacement->set_layout(layout);
    replacement->set_custom_options(std::move(options));
    replacement->set_origins(std::move(origins));
    ++renamed;
  }
  QFORGE_RETURN_IF_ERROR(graph.TopologicalSort());
  return renamed;
}

absl::StatusOr<int> FoldBatchNormalization(Graph& graph) {
  int rewritten = 0;
  std::vector<Node*> nodes = graph.nodes();
  for (Node* bn : nodes) {
    if (bn->op_type() != "BatchNormalization" || !bn->domain().empty()) continue;
    if (bn->num_outputs() > 1 && (bn->output(1) != nullptr || bn->output(2) != nullptr)) {
      continue;  // Training outputs in use.
    }
    Value* x = bn->input(0);
    if (x == nullptr) continue;
    Node* producer = x->producer();
    if (IsFoldableConv(producer)) {
      QFORGE_RETURN_IF_ERROR(FoldIntoConv(graph, producer, bn));
      ++rewritten;
      continue;
    }
    const Shape& shape = x->shape();
    if (!shape.rank_known() || shape.rank() != 4) continue;
    const int channel_axis = bn->layout() == Layout::kNHWC ? 3 : 1;
    if (!shape.dim(channel_axis).is_static()) continue;
    QFORGE_RETURN_IF_ERROR(
        BatchNormToDepthwiseConv(graph, bn, shape.dim(channel_axis).value));
    ++rewritten;
  }
  if (rewritten > 0) QFORGE_RETURN_IF_ERROR(graph.TopologicalSort());
  return rewritten;
}

}  // namespace qforge::internal
