// uint8 activations, executed as int8.
//
// For every op qforge quantizes, the integer arithmetic reads an activation
// only through (q - zero_point), and its output bounds are [qmin, qmax]
// shifted with the zero point. A uint8 tensor with zero point z therefore
// computes exactly what the int8 tensor q - 128 with zero point z - 128
// computes (docs/arithmetic.md, "uint8 activations"). qforge keeps quantized
// graphs in int8 form internally (its int8 kernels run them) and records the
// storage the user asked for in the graph metadata key
// `qforge.activation_type` ("uint8"); the QDQ export converts back.
#ifndef QFORGE_LIB_QUANTIZE_ACTIVATION_STORAGE_H_
#define QFORGE_LIB_QUANTIZE_ACTIVATION_STORAGE_H_

#include "absl/status/statusor.h"
#include "qforge/core/data_type.h"
#include "qforge/ir/graph.h"

namespace qforge::internal {

// Metadata key and value recording uint8 activation storage.
inline constexpr char kActivationTypeKey[] = "qforge.activation_type";

// Converts the quantized activations of `graph` stored as `from` (kInt8 or
// kUint8) to `to` (the other one): zero points shift by 128 (+128 for
// int8 -> uint8), integer values stay the same real numbers (constants have
// their data shifted), and the zero-point inputs of QuantizeLinear /
// DequantizeLinear nodes reading or writing a converted value are replaced.
// Weights stay int8: a constant with per-axis parameters, or read only as
// input 1 of Conv, ConvTranspose, Gemm or MatMul. A value whose
// QuantizeLinear / DequantizeLinear has no zero-point input is left alone.
// Returns the number of values converted.
absl::StatusOr<int> ConvertActivationStorage(Graph& graph, DataType from,
                                             DataType to);

}  // namespace qforge::internal

#endif  // QFORGE_LIB_QUANTIZE_ACTIVATION_STORAGE_H_
