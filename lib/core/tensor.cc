#include "qforge/core/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"
#include "qforge/core/float16.h"

namespace qforge {

void Tensor::FreeDeleter::operator()(void* p) const { std::free(p); }

Tensor::Tensor(DataType dtype, std::vector<int64_t> dims) {
  Reset(dtype, std::move(dims));
}

Tensor::Tensor(const Tensor& other)
    : dtype_(other.dtype_),
      dims_(other.dims_),
      num_elements_(other.num_elements_),
      quant_(other.quant_) {
  Allocate(other.num_bytes());
  if (other.num_bytes() > 0) {
    std::memcpy(data_.get(), other.data_.get(), other.num_bytes());
  }
}

Tensor& Tensor::operator=(const Tensor& other) {
  if (this == &other) return *this;
  Tensor copy(other);
  *this = std::move(copy);
  return *this;
}

void Tensor::Allocate(size_t bytes) {
  if (bytes <= capacity_ && data_ != nullptr) return;
  // Round up to the alignment, as aligned_alloc requires.
  const size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (p == nullptr) throw std::bad_alloc();
  data_.reset(p);
  capacity_ = rounded;
}

void Tensor::Reset(DataType dtype, std::vector<int64_t> dims) {
  ResetUninitialized(dtype, std::move(dims));
  if (num_bytes() > 0) std::memset(data_.get(), 0, num_bytes());
}

void Tensor::ResetUninitialized(DataType dtype, std::vector<int64_t> dims) {
  dtype_ = dtype;
  dims_ = std::move(dims);
  num_elements_ = NumElements(dims_);
  quant_.reset();
  Allocate(num_bytes());
}

void Tensor::Reshape(std::vector<int64_t> dims) {
  assert(NumElements(dims) == num_elements_);
  dims_ = std::move(dims);
}

double Tensor::GetAsDouble(int64_t i) const {
  switch (dtype_) {
    case DataType::kFloat32: return data<float>()[i];
    case DataType::kFloat64: return data<double>()[i];
    case DataType::kFloat16: return HalfToFloat(data<Half>()[i].bits);
    case DataType::kInt8: return data<int8_t>()[i];
    case DataType::kUint8: return data<uint8_t>()[i];
    case DataType::kInt16: return data<int16_t>()[i];
    case DataType::kUint16: return data<uint16_t>()[i];
    case DataType::kInt32: return data<int32_t>()[i];
    case DataType::kInt64: return static_cast<double>(data<int64_t>()[i]);
    case DataType::kBool: return data<bool>()[i] ? 1.0 : 0.0;
    default: return 0.0;
  }
}

int64_t Tensor::GetAsInt64(int64_t i) const {
  switch (dtype_) {
    case DataType::kInt8: return data<int8_t>()[i];
    case DataType::kUint8: return data<uint8_t>()[i];
    case DataType::kInt16: return data<int16_t>()[i];
    case DataType::kUint16: return data<uint16_t>()[i];
    case DataType::kInt32: return data<int32_t>()[i];
    case DataType::kInt64: return data<int64_t>()[i];
    case DataType::kBool: return data<bool>()[i] ? 1 : 0;
    default: return static_cast<int64_t>(GetAsDouble(i));
  }
}

std::string Tensor::DebugString() const {
  return absl::StrCat(DataTypeName(dtype_), DimsToString(dims_));
}

}  // namespace qforge
