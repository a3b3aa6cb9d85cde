// Layout conversion: moves a graph's spatial ops between NCHW and NHWC.
//
// ConvertLayout rewrites every spatial node (Conv, MaxPool, AveragePool,
// GlobalAveragePool, GlobalMaxPool, Resize, BatchNormalization) whose input
// has rank >= 3 to the target layout. Only the order of activation axes
// changes; attributes, Conv weights ([M, C/group, k...]), Resize's
// scales/sizes/roi and per-channel [C] inputs keep their ONNX meaning (see
// docs/layout.md), so no weight is ever rewritten for a spatial op.
//
// Around them the pass propagates the permuted layout as far as it can:
//   - elementwise ops (Add, Mul, Relu, Clip, Sigmoid, ...) follow; constant
//     operands of lower rank are broadcast-aligned and permuted once (a
//     per-channel [C,1,1] becomes [1,1,1,C] in NHWC), scalars stay;
//   - axis ops follow by rewriting their axes: Concat, Split, Softmax /
//     LogSoftmax (opset >= 13), Reduce* and ArgMax/ArgMin, Pad, Slice,
//     Squeeze, Unsqueeze, per-axis Quantize/DequantizeLinear,
//     LayerNormalization (only when its normalized axes stay trailing and in
//     order), and Transpose (whose perm is composed with the layout's);
//   - everything else (Reshape, Flatten, Gemm, MatMul, Shape, Gather, unknown
//     ops, ...) gets its inputs back in the original layout through a
//     Transpose inserted just before it.
// Graph inputs and outputs keep their names, dtypes and shapes: a Transpose
// is inserted after an input and before an output where needed. Each value
// is transposed at most once per layout (later users share it), and
// Transpose pairs that cancel (including ones already in the graph) are
// removed, so a chain of spatial and elementwise ops gets exactly one
// Transpose at each boundary.
//
// Quantized values keep their QuantParams; a per-axis axis follows its dim
// wherever a value or constant is stored permuted.
//
// With LayoutOptions::int8_exact (what Executor::Prepare uses for quantized
// graphs, docs/int8_kernels.md) a quantized node follows the permuted layout
// only where its int8 kernel computes the same bytes either way: Softmax /
// LogSoftmax / Hardmax only when their axis lands last, ReduceMean only as
// the spatial mean (axes [2, 3] of a rank-4 NCHW tensor become [1, 2], the
// node is marked kNHWC, and it is converted like a spatial op even when its
// input is not permuted yet); other quantized ReduceMeans keep the original
// layout (onnxruntime's float summation order).
//
// The graph should have been verified (value shapes known): a node whose
// input rank is unknown stays as it is. The result needs no re-verification
// but may be verified again.
#ifndef QFORGE_IR_LAYOUT_H_
#define QFORGE_IR_LAYOUT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "qforge/core/export.h"
#include "qforge/ir/graph.h"
#include "qforge/ir/op_schema.h"

namespace qforge {

// What ConvertLayout did.
struct LayoutStats {
  int nodes_converted = 0;      // Spatial nodes switched to the target.
  int transposes_inserted = 0;  // Transposes in the result that it added.
  int transposes_removed = 0;   // Transposes cancelled or bypassed.
  int constants_permuted = 0;   // Constants rewritten or added, permuted.
  // Values of the result that keep a name of the input graph but hold its
  // tensor permuted: name -> perm (stored dim i is original dim perm[i]).
  std::map<std::string, std::vector<int64_t>> permuted_values;
};

struct LayoutOptions {
  // See above: quantized nodes follow only where the int8 kernels stay
  // bit-exact.
  bool int8_exact = false;
};

// Converts `graph`'s spatial ops to `target` (see above). `schemas` tells
// which ops are known; an op without a schema is treated as layout-sensitive.
QFORGE_EXPORT absl::Status ConvertLayout(Graph& graph, Layout target,
                                         const OpSchemaTable& schemas,
                                         LayoutStats* stats = nullptr,
                                         const LayoutOptions& options = {});

}  // namespace qforge

#endif  // QFORGE_IR_LAYOUT_H_
