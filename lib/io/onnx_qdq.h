// QDQ form: how quantized graphs are written to and read from ONNX.
//
// ONNX has no quantized tensor type. A quantized graph is written in the
// "QDQ" form ONNX Runtime understands: integer tensors stay integer, every
// quantized op becomes its float op reading DequantizeLinear of each
// quantized input and feeding QuantizeLinear for each quantized output.
// Reading folds these patterns back (docs/io.md, "QDQ").
#ifndef QFORGE_IO_ONNX_QDQ_H_
#define QFORGE_IO_ONNX_QDQ_H_

#include <functional>

#include "absl/status/status.h"
#include "qforge/ir/graph.h"

namespace qforge::internal {

// True when any value or constant of `graph` carries QuantParams.
bool HasQuantizedValues(const Graph& graph);

// Rewrites a quantized graph in place into plain QDQ form: afterwards no
// value carries QuantParams, integer values keep their dtypes and names,
// DequantizeLinear / QuantizeLinear nodes (with scale and zero-point
// constants, `axis` for per-axis params) surround every quantized op, and
// the default-domain opset is at least 13 (ops whose ONNX signature changed
// below 13 are converted; Softmax-like ops whose meaning would change fail
// with FailedPrecondition).
absl::Status ExpandToQdq(Graph& graph);

// Folds QDQ patterns of an imported graph into quantized values: the input
// of a DequantizeLinear (an integer constant or activation) and the output of
// a QuantizeLinear get QuantParams; an op all of whose float inputs come
// from DequantizeLinear and whose float outputs are read only by
// QuantizeLinear nodes (with equal parameters) becomes a quantized op reading
// and writing the integer tensors. QuantizeLinear / DequantizeLinear nodes
// that do not stand around a folded op stay. Only nodes for which
// `can_quantize` is true are folded (the others stay float between their Q/DQ
// nodes). Returns the number of ops folded.
int FoldQdq(Graph& graph, const std::function<bool(const Node&)>& can_quantize);

// Removes redundant DequantizeLinear -> QuantizeLinear pairs between integer
// values that carry QuantParams (as FoldQdq leaves them, e.g. from a
// Q -> DQ -> Q -> DQ chain of two fake-quantizations): with equal parameters
// the QuantizeLinear's output is the DequantizeLinear's input bit for bit
// (q == quantize(dequantize(q))), so its readers read that input; with
// different per-tensor parameters the pair becomes a requantizing Identity
// (origins: both nodes). A DequantizeLinear left without readers is removed.
// Integer graph outputs are kept. Returns the number of QuantizeLinear nodes
// removed or replaced.
int RemoveRedundantQdq(Graph& graph);

}  // namespace qforge::internal

#endif  // QFORGE_IO_ONNX_QDQ_H_
