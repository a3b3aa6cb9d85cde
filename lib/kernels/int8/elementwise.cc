// INT8 element-wise kernels: Add, Sub, Mul (numpy broadcasting), the
// one-input functions as 256-entry tables (Relu, Clip, LeakyRelu, Sigmoid,
// Tanh, HardSwish), Softmax and Identity (copy or requantize).
//
// Relu, Clip and LeakyRelu use the profile's generic table builder
// (reference::BuildLut) with the exact float function: ONNX Runtime runs them
// as DequantizeLinear -> float op -> QuantizeLinear (or folds Relu/Clip into
// the quantization range, which gives the same bytes), and TFLite's int8
// RELU/LEAKY_RELU requantize the same values.
//
// Add, Sub, Mul, the tables, Identity and Softmax run through the fast
// element-wise kernels (kernels/int8/fast/elementwise_kernels.h) with the ISA
// chosen at prepare time; they return the reference kernels' bytes.
#include "kernels/int8/reference/elementwise.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/int8/fast/elementwise_kernels.h"
#include "kernels/int8/fast/isa.h"
#include "kernels/int8/reference/lut.h"
#include "kernels/int8/reference/quantize.h"
#include "kernels/int8/reference/softmax.h"
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

absl::Status RequireInt8(const KernelContext& ctx, int i) {
  const Tensor* t = ctx.input(i);
  if (t == nullptr || t->dtype() != DataType::kInt8) {
    return ctx.Error(absl::StrCat("input ", i, " must be int8"));
  }
  return absl::OkStatus();
}

// --- Add / Sub / Mul ---------------------------------------------------------

using BinaryFn = absl::Status (*)(fast::Isa, ArithmeticProfile,
                                  const reference::BinaryParams&,
                                  absl::Span<const int64_t>, const int8_t*,
                                  absl::Span<const int64_t>, const int8_t*,
                                  int8_t*);

template <BinaryFn Fn>
absl::StatusOr<std::unique_ptr<OpKernel>> CreateBinary(
    const KernelInitContext& init) {
  reference::BinaryParams p;
  QFORGE_ASSIGN_OR_RETURN(p.input1, ActivationQuant(init.node, 0));
  QFORGE_ASSIGN_OR_RETURN(p.input2, ActivationQuant(init.node, 1));
  QFORGE_ASSIGN_OR_RETURN(p.output, ActivationQuant(init.node, 0, true));
  QFORGE_ASSIGN_OR_RETURN(const fast::Isa isa, NodeIsa(init.node));
  const ArithmeticProfile profile = init.profile;
  return std::make_unique<FunctionKernel>(
      [p, profile, isa](KernelContext& ctx) -> absl::Status {
        QFORGE_RETURN_IF_ERROR(RequireInt8(ctx, 0));
        QFORGE_RETURN_IF_ERROR(RequireInt8(ctx, 1));
        const Tensor* a = ctx.input(0);
        const Tensor* b = ctx.input(1);
        absl::StatusOr<std::vector<int64_t>> dims =
            reference::BroadcastShapes(a->dims(), b->dims());
        if (!dims.ok()) return WrapStatus(ctx, dims.status());
        Tensor* y = ctx.output(0);
        y->ResetUninitialized(DataType::kInt8, *dims);
        return WrapStatus(
            ctx, Fn(isa, profile, p, a->dims(), a->data<int8_t>(), b->dims(),
                    b->data<int8_t>(), y->data<int8_t>()));
      });
}

// --- Tables ------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<OpKernel>> LutKernel(
    const Node& node, const reference::Int8Lut& lut) {
  QFORGE_ASSIGN_OR_RETURN(const fast::Isa isa, NodeIsa(node));
  return std::make_unique<FunctionKernel>(
      [lut, isa](KernelContext& ctx) -> absl::Status {
        QFORGE_RETURN_IF_ERROR(RequireInt8(ctx, 0));
        const Tensor* x = ctx.input(0);
        Tensor* y = ctx.output(0);
        y->ResetUninitialized(DataType::kInt8, x->dims());
        return fast::ApplyLut(isa, lut, x->data<int8_t>(), x->num_elements(),
                              y->data<int8_t>());
      });
}

struct InOut {
  reference::QuantParam in, out;
};

absl::StatusOr<InOut> InOutQuant(const Node& node) {
  InOut q;
  QFORGE_ASSIGN_OR_RETURN(q.in, ActivationQuant(node, 0));
  QFORGE_ASSIGN_OR_RETURN(q.out, ActivationQuant(node, 0, true));
  return q;
}

absl::StatusOr<std::unique_ptr<OpKernel>> CreateRelu(
    const KernelInitContext& init) {
  QFORGE_ASSIGN_OR_RETURN(InOut q, InOutQuant(init.node));
  QFORGE_ASSIGN_OR_RETURN(
      reference::Int8Lut lut,
      reference::BuildLut(init.profile, q.in, q.out,
                          [](float x) { return x > 0.0f ? x : 0.0f; }));
  return LutKernel(init.node, lut);
}

absl::StatusOr<std::unique_ptr<OpKernel>> CreateLeakyRelu(
    const KernelInitContext& init) {
  QFORGE_ASSIGN_OR_RETURN(InOut q, InOutQuant(init.node));
  QFORGE_ASSIGN_OR_RETURN(float alpha, init.node.GetFloat("alpha", 0.01f));
  QFORGE_ASSIGN_OR_RETURN(
      reference::Int8Lut lut,
      reference::BuildLut(init.profile, q.in, q.out, [alpha](float x) {
        return x >= 0.0f ? x : alpha * x;
      }));
  return LutKernel(init.node, lut);
}

// Clip bound from a constant float input (opset >= 11) or attribute.
absl::StatusOr<float> ClipBound(const KernelInitContext& init, int i,
                                const char* attr, float fallback) {
  const Node& node = init.node;
  if (init.opset != 0 && init.opset < 11) return node.GetFloat(attr, fallback);
  if (i >= node.num_inputs() || node.input(i) == nullptr) return fallback;
  const Tensor* t = i < static_cast<int>(init.constant_inputs.size())
                        ? init.constant_inputs[i]
                        : nullptr;
  if (t == nullptr || t->num_elements() != 1) {
    return absl::UnimplementedError(
        absl::StrCat(node.Describe(),
                     ": the int8 Clip kernel needs constant scalar bounds"));
  }
  return static_cast<float>(t->GetAsDouble(0));
}

absl::StatusOr<std::unique_ptr<OpKernel>> CreateClip(
    const KernelInitContext& init) {
  QFORGE_ASSIGN_OR_RETURN(InOut q, InOutQuant(init.node));
  QFORGE_ASSIGN_OR_RETURN(
      float lo,
      ClipBound(init, 1, "min", -std::numeric_limits<float>::infinity()));
  QFORGE_ASSIGN_OR_RETURN(
      float hi,
      ClipBound(init, 2, "max", std::numeric_limits<float>::infinity()));
  QFORGE_ASSIGN_OR_RETURN(
      reference::Int8Lut lut,
      reference::BuildLut(init.profile, q.in, q.out, [lo, hi](float x) {
        return std::min(std::max(x, lo), hi);
      }));
  return LutKernel(init.node, lut);
}

using LutBuilder = absl::StatusOr<reference::Int8Lut> (*)(
    ArithmeticProfile, const reference::QuantParam&,
    const reference::QuantParam&);

template <LutBuilder Build>
absl::StatusOr<std::unique_ptr<OpKernel>> CreateTable(
    const KernelInitContext& init) {
  QFORGE_ASSIGN_OR_RETURN(InOut q, InOutQuant(init.node));
  absl::StatusOr<reference::Int8Lut> lut = Build(init.profile, q.in, q.out);
  if (!lut.ok()) {
    return absl::Status(
        lut.status().code(),
        absl::StrCat(init.node.Describe(), ": ", lut.status().message()));
  }
  return LutKernel(init.node, *lut);
}

// --- Softmax -----------------------------------------------------------------

absl::StatusOr<std::unique_ptr<OpKernel>> CreateSoftmax(
    const KernelInitContext& init) {
  const Node& node = init.node;
  QFORGE_ASSIGN_OR_RETURN(InOut q, InOutQuant(node));
  if (!(q.out == reference::kSoftmaxOutputQuant)) {
    return absl::UnimplementedError(
        absl::StrCat(node.Describe(),
                     ": int8 Softmax needs output params scale=1/256 "
                     "zero_point=-128, got ",
                     reference::DescribeQuantParam(q.out)));
  }
  const bool legacy = init.opset != 0 && init.opset < 13;
  QFORGE_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", legacy ? 1 : -1));
  reference::SoftmaxParams params;
  params.input_scale = q.in.scale;
  QFORGE_ASSIGN_OR_RETURN(const fast::Isa isa, NodeIsa(node));
  const ArithmeticProfile profile = init.profile;
  return std::make_unique<FunctionKernel>(
      [params, profile, axis, legacy, isa](KernelContext& ctx) -> absl::Status {
        QFORGE_RETURN_IF_ERROR(RequireInt8(ctx, 0));
        const Tensor* x = ctx.input(0);
        const int rank = x->rank();
        const int64_t a = axis < 0 ? axis + rank : axis;
        if (rank == 0 || a < 0 || a >= rank) {
          return ctx.Error(
              absl::StrCat("axis ", axis, " is out of range for rank ", rank));
        }
        if (!legacy && a != rank - 1) {
          return absl::UnimplementedError(absl::StrCat(
              ctx.node().Describe(),
              ": int8 Softmax supports the last axis only (axis=", axis,
              ", rank ", rank, ")"));
        }
        int64_t depth = 1;
        for (int d = static_cast<int>(a); d < rank; ++d) depth *= x->dim(d);
        Tensor* y = ctx.output(0);
        y->Reset(DataType::kInt8, x->dims());
        if (x->num_elements() == 0) return absl::OkStatus();
        return WrapStatus(
            ctx,
            fast::Softmax(isa, profile, params, x->data<int8_t>(),
                          x->num_elements() / depth, depth, y->data<int8_t>()));
      });
}

// --- Identity ----------------------------------------------------------------

absl::StatusOr<std::unique_ptr<OpKernel>> CreateIdentity(
    const KernelInitContext& init) {
  QFORGE_ASSIGN_OR_RETURN(InOut q, InOutQuant(init.node));
  QFORGE_ASSIGN_OR_RETURN(
      reference::Int8Requantizer r,
      reference::Int8Requantizer::Create(init.profile, q.in, q.out));
  if (!r.is_identity()) {
    // The requantization of one int8 value, tabulated.
    reference::Int8Lut lut;
    for (int v = 0; v < 256; ++v) {
      lut[v] = r.Apply(static_cast<int8_t>(v));
    }
    return LutKernel(init.node, lut);
  }
  return std::make_unique<FunctionKernel>(
      [](KernelContext& ctx) -> absl::Status {
        QFORGE_RETURN_IF_ERROR(RequireInt8(ctx, 0));
        const Tensor* x = ctx.input(0);
        Tensor* y = ctx.output(0);
        y->ResetUninitialized(DataType::kInt8, x->dims());
        const int8_t* in = x->data<int8_t>();
        std::copy(in, in + x->num_elements(), y->data<int8_t>());
        return absl::OkStatus();
      });
}

}  // namespace

absl::Status RegisterInt8ElementwiseKernels(KernelTable& table) {
  QFORGE_RETURN_IF_ERROR(
      int8::RegisterQuantized(table, "Add", CreateBinary<fast::Add>));
  QFORGE_RETURN_IF_ERROR(
      int8::RegisterQuantized(table, "Sub", CreateBinary<fast::Sub>));
  QFORGE_RETURN_IF_ERROR(
      int8::RegisterQuantized(table, "Mul", CreateBinary<fast::Mul>));
  QFORGE_RETURN_IF_ERROR(int8::RegisterQuantized(table, "Relu", CreateRelu));
  QFORGE_RETURN_IF_ERROR(int8::RegisterQuantized(table, "Clip", CreateClip));
  QFORGE_RETURN_IF_ERROR(
      int8::RegisterQuantized(table, "LeakyRelu", CreateLeakyRelu));
  QFORGE_RETURN_IF_ERROR(int8::RegisterQuantized(
      table, "Sigmoid", CreateTable<reference::BuildSigmoidLut>));
  QFORGE_RETURN_IF_ERROR(int8::RegisterQuantized(
      table, "Tanh", CreateTable<reference::BuildTanhLut>));
  QFORGE_RETURN_IF_ERROR(int8::RegisterQuantized(
      table, "HardSwish", CreateTable<reference::BuildHardSwishLut>));
  QFORGE_RETURN_IF_ERROR(
      int8::RegisterQuantized(table, "Softmax", CreateSoftmax));
  QFORGE_RETURN_IF_ERROR(
      int8::RegisterQuantized(table, "Identity", CreateIdentity));
  return absl::OkStatus();
}

}  // namespace qforge::kernels
