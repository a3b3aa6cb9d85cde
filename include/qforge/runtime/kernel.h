// Kernels: how an op computes, and the table that finds one for a node.
//
// A kernel is created once per node when a model is prepared (KernelFactory:
// it may read attributes and constant inputs, e.g. to pack weights) and then
// run many times, possibly from several threads at once: OpKernel::Run is
// const and must keep no per-run state in the kernel.
//
// Run reads its inputs and writes its outputs through KernelContext. Output
// shapes are decided by the kernel at run time (Tensor::Reset), so that a
// change of batch size or a data-dependent shape needs no re-preparation.
//
// KernelTable is the kernel part of qforge::Registry, keyed by op and by the
// dtype of the first input (kUndefined matches any dtype). Duplicate
// registration is an AlreadyExists error; Replace() overrides. Lookups are
// thread-safe.
#ifndef QFORGE_RUNTIME_KERNEL_H_
#define QFORGE_RUNTIME_KERNEL_H_

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "qforge/core/arithmetic_profile.h"
#include "qforge/core/data_type.h"
#include "qforge/core/export.h"
#include "qforge/core/tensor.h"
#include "qforge/ir/graph.h"
#include "qforge/ir/op_schema.h"

namespace qforge {

class QFORGE_EXPORT KernelContext {
 public:
  KernelContext(const Node& node, std::span<const Tensor* const> inputs,
                std::span<Tensor* const> outputs)
      : node_(node), inputs_(inputs), outputs_(outputs) {}

  const Node& node() const { return node_; }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  // Input i, or nullptr when omitted.
  const Tensor* input(int i) const {
    return i < num_inputs() ? inputs_[i] : nullptr;
  }
  // Output i, or nullptr when the graph does not use it.
  Tensor* output(int i) const {
    return i < num_outputs() ? outputs_[i] : nullptr;
  }
  // An InvalidArgument error prefixed with the node's description.
  absl::Status Error(absl::string_view message) const;

 private:
  const Node& node_;
  std::span<const Tensor* const> inputs_;
  std::span<Tensor* const> outputs_;
};

class QFORGE_EXPORT OpKernel {
 public:
  virtual ~OpKernel() = default;
  virtual absl::Status Run(KernelContext& ctx) const = 0;
};

// Wraps a stateless function as a kernel.
class QFORGE_EXPORT FunctionKernel final : public OpKernel {
 public:
  using Fn = std::function<absl::Status(KernelContext&)>;
  explicit FunctionKernel(Fn fn) : fn_(std::move(fn)) {}
  absl::Status Run(KernelContext& ctx) const override { return fn_(ctx); }

 private:
  Fn fn_;
};

// What a factory sees when a kernel is created for a node.
struct KernelInitContext {
  const Node& node;
  // Constant data of each input, nullptr when the input is not constant.
  std::vector<const Tensor*> constant_inputs;
  // The opset the graph imports for the node's domain, 0 when unknown. Ops
  // carry the semantics of that opset; the few whose semantics changed
  // between opsets with the same attributes (e.g. Softmax at 13) read it
  // here. 0 means "the newest semantics".
  int64_t opset = 0;
  // Whose integer arithmetic int8 kernels reproduce.
  ArithmeticProfile profile = ArithmeticProfile::kOnnxRuntime;
};

using KernelFactory = std::function<absl::StatusOr<std::unique_ptr<OpKernel>>(
    const KernelInitContext&)>;

// A factory for a kernel that is a plain function with no prepared state.
QFORGE_EXPORT KernelFactory StatelessKernel(FunctionKernel::Fn fn);

struct KernelDef {
  OpKey op;
  // dtype of the first input this kernel accepts; kUndefined accepts any.
  DataType input_dtype = DataType::kUndefined;
  KernelFactory create;
};

class QFORGE_EXPORT KernelTable {
 public:
  KernelTable() = default;
  KernelTable(const KernelTable&) = delete;
  KernelTable& operator=(const KernelTable&) = delete;

  absl::Status Register(KernelDef def);
  void Replace(KernelDef def);
  // The kernel for `op` whose input dtype matches exactly, else the one that
  // accepts any dtype, else nullptr.
  const KernelDef* Find(const OpKey& op, DataType input_dtype) const;
  // True when any kernel is registered for `op`.
  bool Has(const OpKey& op) const;
  std::vector<const KernelDef*> List() const;

 private:
  // Registry::Transaction: all-or-nothing changes (lib/core/table_transaction.h).
  friend class Registry;
  void BeginTransaction();
  void CommitTransaction();
  void RollbackTransaction();

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<KernelDef>> defs_ ABSL_GUARDED_BY(mu_);
  // Snapshots of open transactions, and entries taken out while one is open
  // (kept alive so that a rollback restores the same objects).
  std::vector<std::vector<const KernelDef*>> txn_snapshots_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<KernelDef>> txn_removed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace qforge

#endif  // QFORGE_RUNTIME_KERNEL_H_
