// INT8 pooling, spatial mean, Concat, Resize and Pad.
//
// MaxPool, AveragePool, GlobalAveragePool and the spatial ReduceMean (a
// kNHWC-marked ReduceMean over axes [1, 2] of a rank-4 tensor) run the NHWC
// fast pooling kernels (kernels/int8/fast/pooling.h: AVX2 or the reference,
// by the ISA read at prepare time) on the NHWC activations as they are; the
// nodes must be Layout::kNHWC (the executor runs quantized graphs through
// ConvertLayout, docs/int8_kernels.md). ReduceMean over any other axes calls
// fast::ReduceMean (AVX2 for one contiguous block of axes, else
// reference::ReduceMean) on the input as it is.
// Resize and Pad run as DequantizeLinear -> float kernel -> QuantizeLinear
// (int8::MakeFloatFallbackKernel):
//   - Resize nearest and Pad shares input and output params (spec), and
//     quantize(dequantize(q)) == q, so the result is a gather of the input
//     bytes; Pad's constant value 0 quantizes to the zero point.
//   - Resize linear computes in float on the dequantized values and
//     requantizes: what ONNX Runtime does with a QDQ Resize (no fused int8
//     linear resize) and, up to the float rounding of the interpolation,
//     TFLite's RESIZE_BILINEAR on int8.
#include <algorithm>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kernels/int8/fast/elementwise_kernels.h"
#include "kernels/int8/fast/isa.h"
#include "kernels/int8/fast/pooling.h"
#include "kernels/int8/reference/concat.h"
#include "kernels/int8/reference/pooling.h"
#include "kernels/int8/register.h"
#include "kernels/int8/util.h"
#include "qforge/core/status.h"

namespace qforge::kernels {
namespace {

using int8::ActivationQuant;
using int8::NodeIsa;
namespace fast = int8::fast;

absl::Status WrapStatus(const KernelContext& ctx, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(),
                      absl::StrCat(ctx.node().Describe(), ": ", s.message()));
}

absl::StatusOr<const Tensor*> Nhwc(const KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (x == nullptr || x->dtype() != DataType::kInt8 || x->rank() != 4) {
    return ctx.Error("expects an int8 NHWC input of rank 4");
  }
  return x;
}

absl::Status RequireNhwc(const Node& node) {
  if (node.layout() != Layout::kNHWC) {
    return absl::UnimplementedError(absl::StrCat(
        node.Describe(),
        ": the int8 kernel runs NHWC nodes only; convert the graph with "
        "ConvertLayout(graph, Layout::kNHWC) (Executor::Prepare does that "
        "for quantized graphs)"));
  }
  return absl::OkStatus();
}

// --- MaxPool / AveragePool
// -----------------------------------------------------

struct PoolState {
  bool max = true;
  int8::Window2D window;
  reference::Pool2DParams base;
  ArithmeticProfile profile;
  fast::Isa isa = fast::Isa::kScalar;
};

absl::Status RunPool(const PoolState& s, KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* x, Nhwc(ctx));
  if (ctx.num_outputs() > 1 && ctx.output(1) != nullptr) {
    return absl::UnimplementedError(absl::StrCat(
        ctx.node().Describe(), ": int8 MaxPool does not produce Indices"));
  }
  const int64_t n = x->dim(0), h = x->dim(1), w = x->dim(2), c = x->dim(3);
  int8::Window2D win = s.window;
  int64_t oh = 0, ow = 0;
  QFORGE_RETURN_IF_ERROR(win.Resolve(ctx.node(), h, w, &oh, &ow));
  reference::Pool2DParams p = s.base;
  p.batch = n;
  p.input_height = h;
  p.input_width = w;
  p.channels = c;
  p.kernel_height = win.kernel_h;
  p.kernel_width = win.kernel_w;
  p.stride_height = win.stride_h;
  p.stride_width = win.stride_w;
  p.pad_top = win.pad_top;
  p.pad_left = win.pad_left;
  p.pad_bottom = win.pad_bottom;
  p.pad_right = win.pad_right;
  p.output_height = oh;
  p.output_width = ow;
  Tensor* y = ctx.output(0);
  y->Reset(DataType::kInt8, {n, oh, ow, c});
  const int8_t* in = x->data<int8_t>();
  int8_t* out = y->data<int8_t>();
  return WrapStatus(ctx,
                    s.max ? fast::MaxPool2D(s.isa, s.profile, p, in, out)
                          : fast::AveragePool2D(s.isa, s.profile, p, in, out));
}

template <bool kMax>
absl::StatusOr<std::unique_ptr<OpKernel>> CreatePool(
    const KernelInitContext& init) {
  const Node& node = init.node;
  QFORGE_RETURN_IF_ERROR(RequireNhwc(node));
  auto s = std::make_shared<PoolState>();
  s->max = kMax;
  s->profile = init.profile;
  QFORGE_ASSIGN_OR_RETURN(s->isa, NodeIsa(node));
  QFORGE_ASSIGN_OR_RETURN(s->window, int8::Window2D::FromNode(node, nullptr));
  if (s->window.dilation_h != 1 || s->window.dilation_w != 1) {
    return absl::UnimplementedError(absl::StrCat(
        node.Describe(), ": int8 pooling supports dilation 1 only"));
  }
  QFORGE_ASSIGN_OR_RETURN(int64_t storage_order,
                          node.GetInt("storage_order", 0));
  if (storage_order != 0) {
    return absl::UnimplementedError(absl::StrCat(
        node.Describe(), ": storage_order=1 is not supported in int8"));
  }
  QFORGE_ASSIGN_OR_RETURN(int64_t include_pad,
                          node.GetInt("count_include_pad", 0));
  s->base.count_include_pad = include_pad != 0;
  QFORGE_ASSIGN_OR_RETURN(s->base.input, ActivationQuant(node, 0));
  QFORGE_ASSIGN_OR_RETURN(s->base.output, ActivationQuant(node, 0, true));
  return std::make_unique<FunctionKernel>(
      [s](KernelContext& ctx) { return RunPool(*s, ctx); });
}

// --- GlobalAveragePool / ReduceMean over H, W
// -----------------------------------

struct MeanState {
  reference::GlobalPoolParams base;
  ArithmeticProfile profile;
  bool keep_dims = true;
  fast::Isa isa = fast::Isa::kScalar;
};

absl::Status RunMean(const MeanState& s, KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* x, Nhwc(ctx));
  const int64_t n = x->dim(0), h = x->dim(1), w = x->dim(2), c = x->dim(3);
  if (h * w == 0) return ctx.Error("mean over an empty spatial extent");
  reference::GlobalPoolParams p = s.base;
  p.batch = n;
  p.height = h;
  p.width = w;
  p.channels = c;
  Tensor* y = ctx.output(0);
  if (s.keep_dims) {
    y->Reset(DataType::kInt8, {n, 1, 1, c});
  } else {
    y->Reset(DataType::kInt8, {n, c});
  }
  // [N, C] is the same bytes as [N, 1, 1, C].
  return WrapStatus(
      ctx, fast::GlobalAveragePool(s.isa, s.profile, p, x->data<int8_t>(),
                                   y->data<int8_t>()));
}

absl::StatusOr<std::unique_ptr<OpKernel>> CreateGlobalAveragePool(
    const KernelInitContext& init) {
  QFORGE_RETURN_IF_ERROR(RequireNhwc(init.node));
  auto s = std::make_shared<MeanState>();
  s->profile = init.profile;
  QFORGE_ASSIGN_OR_RETURN(s->isa, NodeIsa(init.node));
  QFORGE_ASSIGN_OR_RETURN(s->base.input, ActivationQuant(init.node, 0));
  QFORGE_ASSIGN_OR_RETURN(s->base.output, ActivationQuant(init.node, 0, true));
  return std::make_unique<FunctionKernel>(
      [s](KernelContext& ctx) { return RunMean(*s, ctx); });
}

// --- ReduceMean over any axes ---------------------------------------------

struct ReduceMeanState {
  reference::ReduceMeanParams base;  // axes sorted, unique, non-negative
  ArithmeticProfile profile;
  bool keep_dims = true;
  fast::Isa isa = fast::Isa::kScalar;
};

absl::Status RunReduceMean(const ReduceMeanState& s, KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (x == nullptr || x->dtype() != DataType::kInt8) {
    return ctx.Error("int8 ReduceMean needs an int8 input");
  }
  reference::ReduceMeanParams p = s.base;
  const int64_t rank = x->rank();
  p.dims.clear();
  for (int64_t d = 0; d < rank; ++d) p.dims.push_back(x->dim(d));
  std::vector<int64_t> out_dims;
  size_t next = 0;
  for (int64_t d = 0; d < rank; ++d) {
    const bool reduced = next < p.axes.size() && p.axes[next] == d;
    if (reduced) ++next;
    if (!reduced) {
      out_dims.push_back(x->dim(d));
    } else if (s.keep_dims) {
      out_dims.push_back(1);
    }
  }
  if (next != p.axes.size()) {
    return ctx.Error(absl::StrCat("ReduceMean axes [",
                                  absl::StrJoin(p.axes, ", "),
                                  "] do not fit the input rank ", rank));
  }
  Tensor* y = ctx.output(0);
  y->Reset(DataType::kInt8, out_dims);
  return WrapStatus(ctx,
                    fast::ReduceMean(s.isa, s.profile, p, x->data<int8_t>(),
                                     y->data<int8_t>()));
}

absl::StatusOr<std::unique_ptr<OpKernel>> CreateReduceMean(
    const KernelInitContext& init) {
  const Node& node = init.node;
  std::vector<int64_t> axes;
  if (node.num_inputs() > 1 && node.input(1) != nullptr) {
    const Tensor* t =
        init.constant_inputs.size() > 1 ? init.constant_inputs[1] : nullptr;
    if (t == nullptr) {
      return absl::UnimplementedError(absl::StrCat(
          node.Describe(), ": int8 ReduceMean needs constant axes"));
    }
    for (int64_t i = 0; i < t->num_elements(); ++i)
      axes.push_back(t->GetAsInt64(i));
  } else {
    QFORGE_ASSIGN_OR_RETURN(axes, node.GetInts("axes", {}));
  }
  const Value* in = node.input(0);
  const int rank = in != nullptr ? static_cast<int>(in->shape().rank()) : -1;
  if (rank < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(node.Describe(), ": int8 ReduceMean needs a known rank"));
  }
  QFORGE_ASSIGN_OR_RETURN(int64_t noop, node.GetInt("noop_with_empty_axes", 0));
  if (axes.empty() && noop != 0) {
    return absl::UnimplementedError(absl::StrCat(
        node.Describe(), ": int8 ReduceMean with noop_with_empty_axes"));
  }
  if (axes.empty()) {
    for (int64_t d = 0; d < rank; ++d) axes.push_back(d);
  }
  for (int64_t& a : axes) {
    if (a < -rank || a >= rank) {
      return absl::InvalidArgumentError(absl::StrCat(
          node.Describe(), ": axis ", a, " is out of range for rank ", rank));
    }
    if (a < 0) a += rank;
  }
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  QFORGE_ASSIGN_OR_RETURN(int64_t keep_dims, node.GetInt("keepdims", 1));
  QFORGE_ASSIGN_OR_RETURN(reference::QuantParam in_q, ActivationQuant(node, 0));
  QFORGE_ASSIGN_OR_RETURN(reference::QuantParam out_q,
                          ActivationQuant(node, 0, true));
  if (node.layout() == Layout::kNHWC) {
    // The spatial mean ConvertLayout made of an NCHW ReduceMean over [2, 3]
    // (LayoutOptions::int8_exact): the GlobalAveragePool kernel.
    if (rank != 4 || axes != std::vector<int64_t>{1, 2}) {
      return absl::UnimplementedError(absl::StrCat(
          node.Describe(),
          ": an NHWC int8 ReduceMean must reduce axes [1, 2] of rank 4"));
    }
  } else if (rank == 4 && axes == std::vector<int64_t>{2, 3}) {
    return absl::UnimplementedError(absl::StrCat(
        node.Describe(),
        ": the int8 spatial mean (ReduceMean over axes [2, 3] of NCHW) runs "
        "NHWC only; convert the graph with ConvertLayout(graph, "
        "Layout::kNHWC, ..., {.int8_exact = true}) (Executor::Prepare does "
        "that for quantized graphs)"));
  }
  if (node.layout() == Layout::kNHWC) {
    auto s = std::make_shared<MeanState>();
    s->profile = init.profile;
    QFORGE_ASSIGN_OR_RETURN(s->isa, NodeIsa(node));
    s->keep_dims = keep_dims != 0;
    s->base.input = in_q;
    s->base.output = out_q;
    return std::make_unique<FunctionKernel>(
        [s](KernelContext& ctx) { return RunMean(*s, ctx); });
  }
  auto s = std::make_shared<ReduceMeanState>();
  s->profile = init.profile;
  QFORGE_ASSIGN_OR_RETURN(s->isa, NodeIsa(node));
  s->keep_dims = keep_dims != 0;
  s->base.axes = axes;
  s->base.input = in_q;
  s->base.output = out_q;
  return std::make_unique<FunctionKernel>(
      [s](KernelContext& ctx) { return RunReduceMean(*s, ctx); });
}

// --- Concat ------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<OpKernel>> CreateConcat(
    const KernelInitContext& init) {
  const Node& node = init.node;
  QFORGE_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", 0));
  std::vector<reference::QuantParam> in_q;
  for (int i = 0; i < node.num_inputs(); ++i) {
    QFORGE_ASSIGN_OR_RETURN(reference::QuantParam q, ActivationQuant(node, i));
    in_q.push_back(q);
  }
  QFORGE_ASSIGN_OR_RETURN(reference::QuantParam out_q,
                          ActivationQuant(node, 0, true));
  const ArithmeticProfile profile = init.profile;
  // The fast kernel (memcpy / SIMD table lookup) with the ISA chosen now.
  QFORGE_ASSIGN_OR_RETURN(const fast::Isa isa, NodeIsa(node));
  return std::make_unique<FunctionKernel>(
      [in_q, out_q, axis, profile, isa](KernelContext& ctx) -> absl::Status {
        if (ctx.num_inputs() == 0 || ctx.input(0) == nullptr) {
          return ctx.Error("Concat needs at least one input");
        }
        const std::vector<int64_t>& d0 = ctx.input(0)->dims();
        const int rank = static_cast<int>(d0.size());
        const int64_t a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
          return ctx.Error(
              absl::StrCat("axis ", axis, " is out of range for rank ", rank));
        }
        int64_t outer = 1, inner = 1, total = 0;
        for (int d = 0; d < a; ++d) outer *= d0[d];
        for (int d = static_cast<int>(a) + 1; d < rank; ++d) inner *= d0[d];
        std::vector<reference::ConcatInput> inputs;
        for (int i = 0; i < ctx.num_inputs(); ++i) {
          const Tensor* t = ctx.input(i);
          if (t == nullptr || t->dtype() != DataType::kInt8 ||
              t->rank() != rank) {
            return ctx.Error(
                absl::StrCat("input ", i, " must be int8 of rank ", rank));
          }
          for (int d = 0; d < rank; ++d) {
            if (d != a && t->dim(d) != d0[d]) {
              return ctx.Error(absl::StrCat("input ", i, " has dimension ", d,
                                            " = ", t->dim(d), ", expected ",
                                            d0[d]));
            }
          }
          inputs.push_back(
              {t->data<int8_t>(), t->dim(static_cast<int>(a)), in_q[i]});
          total += t->dim(static_cast<int>(a));
        }
        std::vector<int64_t> dims = d0;
        dims[a] = total;
        Tensor* y = ctx.output(0);
        y->Reset(DataType::kInt8, dims);
        return WrapStatus(
            ctx, int8::fast::Concat(isa, profile, inputs, outer, inner, out_q,
                                    y->data<int8_t>()));
      });
}

}  // namespace

absl::Status RegisterInt8NnKernels(KernelTable& table) {
  QFORGE_RETURN_IF_ERROR(
      int8::RegisterQuantized(table, "MaxPool", CreatePool<true>));
  QFORGE_RETURN_IF_ERROR(
      int8::RegisterQuantized(table, "AveragePool", CreatePool<false>));
  QFORGE_RETURN_IF_ERROR(int8::RegisterQuantized(table, "GlobalAveragePool",
                                                 CreateGlobalAveragePool));
  QFORGE_RETURN_IF_ERROR(
      int8::RegisterQuantized(table, "ReduceMean", CreateReduceMean));
  QFORGE_RETURN_IF_ERROR(
      int8::RegisterQuantized(table, "Concat", CreateConcat));
  for (const char* op : {"Resize", "Pad"}) {
    const KernelDef* float_def = table.Find({"", op}, DataType::kFloat32);
    KernelFactory float_factory =
        float_def != nullptr ? float_def->create : KernelFactory();
    QFORGE_RETURN_IF_ERROR(int8::RegisterQuantized(
        table, op,
        [float_factory](const KernelInitContext& init)
            -> absl::StatusOr<std::unique_ptr<OpKernel>> {
          return int8::MakeFloatFallbackKernel(init, float_factory);
        }));
  }
  return absl::OkStatus();
}

}  // namespace qforge::kernels
