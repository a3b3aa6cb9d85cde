// The float32 Eigen reference rows (peers.h), in their own translation unit
// compiled with -mavx2 -mfma so that Eigen uses the machine's vector width;
// the rows are registered only on a CPU with AVX2 (peers.cc).
#include <Eigen/Core>
#include <algorithm>
#include <vector>

#include "peers.h"

namespace qforge::bench {
namespace {
constexpr uint64_t kSeed = 1;
}  // namespace

// --- Eigen float reference --------------------------------------------------

namespace {

using RowMajor =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class EigenGemmImpl : public Impl {
 public:
  EigenGemmImpl(int64_t m, int64_t k, int64_t n)
      : a_(Eigen::Map<RowMajor>(RandomFloat(m * k, kSeed + 17).data(), m, k)),
        b_(Eigen::Map<RowMajor>(RandomFloat(k * n, kSeed).data(), k, n)),
        c_(m, n) {}
  absl::Status Run() override {
    c_.noalias() = a_ * b_;
    benchmark::DoNotOptimize(c_.data());
    return absl::OkStatus();
  }

 private:
  RowMajor a_, b_, c_;
};

// NHWC float convolution: im2col (skipped for 1x1 stride 1) and a product
// with the [kH*kW*C, O] weights; depthwise: per output pixel and tap, an
// array multiply-add over the channels.
class EigenConvImpl : public Impl {
 public:
  explicit EigenConvImpl(const ConvShape& s)
      : s_(s),
        input_(RandomFloat(s.h * s.w * s.c, kSeed + 17)),
        output_(s.out_h() * s.out_w() * s.o) {
    const int64_t taps = s.kh * s.kw * (s.c / s.group);
    weights_ =
        Eigen::Map<RowMajor>(RandomFloat(taps * s.o, kSeed).data(), taps, s.o);
    if (s.group == 1 && !(s.kh == 1 && s.kw == 1 && s.stride == 1))
      columns_.resize(s.out_h() * s.out_w(), taps);
  }

  absl::Status Run() override {
    const int64_t oh = s_.out_h(), ow = s_.out_w(), c = s_.c;
    if (s_.group != 1) {  // Depthwise (multiplier 1).
      Eigen::Map<Eigen::ArrayXXf> out(output_.data(), c, oh * ow);
      out.setZero();
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x)
          for (int64_t ky = 0; ky < s_.kh; ++ky) {
            const int64_t iy = y * s_.stride - s_.pad + ky;
            if (iy < 0 || iy >= s_.h) continue;
            for (int64_t kx = 0; kx < s_.kw; ++kx) {
              const int64_t ix = x * s_.stride - s_.pad + kx;
              if (ix < 0 || ix >= s_.w) continue;
              out.col(y * ow + x) +=
                  Eigen::Map<const Eigen::ArrayXf>(
                      input_.data() + (iy * s_.w + ix) * c, c) *
                  weights_.row(ky * s_.kw + kx).transpose().array();
            }
          }
      benchmark::DoNotOptimize(output_.data());
      return absl::OkStatus();
    }
    Eigen::Map<RowMajor> out(output_.data(), oh * ow, s_.o);
    if (columns_.size() == 0) {
      out.noalias() =
          Eigen::Map<const RowMajor>(input_.data(), s_.h * s_.w, c) * weights_;
    } else {
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x)
          for (int64_t ky = 0; ky < s_.kh; ++ky)
            for (int64_t kx = 0; kx < s_.kw; ++kx) {
              const int64_t iy = y * s_.stride - s_.pad + ky;
              const int64_t ix = x * s_.stride - s_.pad + kx;
              float* dst = columns_.data() + (y * ow + x) * columns_.cols() +
                           (ky * s_.kw + kx) * c;
              if (iy < 0 || iy >= s_.h || ix < 0 || ix >= s_.w) {
                std::fill(dst, dst + c, 0.0f);
              } else {
                std::copy_n(input_.data() + (iy * s_.w + ix) * c, c, dst);
              }
            }
      out.noalias() = columns_ * weights_;
    }
    benchmark::DoNotOptimize(output_.data());
    return absl::OkStatus();
  }

 private:
  ConvShape s_;
  std::vector<float> input_, output_;
  RowMajor weights_, columns_;
};

}  // namespace

ImplFactory EigenGemm(int64_t m, int64_t k, int64_t n) {
  return [=]() -> absl::StatusOr<std::unique_ptr<Impl>> {
    return std::make_unique<EigenGemmImpl>(m, k, n);
  };
}

ImplFactory EigenConv(const ConvShape& s) {
  return [=]() -> absl::StatusOr<std::unique_ptr<Impl>> {
    return std::make_unique<EigenConvImpl>(s);
  };
}

}  // namespace qforge::bench
