#include "kernels/float/kernel_util.h"

#include "absl/strings/str_cat.h"

namespace qforge::kernels {
namespace {

std::string InputName(const KernelContext& ctx, int i) {
  const Value* v = ctx.node().input(i);
  return v == nullptr ? absl::StrCat("input ", i)
                      : absl::StrCat("input ", i, " '", v->name(), "'");
}

}  // namespace

absl::StatusOr<const Tensor*> Input(const KernelContext& ctx, int i) {
  const Tensor* t = ctx.input(i);
  if (t == nullptr) {
    return ctx.Error(absl::StrCat("required input ", i, " is missing"));
  }
  return t;
}

absl::StatusOr<const Tensor*> Input(const KernelContext& ctx, int i,
                                    DataType expected) {
  const Tensor* t = ctx.input(i);
  if (t == nullptr) {
    return ctx.Error(absl::StrCat("required input ", i, " is missing"));
  }
  if (t->dtype() != expected) {
    return ctx.Error(absl::StrCat(InputName(ctx, i), " is ",
                                  DataTypeName(t->dtype()), ", expected ",
                                  DataTypeName(expected)));
  }
  return t;
}

absl::StatusOr<std::vector<int64_t>> ReadInts(const KernelContext& ctx,
                                              const Tensor& t,
                                              absl::string_view what) {
  if (t.dtype() != DataType::kInt64 && t.dtype() != DataType::kInt32) {
    return ctx.Error(absl::StrCat(what, " must be int32 or int64, got ",
                                  DataTypeName(t.dtype())));
  }
  if (t.rank() > 1) {
    return ctx.Error(absl::StrCat(what, " must be a 1-D tensor, got shape ",
                                  DimsToString(t.dims())));
  }
  std::vector<int64_t> out(t.num_elements());
  for (int64_t i = 0; i < t.num_elements(); ++i) out[i] = t.GetAsInt64(i);
  return out;
}

absl::StatusOr<int> NormalizeAxis(const KernelContext& ctx, int64_t axis,
                                  int rank) {
  if (axis < -rank || axis >= rank) {
    return ctx.Error(absl::StrCat("axis ", axis, " is out of range for rank ",
                                  rank, " (valid: ", -rank, "..", rank - 1,
                                  ")"));
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

int64_t Product(const std::vector<int64_t>& dims, int begin, int end) {
  int64_t p = 1;
  for (int i = begin; i < end; ++i) p *= dims[i];
  return p;
}

}  // namespace qforge::kernels
