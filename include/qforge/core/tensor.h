// Tensor: a typed, dense, row-major (C order) array with an owning buffer.
//
// The buffer is 64-byte aligned and zero-initialized on allocation. Tensors
// have value semantics: copying deep-copies the data, moving is cheap.
// Element access is checked against the dtype in debug builds only; use
// `dtype()` before calling `data<T>()` on untrusted tensors.
//
// A quantized tensor carries its QuantParams; a float tensor has none.
#ifndef QFORGE_CORE_TENSOR_H_
#define QFORGE_CORE_TENSOR_H_

#include <cassert>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "qforge/core/data_type.h"
#include "qforge/core/export.h"
#include "qforge/core/quant_params.h"
#include "qforge/core/shape.h"

namespace qforge {

class QFORGE_EXPORT Tensor {
 public:
  static constexpr size_t kAlignment = 64;

  Tensor() = default;
  // A zero-filled tensor. kString tensors are not supported.
  Tensor(DataType dtype, std::vector<int64_t> dims);

  template <typename T>
  static Tensor FromVector(std::vector<int64_t> dims, const std::vector<T>& values) {
    Tensor t(DataTypeOf<T>(), std::move(dims));
    assert(static_cast<int64_t>(values.size()) == t.num_elements());
    if (!values.empty()) std::memcpy(t.raw_data(), values.data(), t.num_bytes());
    return t;
  }
  template <typename T>
  static Tensor Scalar(T value) {
    return FromVector<T>({}, std::vector<T>{value});
  }

  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&& other) noexcept = default;
  Tensor& operator=(Tensor&& other) noexcept = default;
  ~Tensor() = default;

  DataType dtype() const { return dtype_; }
  const std::vector<int64_t>& dims() const { return dims_; }
  int rank() const { return static_cast<int>(dims_.size()); }
  int64_t dim(int i) const { return dims_[i]; }
  int64_t num_elements() const { return num_elements_; }
  size_t num_bytes() const { return num_elements_ * SizeOf(dtype_); }
  bool empty() const { return num_elements_ == 0; }

  // Re-shapes the tensor to (dtype, dims) and zero-fills it. The existing
  // allocation is reused when large enough.
  void Reset(DataType dtype, std::vector<int64_t> dims);
  // Like Reset, but leaves the contents unspecified (no zero-fill). Only for
  // callers that then write every element, e.g. kernels filling their output.
  void ResetUninitialized(DataType dtype, std::vector<int64_t> dims);
  // Changes the dims, keeping the data; the element count must not change.
  void Reshape(std::vector<int64_t> dims);

  void* raw_data() { return data_.get(); }
  const void* raw_data() const { return data_.get(); }

  template <typename T>
  T* data() {
    assert(DataTypeOf<T>() == dtype_);
    return reinterpret_cast<T*>(data_.get());
  }
  template <typename T>
  const T* data() const {
    assert(DataTypeOf<T>() == dtype_);
    return reinterpret_cast<const T*>(data_.get());
  }
  template <typename T>
  std::span<T> values() {
    return std::span<T>(data<T>(), num_elements_);
  }
  template <typename T>
  std::span<const T> values() const {
    return std::span<const T>(data<T>(), num_elements_);
  }
  template <typename T>
  std::vector<T> ToVector() const {
    auto v = values<T>();
    return std::vector<T>(v.begin(), v.end());
  }

  // Element i converted to double (any numeric dtype, bool, float16).
  double GetAsDouble(int64_t i) const;
  // Element i converted to int64 (integer dtypes and bool only).
  int64_t GetAsInt64(int64_t i) const;

  const std::optional<QuantParams>& quant() const { return quant_; }
  void set_quant(std::optional<QuantParams> quant) { quant_ = std::move(quant); }

  // "float32[1,3,224,224]".
  std::string DebugString() const;

 private:
  struct FreeDeleter {
    void operator()(void* p) const;
  };
  void Allocate(size_t bytes);

  DataType dtype_ = DataType::kUndefined;
  std::vector<int64_t> dims_;
  int64_t num_elements_ = 0;
  std::unique_ptr<void, FreeDeleter> data_;
  size_t capacity_ = 0;
  std::optional<QuantParams> quant_;
};

}  // namespace qforge

#endif  // QFORGE_CORE_TENSOR_H_
