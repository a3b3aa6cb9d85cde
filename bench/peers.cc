#include "peers.h"

#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"

#ifdef QFORGE_BENCH_HAVE_DNNL
#include "oneapi/dnnl/dnnl.hpp"
#endif
#ifdef QFORGE_BENCH_HAVE_XNNPACK
#include <xnnpack.h>
#endif

namespace qforge::bench {
namespace {

constexpr uint64_t kSeed = 1;

class QforgeImpl : public Impl {
 public:
  explicit QforgeImpl(QforgeCase c) : c_(std::move(c)) {}
  absl::Status Run() override {
    absl::StatusOr<TensorMap> out = c_.executor->Run(c_.inputs);
    if (!out.ok()) return out.status();
    benchmark::DoNotOptimize(out->begin()->second.data<int8_t>());
    return absl::OkStatus();
  }

 private:
  QforgeCase c_;
};

std::vector<int32_t> Bias(int64_t n) {
  std::vector<int8_t> raw = RandomInt8(n, kSeed + 2);
  std::vector<int32_t> b(raw.begin(), raw.end());
  for (auto& x : b) x *= 37;
  return b;
}

// The requantization scales input x weight / output per channel.
std::vector<float> OutputScales(int64_t n) {
  std::vector<float> s = ChannelScales(n, kSeed + 1);
  for (auto& x : s) x = kInputScale * x / kOutputScale;
  return s;
}

}  // namespace

void RegisterRow(const std::string& name, double macs, ImplFactory factory) {
  auto impl = std::make_shared<std::unique_ptr<Impl>>();
  auto error = std::make_shared<std::string>();
  Configure(
      benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
        if (!*impl && error->empty()) {
          absl::StatusOr<std::unique_ptr<Impl>> made = factory();
          if (made.ok()) {
            *impl = std::move(*made);
          } else {
            *error = std::string(made.status().message());
          }
        }
        if (!*impl) {
          state.SkipWithError(error->c_str());
          return;
        }
        if (std::string label = (*impl)->label(); !label.empty())
          state.SetLabel(label);
        for (auto _ : state) {
          absl::Status s = (*impl)->Run();
          if (!s.ok()) {
            *error = std::string(s.message());
            state.SkipWithError(error->c_str());
            break;
          }
        }
        SetOpsCounters(state, macs);
      }));
}

ImplFactory QforgeLinear(LinearOp op, int64_t m, int64_t k, int64_t n,
                         bool per_tensor) {
  return [=]() -> absl::StatusOr<std::unique_ptr<Impl>> {
    QFORGE_ASSIGN_OR_RETURN(QforgeCase c,
                            MakeQforgeLinear(op, m, k, n, per_tensor, kSeed));
    return std::make_unique<QforgeImpl>(std::move(c));
  };
}

ImplFactory QforgeConv(const ConvShape& s) {
  return [=]() -> absl::StatusOr<std::unique_ptr<Impl>> {
    QFORGE_ASSIGN_OR_RETURN(QforgeCase c, MakeQforgeConv(s, kSeed));
    return std::make_unique<QforgeImpl>(std::move(c));
  };
}

// --- oneDNN ---------------------------------------------------------------

#ifdef QFORGE_BENCH_HAVE_DNNL
namespace {

using dnnl::memory;
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

class OneDnnImpl : public Impl {
 public:
  absl::Status Run() override {
    try {
      primitive_.execute(stream_, args_);
      stream_.wait();
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("oneDNN: ", e.what()));
    }
    return absl::OkStatus();
  }
  std::string label() const override { return impl_info_; }

  std::string impl_info_;
  dnnl::engine engine_{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream_{engine_};
  dnnl::primitive primitive_;
  std::unordered_map<int, memory> args_;
  std::vector<uint8_t> src_;
  std::vector<int8_t> dst_;
  std::vector<int32_t> bias_;
};

// A user s8 weights buffer reordered into the primitive's layout.
memory ReorderWeights(OneDnnImpl& impl, const memory::desc& user_md,
                      std::vector<int8_t>& user, const memory::desc& wanted) {
  memory src(user_md, impl.engine_, user.data());
  memory dst(wanted, impl.engine_);
  dnnl::reorder(src, dst).execute(impl.stream_, src, dst);
  impl.stream_.wait();
  return dst;
}

std::vector<uint8_t> U8Input(int64_t n) {
  std::vector<int8_t> s = RandomInt8(n, kSeed + 17);
  std::vector<uint8_t> u(n);
  for (int64_t i = 0; i < n; ++i) u[i] = static_cast<uint8_t>(s[i] + 128);
  return u;
}

}  // namespace
#endif

bool HaveOneDnn() {
#ifdef QFORGE_BENCH_HAVE_DNNL
  return true;
#else
  return false;
#endif
}

ImplFactory OneDnnMatmul(int64_t m, int64_t k, int64_t n) {
  return [=]() -> absl::StatusOr<std::unique_ptr<Impl>> {
#ifdef QFORGE_BENCH_HAVE_DNNL
    try {
      auto impl = std::make_unique<OneDnnImpl>();
      memory::desc src_md({m, k}, dt::u8, tag::ab);
      memory::desc wei_any({k, n}, dt::s8, tag::any);
      memory::desc bias_md({1, n}, dt::s32, tag::ab);
      memory::desc dst_md({m, n}, dt::s8, tag::ab);
      dnnl::primitive_attr attr;
      attr.set_output_scales(1 << 1, OutputScales(n));
      dnnl::matmul::desc d(src_md, wei_any, bias_md, dst_md);
      dnnl::matmul::primitive_desc pd(d, attr, impl->engine_);
      std::vector<int8_t> w = RandomInt8(k * n, kSeed);  // [K, N]
      memory weights = ReorderWeights(
          *impl, memory::desc({k, n}, dt::s8, tag::ab), w, pd.weights_desc());
      impl->src_ = U8Input(m * k);
      impl->dst_.resize(m * n);
      impl->bias_ = Bias(n);
      impl->primitive_ = dnnl::matmul(pd);
      impl->impl_info_ = pd.impl_info_str();
      impl->args_ = {
          {DNNL_ARG_SRC, memory(src_md, impl->engine_, impl->src_.data())},
          {DNNL_ARG_WEIGHTS, weights},
          {DNNL_ARG_BIAS, memory(bias_md, impl->engine_, impl->bias_.data())},
          {DNNL_ARG_DST, memory(dst_md, impl->engine_, impl->dst_.data())}};
      return impl;
    } catch (const dnnl::error& e) {
      return absl::InternalError(absl::StrCat("oneDNN matmul: ", e.what()));
    }
#else
    return absl::UnavailableError("built without oneDNN");
#endif
  };
}

ImplFactory OneDnnConv(const ConvShape& s) {
  return [=]() -> absl::StatusOr<std::unique_ptr<Impl>> {
#ifdef QFORGE_BENCH_HAVE_DNNL
    try {
      auto impl = std::make_unique<OneDnnImpl>();
      memory::desc src_md({1, s.c, s.h, s.w}, dt::u8, tag::nhwc);
      memory::desc dst_md({1, s.o, s.out_h(), s.out_w()}, dt::s8, tag::nhwc);
      memory::desc bias_md({s.o}, dt::s32, tag::x);
      const int64_t cg = s.c / s.group, og = s.o / s.group;
      memory::dims wdims = s.group == 1
                               ? memory::dims{s.o, s.c, s.kh, s.kw}
                               : memory::dims{s.group, og, cg, s.kh, s.kw};
      const tag user_tag = s.group == 1 ? tag::oihw : tag::goihw;
      memory::desc wei_any(wdims, dt::s8, tag::any);
      dnnl::primitive_attr attr;
      attr.set_output_scales(1 << 1, OutputScales(s.o));
      dnnl::convolution_forward::desc d(
          dnnl::prop_kind::forward_inference,
          dnnl::algorithm::convolution_direct, src_md, wei_any, bias_md, dst_md,
          {s.stride, s.stride}, {s.pad, s.pad}, {s.pad, s.pad});
      dnnl::convolution_forward::primitive_desc pd(d, attr, impl->engine_);
      // The same OIHW bytes as the qforge rows.
      std::vector<int8_t> w = RandomInt8(s.o * cg * s.kh * s.kw, kSeed);
      memory weights = ReorderWeights(
          *impl, memory::desc(wdims, dt::s8, user_tag), w, pd.weights_desc());
      impl->src_ = U8Input(s.h * s.w * s.c);
      impl->dst_.resize(s.out_h() * s.out_w() * s.o);
      impl->bias_ = Bias(s.o);
      impl->primitive_ = dnnl::convolution_forward(pd);
      impl->impl_info_ = pd.impl_info_str();
      impl->args_ = {
          {DNNL_ARG_SRC, memory(src_md, impl->engine_, impl->src_.data())},
          {DNNL_ARG_WEIGHTS, weights},
          {DNNL_ARG_BIAS, memory(bias_md, impl->engine_, impl->bias_.data())},
          {DNNL_ARG_DST, memory(dst_md, impl->engine_, impl->dst_.data())}};
      return impl;
    } catch (const dnnl::error& e) {
      return absl::InternalError(
          absl::StrCat("oneDNN convolution: ", e.what()));
    }
#else
    return absl::UnavailableError("built without oneDNN");
#endif
  };
}

// --- XNNPACK --------------------------------------------------------------

#ifdef QFORGE_BENCH_HAVE_XNNPACK
namespace {

class XnnpackImpl : public Impl {
 public:
  ~XnnpackImpl() override {
    if (op_ != nullptr) xnn_delete_operator(op_);
  }
  absl::Status Run() override {
    const xnn_status st = xnn_run_operator(op_, /*threadpool=*/nullptr);
    if (st != xnn_status_success)
      return absl::InternalError(absl::StrCat("xnn_run_operator: ", st));
    return absl::OkStatus();
  }

  xnn_operator_t op_ = nullptr;
  std::vector<int8_t> src_, dst_, weights_;
  std::vector<int32_t> bias_;
  std::vector<float> scales_;
};

absl::Status InitXnnpack() {
  static const xnn_status st = xnn_initialize(/*allocator=*/nullptr);
  if (st != xnn_status_success)
    return absl::InternalError(absl::StrCat("xnn_initialize: ", st));
  return absl::OkStatus();
}

// OIHW (groups x O/g x C/g x kH x kW) -> XNNPACK's [g][O/g][kH][kW][C/g].
std::vector<int8_t> OihwToOhwi(const std::vector<int8_t>& w, int64_t o,
                               int64_t cg, int64_t kh, int64_t kw) {
  std::vector<int8_t> r(w.size());
  for (int64_t oc = 0; oc < o; ++oc)
    for (int64_t ic = 0; ic < cg; ++ic)
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t x = 0; x < kw; ++x)
          r[((oc * kh + y) * kw + x) * cg + ic] =
              w[((oc * cg + ic) * kh + y) * kw + x];
  return r;
}

}  // namespace
#endif

bool HaveXnnpack() {
#ifdef QFORGE_BENCH_HAVE_XNNPACK
  return true;
#else
  return false;
#endif
}

ImplFactory XnnpackConv(const ConvShape& s) {
  return [=]() -> absl::StatusOr<std::unique_ptr<Impl>> {
#ifdef QFORGE_BENCH_HAVE_XNNPACK
    QFORGE_RETURN_IF_ERROR(InitXnnpack());
    auto impl = std::make_unique<XnnpackImpl>();
    const int64_t cg = s.c / s.group, og = s.o / s.group;
    impl->weights_ = OihwToOhwi(RandomInt8(s.o * cg * s.kh * s.kw, kSeed), s.o,
                                cg, s.kh, s.kw);
    impl->scales_ = ChannelScales(s.o, kSeed + 1);
    impl->bias_ = Bias(s.o);
    xnn_status st = xnn_create_convolution2d_nhwc_qc8(
        s.pad, s.pad, s.pad, s.pad, s.kh, s.kw, s.stride, s.stride, 1, 1,
        s.group, cg, og, /*input_channel_stride=*/s.c,
        /*output_channel_stride=*/s.o, kInputZeroPoint, kInputScale,
        impl->scales_.data(), impl->weights_.data(), impl->bias_.data(),
        kOutputZeroPoint, kOutputScale, -128, 127, /*flags=*/0, &impl->op_);
    if (st != xnn_status_success)
      return absl::InternalError(
          absl::StrCat("xnn_create_convolution2d_nhwc_qc8: ", st));
    impl->src_ = RandomInt8(s.h * s.w * s.c, kSeed + 17);
    impl->dst_.resize(s.out_h() * s.out_w() * s.o);
    st = xnn_setup_convolution2d_nhwc_qc8(
        impl->op_, 1, s.h, s.w, impl->src_.data(), impl->dst_.data(), nullptr);
    if (st != xnn_status_success)
      return absl::InternalError(
          absl::StrCat("xnn_setup_convolution2d_nhwc_qc8: ", st));
    return impl;
#else
    return absl::UnavailableError("built without XNNPACK");
#endif
  };
}

ImplFactory XnnpackFullyConnected(int64_t m, int64_t k, int64_t n) {
  return [=]() -> absl::StatusOr<std::unique_ptr<Impl>> {
#ifdef QFORGE_BENCH_HAVE_XNNPACK
    QFORGE_RETURN_IF_ERROR(InitXnnpack());
    auto impl = std::make_unique<XnnpackImpl>();
    impl->weights_ = RandomInt8(n * k, kSeed);  // [N, K], as Gemm transB=1.
    impl->bias_ = Bias(n);
    xnn_status st = xnn_create_fully_connected_nc_qs8(
        k, n, k, n, kInputZeroPoint, kInputScale, /*kernel_scale=*/0.004f,
        impl->weights_.data(), impl->bias_.data(), kOutputZeroPoint,
        kOutputScale, -128, 127, /*flags=*/0, &impl->op_);
    if (st != xnn_status_success)
      return absl::InternalError(
          absl::StrCat("xnn_create_fully_connected_nc_qs8: ", st));
    impl->src_ = RandomInt8(m * k, kSeed + 17);
    impl->dst_.resize(m * n);
    st = xnn_setup_fully_connected_nc_qs8(impl->op_, m, impl->src_.data(),
                                          impl->dst_.data(), nullptr);
    if (st != xnn_status_success)
      return absl::InternalError(
          absl::StrCat("xnn_setup_fully_connected_nc_qs8: ", st));
    return impl;
#else
    return absl::UnavailableError("built without XNNPACK");
#endif
  };
}

void PrintPeers() {
  std::printf("peers: oneDNN %s, XNNPACK %s, Eigen float32 %s\n",
              HaveOneDnn() ? "yes" : "NO (not found at configure time)",
              HaveXnnpack() ? "yes" : "NO (not found at configure time)",
              DetectCpu().avx2 ? "yes (AVX2+FMA build)"
                               : "NO (built for AVX2+FMA, CPU lacks AVX2)");
#ifdef QFORGE_BENCH_HAVE_DNNL
  const dnnl_version_t* v = dnnl_version();
  std::printf("oneDNN %d.%d.%d (cpu runtime %s), single thread\n", v->major,
              v->minor, v->patch,
              v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other");
#endif
  std::fflush(stdout);
}

}  // namespace qforge::bench
