// Schemas of the tensor ops: Constant, Shape, Gather, Slice, Split, Concat,
// Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Pad.
//
// These ops accept every element type. Shape inference uses constant inputs
// (Reshape's shape, Slice's starts, Pad's pads, ...) when they are
// constants, and otherwise keeps what it can: the rank, the untouched dims,
// or nothing. Parameters that are wrong whatever the data (an axis out of
// range, a -1 twice in a shape) are errors here already.
//
// Ops whose attributes became inputs (Split, Squeeze, Unsqueeze, Pad,
// Slice, Reshape) take either form where the two cannot be confused; Slice,
// Reshape and Pad have one schema per form since their arity changed.
#include <algorithm>
#include <climits>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/schema_util.h"
#include "ir/schemas/groups.h"
#include "ir/schemas/tensor_util.h"
#include "qforge/core/status.h"

namespace qforge::internal {
namespace {

using IntList = std::optional<std::vector<int64_t>>;

// The values of input i when it is a constant int32/int64 tensor, nullopt
// when it is absent or not constant.
absl::StatusOr<IntList> ConstantInts(const InferenceContext& ctx, int i) {
  if (!ctx.has_input(i)) return IntList();
  const DataType t = ctx.input_dtype(i);
  if (t != DataType::kUndefined && t != DataType::kInt64 &&
      t != DataType::kInt32) {
    return ctx.Error(absl::StrCat("input ", i, " '", ctx.input_name(i),
                                  "' must be int32 or int64, got ",
                                  DataTypeName(t)));
  }
  const Tensor* c = ctx.input_constant(i);
  if (c == nullptr) return IntList();
  if (c->rank() > 1) {
    return ctx.Error(absl::StrCat("input ", i, " '", ctx.input_name(i),
                                  "' must be 1-D, got shape ",
                                  DimsToString(c->dims())));
  }
  std::vector<int64_t> v(c->num_elements());
  for (int64_t k = 0; k < c->num_elements(); ++k) v[k] = c->GetAsInt64(k);
  return IntList(std::move(v));
}

// An ints attribute when present, else nullopt.
absl::StatusOr<IntList> IntsAttribute(const InferenceContext& ctx,
                                      const char* name) {
  if (!ctx.node().HasAttribute(name)) return IntList();
  QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> v, ctx.node().GetInts(name, {}));
  return IntList(std::move(v));
}

// Product of dims[begin, end) when all static, else an unknown dim.
Dim DimProduct(const Shape& s, int begin, int end) {
  int64_t p = 1;
  for (int i = begin; i < end; ++i) {
    if (!s.dim(i).is_static()) return Dim::Unknown();
    p *= s.dim(i).value;
  }
  return Dim::Static(p);
}

Shape UnknownDims(int rank) { return Shape(std::vector<Dim>(rank)); }

// --- Constant, Shape ---------------------------------------------------------

absl::Status InferConstant(InferenceContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(Tensor value, ConstantNodeValue(ctx.node()));
  ctx.set_output(0, value.dtype(), Shape(value.dims()));
  return absl::OkStatus();
}

absl::Status InferShape(InferenceContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(int64_t start, ctx.node().GetInt("start", 0));
  const Shape& in = ctx.input_shape(0);
  if (!in.rank_known()) {
    QFORGE_RETURN_IF_ERROR(ctx.node().GetInt("end", 0).status());
    ctx.set_output(0, DataType::kInt64, UnknownDims(1));
    return absl::OkStatus();
  }
  const int64_t rank = in.rank();
  QFORGE_ASSIGN_OR_RETURN(int64_t end, ctx.node().GetInt("end", rank));
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  ctx.set_output(0, DataType::kInt64,
                 Shape({std::max<int64_t>(0, end - start)}));
  return absl::OkStatus();
}

// --- Gather ------------------------------------------------------------------

absl::Status InferGather(InferenceContext& ctx) {
  QFORGE_RETURN_IF_ERROR(
      RequireDtypeIn(ctx, 1, {DataType::kInt32, DataType::kInt64}));
  QFORGE_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.node().GetInt("axis", 0));
  const Shape& data = ctx.input_shape(0);
  const Shape& indices = ctx.input_shape(1);
  if (!data.rank_known()) {
    ctx.set_output(0, ctx.input_dtype(0), Shape());
    return absl::OkStatus();
  }
  if (data.rank() == 0)
    return ctx.Error("data must have rank >= 1, got a scalar");
  QFORGE_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx, axis_attr, data.rank()));
  // Constant indices are checked against a static axis size here already.
  if (const Tensor* c = ctx.input_constant(1);
      c != nullptr && data.dim(axis).is_static() && IsInteger(c->dtype())) {
    const int64_t n = data.dim(axis).value;
    for (int64_t i = 0; i < c->num_elements(); ++i) {
      const int64_t index = c->GetAsInt64(i);
      if (index < -n || index >= n) {
        return ctx.Error(absl::StrCat(
            "index ", index, " (element ", i, " of '", ctx.input_name(1),
            "') is out of range for axis ", axis, " of size ", n));
      }
    }
  }
  if (!indices.rank_known()) {
    ctx.set_output(0, ctx.input_dtype(0), Shape());
    return absl::OkStatus();
  }
  std::vector<Dim> dims(data.dims().begin(), data.dims().begin() + axis);
  dims.insert(dims.end(), indices.dims().begin(), indices.dims().end());
  dims.insert(dims.end(), data.dims().begin() + axis + 1, data.dims().end());
  ctx.set_output(0, ctx.input_dtype(0), Shape(std::move(dims)));
  return absl::OkStatus();
}

// --- Slice -------------------------------------------------------------------

// Output shape from (possibly unknown) starts/ends/axes/steps.
absl::Status InferSliceFrom(InferenceContext& ctx, IntList starts, IntList ends,
                            IntList axes, IntList steps, bool axes_given,
                            bool steps_given) {
  const Shape& data = ctx.input_shape(0);
  if (!data.rank_known()) {
    ctx.set_output(0, ctx.input_dtype(0), Shape());
    return absl::OkStatus();
  }
  const int rank = data.rank();
  const bool known =
      starts && ends && (axes || !axes_given) && (steps || !steps_given);
  if (!known) {
    // Only the sliced axes change; when they are unknown, any may.
    Shape out = data;
    for (int d = 0; d < rank; ++d) {
      bool sliced = true;
      if (axes) {
        sliced = std::any_of(axes->begin(), axes->end(), [&](int64_t a) {
          return a == d || a + rank == d;
        });
      }
      if (sliced) out.dim(d) = Dim::Unknown();
    }
    ctx.set_output(0, ctx.input_dtype(0), std::move(out));
    return absl::OkStatus();
  }
  absl::StatusOr<SliceParams> p =
      NormalizeSliceParams(rank, *std::move(starts), *std::move(ends),
                           std::move(axes), std::move(steps));
  if (!p.ok()) return ctx.Error(p.status().message());
  Shape out = data;
  for (size_t i = 0; i < p->axes.size(); ++i) {
    const int axis = static_cast<int>(p->axes[i]);
    const Dim& d = data.dim(axis);
    if (!d.is_static()) {
      out.dim(axis) = Dim::Unknown();
      continue;
    }
    out.dim(axis) = Dim::Static(
        ResolveSliceAxis(d.value, p->starts[i], p->ends[i], p->steps[i]).count);
  }
  ctx.set_output(0, ctx.input_dtype(0), std::move(out));
  return absl::OkStatus();
}

// Slice-10+: starts, ends, axes, steps are inputs.
absl::Status InferSlice(InferenceContext& ctx) {
  QFORGE_RETURN_IF_ERROR(RequireSameDtype(ctx, {1, 2, 3, 4}));
  QFORGE_ASSIGN_OR_RETURN(IntList starts, ConstantInts(ctx, 1));
  QFORGE_ASSIGN_OR_RETURN(IntList ends, ConstantInts(ctx, 2));
  QFORGE_ASSIGN_OR_RETURN(IntList axes, ConstantInts(ctx, 3));
  QFORGE_ASSIGN_OR_RETURN(IntList steps, ConstantInts(ctx, 4));
  return InferSliceFrom(ctx, std::move(starts), std::move(ends),
                        std::move(axes), std::move(steps), ctx.has_input(3),
                        ctx.has_input(4));
}

// Slice-1: starts, ends, axes are attributes.
absl::Status InferSliceV1(InferenceContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> starts,
                          ctx.node().RequireInts("starts"));
  QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> ends,
                          ctx.node().RequireInts("ends"));
  QFORGE_ASSIGN_OR_RETURN(IntList axes, IntsAttribute(ctx, "axes"));
  return InferSliceFrom(ctx, std::move(starts), std::move(ends),
                        std::move(axes), IntList(), false, false);
}

// --- Split -------------------------------------------------------------------

absl::Status InferSplit(InferenceContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.node().GetInt("axis", 0));
  const int n = ctx.num_outputs();
  if (ctx.node().HasAttribute("num_outputs")) {
    QFORGE_ASSIGN_OR_RETURN(int64_t num, ctx.node().GetInt("num_outputs", 0));
    if (num != n) {
      return ctx.Error(absl::StrCat("num_outputs is ", num,
                                    " but the node has ", n, " outputs"));
    }
  }
  IntList split;
  if (ctx.has_input(1)) {
    if (ctx.node().HasAttribute("split")) {
      return ctx.Error("split is given both as an input and as an attribute");
    }
    QFORGE_ASSIGN_OR_RETURN(split, ConstantInts(ctx, 1));
  } else {
    QFORGE_ASSIGN_OR_RETURN(split, IntsAttribute(ctx, "split"));
  }
  if (split) {
    if (static_cast<int>(split->size()) != n) {
      return ctx.Error(absl::StrCat("split has ", split->size(),
                                    " values but the node has ", n,
                                    " outputs"));
    }
    for (int64_t s : *split) {
      if (s < 0) {
        return ctx.Error(absl::StrCat("split [", absl::StrJoin(*split, ","),
                                      "] has a negative size"));
      }
    }
  }
  const Shape& in = ctx.input_shape(0);
  const DataType dtype = ctx.input_dtype(0);
  if (!in.rank_known()) {
    for (int i = 0; i < n; ++i) ctx.set_output(i, dtype, Shape());
    return absl::OkStatus();
  }
  if (in.rank() == 0) return ctx.Error("cannot split a scalar");
  QFORGE_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx, axis_attr, in.rank()));
  const Dim& d = in.dim(axis);
  if (split && d.is_static()) {
    int64_t sum = 0;
    for (int64_t s : *split) sum += s;
    if (sum != d.value) {
      return ctx.Error(absl::StrCat("split [", absl::StrJoin(*split, ","),
                                    "] sums to ", sum, " but axis ", axis,
                                    " has size ", d.value));
    }
  }
  const bool equal = !split && !ctx.has_input(1);
  if (equal && d.is_static() && d.value % n != 0) {
    return ctx.Error(absl::StrCat("axis ", axis, " of size ", d.value,
                                  " cannot be split into ", n, " equal parts"));
  }
  for (int i = 0; i < n; ++i) {
    Shape out = in;
    if (split) {
      out.dim(axis) = Dim::Static((*split)[i]);
    } else if (equal && d.is_static()) {
      out.dim(axis) = Dim::Static(d.value / n);
    } else {
      out.dim(axis) = Dim::Unknown();
    }
    ctx.set_output(i, dtype, std::move(out));
  }
  return absl::OkStatus();
}

// --- Concat ------------------------------------------------------------------

absl::Status InferConcat(InferenceContext& ctx) {
  // RequireSameDtype takes an initializer_list: check pairwise with input 0.
  for (int i = 1; i < ctx.num_inputs(); ++i) {
    QFORGE_RETURN_IF_ERROR(RequireSameDtype(ctx, {0, i}));
  }
  QFORGE_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.node().RequireInt("axis"));
  int rank = -1;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const Shape& s = ctx.input_shape(i);
    if (!ctx.has_input(i) || !s.rank_known()) continue;
    if (rank >= 0 && s.rank() != rank) {
      return ctx.Error(absl::StrCat(
          "input ", i, " '", ctx.input_name(i), "' has rank ", s.rank(),
          " but input 0 has rank ", rank, "; all inputs need the same rank"));
    }
    rank = s.rank();
  }
  const DataType dtype = ctx.input_dtype(0);
  if (rank < 0) {
    ctx.set_output(0, dtype, Shape());
    return absl::OkStatus();
  }
  if (rank == 0) return ctx.Error("cannot concatenate scalars");
  QFORGE_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx, axis_attr, rank));
  std::vector<Dim> dims(rank);
  int64_t axis_sum = 0;
  bool axis_known = true;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const Shape& s = ctx.input_shape(i);
    if (!ctx.has_input(i)) continue;
    if (!s.rank_known()) {
      axis_known = false;
      continue;
    }
    for (int d = 0; d < rank; ++d) {
      const Dim& di = s.dim(d);
      if (d == axis) {
        if (di.is_static()) {
          axis_sum += di.value;
        } else {
          axis_known = false;
        }
        continue;
      }
      if (di.is_static() && dims[d].is_static() && di.value != dims[d].value) {
        return ctx.Error(absl::StrCat(
            "input ", i, " '", ctx.input_name(i), "' has shape ", s.ToString(),
            " which differs from the other inputs in dimension ", d, " (",
            di.value, " vs ", dims[d].value, "); only axis ", axis,
            " may differ"));
      }
      if (!dims[d].is_static() && (di.is_static() || dims[d].symbol.empty())) {
        dims[d] = di;
      }
    }
  }
  dims[axis] = axis_known ? Dim::Static(axis_sum) : Dim::Unknown();
  ctx.set_output(0, dtype, Shape(std::move(dims)));
  return absl::OkStatus();
}

// --- Reshape, Flatten --------------------------------------------------------

absl::Status InferReshapeFrom(InferenceContext& ctx, const IntList& shape,
                              int shape_rank) {
  QFORGE_ASSIGN_OR_RETURN(int64_t allowzero, ctx.node().GetInt("allowzero", 0));
  const Shape& in = ctx.input_shape(0);
  const DataType dtype = ctx.input_dtype(0);
  if (!shape) {
    ctx.set_output(0, dtype,
                   shape_rank >= 0 ? UnknownDims(shape_rank) : Shape());
    return absl::OkStatus();
  }
  if (absl::Status s = CheckReshapeShape(*shape, allowzero != 0); !s.ok()) {
    return ctx.Error(s.message());
  }
  if (auto static_in = in.static_dims()) {
    absl::StatusOr<std::vector<int64_t>> out =
        ResolveReshape(*static_in, *shape, allowzero != 0);
    if (!out.ok()) return ctx.Error(out.status().message());
    ctx.set_output(0, dtype, Shape(*out));
    return absl::OkStatus();
  }
  // Partly known input: 0 copies the input dim (symbol included); -1 stays
  // unknown.
  std::vector<Dim> dims;
  for (size_t i = 0; i < shape->size(); ++i) {
    const int64_t s = (*shape)[i];
    if (s == 0 && allowzero == 0) {
      if (!in.rank_known()) {
        dims.push_back(Dim::Unknown());
      } else if (static_cast<int>(i) < in.rank()) {
        dims.push_back(in.dim(static_cast<int>(i)));
      } else {
        return ctx.Error(absl::StrCat("shape[", i,
                                      "] is 0 (copy the input dim) "
                                      "but the input has rank ",
                                      in.rank()));
      }
    } else if (s == -1) {
      dims.push_back(Dim::Unknown());
    } else {
      dims.push_back(Dim::Static(s));
    }
  }
  ctx.set_output(0, dtype, Shape(std::move(dims)));
  return absl::OkStatus();
}

// Reshape-5+: the shape is input 1.
absl::Status InferReshape(InferenceContext& ctx) {
  if (ctx.input_dtype(1) != DataType::kUndefined &&
      ctx.input_dtype(1) != DataType::kInt64) {
    return ctx.Error(absl::StrCat("input 1 '", ctx.input_name(1),
                                  "' (shape) must be int64, got ",
                                  DataTypeName(ctx.input_dtype(1))));
  }
  QFORGE_ASSIGN_OR_RETURN(IntList shape, ConstantInts(ctx, 1));
  const Shape& s = ctx.input_shape(1);
  int shape_rank = -1;
  if (s.rank_known() && s.rank() == 1 && s.dim(0).is_static()) {
    shape_rank = static_cast<int>(s.dim(0).value);
  }
  return InferReshapeFrom(ctx, shape, shape_rank);
}

// Reshape-1: the shape is an attribute.
absl::Status InferReshapeV1(InferenceContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> shape,
                          ctx.node().RequireInts("shape"));
  return InferReshapeFrom(ctx, shape, static_cast<int>(shape.size()));
}

absl::Status InferFlatten(InferenceContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(int64_t axis, ctx.node().GetInt("axis", 1));
  const Shape& in = ctx.input_shape(0);
  if (!in.rank_known()) {
    ctx.set_output(0, ctx.input_dtype(0), UnknownDims(2));
    return absl::OkStatus();
  }
  const int rank = in.rank();
  if (axis < -rank || axis > rank) {
    return ctx.Error(absl::StrCat("axis ", axis, " is out of range for rank ",
                                  rank, " (valid: ", -rank, "..", rank, ")"));
  }
  const int a = static_cast<int>(axis < 0 ? axis + rank : axis);
  ctx.set_output(
      0, ctx.input_dtype(0),
      Shape(std::vector<Dim>{DimProduct(in, 0, a), DimProduct(in, a, rank)}));
  return absl::OkStatus();
}

// --- Transpose ---------------------------------------------------------------

absl::Status InferTranspose(InferenceContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(IntList perm, IntsAttribute(ctx, "perm"));
  const Shape& in = ctx.input_shape(0);
  if (!in.rank_known()) {
    ctx.set_output(
        0, ctx.input_dtype(0),
        perm ? UnknownDims(static_cast<int>(perm->size())) : Shape());
    return absl::OkStatus();
  }
  const int rank = in.rank();
  if (!perm) {
    perm.emplace();
    for (int i = rank - 1; i >= 0; --i) perm->push_back(i);
  }
  bool ok = static_cast<int>(perm->size()) == rank;
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; ok && i < perm->size(); ++i) {
    const int64_t p = (*perm)[i];
    ok = p >= 0 && p < rank && !seen[p];
    if (ok) seen[p] = true;
  }
  if (!ok) {
    return ctx.Error(absl::StrCat("perm [", absl::StrJoin(*perm, ","),
                                  "] is not a permutation of 0..", rank - 1,
                                  " for an input of rank ", rank));
  }
  std::vector<Dim> dims;
  for (int64_t p : *perm) dims.push_back(in.dim(static_cast<int>(p)));
  ctx.set_output(0, ctx.input_dtype(0), Shape(std::move(dims)));
  return absl::OkStatus();
}

// --- Squeeze, Unsqueeze ------------------------------------------------------

// Axes from input 1 (opset 13+) or the attribute (before); `given` tells
// whether any was specified (a non-constant input gives given && !axes).
absl::StatusOr<IntList> SqueezeAxes(const InferenceContext& ctx, bool* given) {
  if (ctx.has_input(1)) {
    if (ctx.node().HasAttribute("axes")) {
      return ctx.Error("axes is given both as an input and as an attribute");
    }
    *given = true;
    return ConstantInts(ctx, 1);
  }
  *given = ctx.node().HasAttribute("axes");
  return IntsAttribute(ctx, "axes");
}

// Normalizes `axes` against `rank`; errors on range and repeats.
absl::StatusOr<std::vector<bool>> AxisMask(const InferenceContext& ctx,
                                           const std::vector<int64_t>& axes,
                                           int rank) {
  std::vector<bool> mask(rank, false);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank) {
      return ctx.Error(
          absl::StrCat("axis ", a, " is out of range for rank ", rank));
    }
    const int axis = static_cast<int>(a < 0 ? a + rank : a);
    if (mask[axis]) {
      return ctx.Error(absl::StrCat("axis ", a,
                                    " appears more than once in axes [",
                                    absl::StrJoin(axes, ","), "]"));
    }
    mask[axis] = true;
  }
  return mask;
}

absl::Status InferSqueeze(InferenceContext& ctx) {
  bool given = false;
  QFORGE_ASSIGN_OR_RETURN(IntList axes, SqueezeAxes(ctx, &given));
  const Shape& in = ctx.input_shape(0);
  const DataType dtype = ctx.input_dtype(0);
  if (!in.rank_known() || (given && !axes)) {
    ctx.set_output(0, dtype, Shape());
    return absl::OkStatus();
  }
  std::vector<Dim> dims;
  if (!axes) {
    // Without axes every dim of size 1 goes; unknown dims make it unknown.
    for (const Dim& d : in.dims()) {
      if (!d.is_static()) {
        ctx.set_output(0, dtype, Shape());
        return absl::OkStatus();
      }
      if (d.value != 1) dims.push_back(d);
    }
  } else {
    QFORGE_ASSIGN_OR_RETURN(std::vector<bool> mask,
                            AxisMask(ctx, *axes, in.rank()));
    for (int d = 0; d < in.rank(); ++d) {
      if (!mask[d]) {
        dims.push_back(in.dim(d));
      } else if (in.dim(d).is_static() && in.dim(d).value != 1) {
        return ctx.Error(absl::StrCat("cannot squeeze axis ", d, " of size ",
                                      in.dim(d).value, " in shape ",
                                      in.ToString()));
      }
    }
  }
  ctx.set_output(0, dtype, Shape(std::move(dims)));
  return absl::OkStatus();
}

absl::Status InferUnsqueeze(InferenceContext& ctx) {
  bool given = false;
  QFORGE_ASSIGN_OR_RETURN(IntList axes, SqueezeAxes(ctx, &given));
  if (!given) return ctx.Error("axes is required");
  const Shape& in = ctx.input_shape(0);
  const DataType dtype = ctx.input_dtype(0);
  if (!axes) {
    const Shape& s = ctx.input_shape(1);
    if (in.rank_known() && s.rank_known() && s.rank() == 1 &&
        s.dim(0).is_static()) {
      ctx.set_output(0, dtype,
                     UnknownDims(in.rank() + static_cast<int>(s.dim(0).value)));
    } else {
      ctx.set_output(0, dtype, Shape());
    }
    return absl::OkStatus();
  }
  if (!in.rank_known()) {
    ctx.set_output(0, dtype, Shape());
    return absl::OkStatus();
  }
  const int rank = in.rank() + static_cast<int>(axes->size());
  QFORGE_ASSIGN_OR_RETURN(std::vector<bool> mask, AxisMask(ctx, *axes, rank));
  std::vector<Dim> dims;
  int next = 0;
  for (int d = 0; d < rank; ++d) {
    dims.push_back(mask[d] ? Dim::Static(1) : in.dim(next++));
  }
  ctx.set_output(0, dtype, Shape(std::move(dims)));
  return absl::OkStatus();
}

// --- Pad ---------------------------------------------------------------------

absl::Status CheckPadMode(const InferenceContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(std::string mode,
                          ctx.node().GetString("mode", "constant"));
  if (mode != "constant" && mode != "reflect" && mode != "edge") {
    return ctx.Error(absl::StrCat("mode '", mode,
                                  "' is not supported; expected constant, "
                                  "reflect or edge"));
  }
  return absl::OkStatus();
}

absl::Status InferPadFrom(InferenceContext& ctx, const IntList& pads,
                          const IntList& axes, bool axes_given) {
  QFORGE_RETURN_IF_ERROR(CheckPadMode(ctx));
  const Shape& in = ctx.input_shape(0);
  const DataType dtype = ctx.input_dtype(0);
  if (!in.rank_known()) {
    ctx.set_output(0, dtype, Shape());
    return absl::OkStatus();
  }
  const int rank = in.rank();
  if (!pads || (axes_given && !axes)) {
    ctx.set_output(0, dtype, UnknownDims(rank));
    return absl::OkStatus();
  }
  std::vector<int64_t> pad_axes;
  if (axes) {
    QFORGE_RETURN_IF_ERROR(AxisMask(ctx, *axes, rank).status());
    for (int64_t a : *axes) pad_axes.push_back(a < 0 ? a + rank : a);
  } else {
    for (int d = 0; d < rank; ++d) pad_axes.push_back(d);
  }
  const size_t n = pad_axes.size();
  if (pads->size() != 2 * n) {
    return ctx.Error(absl::StrCat("pads has ", pads->size(),
                                  " values, expected ", 2 * n,
                                  " (begin and end for ", n, " axes)"));
  }
  Shape out = in;
  for (size_t i = 0; i < n; ++i) {
    const int d = static_cast<int>(pad_axes[i]);
    if (!in.dim(d).is_static()) {
      // An unpadded axis keeps its (symbolic) dim.
      if ((*pads)[i] != 0 || (*pads)[i + n] != 0) out.dim(d) = Dim::Unknown();
      continue;
    }
    const int64_t size = in.dim(d).value + (*pads)[i] + (*pads)[i + n];
    if (size < 0) {
      return ctx.Error(absl::StrCat("pads [", absl::StrJoin(*pads, ","),
                                    "] remove more than axis ", d, " of size ",
                                    in.dim(d).value, " holds"));
    }
    out.dim(d) = Dim::Static(size);
  }
  ctx.set_output(0, dtype, std::move(out));
  return absl::OkStatus();
}

// Pad-11+: pads, constant_value (and axes, opset 18) are inputs.
absl::Status InferPad(InferenceContext& ctx) {
  if (ctx.input_dtype(1) != DataType::kUndefined &&
      ctx.input_dtype(1) != DataType::kInt64) {
    return ctx.Error(absl::StrCat("input 1 '", ctx.input_name(1),
                                  "' (pads) must be int64, got ",
                                  DataTypeName(ctx.input_dtype(1))));
  }
  QFORGE_RETURN_IF_ERROR(RequireSameDtype(ctx, {0, 2}));
  if (ctx.has_input(2) && ctx.input_shape(2).num_elements() > 1) {
    return ctx.Error(
        absl::StrCat("input 2 '", ctx.input_name(2),
                     "' (constant_value) must be a scalar, got shape ",
                     ctx.input_shape(2).ToString()));
  }
  QFORGE_ASSIGN_OR_RETURN(IntList pads, ConstantInts(ctx, 1));
  QFORGE_ASSIGN_OR_RETURN(IntList axes, ConstantInts(ctx, 3));
  return InferPadFrom(ctx, pads, axes, ctx.has_input(3));
}

// Pad-2: pads and value are attributes.
absl::Status InferPadV2(InferenceContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> pads,
                          ctx.node().RequireInts("pads"));
  QFORGE_RETURN_IF_ERROR(ctx.node().GetFloat("value", 0).status());
  return InferPadFrom(ctx, pads, IntList(), false);
}

OpSchema Schema(const char* op, int since, int until, int min_inputs,
                int max_inputs, InferenceFunction infer, const char* doc) {
  return OpSchema{.key = {"", op},
                  .since_version = since,
                  .until_version = until,
                  .min_inputs = min_inputs,
                  .max_inputs = max_inputs,
                  .infer = std::move(infer),
                  .doc = doc};
}

}  // namespace

absl::Status RegisterTensorSchemas(OpSchemaTable& table) {
  constexpr int kMax = INT_MAX;
  std::vector<OpSchema> schemas = {
      Schema("Constant", 1, kMax, 0, 0, InferConstant,
             "a tensor given by one of the value attributes"),
      Schema("Shape", 1, kMax, 1, 1, InferShape,
             "the input's dims [start, end) as int64"),
      Schema("Gather", 1, kMax, 2, 2, InferGather,
             "takes the entries at indices along axis"),
      Schema("Slice", 1, 9, 1, 1, InferSliceV1,
             "sub-tensor; starts/ends/axes attributes"),
      Schema("Slice", 10, kMax, 3, 5, InferSlice,
             "sub-tensor from starts, ends, axes, steps inputs"),
      Schema("Concat", 1, kMax, 1, kMax, InferConcat,
             "joins the inputs along axis"),
      Schema("Reshape", 1, 4, 1, 1, InferReshapeV1,
             "same data, new dims from the shape attribute"),
      Schema("Reshape", 5, kMax, 2, 2, InferReshape,
             "same data, new dims (0 copies, -1 infers)"),
      Schema("Flatten", 1, kMax, 1, 1, InferFlatten,
             "2-D: dims before axis x dims from axis"),
      Schema("Transpose", 1, kMax, 1, 1, InferTranspose,
             "permutes the dims (default: reverses them)"),
      Schema("Squeeze", 1, kMax, 1, 2, InferSqueeze, "removes dims of size 1"),
      Schema("Unsqueeze", 1, kMax, 1, 2, InferUnsqueeze,
             "inserts dims of size 1 at axes"),
      Schema("Pad", 1, 10, 1, 1, InferPadV2,
             "pads by the pads attribute (constant, reflect, edge)"),
      Schema("Pad", 11, kMax, 2, 4, InferPad,
             "pads by the pads input (constant, reflect, edge)"),
  };
  OpSchema split = Schema("Split", 1, kMax, 1, 2, InferSplit,
                          "splits along axis by sizes or into equal parts");
  split.max_outputs = kMax;
  schemas.push_back(std::move(split));
  for (OpSchema& s : schemas)
    QFORGE_RETURN_IF_ERROR(table.Register(std::move(s)));
  return absl::OkStatus();
}

}  // namespace qforge::internal
