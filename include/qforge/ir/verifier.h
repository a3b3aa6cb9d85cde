// Graph verification and shape inference.
//
// VerifyGraph checks a graph's structure (every input is produced, a graph
// input or a constant; no value has two producers; no cycle; graph outputs
// exist) and runs each op's schema in topological order: arity, dtype rules
// (e.g. float64 entering a float32 Add, or int8 meeting float32 in a Concat
// without a DequantizeLinear) and shape inference. Inferred dtypes and
// shapes are written back to the graph's values where the file left them
// unknown; a declared dtype that contradicts the inferred one is an error.
//
// All problems are collected into one InvalidArgument status, one per line,
// each naming the node, op and tensors involved.
#ifndef QFORGE_IR_VERIFIER_H_
#define QFORGE_IR_VERIFIER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "qforge/core/export.h"
#include "qforge/ir/graph.h"
#include "qforge/ir/op_schema.h"

namespace qforge {

struct VerifyResult {
  std::vector<std::string> errors;
  // Nodes whose op has no schema (kept opaque), as "name (op)".
  std::vector<std::string> unknown_ops;
};

// Verifies and infers; fills `result` when non-null. Returns OK when there
// are no errors (unknown ops are not errors).
QFORGE_EXPORT absl::Status VerifyGraph(Graph& graph, const OpSchemaTable& schemas,
                                       VerifyResult* result = nullptr);

}  // namespace qforge

#endif  // QFORGE_IR_VERIFIER_H_
