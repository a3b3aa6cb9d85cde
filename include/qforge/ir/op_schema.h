// Op schemas: arity, dtype rules and shape inference per op.
//
// An OpSchema describes one op ({domain, op_type}) over a range of opset
// versions: how many inputs and outputs it takes and an inference function
// that checks input dtypes and derives output dtypes and shapes. The
// verifier (verifier.h) runs these over a graph. Ops without a schema are
// allowed: they are kept opaque, with the dtypes and shapes the model file
// declared.
//
// OpSchemaTable is the schema part of qforge::Registry. It is filled by
// explicit calls; registering a schema twice for the same op and opset is
// an AlreadyExists error, and Replace() is the explicit way to override.
// Lookups are thread-safe.
#ifndef QFORGE_IR_OP_SCHEMA_H_
#define QFORGE_IR_OP_SCHEMA_H_

#include <climits>
#include <functional>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "qforge/core/data_type.h"
#include "qforge/core/export.h"
#include "qforge/core/shape.h"
#include "qforge/core/tensor.h"
#include "qforge/ir/graph.h"

namespace qforge {

class Registry;

// Identifies an op: {domain, op_type}. The default ONNX domain is "".
struct QFORGE_EXPORT OpKey {
  std::string domain;
  std::string op_type;

  // Normalizes "ai.onnx" to "".
  static OpKey Of(const Node& node);
  std::string ToString() const;
  bool operator==(const OpKey& other) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const OpKey& key) {
    return H::combine(std::move(h), key.domain, key.op_type);
  }
};

// What an inference function sees of a node: its attributes, the dtype,
// shape and (when constant) data of each input; it sets each output's dtype
// and shape.
class QFORGE_EXPORT InferenceContext {
 public:
  InferenceContext(const Node& node, std::vector<DataType> input_dtypes,
                   std::vector<Shape> input_shapes,
                   std::vector<const Tensor*> input_constants);

  const Node& node() const { return node_; }
  int num_inputs() const { return static_cast<int>(input_dtypes_.size()); }
  int num_outputs() const { return node_.num_outputs(); }
  // False for omitted optional inputs.
  bool has_input(int i) const;
  DataType input_dtype(int i) const { return input_dtypes_[i]; }
  const Shape& input_shape(int i) const { return input_shapes_[i]; }
  // The input's data when it is a constant, else nullptr.
  const Tensor* input_constant(int i) const { return input_constants_[i]; }
  // Name of input i for messages.
  std::string input_name(int i) const;

  void set_output(int i, DataType dtype, Shape shape);
  DataType output_dtype(int i) const { return output_dtypes_[i]; }
  const Shape& output_shape(int i) const { return output_shapes_[i]; }

  // An InvalidArgument error prefixed with the node's description.
  absl::Status Error(absl::string_view message) const;

 private:
  const Node& node_;
  std::vector<DataType> input_dtypes_;
  std::vector<Shape> input_shapes_;
  std::vector<const Tensor*> input_constants_;
  std::vector<DataType> output_dtypes_;
  std::vector<Shape> output_shapes_;
};

using InferenceFunction = std::function<absl::Status(InferenceContext&)>;

struct OpSchema {
  OpKey key;
  int since_version = 1;          // First opset this schema applies to.
  int until_version = INT_MAX;    // Last opset it applies to.
  int min_inputs = 0;
  int max_inputs = INT_MAX;
  int min_outputs = 1;
  int max_outputs = 1;
  InferenceFunction infer;        // May be empty: outputs keep declared types.
  std::string doc;                // One line, shown by `qforge inspect`.
};

class QFORGE_EXPORT OpSchemaTable {
 public:
  OpSchemaTable() = default;
  OpSchemaTable(const OpSchemaTable&) = delete;
  OpSchemaTable& operator=(const OpSchemaTable&) = delete;

  // AlreadyExists when a schema for the same op overlaps the opset range.
  absl::Status Register(OpSchema schema);
  // Registers, removing any schema of the same op whose range overlaps.
  void Replace(OpSchema schema);
  // The schema for `key` at `opset` (0 = any: the newest), or nullptr.
  const OpSchema* Find(const OpKey& key, int64_t opset = 0) const;
  // Every registered schema, sorted by domain then op type.
  std::vector<const OpSchema*> List() const;
  void Remove(const OpKey& key);

 private:
  // Registry::Transaction: all-or-nothing changes (lib/core/table_transaction.h).
  friend class Registry;
  void BeginTransaction();
  void CommitTransaction();
  void RollbackTransaction();

  mutable absl::Mutex mu_;
  // unique_ptr keeps returned pointers stable across registrations.
  std::vector<std::unique_ptr<OpSchema>> schemas_ ABSL_GUARDED_BY(mu_);
  // Snapshots of open transactions, and entries taken out while one is open
  // (kept alive so that a rollback restores the same objects).
  std::vector<std::vector<const OpSchema*>> txn_snapshots_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<OpSchema>> txn_removed_ ABSL_GUARDED_BY(mu_);
};

}  // namespace qforge

#endif  // QFORGE_IR_OP_SCHEMA_H_
