// Graph passes run before calibration (see PrepareForQuantization).
#ifndef QFORGE_LIB_QUANTIZE_PASSES_H_
#define QFORGE_LIB_QUANTIZE_PASSES_H_

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

}  // namespace qforge::internal

#endif  // QFORGE_LIB_QUANTIZE_PASSES_H_
