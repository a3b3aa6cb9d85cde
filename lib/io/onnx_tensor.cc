#include "io/onnx_tensor.h"

#include <climits>
#include <cstring>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "io/atomic_file.h"
#include "qforge/core/float16.h"
#include "qforge/core/status.h"

namespace qforge::internal {
namespace {

using TP = onnx::TensorProto;

// Largest tensor a model may declare: 2^40 elements. Actual data must fit
// in the file (protobuf limits a message to 2 GiB), which is checked against
// the declared count before anything is allocated.
constexpr int64_t kMaxElements = int64_t{1} << 40;

absl::StatusOr<int64_t> CheckedCount(const std::vector<int64_t>& dims,
                                     absl::string_view what) {
  int64_t count = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0) {
      return absl::DataLossError(absl::StrCat(what, ": dimension ", i,
                                              " is negative (", dims[i], ")"));
    }
    if (dims[i] != 0 && count > kMaxElements / dims[i]) {
      return absl::DataLossError(
          absl::StrCat(what, ": dims ", DimsToString(dims),
                       " describe more than 2^40 elements"));
    }
    count *= dims[i];
  }
  return count;
}

absl::Status CountMismatch(absl::string_view what, absl::string_view field,
                           int64_t have, int64_t expected, DataType dtype,
                           const std::vector<int64_t>& dims) {
  return absl::DataLossError(absl::StrCat(
      what, ": ", field, " holds ", have, " elements but ", DataTypeName(dtype),
      DimsToString(dims), " needs ", expected));
}

// Copies a repeated int32 field into a narrower integer type, checking the
// range of every value.
template <typename T>
absl::Status CopyNarrow(const google::protobuf::RepeatedField<int32_t>& src,
                        Tensor& tensor, absl::string_view what) {
  T* dst = tensor.data<T>();
  for (int i = 0; i < src.size(); ++i) {
    const int32_t v = src.Get(i);
    if (v < static_cast<int32_t>(std::numeric_limits<T>::min()) ||
        v > static_cast<int32_t>(std::numeric_limits<T>::max())) {
      return absl::DataLossError(absl::StrCat(what, ": element ", i, " is ", v,
                                              ", outside the range of ",
                                              DataTypeName(tensor.dtype())));
    }
    dst[i] = static_cast<T>(v);
  }
  return absl::OkStatus();
}

}  // namespace

std::string OnnxDataTypeName(int32_t onnx_type) {
  if (TP::DataType_IsValid(onnx_type)) {
    return TP::DataType_Name(static_cast<TP::DataType>(onnx_type));
  }
  return absl::StrCat("<unknown element type ", onnx_type, ">");
}

absl::StatusOr<DataType> DataTypeFromOnnx(int32_t onnx_type,
                                          absl::string_view what) {
  switch (onnx_type) {
    case TP::FLOAT:
      return DataType::kFloat32;
    case TP::DOUBLE:
      return DataType::kFloat64;
    case TP::FLOAT16:
      return DataType::kFloat16;
    case TP::INT8:
      return DataType::kInt8;
    case TP::UINT8:
      return DataType::kUint8;
    case TP::INT16:
      return DataType::kInt16;
    case TP::UINT16:
      return DataType::kUint16;
    case TP::INT32:
      return DataType::kInt32;
    case TP::INT64:
      return DataType::kInt64;
    case TP::BOOL:
      return DataType::kBool;
    case TP::STRING:
      return DataType::kString;
    case TP::UNDEFINED:
      return DataType::kUndefined;
    default:
      break;
  }
  if (!TP::DataType_IsValid(onnx_type)) {
    return absl::DataLossError(
        absl::StrCat(what, " has an invalid element type code ", onnx_type));
  }
  return absl::UnimplementedError(absl::StrCat(
      what, " has element type ", OnnxDataTypeName(onnx_type),
      ", which qforge does not support (supported: float, double, float16, "
      "int8, uint8, int16, uint16, int32, int64, bool)"));
}

int32_t DataTypeToOnnx(DataType type) {
  switch (type) {
    case DataType::kFloat32:
      return TP::FLOAT;
    case DataType::kFloat64:
      return TP::DOUBLE;
    case DataType::kFloat16:
      return TP::FLOAT16;
    case DataType::kInt8:
      return TP::INT8;
    case DataType::kUint8:
      return TP::UINT8;
    case DataType::kInt16:
      return TP::INT16;
    case DataType::kUint16:
      return TP::UINT16;
    case DataType::kInt32:
      return TP::INT32;
    case DataType::kInt64:
      return TP::INT64;
    case DataType::kBool:
      return TP::BOOL;
    case DataType::kString:
      return TP::STRING;
    case DataType::kUndefined:
      return TP::UNDEFINED;
  }
  return TP::UNDEFINED;
}

absl::StatusOr<Tensor> TensorFromOnnx(const onnx::TensorProto& proto,
                                      absl::string_view what) {
  if (proto.data_location() == TP::EXTERNAL || proto.external_data_size() > 0) {
    std::string location;
    for (const auto& entry : proto.external_data()) {
      if (entry.key() == "location") location = entry.value();
    }
    return absl::UnimplementedError(absl::StrCat(
        what, " stores its data in an external file",
        location.empty() ? std::string() : absl::StrCat(" ('", location, "')"),
        "; qforge reads only self-contained models: re-save the model with "
        "onnx.save_model(model, path, save_as_external_data=False)"));
  }
  if (proto.has_segment()) {
    return absl::UnimplementedError(absl::StrCat(
        what, " is split into segments, which qforge does not read"));
  }
  if (proto.data_type() == TP::STRING) {
    return absl::UnimplementedError(
        absl::StrCat(what,
                     " is a string tensor; qforge supports numeric and "
                     "bool tensors only"));
  }
  QFORGE_ASSIGN_OR_RETURN(const DataType dtype,
                          DataTypeFromOnnx(proto.data_type(), what));
  if (dtype == DataType::kUndefined) {
    return absl::DataLossError(absl::StrCat(what, " has no element type"));
  }
  std::vector<int64_t> dims(proto.dims().begin(), proto.dims().end());
  QFORGE_ASSIGN_OR_RETURN(const int64_t count, CheckedCount(dims, what));
  const size_t elem = SizeOf(dtype);

  if (proto.has_raw_data()) {
    const std::string& raw = proto.raw_data();
    const uint64_t expected = static_cast<uint64_t>(count) * elem;
    if (raw.size() != expected) {
      return absl::DataLossError(absl::StrCat(
          what, ": raw_data has ", raw.size(), " bytes but ",
          DataTypeName(dtype), DimsToString(dims), " needs ", expected));
    }
    Tensor tensor(dtype, dims);
    if (expected > 0) std::memcpy(tensor.raw_data(), raw.data(), expected);
    if (dtype == DataType::kBool) {
      // Normalize to 0/1 so that bool reads are well defined.
      uint8_t* b = static_cast<uint8_t*>(tensor.raw_data());
      for (int64_t i = 0; i < count; ++i) b[i] = b[i] != 0;
    }
    return tensor;
  }

  switch (dtype) {
    case DataType::kFloat32: {
      if (proto.float_data_size() != count) {
        return CountMismatch(what, "float_data", proto.float_data_size(), count,
                             dtype, dims);
      }
      Tensor tensor(dtype, dims);
      if (count > 0) {
        std::memcpy(tensor.raw_data(), proto.float_data().data(), count * elem);
      }
      return tensor;
    }
    case DataType::kFloat64: {
      if (proto.double_data_size() != count) {
        return CountMismatch(what, "double_data", proto.double_data_size(),
                             count, dtype, dims);
      }
      Tensor tensor(dtype, dims);
      if (count > 0) {
        std::memcpy(tensor.raw_data(), proto.double_data().data(),
                    count * elem);
      }
      return tensor;
    }
    case DataType::kInt64: {
      if (proto.int64_data_size() != count) {
        return CountMismatch(what, "int64_data", proto.int64_data_size(), count,
                             dtype, dims);
      }
      Tensor tensor(dtype, dims);
      if (count > 0) {
        std::memcpy(tensor.raw_data(), proto.int64_data().data(), count * elem);
      }
      return tensor;
    }
    case DataType::kInt32:
    case DataType::kInt16:
    case DataType::kUint16:
    case DataType::kInt8:
    case DataType::kUint8:
    case DataType::kBool:
    case DataType::kFloat16: {
      if (proto.int32_data_size() != count) {
        return CountMismatch(what, "int32_data", proto.int32_data_size(), count,
                             dtype, dims);
      }
      Tensor tensor(dtype, dims);
      const auto& src = proto.int32_data();
      switch (dtype) {
        case DataType::kInt32:
          if (count > 0)
            std::memcpy(tensor.raw_data(), src.data(), count * elem);
          break;
        case DataType::kInt16:
          QFORGE_RETURN_IF_ERROR(CopyNarrow<int16_t>(src, tensor, what));
          break;
        case DataType::kUint16:
          QFORGE_RETURN_IF_ERROR(CopyNarrow<uint16_t>(src, tensor, what));
          break;
        case DataType::kInt8:
          QFORGE_RETURN_IF_ERROR(CopyNarrow<int8_t>(src, tensor, what));
          break;
        case DataType::kUint8:
          QFORGE_RETURN_IF_ERROR(CopyNarrow<uint8_t>(src, tensor, what));
          break;
        case DataType::kBool: {
          uint8_t* dst = static_cast<uint8_t*>(tensor.raw_data());
          for (int64_t i = 0; i < count; ++i) dst[i] = src.Get(i) != 0;
          break;
        }
        case DataType::kFloat16: {
          // float16 bit patterns are stored in the low 16 bits.
          Half* dst = tensor.data<Half>();
          for (int64_t i = 0; i < count; ++i) {
            dst[i].bits = static_cast<uint16_t>(src.Get(i) & 0xFFFF);
          }
          break;
        }
        default:
          break;
      }
      return tensor;
    }
    default:
      break;
  }
  return absl::UnimplementedError(absl::StrCat(
      what, ": element type ", DataTypeName(dtype), " cannot be read"));
}

absl::StatusOr<Tensor> TensorFromOnnxBytes(absl::string_view bytes,
                                           absl::string_view what,
                                           std::string* name) {
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    return absl::OutOfRangeError(
        absl::StrCat(what, " is larger than 2 GiB, the protobuf limit"));
  }
  onnx::TensorProto proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(
        absl::StrCat(what, " is not a valid ONNX TensorProto (parse failed)"));
  }
  if (name != nullptr) *name = proto.name();
  return TensorFromOnnx(
      proto, proto.name().empty()
                 ? std::string(what)
                 : absl::StrCat(what, " (tensor '", proto.name(), "')"));
}

absl::StatusOr<Tensor> ReadOnnxTensorFile(absl::string_view path,
                                          std::string* name) {
  std::string bytes;
  QFORGE_RETURN_IF_ERROR(ReadFileToString(path, &bytes, INT_MAX));
  return TensorFromOnnxBytes(bytes, absl::StrCat("'", path, "'"), name);
}

absl::Status TensorToOnnx(const Tensor& tensor, absl::string_view name,
                          onnx::TensorProto* proto) {
  if (tensor.dtype() == DataType::kString ||
      tensor.dtype() == DataType::kUndefined) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor '", name, "' has element type ", DataTypeName(tensor.dtype()),
        ", which cannot be written"));
  }
  proto->Clear();
  proto->set_name(std::string(name));
  proto->set_data_type(DataTypeToOnnx(tensor.dtype()));
  for (int64_t d : tensor.dims()) proto->add_dims(d);
  proto->set_raw_data(static_cast<const char*>(tensor.raw_data()),
                      tensor.num_bytes());
  return absl::OkStatus();
}

absl::StatusOr<Shape> ShapeFromOnnx(const onnx::TensorShapeProto& shape,
                                    bool has_shape, absl::string_view what) {
  if (!has_shape) return Shape();
  std::vector<Dim> dims;
  dims.reserve(shape.dim_size());
  for (int i = 0; i < shape.dim_size(); ++i) {
    const auto& d = shape.dim(i);
    if (d.has_dim_value()) {
      if (d.dim_value() < 0) {
        return absl::DataLossError(absl::StrCat(
            what, ": dimension ", i, " is negative (", d.dim_value(), ")"));
      }
      dims.push_back(Dim::Static(d.dim_value()));
    } else if (d.has_dim_param() && !d.dim_param().empty()) {
      dims.push_back(Dim::Symbol(d.dim_param()));
    } else {
      dims.push_back(Dim::Unknown());
    }
  }
  return Shape(std::move(dims));
}

void ShapeToOnnx(const Shape& shape, onnx::TensorShapeProto* proto) {
  proto->Clear();
  for (const Dim& d : shape.dims()) {
    auto* dim = proto->add_dim();
    if (d.is_static()) {
      dim->set_dim_value(d.value);
    } else if (!d.symbol.empty()) {
      dim->set_dim_param(d.symbol);
    }
  }
}

}  // namespace qforge::internal
