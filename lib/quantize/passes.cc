#include "quantize/passes.h"

#include <cmath>
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

}  // namespace

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
