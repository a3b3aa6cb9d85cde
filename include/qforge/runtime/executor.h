// Executor: prepares a graph once and runs it many times.
//
// Prepare() topologically orders the graph, creates one kernel per node
// (weights packed there), and plans memory: each intermediate tensor is
// released right after its last consumer has run. Run() is const and
// thread-safe: every call has its own tensors, so one prepared model can run
// from several threads at once. Shapes are decided at run time, so inputs of
// another batch size need no re-preparation.
//
// A TensorObserver sees every intermediate tensor as it is produced; it is
// the basis of calibration and of layer-wise validation. RunOptions::fetch
// limits a run to the nodes needed for the named values.
//
// A quantized graph (a value carries QuantParams) runs channels-last: Prepare
// converts a private copy with ConvertLayout(kNHWC, int8_exact) so that the
// int8 Conv / pooling kernels read and write NHWC with no transposes between
// them (docs/int8_kernels.md). This is invisible to callers: inputs, outputs,
// fetched values and the tensors an observer sees keep the original names,
// layouts and Values (Transposes the pass inserted are not observed).
//
// The graph must have been verified (VerifyGraph, which loaders run) so that
// every value has a dtype, and must outlive the Executor, which does not copy
// it (except for the converted copy of a quantized graph).
#ifndef QFORGE_RUNTIME_EXECUTOR_H_
#define QFORGE_RUNTIME_EXECUTOR_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "qforge/core/arithmetic_profile.h"
#include "qforge/core/export.h"
#include "qforge/core/tensor.h"
#include "qforge/ir/graph.h"
#include "qforge/runtime/kernel.h"

namespace qforge {

class Registry;

// Named tensors, e.g. graph inputs or outputs, ordered by name.
using TensorMap = std::map<std::string, Tensor>;

// Called for each node output right after the node ran. Returning an error
// stops the run with that error.
using TensorObserver = std::function<absl::Status(
    const Node& node, const Value& value, const Tensor& tensor)>;

struct RunOptions {
  // Values to return. Empty: the graph outputs. Only the nodes these depend
  // on run.
  std::vector<std::string> fetch;
  // Sees every tensor produced during the run.
  TensorObserver observer;
};

struct ExecutorOptions {
  // Values this executor will ever be asked to fetch. Empty: every node is
  // prepared. Otherwise only the nodes they depend on are, so a node with no
  // kernel that none of them needs does not stop preparation.
  std::vector<std::string> outputs;
  // Integer arithmetic of the int8 kernels. Unset: the graph's
  // "qforge.arithmetic_profile" metadata, else onnxruntime.
  std::optional<ArithmeticProfile> profile;
};

class QFORGE_EXPORT Executor {
 public:
  static absl::StatusOr<std::unique_ptr<Executor>> Prepare(
      const Graph& graph, const Registry& registry,
      const ExecutorOptions& options = {});

  ~Executor();

  // Runs with `inputs` keyed by graph input name; returns the fetched values
  // (by default the graph outputs) keyed by name. Checks that each input is
  // present with the declared dtype and rank and matching static dims.
  absl::StatusOr<TensorMap> Run(const TensorMap& inputs,
                                const RunOptions& options = {}) const;

  // The graph given to Prepare.
  const Graph& graph() const { return graph_; }
  // The graph the kernels run: graph() or its NHWC copy.
  const Graph& executed_graph() const {
    return converted_ != nullptr ? *converted_ : graph_;
  }

 private:
  struct Step;
  Executor(const Graph& graph);

  // `tensor` of the executed graph's `value` in the layout of graph()'s value
  // of that name: `tensor` itself, or its transposition put in `scratch`.
  const Tensor& ToOriginalLayout(const Value& value, const Tensor& tensor,
                                 Tensor& scratch) const;

  const Graph& graph_;
  // The converted copy of a quantized graph, and its values stored permuted
  // (the inverse permutation back to graph()'s layout).
  std::unique_ptr<Graph> converted_;
  std::map<const Value*, std::vector<int64_t>> to_original_;
  std::vector<Step> steps_;
  // Nodes prepared (all when ExecutorOptions::outputs was empty).
  bool all_prepared_ = true;
};

}  // namespace qforge

#endif  // QFORGE_RUNTIME_EXECUTOR_H_
