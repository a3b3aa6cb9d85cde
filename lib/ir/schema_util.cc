#include "ir/schema_util.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace qforge::internal {

absl::StatusOr<Shape> BroadcastShapes(const Shape& a, const Shape& b) {
  if (!a.rank_known() || !b.rank_known()) return Shape::UnknownRank();
  const int rank = std::max(a.rank(), b.rank());
  std::vector<Dim> dims(rank);
  for (int i = 0; i < rank; ++i) {
    const int ia = i - (rank - a.rank());
    const int ib = i - (rank - b.rank());
    const Dim da = ia >= 0 ? a.dim(ia) : Dim::Static(1);
    const Dim db = ib >= 0 ? b.dim(ib) : Dim::Static(1);
    if (da.is_static() && db.is_static()) {
      if (da.value != db.value && da.value != 1 && db.value != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("shapes ", a.ToString(), " and ", b.ToString(),
                         " do not broadcast (dimension ", i, ": ", da.value,
                         " vs ", db.value, ")"));
      }
      dims[i] = Dim::Static(da.value == 1 ? db.value : da.value);
    } else if (da.is_static() && da.value == 1) {
      dims[i] = db;
    } else if (db.is_static() && db.value == 1) {
      dims[i] = da;
    } else if (da.is_static()) {
      dims[i] = da;
    } else if (db.is_static()) {
      dims[i] = db;
    } else {
      dims[i] = (da == db) ? da : Dim::Unknown();
    }
  }
  return Shape(std::move(dims));
}

absl::Status RequireSameDtype(const InferenceContext& ctx,
                              std::initializer_list<int> inputs) {
  int first = -1;
  for (int i : inputs) {
    if (!ctx.has_input(i) || ctx.input_dtype(i) == DataType::kUndefined) continue;
    if (first < 0) {
      first = i;
      continue;
    }
    const DataType a = ctx.input_dtype(first);
    const DataType b = ctx.input_dtype(i);
    if (a == b) continue;
    std::string hint;
    if ((IsInteger(a) && IsFloatingPoint(b)) || (IsFloatingPoint(a) && IsInteger(b))) {
      hint = "; a quantized tensor must pass through DequantizeLinear before "
             "it meets a float tensor";
    } else if (IsFloatingPoint(a) && IsFloatingPoint(b)) {
      hint = "; cast one of them (e.g. float64 data into a float32 graph)";
    }
    return ctx.Error(absl::StrCat("input ", first, " '", ctx.input_name(first),
                                  "' is ", DataTypeName(a), " but input ", i,
                                  " '", ctx.input_name(i), "' is ",
                                  DataTypeName(b), hint));
  }
  return absl::OkStatus();
}

absl::Status RequireDtypeIn(const InferenceContext& ctx, int i,
                            std::initializer_list<DataType> allowed) {
  if (!ctx.has_input(i)) return absl::OkStatus();
  const DataType t = ctx.input_dtype(i);
  if (t == DataType::kUndefined) return absl::OkStatus();
  for (DataType a : allowed) {
    if (a == t) return absl::OkStatus();
  }
  std::vector<absl::string_view> names;
  for (DataType a : allowed) names.push_back(DataTypeName(a));
  return ctx.Error(absl::StrCat("input ", i, " '", ctx.input_name(i), "' is ",
                                DataTypeName(t), ", expected one of ",
                                absl::StrJoin(names, ", ")));
}

absl::Status InferSameAsInput(InferenceContext& ctx, int i) {
  ctx.set_output(0, ctx.input_dtype(i), ctx.input_shape(i));
  return absl::OkStatus();
}

absl::StatusOr<int> NormalizeAxis(const InferenceContext& ctx, int64_t axis,
                                  int rank) {
  if (axis < -rank || axis >= std::max(rank, 1)) {
    return ctx.Error(absl::StrCat("axis ", axis, " is out of range for rank ", rank));
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

}  // namespace qforge::internal
