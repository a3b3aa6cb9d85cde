// QDQ expansion (export) and folding (import); see io/onnx_qdq.h.
#include "io/onnx_qdq.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "qforge/core/status.h"

namespace qforge::internal {
namespace {

constexpr int64_t kQdqOpset = 13;  // DequantizeLinear `axis` (per-axis).

bool IsDefaultDomain(const Node& node) {
  return node.domain().empty() || node.domain() == "ai.onnx";
}
bool IsQ(const Node& node) {
  return IsDefaultDomain(node) && node.op_type() == "QuantizeLinear";
}
bool IsDQ(const Node& node) {
  return IsDefaultDomain(node) && node.op_type() == "DequantizeLinear";
}

const std::optional<QuantParams>& ParamsOf(const Value& v) {
  if (!v.quant().has_value() && v.constant() != nullptr)
    return v.constant()->quant();
  return v.quant();
}

// --- Export ------------------------------------------------------------------

class Expander {
 public:
  explicit Expander(Graph& graph) : g_(graph) {}

  absl::Status Run() {
    QFORGE_RETURN_IF_ERROR(BumpOpset());
    QFORGE_ASSIGN_OR_RETURN(std::vector<Node*> order, g_.TopologicalOrder());
    for (Node* node : order) {
      if (IsQ(*node) || IsDQ(*node)) continue;
      bool quantized = false;
      for (const Value* v : node->inputs()) {
        if (v != nullptr && ParamsOf(*v).has_value()) quantized = true;
      }
      for (const Value* v : node->outputs()) {
        if (v != nullptr && ParamsOf(*v).has_value()) quantized = true;
      }
      if (quantized) QFORGE_RETURN_IF_ERROR(Expand(node));
    }
    for (Value* v : g_.values()) {
      v->set_quant(std::nullopt);
      if (v->mutable_constant() != nullptr)
        v->mutable_constant()->set_quant(std::nullopt);
    }
    return g_.TopologicalSort();
  }

 private:
  // Default-domain opset >= 13, converting ops whose signature changed.
  absl::Status BumpOpset() {
    const int64_t old = g_.onnx_opset();
    if (old >= kQdqOpset) return absl::OkStatus();
    for (Node* node : g_.nodes()) {
      if (!IsDefaultDomain(*node)) continue;
      const std::string& op = node->op_type();
      if (op == "Squeeze" || op == "Unsqueeze" || op == "ReduceSum" ||
          op == "Split") {
        const char* attr = op == "Split" ? "split" : "axes";
        const Attribute* a = node->FindAttribute(attr);
        if (a == nullptr) continue;
        const auto* ints = std::get_if<std::vector<int64_t>>(a);
        if (ints == nullptr) {
          return absl::InvalidArgumentError(
              absl::StrCat(node->Describe(), ": attribute '", attr,
                           "' is not a list of ints"));
        }
        const int64_t n = static_cast<int64_t>(ints->size());
        Value* c = g_.AddConstant(absl::StrCat(node->name(), "_", attr),
                                  Tensor::FromVector<int64_t>({n}, *ints));
        node->RemoveAttribute(attr);
        const int slot = 1;
        if (node->num_inputs() > slot) {
          return absl::InvalidArgumentError(absl::StrCat(
              node->Describe(), " has ", node->num_inputs(), " inputs"));
        }
        // Rebuild the input list with the new slot (SetInput cannot grow it).
        QFORGE_RETURN_IF_ERROR(Rebuild(node, {node->input(0), c}).status());
      } else if (op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") {
        QFORGE_ASSIGN_OR_RETURN(int64_t axis, node->GetInt("axis", 1));
        const Value* x = node->input(0);
        const int rank =
            x != nullptr && x->shape().rank_known() ? x->shape().rank() : -1;
        if (axis < 0 && rank >= 0) axis += rank;
        if (rank < 0 || axis != rank - 1) {
          return absl::FailedPreconditionError(absl::StrCat(
              node->Describe(), ": exporting a quantized graph needs opset ",
              kQdqOpset, " (per-axis DequantizeLinear), where ", op,
              " normalizes one axis instead of the flattened trailing dims; "
              "the model's opset ",
              old, " has axis ", axis, " on a rank-", rank,
              " input, whose meaning would change"));
        }
        node->SetAttribute("axis", int64_t{axis});
      }
    }
    g_.set_opset("", kQdqOpset);
    return absl::OkStatus();
  }

  // Replaces `node` by an identical node with other inputs / outputs.
  absl::StatusOr<Node*> Rebuild(
      Node* node, std::vector<Value*> inputs,
      std::optional<std::vector<Value*>> outputs = std::nullopt) {
    NodeSpec spec{.name = node->name(),
                  .domain = node->domain(),
                  .op_type = node->op_type(),
                  .inputs = std::move(inputs),
                  .outputs = outputs.has_value() ? *outputs : node->outputs(),
                  .attributes = node->attributes()};
    const Layout layout = node->layout();
    std::vector<std::string> origins = node->origins();
    std::string custom = node->custom_options();
    g_.RemoveNode(node);
    QFORGE_ASSIGN_OR_RETURN(Node * n, g_.AddNode(std::move(spec)));
    n->set_layout(layout);
    n->set_origins(std::move(origins));
    n->set_custom_options(std::move(custom));
    return n;
  }

  absl::StatusOr<std::pair<Value*, Value*>> ScaleAndZeroPoint(
      const std::string& base, const QuantParams& p) {
    if (p.scale.empty() || p.scale.size() != p.zero_point.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "value '", base, "' has malformed quantization parameters ",
          p.ToString()));
    }
    if (p.storage != DataType::kInt8 && p.storage != DataType::kUint8 &&
        p.storage != DataType::kInt32) {
      return absl::UnimplementedError(absl::StrCat(
          "value '", base, "' is stored as ", DataTypeName(p.storage),
          "; ONNX QDQ (opset 13) carries int8, uint8 and int32 "
          "(DequantizeLinear only)"));
    }
    const int64_t n = static_cast<int64_t>(p.scale.size());
    std::vector<int64_t> dims;
    if (p.axis >= 0) dims = {n};
    Tensor scale = Tensor::FromVector<float>(dims, p.scale);
    Tensor zp(p.storage, dims);
    for (int64_t i = 0; i < n; ++i) {
      switch (p.storage) {
        case DataType::kInt8:
          zp.data<int8_t>()[i] = static_cast<int8_t>(p.zero_point[i]);
          break;
        case DataType::kUint8:
          zp.data<uint8_t>()[i] = static_cast<uint8_t>(p.zero_point[i]);
          break;
        default:
          zp.data<int32_t>()[i] = static_cast<int32_t>(p.zero_point[i]);
          break;
      }
    }
    Value* s = g_.AddConstant(absl::StrCat(base, "_scale"), std::move(scale));
    Value* z = g_.AddConstant(absl::StrCat(base, "_zero_point"), std::move(zp));
    return std::make_pair(s, z);
  }

  std::map<std::string, Attribute> AxisAttr(const QuantParams& p) {
    std::map<std::string, Attribute> attrs;
    if (p.axis >= 0) attrs["axis"] = int64_t{p.axis};
    return attrs;
  }

  // The float view of quantized value `v`: one DequantizeLinear per value.
  absl::StatusOr<Value*> Dequantized(Value* v) {
    auto it = dequantized_.find(v);
    if (it != dequantized_.end()) return it->second;
    const QuantParams& p = *ParamsOf(*v);
    QFORGE_ASSIGN_OR_RETURN(auto sz, ScaleAndZeroPoint(v->name(), p));
    Value* f = g_.AddValue(absl::StrCat(v->name(), "_dequantized"),
                           DataType::kFloat32, v->shape());
    QFORGE_RETURN_IF_ERROR(
        g_.AddNode({.name = absl::StrCat(v->name(), "_DequantizeLinear"),
                    .domain = "",
                    .op_type = "DequantizeLinear",
                    .inputs = {v, sz.first, sz.second},
                    .outputs = {f},
                    .attributes = AxisAttr(p)})
            .status());
    dequantized_[v] = f;
    return f;
  }

  absl::Status Expand(Node* node) {
    if (node->layout() != Layout::kNCHW)
      return absl::OkStatus();  // Refused by the writer.
    std::vector<Value*> inputs = node->inputs();
    for (Value*& in : inputs) {
      if (in != nullptr && ParamsOf(*in).has_value()) {
        QFORGE_ASSIGN_OR_RETURN(in, Dequantized(in));
      }
    }
    std::vector<Value*> outputs = node->outputs();
    std::vector<std::pair<Value*, Value*>> requantize;  // (float, integer)
    for (Value*& out : outputs) {
      if (out == nullptr || !out->quant().has_value()) continue;
      Value* f = g_.AddValue(absl::StrCat(out->name(), "_float"),
                             DataType::kFloat32, out->shape());
      requantize.emplace_back(f, out);
      out = f;
    }
    QFORGE_RETURN_IF_ERROR(
        Rebuild(node, std::move(inputs), std::move(outputs)).status());
    for (auto [f, q] : requantize) {
      const QuantParams p = *q->quant();
      QFORGE_ASSIGN_OR_RETURN(auto sz, ScaleAndZeroPoint(q->name(), p));
      QFORGE_RETURN_IF_ERROR(
          g_.AddNode({.name = absl::StrCat(q->name(), "_QuantizeLinear"),
                      .domain = "",
                      .op_type = "QuantizeLinear",
                      .inputs = {f, sz.first, sz.second},
                      .outputs = {q},
                      .attributes = AxisAttr(p)})
              .status());
    }
    return absl::OkStatus();
  }

  Graph& g_;
  absl::flat_hash_map<Value*, Value*> dequantized_;
};

// --- Import ------------------------------------------------------------------

// The parameters a QuantizeLinear / DequantizeLinear node states, or nullopt
// when they are not constants or are malformed.
std::optional<QuantParams> NodeParams(const Node& node) {
  const Value* x = node.input(0);
  const Value* s = node.input(1);
  const Value* z = node.input(2);
  if (x == nullptr || s == nullptr || s->constant() == nullptr)
    return std::nullopt;
  if (z != nullptr && z->constant() == nullptr) return std::nullopt;
  const Tensor& scale = *s->constant();
  if (scale.dtype() != DataType::kFloat32 || scale.num_elements() < 1 ||
      scale.rank() > 1) {
    return std::nullopt;
  }
  QuantParams p;
  if (z != nullptr) {
    p.storage = z->constant()->dtype();
  } else {
    p.storage = IsDQ(node) ? x->dtype() : DataType::kUint8;
  }
  if (p.storage != DataType::kInt8 && p.storage != DataType::kUint8 &&
      p.storage != DataType::kInt32) {
    return std::nullopt;
  }
  p.bits = static_cast<int>(SizeOf(p.storage) * 8);
  const int64_t n = scale.num_elements();
  if (z != nullptr && z->constant()->num_elements() != n) return std::nullopt;
  for (int64_t i = 0; i < n; ++i) {
    p.scale.push_back(scale.data<float>()[i]);
    p.zero_point.push_back(z == nullptr ? 0 : z->constant()->GetAsInt64(i));
  }
  if (scale.rank() == 1) {
    absl::StatusOr<int64_t> axis = node.GetInt("axis", 1);
    if (!axis.ok()) return std::nullopt;
    int64_t a = *axis;
    const Shape& xs = x->shape();
    if (a < 0) {
      if (!xs.rank_known()) return std::nullopt;
      a += xs.rank();
    }
    if (a < 0 || (xs.rank_known() && a >= xs.rank())) return std::nullopt;
    p.axis = static_cast<int>(a);
  }
  if (!p.Validate().ok()) return std::nullopt;
  return p;
}

// Gives `v` params `p`; false when it already has different ones.
bool Attach(Value* v, const QuantParams& p) {
  const std::optional<QuantParams>& have = ParamsOf(*v);
  if (have.has_value()) return *have == p;
  v->set_quant(p);
  if (v->mutable_constant() != nullptr) v->mutable_constant()->set_quant(p);
  return true;
}

}  // namespace

bool HasQuantizedValues(const Graph& graph) {
  for (const Value* v : graph.values()) {
    if (ParamsOf(*v).has_value()) return true;
  }
  return false;
}

absl::Status ExpandToQdq(Graph& graph) { return Expander(graph).Run(); }

int FoldQdq(Graph& g, const std::function<bool(const Node&)>& can_quantize) {
  // 1. Parameters from the Q / DQ nodes. `ok_dq` holds DequantizeLinear nodes
  //    whose input now carries exactly their parameters.
  absl::flat_hash_set<const Node*> ok_dq;
  absl::flat_hash_map<const Node*, QuantParams> q_params;
  for (Node* node : g.nodes()) {
    if (!IsQ(*node) && !IsDQ(*node)) continue;
    std::optional<QuantParams> p = NodeParams(*node);
    if (!p.has_value()) continue;
    if (IsQ(*node)) {
      Value* y = node->output(0);
      if (y != nullptr && Attach(y, *p)) q_params[node] = *p;
    } else {
      Value* x = node->input(0);
      if (x->dtype() == p->storage && Attach(x, *p)) ok_dq.insert(node);
    }
  }
  // 2. Ops between DequantizeLinear and QuantizeLinear.
  struct Fold {
    Node* node;
    std::vector<std::pair<Value*, Value*>> outputs;  // (float output, Q output)
  };
  std::vector<Fold> folds;
  for (Node* node : g.nodes()) {
    if (IsQ(*node) || IsDQ(*node) || !can_quantize(*node)) continue;
    bool any_dq = false;
    bool ok = true;
    for (int i = 0; i < node->num_inputs(); ++i) {
      const Value* in = node->input(i);
      if (in == nullptr || in->dtype() != DataType::kFloat32) continue;
      if (in->producer() != nullptr && ok_dq.contains(in->producer())) {
        any_dq = true;
      } else if (i > 0 && in->is_constant() && node->op_type() == "Clip") {
        // Clip's bounds stay float constants in a quantized graph (the int8
        // Clip kernel reads them as floats).
      } else {
        // Any other float input (even a constant such as Resize `scales`)
        // next to integer ones does not verify as a quantized op: keep it
        // float.
        ok = false;
      }
    }
    Fold fold{node, {}};
    for (Value* out : node->outputs()) {
      if (!ok || out == nullptr || out->dtype() != DataType::kFloat32) continue;
      if (out->is_graph_output() || out->consumers().empty()) {
        ok = false;
        break;
      }
      const QuantParams* first = nullptr;
      Value* y = nullptr;
      for (const Node* c : out->consumers()) {
        auto it = q_params.find(c);
        if (it == q_params.end() || c->input(0) != out ||
            (first != nullptr && !(it->second == *first))) {
          ok = false;
          break;
        }
        if (first == nullptr) {
          first = &it->second;
          y = c->output(0);
        }
      }
      if (ok) fold.outputs.emplace_back(out, y);
    }
    if (ok && any_dq && !fold.outputs.empty()) folds.push_back(std::move(fold));
  }
  // 3. Rewire: the op reads the integer tensors and writes the Q outputs.
  std::vector<std::pair<Value*, std::string>> renames;
  for (Fold& fold : folds) {
    Node* node = fold.node;
    for (int i = 0; i < node->num_inputs(); ++i) {
      Value* in = node->input(i);
      if (in != nullptr && in->producer() != nullptr &&
          ok_dq.contains(in->producer())) {
        node->SetInput(i, in->producer()->input(0));
      }
    }
    for (auto [out, y] : fold.outputs) {
      const QuantParams p = *y->quant();
      std::vector<Node*> qs = out->consumers();
      for (Node* q : qs) {
        Value* other = q->output(0);
        g.RemoveNode(q);
        if (other != nullptr) g.ReplaceAllUses(other, out);
      }
      out->set_dtype(p.storage);
      out->set_quant(p);
      renames.emplace_back(out, y->name());
    }
  }
  if (folds.empty()) return 0;
  g.RemoveDeadNodes();
  for (auto& [v, name] : renames) {
    if (g.FindValue(name) == nullptr) g.RenameValue(v, name).IgnoreError();
  }
  g.TopologicalSort().IgnoreError();
  return static_cast<int>(folds.size());
}

int RemoveRedundantQdq(Graph& g) {
  struct Pair {
    Node* dq;
    Node* q;
  };
  std::vector<Pair> pairs;
  for (Node* q : g.nodes()) {
    if (!IsQ(*q)) continue;
    Value* f = q->input(0);
    Value* u = q->output(0);
    Node* dq = f != nullptr ? f->producer() : nullptr;
    if (dq == nullptr || !IsDQ(*dq) || u == nullptr || u->is_graph_output())
      continue;
    const Value* v = dq->input(0);
    if (v == nullptr || !v->quant().has_value() || !u->quant().has_value())
      continue;
    pairs.push_back({dq, q});
  }
  int changed = 0;
  for (const Pair& pair : pairs) {
    Value* v = pair.dq->input(0);
    Value* u = pair.q->output(0);
    const QuantParams& pv = *v->quant();
    const QuantParams& pu = *u->quant();
    if (pv == pu && v->dtype() == u->dtype()) {
      g.RemoveNode(pair.q);
      g.ReplaceAllUses(u, v);
      ++changed;
      continue;
    }
    if (pv.axis >= 0 || pu.axis >= 0) continue;  // Requantize is per-tensor.
    const std::string name = pair.q->name();
    const std::vector<std::string> origins = {pair.dq->name(), name};
    g.RemoveNode(pair.q);
    absl::StatusOr<Node*> id = g.AddNode({.name = name,
                                          .domain = "",
                                          .op_type = "Identity",
                                          .inputs = {v},
                                          .outputs = {u},
                                          .attributes = {}});
    if (!id.ok()) continue;  // Unreachable: the name was just freed.
    (*id)->set_origins(origins);
    ++changed;
  }
  if (changed == 0) return 0;
  g.RemoveDeadNodes();
  g.TopologicalSort().IgnoreError();
  return changed;
}

}  // namespace qforge::internal
