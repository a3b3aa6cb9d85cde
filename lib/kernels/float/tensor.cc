// Kernels of the tensor ops: Constant, Shape, Gather, Slice, Split, Concat,
// Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Pad.
//
// They move elements without looking at them, so each is written once over
// bytes and registered for every dtype (KernelDef::input_dtype kUndefined).
// Every index, axis and size is checked at run time before memory is
// touched: these kernels may run on graphs whose shapes were unknown when
// the graph was verified.
#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/schemas/tensor_util.h"
#include "kernels/float/dtype_dispatch.h"
#include "kernels/float/groups.h"
#include "kernels/float/kernel_util.h"
#include "qforge/core/status.h"

namespace qforge::kernels {
namespace {

using internal::ResolveSliceAxis;
using internal::SliceRange;

// --- copying helpers ---------------------------------------------------------

// Copies `count` elements of `size` bytes from `src` (stride `stride`
// bytes, possibly negative) to contiguous `dst`.
template <size_t kSize>
void CopyElements(const uint8_t* src, int64_t stride, int64_t count,
                  uint8_t* dst) {
  for (int64_t i = 0; i < count; ++i) {
    std::memcpy(dst + i * kSize, src + i * stride, kSize);
  }
}

void CopyRun(const uint8_t* src, int64_t stride, int64_t count, size_t size,
             uint8_t* dst) {
  if (stride == static_cast<int64_t>(size)) {
    std::memcpy(dst, src, count * size);
    return;
  }
  switch (size) {
    case 1:
      return CopyElements<1>(src, stride, count, dst);
    case 2:
      return CopyElements<2>(src, stride, count, dst);
    case 4:
      return CopyElements<4>(src, stride, count, dst);
    case 8:
      return CopyElements<8>(src, stride, count, dst);
    default:
      for (int64_t i = 0; i < count; ++i) {
        std::memcpy(dst + i * size, src + i * stride, size);
      }
  }
}

// Gathers the elements src + sum_d(i_d * strides[d]) for every index of
// `dims` (row-major) into contiguous `dst`. Strides are in bytes and may be
// negative or zero.
void CopyStrided(const uint8_t* src, const std::vector<int64_t>& dims,
                 const std::vector<int64_t>& strides, size_t size,
                 uint8_t* dst) {
  const int64_t n = NumElements(dims);
  if (n == 0) return;
  const int rank = static_cast<int>(dims.size());
  if (rank == 0) {
    std::memcpy(dst, src, size);
    return;
  }
  const int64_t inner = dims[rank - 1];
  const int64_t inner_stride = strides[rank - 1];
  std::vector<int64_t> index(rank, 0);
  int64_t offset = 0;
  for (int64_t done = 0; done < n; done += inner) {
    CopyRun(src + offset, inner_stride, inner, size, dst + done * size);
    for (int d = rank - 2; d >= 0; --d) {
      offset += strides[d];
      if (++index[d] < dims[d]) break;
      offset -= strides[d] * dims[d];
      index[d] = 0;
    }
  }
}

// Byte strides of a contiguous tensor of `dims`.
std::vector<int64_t> ByteStrides(const std::vector<int64_t>& dims,
                                 size_t size) {
  std::vector<int64_t> strides(dims.size());
  int64_t s = static_cast<int64_t>(size);
  for (size_t i = dims.size(); i-- > 0;) {
    strides[i] = s;
    s *= dims[i];
  }
  return strides;
}

const uint8_t* Bytes(const Tensor& t) {
  return static_cast<const uint8_t*>(t.raw_data());
}
uint8_t* Bytes(Tensor& t) { return static_cast<uint8_t*>(t.raw_data()); }

// `x` with new dims (same element count, checked by the caller).
void CopyWithDims(const Tensor& x, std::vector<int64_t> dims, Tensor& out) {
  out = x;
  out.Reshape(std::move(dims));
}

// Integer list from input i when present, else from attribute `attr` when
// present, else nullopt.
absl::StatusOr<std::optional<std::vector<int64_t>>> IntsFromInputOrAttribute(
    const KernelContext& ctx, int i, const char* attr) {
  if (const Tensor* t = ctx.input(i); t != nullptr) {
    QFORGE_ASSIGN_OR_RETURN(
        std::vector<int64_t> v,
        ReadInts(ctx, *t, absl::StrCat("input ", i, " (", attr, ")")));
    return std::optional<std::vector<int64_t>>(std::move(v));
  }
  if (ctx.node().HasAttribute(attr)) {
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> v,
                            ctx.node().GetInts(attr, {}));
    return std::optional<std::vector<int64_t>>(std::move(v));
  }
  return std::optional<std::vector<int64_t>>();
}

// --- Constant, Shape ---------------------------------------------------------

class ConstantKernel final : public OpKernel {
 public:
  explicit ConstantKernel(Tensor value) : value_(std::move(value)) {}
  static absl::StatusOr<std::unique_ptr<OpKernel>> Create(
      const KernelInitContext& init) {
    QFORGE_ASSIGN_OR_RETURN(Tensor value,
                            internal::ConstantNodeValue(init.node));
    return std::make_unique<ConstantKernel>(std::move(value));
  }
  absl::Status Run(KernelContext& ctx) const override {
    if (Tensor* out = ctx.output(0); out != nullptr) *out = value_;
    return absl::OkStatus();
  }

 private:
  Tensor value_;
};

absl::Status ShapeKernel(KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* x, Input(ctx, 0));
  Tensor* out = ctx.output(0);
  if (out == nullptr) return absl::OkStatus();
  const int64_t rank = x->rank();
  QFORGE_ASSIGN_OR_RETURN(int64_t start, ctx.node().GetInt("start", 0));
  QFORGE_ASSIGN_OR_RETURN(int64_t end, ctx.node().GetInt("end", rank));
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  std::vector<int64_t> dims;
  for (int64_t i = start; i < end; ++i)
    dims.push_back(x->dim(static_cast<int>(i)));
  *out = Tensor::FromVector<int64_t>({static_cast<int64_t>(dims.size())}, dims);
  return absl::OkStatus();
}

// --- Gather ------------------------------------------------------------------

absl::Status GatherKernel(KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* data, Input(ctx, 0));
  QFORGE_ASSIGN_OR_RETURN(const Tensor* indices, Input(ctx, 1));
  Tensor* out = ctx.output(0);
  if (out == nullptr) return absl::OkStatus();
  if (indices->dtype() != DataType::kInt32 &&
      indices->dtype() != DataType::kInt64) {
    return ctx.Error(absl::StrCat("indices must be int32 or int64, got ",
                                  DataTypeName(indices->dtype())));
  }
  if (data->rank() == 0)
    return ctx.Error("data must have rank >= 1, got a scalar");
  QFORGE_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.node().GetInt("axis", 0));
  QFORGE_ASSIGN_OR_RETURN(int axis,
                          NormalizeAxis(ctx, axis_attr, data->rank()));
  const int64_t n = data->dim(axis);
  std::vector<int64_t> idx(indices->num_elements());
  for (int64_t i = 0; i < indices->num_elements(); ++i) {
    int64_t v = indices->GetAsInt64(i);
    if (v < -n || v >= n) {
      return ctx.Error(absl::StrCat(
          "index ", v, " (element ", i, " of '", ctx.node().input(1)->name(),
          "') is out of range for axis ", axis, " of size ", n));
    }
    idx[i] = v < 0 ? v + n : v;
  }
  std::vector<int64_t> dims(data->dims().begin(), data->dims().begin() + axis);
  dims.insert(dims.end(), indices->dims().begin(), indices->dims().end());
  dims.insert(dims.end(), data->dims().begin() + axis + 1, data->dims().end());
  out->Reset(data->dtype(), std::move(dims));
  const size_t size = SizeOf(data->dtype());
  const int64_t outer = Product(data->dims(), 0, axis);
  const size_t block = Product(data->dims(), axis + 1, data->rank()) * size;
  const uint8_t* src = Bytes(*data);
  uint8_t* dst = Bytes(*out);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i : idx) {
      std::memcpy(dst, src + (o * n + i) * block, block);
      dst += block;
    }
  }
  return absl::OkStatus();
}

// --- Slice -------------------------------------------------------------------

absl::Status SliceKernel(KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* data, Input(ctx, 0));
  Tensor* out = ctx.output(0);
  if (out == nullptr) return absl::OkStatus();
  std::optional<std::vector<int64_t>> starts, ends, axes, steps;
  if (ctx.num_inputs() > 1) {  // Slice-10+: inputs.
    QFORGE_ASSIGN_OR_RETURN(const Tensor* s, Input(ctx, 1));
    QFORGE_ASSIGN_OR_RETURN(const Tensor* e, Input(ctx, 2));
    QFORGE_ASSIGN_OR_RETURN(starts, ReadInts(ctx, *s, "input 1 (starts)"));
    QFORGE_ASSIGN_OR_RETURN(ends, ReadInts(ctx, *e, "input 2 (ends)"));
    if (const Tensor* a = ctx.input(3)) {
      QFORGE_ASSIGN_OR_RETURN(axes, ReadInts(ctx, *a, "input 3 (axes)"));
    }
    if (const Tensor* st = ctx.input(4)) {
      QFORGE_ASSIGN_OR_RETURN(steps, ReadInts(ctx, *st, "input 4 (steps)"));
    }
  } else {  // Slice-1: attributes.
    QFORGE_ASSIGN_OR_RETURN(starts, ctx.node().RequireInts("starts"));
    QFORGE_ASSIGN_OR_RETURN(ends, ctx.node().RequireInts("ends"));
    if (ctx.node().HasAttribute("axes")) {
      QFORGE_ASSIGN_OR_RETURN(axes, ctx.node().GetInts("axes", {}));
    }
  }
  const int rank = data->rank();
  absl::StatusOr<internal::SliceParams> p =
      internal::NormalizeSliceParams(rank, *std::move(starts), *std::move(ends),
                                     std::move(axes), std::move(steps));
  if (!p.ok()) return ctx.Error(p.status().message());

  const size_t size = SizeOf(data->dtype());
  const std::vector<int64_t> in_strides = ByteStrides(data->dims(), size);
  std::vector<int64_t> dims = data->dims();
  std::vector<int64_t> strides = in_strides;
  int64_t offset = 0;
  for (size_t i = 0; i < p->axes.size(); ++i) {
    const int d = static_cast<int>(p->axes[i]);
    const SliceRange r =
        ResolveSliceAxis(data->dim(d), p->starts[i], p->ends[i], p->steps[i]);
    dims[d] = r.count;
    if (r.count > 0) offset += r.start * in_strides[d];
    strides[d] = r.step * in_strides[d];
  }
  out->Reset(data->dtype(), dims);
  CopyStrided(Bytes(*data) + offset, dims, strides, size, Bytes(*out));
  return absl::OkStatus();
}

// --- Split, Concat -----------------------------------------------------------

absl::Status SplitKernel(KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* x, Input(ctx, 0));
  if (x->rank() == 0) return ctx.Error("cannot split a scalar");
  QFORGE_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.node().GetInt("axis", 0));
  QFORGE_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx, axis_attr, x->rank()));
  const int n = ctx.num_outputs();
  const int64_t dim = x->dim(axis);
  QFORGE_ASSIGN_OR_RETURN(auto split,
                          IntsFromInputOrAttribute(ctx, 1, "split"));
  std::vector<int64_t> sizes;
  if (split) {
    sizes = *split;
    if (static_cast<int>(sizes.size()) != n) {
      return ctx.Error(absl::StrCat("split has ", sizes.size(),
                                    " values but the node has ", n,
                                    " outputs"));
    }
    int64_t sum = 0;
    for (int64_t s : sizes) {
      if (s < 0)
        return ctx.Error(absl::StrCat("split has a negative size ", s));
      sum += s;
    }
    if (sum != dim) {
      return ctx.Error(absl::StrCat("split [", absl::StrJoin(sizes, ","),
                                    "] sums to ", sum, " but axis ", axis,
                                    " has size ", dim));
    }
  } else {
    if (n == 0 || dim % n != 0) {
      return ctx.Error(absl::StrCat("axis ", axis, " of size ", dim,
                                    " cannot be split into ", n,
                                    " equal parts"));
    }
    sizes.assign(n, dim / n);
  }
  const size_t size = SizeOf(x->dtype());
  const int64_t outer = Product(x->dims(), 0, axis);
  const int64_t inner = Product(x->dims(), axis + 1, x->rank()) * size;
  int64_t begin = 0;
  for (int i = 0; i < n; ++i) {
    Tensor* out = ctx.output(i);
    if (out != nullptr) {
      std::vector<int64_t> dims = x->dims();
      dims[axis] = sizes[i];
      out->Reset(x->dtype(), dims);
      const int64_t block = sizes[i] * inner;
      for (int64_t o = 0; o < outer; ++o) {
        std::memcpy(Bytes(*out) + o * block,
                    Bytes(*x) + (o * dim + begin) * inner, block);
      }
    }
    begin += sizes[i];
  }
  return absl::OkStatus();
}

absl::Status ConcatKernel(KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* first, Input(ctx, 0));
  Tensor* out = ctx.output(0);
  if (out == nullptr) return absl::OkStatus();
  const int rank = first->rank();
  if (rank == 0) return ctx.Error("cannot concatenate scalars");
  QFORGE_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.node().RequireInt("axis"));
  QFORGE_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx, axis_attr, rank));
  std::vector<int64_t> dims = first->dims();
  dims[axis] = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    QFORGE_ASSIGN_OR_RETURN(const Tensor* t, Input(ctx, i, first->dtype()));
    bool ok = t->rank() == rank;
    for (int d = 0; ok && d < rank; ++d) {
      ok = d == axis || t->dim(d) == first->dim(d);
    }
    if (!ok) {
      return ctx.Error(
          absl::StrCat("input ", i, " has shape ", DimsToString(t->dims()),
                       " but input 0 has ", DimsToString(first->dims()),
                       "; only axis ", axis, " may differ"));
    }
    dims[axis] += t->dim(axis);
  }
  out->Reset(first->dtype(), dims);
  const size_t size = SizeOf(first->dtype());
  const int64_t outer = Product(dims, 0, axis);
  const int64_t inner = Product(dims, axis + 1, rank) * size;
  uint8_t* dst = Bytes(*out);
  for (int64_t o = 0; o < outer; ++o) {
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor& t = *ctx.input(i);
      const int64_t block = t.dim(axis) * inner;
      std::memcpy(dst, Bytes(t) + o * block, block);
      dst += block;
    }
  }
  return absl::OkStatus();
}

// --- Reshape, Flatten, Squeeze, Unsqueeze ------------------------------------

absl::Status ReshapeKernel(KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* x, Input(ctx, 0));
  Tensor* out = ctx.output(0);
  if (out == nullptr) return absl::OkStatus();
  std::vector<int64_t> shape;
  if (ctx.num_inputs() > 1) {
    QFORGE_ASSIGN_OR_RETURN(const Tensor* s, Input(ctx, 1, DataType::kInt64));
    QFORGE_ASSIGN_OR_RETURN(shape, ReadInts(ctx, *s, "input 1 (shape)"));
  } else {
    QFORGE_ASSIGN_OR_RETURN(shape, ctx.node().RequireInts("shape"));
  }
  QFORGE_ASSIGN_OR_RETURN(int64_t allowzero, ctx.node().GetInt("allowzero", 0));
  absl::StatusOr<std::vector<int64_t>> dims =
      internal::ResolveReshape(x->dims(), shape, allowzero != 0);
  if (!dims.ok()) return ctx.Error(dims.status().message());
  CopyWithDims(*x, *std::move(dims), *out);
  return absl::OkStatus();
}

absl::Status FlattenKernel(KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* x, Input(ctx, 0));
  Tensor* out = ctx.output(0);
  if (out == nullptr) return absl::OkStatus();
  QFORGE_ASSIGN_OR_RETURN(int64_t axis, ctx.node().GetInt("axis", 1));
  const int rank = x->rank();
  if (axis < -rank || axis > rank) {
    return ctx.Error(absl::StrCat("axis ", axis, " is out of range for rank ",
                                  rank, " (valid: ", -rank, "..", rank, ")"));
  }
  const int a = static_cast<int>(axis < 0 ? axis + rank : axis);
  CopyWithDims(*x, {Product(x->dims(), 0, a), Product(x->dims(), a, rank)},
               *out);
  return absl::OkStatus();
}

// Marks `axes` (normalized against `rank`) in a mask; errors on range and
// repeats.
absl::StatusOr<std::vector<bool>> AxisMask(const KernelContext& ctx,
                                           const std::vector<int64_t>& axes,
                                           int rank) {
  std::vector<bool> mask(rank, false);
  for (int64_t a : axes) {
    QFORGE_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx, a, rank));
    if (mask[axis]) {
      return ctx.Error(absl::StrCat("axis ", a,
                                    " appears more than once in axes [",
                                    absl::StrJoin(axes, ","), "]"));
    }
    mask[axis] = true;
  }
  return mask;
}

absl::Status SqueezeKernel(KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* x, Input(ctx, 0));
  Tensor* out = ctx.output(0);
  if (out == nullptr) return absl::OkStatus();
  QFORGE_ASSIGN_OR_RETURN(auto axes, IntsFromInputOrAttribute(ctx, 1, "axes"));
  std::vector<int64_t> dims;
  if (!axes) {
    for (int64_t d : x->dims()) {
      if (d != 1) dims.push_back(d);
    }
  } else {
    QFORGE_ASSIGN_OR_RETURN(std::vector<bool> mask,
                            AxisMask(ctx, *axes, x->rank()));
    for (int d = 0; d < x->rank(); ++d) {
      if (!mask[d]) {
        dims.push_back(x->dim(d));
      } else if (x->dim(d) != 1) {
        return ctx.Error(absl::StrCat("cannot squeeze axis ", d, " of size ",
                                      x->dim(d), " in shape ",
                                      DimsToString(x->dims())));
      }
    }
  }
  CopyWithDims(*x, std::move(dims), *out);
  return absl::OkStatus();
}

absl::Status UnsqueezeKernel(KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* x, Input(ctx, 0));
  Tensor* out = ctx.output(0);
  if (out == nullptr) return absl::OkStatus();
  QFORGE_ASSIGN_OR_RETURN(auto axes, IntsFromInputOrAttribute(ctx, 1, "axes"));
  if (!axes) return ctx.Error("axes is required");
  const int rank = x->rank() + static_cast<int>(axes->size());
  QFORGE_ASSIGN_OR_RETURN(std::vector<bool> mask, AxisMask(ctx, *axes, rank));
  std::vector<int64_t> dims;
  int next = 0;
  for (int d = 0; d < rank; ++d) dims.push_back(mask[d] ? 1 : x->dim(next++));
  CopyWithDims(*x, std::move(dims), *out);
  return absl::OkStatus();
}

// --- Transpose ---------------------------------------------------------------

absl::Status TransposeKernel(KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* x, Input(ctx, 0));
  Tensor* out = ctx.output(0);
  if (out == nullptr) return absl::OkStatus();
  const int rank = x->rank();
  std::vector<int64_t> perm;
  if (ctx.node().HasAttribute("perm")) {
    QFORGE_ASSIGN_OR_RETURN(perm, ctx.node().GetInts("perm", {}));
  } else {
    for (int i = rank - 1; i >= 0; --i) perm.push_back(i);
  }
  bool ok = static_cast<int>(perm.size()) == rank;
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; ok && i < perm.size(); ++i) {
    ok = perm[i] >= 0 && perm[i] < rank && !seen[perm[i]];
    if (ok) seen[perm[i]] = true;
  }
  if (!ok) {
    return ctx.Error(absl::StrCat("perm [", absl::StrJoin(perm, ","),
                                  "] is not a permutation of 0..", rank - 1,
                                  " for an input of rank ", rank));
  }
  const size_t size = SizeOf(x->dtype());
  const std::vector<int64_t> in_strides = ByteStrides(x->dims(), size);
  std::vector<int64_t> dims(rank), strides(rank);
  for (int i = 0; i < rank; ++i) {
    dims[i] = x->dim(static_cast<int>(perm[i]));
    strides[i] = in_strides[perm[i]];
  }
  out->Reset(x->dtype(), dims);
  CopyStrided(Bytes(*x), dims, strides, size, Bytes(*out));
  return absl::OkStatus();
}

// --- Pad ---------------------------------------------------------------------

enum class PadMode { kConstant, kReflect, kEdge };

// Index into [0, m) that numpy's "reflect" padding reads for position k
// (the edge itself is not repeated). m >= 1.
int64_t Reflect(int64_t k, int64_t m) {
  if (m == 1) return 0;
  const int64_t period = 2 * (m - 1);
  k %= period;
  if (k < 0) k += period;
  return k < m ? k : period - k;
}

absl::Status PadKernel(KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* x, Input(ctx, 0));
  Tensor* out = ctx.output(0);
  if (out == nullptr) return absl::OkStatus();
  const int rank = x->rank();
  const size_t size = SizeOf(x->dtype());

  QFORGE_ASSIGN_OR_RETURN(std::string mode_name,
                          ctx.node().GetString("mode", "constant"));
  PadMode mode;
  if (mode_name == "constant") {
    mode = PadMode::kConstant;
  } else if (mode_name == "reflect") {
    mode = PadMode::kReflect;
  } else if (mode_name == "edge") {
    mode = PadMode::kEdge;
  } else {
    return ctx.Error(absl::StrCat("mode '", mode_name,
                                  "' is not supported; "
                                  "expected constant, reflect or edge"));
  }

  // Pads per axis (begin, end); the constant as bytes of x's dtype.
  std::vector<int64_t> pads;
  std::vector<uint8_t> value(size, 0);
  std::vector<int64_t> axes;
  if (ctx.num_inputs() > 1) {  // Pad-11+.
    QFORGE_ASSIGN_OR_RETURN(const Tensor* p, Input(ctx, 1));
    QFORGE_ASSIGN_OR_RETURN(pads, ReadInts(ctx, *p, "input 1 (pads)"));
    if (const Tensor* c = ctx.input(2); c != nullptr && !c->empty()) {
      QFORGE_ASSIGN_OR_RETURN(c, Input(ctx, 2, x->dtype()));
      if (c->num_elements() != 1) {
        return ctx.Error(
            absl::StrCat("constant_value must be a scalar, got shape ",
                         DimsToString(c->dims())));
      }
      std::memcpy(value.data(), c->raw_data(), size);
    }
    if (const Tensor* a = ctx.input(3); a != nullptr) {
      QFORGE_ASSIGN_OR_RETURN(axes, ReadInts(ctx, *a, "input 3 (axes)"));
    }
  } else {  // Pad-2: attributes.
    QFORGE_ASSIGN_OR_RETURN(pads, ctx.node().RequireInts("pads"));
    QFORGE_ASSIGN_OR_RETURN(float v, ctx.node().GetFloat("value", 0.0f));
    QFORGE_RETURN_IF_ERROR(VisitDtype(x->dtype(), [&]<typename T>(TypeTag<T>) {
      const T t = CastValue<T>(v);
      std::memcpy(value.data(), &t, size);
      return absl::OkStatus();
    }));
  }
  std::vector<int64_t> begin(rank, 0), end(rank, 0);
  {
    if (ctx.input(3) != nullptr) {
      QFORGE_RETURN_IF_ERROR(AxisMask(ctx, axes, rank).status());
    } else {
      for (int d = 0; d < rank; ++d) axes.push_back(d);
    }
    const size_t n = axes.size();
    if (pads.size() != 2 * n) {
      return ctx.Error(absl::StrCat("pads has ", pads.size(),
                                    " values, expected ", 2 * n,
                                    " (begin and end for ", n, " axes)"));
    }
    for (size_t i = 0; i < n; ++i) {
      const int d = static_cast<int>(axes[i] < 0 ? axes[i] + rank : axes[i]);
      begin[d] = pads[i];
      end[d] = pads[i + n];
    }
  }

  // Per axis, the source index of each output index (-1: the constant).
  // Negative pads crop first; edge and reflect then read the cropped input.
  std::vector<int64_t> dims(rank);
  std::vector<std::vector<int64_t>> source(rank);
  for (int d = 0; d < rank; ++d) {
    const int64_t lo = std::max<int64_t>(0, -begin[d]);
    const int64_t m = x->dim(d) - lo - std::max<int64_t>(0, -end[d]);
    if (m < 0) {
      return ctx.Error(absl::StrCat("pads ", begin[d], " and ", end[d],
                                    " remove more than axis ", d, " of size ",
                                    x->dim(d), " holds"));
    }
    const int64_t before = std::max<int64_t>(0, begin[d]);
    const int64_t after = std::max<int64_t>(0, end[d]);
    dims[d] = before + m + after;
    if (m == 0 && dims[d] > 0 && mode != PadMode::kConstant) {
      return ctx.Error(absl::StrCat("cannot pad axis ", d, " in ", mode_name,
                                    " mode: it has no elements"));
    }
    source[d].resize(dims[d]);
    for (int64_t i = 0; i < dims[d]; ++i) {
      const int64_t k = i - before;
      int64_t s;
      if (k >= 0 && k < m) {
        s = k;
      } else if (mode == PadMode::kConstant) {
        source[d][i] = -1;
        continue;
      } else if (mode == PadMode::kEdge) {
        s = std::clamp<int64_t>(k, 0, m - 1);
      } else {
        s = Reflect(k, m);
      }
      source[d][i] = lo + s;
    }
  }
  out->Reset(x->dtype(), dims);
  const int64_t total = out->num_elements();
  if (total == 0) return absl::OkStatus();
  if (rank == 0) {
    std::memcpy(Bytes(*out), Bytes(*x), size);
    return absl::OkStatus();
  }

  // Walk the output row by row (the last axis is a row).
  const std::vector<int64_t> in_strides = ByteStrides(x->dims(), size);
  const std::vector<int64_t>& last = source[rank - 1];
  const int64_t row = dims[rank - 1];
  std::vector<int64_t> index(rank, 0);
  uint8_t* dst = Bytes(*out);
  for (int64_t done = 0; done < total; done += row, dst += row * size) {
    bool constant_row = false;
    int64_t offset = 0;
    for (int d = 0; d < rank - 1; ++d) {
      const int64_t s = source[d][index[d]];
      if (s < 0) {
        constant_row = true;
        break;
      }
      offset += s * in_strides[d];
    }
    const uint8_t* src = Bytes(*x) + offset;
    for (int64_t j = 0; j < row;) {
      if (constant_row || last[j] < 0) {
        std::memcpy(dst + j * size, value.data(), size);
        ++j;
        continue;
      }
      // A run of consecutive source elements is one memcpy.
      int64_t k = j + 1;
      while (k < row && last[k] == last[k - 1] + 1) ++k;
      std::memcpy(dst + j * size, src + last[j] * size, (k - j) * size);
      j = k;
    }
    for (int d = rank - 2; d >= 0; --d) {
      if (++index[d] < dims[d]) break;
      index[d] = 0;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RegisterTensorFloatKernels(KernelTable& table) {
  struct Entry {
    const char* op;
    KernelFactory factory;
  };
  const Entry entries[] = {
      {"Constant", &ConstantKernel::Create},
      {"Shape", StatelessKernel(ShapeKernel)},
      {"Gather", StatelessKernel(GatherKernel)},
      {"Slice", StatelessKernel(SliceKernel)},
      {"Split", StatelessKernel(SplitKernel)},
      {"Concat", StatelessKernel(ConcatKernel)},
      {"Reshape", StatelessKernel(ReshapeKernel)},
      {"Flatten", StatelessKernel(FlattenKernel)},
      {"Transpose", StatelessKernel(TransposeKernel)},
      {"Squeeze", StatelessKernel(SqueezeKernel)},
      {"Unsqueeze", StatelessKernel(UnsqueezeKernel)},
      {"Pad", StatelessKernel(PadKernel)},
  };
  for (const Entry& e : entries) {
    QFORGE_RETURN_IF_ERROR(
        table.Register({{"", e.op}, DataType::kUndefined, e.factory}));
  }
  return absl::OkStatus();
}

}  // namespace qforge::kernels
