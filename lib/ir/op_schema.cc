#include "qforge/ir/op_schema.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/table_transaction.h"

namespace qforge {

OpKey OpKey::Of(const Node& node) {
  return OpKey{node.domain() == "ai.onnx" ? std::string() : node.domain(),
               node.op_type()};
}

std::string OpKey::ToString() const {
  return domain.empty() ? op_type : absl::StrCat(domain, "::", op_type);
}

InferenceContext::InferenceContext(const Node& node,
                                   std::vector<DataType> input_dtypes,
                                   std::vector<Shape> input_shapes,
                                   std::vector<const Tensor*> input_constants)
    : node_(node),
      input_dtypes_(std::move(input_dtypes)),
      input_shapes_(std::move(input_shapes)),
      input_constants_(std::move(input_constants)),
      output_dtypes_(node.num_outputs(), DataType::kUndefined),
      output_shapes_(node.num_outputs()) {}

bool InferenceContext::has_input(int i) const {
  return i < num_inputs() && node_.input(i) != nullptr;
}

std::string InferenceContext::input_name(int i) const {
  const Value* v = node_.input(i);
  return v == nullptr ? absl::StrCat("<input ", i, ">") : v->name();
}

void InferenceContext::set_output(int i, DataType dtype, Shape shape) {
  if (i >= num_outputs()) return;
  output_dtypes_[i] = dtype;
  output_shapes_[i] = std::move(shape);
}

absl::Status InferenceContext::Error(absl::string_view message) const {
  return absl::InvalidArgumentError(absl::StrCat(node_.Describe(), ": ", message));
}

namespace {
bool Overlaps(const OpSchema& a, const OpSchema& b) {
  return a.key == b.key && a.since_version <= b.until_version &&
         b.since_version <= a.until_version;
}
}  // namespace

absl::Status OpSchemaTable::Register(OpSchema schema) {
  absl::MutexLock lock(&mu_);
  for (const auto& s : schemas_) {
    if (Overlaps(*s, schema)) {
      return absl::AlreadyExistsError(absl::StrCat(
          "a schema for op ", schema.key.ToString(), " (opsets ",
          s->since_version, "..", s->until_version,
          ") is already registered; use Replace() to override it"));
    }
  }
  schemas_.push_back(std::make_unique<OpSchema>(std::move(schema)));
  return absl::OkStatus();
}

void OpSchemaTable::Replace(OpSchema schema) {
  absl::MutexLock lock(&mu_);
  internal::EraseEntries(
      schemas_, [&](const auto& s) { return Overlaps(*s, schema); },
      !txn_snapshots_.empty(), txn_removed_);
  schemas_.push_back(std::make_unique<OpSchema>(std::move(schema)));
}

const OpSchema* OpSchemaTable::Find(const OpKey& key, int64_t opset) const {
  absl::ReaderMutexLock lock(&mu_);
  const OpSchema* best = nullptr;
  for (const auto& s : schemas_) {
    if (!(s->key == key)) continue;
    if (opset > 0 && (opset < s->since_version || opset > s->until_version)) {
      continue;
    }
    if (best == nullptr || s->since_version > best->since_version) best = s.get();
  }
  return best;
}

std::vector<const OpSchema*> OpSchemaTable::List() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<const OpSchema*> out;
  for (const auto& s : schemas_) out.push_back(s.get());
  std::sort(out.begin(), out.end(), [](const OpSchema* a, const OpSchema* b) {
    return std::tie(a->key.domain, a->key.op_type, a->since_version) <
           std::tie(b->key.domain, b->key.op_type, b->since_version);
  });
  return out;
}

void OpSchemaTable::Remove(const OpKey& key) {
  absl::MutexLock lock(&mu_);
  internal::EraseEntries(
      schemas_, [&](const auto& s) { return s->key == key; },
      !txn_snapshots_.empty(), txn_removed_);
}

void OpSchemaTable::BeginTransaction() {
  absl::MutexLock lock(&mu_);
  internal::BeginTransaction(schemas_, txn_snapshots_);
}

void OpSchemaTable::CommitTransaction() {
  absl::MutexLock lock(&mu_);
  internal::CommitTransaction(txn_snapshots_, txn_removed_);
}

void OpSchemaTable::RollbackTransaction() {
  absl::MutexLock lock(&mu_);
  internal::RollbackTransaction(schemas_, txn_snapshots_, txn_removed_);
}

}  // namespace qforge
