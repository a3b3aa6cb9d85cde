#include "qforge/runtime/kernel.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/table_transaction.h"

namespace qforge {

absl::Status KernelContext::Error(absl::string_view message) const {
  return absl::InvalidArgumentError(absl::StrCat(node_.Describe(), ": ", message));
}

KernelFactory StatelessKernel(FunctionKernel::Fn fn) {
  return [fn = std::move(fn)](const KernelInitContext&)
             -> absl::StatusOr<std::unique_ptr<OpKernel>> {
    return std::make_unique<FunctionKernel>(fn);
  };
}

absl::Status KernelTable::Register(KernelDef def) {
  absl::MutexLock lock(&mu_);
  for (const auto& d : defs_) {
    if (d->op == def.op && d->input_dtype == def.input_dtype) {
      return absl::AlreadyExistsError(absl::StrCat(
          "a kernel for op ", def.op.ToString(), " with input dtype ",
          DataTypeName(def.input_dtype),
          " is already registered; use Replace() to override it"));
    }
  }
  defs_.push_back(std::make_unique<KernelDef>(std::move(def)));
  return absl::OkStatus();
}

void KernelTable::Replace(KernelDef def) {
  absl::MutexLock lock(&mu_);
  internal::EraseEntries(
      defs_,
      [&](const auto& d) {
        return d->op == def.op && d->input_dtype == def.input_dtype;
      },
      !txn_snapshots_.empty(), txn_removed_);
  defs_.push_back(std::make_unique<KernelDef>(std::move(def)));
}

const KernelDef* KernelTable::Find(const OpKey& op, DataType input_dtype) const {
  absl::ReaderMutexLock lock(&mu_);
  const KernelDef* any = nullptr;
  for (const auto& d : defs_) {
    if (!(d->op == op)) continue;
    if (d->input_dtype == input_dtype) return d.get();
    if (d->input_dtype == DataType::kUndefined) any = d.get();
  }
  return any;
}

bool KernelTable::Has(const OpKey& op) const {
  absl::ReaderMutexLock lock(&mu_);
  return std::any_of(defs_.begin(), defs_.end(),
                     [&](const auto& d) { return d->op == op; });
}

std::vector<const KernelDef*> KernelTable::List() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<const KernelDef*> out;
  for (const auto& d : defs_) out.push_back(d.get());
  return out;
}

void KernelTable::BeginTransaction() {
  absl::MutexLock lock(&mu_);
  internal::BeginTransaction(defs_, txn_snapshots_);
}

void KernelTable::CommitTransaction() {
  absl::MutexLock lock(&mu_);
  internal::CommitTransaction(txn_snapshots_, txn_removed_);
}

void KernelTable::RollbackTransaction() {
  absl::MutexLock lock(&mu_);
  internal::RollbackTransaction(defs_, txn_snapshots_, txn_removed_);
}

}  // namespace qforge
