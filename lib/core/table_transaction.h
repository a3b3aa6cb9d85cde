// Transactions over the Registry tables (schemas, kernels, quantizers).
//
// Each table keeps its entries as a vector of unique_ptr. A transaction
// snapshots the entry pointers when it begins; while one is open, entries
// that Replace() or Remove() take out are kept alive in a side list instead
// of being destroyed. Commit forgets the snapshot; rollback rebuilds the
// vector from the snapshot with the very same objects (pointers handed out
// before the transaction stay valid) and destroys what was added since.
// Transactions nest; the side list is emptied when the outermost one ends.
#ifndef QFORGE_LIB_CORE_TABLE_TRANSACTION_H_
#define QFORGE_LIB_CORE_TABLE_TRANSACTION_H_

#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace qforge::internal {

// Removes the entries matching `pred`; inside a transaction they move to
// `removed` instead of being destroyed.
template <typename T, typename Pred>
void EraseEntries(std::vector<std::unique_ptr<T>>& entries, Pred pred,
                  bool in_transaction,
                  std::vector<std::unique_ptr<T>>& removed) {
  std::vector<std::unique_ptr<T>> kept;
  kept.reserve(entries.size());
  for (std::unique_ptr<T>& e : entries) {
    if (!pred(e)) {
      kept.push_back(std::move(e));
    } else if (in_transaction) {
      removed.push_back(std::move(e));
    }
  }
  entries = std::move(kept);
}

template <typename T>
void BeginTransaction(const std::vector<std::unique_ptr<T>>& entries,
                      std::vector<std::vector<const T*>>& snapshots) {
  std::vector<const T*> snapshot;
  snapshot.reserve(entries.size());
  for (const auto& e : entries) snapshot.push_back(e.get());
  snapshots.push_back(std::move(snapshot));
}

template <typename T>
void CommitTransaction(std::vector<std::vector<const T*>>& snapshots,
                       std::vector<std::unique_ptr<T>>& removed) {
  if (snapshots.empty()) return;
  snapshots.pop_back();
  if (snapshots.empty()) removed.clear();
}

template <typename T>
void RollbackTransaction(std::vector<std::unique_ptr<T>>& entries,
                         std::vector<std::vector<const T*>>& snapshots,
                         std::vector<std::unique_ptr<T>>& removed) {
  if (snapshots.empty()) return;
  std::vector<const T*> snapshot = std::move(snapshots.back());
  snapshots.pop_back();
  absl::flat_hash_map<const T*, std::unique_ptr<T>> pool;
  for (auto& e : entries) pool[e.get()] = std::move(e);
  for (auto& e : removed) pool[e.get()] = std::move(e);
  entries.clear();
  removed.clear();
  for (const T* p : snapshot) {
    auto it = pool.find(p);
    if (it == pool.end())
      continue;  // Cannot happen: snapshot entries stay alive.
    entries.push_back(std::move(it->second));
    pool.erase(it);
  }
  // What is left was either added since this transaction began (destroyed
  // now) or removed earlier inside an enclosing transaction (kept for it).
  if (!snapshots.empty()) {
    for (auto& [p, e] : pool) removed.push_back(std::move(e));
  }
}

}  // namespace qforge::internal

#endif  // QFORGE_LIB_CORE_TABLE_TRANSACTION_H_
