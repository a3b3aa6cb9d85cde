// Float Resize and Upsample kernels (ONNX semantics, see ir/resize_params.h).
//
// Resampling is separable: each axis whose size or sampling changes is
// processed in turn, every output index being a weighted sum of at most four
// input indices along that axis (nearest: 1, linear: 2, cubic: 4; indices
// outside the input are clamped to its edge, or dropped with exclude_outside
// and the weights renormalized). This equals the ONNX reference's N-D
// recursion. Intermediate values are kept in double. With
// tf_crop_and_resize, an output whose source coordinate falls outside the
// input along any axis is extrapolation_value.
//
// In NHWC the kernel maps scales/sizes/roi (ONNX axis order) onto the data's
// axes; the interpolation itself does not depend on the layout.
#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/resize_params.h"
#include "kernels/float/nn_kernels.h"
#include "qforge/core/status.h"

namespace qforge::kernels {
namespace {

using internal::NearestMode;
using internal::ResizeAttrs;
using internal::ResizeCoordMode;
using internal::ResizeGeometry;
using internal::ResizeMode;

struct Tap {
  int64_t index;
  double weight;
};

struct AxisPlan {
  std::vector<int64_t> begin;  // out + 1 entries into taps.
  std::vector<Tap> taps;
  std::vector<bool> extrapolate;
  bool identity = true;
};

double SourceCoordinate(const ResizeAttrs& a, const ResizeGeometry& g, int axis,
                        int64_t o, int64_t in) {
  const double scale = g.scales[axis];
  const double length = g.resized_length[axis];
  const double x = static_cast<double>(o);
  switch (a.coord) {
    case ResizeCoordMode::kHalfPixel:
      return (x + 0.5) / scale - 0.5;
    case ResizeCoordMode::kPytorchHalfPixel:
      return length > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
    case ResizeCoordMode::kAlignCorners:
      return length == 1 ? 0.0 : x * (in - 1) / (length - 1);
    case ResizeCoordMode::kAsymmetric:
      return x / scale;
    case ResizeCoordMode::kTfHalfPixelForNn:
      return (x + 0.5) / scale;
    case ResizeCoordMode::kTfCropAndResize: {
      const double s = g.roi_start[axis], e = g.roi_end[axis];
      if (length > 1)
        return s * (in - 1) + x * (e - s) * (in - 1) / (length - 1);
      return 0.5 * (s + e) * (in - 1);
    }
  }
  return x;
}

int64_t NearestIndex(const ResizeAttrs& a, double x, double scale) {
  const double fl = std::floor(x);
  if (x == fl) return static_cast<int64_t>(fl);
  const double frac = x - fl;
  switch (a.nearest) {
    case NearestMode::kRoundPreferFloor:
      return static_cast<int64_t>(frac <= 0.5 ? fl : fl + 1);
    case NearestMode::kRoundPreferCeil:
      return static_cast<int64_t>(frac < 0.5 ? fl : fl + 1);
    case NearestMode::kFloor:
      return static_cast<int64_t>(fl);
    case NearestMode::kCeil:
      return static_cast<int64_t>(fl + 1);
    case NearestMode::kSimple:
      return static_cast<int64_t>(scale < 1 ? fl + 1 : fl);
  }
  return static_cast<int64_t>(fl);
}

AxisPlan PlanAxis(const ResizeAttrs& a, const ResizeGeometry& g, int axis,
                  int64_t in) {
  AxisPlan plan;
  const int64_t out = g.out_dims[axis];
  plan.identity = out == in;
  plan.extrapolate.assign(out, false);
  auto clamp = [in](int64_t i) { return i < 0 ? 0 : (i >= in ? in - 1 : i); };
  for (int64_t o = 0; o < out; ++o) {
    plan.begin.push_back(static_cast<int64_t>(plan.taps.size()));
    const double x = SourceCoordinate(a, g, axis, o, in);
    if (a.coord == ResizeCoordMode::kTfCropAndResize &&
        (x < 0 || x > static_cast<double>(in - 1))) {
      plan.extrapolate[o] = true;
      plan.identity = false;
      continue;
    }
    // Keep the arithmetic below far from int64 overflow.
    const double xc =
        std::fmax(-4.0, std::fmin(x, static_cast<double>(in) + 4));
    if (a.mode == ResizeMode::kNearest) {
      plan.taps.push_back({clamp(NearestIndex(a, xc, g.scales[axis])), 1.0});
    } else if (a.mode == ResizeMode::kLinear) {
      const double fl = std::floor(xc);
      const double t = xc - fl;
      const int64_t i0 = static_cast<int64_t>(fl);
      plan.taps.push_back({clamp(i0), 1.0 - t});
      if (t != 0) plan.taps.push_back({clamp(i0 + 1), t});
    } else {
      const double fl = std::floor(xc);
      const double t = xc - fl;
      const int64_t i0 = static_cast<int64_t>(fl);
      const double A = a.cubic_a;
      const double u = 1 - t;
      double c[4] = {
          ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A,
          ((A + 2) * t - (A + 3)) * t * t + 1,
          ((A + 2) * u - (A + 3)) * u * u + 1,
          ((A * (u + 1) - 5 * A) * (u + 1) + 8 * A) * (u + 1) - 4 * A,
      };
      if (a.exclude_outside) {
        double sum = 0;
        for (int k = 0; k < 4; ++k) {
          const int64_t idx = i0 - 1 + k;
          if (idx < 0 || idx >= in) c[k] = 0;
          sum += c[k];
        }
        if (sum != 0) {
          for (double& v : c) v /= sum;
        }
      }
      for (int k = 0; k < 4; ++k) {
        if (c[k] != 0) plan.taps.push_back({clamp(i0 - 1 + k), c[k]});
      }
    }
    const int64_t n =
        static_cast<int64_t>(plan.taps.size()) - plan.begin.back();
    if (n != 1 || plan.taps.back().index != o ||
        plan.taps.back().weight != 1.0) {
      plan.identity = false;
    }
  }
  plan.begin.push_back(static_cast<int64_t>(plan.taps.size()));
  return plan;
}

std::vector<double> ToDoubles(const Tensor& t) {
  std::vector<double> v(t.num_elements());
  for (int64_t i = 0; i < t.num_elements(); ++i) v[i] = t.GetAsDouble(i);
  return v;
}

template <typename T>
absl::Status ResizeKernel(KernelContext& ctx) {
  const Node& node = ctx.node();
  QFORGE_ASSIGN_OR_RETURN(ResizeAttrs attrs, internal::ReadResizeAttrs(node));
  const Tensor& x = *ctx.input(0);
  const int rank = x.rank();
  const Layout layout = node.layout();
  std::vector<double> scales, roi;
  std::vector<int64_t> sizes;
  if (attrs.scales_input < 0) {
    QFORGE_ASSIGN_OR_RETURN(std::vector<float> s, node.GetFloats("scales", {}));
    scales.assign(s.begin(), s.end());
  } else if (const Tensor* t = ctx.input(attrs.scales_input)) {
    if (!IsFloatingPoint(t->dtype())) {
      return ctx.Error(
          absl::StrCat("scales ", t->DebugString(), " must be float"));
    }
    scales = ToDoubles(*t);
  }
  if (attrs.sizes_input >= 0) {
    if (const Tensor* t = ctx.input(attrs.sizes_input)) {
      if (t->dtype() != DataType::kInt64) {
        return ctx.Error(
            absl::StrCat("sizes ", t->DebugString(), " must be int64"));
      }
      sizes = t->ToVector<int64_t>();
    }
  }
  if (attrs.roi_input >= 0) {
    if (const Tensor* t = ctx.input(attrs.roi_input)) {
      if (!IsFloatingPoint(t->dtype())) {
        return ctx.Error(
            absl::StrCat("roi ", t->DebugString(), " must be float"));
      }
      roi = ToDoubles(*t);
    }
  }
  if (scales.size() == static_cast<size_t>(rank)) {
    scales = internal::NchwToLayout(scales, layout);
  }
  if (sizes.size() == static_cast<size_t>(rank)) {
    sizes = internal::NchwToLayout(sizes, layout);
  }
  if (roi.size() == 2 * static_cast<size_t>(rank)) {
    roi = internal::NchwRoiToLayout(roi, layout);
  }
  QFORGE_ASSIGN_OR_RETURN(
      ResizeGeometry g, internal::ComputeResizeGeometry(node, attrs, x.dims(),
                                                        &scales, &sizes, &roi));
  Tensor& y = *ctx.output(0);
  y.Reset(DataTypeOf<T>(), g.out_dims);
  if (y.empty()) return absl::OkStatus();
  if (x.empty()) {
    return ctx.Error(absl::StrCat("cannot resize the empty input ",
                                  x.DebugString(), " to ",
                                  DimsToString(g.out_dims)));
  }
  std::vector<int64_t> dims = x.dims();
  std::vector<double> cur(x.num_elements());
  const T* xd = x.data<T>();
  for (int64_t i = 0; i < x.num_elements(); ++i)
    cur[i] = static_cast<double>(xd[i]);
  std::vector<double> next;
  // Shrinking axes first keeps the intermediate tensors small.
  std::vector<int> axes(rank);
  for (int i = 0; i < rank; ++i) axes[i] = i;
  std::stable_sort(axes.begin(), axes.end(), [&](int a, int b) {
    return static_cast<double>(g.out_dims[a]) / dims[a] <
           static_cast<double>(g.out_dims[b]) / dims[b];
  });
  for (int axis : axes) {
    const int64_t in = dims[axis];
    AxisPlan plan = PlanAxis(attrs, g, axis, in);
    if (plan.identity) continue;
    const int64_t out = g.out_dims[axis];
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; ++i) outer *= dims[i];
    for (int i = axis + 1; i < rank; ++i) inner *= dims[i];
    next.assign(outer * out * inner, 0.0);
    for (int64_t b = 0; b < outer; ++b) {
      const double* src = cur.data() + b * in * inner;
      double* dst_base = next.data() + b * out * inner;
      for (int64_t o = 0; o < out; ++o) {
        double* dst = dst_base + o * inner;
        if (plan.extrapolate[o]) {
          std::fill(dst, dst + inner, attrs.extrapolation_value);
          continue;
        }
        for (int64_t t = plan.begin[o]; t < plan.begin[o + 1]; ++t) {
          const double w = plan.taps[t].weight;
          const double* s = src + plan.taps[t].index * inner;
          for (int64_t i = 0; i < inner; ++i) dst[i] += w * s[i];
        }
      }
    }
    cur.swap(next);
    dims[axis] = out;
  }
  T* yd = y.data<T>();
  for (int64_t i = 0; i < y.num_elements(); ++i) yd[i] = static_cast<T>(cur[i]);
  return absl::OkStatus();
}

}  // namespace

absl::Status RegisterResizeFloatKernels(KernelTable& table) {
  for (const char* op : {"Resize", "Upsample"}) {
    QFORGE_RETURN_IF_ERROR(table.Register(
        {{"", op}, DataType::kFloat32, StatelessKernel(ResizeKernel<float>)}));
    QFORGE_RETURN_IF_ERROR(table.Register(
        {{"", op}, DataType::kFloat64, StatelessKernel(ResizeKernel<double>)}));
  }
  return absl::OkStatus();
}

}  // namespace qforge::kernels
