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
// The graph must have been verified (VerifyGraph, which loaders run) so that
// every value has a dtype, and must outlive the Executor, which does not copy
// it.
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

  const Graph& graph() const { return graph_; }

 private:
  struct Step;
  Executor(const Graph& graph);

  const Graph& graph_;
  std::vector<Step> steps_;
  // Nodes prepared (all when ExecutorOptions::outputs was empty).
  bool all_prepared_ = true;
};

}  // namespace qforge

#endif  // QFORGE_RUNTIME_EXECUTOR_H_
