#include "qforge/quantize/quantizer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/table_transaction.h"

namespace qforge {

absl::Status OpQuantizer::Rewrite(QuantizeContext& ctx, Node& node) const {
  return absl::OkStatus();
}

namespace {
bool Overlaps(const OpKey& op, int since, int until, const OpKey& other_op,
              int other_since, int other_until) {
  return op == other_op && since <= other_until && other_since <= until;
}
}  // namespace

absl::Status QuantizerTable::Register(const OpKey& op,
                                      std::unique_ptr<OpQuantizer> quantizer,
                                      int since_version, int until_version) {
  absl::MutexLock lock(&mu_);
  for (const auto& e : entries_) {
    if (Overlaps(e->op, e->since_version, e->until_version, op, since_version,
                 until_version)) {
      return absl::AlreadyExistsError(absl::StrCat(
          "a quantizer for op ", op.ToString(), " (opsets ", e->since_version,
          "..", e->until_version,
          ") is already registered; use Replace() to override it"));
    }
  }
  entries_.push_back(std::make_unique<Entry>(
      Entry{op, since_version, until_version, std::move(quantizer)}));
  return absl::OkStatus();
}

void QuantizerTable::Replace(const OpKey& op, std::unique_ptr<OpQuantizer> quantizer,
                             int since_version, int until_version) {
  absl::MutexLock lock(&mu_);
  internal::EraseEntries(
      entries_,
      [&](const auto& e) {
        return Overlaps(e->op, e->since_version, e->until_version, op,
                        since_version, until_version);
      },
      !txn_snapshots_.empty(), txn_removed_);
  entries_.push_back(std::make_unique<Entry>(
      Entry{op, since_version, until_version, std::move(quantizer)}));
}

void QuantizerTable::Remove(const OpKey& op) {
  absl::MutexLock lock(&mu_);
  internal::EraseEntries(
      entries_, [&](const auto& e) { return e->op == op; },
      !txn_snapshots_.empty(), txn_removed_);
}

const OpQuantizer* QuantizerTable::Find(const OpKey& op, int64_t opset) const {
  absl::ReaderMutexLock lock(&mu_);
  const Entry* best = nullptr;
  for (const auto& e : entries_) {
    if (!(e->op == op)) continue;
    if (opset > 0 && (opset < e->since_version || opset > e->until_version)) continue;
    if (best == nullptr || e->since_version > best->since_version) best = e.get();
  }
  return best == nullptr ? nullptr : best->quantizer.get();
}

std::vector<std::string> QuantizerTable::List() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& e : entries_) {
    std::string range =
        e->until_version == INT_MAX
            ? absl::StrCat(e->since_version, "+")
            : absl::StrCat(e->since_version, "..", e->until_version);
    out.push_back(absl::StrCat(e->op.ToString(), " [opset ", range, "]"));
  }
  std::sort(out.begin(), out.end());
  return out;
}

void QuantizerTable::BeginTransaction() {
  absl::MutexLock lock(&mu_);
  internal::BeginTransaction(entries_, txn_snapshots_);
}

void QuantizerTable::CommitTransaction() {
  absl::MutexLock lock(&mu_);
  internal::CommitTransaction(txn_snapshots_, txn_removed_);
}

void QuantizerTable::RollbackTransaction() {
  absl::MutexLock lock(&mu_);
  internal::RollbackTransaction(entries_, txn_snapshots_, txn_removed_);
}

}  // namespace qforge
