// Graph passes run before calibration (see PrepareForQuantization).
#ifndef QFORGE_LIB_QUANTIZE_PASSES_H_
#define QFORGE_LIB_QUANTIZE_PASSES_H_

#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "qforge/ir/graph.h"
#include "qforge/registry.h"

namespace qforge::internal {

// Replaces every node whose inputs are all constants (Constant nodes
// included) by constants holding its outputs, computed with its float
// kernel. Nodes with no kernel are left alone. Returns the number folded.
absl::StatusOr<int> FoldConstants(Graph& graph, const Registry& registry);

// Renames nodes whose "domain::OpType" is a key of `aliases` to the value.
// Returns the number of nodes renamed.
absl::StatusOr<int> ResolveOpAliases(Graph& graph,
                                     const std::map<std::string, std::string>& aliases);

// Folds BatchNormalization (inference form) into a preceding Conv whose
// output nothing else reads: w' = w * g / sqrt(v + eps) per output channel,
// b' = (b - m) * g / sqrt(v + eps) + beta. Any other BatchNormalization on a
// 4-D input becomes a depthwise 1x1 Conv (a per-channel affine op that
// quantizes with per-channel weights). The surviving node lists the folded
// BatchNormalization among its origins, and keeps the BatchNormalization's
// output name. Returns the number of BatchNormalization nodes rewritten.
absl::StatusOr<int> FoldBatchNormalization(Graph& graph);

// Fuses GELU written out with Erf into one Gelu node (ONNX opset 20,
// approximate = "none"). Recognized, with x any float32 value and every
// Mul/Add commutative (operands in either order):
//   x * (1 + erf(x / sqrt2)) * 0.5      (torch: Div, Erf, Add, Mul, Mul)
//   (x * 0.5) * (1 + erf(x / sqrt2))    (the 0.5 applied to x first)
//   x * ((1 + erf(x / sqrt2)) * 0.5)    (the 0.5 applied to the sum)
// where x / sqrt2 may also be x * (1/sqrt2) (tf2onnx). Constants are
// one-element float32 tensors within a relative 1e-4 of sqrt2, 1/sqrt2, 1
// and 0.5, of rank <= x's rank (so the result has x's shape).
// Intermediate values must have exactly one consumer and not be graph
// outputs. The Gelu node takes the name of the last node of the pattern,
// produces its output value (same name), and lists the fused nodes among
// its origins. A pattern any of whose nodes `keep` returns true for is left
// as written (PrepareForQuantization: nodes the config excludes by name,
// pattern or op type). Returns the number of Gelu nodes created.
absl::StatusOr<int> FuseErfGelu(
    Graph& graph, const std::function<bool(const Node&)>& keep = nullptr);

}  // namespace qforge::internal

#endif  // QFORGE_LIB_QUANTIZE_PASSES_H_
