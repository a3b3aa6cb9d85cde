// Schemas of the nn family: Conv, Gemm, MatMul, MaxPool, AveragePool,
// GlobalAveragePool, GlobalMaxPool, Resize, Upsample, BatchNormalization,
// LayerNormalization and ReduceMean.
//
// Spatial ops (Conv, the pools, Resize, BatchNormalization) honour the
// node's layout: in NHWC their activations are [N, D1, ..., Dk, C]; weights
// and attributes keep their ONNX meaning (see docs/layout.md).
#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/resize_params.h"
#include "ir/schema_util.h"
#include "ir/schemas/groups.h"
#include "ir/spatial_params.h"
#include "qforge/core/status.h"

namespace qforge::internal {
namespace {

constexpr std::initializer_list<DataType> kMatMulTypes = {
    DataType::kFloat32, DataType::kFloat64, DataType::kFloat16,
    DataType::kInt32, DataType::kInt64};
constexpr std::initializer_list<DataType> kMaxPoolTypes = {
    DataType::kFloat32, DataType::kFloat64, DataType::kFloat16, DataType::kInt8,
    DataType::kUint8};

std::optional<int64_t> StaticDim(const Shape& s, int i) {
  if (!s.rank_known() || i < 0 || i >= s.rank() || !s.dim(i).is_static()) {
    return std::nullopt;
  }
  return s.dim(i).value;
}

Dim DimOrUnknown(const Shape& s, int i) {
  if (!s.rank_known() || i < 0 || i >= s.rank()) return Dim::Unknown();
  return s.dim(i);
}

// Assembles [N, C, spatial...] in `layout`'s axis order.
Shape MakeActivationShape(Layout layout, Dim n, Dim c,
                          std::vector<Dim> spatial) {
  std::vector<Dim> dims;
  dims.push_back(std::move(n));
  if (layout == Layout::kNCHW) dims.push_back(c);
  for (Dim& d : spatial) dims.push_back(std::move(d));
  if (layout == Layout::kNHWC) dims.push_back(std::move(c));
  return Shape(std::move(dims));
}

absl::Status RequireSpatialRank(const InferenceContext& ctx, int input,
                                int rank) {
  if (rank >= 3) return absl::OkStatus();
  return ctx.Error(absl::StrCat(
      "input ", input, " '", ctx.input_name(input), "' has shape ",
      ctx.input_shape(input).ToString(),
      ", expected [N, C, D1, ...] with at least one spatial axis (layout ",
      LayoutName(ctx.node().layout()), ")"));
}

// Spatial output dims from the window params; unknown where the input is.
absl::StatusOr<std::vector<Dim>> SpatialOutputDims(const InferenceContext& ctx,
                                                   const SpatialParams& params,
                                                   const Shape& x) {
  std::vector<Dim> out;
  for (int i = 0; i < params.num_spatial; ++i) {
    std::optional<int64_t> in =
        StaticDim(x, SpatialAxis(ctx.node().layout(), i));
    if (!in.has_value()) {
      out.push_back(Dim::Unknown());
      continue;
    }
    QFORGE_ASSIGN_OR_RETURN(SpatialDim d,
                            ComputeSpatialDim(ctx.node(), params, i, *in));
    out.push_back(Dim::Static(d.out));
  }
  return out;
}

// --- Conv --------------------------------------------------------------------

absl::Status InferConv(InferenceContext& ctx) {
  QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, 0, kFloatTypes));
  QFORGE_RETURN_IF_ERROR(RequireSameDtype(ctx, {0, 1, 2}));
  const Node& node = ctx.node();
  const Layout layout = node.layout();
  const DataType dtype = ctx.input_dtype(0);
  const Shape& x = ctx.input_shape(0);
  const Shape& w = ctx.input_shape(1);
  QFORGE_ASSIGN_OR_RETURN(int64_t group, node.GetInt("group", 1));
  if (group < 1) {
    return ctx.Error(
        absl::StrCat("attribute 'group' is ", group, ", expected >= 1"));
  }
  int rank = x.rank_known() ? x.rank() : (w.rank_known() ? w.rank() : -1);
  if (rank < 0) {
    ctx.set_output(0, dtype, Shape());
    return absl::OkStatus();
  }
  if (x.rank_known()) QFORGE_RETURN_IF_ERROR(RequireSpatialRank(ctx, 0, rank));
  if (x.rank_known() && w.rank_known() && w.rank() != x.rank()) {
    return ctx.Error(absl::StrCat(
        "weights '", ctx.input_name(1), "' have shape ", w.ToString(),
        " (rank ", w.rank(), ") but input '", ctx.input_name(0), "' has shape ",
        x.ToString(), " (rank ", x.rank(), "); both need the same rank"));
  }
  if (rank < 3) return RequireSpatialRank(ctx, 1, rank);
  const int ns = rank - 2;
  const std::optional<int64_t> c = StaticDim(x, ChannelAxis(layout, rank));
  const std::optional<int64_t> m = StaticDim(w, 0);
  const std::optional<int64_t> cg = StaticDim(w, 1);
  if (m.has_value() && *m % group != 0) {
    return ctx.Error(absl::StrCat(
        "weights '", ctx.input_name(1), "' ", w.ToString(), " have ", *m,
        " output channels, not divisible by group ", group));
  }
  if (c.has_value() && cg.has_value() && *c != *cg * group) {
    return ctx.Error(
        absl::StrCat("input '", ctx.input_name(0), "' ", x.ToString(), " has ",
                     *c, " channels (layout ", LayoutName(layout),
                     ") but weights '", ctx.input_name(1), "' ", w.ToString(),
                     " expect ", *cg, " x group ", group, " = ", *cg * group));
  }
  if (ctx.has_input(2)) {
    const Shape& b = ctx.input_shape(2);
    if (b.rank_known() && b.rank() != 1) {
      return ctx.Error(absl::StrCat("bias '", ctx.input_name(2), "' has shape ",
                                    b.ToString(), ", expected 1-D [M]"));
    }
    std::optional<int64_t> bm = StaticDim(b, 0);
    if (bm.has_value() && m.has_value() && *bm != *m) {
      return ctx.Error(absl::StrCat("bias '", ctx.input_name(2), "' has ", *bm,
                                    " values, the weights have ", *m,
                                    " output channels"));
    }
  }
  // Kernel spatial dims from the weights, when known.
  std::optional<std::vector<int64_t>> wk;
  if (w.rank_known()) {
    std::vector<int64_t> k;
    for (int i = 2; i < w.rank(); ++i) {
      if (std::optional<int64_t> d = StaticDim(w, i)) k.push_back(*d);
    }
    if (static_cast<int>(k.size()) == ns) wk = std::move(k);
  }
  if (wk.has_value() && node.HasAttribute("kernel_shape")) {
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> ks,
                            node.GetInts("kernel_shape", {}));
    if (ks != *wk) {
      return ctx.Error(
          absl::StrCat("attribute kernel_shape [", absl::StrJoin(ks, ","),
                       "] does not match the weights' spatial dims [",
                       absl::StrJoin(*wk, ","), "]"));
    }
  }
  const Dim n_dim = DimOrUnknown(x, 0);
  const Dim m_dim = DimOrUnknown(w, 0);
  std::vector<Dim> spatial(ns, Dim::Unknown());
  if (wk.has_value() || node.HasAttribute("kernel_shape")) {
    QFORGE_ASSIGN_OR_RETURN(SpatialParams params,
                            ReadSpatialParams(node, ns, wk ? &*wk : nullptr,
                                              /*read_ceil_mode=*/false));
    if (x.rank_known()) {
      QFORGE_ASSIGN_OR_RETURN(spatial, SpatialOutputDims(ctx, params, x));
    }
  }
  ctx.set_output(0, dtype, MakeActivationShape(layout, n_dim, m_dim, spatial));
  return absl::OkStatus();
}

// --- Pools -------------------------------------------------------------------

absl::Status InferPool(InferenceContext& ctx, bool is_max) {
  QFORGE_RETURN_IF_ERROR(
      RequireDtypeIn(ctx, 0, is_max ? kMaxPoolTypes : kFloatTypes));
  const Node& node = ctx.node();
  const Shape& x = ctx.input_shape(0);
  const DataType dtype = ctx.input_dtype(0);
  if (is_max) {
    QFORGE_ASSIGN_OR_RETURN(int64_t order, node.GetInt("storage_order", 0));
    if (order != 0 && order != 1) {
      return ctx.Error(absl::StrCat("attribute 'storage_order' is ", order,
                                    ", expected 0 or 1"));
    }
  } else {
    QFORGE_ASSIGN_OR_RETURN(int64_t cip, node.GetInt("count_include_pad", 0));
    if (cip != 0 && cip != 1) {
      return ctx.Error(absl::StrCat("attribute 'count_include_pad' is ", cip,
                                    ", expected 0 or 1"));
    }
  }
  Shape out;
  if (x.rank_known()) {
    QFORGE_RETURN_IF_ERROR(RequireSpatialRank(ctx, 0, x.rank()));
    const int ns = x.rank() - 2;
    QFORGE_ASSIGN_OR_RETURN(
        SpatialParams params,
        ReadSpatialParams(node, ns, nullptr, /*read_ceil_mode=*/true));
    QFORGE_ASSIGN_OR_RETURN(std::vector<Dim> spatial,
                            SpatialOutputDims(ctx, params, x));
    out = MakeActivationShape(node.layout(), x.dim(0),
                              x.dim(ChannelAxis(node.layout(), x.rank())),
                              spatial);
  } else if (!node.HasAttribute("kernel_shape")) {
    return ctx.Error("required attribute 'kernel_shape' is missing");
  }
  ctx.set_output(0, dtype, out);
  if (is_max) ctx.set_output(1, DataType::kInt64, out);
  return absl::OkStatus();
}

absl::Status InferGlobalPool(InferenceContext& ctx, bool is_max) {
  QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, 0, kFloatTypes));
  const Shape& x = ctx.input_shape(0);
  Shape out;
  if (x.rank_known()) {
    if (x.rank() < 2) {
      return ctx.Error(absl::StrCat("input '", ctx.input_name(0),
                                    "' has shape ", x.ToString(),
                                    ", expected [N, C, ...]"));
    }
    const Layout layout = x.rank() >= 3 ? ctx.node().layout() : Layout::kNCHW;
    out = MakeActivationShape(layout, x.dim(0),
                              x.dim(ChannelAxis(layout, x.rank())),
                              std::vector<Dim>(x.rank() - 2, Dim::Static(1)));
  }
  ctx.set_output(0, ctx.input_dtype(0), out);
  return absl::OkStatus();
}

// --- Resize ------------------------------------------------------------------

std::vector<double> ToDoubles(const Tensor& t) {
  std::vector<double> v(t.num_elements());
  for (int64_t i = 0; i < t.num_elements(); ++i) v[i] = t.GetAsDouble(i);
  return v;
}

absl::Status InferResize(InferenceContext& ctx) {
  const Node& node = ctx.node();
  QFORGE_ASSIGN_OR_RETURN(ResizeAttrs attrs, ReadResizeAttrs(node));
  QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, 0, kNumericTypes));
  if (attrs.roi_input >= 0) {
    QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, attrs.roi_input, kFloatTypes));
  }
  if (attrs.scales_input >= 0) {
    QFORGE_RETURN_IF_ERROR(
        RequireDtypeIn(ctx, attrs.scales_input, kFloatTypes));
  }
  if (attrs.sizes_input >= 0) {
    QFORGE_RETURN_IF_ERROR(
        RequireDtypeIn(ctx, attrs.sizes_input, {DataType::kInt64}));
  }
  const DataType dtype = ctx.input_dtype(0);
  const Shape& x = ctx.input_shape(0);
  if (!x.rank_known()) {
    ctx.set_output(0, dtype, Shape());
    return absl::OkStatus();
  }
  const int rank = x.rank();
  const Layout layout = node.layout();
  // Constant scales / sizes / roi, in the data's axis order.
  auto constant = [&](int i) -> const Tensor* {
    return i >= 0 && ctx.has_input(i) ? ctx.input_constant(i) : nullptr;
  };
  auto present = [&](int i) { return i >= 0 && ctx.has_input(i); };
  std::optional<std::vector<double>> scales;
  std::optional<std::vector<int64_t>> sizes;
  std::optional<std::vector<double>> roi;
  if (attrs.scales_input < 0) {
    QFORGE_ASSIGN_OR_RETURN(std::vector<float> s, node.GetFloats("scales", {}));
    scales = std::vector<double>(s.begin(), s.end());
  } else if (const Tensor* t = constant(attrs.scales_input)) {
    scales = ToDoubles(*t);
  } else if (present(attrs.scales_input)) {
    // Computed at run time. When sizes are also given they decide.
    if (!present(attrs.sizes_input)) {
      ctx.set_output(0, dtype, Shape(std::vector<Dim>(rank, Dim::Unknown())));
      return absl::OkStatus();
    }
  }
  if (const Tensor* t = constant(attrs.sizes_input)) {
    sizes = t->ToVector<int64_t>();
  } else if (present(attrs.sizes_input)) {
    ctx.set_output(0, dtype, Shape(std::vector<Dim>(rank, Dim::Unknown())));
    return absl::OkStatus();
  }
  if (const Tensor* t = constant(attrs.roi_input)) roi = ToDoubles(*t);
  const bool has_scales = scales.has_value() && !scales->empty();
  const bool has_sizes = sizes.has_value() && !sizes->empty();
  if (has_scales && has_sizes) {
    return ctx.Error("only one of 'scales' and 'sizes' may be given, both are");
  }
  if (!has_scales && !has_sizes) {
    return ctx.Error("one of 'scales' and 'sizes' must be given (non-empty)");
  }
  const size_t expected = static_cast<size_t>(rank);
  if (has_sizes && sizes->size() != expected) {
    return ctx.Error(absl::StrCat("'sizes' has ", sizes->size(), " values [",
                                  absl::StrJoin(*sizes, ","),
                                  "], the input has rank ", rank));
  }
  if (has_scales && scales->size() != expected) {
    return ctx.Error(absl::StrCat("'scales' has ", scales->size(), " values [",
                                  absl::StrJoin(*scales, ","),
                                  "], the input has rank ", rank));
  }
  if (roi.has_value() && !roi->empty() && roi->size() != 2 * expected &&
      attrs.coord == ResizeCoordMode::kTfCropAndResize) {
    return ctx.Error(absl::StrCat("'roi' has ", roi->size(),
                                  " values, expected 2 * rank = ", 2 * rank));
  }
  // Map scales/sizes/roi from ONNX axis order onto the data's axes.
  if (has_scales) scales = NchwToLayout(*scales, layout);
  if (has_sizes) sizes = NchwToLayout(*sizes, layout);
  if (roi.has_value() && roi->size() == 2 * expected) {
    roi = NchwRoiToLayout(*roi, layout);
  }
  std::vector<Dim> out(rank, Dim::Unknown());
  if (has_sizes) {
    for (int i = 0; i < rank; ++i) {
      if ((*sizes)[i] < 0) {
        return ctx.Error(
            absl::StrCat("'sizes' has a negative value ", (*sizes)[i]));
      }
      out[i] = Dim::Static((*sizes)[i]);
    }
  } else {
    const bool crop = attrs.coord == ResizeCoordMode::kTfCropAndResize;
    if (crop && present(attrs.roi_input) && !roi.has_value()) {
      // The extent depends on a roi computed at run time.
      ctx.set_output(0, dtype, Shape(out));
      return absl::OkStatus();
    }
    for (int i = 0; i < rank; ++i) {
      std::optional<int64_t> in = StaticDim(x, i);
      const double s = (*scales)[i];
      if (!in.has_value()) {
        if (s == 1.0 && !crop) out[i] = x.dim(i);
        continue;
      }
      std::vector<int64_t> one_in = {*in};
      std::vector<double> one_scale = {s};
      std::vector<double> one_roi;
      if (roi.has_value() && roi->size() == 2 * expected) {
        one_roi = {(*roi)[i], (*roi)[rank + i]};
      }
      QFORGE_ASSIGN_OR_RETURN(
          ResizeGeometry g,
          ComputeResizeGeometry(node, attrs, one_in, &one_scale, nullptr,
                                one_roi.empty() ? nullptr : &one_roi));
      out[i] = Dim::Static(g.out_dims[0]);
    }
  }
  ctx.set_output(0, dtype, Shape(std::move(out)));
  return absl::OkStatus();
}

// --- BatchNormalization
// --------------------------------------------------------

absl::Status InferBatchNorm(InferenceContext& ctx) {
  QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, 0, kFloatTypes));
  for (int i = 1; i < 5; ++i) {
    QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, i, kFloatTypes));
  }
  QFORGE_RETURN_IF_ERROR(RequireSameDtype(ctx, {1, 2}));
  QFORGE_RETURN_IF_ERROR(RequireSameDtype(ctx, {3, 4}));
  const Node& node = ctx.node();
  QFORGE_ASSIGN_OR_RETURN(int64_t training, node.GetInt("training_mode", 0));
  if (training != 0 && training != 1) {
    return ctx.Error(absl::StrCat("attribute 'training_mode' is ", training,
                                  ", expected 0 or 1"));
  }
  const Shape& x = ctx.input_shape(0);
  std::optional<int64_t> c;
  Dim c_dim = Dim::Unknown();
  if (x.rank_known()) {
    if (x.rank() < 2) {
      return ctx.Error(absl::StrCat("input '", ctx.input_name(0),
                                    "' has shape ", x.ToString(),
                                    ", expected [N, C, ...]"));
    }
    const Layout layout = x.rank() >= 3 ? node.layout() : Layout::kNCHW;
    const int caxis = ChannelAxis(layout, x.rank());
    c = StaticDim(x, caxis);
    c_dim = x.dim(caxis);
  }
  static constexpr const char* kNames[] = {"", "scale", "B", "input_mean",
                                           "input_var"};
  for (int i = 1; i < 5; ++i) {
    const Shape& s = ctx.input_shape(i);
    if (!s.rank_known()) continue;
    if (s.rank() != 1 || (c.has_value() && StaticDim(s, 0).has_value() &&
                          *StaticDim(s, 0) != *c)) {
      return ctx.Error(absl::StrCat(
          kNames[i], " '", ctx.input_name(i), "' has shape ", s.ToString(),
          ", expected [C] = [", c.has_value() ? absl::StrCat(*c) : "C",
          "] for input ", x.ToString()));
    }
  }
  ctx.set_output(0, ctx.input_dtype(0), x);
  const DataType stat_type = ctx.input_dtype(3);
  for (int i = 1; i < 5; ++i) {
    ctx.set_output(i, stat_type, Shape(std::vector<Dim>{c_dim}));
  }
  return absl::OkStatus();
}

// --- LayerNormalization
// --------------------------------------------------------

absl::Status InferLayerNorm(InferenceContext& ctx) {
  QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, 0, kFloatTypes));
  QFORGE_RETURN_IF_ERROR(RequireSameDtype(ctx, {0, 1, 2}));
  const Node& node = ctx.node();
  QFORGE_ASSIGN_OR_RETURN(int64_t axis_attr, node.GetInt("axis", -1));
  QFORGE_ASSIGN_OR_RETURN(int64_t stash, node.GetInt("stash_type", 1));
  DataType stat_type;
  if (stash == 1) {
    stat_type = DataType::kFloat32;
  } else if (stash == 11) {
    stat_type = DataType::kFloat64;
  } else {
    return ctx.Error(absl::StrCat("attribute 'stash_type' is ", stash,
                                  ", expected 1 (float) or 11 (double)"));
  }
  const Shape& x = ctx.input_shape(0);
  Shape stats;
  if (x.rank_known()) {
    QFORGE_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx, axis_attr, x.rank()));
    if (x.rank() == 0) return ctx.Error("input must have rank >= 1");
    const int norm_rank = x.rank() - axis;
    for (int i = 1; i < 3; ++i) {
      if (!ctx.has_input(i)) continue;
      const Shape& s = ctx.input_shape(i);
      if (!s.rank_known()) continue;
      bool ok = s.rank() <= norm_rank;
      for (int j = 0; ok && j < s.rank(); ++j) {
        std::optional<int64_t> sd = StaticDim(s, j);
        std::optional<int64_t> xd = StaticDim(x, x.rank() - s.rank() + j);
        if (sd.has_value() && xd.has_value() && *sd != 1 && *sd != *xd)
          ok = false;
      }
      if (!ok) {
        std::vector<Dim> norm(x.dims().begin() + axis, x.dims().end());
        return ctx.Error(absl::StrCat(
            i == 1 ? "scale '" : "bias '", ctx.input_name(i), "' has shape ",
            s.ToString(), ", which does not broadcast to the normalized shape ",
            Shape(norm).ToString(), " (input ", x.ToString(), ", axis ",
            axis_attr, ")"));
      }
    }
    std::vector<Dim> dims(x.dims().begin(), x.dims().begin() + axis);
    dims.resize(x.rank(), Dim::Static(1));
    stats = Shape(std::move(dims));
  }
  ctx.set_output(0, ctx.input_dtype(0), x);
  ctx.set_output(1, stat_type, stats);
  ctx.set_output(2, stat_type, stats);
  return absl::OkStatus();
}

// --- ReduceMean
// ----------------------------------------------------------------

absl::Status InferReduceMean(InferenceContext& ctx) {
  QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, 0, kNumericTypes));
  QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, 1, {DataType::kInt64}));
  const Node& node = ctx.node();
  QFORGE_ASSIGN_OR_RETURN(int64_t keepdims, node.GetInt("keepdims", 1));
  QFORGE_ASSIGN_OR_RETURN(int64_t noop, node.GetInt("noop_with_empty_axes", 0));
  const Shape& x = ctx.input_shape(0);
  std::optional<std::vector<int64_t>> axes;
  if (ctx.has_input(1)) {
    if (node.HasAttribute("axes")) {
      return ctx.Error("axes are given both as attribute and as input");
    }
    if (const Tensor* t = ctx.input_constant(1)) axes = t->ToVector<int64_t>();
  } else {
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> a, node.GetInts("axes", {}));
    axes = std::move(a);
  }
  if (!x.rank_known()) {
    ctx.set_output(0, ctx.input_dtype(0), Shape());
    return absl::OkStatus();
  }
  const int rank = x.rank();
  if (!axes.has_value()) {
    ctx.set_output(
        0, ctx.input_dtype(0),
        keepdims ? Shape(std::vector<Dim>(rank, Dim::Unknown())) : Shape());
    return absl::OkStatus();
  }
  std::vector<bool> reduced(rank, false);
  if (axes->empty()) {
    if (noop == 0) reduced.assign(rank, true);
  }
  for (int64_t a : *axes) {
    QFORGE_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx, a, rank));
    if (rank == 0) break;
    if (reduced[axis]) {
      return ctx.Error(absl::StrCat("axes [", absl::StrJoin(*axes, ","),
                                    "] name axis ", axis, " twice"));
    }
    reduced[axis] = true;
  }
  std::vector<Dim> dims;
  for (int i = 0; i < rank; ++i) {
    if (!reduced[i]) {
      dims.push_back(x.dim(i));
    } else if (keepdims) {
      dims.push_back(Dim::Static(1));
    }
  }
  ctx.set_output(0, ctx.input_dtype(0), Shape(std::move(dims)));
  return absl::OkStatus();
}

// --- Gemm / MatMul
// -------------------------------------------------------------

absl::Status InferGemm(InferenceContext& ctx) {
  QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, 0, kMatMulTypes));
  QFORGE_RETURN_IF_ERROR(RequireSameDtype(ctx, {0, 1, 2}));
  const Node& node = ctx.node();
  QFORGE_ASSIGN_OR_RETURN(int64_t trans_a, node.GetInt("transA", 0));
  QFORGE_ASSIGN_OR_RETURN(int64_t trans_b, node.GetInt("transB", 0));
  if ((trans_a != 0 && trans_a != 1) || (trans_b != 0 && trans_b != 1)) {
    return ctx.Error(absl::StrCat("attributes transA=", trans_a,
                                  ", transB=", trans_b, " must be 0 or 1"));
  }
  const Shape& a = ctx.input_shape(0);
  const Shape& b = ctx.input_shape(1);
  for (int i = 0; i < 2; ++i) {
    const Shape& s = ctx.input_shape(i);
    if (s.rank_known() && s.rank() != 2) {
      return ctx.Error(absl::StrCat("input ", i, " '", ctx.input_name(i),
                                    "' has shape ", s.ToString(),
                                    ", Gemm needs 2-D inputs"));
    }
  }
  const Dim m = DimOrUnknown(a, trans_a ? 1 : 0);
  const Dim ka = DimOrUnknown(a, trans_a ? 0 : 1);
  const Dim kb = DimOrUnknown(b, trans_b ? 1 : 0);
  const Dim n = DimOrUnknown(b, trans_b ? 0 : 1);
  if (ka.is_static() && kb.is_static() && ka.value != kb.value) {
    return ctx.Error(absl::StrCat(
        "inner dimensions differ: A '", ctx.input_name(0), "' ", a.ToString(),
        (trans_a ? " (transposed)" : ""), " has K=", ka.value, ", B '",
        ctx.input_name(1), "' ", b.ToString(), (trans_b ? " (transposed)" : ""),
        " has K=", kb.value));
  }
  if (ctx.has_input(2)) {
    const Shape& c = ctx.input_shape(2);
    if (c.rank_known()) {
      bool ok = c.rank() <= 2;
      const Dim target[2] = {m, n};
      for (int j = 0; ok && j < c.rank(); ++j) {
        const Dim& cd = c.dim(j);
        const Dim& td = target[2 - c.rank() + j];
        if (cd.is_static() && td.is_static() && cd.value != 1 &&
            cd.value != td.value) {
          ok = false;
        }
      }
      if (!ok) {
        return ctx.Error(
            absl::StrCat("C '", ctx.input_name(2), "' has shape ", c.ToString(),
                         ", which does not broadcast to the output ",
                         Shape(std::vector<Dim>{m, n}).ToString()));
      }
    }
  }
  ctx.set_output(0, ctx.input_dtype(0), Shape(std::vector<Dim>{m, n}));
  return absl::OkStatus();
}

absl::Status InferMatMul(InferenceContext& ctx) {
  QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, 0, kMatMulTypes));
  QFORGE_RETURN_IF_ERROR(RequireSameDtype(ctx, {0, 1}));
  const Shape& a = ctx.input_shape(0);
  const Shape& b = ctx.input_shape(1);
  if (!a.rank_known() || !b.rank_known()) {
    ctx.set_output(0, ctx.input_dtype(0), Shape());
    return absl::OkStatus();
  }
  if (a.rank() < 1 || b.rank() < 1) {
    return ctx.Error(absl::StrCat("inputs have shapes ", a.ToString(), " and ",
                                  b.ToString(), "; MatMul needs rank >= 1"));
  }
  std::vector<Dim> ad = a.dims();
  std::vector<Dim> bd = b.dims();
  if (ad.size() == 1) ad.insert(ad.begin(), Dim::Static(1));
  if (bd.size() == 1) bd.push_back(Dim::Static(1));
  const Dim& ka = ad.back();
  const Dim& kb = bd[bd.size() - 2];
  if (ka.is_static() && kb.is_static() && ka.value != kb.value) {
    return ctx.Error(absl::StrCat(
        "inner dimensions differ: '", ctx.input_name(0), "' ", a.ToString(),
        " vs '", ctx.input_name(1), "' ", b.ToString()));
  }
  Shape batch_a(std::vector<Dim>(ad.begin(), ad.end() - 2));
  Shape batch_b(std::vector<Dim>(bd.begin(), bd.end() - 2));
  absl::StatusOr<Shape> batch = BroadcastShapes(batch_a, batch_b);
  if (!batch.ok()) {
    return ctx.Error(absl::StrCat(
        "batch dimensions of ", a.ToString(), " and ", b.ToString(),
        " do not broadcast: ", batch.status().message()));
  }
  std::vector<Dim> out = batch->dims();
  if (a.rank() > 1) out.push_back(ad[ad.size() - 2]);
  if (b.rank() > 1) out.push_back(bd.back());
  ctx.set_output(0, ctx.input_dtype(0), Shape(std::move(out)));
  return absl::OkStatus();
}

}  // namespace

absl::Status RegisterNnSchemas(OpSchemaTable& table) {
  QFORGE_RETURN_IF_ERROR(table.Register(OpSchema{
      .key = {"", "Conv"},
      .min_inputs = 2,
      .max_inputs = 3,
      .infer = InferConv,
      .doc = "N-D convolution with groups, strides, dilations, pads"}));
  QFORGE_RETURN_IF_ERROR(table.Register(OpSchema{
      .key = {"", "MaxPool"},
      .min_inputs = 1,
      .max_inputs = 1,
      .min_outputs = 1,
      .max_outputs = 2,
      .infer = [](InferenceContext& ctx) { return InferPool(ctx, true); },
      .doc = "max over sliding windows, optional argmax Indices"}));
  QFORGE_RETURN_IF_ERROR(table.Register(OpSchema{
      .key = {"", "AveragePool"},
      .min_inputs = 1,
      .max_inputs = 1,
      .infer = [](InferenceContext& ctx) { return InferPool(ctx, false); },
      .doc = "mean over sliding windows"}));
  QFORGE_RETURN_IF_ERROR(table.Register(OpSchema{
      .key = {"", "GlobalAveragePool"},
      .min_inputs = 1,
      .max_inputs = 1,
      .infer =
          [](InferenceContext& ctx) { return InferGlobalPool(ctx, false); },
      .doc = "mean over all spatial positions"}));
  QFORGE_RETURN_IF_ERROR(table.Register(OpSchema{
      .key = {"", "GlobalMaxPool"},
      .min_inputs = 1,
      .max_inputs = 1,
      .infer = [](InferenceContext& ctx) { return InferGlobalPool(ctx, true); },
      .doc = "max over all spatial positions"}));
  QFORGE_RETURN_IF_ERROR(table.Register(OpSchema{
      .key = {"", "Resize"},
      .since_version = 10,
      .min_inputs = 2,
      .max_inputs = 4,
      .infer = InferResize,
      .doc = "nearest / linear / cubic resampling (roi, scales or sizes)"}));
  QFORGE_RETURN_IF_ERROR(table.Register(
      OpSchema{.key = {"", "Upsample"},
               .since_version = 7,
               .until_version = 9,
               .min_inputs = 1,
               .max_inputs = 2,
               .infer = InferResize,
               .doc = "legacy nearest / linear upsampling by scales"}));
  QFORGE_RETURN_IF_ERROR(table.Register(OpSchema{
      .key = {"", "BatchNormalization"},
      .min_inputs = 5,
      .max_inputs = 5,
      .min_outputs = 1,
      .max_outputs = 5,
      .infer = InferBatchNorm,
      .doc = "(x - mean) / sqrt(var + epsilon) * scale + B per channel"}));
  QFORGE_RETURN_IF_ERROR(table.Register(
      OpSchema{.key = {"", "LayerNormalization"},
               .since_version = 17,
               .min_inputs = 2,
               .max_inputs = 3,
               .min_outputs = 1,
               .max_outputs = 3,
               .infer = InferLayerNorm,
               .doc = "normalization over the trailing axes from 'axis'"}));
  QFORGE_RETURN_IF_ERROR(table.Register(OpSchema{.key = {"", "ReduceMean"},
                                                 .min_inputs = 1,
                                                 .max_inputs = 2,
                                                 .infer = InferReduceMean,
                                                 .doc = "mean over axes"}));
  QFORGE_RETURN_IF_ERROR(
      table.Register(OpSchema{.key = {"", "Gemm"},
                              .min_inputs = 2,
                              .max_inputs = 3,
                              .infer = InferGemm,
                              .doc = "alpha * A' B' + beta * C"}));
  QFORGE_RETURN_IF_ERROR(
      table.Register(OpSchema{.key = {"", "MatMul"},
                              .min_inputs = 2,
                              .max_inputs = 2,
                              .infer = InferMatMul,
                              .doc = "numpy matmul with batch broadcasting"}));
  return absl::OkStatus();
}

}  // namespace qforge::internal
