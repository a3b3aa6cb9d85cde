// Reference kernels of QuantizeLinear and DequantizeLinear (ONNX semantics).
//
// Numeric contract:
//   QuantizeLinear:   q = saturate(round_half_to_even(x / scale) + zero_point)
//     x / scale is one float32 division (not a multiplication by 1 / scale),
//     rounding is exact round-half-to-even independent of the FPU rounding
//     mode, saturation is to the output type's range; NaN gives zero_point.
//   DequantizeLinear: y = float(x - zero_point) * scale, the difference taken
//     exactly in int64, then one float32 multiplication.
// Per-tensor when the scale has one element; per-axis (attribute `axis`,
// default 1) when it is 1-D with one value per slice of that axis.
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/float/dtype_dispatch.h"
#include "kernels/float/groups.h"
#include "kernels/float/kernel_util.h"
#include "qforge/core/status.h"

namespace qforge::kernels {
namespace {

// Round half to even without depending on the rounding mode.
// Below 2^23 in magnitude it works on the integer part without branches (the
// branches mispredict on real data); the value is the same as the general
// path's except that -0.0f comes out as +0.0f, which the caller cannot tell
// apart (it adds the zero point and converts to an integer).
float RoundHalfToEven(float v) {
  if (std::fabs(v) < 8388608.0f) {
    int32_t i = static_cast<int32_t>(v);           // Toward zero; exact here.
    i -= static_cast<float>(i) > v;                // floor(v).
    const float diff = v - static_cast<float>(i);  // Exact, in [0, 1).
    i += (diff > 0.5f) | ((diff == 0.5f) & (i & 1));
    return static_cast<float>(i);
  }
  const float f = std::floor(v);
  const float diff = v - f;  // Exact: f and v are within 1 of each other.
  if (diff > 0.5f) return f + 1.0f;
  if (diff < 0.5f) return f;
  return std::fmod(f, 2.0f) == 0.0f ? f : f + 1.0f;
}

// How the scale and zero point apply to x: x viewed as [outer, channels,
// inner] with parameter c for channel c (channels == 1 for per-tensor).
struct QuantLayout {
  int64_t outer = 1;
  int64_t channels = 1;
  int64_t inner = 1;
};

// Checks scale (input 1, float32) and zero point (input 2, dtype `zp_type`
// when present) against x and returns the layout.
absl::StatusOr<QuantLayout> GetLayout(const KernelContext& ctx, const Tensor& x,
                                      DataType zp_type) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* scale,
                          Input(ctx, 1, DataType::kFloat32));
  if (scale->rank() > 1) {
    return ctx.Error(absl::StrCat("scale must be a scalar or 1-D, got shape ",
                                  DimsToString(scale->dims())));
  }
  if (const Tensor* zp = ctx.input(2); zp != nullptr) {
    QFORGE_RETURN_IF_ERROR(Input(ctx, 2, zp_type).status());
    if (zp->num_elements() != scale->num_elements()) {
      return ctx.Error(
          absl::StrCat("zero point has shape ", DimsToString(zp->dims()),
                       " but scale has shape ", DimsToString(scale->dims())));
    }
  }
  QuantLayout layout;
  if (scale->num_elements() == 1) {
    layout.inner = x.num_elements();
    return layout;
  }
  if (x.rank() == 0) {
    return ctx.Error("a per-axis scale needs an input of rank >= 1");
  }
  QFORGE_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.node().GetInt("axis", 1));
  QFORGE_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx, axis_attr, x.rank()));
  if (scale->num_elements() != x.dim(axis)) {
    return ctx.Error(absl::StrCat(
        "scale has ", scale->num_elements(), " values but axis ", axis,
        " of the input ", DimsToString(x.dims()), " has size ", x.dim(axis)));
  }
  layout.outer = Product(x.dims(), 0, axis);
  layout.channels = x.dim(axis);
  layout.inner = Product(x.dims(), axis + 1, x.rank());
  return layout;
}

// Zero point c as int64 (0 when absent).
int64_t ZeroPoint(const KernelContext& ctx, int64_t c) {
  const Tensor* zp = ctx.input(2);
  return zp == nullptr ? 0 : zp->GetAsInt64(c);
}

template <typename In, typename Out>
void Quantize(const In* x, const float* scale, const Tensor* zp_tensor,
              const QuantLayout& l, Out* y) {
  constexpr float kMin = static_cast<float>(std::numeric_limits<Out>::min());
  constexpr float kMax = static_cast<float>(std::numeric_limits<Out>::max());
  for (int64_t o = 0; o < l.outer; ++o) {
    for (int64_t c = 0; c < l.channels; ++c) {
      const float s = scale[c];
      const float zp = zp_tensor == nullptr
                           ? 0.0f
                           : static_cast<float>(zp_tensor->data<Out>()[c]);
      const int64_t base = (o * l.channels + c) * l.inner;
      for (int64_t i = 0; i < l.inner; ++i) {
        const float v = static_cast<float>(x[base + i]) / s;
        float q = std::isnan(v) ? zp : RoundHalfToEven(v) + zp;
        q = q < kMin ? kMin : (q > kMax ? kMax : q);
        y[base + i] = static_cast<Out>(q);
      }
    }
  }
}

template <typename In>
absl::Status QuantizeLinearKernel(KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* x, Input(ctx, 0, DataTypeOf<In>()));
  Tensor* out = ctx.output(0);
  if (out == nullptr) return absl::OkStatus();
  const Tensor* zp = ctx.input(2);
  const DataType out_type = zp != nullptr ? zp->dtype() : DataType::kUint8;
  if (out_type != DataType::kUint8 && out_type != DataType::kInt8) {
    return ctx.Error(absl::StrCat("zero point must be int8 or uint8, got ",
                                  DataTypeName(out_type)));
  }
  QFORGE_ASSIGN_OR_RETURN(QuantLayout layout, GetLayout(ctx, *x, out_type));
  out->ResetUninitialized(out_type, x->dims());  // Fully written below.
  const float* scale = ctx.input(1)->data<float>();
  if (out_type == DataType::kUint8) {
    Quantize(x->data<In>(), scale, zp, layout, out->data<uint8_t>());
  } else {
    Quantize(x->data<In>(), scale, zp, layout, out->data<int8_t>());
  }
  return absl::OkStatus();
}

template <typename In>
absl::Status DequantizeLinearKernel(KernelContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(const Tensor* x, Input(ctx, 0, DataTypeOf<In>()));
  Tensor* out = ctx.output(0);
  if (out == nullptr) return absl::OkStatus();
  QFORGE_ASSIGN_OR_RETURN(QuantLayout l, GetLayout(ctx, *x, DataTypeOf<In>()));
  out->ResetUninitialized(DataType::kFloat32, x->dims());  // Fully written.
  const In* px = x->data<In>();
  const float* scale = ctx.input(1)->data<float>();
  float* py = out->data<float>();
  for (int64_t o = 0; o < l.outer; ++o) {
    for (int64_t c = 0; c < l.channels; ++c) {
      const float s = scale[c];
      const int64_t zp = ZeroPoint(ctx, c);
      const int64_t base = (o * l.channels + c) * l.inner;
      for (int64_t i = 0; i < l.inner; ++i) {
        py[base + i] =
            static_cast<float>(static_cast<int64_t>(px[base + i]) - zp) * s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RegisterQuantFloatKernels(KernelTable& table) {
  QFORGE_RETURN_IF_ERROR(RegisterEach(
      table, "QuantizeLinear", TypeList<float, int32_t>{}, [](auto tag) {
        return StatelessKernel(
            &QuantizeLinearKernel<typename decltype(tag)::type>);
      }));
  QFORGE_RETURN_IF_ERROR(
      RegisterEach(table, "DequantizeLinear",
                   TypeList<int8_t, uint8_t, int32_t>{}, [](auto tag) {
                     return StatelessKernel(
                         &DequantizeLinearKernel<typename decltype(tag)::type>);
                   }));
  return absl::OkStatus();
}

}  // namespace qforge::kernels
