// Float (and int8/uint8 MaxPool) pooling kernels, ONNX semantics, NCHW and
// NHWC activations.
//
// A PoolPlan lists, for every output position, the valid input positions of
// its window (padding excluded) once per run; the loops then combine them
// per channel. AveragePool accumulates in double; its divisor is the number
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
  int64_t n = 0, c = 0;
  std::vector<int64_t> in, out;
  int64_t in_size = 1, out_size = 1;
  std::vector<int64_t> out_dims;      // In the layout's order.
  std::vector<int64_t> tap_begin;     // out_size + 1 entries into `taps`.
  std::vector<int64_t> taps;          // Row-major spatial offsets.
  std::vector<int64_t> include_pad;   // Taps inside the padded input, per output.
};

bool Next(std::vector<int64_t>& idx, const std::vector<int64_t>& extent) {
  for (int d = static_cast<int>(idx.size()) - 1; d >= 0; --d) {
    if (++idx[d] < extent[d]) return true;
    idx[d] = 0;
  }
  return false;
}

absl::StatusOr<PoolPlan> MakePoolPlan(const KernelContext& ctx, const Tensor& x) {
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
  QFORGE_ASSIGN_OR_RETURN(SpatialParams p,
                          internal::ReadSpatialParams(node, ns, nullptr, true));
  plan.n = x.dim(0);
  plan.c = x.dim(ChannelAxis(plan.layout, rank));
  // Per axis and output index: valid input coordinates, and taps inside the
  // padded extent.
  std::vector<std::vector<std::vector<int64_t>>> axis_taps(ns);
  std::vector<std::vector<int64_t>> axis_include(ns);
  for (int i = 0; i < ns; ++i) {
    const int64_t in = x.dim(SpatialAxis(plan.layout, i));
    QFORGE_ASSIGN_OR_RETURN(internal::SpatialDim d,
                            internal::ComputeSpatialDim(node, p, i, in));
    plan.in.push_back(in);
    plan.out.push_back(d.out);
    plan.in_size *= in;
    plan.out_size *= d.out;
    axis_taps[i].resize(d.out);
    axis_include[i].resize(d.out);
    for (int64_t o = 0; o < d.out; ++o) {
      const int64_t start = o * p.strides[i] - d.pad_begin;
      int64_t include = 0;
      for (int64_t j = 0; j < p.kernel[i]; ++j) {
        const int64_t pos = start + j * p.dilations[i];
        if (pos >= -d.pad_begin && pos < in + d.pad_end) ++include;
        if (pos >= 0 && pos < in) axis_taps[i][o].push_back(pos);
      }
      axis_include[i][o] = include;
    }
  }
  plan.out_dims.push_back(plan.n);
  if (plan.layout == Layout::kNCHW) plan.out_dims.push_back(plan.c);
  for (int64_t o : plan.out) plan.out_dims.push_back(o);
  if (plan.layout == Layout::kNHWC) plan.out_dims.push_back(plan.c);
  if (plan.out_size == 0) return plan;

  plan.tap_begin.reserve(plan.out_size + 1);
  plan.include_pad.reserve(plan.out_size);
  std::vector<int64_t> oidx(ns, 0);
  std::vector<int64_t> tidx(ns, 0);
  std::vector<int64_t> tcount(ns, 0);
  do {
    plan.tap_begin.push_back(static_cast<int64_t>(plan.taps.size()));
    int64_t include = 1;
    bool empty = false;
    for (int i = 0; i < ns; ++i) {
      include *= axis_include[i][oidx[i]];
      tcount[i] = static_cast<int64_t>(axis_taps[i][oidx[i]].size());
      if (tcount[i] == 0) empty = true;
    }
    plan.include_pad.push_back(include);
    if (!empty) {
      std::fill(tidx.begin(), tidx.end(), 0);
      do {
        int64_t offset = 0;
        for (int i = 0; i < ns; ++i) {
          offset = offset * plan.in[i] + axis_taps[i][oidx[i]][tidx[i]];
        }
        plan.taps.push_back(offset);
      } while (Next(tidx, tcount));
    }
  } while (Next(oidx, plan.out));
  plan.tap_begin.push_back(static_cast<int64_t>(plan.taps.size()));
  return plan;
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
  const T* xd = x.data<T>();
  T* yd = y.data<T>();
  int64_t* id = indices != nullptr ? indices->data<int64_t>() : nullptr;
  std::vector<int64_t> spatial_index;  // Tap offset -> reported index.
  if (id != nullptr && storage_order == 1) {
    spatial_index.resize(plan.in_size);
    for (int64_t s = 0; s < plan.in_size; ++s) {
      spatial_index[s] = ColumnMajor(s, plan.in);
    }
  }
  auto report = [&](int64_t tap) {
    return spatial_index.empty() ? tap : spatial_index[tap];
  };
  const T lowest = std::numeric_limits<T>::lowest();
  const int64_t s_in = plan.in_size, s_out = plan.out_size, c_n = plan.c;
  if (plan.layout == Layout::kNCHW) {
    for (int64_t nc = 0; nc < plan.n * c_n; ++nc) {
      const T* xc = xd + nc * s_in;
      for (int64_t p = 0; p < s_out; ++p) {
        T best = lowest;
        int64_t best_tap = -1;
        for (int64_t t = plan.tap_begin[p]; t < plan.tap_begin[p + 1]; ++t) {
          const T v = xc[plan.taps[t]];
          if (best_tap < 0 || v > best) {
            if (!(v == v)) continue;  // NaN never wins.
            best = v;
            best_tap = plan.taps[t];
          }
        }
        yd[nc * s_out + p] = best;
        if (id != nullptr) {
          id[nc * s_out + p] = nc * s_in + (best_tap < 0 ? 0 : report(best_tap));
        }
      }
    }
    return absl::OkStatus();
  }
  std::vector<int64_t> best_tap(c_n);
  for (int64_t n = 0; n < plan.n; ++n) {
    const T* xn = xd + n * s_in * c_n;
    for (int64_t p = 0; p < s_out; ++p) {
      T* yp = yd + (n * s_out + p) * c_n;
      std::fill(yp, yp + c_n, lowest);
      std::fill(best_tap.begin(), best_tap.end(), -1);
      for (int64_t t = plan.tap_begin[p]; t < plan.tap_begin[p + 1]; ++t) {
        const int64_t tap = plan.taps[t];
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
  return absl::OkStatus();
}

template <typename T>
absl::Status AveragePoolKernel(KernelContext& ctx) {
  const Tensor& x = *ctx.input(0);
  QFORGE_ASSIGN_OR_RETURN(PoolPlan plan, MakePoolPlan(ctx, x));
  QFORGE_ASSIGN_OR_RETURN(int64_t cip, ctx.node().GetInt("count_include_pad", 0));
  if (cip != 0 && cip != 1) {
    return ctx.Error(absl::StrCat("attribute 'count_include_pad' is ", cip,
                                  ", expected 0 or 1"));
  }
  Tensor& y = *ctx.output(0);
  y.Reset(DataTypeOf<T>(), plan.out_dims);
  if (y.empty()) return absl::OkStatus();
  const T* xd = x.data<T>();
  T* yd = y.data<T>();
  const int64_t s_in = plan.in_size, s_out = plan.out_size, c_n = plan.c;
  auto divisor = [&](int64_t p) -> double {
    const int64_t d =
        cip ? plan.include_pad[p] : plan.tap_begin[p + 1] - plan.tap_begin[p];
    return d > 0 ? static_cast<double>(d) : 0.0;
  };
  if (plan.layout == Layout::kNCHW) {
    for (int64_t nc = 0; nc < plan.n * c_n; ++nc) {
      const T* xc = xd + nc * s_in;
      for (int64_t p = 0; p < s_out; ++p) {
        double sum = 0;
        for (int64_t t = plan.tap_begin[p]; t < plan.tap_begin[p + 1]; ++t) {
          sum += static_cast<double>(xc[plan.taps[t]]);
        }
        const double d = divisor(p);
        yd[nc * s_out + p] = static_cast<T>(d > 0 ? sum / d : 0.0);
      }
    }
    return absl::OkStatus();
  }
  std::vector<double> acc(c_n);
  for (int64_t n = 0; n < plan.n; ++n) {
    const T* xn = xd + n * s_in * c_n;
    for (int64_t p = 0; p < s_out; ++p) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t t = plan.tap_begin[p]; t < plan.tap_begin[p + 1]; ++t) {
        const T* xp = xn + plan.taps[t] * c_n;
        for (int64_t c = 0; c < c_n; ++c) acc[c] += static_cast<double>(xp[c]);
      }
      const double d = divisor(p);
      T* yp = yd + (n * s_out + p) * c_n;
      for (int64_t c = 0; c < c_n; ++c) {
        yp[c] = static_cast<T>(d > 0 ? acc[c] / d : 0.0);
      }
    }
  }
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
  QFORGE_RETURN_IF_ERROR(table.Register(
      {{"", "MaxPool"}, DataType::kFloat32, StatelessKernel(MaxPoolKernel<float>)}));
  QFORGE_RETURN_IF_ERROR(table.Register(
      {{"", "MaxPool"}, DataType::kFloat64, StatelessKernel(MaxPoolKernel<double>)}));
  QFORGE_RETURN_IF_ERROR(table.Register(
      {{"", "MaxPool"}, DataType::kInt8, StatelessKernel(MaxPoolKernel<int8_t>)}));
  QFORGE_RETURN_IF_ERROR(table.Register(
      {{"", "MaxPool"}, DataType::kUint8, StatelessKernel(MaxPoolKernel<uint8_t>)}));
  QFORGE_RETURN_IF_ERROR(table.Register({{"", "AveragePool"}, DataType::kFloat32,
                                         StatelessKernel(AveragePoolKernel<float>)}));
  QFORGE_RETURN_IF_ERROR(table.Register({{"", "AveragePool"}, DataType::kFloat64,
                                         StatelessKernel(AveragePoolKernel<double>)}));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "GlobalAveragePool"}, DataType::kFloat32,
                      StatelessKernel(GlobalPoolKernel<float, false>)}));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "GlobalAveragePool"}, DataType::kFloat64,
                      StatelessKernel(GlobalPoolKernel<double, false>)}));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "GlobalMaxPool"}, DataType::kFloat32,
                      StatelessKernel(GlobalPoolKernel<float, true>)}));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "GlobalMaxPool"}, DataType::kFloat64,
                      StatelessKernel(GlobalPoolKernel<double, true>)}));
  return absl::OkStatus();
}

}  // namespace qforge::kernels
