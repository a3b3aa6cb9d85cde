// Float Conv (ONNX semantics) for NCHW and NHWC activations.
//
// Strategy: per image and group, an im2col matrix and one Eigen GEMM.
//   NCHW: Y_g [M/g, P] = W_g [M/g, Cg*K] x col [Cg*K, P]; W is used as stored.
//   NHWC: Y_g [P, M/g] = col [P, K*Cg] x Wp_g [K*Cg, M/g]; Wp is W repacked
//         (tap-major, channel-minor rows), once at creation for constant W.
// (P = output positions, K = kernel taps, Cg = C / group.) A 1x1, stride 1,
// unpadded convolution reads the input directly as its col matrix. Depthwise
// 2-D convolutions (one input channel per group) use direct loops instead
// (float32 on AVX2+FMA CPUs: the AVX2 helpers of avx2/depthwise_avx2.h).
// Accumulation is in T (float32 for float32 models), in Eigen's order; for
// float32 on AVX2+FMA CPUs the GEMMs run the AVX2 SGEMM instead (sgemm.h;
// NHWC weights are packed into its panels once at creation when constant).
#include <algorithm>
#include <cstring>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "Eigen/Core"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/spatial_params.h"
#include "kernels/float/nn_kernels.h"
#include "kernels/float/sgemm.h"
#include "qforge/core/status.h"

namespace qforge::kernels {
namespace {

using internal::ChannelAxis;
using internal::SpatialAxis;
using internal::SpatialParams;

template <typename T>
using RowMatrix =
    Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using ConstMap =
    Eigen::Map<const RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <typename T>
using MutMap = Eigen::Map<RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

struct ConvGeometry {
  Layout layout = Layout::kNCHW;
  int ns = 0;  // Number of spatial axes.
  int64_t n = 0, c = 0, m = 0, group = 1, cg = 0, mg = 0;
  std::vector<int64_t> in, out, kernel, strides, dilations, pad_begin;
  int64_t in_size = 1, out_size = 1, k_size = 1;
  bool pointwise = false;         // 1x1 kernel, stride 1, no padding.
  bool depthwise = false;         // One input channel per group.
  std::vector<int64_t> out_dims;  // In the layout's order.
};

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Range [lo, hi) of outputs o along one axis whose input o * s + off lies
// in [0, in).
void ValidRange(int64_t off, int64_t s, int64_t in, int64_t out, int64_t* lo,
                int64_t* hi) {
  *lo = off >= 0 ? 0 : CeilDiv(-off, s);
  *hi = (in - 1 - off) < 0 ? 0 : (in - 1 - off) / s + 1;
  *lo = std::min(*lo, out);
  *hi = std::min(*hi, out);
  if (*hi < *lo) *hi = *lo;
}

absl::StatusOr<ConvGeometry> MakeGeometry(const KernelContext& ctx,
                                          const Tensor& x, const Tensor& w,
                                          const Tensor* b) {
  const Node& node = ctx.node();
  ConvGeometry g;
  g.layout = node.layout();
  const int rank = x.rank();
  if (rank < 3) {
    return ctx.Error(absl::StrCat("input X ", x.DebugString(),
                                  " needs rank >= 3 ([N, C, D1, ...], layout ",
                                  LayoutName(g.layout), ")"));
  }
  if (w.rank() != rank) {
    return ctx.Error(absl::StrCat("weights W ", w.DebugString(),
                                  " must have the rank of input X ",
                                  x.DebugString()));
  }
  if (w.dtype() != x.dtype() || (b != nullptr && b->dtype() != x.dtype())) {
    return ctx.Error(absl::StrCat(
        "X ", x.DebugString(), ", W ", w.DebugString(),
        b ? absl::StrCat(" and B ", b->DebugString()) : std::string(),
        " must share one dtype"));
  }
  g.ns = rank - 2;
  QFORGE_ASSIGN_OR_RETURN(g.group, node.GetInt("group", 1));
  if (g.group < 1) {
    return ctx.Error(
        absl::StrCat("attribute 'group' is ", g.group, ", expected >= 1"));
  }
  g.n = x.dim(0);
  g.c = x.dim(ChannelAxis(g.layout, rank));
  g.m = w.dim(0);
  g.cg = w.dim(1);
  if (g.m % g.group != 0) {
    return ctx.Error(absl::StrCat("weights W ", w.DebugString(), " have ", g.m,
                                  " output channels, not divisible by group ",
                                  g.group));
  }
  if (g.c != g.cg * g.group) {
    return ctx.Error(absl::StrCat("input X ", x.DebugString(), " has ", g.c,
                                  " channels (layout ", LayoutName(g.layout),
                                  ") but weights W ", w.DebugString(),
                                  " with group ", g.group, " expect ", g.cg,
                                  " x ", g.group, " = ", g.cg * g.group));
  }
  g.mg = g.m / g.group;
  if (b != nullptr && (b->rank() != 1 || b->dim(0) != g.m)) {
    return ctx.Error(absl::StrCat("bias B ", b->DebugString(), " must be [",
                                  g.m, "] (one value per output channel)"));
  }
  std::vector<int64_t> wk(w.dims().begin() + 2, w.dims().end());
  if (node.HasAttribute("kernel_shape")) {
    QFORGE_ASSIGN_OR_RETURN(std::vector<int64_t> ks,
                            node.GetInts("kernel_shape", {}));
    if (ks != wk) {
      return ctx.Error(
          absl::StrCat("attribute kernel_shape [", absl::StrJoin(ks, ","),
                       "] does not match the weights W ", w.DebugString()));
    }
  }
  QFORGE_ASSIGN_OR_RETURN(SpatialParams p,
                          internal::ReadSpatialParams(node, g.ns, &wk, false));
  g.kernel = p.kernel;
  g.strides = p.strides;
  g.dilations = p.dilations;
  g.pointwise = true;
  for (int i = 0; i < g.ns; ++i) {
    const int64_t in = x.dim(SpatialAxis(g.layout, i));
    QFORGE_ASSIGN_OR_RETURN(internal::SpatialDim d,
                            internal::ComputeSpatialDim(node, p, i, in));
    g.in.push_back(in);
    g.out.push_back(d.out);
    g.pad_begin.push_back(d.pad_begin);
    g.in_size *= in;
    g.k_size *= g.kernel[i];
    if (g.kernel[i] != 1 || g.strides[i] != 1 || d.pad_begin != 0 ||
        d.pad_end != 0) {
      g.pointwise = false;
    }
  }
  g.depthwise = g.cg == 1 && g.ns == 2 && !g.pointwise;
  g.out_dims.push_back(g.n);
  if (g.layout == Layout::kNCHW) g.out_dims.push_back(g.m);
  for (int64_t o : g.out) g.out_dims.push_back(o);
  if (g.layout == Layout::kNHWC) g.out_dims.push_back(g.m);
  QFORGE_RETURN_IF_ERROR(internal::CheckOutputSize(node, g.out_dims));
  // The im2col buffer holds Cg * K * P values.
  std::vector<int64_t> col_dims = g.out;
  col_dims.push_back(g.cg);
  col_dims.push_back(g.k_size);
  QFORGE_RETURN_IF_ERROR(internal::CheckOutputSize(node, col_dims));
  for (int64_t o : g.out) g.out_size *= o;
  return g;
}

// Advances a multi-index over `extent`; returns false after the last one.
bool Next(std::vector<int64_t>& idx, const std::vector<int64_t>& extent,
          int count) {
  for (int d = count - 1; d >= 0; --d) {
    if (++idx[d] < extent[d]) return true;
    idx[d] = 0;
  }
  return false;
}

// col [Cg*K, P] from x [Cg, D1..Dk] (one image, one group, NCHW).
template <typename T>
void Im2ColNchw(const T* x, const ConvGeometry& g, T* col) {
  const int ns = g.ns;
  const int last = ns - 1;
  const int64_t ow = g.out[last];
  const int64_t in_last = g.in[last];
  std::vector<int64_t> kidx(ns, 0);
  std::vector<int64_t> oidx(ns, 0);
  for (int64_t c = 0; c < g.cg; ++c) {
    const T* xc = x + c * g.in_size;
    std::fill(kidx.begin(), kidx.end(), 0);
    int64_t k = 0;
    do {
      T* row = col + (c * g.k_size + k) * g.out_size;
      const int64_t off_last =
          kidx[last] * g.dilations[last] - g.pad_begin[last];
      int64_t lo, hi;
      ValidRange(off_last, g.strides[last], in_last, ow, &lo, &hi);
      std::fill(oidx.begin(), oidx.end(), 0);
      int64_t outer = 0;
      do {
        T* r = row + outer * ow;
        bool valid = true;
        int64_t offset = 0;
        for (int d = 0; d < last; ++d) {
          const int64_t id = oidx[d] * g.strides[d] - g.pad_begin[d] +
                             kidx[d] * g.dilations[d];
          if (id < 0 || id >= g.in[d]) {
            valid = false;
            break;
          }
          offset = offset * g.in[d] + id;
        }
        if (!valid) {
          std::fill(r, r + ow, T(0));
        } else {
          const T* xr = xc + offset * in_last + off_last;
          std::fill(r, r + lo, T(0));
          const int64_t s = g.strides[last];
          if (s == 1) {
            std::copy(xr + lo, xr + hi, r + lo);
          } else {
            for (int64_t o = lo; o < hi; ++o) r[o] = xr[o * s];
          }
          std::fill(r + hi, r + ow, T(0));
        }
        ++outer;
      } while (Next(oidx, g.out, last));
      ++k;
    } while (Next(kidx, g.kernel, ns));
  }
}

// col [P, K*Cg] from x [D1..Dk, C] (one image, NHWC), channels of group gi.
template <typename T>
void Im2ColNhwc(const T* x, const ConvGeometry& g, int64_t gi, T* col) {
  const int ns = g.ns;
  const int64_t row_len = g.k_size * g.cg;
  std::vector<int64_t> oidx(ns, 0);
  std::vector<int64_t> kidx(ns, 0);
  int64_t p = 0;
  do {
    T* row = col + p * row_len;
    std::fill(kidx.begin(), kidx.end(), 0);
    int64_t k = 0;
    do {
      T* dst = row + k * g.cg;
      bool valid = true;
      int64_t offset = 0;
      for (int d = 0; d < ns; ++d) {
        const int64_t id =
            oidx[d] * g.strides[d] - g.pad_begin[d] + kidx[d] * g.dilations[d];
        if (id < 0 || id >= g.in[d]) {
          valid = false;
          break;
        }
        offset = offset * g.in[d] + id;
      }
      if (valid) {
        std::memcpy(dst, x + offset * g.c + gi * g.cg, g.cg * sizeof(T));
      } else {
        std::fill(dst, dst + g.cg, T(0));
      }
      ++k;
    } while (Next(kidx, g.kernel, ns));
    ++p;
  } while (Next(oidx, g.out, ns));
}

// Repacks W [M, Cg, K] into [group][K][Cg][Mg] for the NHWC GEMM.
template <typename T>
std::vector<T> PackNhwc(const T* w, int64_t m, int64_t cg, int64_t k_size,
                        int64_t group) {
  const int64_t mg = m / group;
  std::vector<T> packed(m * cg * k_size);
  for (int64_t gi = 0; gi < group; ++gi) {
    T* dst = packed.data() + gi * k_size * cg * mg;
    for (int64_t j = 0; j < mg; ++j) {
      const T* src = w + (gi * mg + j) * cg * k_size;
      for (int64_t c = 0; c < cg; ++c) {
        for (int64_t k = 0; k < k_size; ++k) {
          dst[(k * cg + c) * mg + j] = src[c * k_size + k];
        }
      }
    }
  }
  return packed;
}

// Repacks depthwise W [M, 1, K] into [K][M].
template <typename T>
std::vector<T> PackDepthwiseNhwc(const T* w, int64_t m, int64_t k_size) {
  std::vector<T> packed(m * k_size);
  for (int64_t j = 0; j < m; ++j) {
    for (int64_t k = 0; k < k_size; ++k) packed[k * m + j] = w[j * k_size + k];
  }
  return packed;
}

// One output row: y[o] += w * x[o * stride] for o in [0, n).
template <typename T>
inline void AxpyRow(T* __restrict y, const T* __restrict x, T w, int64_t n,
                    int64_t stride) {
  if (stride == 1) {
    for (int64_t o = 0; o < n; ++o) y[o] += w * x[o];
  } else {
    for (int64_t o = 0; o < n; ++o) y[o] += w * x[o * stride];
  }
}

// Depthwise 2-D NCHW: each input plane is copied once into a zero-bordered
// buffer covering every window, so the tap loops need no bounds checks.
// `fast`: float32 with the AVX2 helpers available (FastSgemmAvailable());
// they also add the bias (`bias`, may be null), the other path leaves it out.
template <typename T>
void DepthwiseNchw2d(const T* x, const T* w, const T* bias, T* y,
                     const ConvGeometry& g, bool fast) {
  const int64_t ih_n = g.in[0], iw_n = g.in[1], oh_n = g.out[0],
                ow_n = g.out[1];
  const int64_t kh_n = g.kernel[0], kw_n = g.kernel[1];
  const int64_t sh = g.strides[0], sw = g.strides[1];
  const int64_t dh = g.dilations[0], dw = g.dilations[1];
  const int64_t ph = g.pad_begin[0], pw = g.pad_begin[1];
  // Rows and columns the windows reach, from -ph and -pw on.
  const int64_t hp = (oh_n - 1) * sh + (kh_n - 1) * dh + 1;
  const int64_t wp = (ow_n - 1) * sw + (kw_n - 1) * dw + 1;
  // 16 spare values: the AVX2 helper may read just past the last window.
  std::vector<T> padded(hp * wp + 16);
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t c = 0; c < g.c; ++c) {
      const T* xin = x + (n * g.c + c) * g.in_size;
      std::fill(padded.begin(), padded.end(), T(0));
      const int64_t c0 = std::max<int64_t>(0, pw);
      const int64_t c1 = std::min(wp, iw_n + pw);
      for (int64_t r = 0; r < hp; ++r) {
        const int64_t ih = r - ph;
        if (ih < 0 || ih >= ih_n || c1 <= c0) continue;
        std::copy(xin + ih * iw_n + (c0 - pw), xin + ih * iw_n + (c1 - pw),
                  padded.data() + r * wp + c0);
      }
      for (int64_t j = 0; j < g.mg; ++j) {
        const int64_t m = c * g.mg + j;
        const T* wk = w + m * kh_n * kw_n;
        T* yo = y + (n * g.m + m) * g.out_size;
        if constexpr (std::is_same_v<T, float>) {
          if (fast &&
              FastDepthwisePlane(padded.data(), wp, wk, kh_n, kw_n, sh, sw, dh,
                                 dw, oh_n, ow_n, bias ? bias[m] : 0.0f, yo)) {
            continue;
          }
        }
        for (int64_t oh = 0; oh < oh_n; ++oh) {
          T* yr = yo + oh * ow_n;
          for (int64_t kh = 0; kh < kh_n; ++kh) {
            const T* xr = padded.data() + (oh * sh + kh * dh) * wp;
            for (int64_t kw = 0; kw < kw_n; ++kw) {
              AxpyRow(yr, xr + kw * dw, wk[kh * kw_n + kw], ow_n, sw);
            }
          }
        }
      }
    }
  }
}

// wp is [K][M] (PackDepthwiseNhwc).
template <typename T>
void DepthwiseNhwc2d(const T* x, const T* wp, T* y, const ConvGeometry& g,
                     bool fast) {
  const int64_t ih_n = g.in[0], iw_n = g.in[1], oh_n = g.out[0],
                ow_n = g.out[1];
  const int64_t kh_n = g.kernel[0], kw_n = g.kernel[1];
  const int64_t m_n = g.m, c_n = g.c, mult = g.mg;
  for (int64_t n = 0; n < g.n; ++n) {
    const T* xn = x + n * g.in_size * c_n;
    for (int64_t oh = 0; oh < oh_n; ++oh) {
      for (int64_t ow = 0; ow < ow_n; ++ow) {
        T* yp = y + ((n * oh_n + oh) * ow_n + ow) * m_n;
        for (int64_t kh = 0; kh < kh_n; ++kh) {
          const int64_t ih =
              oh * g.strides[0] - g.pad_begin[0] + kh * g.dilations[0];
          if (ih < 0 || ih >= ih_n) continue;
          for (int64_t kw = 0; kw < kw_n; ++kw) {
            const int64_t iw =
                ow * g.strides[1] - g.pad_begin[1] + kw * g.dilations[1];
            if (iw < 0 || iw >= iw_n) continue;
            const T* xp = xn + (ih * iw_n + iw) * c_n;
            const T* wv = wp + (kh * kw_n + kw) * m_n;
            if constexpr (std::is_same_v<T, float>) {
              if (mult == 1 && fast &&
                  FastMultiplyAccumulate(wv, xp, m_n, yp)) {
                continue;
              }
            }
            if (mult == 1) {
              for (int64_t c = 0; c < m_n; ++c) yp[c] += wv[c] * xp[c];
            } else {
              for (int64_t j = 0; j < m_n; ++j) yp[j] += wv[j] * xp[j / mult];
            }
          }
        }
      }
    }
  }
}

template <typename T>
class ConvKernel final : public OpKernel {
 public:
  ConvKernel(const Node& node, const Tensor* w) {
    // Pre-pack constant weights for NHWC; Run falls back to packing per call
    // if this fails or the weights are not constant.
    if (node.layout() != Layout::kNHWC || w == nullptr ||
        w->dtype() != DataTypeOf<T>() || w->rank() < 3) {
      return;
    }
    absl::StatusOr<int64_t> group = node.GetInt("group", 1);
    if (!group.ok() || *group < 1 || w->dim(0) % *group != 0) return;
    int64_t k_size = 1;
    for (int i = 2; i < w->rank(); ++i) k_size *= w->dim(i);
    packed_dims_ = w->dims();
    packed_group_ = *group;
    packed_ = PackNhwc(w->data<T>(), w->dim(0), w->dim(1), k_size, *group);
    if (w->dim(1) == 1 && w->rank() == 4) {
      packed_dw_ = PackDepthwiseNhwc(w->data<T>(), w->dim(0), k_size);
    }
    if constexpr (std::is_same_v<T, float>) {
      // Per group, the [K*Cg, Mg] GEMM operand in the fast SGEMM's panels.
      const int64_t ck = w->dim(1) * k_size, mg = w->dim(0) / *group;
      for (int64_t gi = 0; gi < *group && ck > 0 && mg > 0; ++gi) {
        PackedSgemmB b =
            PackSgemmB(ck, mg, packed_.data() + gi * ck * mg, mg, 1);
        if (b.empty()) {
          sgemm_b_.clear();
          break;
        }
        sgemm_b_.push_back(std::move(b));
      }
    }
  }

  absl::Status Run(KernelContext& ctx) const override {
    const Tensor& x = *ctx.input(0);
    const Tensor& w = *ctx.input(1);
    const Tensor* b = ctx.input(2);
    QFORGE_ASSIGN_OR_RETURN(ConvGeometry g, MakeGeometry(ctx, x, w, b));
    Tensor& y = *ctx.output(0);
    y.Reset(DataTypeOf<T>(), g.out_dims);
    if (y.empty()) return absl::OkStatus();
    const T* xd = x.data<T>();
    const T* wd = w.data<T>();
    T* yd = y.data<T>();
    const int64_t ck = g.cg * g.k_size;
    const int64_t p_n = g.out_size;
    bool fast = false;
    if constexpr (std::is_same_v<T, float>) fast = FastSgemmAvailable();
    const T* bd = b != nullptr ? b->data<T>() : nullptr;
    // The fast paths add the bias themselves (with the GEMM's first K
    // block, or as a depthwise sum's first term).
    const bool bias_done = fast && (g.depthwise || ck > 0);
    if (g.layout == Layout::kNCHW) {
      if (g.depthwise) {
        DepthwiseNchw2d(xd, wd, bd, yd, g, fast);
      } else if (ck > 0) {
        std::vector<T> col;
        if (!g.pointwise) col.resize(ck * p_n);
        for (int64_t n = 0; n < g.n; ++n) {
          for (int64_t gi = 0; gi < g.group; ++gi) {
            const T* xg = xd + (n * g.c + gi * g.cg) * g.in_size;
            const T* cd = xg;
            if (!g.pointwise) {
              Im2ColNchw(xg, g, col.data());
              cd = col.data();
            }
            T* yg = yd + (n * g.m + gi * g.mg) * p_n;
            if constexpr (std::is_same_v<T, float>) {
              if (FastSgemm(g.mg, p_n, ck, wd + gi * g.mg * ck, ck, 1, cd, p_n,
                            1, yg, p_n, false, bd ? bd + gi * g.mg : nullptr)) {
                continue;
              }
            }
            ConstMap<T> wm(wd + gi * g.mg * ck, g.mg, ck,
                           Eigen::OuterStride<>(ck));
            ConstMap<T> cm(cd, ck, p_n, Eigen::OuterStride<>(p_n));
            MutMap<T> ym(yg, g.mg, p_n, Eigen::OuterStride<>(p_n));
            ym.noalias() = wm * cm;
          }
        }
      }
      if (b != nullptr && !bias_done) {
        for (int64_t n = 0; n < g.n; ++n) {
          for (int64_t m = 0; m < g.m; ++m) {
            T* plane = yd + (n * g.m + m) * p_n;
            const T bv = bd[m];
            for (int64_t i = 0; i < p_n; ++i) plane[i] += bv;
          }
        }
      }
      return absl::OkStatus();
    }

    // NHWC.
    const bool prepacked = !packed_.empty() && w.dims() == packed_dims_ &&
                           g.group == packed_group_ && ctx.node().input(1) &&
                           ctx.node().input(1)->is_constant();
    if (g.depthwise) {
      std::vector<T> local;
      const T* wp = packed_dw_.data();
      if (!prepacked || packed_dw_.empty()) {
        local = PackDepthwiseNhwc(wd, g.m, g.k_size);
        wp = local.data();
      }
      if (b != nullptr) {
        for (int64_t i = 0; i < g.n * p_n; ++i) {
          std::copy(b->data<T>(), b->data<T>() + g.m, yd + i * g.m);
        }
      }
      DepthwiseNhwc2d(xd, wp, yd, g, fast);
      return absl::OkStatus();
    }
    std::vector<T> local;
    const T* wp = packed_.data();
    if (!prepacked) {
      local = PackNhwc(wd, g.m, g.cg, g.k_size, g.group);
      wp = local.data();
    }
    if (ck > 0) {
      std::vector<T> col;
      if (!g.pointwise) col.resize(p_n * ck);
      for (int64_t n = 0; n < g.n; ++n) {
        const T* xn = xd + n * g.in_size * g.c;
        for (int64_t gi = 0; gi < g.group; ++gi) {
          const T* cd = xn + gi * g.cg;
          int64_t stride = g.c;
          if (!g.pointwise) {
            Im2ColNhwc(xn, g, gi, col.data());
            cd = col.data();
            stride = ck;
          }
          T* yg = yd + n * p_n * g.m + gi * g.mg;
          if constexpr (std::is_same_v<T, float>) {
            if (prepacked && gi < static_cast<int64_t>(sgemm_b_.size()) &&
                sgemm_b_[gi].k == ck && sgemm_b_[gi].n == g.mg &&
                FastSgemmPacked(p_n, cd, stride, 1, sgemm_b_[gi], yg, g.m,
                                false, nullptr,
                                bd ? bd + gi * g.mg : nullptr)) {
              continue;
            }
            if (FastSgemm(p_n, g.mg, ck, cd, stride, 1, wp + gi * ck * g.mg,
                          g.mg, 1, yg, g.m, false, nullptr,
                          bd ? bd + gi * g.mg : nullptr)) {
              continue;
            }
          }
          ConstMap<T> cm(cd, p_n, ck, Eigen::OuterStride<>(stride));
          ConstMap<T> wm(wp + gi * ck * g.mg, ck, g.mg,
                         Eigen::OuterStride<>(g.mg));
          MutMap<T> ym(yg, p_n, g.mg, Eigen::OuterStride<>(g.m));
          ym.noalias() = cm * wm;
        }
      }
    }
    if (b != nullptr && !bias_done) {
      for (int64_t i = 0; i < g.n * p_n; ++i) {
        T* row = yd + i * g.m;
        for (int64_t m = 0; m < g.m; ++m) row[m] += bd[m];
      }
    }
    return absl::OkStatus();
  }

 private:
  std::vector<T> packed_;
  std::vector<T> packed_dw_;
  std::vector<PackedSgemmB> sgemm_b_;  // float32 only, per group.
  std::vector<int64_t> packed_dims_;
  int64_t packed_group_ = 0;
};

template <typename T>
KernelFactory ConvFactory() {
  return [](const KernelInitContext& init)
             -> absl::StatusOr<std::unique_ptr<OpKernel>> {
    const Tensor* w =
        init.constant_inputs.size() > 1 ? init.constant_inputs[1] : nullptr;
    return std::unique_ptr<OpKernel>(new ConvKernel<T>(init.node, w));
  };
}

}  // namespace

absl::Status RegisterConvFloatKernels(KernelTable& table) {
  QFORGE_RETURN_IF_ERROR(
      table.Register({{"", "Conv"}, DataType::kFloat32, ConvFactory<float>()}));
  QFORGE_RETURN_IF_ERROR(table.Register(
      {{"", "Conv"}, DataType::kFloat64, ConvFactory<double>()}));
  return absl::OkStatus();
}

}  // namespace qforge::kernels
