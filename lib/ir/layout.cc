#include "qforge/ir/layout.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ir/tensor_transpose.h"
#include "qforge/core/status.h"

// How the pass works. Every value V of the input graph keeps its identity
// (its Value object) but may end up stored permuted: perm_[V] = P means the
// tensor now held by V is transpose(original V, P), i.e. its dim i is the
// original dim P[i]. Nodes are visited in topological order; each decides
// the permutation it wants for each input (Get() hands it out, inserting one
// Transpose per value and permutation, or permuting a constant) and states
// the permutation of its outputs. Value shapes are rewritten to the stored
// (permuted) shapes. Graph outputs are transposed back and renamed so that
// the user sees the original names. Finally Transpose chains are folded and
// identity Transposes bypassed.

namespace qforge {
namespace {

using internal::PermuteQuant;
using internal::TransposeTensor;

using Perm = std::vector<int>;

Perm Identity(int rank) {
  Perm p(rank);
  for (int i = 0; i < rank; ++i) p[i] = i;
  return p;
}

bool IsIdentity(const Perm& p) {
  for (int i = 0; i < static_cast<int>(p.size()); ++i) {
    if (p[i] != i) return false;
  }
  return true;
}

Perm Inverse(const Perm& p) {
  Perm inv(p.size());
  for (int i = 0; i < static_cast<int>(p.size()); ++i) inv[p[i]] = i;
  return inv;
}

// [N, C, D...] -> [N, D..., C].
Perm ToNhwcPerm(int rank) {
  Perm p = {0};
  for (int i = 2; i < rank; ++i) p.push_back(i);
  p.push_back(1);
  return p;
}
// [N, D..., C] -> [N, C, D...].
Perm ToNchwPerm(int rank) {
  Perm p = {0, rank - 1};
  for (int i = 1; i < rank - 1; ++i) p.push_back(i);
  return p;
}

std::vector<int64_t> ToInt64(const Perm& p) {
  return std::vector<int64_t>(p.begin(), p.end());
}

bool IsPermutation(const std::vector<int64_t>& p) {
  std::vector<bool> seen(p.size(), false);
  for (int64_t v : p) {
    if (v < 0 || v >= static_cast<int64_t>(p.size()) || seen[v]) return false;
    seen[v] = true;
  }
  return true;
}

Shape PermuteShape(const Shape& s, const Perm& p) {
  if (!s.rank_known() || s.rank() != static_cast<int>(p.size())) return s;
  std::vector<Dim> dims(p.size());
  for (size_t i = 0; i < p.size(); ++i) dims[i] = s.dim(p[i]);
  return Shape(std::move(dims));
}

bool AllDimsOne(const Shape& s) {
  if (!s.rank_known()) return false;
  for (const Dim& d : s.dims()) {
    if (!d.is_static() || d.value != 1) return false;
  }
  return true;
}

const absl::flat_hash_set<std::string>& SpatialOps() {
  static const auto* ops = new absl::flat_hash_set<std::string>{
      "Conv",          "MaxPool", "AveragePool",       "GlobalAveragePool",
      "GlobalMaxPool", "Resize",  "BatchNormalization"};
  return *ops;
}

// Ops computed element by element with numpy broadcasting of all inputs.
const absl::flat_hash_set<std::string>& ElementwiseOps() {
  static const auto* ops =
      new absl::flat_hash_set<std::string>{"Add",
                                           "Sub",
                                           "Mul",
                                           "Div",
                                           "Pow",
                                           "Max",
                                           "Min",
                                           "Sum",
                                           "Mean",
                                           "Mod",
                                           "PRelu",
                                           "Relu",
                                           "LeakyRelu",
                                           "Clip",
                                           "Sigmoid",
                                           "Tanh",
                                           "HardSigmoid",
                                           "HardSwish",
                                           "Elu",
                                           "Selu",
                                           "Celu",
                                           "Gelu",
                                           "Mish",
                                           "Softplus",
                                           "Softsign",
                                           "ThresholdedRelu",
                                           "Exp",
                                           "Log",
                                           "Sqrt",
                                           "Abs",
                                           "Neg",
                                           "Erf",
                                           "Floor",
                                           "Ceil",
                                           "Round",
                                           "Reciprocal",
                                           "Sign",
                                           "Sin",
                                           "Cos",
                                           "Identity",
                                           "Cast",
                                           "Not",
                                           "And",
                                           "Or",
                                           "Xor",
                                           "Equal",
                                           "Greater",
                                           "Less",
                                           "GreaterOrEqual",
                                           "LessOrEqual",
                                           "Where",
                                           "IsNaN",
                                           "IsInf"};
  return *ops;
}

const absl::flat_hash_set<std::string>& ReduceOps() {
  static const auto* ops = new absl::flat_hash_set<std::string>{
      "ReduceMean",      "ReduceSum",      "ReduceMax", "ReduceMin",
      "ReduceProd",      "ReduceL1",       "ReduceL2",  "ReduceLogSum",
      "ReduceLogSumExp", "ReduceSumSquare"};
  return *ops;
}

int NormAxis(int64_t axis, int rank) {
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

bool AxisInRange(int64_t axis, int rank) {
  return axis >= -rank && axis < rank;
}

class LayoutConverter {
 public:
  LayoutConverter(Graph& graph, Layout target, const OpSchemaTable& schemas,
                  LayoutStats& stats, const LayoutOptions& options)
      : g_(graph),
        target_(target),
        schemas_(schemas),
        stats_(stats),
        options_(options) {
    opset_ = graph.onnx_opset();
  }

  absl::Status Run() {
    const bool all_live = AllNodesLive();
    QFORGE_ASSIGN_OR_RETURN(std::vector<Node*> order, g_.TopologicalOrder());
    for (Node* node : order) QFORGE_RETURN_IF_ERROR(Visit(node));
    QFORGE_RETURN_IF_ERROR(RestoreOutputs());
    FoldTransposes();
    if (all_live) g_.RemoveDeadNodes();
    QFORGE_RETURN_IF_ERROR(g_.TopologicalSort());
    for (Node* n : g_.nodes()) {
      if (inserted_.contains(n)) ++stats_.transposes_inserted;
    }
    for (const Value* v : g_.values()) {
      auto it = perm_.find(v);
      if (it != perm_.end() && !IsIdentity(it->second)) {
        stats_.permuted_values[v->name()] = ToInt64(it->second);
      }
    }
    return absl::OkStatus();
  }

 private:
  // --- Bookkeeping ---------------------------------------------------------

  bool AllNodesLive() const {
    absl::flat_hash_set<const Node*> live;
    std::vector<const Value*> work(g_.outputs().begin(), g_.outputs().end());
    absl::flat_hash_set<const Value*> seen;
    while (!work.empty()) {
      const Value* v = work.back();
      work.pop_back();
      if (v == nullptr || !seen.insert(v).second) continue;
      const Node* p = v->producer();
      if (p != nullptr && live.insert(p).second) {
        for (const Value* in : p->inputs()) work.push_back(in);
      }
    }
    return static_cast<int>(live.size()) == g_.num_nodes();
  }

  static int RankOf(const Value* v) {
    return v != nullptr && v->shape().rank_known() ? v->shape().rank() : -1;
  }

  // The permutation `v` is stored with; empty when it is stored as-is.
  Perm PermOf(const Value* v) const {
    auto it = perm_.find(v);
    return it == perm_.end() ? Perm() : it->second;
  }

  bool HasPerm(const Value* v) const {
    auto it = perm_.find(v);
    return it != perm_.end() && !IsIdentity(it->second);
  }

  void SetPerm(Value* v, const Perm& p) {
    if (v == nullptr) return;
    if (IsIdentity(p)) {
      perm_.erase(v);
      return;
    }
    perm_[v] = p;
    v->set_shape(PermuteShape(v->shape(), p));
    v->set_quant(PermuteQuant(v->quant(), p));
  }

  // The layout-to-target permutation of a rank-`rank` activation.
  Perm SpatialPerm(int rank) const {
    return target_ == Layout::kNHWC ? ToNhwcPerm(rank) : ToNchwPerm(rank);
  }

  std::string Suffix(const Perm& p) const {
    const int r = static_cast<int>(p.size());
    const char* to_target = target_ == Layout::kNHWC ? "_nhwc" : "_nchw";
    const char* to_source = target_ == Layout::kNHWC ? "_nchw" : "_nhwc";
    if (IsIdentity(p)) return to_source;
    if (r >= 3 && p == SpatialPerm(r)) return to_target;
    return "_perm";
  }

  int Uses(const Value* v) const {
    return static_cast<int>(v->consumers().size());
  }

  // `v` stored with permutation `q` (empty = as in the original graph).
  // Inserts a Transpose (once per value and permutation) or permutes a
  // constant.
  absl::StatusOr<Value*> Get(Value* v, Perm q) {
    if (v == nullptr) return v;
    Perm cur = PermOf(v);
    const int r = RankOf(v);
    if (cur.empty()) cur = Identity(r < 0 ? 0 : r);
    if (q.empty()) q = Identity(static_cast<int>(cur.size()));
    if (cur == q) return v;
    if (r < 0 || static_cast<int>(q.size()) != r) {
      return absl::InternalError(
          absl::StrCat("layout pass: value '", v->name(), "' of shape ",
                       v->shape().ToString(), " cannot take a rank-", q.size(),
                       " permutation"));
    }
    auto key = std::make_pair(static_cast<const Value*>(v), q);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    const Perm cur_inv = Inverse(cur);
    Perm t(r);
    for (int i = 0; i < r; ++i) t[i] = cur_inv[q[i]];
    if (v->is_constant()) {
      Tensor data = TransposeTensor(*v->constant(), t);
      std::optional<QuantParams> quant = PermuteQuant(v->quant(), t);
      if (Uses(v) == 1 && !v->is_graph_output() && !v->is_graph_input()) {
        v->set_constant(std::move(data));
        v->set_quant(std::move(quant));
        if (IsIdentity(q)) {
          perm_.erase(v);
        } else {
          perm_[v] = q;
        }
        ++stats_.constants_permuted;
        return v;
      }
      Value* nv =
          g_.AddConstant(absl::StrCat(v->name(), Suffix(q)), std::move(data));
      nv->set_quant(std::move(quant));
      if (!IsIdentity(q)) perm_[nv] = q;
      cache_[key] = nv;
      cache_[std::make_pair(static_cast<const Value*>(nv), cur)] = v;
      ++stats_.constants_permuted;
      return nv;
    }
    Value* nv = g_.AddValue(absl::StrCat(v->name(), Suffix(q)), v->dtype(),
                            PermuteShape(v->shape(), t));
    nv->set_quant(PermuteQuant(v->quant(), t));
    QFORGE_ASSIGN_OR_RETURN(
        Node * node,
        g_.AddNode({.name = absl::StrCat(v->name(), Suffix(q), "_transpose"),
                    .domain = "",
                    .op_type = "Transpose",
                    .inputs = {v},
                    .outputs = {nv},
                    .attributes = {{"perm", ToInt64(t)}}}));
    inserted_.insert(node);
    if (!IsIdentity(q)) perm_[nv] = q;
    cache_[key] = nv;
    cache_[std::make_pair(static_cast<const Value*>(nv), cur)] = v;
    return nv;
  }

  absl::Status SetInputPerm(Node* node, int i, const Perm& q) {
    Value* v = node->input(i);
    if (v == nullptr) return absl::OkStatus();
    QFORGE_ASSIGN_OR_RETURN(Value * nv, Get(v, q));
    if (nv != v) node->SetInput(i, nv);
    return absl::OkStatus();
  }

  // A lower-rank constant operand of a broadcasting op whose other operands
  // are stored with `q` (rank R): aligned right to rank R, then permuted.
  absl::StatusOr<Value*> BroadcastConstant(Value* v, const Perm& q) {
    const int rank = static_cast<int>(q.size());
    auto key = std::make_pair(static_cast<const Value*>(v), q);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    Tensor data = *v->constant();
    const int offset = rank - data.rank();
    std::vector<int64_t> dims(offset, 1);
    dims.insert(dims.end(), data.dims().begin(), data.dims().end());
    data.Reshape(dims);
    // A per-axis axis moves right with the alignment, then with q.
    std::optional<QuantParams> quant = v->quant();
    if (quant.has_value() && quant->per_axis()) quant->axis += offset;
    if (data.quant().has_value() && data.quant()->per_axis()) {
      QuantParams tq = *data.quant();
      tq.axis += offset;
      data.set_quant(tq);
    }
    data = TransposeTensor(data, q);
    quant = PermuteQuant(quant, q);
    ++stats_.constants_permuted;
    if (Uses(v) == 1 && !v->is_graph_output() && !v->is_graph_input()) {
      v->set_constant(std::move(data));
      v->set_quant(std::move(quant));
      return v;
    }
    Value* nv =
        g_.AddConstant(absl::StrCat(v->name(), Suffix(q)), std::move(data));
    nv->set_quant(std::move(quant));
    cache_[key] = nv;
    return nv;
  }

  // A new int64 constant, or `old` rewritten in place when only `node` uses it.
  Value* IntsConstant(Value* old, const std::vector<int64_t>& values,
                      absl::string_view base) {
    Tensor t = Tensor::FromVector<int64_t>(
        {static_cast<int64_t>(values.size())}, values);
    ++stats_.constants_permuted;
    if (old != nullptr && old->is_constant() && Uses(old) == 1 &&
        !old->is_graph_output() && !old->is_graph_input()) {
      old->set_constant(std::move(t));
      return old;
    }
    return g_.AddConstant(
        absl::StrCat(base, target_ == Layout::kNHWC ? "_nhwc" : "_nchw"),
        std::move(t));
  }

  // Every input from slot `from` on in the original layout; outputs as-is.
  absl::Status Plain(Node* node, int from = 0) {
    for (int i = from; i < node->num_inputs(); ++i) {
      if (node->input(i) != nullptr && HasPerm(node->input(i))) {
        QFORGE_RETURN_IF_ERROR(SetInputPerm(node, i, {}));
      }
    }
    return absl::OkStatus();
  }

  // --- Visiting nodes --------------------------------------------------------

  absl::Status Visit(Node* node) {
    if (node->domain() != "" && node->domain() != "ai.onnx") return Plain(node);
    const std::string& op = node->op_type();
    if (schemas_.Find(OpKey::Of(*node)) == nullptr) return Plain(node);
    if (SpatialOps().contains(op)) return VisitSpatial(node);
    if (options_.int8_exact && op == "ReduceMean" && IsQuantized(node)) {
      return VisitInt8ReduceMean(node);
    }
    if (ElementwiseOps().contains(op)) return VisitElementwise(node);
    if (op == "Concat") {
      for (Value* in : node->inputs()) {
        if (in != nullptr && HasPerm(in)) return VisitConcat(node, PermOf(in));
      }
      return Plain(node);
    }
    Value* x = node->input(0);
    if (x == nullptr || !HasPerm(x)) return Plain(node);
    const Perm q = PermOf(x);
    if (op == "Split") return VisitSplit(node, q);
    if (op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") {
      return VisitSoftmax(node, q);
    }
    if (ReduceOps().contains(op)) return VisitReduce(node, q, /*arg=*/false);
    if (op == "ArgMax" || op == "ArgMin")
      return VisitReduce(node, q, /*arg=*/true);
    if (op == "Transpose") return VisitTranspose(node, q);
    if (op == "Squeeze") return VisitSqueeze(node, q);
    if (op == "Unsqueeze") return VisitUnsqueeze(node, q);
    if (op == "Pad") return VisitPad(node, q);
    if (op == "Slice") return VisitSlice(node, q);
    if (op == "LayerNormalization") return VisitLayerNorm(node, q);
    if (op == "QuantizeLinear" || op == "DequantizeLinear") {
      return VisitQuantize(node, q);
    }
    return Plain(node);
  }

  absl::Status VisitSpatial(Node* node) {
    Value* x = node->input(0);
    const int r = RankOf(x);
    if (node->layout() == target_ || r < 3) return Plain(node);
    const Perm s = SpatialPerm(r);
    QFORGE_RETURN_IF_ERROR(SetInputPerm(node, 0, s));
    for (int i = 1; i < node->num_inputs(); ++i) {
      QFORGE_RETURN_IF_ERROR(SetInputPerm(node, i, {}));
    }
    node->set_layout(target_);
    ++stats_.nodes_converted;
    const std::string& op = node->op_type();
    const int permuted_outputs = op == "MaxPool" ? 2 : 1;
    for (int i = 0; i < node->num_outputs() && i < permuted_outputs; ++i) {
      Value* out = node->output(i);
      if (out != nullptr && RankOf(out) == r) SetPerm(out, s);
    }
    return absl::OkStatus();
  }

  static bool IsQuantized(const Node* node) {
    return node->num_inputs() > 0 && node->input(0) != nullptr &&
           node->input(0)->quant().has_value();
  }

  // int8_exact: a quantized ReduceMean is the spatial mean (axes [2, 3] of
  // a rank-4 NCHW tensor, converted like a spatial op and marked kNHWC) or
  // keeps the original layout.
  absl::Status VisitInt8ReduceMean(Node* node) {
    Value* x = node->input(0);
    if (target_ != Layout::kNHWC || node->layout() == Layout::kNHWC ||
        RankOf(x) != 4) {
      return Plain(node);
    }
    bool from_input = false;
    std::optional<std::vector<int64_t>> axes = ReadAxes(node, 1, &from_input);
    if (!axes.has_value() || axes->size() != 2) return Plain(node);
    std::vector<int64_t> a;
    for (int64_t v : *axes) {
      if (!AxisInRange(v, 4)) return Plain(node);
      a.push_back(NormAxis(v, 4));
    }
    std::sort(a.begin(), a.end());
    if (a != std::vector<int64_t>{2, 3}) return Plain(node);
    if (!node->GetInt("keepdims", 1).ok()) return Plain(node);
    QFORGE_RETURN_IF_ERROR(VisitReduce(node, SpatialPerm(4), /*arg=*/false));
    node->set_layout(Layout::kNHWC);
    ++stats_.nodes_converted;
    return absl::OkStatus();
  }

  absl::Status VisitElementwise(Node* node) {
    // Rank of the result and the permutation to follow.
    int rank = -1;
    for (Value* in : node->inputs()) {
      if (in == nullptr) continue;
      const int r = RankOf(in);
      if (r < 0) return Plain(node);
      rank = std::max(rank, r);
    }
    Perm q;
    for (Value* in : node->inputs()) {
      if (in != nullptr && RankOf(in) == rank && HasPerm(in)) {
        q = PermOf(in);
        break;
      }
    }
    if (q.empty()) return Plain(node);
    // Every input must be able to follow: same rank, a broadcast scalar, or
    // a constant to align and permute.
    for (Value* in : node->inputs()) {
      if (in == nullptr || RankOf(in) == rank || AllDimsOne(in->shape()))
        continue;
      if (!in->is_constant() || HasPerm(in)) return Plain(node);
    }
    for (int i = 0; i < node->num_inputs(); ++i) {
      Value* in = node->input(i);
      if (in == nullptr) continue;
      if (RankOf(in) == rank) {
        QFORGE_RETURN_IF_ERROR(SetInputPerm(node, i, q));
      } else if (!AllDimsOne(in->shape())) {
        QFORGE_ASSIGN_OR_RETURN(Value * nv, BroadcastConstant(in, q));
        if (nv != in) node->SetInput(i, nv);
      }
    }
    for (Value* out : node->outputs()) {
      if (out != nullptr && RankOf(out) == rank) SetPerm(out, q);
    }
    return absl::OkStatus();
  }

  absl::Status VisitConcat(Node* node, const Perm& q) {
    const int r = static_cast<int>(q.size());
    absl::StatusOr<int64_t> axis = node->GetInt("axis", 0);
    if (!axis.ok() || !AxisInRange(*axis, r)) return Plain(node);
    for (Value* in : node->inputs()) {
      if (in == nullptr || RankOf(in) != r) return Plain(node);
    }
    for (int i = 0; i < node->num_inputs(); ++i) {
      QFORGE_RETURN_IF_ERROR(SetInputPerm(node, i, q));
    }
    node->SetAttribute("axis", int64_t{Inverse(q)[NormAxis(*axis, r)]});
    SetPerm(node->output(0), q);
    return absl::OkStatus();
  }

  absl::Status VisitSplit(Node* node, const Perm& q) {
    const int r = static_cast<int>(q.size());
    absl::StatusOr<int64_t> axis = node->GetInt("axis", 0);
    if (!axis.ok() || !AxisInRange(*axis, r)) return Plain(node);
    QFORGE_RETURN_IF_ERROR(Plain(node, 1));  // Split sizes stay as they are.
    QFORGE_RETURN_IF_ERROR(SetInputPerm(node, 0, q));
    node->SetAttribute("axis", int64_t{Inverse(q)[NormAxis(*axis, r)]});
    for (Value* out : node->outputs()) SetPerm(out, q);
    return absl::OkStatus();
  }

  absl::Status VisitSoftmax(Node* node, const Perm& q) {
    const int r = static_cast<int>(q.size());
    const bool coerced_2d = opset_ > 0 && opset_ < 13;
    absl::StatusOr<int64_t> axis = node->GetInt("axis", coerced_2d ? 1 : -1);
    if (!axis.ok() || !AxisInRange(*axis, r)) return Plain(node);
    const int a = NormAxis(*axis, r);
    if (coerced_2d) {
      // Follows only when the flattened trailing block keeps its order.
      for (int i = 0; i < r; ++i) {
        if ((i >= a && q[i] != i) || (i < a && q[i] >= a)) return Plain(node);
      }
    } else {
      const int physical = Inverse(q)[a];
      // The int8 kernels take the last axis only.
      if (options_.int8_exact && IsQuantized(node) && physical != r - 1) {
        return Plain(node);
      }
      node->SetAttribute("axis", int64_t{physical});
    }
    QFORGE_RETURN_IF_ERROR(SetInputPerm(node, 0, q));
    SetPerm(node->output(0), q);
    return absl::OkStatus();
  }

  // The permutation left after removing original axes `removed` from `q`.
  static Perm InducedPerm(const Perm& q, const std::vector<bool>& removed) {
    const int r = static_cast<int>(q.size());
    std::vector<int> new_index(r, -1);
    for (int a = 0, k = 0; a < r; ++a) {
      if (!removed[a]) new_index[a] = k++;
    }
    Perm out;
    for (int i = 0; i < r; ++i) {
      if (!removed[q[i]]) out.push_back(new_index[q[i]]);
    }
    return out;
  }

  // Reads int64 axes from input `slot` (constant) or attribute "axes".
  // nullopt when they cannot be known.
  std::optional<std::vector<int64_t>> ReadAxes(const Node* node, int slot,
                                               bool* from_input) {
    *from_input = node->input(slot) != nullptr;
    if (*from_input) {
      const Value* v = node->input(slot);
      if (!v->is_constant() || v->constant()->dtype() != DataType::kInt64) {
        return std::nullopt;
      }
      return v->constant()->ToVector<int64_t>();
    }
    absl::StatusOr<std::vector<int64_t>> a = node->GetInts("axes", {});
    if (!a.ok()) return std::nullopt;
    return *a;
  }

  void WriteAxes(Node* node, int slot, bool to_input,
                 const std::vector<int64_t>& axes) {
    if (to_input) {
      Value* nv = IntsConstant(node->input(slot), axes,
                               absl::StrCat(node->name(), "_axes"));
      if (nv != node->input(slot)) node->SetInput(slot, nv);
    } else {
      node->SetAttribute("axes", axes);
    }
  }

  absl::Status VisitReduce(Node* node, const Perm& q, bool arg) {
    const int r = static_cast<int>(q.size());
    const Perm inv = Inverse(q);
    absl::StatusOr<int64_t> keepdims = node->GetInt("keepdims", 1);
    if (!keepdims.ok()) return Plain(node);
    std::vector<int64_t> axes;
    bool from_input = false;
    if (arg) {
      absl::StatusOr<int64_t> axis = node->GetInt("axis", 0);
      if (!axis.ok() || !AxisInRange(*axis, r)) return Plain(node);
      axes = {*axis};
    } else {
      std::optional<std::vector<int64_t>> a = ReadAxes(node, 1, &from_input);
      if (!a.has_value()) return Plain(node);
      axes = *a;
    }
    std::vector<bool> removed(r, false);
    if (axes.empty()) {
      absl::StatusOr<int64_t> noop = node->GetInt("noop_with_empty_axes", 0);
      if (!noop.ok()) return Plain(node);
      if (*noop == 0) removed.assign(r, true);
    }
    std::vector<int64_t> physical;
    for (int64_t a : axes) {
      if (!AxisInRange(a, r)) return Plain(node);
      removed[NormAxis(a, r)] = true;
      physical.push_back(inv[NormAxis(a, r)]);
    }
    QFORGE_RETURN_IF_ERROR(Plain(node, 1));
    QFORGE_RETURN_IF_ERROR(SetInputPerm(node, 0, q));
    if (arg) {
      node->SetAttribute("axis", physical[0]);
    } else if (!axes.empty()) {
      WriteAxes(node, 1, from_input, physical);
    }
    SetPerm(node->output(0), *keepdims ? q : InducedPerm(q, removed));
    return absl::OkStatus();
  }

  absl::Status VisitTranspose(Node* node, const Perm& q) {
    const int r = static_cast<int>(q.size());
    std::vector<int64_t> t;
    if (node->HasAttribute("perm")) {
      absl::StatusOr<std::vector<int64_t>> p = node->GetInts("perm", {});
      if (!p.ok() || static_cast<int>(p->size()) != r || !IsPermutation(*p)) {
        return Plain(node);
      }
      t = *p;
    } else {
      for (int i = r - 1; i >= 0; --i) t.push_back(i);
    }
    const Perm inv = Inverse(q);
    std::vector<int64_t> composed(r);
    for (int i = 0; i < r; ++i) composed[i] = inv[t[i]];
    QFORGE_RETURN_IF_ERROR(SetInputPerm(node, 0, q));
    node->SetAttribute("perm", composed);
    return absl::OkStatus();  // The output is in its original layout.
  }

  absl::Status VisitSqueeze(Node* node, const Perm& q) {
    const int r = static_cast<int>(q.size());
    const Perm inv = Inverse(q);
    bool from_input = false;
    std::optional<std::vector<int64_t>> axes = ReadAxes(node, 1, &from_input);
    if (!axes.has_value()) return Plain(node);
    std::vector<bool> removed(r, false);
    if (axes->empty()) {
      // Squeeze every dim of size 1: needs the static shape. The value's
      // shape is stored permuted: original dim a is stored at inv[a].
      const Shape& s = node->input(0)->shape();
      for (int a = 0; a < r; ++a) {
        const Dim& d = s.dim(inv[a]);
        if (!d.is_static()) return Plain(node);
        if (d.value == 1) axes->push_back(a);
      }
      from_input = opset_ == 0 || opset_ >= 13;
    }
    std::vector<int64_t> physical;
    for (int64_t a : *axes) {
      if (!AxisInRange(a, r)) return Plain(node);
      removed[NormAxis(a, r)] = true;
      physical.push_back(inv[NormAxis(a, r)]);
    }
    QFORGE_RETURN_IF_ERROR(SetInputPerm(node, 0, q));
    WriteAxes(node, 1, from_input, physical);
    SetPerm(node->output(0), InducedPerm(q, removed));
    return absl::OkStatus();
  }

  absl::Status VisitUnsqueeze(Node* node, const Perm& q) {
    const int r = static_cast<int>(q.size());
    bool from_input = false;
    std::optional<std::vector<int64_t>> axes = ReadAxes(node, 1, &from_input);
    if (!axes.has_value() || axes->empty()) return Plain(node);
    const int out_rank = r + static_cast<int>(axes->size());
    std::vector<bool> is_new(out_rank, false);
    for (int64_t a : *axes) {
      if (!AxisInRange(a, out_rank) || is_new[NormAxis(a, out_rank)]) {
        return Plain(node);
      }
      is_new[NormAxis(a, out_rank)] = true;
    }
    // Original input axis -> original output axis.
    std::vector<int> out_index(r);
    for (int j = 0, k = 0; j < out_rank; ++j) {
      if (!is_new[j]) out_index[k++] = j;
    }
    // The new axes sit at the same positions in the stored tensor (so the
    // axes need no rewrite); the others follow the input's stored order.
    Perm out_perm(out_rank);
    for (int j = 0, k = 0; j < out_rank; ++j) {
      out_perm[j] = is_new[j] ? j : out_index[q[k++]];
    }
    QFORGE_RETURN_IF_ERROR(SetInputPerm(node, 0, q));
    SetPerm(node->output(0), out_perm);
    return absl::OkStatus();
  }

  absl::Status VisitPad(Node* node, const Perm& q) {
    const int r = static_cast<int>(q.size());
    const Perm inv = Inverse(q);
    if (node->input(3) != nullptr) {
      // Pad-18 with explicit axes: rewrite the axes, keep the pads.
      bool unused;
      std::optional<std::vector<int64_t>> axes = ReadAxes(node, 3, &unused);
      if (!axes.has_value()) return Plain(node);
      std::vector<int64_t> physical;
      for (int64_t a : *axes) {
        if (!AxisInRange(a, r)) return Plain(node);
        physical.push_back(inv[NormAxis(a, r)]);
      }
      QFORGE_RETURN_IF_ERROR(SetInputPerm(node, 0, q));
      Value* nv = IntsConstant(node->input(3), physical,
                               absl::StrCat(node->name(), "_axes"));
      if (nv != node->input(3)) node->SetInput(3, nv);
      SetPerm(node->output(0), q);
      return absl::OkStatus();
    }
    std::vector<int64_t> pads;
    const bool from_input = node->input(1) != nullptr;
    if (from_input) {
      const Value* p = node->input(1);
      if (!p->is_constant() || p->constant()->dtype() != DataType::kInt64) {
        return Plain(node);
      }
      pads = p->constant()->ToVector<int64_t>();
    } else {
      absl::StatusOr<std::vector<int64_t>> p = node->GetInts("pads", {});
      if (!p.ok()) return Plain(node);
      pads = *p;
    }
    if (static_cast<int>(pads.size()) != 2 * r) return Plain(node);
    std::vector<int64_t> physical(2 * r);
    for (int i = 0; i < r; ++i) {
      physical[i] = pads[q[i]];
      physical[r + i] = pads[r + q[i]];
    }
    QFORGE_RETURN_IF_ERROR(SetInputPerm(node, 0, q));
    if (from_input) {
      Value* nv = IntsConstant(node->input(1), physical,
                               absl::StrCat(node->name(), "_pads"));
      if (nv != node->input(1)) node->SetInput(1, nv);
    } else {
      node->SetAttribute("pads", physical);
    }
    SetPerm(node->output(0), q);
    return absl::OkStatus();
  }

  absl::Status VisitSlice(Node* node, const Perm& q) {
    const int r = static_cast<int>(q.size());
    const Perm inv = Inverse(q);
    const bool input_form = node->num_inputs() > 1;
    std::vector<int64_t> axes;
    if (input_form) {
      if (node->input(3) != nullptr) {
        bool unused;
        std::optional<std::vector<int64_t>> a = ReadAxes(node, 3, &unused);
        if (!a.has_value()) return Plain(node);
        axes = *a;
      } else {
        // Default axes 0..len(starts)-1: needs the length of starts.
        const Value* starts = node->input(1);
        if (starts == nullptr || RankOf(starts) != 1 ||
            !starts->shape().dim(0).is_static()) {
          return Plain(node);
        }
        for (int64_t i = 0; i < starts->shape().dim(0).value; ++i)
          axes.push_back(i);
      }
    } else {
      absl::StatusOr<std::vector<int64_t>> starts = node->GetInts("starts", {});
      absl::StatusOr<std::vector<int64_t>> a = node->GetInts("axes", {});
      if (!starts.ok() || !a.ok()) return Plain(node);
      axes = *a;
      if (axes.empty()) {
        for (size_t i = 0; i < starts->size(); ++i) axes.push_back(i);
      }
    }
    std::vector<int64_t> physical;
    for (int64_t a : axes) {
      if (!AxisInRange(a, r)) return Plain(node);
      physical.push_back(inv[NormAxis(a, r)]);
    }
    QFORGE_RETURN_IF_ERROR(Plain(node, 1));
    QFORGE_RETURN_IF_ERROR(SetInputPerm(node, 0, q));
    if (input_form) {
      Value* old = node->input(3);
      Value* nv =
          IntsConstant(old, physical, absl::StrCat(node->name(), "_axes"));
      if (nv != old) node->SetInput(3, nv);
    } else {
      node->SetAttribute("axes", physical);
    }
    SetPerm(node->output(0), q);
    return absl::OkStatus();
  }

  absl::Status VisitLayerNorm(Node* node, const Perm& q) {
    const int r = static_cast<int>(q.size());
    absl::StatusOr<int64_t> axis = node->GetInt("axis", -1);
    if (!axis.ok() || !AxisInRange(*axis, r)) return Plain(node);
    const int a = NormAxis(*axis, r);
    // The normalized (trailing) axes must stay trailing and in order, so
    // that Scale and B still line up; the leading axes may be permuted.
    for (int i = 0; i < r; ++i) {
      if ((i >= a && q[i] != i) || (i < a && q[i] >= a)) return Plain(node);
    }
    QFORGE_RETURN_IF_ERROR(Plain(node, 1));
    QFORGE_RETURN_IF_ERROR(SetInputPerm(node, 0, q));
    for (Value* out : node->outputs()) {
      if (out != nullptr && RankOf(out) == r) SetPerm(out, q);
    }
    return absl::OkStatus();
  }

  absl::Status VisitQuantize(Node* node, const Perm& q) {
    const int r = static_cast<int>(q.size());
    const Value* scale = node->input(1);
    if (scale == nullptr || !scale->shape().rank_known()) return Plain(node);
    QFORGE_RETURN_IF_ERROR(Plain(node, 1));
    if (!AllDimsOne(scale->shape())) {
      absl::StatusOr<int64_t> axis = node->GetInt("axis", 1);
      if (!axis.ok() || !AxisInRange(*axis, r)) return Plain(node);
      node->SetAttribute("axis", int64_t{Inverse(q)[NormAxis(*axis, r)]});
    }
    QFORGE_RETURN_IF_ERROR(SetInputPerm(node, 0, q));
    SetPerm(node->output(0), q);
    return absl::OkStatus();
  }

  // --- Finishing -------------------------------------------------------------

  // Graph outputs get their original layout and names back.
  absl::Status RestoreOutputs() {
    std::vector<Value*> outputs = g_.outputs();
    bool changed = false;
    for (Value*& out : outputs) {
      if (!HasPerm(out)) continue;
      QFORGE_ASSIGN_OR_RETURN(Value * orig, Get(out, {}));
      const std::string name = out->name();
      QFORGE_RETURN_IF_ERROR(g_.RenameValue(
          out, g_.UniqueValueName(absl::StrCat(name, Suffix(PermOf(out))))));
      QFORGE_RETURN_IF_ERROR(g_.RenameValue(orig, name));
      for (Value*& o : outputs) {
        if (o == out) o = orig;
      }
      changed = true;
    }
    if (changed) g_.SetOutputs(outputs);
    return absl::OkStatus();
  }

  static bool IsTranspose(const Node* n) {
    return n != nullptr && n->op_type() == "Transpose" &&
           (n->domain().empty() || n->domain() == "ai.onnx");
  }

  static std::optional<std::vector<int64_t>> TransposePerm(const Node* n) {
    if (n->HasAttribute("perm")) {
      absl::StatusOr<std::vector<int64_t>> p = n->GetInts("perm", {});
      if (!p.ok() || !IsPermutation(*p)) return std::nullopt;
      return *p;
    }
    const int r = RankOf(n->input(0));
    if (r < 0) return std::nullopt;
    std::vector<int64_t> p;
    for (int i = r - 1; i >= 0; --i) p.push_back(i);
    return p;
  }

  void RemoveTranspose(Node* n) {
    inserted_.erase(n);
    g_.RemoveNode(n);
    ++stats_.transposes_removed;
  }

  // Folds Transpose(Transpose(x)) into one and bypasses identity Transposes.
  void FoldTransposes() {
    bool changed = true;
    while (changed) {
      changed = false;
      for (Node* n : g_.nodes()) {
        if (!IsTranspose(n) || n->input(0) == nullptr) continue;
        std::optional<std::vector<int64_t>> perm = TransposePerm(n);
        if (!perm.has_value()) continue;
        Node* inner = n->input(0)->producer();
        if (IsTranspose(inner) && inner->input(0) != nullptr) {
          std::optional<std::vector<int64_t>> ip = TransposePerm(inner);
          if (ip.has_value() && ip->size() == perm->size()) {
            std::vector<int64_t> composed(perm->size());
            for (size_t i = 0; i < perm->size(); ++i)
              composed[i] = (*ip)[(*perm)[i]];
            n->SetInput(0, inner->input(0));
            n->SetAttribute("perm", composed);
            Value* inner_out = inner->output(0);
            if (inner_out->consumers().empty() &&
                !inner_out->is_graph_output()) {
              RemoveTranspose(inner);
            }
            changed = true;
            break;  // Node list changed; restart.
          }
        }
        std::vector<int64_t> identity(perm->size());
        for (size_t i = 0; i < identity.size(); ++i) identity[i] = i;
        if (*perm != identity) continue;
        Value* in = n->input(0);
        Value* out = n->output(0);
        if (out == nullptr) continue;
        if (!out->is_graph_output()) {
          g_.ReplaceAllUses(out, in);
          RemoveTranspose(n);
          changed = true;
          break;
        }
        if (in->producer() != nullptr && !in->is_graph_output() &&
            !in->is_graph_input() && !in->is_constant()) {
          // The output keeps its name: hand it to the input value.
          const std::string name = out->name();
          const Shape shape = out->shape();
          g_.ReplaceAllUses(out, in);
          // `in` takes over the output's identity, stored as it was.
          const Perm out_perm = PermOf(out);
          RemoveTranspose(n);
          if (out_perm.empty()) {
            perm_.erase(in);
          } else {
            perm_[in] = out_perm;
          }
          if (g_.RenameValue(out,
                             g_.UniqueValueName(absl::StrCat(name, "_removed")))
                  .ok() &&
              g_.RenameValue(in, name).ok()) {
            in->set_shape(shape);
          }
          changed = true;
          break;
        }
      }
    }
  }

  Graph& g_;
  const Layout target_;
  const OpSchemaTable& schemas_;
  LayoutStats& stats_;
  const LayoutOptions options_;
  int64_t opset_ = 0;
  absl::flat_hash_map<const Value*, Perm> perm_;
  std::map<std::pair<const Value*, Perm>, Value*> cache_;
  absl::flat_hash_set<const Node*> inserted_;
};

}  // namespace

absl::Status ConvertLayout(Graph& graph, Layout target,
                           const OpSchemaTable& schemas, LayoutStats* stats,
                           const LayoutOptions& options) {
  LayoutStats local;
  LayoutStats& s = stats != nullptr ? *stats : local;
  s = LayoutStats();
  LayoutConverter converter(graph, target, schemas, s, options);
  return converter.Run();
}

}  // namespace qforge
