#include "kernels/int8/util.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "kernels/int8/fast/elementwise_kernels.h"
#include "kernels/int8/fast/isa.h"
#include "kernels/int8/reference/quantize.h"
#include "qforge/core/status.h"

namespace qforge::kernels::int8 {

bool IsQuantizedNode(const Node& node) {
  return node.num_inputs() > 0 && node.input(0) != nullptr &&
         node.input(0)->quant().has_value();
}

absl::StatusOr<reference::QuantParam> ActivationQuant(const Node& node, int i,
                                                      bool output) {
  const Value* v = output ? (i < node.num_outputs() ? node.output(i) : nullptr)
                          : (i < node.num_inputs() ? node.input(i) : nullptr);
  const std::string what = absl::StrCat(output ? "output " : "input ", i);
  if (v == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(node.Describe(), ": ", what, " is missing"));
  }
  if (!v->quant().has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": ", what, " '", v->name(), "' (",
        DataTypeName(v->dtype()), ") has no quantization parameters"));
  }
  const QuantParams& p = *v->quant();
  if (p.storage != DataType::kInt8 || v->dtype() != DataType::kInt8) {
    return absl::UnimplementedError(
        absl::StrCat(node.Describe(), ": ", what, " '", v->name(), "' is ",
                     DataTypeName(v->dtype()),
                     "; the int8 kernels support int8 activations only"));
  }
  if (p.per_axis() || p.scale.size() != 1 || p.zero_point.size() != 1) {
    return absl::UnimplementedError(
        absl::StrCat(node.Describe(), ": ", what, " '", v->name(),
                     "' is quantized per axis; activations must be "
                     "per-tensor"));
  }
  reference::QuantParam q{p.scale[0], static_cast<int32_t>(p.zero_point[0])};
  QFORGE_RETURN_IF_ERROR(reference::ValidateQuantParam(
      q, absl::StrCat(node.Describe(), " ", what, " '", v->name(), "'")));
  return q;
}

absl::StatusOr<reference::WeightQuant> WeightQuantOf(const Node& node, int i,
                                                     int64_t channels) {
  const Value* v = i < node.num_inputs() ? node.input(i) : nullptr;
  if (v == nullptr || !v->quant().has_value() ||
      v->dtype() != DataType::kInt8) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": input ", i, " must be quantized int8 weights"));
  }
  const QuantParams& p = *v->quant();
  reference::WeightQuant w;
  w.scales = p.scale;
  for (int64_t z : p.zero_point)
    w.zero_points.push_back(static_cast<int32_t>(z));
  if (w.scales.size() != 1 &&
      static_cast<int64_t>(w.scales.size()) != channels) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": weight '", v->name(), "' has ", w.scales.size(),
        " scales for ", channels, " output channels"));
  }
  absl::Status s = reference::ValidateWeightQuant(w, channels);
  if (!s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": weight '", v->name(), "': ", s.message()));
  }
  return w;
}

absl::StatusOr<fast::Isa> NodeIsa(const Node& node) {
  absl::StatusOr<fast::Isa> isa = fast::ActiveIsa();
  if (!isa.ok()) {
    return absl::Status(
        isa.status().code(),
        absl::StrCat(node.Describe(), ": ", isa.status().message()));
  }
  return *isa;
}

absl::StatusOr<Window2D> Window2D::FromNode(
    const Node& node, const std::vector<int64_t>* kernel) {
  Window2D w;
  QFORGE_ASSIGN_OR_RETURN(w.auto_pad, node.GetString("auto_pad", "NOTSET"));
  std::vector<int64_t> k;
  if (kernel != nullptr) {
    k = *kernel;
  } else {
    QFORGE_ASSIGN_OR_RETURN(k, node.GetInts("kernel_shape", {}));
  }
  QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> strides,
                          node.GetInts("strides", {1, 1}));
  QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> dilations,
                          node.GetInts("dilations", {1, 1}));
  QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> pads,
                          node.GetInts("pads", {0, 0, 0, 0}));
  QFORGE_ASSIGN_OR_RETURN(int64_t ceil_mode, node.GetInt("ceil_mode", 0));
  if (k.size() != 2 || strides.size() != 2 || dilations.size() != 2 ||
      pads.size() != 4) {
    return absl::UnimplementedError(absl::StrCat(
        node.Describe(),
        ": the int8 kernel supports 2-D windows only (kernel_shape has ",
        k.size(), " entries)"));
  }
  for (int64_t v : k) {
    if (v < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(node.Describe(), ": kernel size ", v, " < 1"));
    }
  }
  for (int64_t v : strides) {
    if (v < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(node.Describe(), ": stride ", v, " < 1"));
    }
  }
  for (int64_t v : dilations) {
    if (v < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(node.Describe(), ": dilation ", v, " < 1"));
    }
  }
  for (int64_t v : pads) {
    if (v < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(node.Describe(), ": negative pad ", v));
    }
  }
  w.kernel_h = k[0];
  w.kernel_w = k[1];
  w.stride_h = strides[0];
  w.stride_w = strides[1];
  w.dilation_h = dilations[0];
  w.dilation_w = dilations[1];
  w.pad_top = pads[0];
  w.pad_left = pads[1];
  w.pad_bottom = pads[2];
  w.pad_right = pads[3];
  w.ceil_mode = ceil_mode != 0;
  return w;
}

namespace {

// Output size and (possibly updated) pads of one spatial axis.
int64_t AxisOutput(absl::string_view auto_pad, int64_t in, int64_t k,
                   int64_t stride, int64_t dilation, bool ceil_mode,
                   int64_t& pad_begin, int64_t& pad_end) {
  const int64_t ek = dilation * (k - 1) + 1;
  if (auto_pad == "VALID") {
    pad_begin = pad_end = 0;
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    const int64_t out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>(0, (out - 1) * stride + ek - in);
    pad_begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
    pad_end = total - pad_begin;
    return out;
  }
  const int64_t span = in + pad_begin + pad_end - ek;
  if (span < 0) return 0;
  int64_t out =
      ceil_mode ? (span + stride - 1) / stride + 1 : span / stride + 1;
  // ceil mode: the last window must start inside the image or left padding.
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

}  // namespace

absl::Status Window2D::Resolve(const Node& node, int64_t h, int64_t w,
                               int64_t* out_h, int64_t* out_w) {
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" &&
      auto_pad != "SAME_LOWER") {
    return absl::InvalidArgumentError(
        absl::StrCat(node.Describe(), ": unknown auto_pad '", auto_pad, "'"));
  }
  *out_h = AxisOutput(auto_pad, h, kernel_h, stride_h, dilation_h, ceil_mode,
                      pad_top, pad_bottom);
  *out_w = AxisOutput(auto_pad, w, kernel_w, stride_w, dilation_w, ceil_mode,
                      pad_left, pad_right);
  if (*out_h <= 0 || *out_w <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        node.Describe(), ": input ", h, "x", w, " is smaller than the ",
        kernel_h, "x", kernel_w, " window (output ", *out_h, "x", *out_w, ")"));
  }
  return absl::OkStatus();
}

absl::Status RegisterQuantized(KernelTable& table, const char* op,
                               KernelFactory factory) {
  const OpKey key{"", op};
  const KernelDef* previous = table.Find(key, DataType::kInt8);
  if (previous == nullptr) {
    return table.Register({key, DataType::kInt8, std::move(factory)});
  }
  KernelFactory fallback = previous->create;
  table.Replace({key, DataType::kInt8,
                 [factory = std::move(factory),
                  fallback = std::move(fallback)](const KernelInitContext& init)
                     -> absl::StatusOr<std::unique_ptr<OpKernel>> {
                   return IsQuantizedNode(init.node) ? factory(init)
                                                     : fallback(init);
                 }});
  return absl::OkStatus();
}

namespace {

class FloatFallbackKernel final : public OpKernel {
 public:
  FloatFallbackKernel(std::unique_ptr<OpKernel> inner,
                      ArithmeticProfile profile, reference::QuantParam in,
                      reference::QuantParam out, fast::Isa isa)
      : inner_(std::move(inner)),
        profile_(profile),
        in_(in),
        out_(out),
        isa_(isa) {}

  absl::Status Run(KernelContext& ctx) const override {
    const Tensor* x = ctx.input(0);
    Tensor* y = ctx.output(0);
    if (x == nullptr || x->dtype() != DataType::kInt8 || y == nullptr) {
      return ctx.Error("expects an int8 input 0 and an output 0");
    }
    Tensor xf(DataType::kFloat32, x->dims());
    QFORGE_RETURN_IF_ERROR(fast::DequantizeLinear(
        isa_, x->data<int8_t>(), x->num_elements(), in_, xf.data<float>()));
    std::vector<const Tensor*> inputs;
    for (int i = 0; i < ctx.num_inputs(); ++i) inputs.push_back(ctx.input(i));
    inputs[0] = &xf;
    Tensor yf;
    std::vector<Tensor*> outputs = {&yf};
    KernelContext inner_ctx(ctx.node(), inputs, outputs);
    QFORGE_RETURN_IF_ERROR(inner_->Run(inner_ctx));
    if (yf.dtype() != DataType::kFloat32) {
      return ctx.Error("the float kernel did not produce float32");
    }
    y->Reset(DataType::kInt8, yf.dims());
    return fast::QuantizeLinear(isa_, profile_, yf.data<float>(),
                                yf.num_elements(), out_, y->data<int8_t>());
  }

 private:
  std::unique_ptr<OpKernel> inner_;
  ArithmeticProfile profile_;
  reference::QuantParam in_;
  reference::QuantParam out_;
  fast::Isa isa_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<OpKernel>> MakeFloatFallbackKernel(
    const KernelInitContext& init, const KernelFactory& float_factory) {
  QFORGE_ASSIGN_OR_RETURN(reference::QuantParam in,
                          ActivationQuant(init.node, 0));
  QFORGE_ASSIGN_OR_RETURN(reference::QuantParam out,
                          ActivationQuant(init.node, 0, /*output=*/true));
  if (!float_factory) {
    return absl::InternalError(absl::StrCat(
        init.node.Describe(), ": no float kernel to run the int8 node with"));
  }
  QFORGE_ASSIGN_OR_RETURN(std::unique_ptr<OpKernel> inner, float_factory(init));
  QFORGE_ASSIGN_OR_RETURN(const fast::Isa isa, NodeIsa(init.node));
  return std::make_unique<FloatFallbackKernel>(std::move(inner), init.profile,
                                               in, out, isa);
}

}  // namespace qforge::kernels::int8
