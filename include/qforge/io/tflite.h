// Reading TFLite models (.tflite, FlatBuffers schema version 3).
//
// LoadTflite reads the first subgraph of a TFLite model into a qforge Graph.
// Activations stay channels-last: spatial nodes get Layout::kNHWC and keep
// their ONNX semantics otherwise (docs/layout.md), so no Transpose is added.
// Builtin ops become ONNX-semantics ops with the matching attributes (fused
// activations become a following Relu / Clip / Tanh node); quantized tensors
// (int8, uint8, int16, int32; per-tensor or per-axis along
// `quantized_dimension`) become integer values carrying QuantParams, so
// models quantized by the TFLite converter run on the int8 kernels with the
// `tflite_reference` arithmetic profile (set in the graph's metadata).
// CUSTOM ops are kept opaque: domain "tflite.custom", op type = custom code,
// custom_options bytes kept on the node (checked with the flexbuffers
// verifier first). docs/io.md lists the op mapping and what is unsupported.
//
// Safety: the file size is checked (models of 2 GB or more are out of scope)
// and the FlatBuffers verifier runs before any field is read; indices
// (tensors, buffers, operator codes) and buffer sizes are checked before use.
// Errors: NotFound / PermissionDenied when the file cannot be opened,
// DataLoss for a corrupt file (message names what is wrong), Unimplemented
// for features qforge does not read (ops, sparse tensors, external buffers),
// InvalidArgument for a structurally invalid graph.
//
// SaveTflite writes a Graph as a TFLite model. A graph in NCHW (e.g. from
// ONNX) is first converted to NHWC with the layout pass (Transposes remain
// only at NCHW model inputs and outputs). A quantized graph becomes a
// full-integer model: int8 activations, int8 weights (per-axis: axis 0 for
// CONV_2D and FULLY_CONNECTED, axis 3 for DEPTHWISE_CONV_2D), int32 bias,
// QUANTIZE / DEQUANTIZE where values cross between float and int8, and
// requantizing QUANTIZE ops where the TFLite int8 spec needs equal input and
// output parameters (CONCATENATION, pools, RESHAPE, TRANSPOSE, PAD, ...) or
// fixed output parameters (SOFTMAX, LOGISTIC, TANH). A float graph becomes a
// float model. Ops without a TFLite mapping are an Unimplemented error
// naming the node.
#ifndef QFORGE_IO_TFLITE_H_
#define QFORGE_IO_TFLITE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "qforge/core/export.h"
#include "qforge/ir/graph.h"
#include "qforge/registry.h"

namespace qforge {

// Loads the TFLite model at `path`.
QFORGE_EXPORT absl::StatusOr<Graph> LoadTflite(absl::string_view path,
                                               const Registry& registry);

// Loads a TFLite model from its bytes; `source` names it in messages.
QFORGE_EXPORT absl::StatusOr<Graph> LoadTfliteFromBytes(
    absl::string_view bytes, const Registry& registry,
    absl::string_view source = "<memory>");

// Element type of the model's inputs / outputs in an exported quantized
// model (the TFLite converter's inference_input_type / _output_type).
enum class TfliteIoType {
  kFloat32,  // Float tensors; QUANTIZE / DEQUANTIZE inside the model.
  kInt8,     // The quantized tensors themselves.
  kUint8,    // uint8 tensors (zero point + 128) requantized to int8.
};

struct TfliteExportOptions {
  TfliteIoType input_type = TfliteIoType::kFloat32;
  TfliteIoType output_type = TfliteIoType::kFloat32;
};

// Serializes `graph` as a TFLite model.
QFORGE_EXPORT absl::StatusOr<std::string> SaveTfliteToBytes(
    const Graph& graph, const TfliteExportOptions& options = {});

// Writes `graph` to `path` as a TFLite model, atomically.
QFORGE_EXPORT absl::Status SaveTflite(const Graph& graph,
                                      absl::string_view path,
                                      const TfliteExportOptions& options = {});

}  // namespace qforge

#endif  // QFORGE_IO_TFLITE_H_
