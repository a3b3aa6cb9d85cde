// INT8 Conv (general, grouped, depthwise), Gemm and MatMul: prepare the
// weights once (ONNX OIHW -> OHWI, or [1, kH, kW, C*M] for depthwise, then
// packed for the ISA fast::ActiveIsa() picks) and run the fast kernels of
// kernels/int8/fast/ (the NHWC reference kernels for Isa::kScalar) on the
// NHWC activations as they are. Conv nodes must be Layout::kNHWC: the
// executor runs quantized graphs through ConvertLayout (docs/int8_kernels.md).
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "kernels/int8/fast/isa.h"
#include "kernels/int8/fast/kernels.h"
#include "kernels/int8/reference/conv.h"
#include "kernels/int8/reference/fully_connected.h"
#include "kernels/int8/register.h"
#include "kernels/int8/util.h"
#include "qforge/core/status.h"

namespace qforge::kernels {
namespace {

using int8::ActivationQuant;
using int8::NodeIsa;
using int8::WeightQuantOf;
namespace fast = int8::fast;

// int32 bias of `channels` elements from constant input i (or none).
absl::StatusOr<std::vector<int32_t>> BiasOf(const KernelInitContext& init,
                                            int i, int64_t channels) {
  const Node& node = init.node;
  if (i >= node.num_inputs() || node.input(i) == nullptr)
    return std::vector<int32_t>{};
  const Tensor* b = i < static_cast<int>(init.constant_inputs.size())
                        ? init.constant_inputs[i]
                        : nullptr;
  if (b == nullptr || b->dtype() != DataType::kInt32) {
    return absl::UnimplementedError(absl::StrCat(
        node.Describe(), ": the int8 kernel needs a constant int32 bias"));
  }
  if (b->num_elements() != channels) {
    return absl::InvalidArgumentError(
        absl::StrCat(node.Describe(), ": bias has ", b->num_elements(),
                     " elements, expected ", channels));
  }
  auto v = b->values<int32_t>();
  return std::vector<int32_t>(v.begin(), v.end());
}

const Tensor* ConstantWeights(const KernelInitContext& init, int i) {
  return i < static_cast<int>(init.constant_inputs.size())
             ? init.constant_inputs[i]
             : nullptr;
}

// --- Conv ------------------------------------------------------------------

struct ConvState {
  bool depthwise = false;
  int64_t in_channels = 0, out_channels = 0, groups = 1;
  int64_t kh = 1, kw = 1;
  int8::Window2D window;
  reference::QuantParam input, output;
  reference::WeightQuant weights;
  std::vector<int8_t> packed;  // OHWI or [1, kH, kW, C*M]
  std::vector<int32_t> bias;
  ArithmeticProfile profile;
  fast::Conv2DKernel conv;
  fast::DepthwiseConv2DKernel depthwise_conv;
};

absl::Status RunConv(const ConvState& s, KernelContext& ctx) {
  const Tensor* x = ctx.input(0);
  if (x == nullptr || x->dtype() != DataType::kInt8 || x->rank() != 4) {
    return ctx.Error("expects an int8 NHWC input of rank 4");
  }
  const int64_t n = x->dim(0), h = x->dim(1), w = x->dim(2), c = x->dim(3);
  if (c != s.in_channels) {
    return ctx.Error(absl::StrCat(
        "input has ", c, " channels, the weights expect ", s.in_channels));
  }
  int8::Window2D win = s.window;
  int64_t oh = 0, ow = 0;
  QFORGE_RETURN_IF_ERROR(win.Resolve(ctx.node(), h, w, &oh, &ow));
  reference::ConvGeometry g;
  g.batch = n;
  g.input_height = h;
  g.input_width = w;
  g.kernel_height = s.kh;
  g.kernel_width = s.kw;
  g.stride_height = win.stride_h;
  g.stride_width = win.stride_w;
  g.dilation_height = win.dilation_h;
  g.dilation_width = win.dilation_w;
  g.pad_top = win.pad_top;
  g.pad_left = win.pad_left;
  g.pad_bottom = win.pad_bottom;
  g.pad_right = win.pad_right;
  if (g.output_height() != oh || g.output_width() != ow) {
    return ctx.Error("inconsistent convolution geometry");
  }
  Tensor* y = ctx.output(0);
  y->ResetUninitialized(DataType::kInt8, {n, oh, ow, s.out_channels});
  const absl::Status status =
      s.depthwise
          ? s.depthwise_conv.Run(g, x->data<int8_t>(), y->data<int8_t>())
          : s.conv.Run(g, x->data<int8_t>(), y->data<int8_t>());
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat(ctx.node().Describe(), ": ",
                                                    status.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<OpKernel>> CreateConv(
    const KernelInitContext& init) {
  const Node& node = init.node;
  if (node.layout() != Layout::kNHWC) {
    return absl::UnimplementedError(absl::StrCat(
        node.Describe(),
        ": the int8 Conv kernel runs NHWC nodes only; convert the graph with "
        "ConvertLayout(graph, Layout::kNHWC) (Executor::Prepare does that "
        "for quantized graphs)"));
  }
  auto s = std::make_shared<ConvState>();
  s->profile = init.profile;
  QFORGE_ASSIGN_OR_RETURN(s->input, ActivationQuant(node, 0));
  QFORGE_ASSIGN_OR_RETURN(s->output, ActivationQuant(node, 0, true));
  const Tensor* wt = ConstantWeights(init, 1);
  if (wt == nullptr || wt->dtype() != DataType::kInt8 || wt->rank() != 4) {
    return absl::UnimplementedError(
        absl::StrCat(node.Describe(),
                     ": the int8 Conv kernel needs constant int8 OIHW "
                     "weights of rank 4 (2-D convolution)"));
  }
  QFORGE_ASSIGN_OR_RETURN(s->groups, node.GetInt("group", 1));
  const int64_t o = wt->dim(0), cg = wt->dim(1);
  s->kh = wt->dim(2);
  s->kw = wt->dim(3);
  if (s->groups < 1 || o % s->groups != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(node.Describe(), ": group=", s->groups,
                     " does not divide ", o, " output channels"));
  }
  s->out_channels = o;
  s->in_channels = cg * s->groups;
  std::vector<int64_t> kernel = {s->kh, s->kw};
  QFORGE_ASSIGN_OR_RETURN(s->window, int8::Window2D::FromNode(node, &kernel));
  QFORGE_ASSIGN_OR_RETURN(s->weights, WeightQuantOf(node, 1, o));
  if (wt->quant().has_value() && wt->quant()->per_axis() &&
      wt->quant()->axis != 0) {
    return absl::UnimplementedError(absl::StrCat(
        node.Describe(), ": weights quantized along axis ", wt->quant()->axis,
        "; expected the output-channel axis 0"));
  }
  if (node.input(1)->quant()->per_axis() && node.input(1)->quant()->axis != 0) {
    return absl::UnimplementedError(absl::StrCat(
        node.Describe(), ": weights quantized along axis ",
        node.input(1)->quant()->axis, "; expected the output-channel axis 0"));
  }
  QFORGE_ASSIGN_OR_RETURN(s->bias, BiasOf(init, 2, o));
  const int8_t* src = wt->data<int8_t>();
  const int64_t khw = s->kh * s->kw;
  s->packed.resize(wt->num_elements());
  s->depthwise = cg == 1 && s->groups > 1 && s->groups == s->in_channels;
  if (s->depthwise) {
    // [C*M, 1, kH, kW] -> [1, kH, kW, C*M]
    for (int64_t oc = 0; oc < o; ++oc) {
      for (int64_t k = 0; k < khw; ++k)
        s->packed[k * o + oc] = src[oc * khw + k];
    }
  } else {
    // OIHW -> OHWI
    for (int64_t oc = 0; oc < o; ++oc) {
      for (int64_t ic = 0; ic < cg; ++ic) {
        for (int64_t k = 0; k < khw; ++k) {
          s->packed[(oc * khw + k) * cg + ic] = src[(oc * cg + ic) * khw + k];
        }
      }
    }
  }
  QFORGE_ASSIGN_OR_RETURN(fast::Isa isa, NodeIsa(node));
  reference::ConvGeometry window;
  window.kernel_height = s->kh;
  window.kernel_width = s->kw;
  window.stride_height = s->window.stride_h;
  window.stride_width = s->window.stride_w;
  window.dilation_height = s->window.dilation_h;
  window.dilation_width = s->window.dilation_w;
  const int32_t* bias = s->bias.empty() ? nullptr : s->bias.data();
  if (s->depthwise) {
    reference::DepthwiseConv2DParams p;
    p.geometry = window;
    p.input_channels = s->in_channels;
    p.depth_multiplier = o / s->in_channels;
    p.input = s->input;
    p.weights = s->weights;
    p.output = s->output;
    s->depthwise_conv = fast::DepthwiseConv2DKernel::Create(
        isa, s->profile, p, s->packed.data(), bias);
  } else {
    reference::Conv2DParams p;
    p.geometry = window;
    p.input_channels = s->in_channels;
    p.output_channels = o;
    p.groups = s->groups;
    p.input = s->input;
    p.weights = s->weights;
    p.output = s->output;
    s->conv =
        fast::Conv2DKernel::Create(isa, s->profile, p, s->packed.data(), bias);
  }
  s->packed.clear();  // The fast kernels keep their own copies.
  s->packed.shrink_to_fit();
  return std::make_unique<FunctionKernel>(
      [s](KernelContext& ctx) { return RunConv(*s, ctx); });
}

// --- Gemm / MatMul ----------------------------------------------------------

struct FcState {
  reference::FullyConnectedParams params;  // rows filled per run
  std::vector<int32_t> bias;
  ArithmeticProfile profile;
  bool gemm = false;
  fast::FullyConnectedKernel fc;  // constant weights
  fast::Isa isa = fast::Isa::kScalar;
};

absl::Status WrapStatus(const KernelContext& ctx, const absl::Status& s) {
  if (s.ok()) return s;
  return absl::Status(s.code(),
                      absl::StrCat(ctx.node().Describe(), ": ", s.message()));
}

absl::Status RunFc(const FcState& s, KernelContext& ctx) {
  const Tensor* a = ctx.input(0);
  if (a == nullptr || a->dtype() != DataType::kInt8 || a->rank() < 1) {
    return ctx.Error("expects an int8 input 0");
  }
  reference::FullyConnectedParams p = s.params;
  const int64_t k = p.input_depth;
  if (a->dim(a->rank() - 1) != k || (s.gemm && a->rank() != 2)) {
    return ctx.Error(absl::StrCat(
        "input 0 has shape [", absl::StrJoin(a->dims(), ","),
        "], expected inner dimension ", k, s.gemm ? " and rank 2" : ""));
  }
  p.rows = k > 0 ? a->num_elements() / k : 0;
  std::vector<int64_t> out_dims = a->dims();
  out_dims.back() = p.output_depth;
  Tensor* y = ctx.output(0);
  y->ResetUninitialized(DataType::kInt8, out_dims);
  return WrapStatus(ctx,
                    s.fc.Run(p.rows, a->data<int8_t>(), y->data<int8_t>()));
}

absl::StatusOr<std::unique_ptr<OpKernel>> CreateGemm(
    const KernelInitContext& init) {
  const Node& node = init.node;
  auto s = std::make_shared<FcState>();
  s->gemm = true;
  s->profile = init.profile;
  QFORGE_ASSIGN_OR_RETURN(float alpha, node.GetFloat("alpha", 1.0f));
  QFORGE_ASSIGN_OR_RETURN(float beta, node.GetFloat("beta", 1.0f));
  QFORGE_ASSIGN_OR_RETURN(int64_t trans_a, node.GetInt("transA", 0));
  QFORGE_ASSIGN_OR_RETURN(int64_t trans_b, node.GetInt("transB", 0));
  if (alpha != 1.0f || beta != 1.0f || trans_a != 0) {
    return absl::UnimplementedError(
        absl::StrCat(node.Describe(),
                     ": the int8 Gemm kernel needs alpha=1, beta=1, transA=0"));
  }
  const Tensor* wt = ConstantWeights(init, 1);
  if (wt == nullptr || wt->dtype() != DataType::kInt8 || wt->rank() != 2) {
    return absl::UnimplementedError(
        absl::StrCat(node.Describe(),
                     ": the int8 Gemm kernel needs constant 2-D int8 weights"));
  }
  auto& p = s->params;
  p.weight_layout = trans_b ? reference::WeightLayout::kOutputMajor
                            : reference::WeightLayout::kInputMajor;
  p.output_depth = wt->dim(trans_b ? 0 : 1);
  p.input_depth = wt->dim(trans_b ? 1 : 0);
  QFORGE_ASSIGN_OR_RETURN(p.input, ActivationQuant(node, 0));
  QFORGE_ASSIGN_OR_RETURN(p.output, ActivationQuant(node, 0, true));
  QFORGE_ASSIGN_OR_RETURN(p.weights, WeightQuantOf(node, 1, p.output_depth));
  const QuantParams& wq = *node.input(1)->quant();
  if (wq.per_axis() && wq.axis != (trans_b ? 0 : 1)) {
    return absl::UnimplementedError(
        absl::StrCat(node.Describe(), ": weights quantized along axis ",
                     wq.axis, ", which is not the output axis"));
  }
  QFORGE_ASSIGN_OR_RETURN(s->bias, BiasOf(init, 2, p.output_depth));
  QFORGE_ASSIGN_OR_RETURN(fast::Isa isa, NodeIsa(node));
  s->fc = fast::FullyConnectedKernel::Create(
      isa, s->profile, p, wt->data<int8_t>(),
      s->bias.empty() ? nullptr : s->bias.data());
  return std::make_unique<FunctionKernel>(
      [s](KernelContext& ctx) { return RunFc(*s, ctx); });
}

// MatMul of two int8 activations: per batch a FullyConnected with the B
// slice as per-tensor [K, N] weights. B is 2-D, or has A's batch dims.
absl::Status RunMatMulDynamic(const FcState& s, KernelContext& ctx) {
  const Tensor* a = ctx.input(0);
  const Tensor* b = ctx.input(1);
  if (a == nullptr || b == nullptr || a->dtype() != DataType::kInt8 ||
      b->dtype() != DataType::kInt8 || a->rank() < 2 || b->rank() < 2) {
    return ctx.Error("expects two int8 inputs of rank >= 2");
  }
  const int64_t m = a->dim(a->rank() - 2), k = a->dim(a->rank() - 1);
  const int64_t n = b->dim(b->rank() - 1);
  if (b->dim(b->rank() - 2) != k) {
    return ctx.Error(absl::StrCat("inner dimensions differ: ", k, " vs ",
                                  b->dim(b->rank() - 2)));
  }
  int64_t batches = a->num_elements() / std::max<int64_t>(1, m * k);
  const bool b_shared = b->rank() == 2;
  if (!b_shared) {
    if (b->rank() != a->rank() ||
        !std::equal(a->dims().begin(), a->dims().end() - 2,
                    b->dims().begin())) {
      return absl::UnimplementedError(
          absl::StrCat(ctx.node().Describe(),
                       ": int8 MatMul of two activations needs B of "
                       "rank 2 or with A's batch dimensions"));
    }
  }
  std::vector<int64_t> out_dims = a->dims();
  out_dims.back() = n;
  Tensor* y = ctx.output(0);
  y->Reset(DataType::kInt8, out_dims);
  reference::FullyConnectedParams p = s.params;
  p.rows = m;
  p.input_depth = k;
  p.output_depth = n;
  p.weight_layout = reference::WeightLayout::kInputMajor;
  // Exported as BATCH_MATMUL, which requantizes with the Q31 multiplier.
  p.tflite_requant = reference::TfliteLinearRequant::kFixedPoint;
  // B is packed per run (once when it is shared by the batches); packing is
  // O(K N) against the O(M K N) product.
  fast::FullyConnectedKernel kernel;
  for (int64_t i = 0; i < batches; ++i) {
    if (i == 0 || !b_shared) {
      kernel = fast::FullyConnectedKernel::Create(
          s.isa, s.profile, p, b->data<int8_t>() + (b_shared ? 0 : i * k * n),
          nullptr);
    }
    QFORGE_RETURN_IF_ERROR(
        WrapStatus(ctx, kernel.Run(m, a->data<int8_t>() + i * m * k,
                                   y->data<int8_t>() + i * m * n)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<OpKernel>> CreateMatMul(
    const KernelInitContext& init) {
  const Node& node = init.node;
  auto s = std::make_shared<FcState>();
  s->profile = init.profile;
  auto& p = s->params;
  QFORGE_ASSIGN_OR_RETURN(p.input, ActivationQuant(node, 0));
  QFORGE_ASSIGN_OR_RETURN(p.output, ActivationQuant(node, 0, true));
  const Tensor* wt = ConstantWeights(init, 1);
  if (wt == nullptr) {
    QFORGE_ASSIGN_OR_RETURN(reference::QuantParam bq, ActivationQuant(node, 1));
    p.weights.scales = {bq.scale};
    p.weights.zero_points = {bq.zero_point};
    QFORGE_ASSIGN_OR_RETURN(s->isa, NodeIsa(node));
    return std::make_unique<FunctionKernel>(
        [s](KernelContext& ctx) { return RunMatMulDynamic(*s, ctx); });
  }
  if (wt->dtype() != DataType::kInt8 || wt->rank() != 2) {
    return absl::UnimplementedError(absl::StrCat(
        node.Describe(),
        ": the int8 MatMul kernel needs 2-D int8 constant weights"));
  }
  p.weight_layout = reference::WeightLayout::kInputMajor;
  p.input_depth = wt->dim(0);
  p.output_depth = wt->dim(1);
  QFORGE_ASSIGN_OR_RETURN(p.weights, WeightQuantOf(node, 1, p.output_depth));
  const QuantParams& wq = *node.input(1)->quant();
  if (wq.per_axis() && wq.axis != 1) {
    return absl::UnimplementedError(
        absl::StrCat(node.Describe(), ": weights quantized along axis ",
                     wq.axis, ", which is not the output axis 1"));
  }
  QFORGE_ASSIGN_OR_RETURN(fast::Isa isa, NodeIsa(node));
  s->fc = fast::FullyConnectedKernel::Create(isa, s->profile, p,
                                             wt->data<int8_t>(), nullptr);
  return std::make_unique<FunctionKernel>(
      [s](KernelContext& ctx) { return RunFc(*s, ctx); });
}

}  // namespace

absl::Status RegisterInt8LinearKernels(KernelTable& table) {
  QFORGE_RETURN_IF_ERROR(int8::RegisterQuantized(table, "Conv", CreateConv));
  QFORGE_RETURN_IF_ERROR(int8::RegisterQuantized(table, "Gemm", CreateGemm));
  QFORGE_RETURN_IF_ERROR(
      int8::RegisterQuantized(table, "MatMul", CreateMatMul));
  return absl::OkStatus();
}

}  // namespace qforge::kernels
