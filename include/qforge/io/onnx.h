// Reading and writing ONNX models.
//
// LoadOnnx parses an ONNX ModelProto into a qforge Graph: opsets, graph
// inputs and outputs (initializers listed as inputs become constants),
// initializers, value_info dtypes and shapes (symbolic dims become
// Dim::Symbol), and nodes with their attributes. Ops without a schema in the
// registry (custom domains included) are kept as opaque nodes. The graph is
// then verified with the registry's schemas, so a loaded graph is ready for
// the Executor.
//
// Errors: NotFound / PermissionDenied when the file cannot be opened,
// DataLoss for a corrupt file or tensor data that does not match its dims,
// Unimplemented for features qforge does not read (external data, subgraph
// attributes, string tensors, element types such as uint32 or bfloat16),
// InvalidArgument for a structurally invalid graph. Messages name the file,
// node and tensor.
//
// SaveOnnx writes a Graph back as an ONNX model; the file is written
// atomically (a failed save leaves no partial file behind).
#ifndef QFORGE_IO_ONNX_H_
#define QFORGE_IO_ONNX_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "qforge/core/export.h"
#include "qforge/ir/graph.h"
#include "qforge/registry.h"

namespace qforge {

// Loads the ONNX model at `path`.
QFORGE_EXPORT absl::StatusOr<Graph> LoadOnnx(absl::string_view path,
                                             const Registry& registry);

// Loads an ONNX model from its serialized bytes; `source` names it in
// messages (e.g. a file name or "<memory>").
QFORGE_EXPORT absl::StatusOr<Graph> LoadOnnxFromBytes(
    absl::string_view bytes, const Registry& registry,
    absl::string_view source = "<memory>");

// Serializes `graph` as an ONNX ModelProto.
QFORGE_EXPORT absl::StatusOr<std::string> SaveOnnxToBytes(const Graph& graph);

// Writes `graph` to `path` as an ONNX model, atomically.
QFORGE_EXPORT absl::Status SaveOnnx(const Graph& graph, absl::string_view path);

}  // namespace qforge

#endif  // QFORGE_IO_ONNX_H_
