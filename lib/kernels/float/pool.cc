// Float (and int8/uint8 MaxPool) pooling kernels, ONNX semantics, NCHW and
// NHWC activations.
//
// A PoolPlan records, per spatial axis and output index, which taps of the
// window fall inside the input (and inside the padded input); the loops
// expand one output position's taps at a time and combine them for every
// channel. AveragePool accumulates in double; its divisor is the number
// of valid taps (count_include_pad=0) or the number of taps inside the
// padded input (count_include_pad=1; taps past the end padding, possible
// with ceil_mode, never count). A window with no valid tap yields 0 for
// AveragePool and the lowest value of T for MaxPool.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/spatial_params.h"
#include "kernels/float/nn_kernels.h"
#include "qforge/core/status.h"

namespace qforge::kernels {
namespace {

using internal::ChannelAxis;
using internal::SpatialAxis;
using internal::SpatialParams;

struct PoolPlan {
  Layout layout = Layout::kNCHW;
  int ns = 0;
  int64_t n = 0, c = 0;
  std::vector<int64_t> in, out;
  int64_t in_size = 1, out_size = 1;
  std::vector<int64_t> out_dims;  // In the layout's order.
  // Per spatial axis and output index: the first valid input position, the
  // number of valid taps (spaced by the dilation) and the number of taps
  // inside the padded extent.
  std::vector<std::vector<int64_t>> first, count, include;
  std::vector<int64_t> step;
  std::vector<int64_t> spatial_stride;  // Row-major strides of the input.
  SpatialParams params;
  std::vector<internal::SpatialDim> dims;
};

int64_t FloorDiv(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

absl::StatusOr<PoolPlan> MakePoolPlan(const KernelContext& ctx,
                                      const Tensor& x) {
  const Node& node = ctx.node();
  PoolPlan plan;
  plan.layout = node.layout();
  const int rank = x.rank();
  if (rank < 3) {
    return ctx.Error(absl::StrCat("input X ", x.DebugString(),
                                  " needs rank >= 3 ([N, C, D1, ...], layout ",
                                  LayoutName(plan.layout), ")"));
  }
  const int ns = rank - 2;
  plan.ns = ns;
  QFORGE_ASSIGN_OR_RETURN(SpatialParams p,
                          internal::ReadSpatialParams(node, ns, nullptr, true));
  plan.n = x.dim(0);
  plan.c = x.dim(ChannelAxis(plan.layout, rank));
  std::vector<internal::SpatialDim> dims;
  for (int i = 0; i < ns; ++i) {
    const int64_t in = x.dim(SpatialAxis(plan.layout, i));
    QFORGE_ASSIGN_OR_RETURN(internal::SpatialDim d,
                            internal::ComputeSpatialDim(node, p, i, in));
    dims.push_back(d);
    plan.in.push_back(in);
    plan.out.push_back(d.out);
    plan.in_size *= in;
  }
  plan.out_dims.push_back(plan.n);
  if (plan.layout == Layout::kNCHW) plan.out_dims.push_back(plan.c);
  for (int64_t o : plan.out) plan.out_dims.push_back(o);
  if (plan.layout == Layout::kNHWC) plan.out_dims.push_back(plan.c);
  plan.spatial_stride.assign(ns, 1);
  for (int i = ns - 2; i >= 0; --i) {
    plan.spatial_stride[i] = plan.spatial_stride[i + 1] * plan.in[i + 1];
  }
  plan.params = p;
  plan.dims = dims;
  QFORGE_RETURN_IF_ERROR(internal::CheckOutputSize(node, plan.out_dims));
  for (int64_t o : plan.out) plan.out_size *= o;
  return plan;
}

// Fills the per-axis window tables (once the output is known to be small
// enough to allocate).
void BuildWindows(PoolPlan& plan) {
  const SpatialParams& p = plan.params;
  const int ns = plan.ns;
  plan.step = p.dilations;
  plan.first.assign(ns, {});
  plan.count.assign(ns, {});
  plan.include.assign(ns, {});
  for (int i = 0; i < ns; ++i) {
    const int64_t in = plan.in[i], k = p.kernel[i], d = p.dilations[i];
    for (int64_t o = 0; o < plan.out[i]; ++o) {
      const int64_t start = o * p.strides[i] - plan.dims[i].pad_begin;
      // Taps j in [0, k) with start + j * d in [0, in).
      const int64_t lo = start >= 0 ? 0 : (-start + d - 1) / d;
      const int64_t hi = std::min(k - 1, FloorDiv(in - 1 - start, d));
      // Taps inside [-pad_begin, in + pad_end); start >= -pad_begin.
      const int64_t hi_pad =
          std::min(k - 1, FloorDiv(in + plan.dims[i].pad_end - 1 - start, d));
      plan.first[i].push_back(start + lo * d);
      plan.count[i].push_back(std::max<int64_t>(0, hi - lo + 1));
      plan.include[i].push_back(std::max<int64_t>(0, hi_pad + 1));
    }
  }
}

// The valid taps (row-major spatial offsets) of output position `oidx`;
// returns the count of taps inside the padded input.
int64_t WindowTaps(const PoolPlan& plan, const std::vector<int64_t>& oidx,
                   std::vector<int64_t>& tidx, std::vector<int64_t>& taps) {
  taps.clear();
  int64_t include = 1;
  bool empty = false;
  for (int i = 0; i < plan.ns; ++i) {
    include *= plan.include[i][oidx[i]];
    if (plan.count[i][oidx[i]] == 0) empty = true;
  }
  if (empty) return include;
  const int last = plan.ns - 1;
  const int64_t first_last = plan.first[last][oidx[last]];
  const int64_t count_last = plan.count[last][oidx[last]];
  const int64_t step_last = plan.step[last];
  std::fill(tidx.begin(), tidx.end(), 0);
  while (true) {
    int64_t base = 0;
    for (int i = 0; i < last; ++i) {
      base += (plan.first[i][oidx[i]] + tidx[i] * plan.step[i]) *
              plan.spatial_stride[i];
    }
    for (int64_t t = 0; t < count_last; ++t) {
      taps.push_back(base + first_last + t * step_last);
    }
    int i = last - 1;
    for (; i >= 0; --i) {
      if (++tidx[i] < plan.count[i][oidx[i]]) break;
      tidx[i] = 0;
    }
    if (i < 0) break;
  }
  return include;
}

bool Next(std::vector<int64_t>& idx, const std::vector<int64_t>& extent) {
  for (int d = static_cast<int>(idx.size()) - 1; d >= 0; --d) {
    if (++idx[d] < extent[d]) return true;
    idx[d] = 0;
  }
  return false;
}

// Row-major spatial offset -> column-major one (storage_order = 1).
int64_t ColumnMajor(int64_t offset, const std::vector<int64_t>& in) {
  const int ns = static_cast<int>(in.size());
  std::vector<int64_t> idx(ns);
  for (int i = ns - 1; i >= 0; --i) {
    idx[i] = offset % in[i];
    offset /= in[i];
  }
  int64_t cm = 0;
  for (int i = ns - 1; i >= 0; --i) cm = cm * in[i] + idx[i];
  return cm;
}

template <typename T>
absl::Status MaxPoolKernel(KernelContext& ctx) {
  const Tensor& x = *ctx.input(0);
  QFORGE_ASSIGN_OR_RETURN(PoolPlan plan, MakePoolPlan(ctx, x));
  QFORGE_ASSIGN_OR_RETURN(int64_t storage_order,
                          ctx.node().GetInt("storage_order", 0));
  if (storage_order != 0 && storage_order != 1) {
    return ctx.Error(absl::StrCat("attribute 'storage_order' is ",
                                  storage_order, ", expected 0 or 1"));
  }
  Tensor& y = *ctx.output(0);
  y.Reset(DataTypeOf<T>(), plan.out_dims);
  Tensor* indices = ctx.output(1);
  if (indices != nullptr) indices->Reset(DataType::kInt64, plan.out_dims);
  if (y.empty()) return absl::OkStatus();
  BuildWindows(plan);
  const T* xd = x.data<T>();
  T* yd = y.data<T>();
  int64_t* id = indices != nullptr ? indices->data<int64_t>() : nullptr;
  const bool column_major = id != nullptr && storage_order == 1;
  auto report = [&](int64_t tap) {
    return column_major ? ColumnMajor(tap, plan.in) : tap;
  };
  const T lowest = std::numeric_limits<T>::lowest();
  const int64_t s_in = plan.in_size, s_out = plan.out_size, c_n = plan.c;
  const int64_t nc_n = plan.n * c_n;
  std::vector<int64_t> oidx(plan.ns, 0), tidx(plan.ns, 0), taps;
  std::vector<int64_t> best_tap(plan.layout == Layout::kNCHW ? 1 : c_n);
  int64_t p = 0;
  do {
    WindowTaps(plan, oidx, tidx, taps);
    if (plan.layout == Layout::kNCHW) {
      for (int64_t nc = 0; nc < nc_n; ++nc) {
        const T* xc = xd + nc * s_in;
        T best = lowest;
        int64_t best_t = -1;
        for (int64_t tap : taps) {
          const T v = xc[tap];
          if ((best_t < 0 || v > best) && v == v) {  // NaN never wins.
            best = v;
            best_t = tap;
          }
        }
        yd[nc * s_out + p] = best;
        if (id != nullptr) {
          id[nc * s_out + p] = nc * s_in + (best_t < 0 ? 0 : report(best_t));
        }
      }
    } else {
      for (int64_t n = 0; n < plan.n; ++n) {
        const T* xn = xd + n * s_in * c_n;
        T* yp = yd + (n * s_out + p) * c_n;
        std::fill(yp, yp + c_n, lowest);
        std::fill(best_tap.begin(), best_tap.end(), -1);
        for (int64_t tap : taps) {
          const T* xp = xn + tap * c_n;
          for (int64_t c = 0; c < c_n; ++c) {
            const T v = xp[c];
            if ((best_tap[c] < 0 || v > yp[c]) && v == v) {
              yp[c] = v;
              best_tap[c] = tap;
            }
          }
        }
        if (id != nullptr) {
          int64_t* ip = id + (n * s_out + p) * c_n;
          for (int64_t c = 0; c < c_n; ++c) {
            ip[c] = (n * c_n + c) * s_in +
                    (best_tap[c] < 0 ? 0 : report(best_tap[c]));
          }
        }
      }
    }
    ++p;
  } while (Next(oidx, plan.out));
  return absl::OkStatus();
}

template <typename T>
absl::Status AveragePoolKernel(KernelContext& ctx) {
  const Tensor& x = *ctx.input(0);
  QFORGE_ASSIGN_OR_RETURN(PoolPlan plan, MakePoolPlan(ctx, x));
  QFORGE_ASSIGN_OR_RETURN(int64_t cip,
                          ctx.node().GetInt("count_include_pad", 0));
  if (cip != 0 && cip != 1) {
    return ctx.Error(absl::StrCat("attribute 'count_include_pad' is ", cip,
                                  ", expected 0 or 1"));
  }
  Tensor& y = *ctx.output(0);
  y.Reset(DataTypeOf<T>(), plan.out_dims);
  if (y.empty()) return absl::OkStatus();
  BuildWindows(plan);
  const T* xd = x.data<T>();
  T* yd = y.data<T>();
  const int64_t s_in = plan.in_size, s_out = plan.out_size, c_n = plan.c;
  const int64_t nc_n = plan.n * c_n;
  std::vector<int64_t> oidx(plan.ns, 0), tidx(plan.ns, 0), taps;
  std::vector<double> acc(c_n);
  int64_t p = 0;
  do {
    const int64_t include = WindowTaps(plan, oidx, tidx, taps);
    const int64_t d = cip ? include : static_cast<int64_t>(taps.size());
    if (plan.layout == Layout::kNCHW) {
      for (int64_t nc = 0; nc < nc_n; ++nc) {
        const T* xc = xd + nc * s_in;
        double sum = 0;
        for (int64_t tap : taps) sum += static_cast<double>(xc[tap]);
        yd[nc * s_out + p] = static_cast<T>(d > 0 ? sum / d : 0.0);
      }
    } else {
      for (int64_t n = 0; n < plan.n; ++n) {
        const T* xn = xd + n * s_in * c_n;
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t tap : taps) {
          const T* xp = xn + tap * c_n;
          for (int64_t c = 0; c < c_n; ++c)
            acc[c] += static_cast<double>(xp[c]);
        }
        T* yp = yd + (n * s_out + p) * c_n;
        for (int64_t c = 0; c < c_n; ++c) {
          yp[c] = static_cast<T>(d > 0 ? acc[c] / d : 0.0);
        }
      }
    }
    ++p;
  } while (Next(oidx, plan.out));
  return absl::OkStatus();
}

template <typename T, bool kMax>
absl::Status GlobalPoolKernel(KernelContext& ctx) {
  const Tensor& x = *ctx.input(0);
  const int rank = x.rank();
  if (rank < 2) {
    return ctx.Error(absl::StrCat("input X ", x.DebugString(),
                                  " needs rank >= 2 ([N, C, ...])"));
  }
  const Layout layout = rank >= 3 ? ctx.node().layout() : Layout::kNCHW;
  const int caxis = ChannelAxis(layout, rank);
  const int64_t n_n = x.dim(0), c_n = x.dim(caxis);
  int64_t s = 1;
  std::vector<int64_t> out_dims = x.dims();
  for (int i = 1; i < rank; ++i) {
    if (i == caxis) continue;
    s *= x.dim(i);
    out_dims[i] = 1;
  }
  Tensor& y = *ctx.output(0);
  y.Reset(DataTypeOf<T>(), out_dims);
  if (y.empty()) return absl::OkStatus();
  const T* xd = x.data<T>();
  T* yd = y.data<T>();
  if (s == 0) {
    // No spatial positions: the mean is undefined; report NaN like numpy.
    std::fill(yd, yd + y.num_elements(),
              kMax ? std::numeric_limits<T>::lowest()
                   : std::numeric_limits<T>::quiet_NaN());
    return absl::OkStatus();
  }
  std::vector<double> acc(c_n);
  for (int64_t n = 0; n < n_n; ++n) {
    const T* xn = xd + n * s * c_n;
    if (layout == Layout::kNCHW) {
      for (int64_t c = 0; c < c_n; ++c) {
        const T* xc = xn + c * s;
        double a = kMax ? static_cast<double>(xc[0]) : 0.0;
        for (int64_t i = 0; i < s; ++i) {
          const double v = static_cast<double>(xc[i]);
          a = kMax ? (v > a || std::isnan(a) ? v : a) : a + v;
        }
        acc[c] = a;
      }
    } else {
      for (int64_t c = 0; c < c_n; ++c) {
        acc[c] = kMax ? static_cast<double>(xn[c]) : 0.0;
      }
      for (int64_t i = 0; i < s; ++i) {
        const T* xp = xn + i * c_n;
        for (int64_t c = 0; c < c_n; ++c) {
          const double v = static_cast<double>(xp[c]);
          acc[c] = kMax ? (v > acc[c] || std::isnan(acc[c]) ? v : acc[c])
                        : acc[c] + v;
        }
      }
    }
    for (int64_t c = 0; c < c_n; ++c) {
      yd[n * c_n + c] = static_cast<T>(kMax ? acc[c] : acc[c] / s);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RegisterPoolFloatKernels(KernelTable& table) {
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "MaxPool"},
                      DataType::kFloat32,
                      StatelessKernel(MaxPoolKernel<float>)}));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "MaxPool"},
                      DataType::kFloat64,
                      StatelessKernel(MaxPoolKernel<double>)}));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "MaxPool"},
                      DataType::kInt8,
                      StatelessKernel(MaxPoolKernel<int8_t>)}));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "MaxPool"},
                      DataType::kUint8,
                      StatelessKernel(MaxPoolKernel<uint8_t>)}));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "AveragePool"},
                      DataType::kFloat32,
                      StatelessKernel(AveragePoolKernel<float>)}));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "AveragePool"},
                      DataType::kFloat64,
                      StatelessKernel(AveragePoolKernel<double>)}));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "GlobalAveragePool"},
                      DataType::kFloat32,
                      StatelessKernel(GlobalPoolKernel<float, false>)}));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "GlobalAveragePool"},
                      DataType::kFloat64,
                      StatelessKernel(GlobalPoolKernel<double, false>)}));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "GlobalMaxPool"},
                      DataType::kFloat32,
                      StatelessKernel(GlobalPoolKernel<float, true>)}));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "GlobalMaxPool"},
                      DataType::kFloat64,
                      StatelessKernel(GlobalPoolKernel<double, true>)}));
  return absl::OkStatus();
}

}  // namespace qforge::kernels
