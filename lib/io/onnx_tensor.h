// Conversions between onnx::TensorProto / TypeProto and qforge's Tensor,
// DataType and Shape. Internal to the io layer: public headers never see ONNX
// generated types.
#ifndef QFORGE_LIB_IO_ONNX_TENSOR_H_
#define QFORGE_LIB_IO_ONNX_TENSOR_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "onnx/onnx_pb.h"
#include "qforge/core/data_type.h"
#include "qforge/core/shape.h"
#include "qforge/core/tensor.h"

namespace qforge::internal {

// Name of an ONNX TensorProto.DataType code, e.g. "UINT32" (for messages).
std::string OnnxDataTypeName(int32_t onnx_type);

// Maps an ONNX element type code to a DataType. Types the IR does not carry
// (uint32, uint64, bfloat16, complex, ...) give Unimplemented naming `what`.
absl::StatusOr<DataType> DataTypeFromOnnx(int32_t onnx_type,
                                          absl::string_view what);
// The ONNX code of a DataType (0 = UNDEFINED for kUndefined).
int32_t DataTypeToOnnx(DataType type);

// Converts a TensorProto to a Tensor. `what` names the tensor in messages
// (e.g. "initializer 'w'"). Errors: DataLoss when the data does not match
// the dims, Unimplemented for string tensors, external data, segments and
// element types the IR does not carry.
absl::StatusOr<Tensor> TensorFromOnnx(const onnx::TensorProto& proto,
                                      absl::string_view what);

// Parses a serialized TensorProto (e.g. the conformance tests' input_0.pb).
// `what` names the source in messages. When `name` is non-null it receives
// the tensor's name.
absl::StatusOr<Tensor> TensorFromOnnxBytes(absl::string_view bytes,
                                           absl::string_view what,
                                           std::string* name = nullptr);
// Reads and parses a TensorProto file.
absl::StatusOr<Tensor> ReadOnnxTensorFile(absl::string_view path,
                                          std::string* name = nullptr);

// Writes `tensor` into `proto` (dims, data_type, raw_data little-endian).
// kString and kUndefined tensors give InvalidArgument.
absl::Status TensorToOnnx(const Tensor& tensor, absl::string_view name,
                          onnx::TensorProto* proto);

// Shape of a TypeProto.Tensor: dim_value -> static, dim_param -> symbol,
// neither -> unknown; no shape field -> unknown rank.
absl::StatusOr<Shape> ShapeFromOnnx(const onnx::TensorShapeProto& shape,
                                    bool has_shape, absl::string_view what);
void ShapeToOnnx(const Shape& shape, onnx::TensorShapeProto* proto);

}  // namespace qforge::internal

#endif  // QFORGE_LIB_IO_ONNX_TENSOR_H_
