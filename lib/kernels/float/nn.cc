// Float kernels of the nn family: Gemm, MatMul, BatchNormalization,
// LayerNormalization, ReduceMean, and the registration of the whole family
// (Conv, pools and Resize live in conv.cc, pool.cc and resize.cc).
//
// Gemm and MatMul accumulate in T through Eigen (float32 on AVX2+FMA CPUs:
// through the AVX2 SGEMM, see sgemm.h; Gemm then needs alpha == 1).
// BatchNormalization,
// LayerNormalization and ReduceMean compute their statistics in double and
// round the result to T once.
#include <cmath>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "Eigen/Core"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/spatial_params.h"
#include "kernels/float/groups.h"
#include "kernels/float/nn_kernels.h"
#include "kernels/float/sgemm.h"
#include "qforge/core/status.h"

namespace qforge::kernels {
namespace {

template <typename T>
using RowMatrix =
    Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using ConstMap =
    Eigen::Map<const RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <typename T>
using MutMap = Eigen::Map<RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

absl::Status RequireDtype(const KernelContext& ctx, int i, DataType dtype,
                          absl::string_view what) {
  const Tensor* t = ctx.input(i);
  if (t == nullptr || t->dtype() == dtype) return absl::OkStatus();
  return ctx.Error(absl::StrCat(what, " ", t->DebugString(), " must be ",
                                DataTypeName(dtype), " like input 0 ",
                                ctx.input(0)->DebugString()));
}

// Right-aligned (numpy) broadcast of `t` to `target`, as doubles. Error
// unless every dim of `t` is 1 or equals the target's.
absl::StatusOr<std::vector<double>> ExpandTo(const KernelContext& ctx,
                                             const Tensor& t,
                                             const std::vector<int64_t>& target,
                                             absl::string_view what) {
  const int tr = static_cast<int>(target.size());
  const int r = t.rank();
  bool ok = r <= tr;
  for (int i = 0; ok && i < r; ++i) {
    const int64_t d = t.dim(i);
    if (d != 1 && d != target[tr - r + i]) ok = false;
  }
  if (!ok) {
    return ctx.Error(absl::StrCat(what, " ", t.DebugString(),
                                  " does not broadcast to ",
                                  DimsToString(target)));
  }
  // Strides of t aligned to target's axes (0 where broadcast).
  std::vector<int64_t> strides(tr, 0);
  int64_t s = 1;
  for (int i = r - 1; i >= 0; --i) {
    if (t.dim(i) != 1) strides[tr - r + i] = s;
    s *= t.dim(i);
  }
  const int64_t total = NumElements(target);
  std::vector<double> out(total);
  std::vector<int64_t> idx(tr, 0);
  int64_t offset = 0;
  for (int64_t i = 0; i < total; ++i) {
    out[i] = t.GetAsDouble(offset);
    for (int d = tr - 1; d >= 0; --d) {
      if (++idx[d] < target[d]) {
        offset += strides[d];
        break;
      }
      offset -= strides[d] * (target[d] - 1);
      idx[d] = 0;
    }
  }
  return out;
}

// --- Gemm --------------------------------------------------------------------

// `packed`: B pre-packed for the fast SGEMM (float32, constant B), or null.
template <typename T>
absl::Status GemmKernel(KernelContext& ctx, const PackedSgemmB* packed) {
  const Node& node = ctx.node();
  const Tensor& a = *ctx.input(0);
  const Tensor& b = *ctx.input(1);
  const Tensor* c = ctx.input(2);
  QFORGE_RETURN_IF_ERROR(RequireDtype(ctx, 1, DataTypeOf<T>(), "B"));
  QFORGE_RETURN_IF_ERROR(RequireDtype(ctx, 2, DataTypeOf<T>(), "C"));
  QFORGE_ASSIGN_OR_RETURN(int64_t trans_a, node.GetInt("transA", 0));
  QFORGE_ASSIGN_OR_RETURN(int64_t trans_b, node.GetInt("transB", 0));
  QFORGE_ASSIGN_OR_RETURN(float alpha, node.GetFloat("alpha", 1.0f));
  QFORGE_ASSIGN_OR_RETURN(float beta, node.GetFloat("beta", 1.0f));
  if (a.rank() != 2 || b.rank() != 2) {
    return ctx.Error(absl::StrCat("A ", a.DebugString(), " and B ",
                                  b.DebugString(), " must both be 2-D"));
  }
  const int64_t m = trans_a ? a.dim(1) : a.dim(0);
  const int64_t k = trans_a ? a.dim(0) : a.dim(1);
  const int64_t kb = trans_b ? b.dim(1) : b.dim(0);
  const int64_t n = trans_b ? b.dim(0) : b.dim(1);
  if (k != kb) {
    return ctx.Error(absl::StrCat("inner dimensions differ: A ",
                                  a.DebugString(), trans_a ? " (transA)" : "",
                                  " has K=", k, ", B ", b.DebugString(),
                                  trans_b ? " (transB)" : "", " has K=", kb));
  }
  Tensor& y = *ctx.output(0);
  y.Reset(DataTypeOf<T>(), {m, n});
  if (y.empty()) return absl::OkStatus();
  T* yd = y.data<T>();
  if (c != nullptr && beta != 0) {
    QFORGE_ASSIGN_OR_RETURN(std::vector<double> cv,
                            ExpandTo(ctx, *c, {m, n}, "C"));
    for (int64_t i = 0; i < m * n; ++i) {
      yd[i] = static_cast<T>(static_cast<T>(beta) * static_cast<T>(cv[i]));
    }
  } else if (c != nullptr) {
    // beta == 0: C only has to be valid.
    QFORGE_RETURN_IF_ERROR(ExpandTo(ctx, *c, {m, n}, "C").status());
  }
  if (k == 0) return absl::OkStatus();
  if constexpr (std::is_same_v<T, float>) {
    if (alpha == 1.0f && packed != nullptr && packed->k == k &&
        packed->n == n && node.input(1) != nullptr &&
        node.input(1)->is_constant() &&
        FastSgemmPacked(m, a.data<T>(), trans_a ? 1 : a.dim(1),
                        trans_a ? a.dim(1) : 1, *packed, yd, n, true)) {
      return absl::OkStatus();
    }
    if (alpha == 1.0f &&
        FastSgemm(m, n, k, a.data<T>(), trans_a ? 1 : a.dim(1),
                  trans_a ? a.dim(1) : 1, b.data<T>(), trans_b ? 1 : b.dim(1),
                  trans_b ? b.dim(1) : 1, yd, n, true)) {
      return absl::OkStatus();
    }
  }
  ConstMap<T> am(a.data<T>(), a.dim(0), a.dim(1),
                 Eigen::OuterStride<>(a.dim(1)));
  ConstMap<T> bm(b.data<T>(), b.dim(0), b.dim(1),
                 Eigen::OuterStride<>(b.dim(1)));
  MutMap<T> ym(yd, m, n, Eigen::OuterStride<>(n));
  const T al = static_cast<T>(alpha);
  if (!trans_a && !trans_b) {
    ym.noalias() += al * (am * bm);
  } else if (trans_a && !trans_b) {
    ym.noalias() += al * (am.transpose() * bm);
  } else if (!trans_a && trans_b) {
    ym.noalias() += al * (am * bm.transpose());
  } else {
    ym.noalias() += al * (am.transpose() * bm.transpose());
  }
  return absl::OkStatus();
}

// --- MatMul ------------------------------------------------------------------

template <typename T>
absl::Status MatMulKernel(KernelContext& ctx) {
  const Tensor& a = *ctx.input(0);
  const Tensor& b = *ctx.input(1);
  QFORGE_RETURN_IF_ERROR(RequireDtype(ctx, 1, DataTypeOf<T>(), "B"));
  if (a.rank() < 1 || b.rank() < 1) {
    return ctx.Error(absl::StrCat("inputs ", a.DebugString(), " and ",
                                  b.DebugString(), " need rank >= 1"));
  }
  std::vector<int64_t> ad = a.dims(), bd = b.dims();
  if (ad.size() == 1) ad.insert(ad.begin(), 1);
  if (bd.size() == 1) bd.push_back(1);
  const int64_t m = ad[ad.size() - 2], k = ad.back();
  const int64_t kb = bd[bd.size() - 2], n = bd.back();
  if (k != kb) {
    return ctx.Error(absl::StrCat("inner dimensions differ: A ",
                                  a.DebugString(), " has K=", k, ", B ",
                                  b.DebugString(), " has K=", kb));
  }
  const std::vector<int64_t> ab(ad.begin(), ad.end() - 2);
  const std::vector<int64_t> bb(bd.begin(), bd.end() - 2);
  const int br = static_cast<int>(std::max(ab.size(), bb.size()));
  std::vector<int64_t> batch(br), a_stride(br, 0), b_stride(br, 0);
  {
    int64_t sa = m * k, sb = k * n;
    for (int i = br - 1; i >= 0; --i) {
      const int ia = i - (br - static_cast<int>(ab.size()));
      const int ib = i - (br - static_cast<int>(bb.size()));
      const int64_t da = ia >= 0 ? ab[ia] : 1;
      const int64_t db = ib >= 0 ? bb[ib] : 1;
      if (da != db && da != 1 && db != 1) {
        return ctx.Error(absl::StrCat("batch dimensions of A ", a.DebugString(),
                                      " and B ", b.DebugString(),
                                      " do not broadcast"));
      }
      batch[i] = da == 1 ? db : da;
      if (da != 1) a_stride[i] = sa;
      if (db != 1) b_stride[i] = sb;
      sa *= da;
      sb *= db;
    }
  }
  std::vector<int64_t> out_dims = batch;
  if (a.rank() > 1) out_dims.push_back(m);
  if (b.rank() > 1) out_dims.push_back(n);
  Tensor& y = *ctx.output(0);
  y.Reset(DataTypeOf<T>(), out_dims);
  if (y.empty() || k == 0) return absl::OkStatus();
  const T* adata = a.data<T>();
  const T* bdata = b.data<T>();
  T* yd = y.data<T>();
  const int64_t batches = NumElements(batch);
  // B shared by every batch and A contiguous: one tall GEMM.
  bool b_shared = true;
  for (int64_t s : b_stride) b_shared = b_shared && s == 0;
  bool a_full = true;
  for (int i = 0; i < br; ++i)
    a_full = a_full && (a_stride[i] != 0 || batch[i] == 1);
  if (b_shared && a_full) {
    if constexpr (std::is_same_v<T, float>) {
      if (FastSgemm(batches * m, n, k, adata, k, 1, bdata, n, 1, yd, n,
                    false)) {
        return absl::OkStatus();
      }
    }
    ConstMap<T> am(adata, batches * m, k, Eigen::OuterStride<>(k));
    ConstMap<T> bm(bdata, k, n, Eigen::OuterStride<>(n));
    MutMap<T> ym(yd, batches * m, n, Eigen::OuterStride<>(n));
    ym.noalias() = am * bm;
    return absl::OkStatus();
  }
  std::vector<int64_t> idx(br, 0);
  int64_t ao = 0, bo = 0;
  for (int64_t i = 0; i < batches; ++i) {
    bool done = false;
    if constexpr (std::is_same_v<T, float>) {
      done = FastSgemm(m, n, k, adata + ao, k, 1, bdata + bo, n, 1,
                       yd + i * m * n, n, false);
    }
    if (!done) {
      ConstMap<T> am(adata + ao, m, k, Eigen::OuterStride<>(k));
      ConstMap<T> bm(bdata + bo, k, n, Eigen::OuterStride<>(n));
      MutMap<T> ym(yd + i * m * n, m, n, Eigen::OuterStride<>(n));
      ym.noalias() = am * bm;
    }
    for (int d = br - 1; d >= 0; --d) {
      if (++idx[d] < batch[d]) {
        ao += a_stride[d];
        bo += b_stride[d];
        break;
      }
      ao -= a_stride[d] * (batch[d] - 1);
      bo -= b_stride[d] * (batch[d] - 1);
      idx[d] = 0;
    }
  }
  return absl::OkStatus();
}

// --- BatchNormalization
// --------------------------------------------------------

template <typename T>
absl::Status BatchNormKernel(KernelContext& ctx) {
  const Node& node = ctx.node();
  QFORGE_ASSIGN_OR_RETURN(int64_t training, node.GetInt("training_mode", 0));
  if (training == 0) {
    for (int i = 1; i < ctx.num_outputs(); ++i) {
      if (ctx.output(i) != nullptr) {
        return ctx.Error(absl::StrCat(
            "output ", i, " (running mean/variance) exists only with training_mode=1"));
      }
    }
  }
  const Tensor& x = *ctx.input(0);
  if (x.rank() < 2) {
    return ctx.Error(absl::StrCat("input X ", x.DebugString(),
                                  " needs rank >= 2 ([N, C, ...])"));
  }
  const Layout layout = x.rank() >= 3 ? node.layout() : Layout::kNCHW;
  const int caxis = internal::ChannelAxis(layout, x.rank());
  const int64_t c = x.dim(caxis);
  static constexpr const char* kNames[] = {"X", "scale", "B", "input_mean",
                                           "input_var"};
  for (int i = 1; i < 5; ++i) {
    const Tensor* t = ctx.input(i);
    if (t == nullptr)
      return ctx.Error(absl::StrCat("input ", kNames[i], " is missing"));
    if (t->dtype() != x.dtype()) {
      return absl::UnimplementedError(absl::StrCat(
          node.Describe(), ": ", kNames[i], " ", t->DebugString(),
          " has another dtype than X ", x.DebugString(),
          "; mixed-precision BatchNormalization is not supported"));
    }
    if (t->rank() != 1 || t->dim(0) != c) {
      return ctx.Error(absl::StrCat(
          kNames[i], " ", t->DebugString(), " must be [", c, "] for X ",
          x.DebugString(), " (layout ", LayoutName(layout), ")"));
    }
  }
  QFORGE_ASSIGN_OR_RETURN(float epsilon, node.GetFloat("epsilon", 1e-5f));
  const T* scale = ctx.input(1)->data<T>();
  const T* bias = ctx.input(2)->data<T>();
  const T* mean = ctx.input(3)->data<T>();
  const T* var = ctx.input(4)->data<T>();
  std::vector<T> batch_mean, batch_var;
  if (training != 0) {
    // Training mode (opset 14+): normalize with the batch statistics
    // (population variance over every axis but the channel's) and output
    // running = input * momentum + batch * (1 - momentum).
    QFORGE_ASSIGN_OR_RETURN(float momentum, node.GetFloat("momentum", 0.9f));
    std::vector<double> sum(c, 0.0), sum_sq(c, 0.0);
    const int64_t per_channel = c > 0 ? x.num_elements() / c : 0;
    const T* xd = x.data<T>();
    int64_t inner_size = 1;
    for (int i = caxis + 1; i < x.rank(); ++i) inner_size *= x.dim(i);
    for (int64_t k = 0; k < x.num_elements(); ++k) {
      const int64_t ch = (k / inner_size) % c;
      const double v = static_cast<double>(xd[k]);
      sum[ch] += v;
      sum_sq[ch] += v * v;
    }
    batch_mean.resize(c);
    batch_var.resize(c);
    for (int i = 1; i <= 2; ++i) {
      if (Tensor* out = ctx.output(i)) out->Reset(ctx.input(3)->dtype(), {c});
    }
    for (int64_t i = 0; i < c; ++i) {
      const double m = per_channel > 0 ? sum[i] / per_channel : 0.0;
      const double v = per_channel > 0 ? std::max(sum_sq[i] / per_channel - m * m, 0.0) : 0.0;
      batch_mean[i] = static_cast<T>(m);
      batch_var[i] = static_cast<T>(v);
      if (Tensor* out = ctx.output(1)) {
        out->data<T>()[i] = static_cast<T>(mean[i] * momentum + m * (1.0 - momentum));
      }
      if (Tensor* out = ctx.output(2)) {
        out->data<T>()[i] = static_cast<T>(var[i] * momentum + v * (1.0 - momentum));
      }
    }
    mean = batch_mean.data();
    var = batch_var.data();
  }
  std::vector<T> mul(c), add(c);
  for (int64_t i = 0; i < c; ++i) {
    const double inv = 1.0 / std::sqrt(static_cast<double>(var[i]) +
                                       static_cast<double>(epsilon));
    const double s = static_cast<double>(scale[i]) * inv;
    mul[i] = static_cast<T>(s);
    add[i] = static_cast<T>(static_cast<double>(bias[i]) -
                            static_cast<double>(mean[i]) * s);
  }
  Tensor& y = *ctx.output(0);
  y.Reset(x.dtype(), x.dims());
  if (y.empty()) return absl::OkStatus();
  const T* xd = x.data<T>();
  T* yd = y.data<T>();
  if (layout == Layout::kNHWC) {
    const int64_t rows = x.num_elements() / c;
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t i = 0; i < c; ++i) {
        yd[r * c + i] = xd[r * c + i] * mul[i] + add[i];
      }
    }
    return absl::OkStatus();
  }
  int64_t inner = 1;
  for (int i = 2; i < x.rank(); ++i) inner *= x.dim(i);
  for (int64_t n = 0; n < x.dim(0); ++n) {
    for (int64_t i = 0; i < c; ++i) {
      const int64_t base = (n * c + i) * inner;
      for (int64_t j = 0; j < inner; ++j) {
        yd[base + j] = xd[base + j] * mul[i] + add[i];
      }
    }
  }
  return absl::OkStatus();
}

// --- LayerNormalization
// --------------------------------------------------------

template <typename T>
absl::Status LayerNormKernel(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& x = *ctx.input(0);
  const Tensor* scale = ctx.input(1);
  const Tensor* bias = ctx.input(2);
  QFORGE_RETURN_IF_ERROR(RequireDtype(ctx, 1, x.dtype(), "Scale"));
  QFORGE_RETURN_IF_ERROR(RequireDtype(ctx, 2, x.dtype(), "B"));
  if (scale == nullptr) return ctx.Error("input Scale is missing");
  QFORGE_ASSIGN_OR_RETURN(int64_t axis_attr, node.GetInt("axis", -1));
  QFORGE_ASSIGN_OR_RETURN(float epsilon, node.GetFloat("epsilon", 1e-5f));
  QFORGE_ASSIGN_OR_RETURN(int64_t stash, node.GetInt("stash_type", 1));
  if (stash != 1 && stash != 11) {
    return ctx.Error(absl::StrCat("attribute 'stash_type' is ", stash,
                                  ", expected 1 (float) or 11 (double)"));
  }
  const DataType stat_type =
      stash == 1 ? DataType::kFloat32 : DataType::kFloat64;
  const int rank = x.rank();
  if (rank < 1 || axis_attr < -rank || axis_attr >= rank) {
    return ctx.Error(absl::StrCat(
        "axis ", axis_attr, " is out of range for input ", x.DebugString()));
  }
  const int axis =
      static_cast<int>(axis_attr < 0 ? axis_attr + rank : axis_attr);
  const std::vector<int64_t> norm_dims(x.dims().begin() + axis, x.dims().end());
  const int64_t inner = NumElements(norm_dims);
  const int64_t outer = inner == 0 ? 0 : x.num_elements() / inner;
  QFORGE_ASSIGN_OR_RETURN(std::vector<double> sv,
                          ExpandTo(ctx, *scale, norm_dims, "Scale"));
  std::vector<double> bv;
  if (bias != nullptr) {
    QFORGE_ASSIGN_OR_RETURN(bv, ExpandTo(ctx, *bias, norm_dims, "B"));
  }
  std::vector<int64_t> stat_dims(x.dims().begin(), x.dims().begin() + axis);
  stat_dims.resize(rank, 1);
  Tensor& y = *ctx.output(0);
  y.Reset(x.dtype(), x.dims());
  Tensor* mean_out = ctx.output(1);
  Tensor* inv_out = ctx.output(2);
  if (mean_out != nullptr) mean_out->Reset(stat_type, stat_dims);
  if (inv_out != nullptr) inv_out->Reset(stat_type, stat_dims);
  const T* xd = x.data<T>();
  T* yd = y.data<T>();
  auto put = [&](Tensor* t, int64_t i, double v) {
    if (t == nullptr) return;
    if (stat_type == DataType::kFloat32) {
      t->data<float>()[i] = static_cast<float>(v);
    } else {
      t->data<double>()[i] = v;
    }
  };
  for (int64_t r = 0; r < outer; ++r) {
    const T* xr = xd + r * inner;
    T* yr = yd + r * inner;
    double sum = 0;
    for (int64_t i = 0; i < inner; ++i) sum += static_cast<double>(xr[i]);
    const double mean = sum / inner;
    double sq = 0;
    for (int64_t i = 0; i < inner; ++i) {
      const double d = static_cast<double>(xr[i]) - mean;
      sq += d * d;
    }
    const double inv =
        1.0 / std::sqrt(sq / inner + static_cast<double>(epsilon));
    for (int64_t i = 0; i < inner; ++i) {
      double v = (static_cast<double>(xr[i]) - mean) * inv * sv[i];
      if (!bv.empty()) v += bv[i];
      yr[i] = static_cast<T>(v);
    }
    put(mean_out, r, mean);
    put(inv_out, r, inv);
  }
  return absl::OkStatus();
}

// --- ReduceMean
// ----------------------------------------------------------------

template <typename T>
absl::Status ReduceMeanKernel(KernelContext& ctx) {
  const Node& node = ctx.node();
  const Tensor& x = *ctx.input(0);
  QFORGE_ASSIGN_OR_RETURN(int64_t keepdims, node.GetInt("keepdims", 1));
  QFORGE_ASSIGN_OR_RETURN(int64_t noop, node.GetInt("noop_with_empty_axes", 0));
  std::vector<int64_t> axes;
  if (const Tensor* t = ctx.input(1)) {
    if (t->dtype() != DataType::kInt64) {
      return ctx.Error(
          absl::StrCat("axes ", t->DebugString(), " must be int64"));
    }
    axes = t->ToVector<int64_t>();
  } else {
    QFORGE_ASSIGN_OR_RETURN(axes, node.GetInts("axes", {}));
  }
  const int rank = x.rank();
  std::vector<bool> reduced(rank, axes.empty() && noop == 0);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank) {
      return ctx.Error(absl::StrCat("axes [", absl::StrJoin(axes, ","),
                                    "] are out of range for input ",
                                    x.DebugString()));
    }
    reduced[a < 0 ? a + rank : a] = true;
  }
  std::vector<int64_t> out_dims;
  std::vector<int64_t> kept(
      rank);  // Output size per input axis (1 if reduced).
  int64_t count = 1;
  for (int i = 0; i < rank; ++i) {
    kept[i] = reduced[i] ? 1 : x.dim(i);
    if (reduced[i]) count *= x.dim(i);
    if (!reduced[i]) {
      out_dims.push_back(x.dim(i));
    } else if (keepdims) {
      out_dims.push_back(1);
    }
  }
  Tensor& y = *ctx.output(0);
  y.Reset(x.dtype(), out_dims);
  const int64_t out_n = y.num_elements();
  std::vector<double> acc(out_n, 0.0);
  // Output strides per input axis (0 for reduced axes).
  std::vector<int64_t> ostride(rank, 0);
  int64_t stride = 1;
  for (int i = rank - 1; i >= 0; --i) {
    if (!reduced[i]) ostride[i] = stride;
    stride *= kept[i];
  }
  const T* xd = x.data<T>();
  if (x.num_elements() > 0) {
    std::vector<int64_t> idx(rank, 0);
    int64_t o = 0;
    for (int64_t i = 0; i < x.num_elements(); ++i) {
      acc[o] += static_cast<double>(xd[i]);
      for (int d = rank - 1; d >= 0; --d) {
        if (++idx[d] < x.dim(d)) {
          o += ostride[d];
          break;
        }
        o -= ostride[d] * (x.dim(d) - 1);
        idx[d] = 0;
      }
    }
  }
  T* yd = y.data<T>();
  for (int64_t i = 0; i < out_n; ++i) {
    yd[i] = static_cast<T>(count > 0 ? acc[i] / static_cast<double>(count)
                                     : std::nan(""));
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status GemmStateless(KernelContext& ctx) {
  return GemmKernel<T>(ctx, nullptr);
}

// float32 Gemm with a constant B: B is packed once for the fast SGEMM.
class GemmPackedKernel final : public OpKernel {
 public:
  explicit GemmPackedKernel(PackedSgemmB packed) : packed_(std::move(packed)) {}
  absl::Status Run(KernelContext& ctx) const override {
    return GemmKernel<float>(ctx, &packed_);
  }

 private:
  PackedSgemmB packed_;
};

template <typename T>
KernelFactory GemmFactory() {
  return [](const KernelInitContext& init)
             -> absl::StatusOr<std::unique_ptr<OpKernel>> {
    if constexpr (std::is_same_v<T, float>) {
      const Tensor* b =
          init.constant_inputs.size() > 1 ? init.constant_inputs[1] : nullptr;
      absl::StatusOr<int64_t> trans_b = init.node.GetInt("transB", 0);
      if (b != nullptr && b->dtype() == DataType::kFloat32 && b->rank() == 2 &&
          trans_b.ok()) {
        const int64_t k = *trans_b ? b->dim(1) : b->dim(0);
        const int64_t n = *trans_b ? b->dim(0) : b->dim(1);
        PackedSgemmB packed =
            PackSgemmB(k, n, b->data<float>(), *trans_b ? 1 : b->dim(1),
                       *trans_b ? b->dim(1) : 1);
        if (!packed.empty()) {
          return std::unique_ptr<OpKernel>(
              new GemmPackedKernel(std::move(packed)));
        }
      }
    }
    return StatelessKernel(GemmStateless<T>)(init);
  };
}

template <typename T>
absl::Status RegisterForTypes(KernelTable& table) {
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "Gemm"}, DataTypeOf<T>(), GemmFactory<T>()}));
  QFORGE_RETURN_IF_ERROR(table.Register(
      {{"", "MatMul"}, DataTypeOf<T>(), StatelessKernel(MatMulKernel<T>)}));
  QFORGE_RETURN_IF_ERROR(table.Register({{"", "BatchNormalization"},
                                         DataTypeOf<T>(),
                                         StatelessKernel(BatchNormKernel<T>)}));
  QFORGE_RETURN_IF_ERROR(table.Register({{"", "LayerNormalization"},
                                         DataTypeOf<T>(),
                                         StatelessKernel(LayerNormKernel<T>)}));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "ReduceMean"},
                      DataTypeOf<T>(),
                      StatelessKernel(ReduceMeanKernel<T>)}));
  return absl::OkStatus();
}

}  // namespace

absl::Status RegisterNnFloatKernels(KernelTable& table) {
  QFORGE_RETURN_IF_ERROR(RegisterForTypes<float>(table));
  QFORGE_RETURN_IF_ERROR(RegisterForTypes<double>(table));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "MatMul"},
                      DataType::kInt32,
                      StatelessKernel(MatMulKernel<int32_t>)}));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "MatMul"},
                      DataType::kInt64,
                      StatelessKernel(MatMulKernel<int64_t>)}));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "ReduceMean"},
                      DataType::kInt32,
                      StatelessKernel(ReduceMeanKernel<int32_t>)}));
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "ReduceMean"},
                      DataType::kInt64,
                      StatelessKernel(ReduceMeanKernel<int64_t>)}));
  QFORGE_RETURN_IF_ERROR(RegisterConvFloatKernels(table));
  QFORGE_RETURN_IF_ERROR(RegisterPoolFloatKernels(table));
  QFORGE_RETURN_IF_ERROR(RegisterResizeFloatKernels(table));
  return absl::OkStatus();
}

}  // namespace qforge::kernels
