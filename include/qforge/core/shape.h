// Tensor shapes with static and symbolic dimensions.
//
// A Shape describes what is known about a value before execution: it may have
// an unknown rank, and each dimension is either a static size or a symbol
// (such as "batch") or fully unknown. Executed tensors always have concrete
// dimensions (std::vector<int64_t>).
#ifndef QFORGE_CORE_SHAPE_H_
#define QFORGE_CORE_SHAPE_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "qforge/core/export.h"

namespace qforge {

// One dimension: a static size (>= 0), or a symbol, or unknown.
struct Dim {
  static Dim Static(int64_t size) { return Dim{size, {}}; }
  static Dim Symbol(std::string name) { return Dim{-1, std::move(name)}; }
  static Dim Unknown() { return Dim{}; }

  bool is_static() const { return value >= 0; }
  bool operator==(const Dim& other) const = default;

  int64_t value = -1;  // >= 0 when static.
  std::string symbol;  // Non-empty when symbolic.
};

class QFORGE_EXPORT Shape {
 public:
  // A shape of unknown rank.
  Shape() = default;
  // A fully static shape.
  explicit Shape(const std::vector<int64_t>& dims);
  Shape(std::initializer_list<int64_t> dims)
      : Shape(std::vector<int64_t>(dims)) {}
  explicit Shape(std::vector<Dim> dims) : dims_(std::move(dims)), rank_known_(true) {}

  static Shape UnknownRank() { return Shape(); }
  static Shape Scalar() { return Shape(std::vector<Dim>{}); }

  bool rank_known() const { return rank_known_; }
  int rank() const { return static_cast<int>(dims_.size()); }
  const std::vector<Dim>& dims() const { return dims_; }
  const Dim& dim(int i) const { return dims_[i]; }
  Dim& dim(int i) { return dims_[i]; }

  // True when the rank and every dimension are known sizes.
  bool is_static() const;
  // The static dimensions, or nullopt when any is not static.
  std::optional<std::vector<int64_t>> static_dims() const;
  // Number of elements when static, -1 otherwise.
  int64_t num_elements() const;

  // "[1,3,224,224]", "[batch,3,?,?]", or "[*]" for unknown rank.
  std::string ToString() const;

  bool operator==(const Shape& other) const = default;

 private:
  std::vector<Dim> dims_;
  bool rank_known_ = false;
};

// "[1,3,224,224]" for concrete dimensions.
QFORGE_EXPORT std::string DimsToString(const std::vector<int64_t>& dims);

// Product of the dimensions (1 for a scalar).
QFORGE_EXPORT int64_t NumElements(const std::vector<int64_t>& dims);

}  // namespace qforge

#endif  // QFORGE_CORE_SHAPE_H_
