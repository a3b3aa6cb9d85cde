#include "qforge/runtime/executor.h"

#include <cstring>
#include <new>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/str_cat.h"
#include "ir/tensor_transpose.h"
#include "qforge/core/status.h"
#include "qforge/ir/layout.h"
#include "qforge/registry.h"

namespace qforge {

struct Executor::Step {
  const Node* node;
  std::unique_ptr<OpKernel> kernel;
};

Executor::Executor(const Graph& graph) : graph_(graph) {}
Executor::~Executor() = default;

namespace {

// Nodes needed to compute `values`.
absl::flat_hash_set<const Node*> NodesNeededFor(
    const std::vector<const Value*>& values) {
  absl::flat_hash_set<const Node*> needed;
  std::vector<const Value*> work(values.begin(), values.end());
  absl::flat_hash_set<const Value*> seen;
  while (!work.empty()) {
    const Value* v = work.back();
    work.pop_back();
    if (v == nullptr || !seen.insert(v).second) continue;
    const Node* p = v->producer();
    if (p != nullptr && needed.insert(p).second) {
      for (const Value* in : p->inputs()) work.push_back(in);
    }
  }
  return needed;
}

bool IsQuantizedGraph(const Graph& graph) {
  for (const Value* v : graph.values()) {
    if (v->quant().has_value()) return true;
  }
  return false;
}

}  // namespace

const Tensor& Executor::ToOriginalLayout(const Value& value,
                                         const Tensor& tensor,
                                         Tensor& scratch) const {
  auto it = to_original_.find(&value);
  if (it == to_original_.end() ||
      static_cast<int>(it->second.size()) != tensor.rank()) {
    return tensor;
  }
  const std::vector<int> perm(it->second.begin(), it->second.end());
  scratch = internal::TransposeTensor(tensor, perm);
  return scratch;
}

absl::StatusOr<std::unique_ptr<Executor>> Executor::Prepare(
    const Graph& original, const Registry& registry,
    const ExecutorOptions& options) {
  auto executor = std::unique_ptr<Executor>(new Executor(original));
  if (IsQuantizedGraph(original)) {
    // The int8 spatial kernels run NHWC (docs/int8_kernels.md).
    auto copy = std::make_unique<Graph>(original.Clone());
    LayoutStats stats;
    const absl::Status converted = ConvertLayout(
        *copy, Layout::kNHWC, registry.schemas(), &stats, {.int8_exact = true});
    if (!converted.ok()) {
      return absl::Status(
          converted.code(),
          absl::StrCat("converting the quantized graph to NHWC: ",
                       converted.message()));
    }
    if (stats.nodes_converted > 0 || stats.transposes_removed > 0 ||
        stats.constants_permuted > 0) {
      for (const auto& [name, perm] : stats.permuted_values) {
        const Value* v = copy->FindValue(name);
        if (v == nullptr || original.FindValue(name) == nullptr) continue;
        std::vector<int64_t> inverse(perm.size());
        for (size_t i = 0; i < perm.size(); ++i) inverse[perm[i]] = i;
        executor->to_original_[v] = std::move(inverse);
      }
      executor->converted_ = std::move(copy);
    }
  }
  const Graph& graph = executor->executed_graph();
  QFORGE_ASSIGN_OR_RETURN(std::vector<Node*> order, graph.TopologicalOrder());
  ArithmeticProfile profile = ArithmeticProfile::kOnnxRuntime;
  if (options.profile.has_value()) {
    profile = *options.profile;
  } else if (auto it = graph.metadata().find("qforge.arithmetic_profile");
             it != graph.metadata().end()) {
    QFORGE_ASSIGN_OR_RETURN(profile, ParseArithmeticProfile(it->second));
  }
  absl::flat_hash_set<const Node*> wanted;
  if (!options.outputs.empty()) {
    std::vector<const Value*> values;
    for (const std::string& name : options.outputs) {
      const Value* v = graph.FindValue(name);
      if (v == nullptr) {
        return absl::NotFoundError(absl::StrCat(
            "cannot prepare output '", name, "': no such value in the graph"));
      }
      values.push_back(v);
    }
    wanted = NodesNeededFor(values);
    executor->all_prepared_ = false;
  }
  for (const Node* node : order) {
    if (!executor->all_prepared_ && !wanted.contains(node)) continue;
    const OpKey key = OpKey::Of(*node);
    const Value* first = node->input(0);
    const DataType dtype = first ? first->dtype() : DataType::kUndefined;
    if (first != nullptr && dtype == DataType::kUndefined) {
      return absl::FailedPreconditionError(
          absl::StrCat(node->Describe(), ": input '", first->name(),
                       "' has no dtype; run VerifyGraph() on the graph before "
                       "preparing it"));
    }
    const KernelDef* def = registry.kernels().Find(key, dtype);
    if (def == nullptr) {
      if (registry.kernels().Has(key)) {
        return absl::UnimplementedError(
            absl::StrCat(node->Describe(), ": no kernel for input dtype ",
                         DataTypeName(dtype)));
      }
      // Calibration and float runs need a float kernel; say so.
      const bool float_run =
          dtype == DataType::kUndefined || IsFloatingPoint(dtype);
      return absl::NotFoundError(absl::StrCat(
          "op ", key.ToString(), " (node '", node->name(), "') has no ",
          float_run ? "float " : "",
          "kernel: load its plugin with --plugin or register one"));
    }
    KernelInitContext init{*node, {}};
    init.profile = profile;
    if (key.domain.empty()) {
      init.opset = graph.onnx_opset();
    } else if (auto it = graph.opsets().find(key.domain);
               it != graph.opsets().end()) {
      init.opset = it->second;
    }
    for (const Value* in : node->inputs()) {
      init.constant_inputs.push_back(in ? in->constant() : nullptr);
    }
    absl::StatusOr<std::unique_ptr<OpKernel>> kernel;
    try {
      kernel = def->create(init);
    } catch (const std::bad_alloc&) {
      return absl::ResourceExhaustedError(
          absl::StrCat(node->Describe(), ": out of memory preparing kernel"));
    }
    if (!kernel.ok()) return kernel.status();
    executor->steps_.push_back(Step{node, std::move(*kernel)});
  }
  return executor;
}

absl::StatusOr<TensorMap> Executor::Run(const TensorMap& inputs,
                                        const RunOptions& options) const {
  // Resolve what to fetch.
  const Graph& graph = executed_graph();
  std::vector<const Value*> fetch;
  if (options.fetch.empty()) {
    fetch.assign(graph.outputs().begin(), graph.outputs().end());
  } else {
    for (const std::string& name : options.fetch) {
      const Value* v = graph.FindValue(name);
      if (v == nullptr) {
        return absl::NotFoundError(absl::StrCat(
            "cannot fetch '", name, "': no such value in the graph"));
      }
      fetch.push_back(v);
    }
  }

  // Which steps are needed: walk back from the fetched values.
  const absl::flat_hash_set<const Node*> needed = NodesNeededFor(fetch);
  if (!all_prepared_) {
    absl::flat_hash_set<const Node*> prepared;
    for (const Step& step : steps_) prepared.insert(step.node);
    for (const Node* n : needed) {
      if (!prepared.contains(n)) {
        return absl::FailedPreconditionError(
            absl::StrCat(n->Describe(),
                         " is needed for this run but was not prepared "
                         "(ExecutorOptions::outputs)"));
      }
    }
  }

  // Remaining use counts drive the memory plan: a tensor is released after
  // its last needed consumer ran, unless it is fetched.
  absl::flat_hash_map<const Value*, int> uses;
  for (const Step& step : steps_) {
    if (!needed.contains(step.node)) continue;
    for (const Value* in : step.node->inputs()) {
      if (in != nullptr) ++uses[in];
    }
  }
  absl::flat_hash_set<const Value*> fetched(fetch.begin(), fetch.end());

  // node_hash_map: kernels hold pointers to tensors while others are added.
  absl::node_hash_map<const Value*, Tensor> live;
  // Graph inputs: check presence, dtype and static dims.
  for (const Value* in : graph.inputs()) {
    if (in->is_constant()) continue;  // An initializer listed as input.
    auto it = inputs.find(in->name());
    if (it == inputs.end()) {
      if (!uses.contains(in) && !fetched.contains(in)) continue;
      return absl::InvalidArgumentError(
          absl::StrCat("graph input '", in->name(), "' was not given"));
    }
    const Tensor& t = it->second;
    if (in->dtype() != DataType::kUndefined && t.dtype() != in->dtype()) {
      return absl::InvalidArgumentError(
          absl::StrCat("graph input '", in->name(), "' expects ",
                       DataTypeName(in->dtype()), ", got ", t.DebugString()));
    }
    const Shape& s = in->shape();
    if (s.rank_known()) {
      bool ok = s.rank() == t.rank();
      for (int i = 0; ok && i < s.rank(); ++i) {
        if (s.dim(i).is_static() && s.dim(i).value != t.dim(i)) ok = false;
      }
      if (!ok) {
        return absl::InvalidArgumentError(
            absl::StrCat("graph input '", in->name(), "' expects shape ",
                         s.ToString(), ", got ", DimsToString(t.dims())));
      }
    }
    live.emplace(in, t);
  }
  for (const auto& [name, t] : inputs) {
    const Value* v = graph.FindValue(name);
    if (v == nullptr || !v->is_graph_input()) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", name, "' is not an input of the graph"));
    }
  }

  auto lookup = [&](const Value* v) -> const Tensor* {
    if (v == nullptr) return nullptr;
    if (v->is_constant()) return v->constant();
    auto it = live.find(v);
    return it == live.end() ? nullptr : &it->second;
  };

  std::vector<const Tensor*> in_ptrs;
  std::vector<Tensor*> out_ptrs;
  for (const Step& step : steps_) {
    const Node& node = *step.node;
    if (!needed.contains(&node)) continue;
    in_ptrs.clear();
    for (int i = 0; i < node.num_inputs(); ++i) {
      const Value* v = node.input(i);
      const Tensor* t = lookup(v);
      if (v != nullptr && t == nullptr) {
        return absl::InternalError(absl::StrCat(
            node.Describe(), ": input '", v->name(), "' is not available"));
      }
      in_ptrs.push_back(t);
    }
    out_ptrs.clear();
    for (const Value* v : node.outputs()) {
      out_ptrs.push_back(v == nullptr ? nullptr : &live[v]);
    }
    KernelContext ctx(node, in_ptrs, out_ptrs);
    absl::Status status;
    try {
      status = step.kernel->Run(ctx);
    } catch (const std::bad_alloc&) {
      status = absl::ResourceExhaustedError(
          absl::StrCat(node.Describe(), ": out of memory"));
    }
    if (!status.ok()) return status;
    if (options.observer) {
      for (int i = 0; i < node.num_outputs(); ++i) {
        const Value* v = node.output(i);
        if (v == nullptr) continue;
        if (converted_ == nullptr) {
          QFORGE_RETURN_IF_ERROR(options.observer(node, *v, live[v]));
          continue;
        }
        // Report graph()'s value of that name, in its layout, with its
        // producer; values only the conversion added are not reported.
        const Value* orig = graph_.FindValue(v->name());
        if (orig == nullptr || orig->producer() == nullptr) continue;
        Tensor scratch;
        QFORGE_RETURN_IF_ERROR(options.observer(
            *orig->producer(), *orig, ToOriginalLayout(*v, live[v], scratch)));
      }
    }
    // Release inputs whose last use this was.
    for (const Value* v : node.inputs()) {
      if (v == nullptr) continue;
      auto u = uses.find(v);
      if (u != uses.end() && --u->second == 0 && !fetched.contains(v)) {
        live.erase(v);
      }
    }
    // Outputs nobody needs are dropped at once.
    for (const Value* v : node.outputs()) {
      if (v != nullptr && !uses.contains(v) && !fetched.contains(v)) {
        live.erase(v);
      }
    }
  }

  TensorMap result;
  for (const Value* v : fetch) {
    const Tensor* t = lookup(v);
    if (t == nullptr) {
      return absl::InternalError(
          absl::StrCat("value '", v->name(), "' was not computed"));
    }
    Tensor scratch;
    result[v->name()] = ToOriginalLayout(*v, *t, scratch);
  }
  return result;
}

}  // namespace qforge
