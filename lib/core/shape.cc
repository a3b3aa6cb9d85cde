#include "qforge/core/shape.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace qforge {

Shape::Shape(const std::vector<int64_t>& dims) : rank_known_(true) {
  dims_.reserve(dims.size());
  for (int64_t d : dims) dims_.push_back(Dim::Static(d));
}

bool Shape::is_static() const {
  if (!rank_known_) return false;
  for (const Dim& d : dims_) {
    if (!d.is_static()) return false;
  }
  return true;
}

std::optional<std::vector<int64_t>> Shape::static_dims() const {
  if (!is_static()) return std::nullopt;
  std::vector<int64_t> out;
  out.reserve(dims_.size());
  for (const Dim& d : dims_) out.push_back(d.value);
  return out;
}

int64_t Shape::num_elements() const {
  if (!is_static()) return -1;
  int64_t n = 1;
  for (const Dim& d : dims_) n *= d.value;
  return n;
}

std::string Shape::ToString() const {
  if (!rank_known_) return "[*]";
  return absl::StrCat(
      "[",
      absl::StrJoin(dims_, ",",
                    [](std::string* out, const Dim& d) {
                      if (d.is_static()) {
                        absl::StrAppend(out, d.value);
                      } else if (!d.symbol.empty()) {
                        absl::StrAppend(out, d.symbol);
                      } else {
                        absl::StrAppend(out, "?");
                      }
                    }),
      "]");
}

std::string DimsToString(const std::vector<int64_t>& dims) {
  return absl::StrCat("[", absl::StrJoin(dims, ","), "]");
}

int64_t NumElements(const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

}  // namespace qforge
