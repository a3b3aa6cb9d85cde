#include "kernels/int8/fast/kernels.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "kernels/int8/reference/kernel_util.h"

#ifdef QFORGE_HAVE_AVX2_KERNELS
#include "kernels/int8/fast/avx2/avx2_depthwise.h"
#include "kernels/int8/fast/avx2/avx2_kernels.h"
#endif

namespace qforge::kernels::int8::fast {
namespace {

using reference::internal::CheckedElementCount;

// Output positions per im2col / GEMM chunk: bounds the scratch buffers.
constexpr int64_t kRowChunk = 96;

// Largest zero-padded int16 image (elements) the direct AVX2 convolution
// copies; larger inputs use im2col.
constexpr int64_t kDirectMaxImage = int64_t{1} << 20;

// The AVX2 convolution reads its GEMM rows straight from a zero-padded int16
// copy of the input (no im2col) when a group has at least this many
// channels; with fewer, the per-tap segments are too short and im2col wins.
constexpr int64_t kDirectMinChannels = 8;

bool QuantParamsOk(const reference::QuantParam& input,
                   const reference::WeightQuant& weights, int64_t channels,
                   const reference::QuantParam& output) {
  return reference::ValidateQuantParam(input, "input").ok() &&
         reference::ValidateWeightQuant(weights, channels).ok() &&
         reference::ValidateQuantParam(output, "output").ok();
}

// Packs B[k][n] = b_at(k, n) (= w - zw, or 0 for padding) for the int16
// micro-kernels.
template <typename BAt>
PackedGemmB PackB(int64_t k, int64_t n, BAt&& b_at) {
  PackedGemmB b;
  b.k = k;
  b.kp = (k + 1) / 2 * 2;
  b.n = n;
  const int64_t blocks = (n + 7) / 8;
  b.data.assign(static_cast<size_t>(blocks * b.kp * 8), 0);
  for (int64_t col = 0; col < n; ++col) {
    int16_t* block = b.data.data() + (col / 8) * b.kp * 8;
    const int64_t lane = col % 8;
    for (int64_t kk = 0; kk < k; ++kk) {
      block[(kk / 2) * 16 + lane * 2 + (kk % 2)] =
          static_cast<int16_t>(b_at(kk, col));
    }
  }
  return b;
}

// Packs raw int8 weights for the AVX2 matrix-vector kernels (layouts in
// avx2_kernels.h, GemvS8Sign / GemvS8: groups of up to 32 columns, k-quads
// or k-pairs interleaved).
template <typename WeightAt>
PackedGemvB PackGemv(int64_t k, int64_t n, const reference::WeightQuant& wq,
                     int32_t input_zero_point, const int32_t* bias,
                     WeightAt&& weight_at) {
  constexpr int64_t kGroup = 32;
  PackedGemvB v;
  v.n = n;
  v.sign = true;
  for (int64_t col = 0; col < n && v.sign; ++col) {
    for (int64_t kk = 0; kk < k; ++kk) {
      if (weight_at(kk, col) == -128) {
        v.sign = false;
        break;
      }
    }
  }
  const int64_t unit = v.sign ? 4 : 2;  // k values per 32-bit lane
  v.kp = (k + unit - 1) / unit * unit;
  const int64_t n8 = (n + 7) / 8 * 8;
  v.data.assign(static_cast<size_t>(n8 * v.kp), 0);
  for (int64_t col = 0; col < n; ++col) {
    const int64_t g0 = col / kGroup * kGroup;
    const int64_t width = std::min(kGroup, n8 - g0);
    int8_t* group = v.data.data() + g0 * v.kp;
    for (int64_t kk = 0; kk < k; ++kk) {
      group[(kk / unit) * width * unit + (col - g0) * unit + kk % unit] =
          weight_at(kk, col);
    }
  }
  if (!wq.all_zero_points_zero()) {
    v.zero_points.resize(static_cast<size_t>(n));
    for (int64_t col = 0; col < n; ++col)
      v.zero_points[col] = wq.zero_point(col);
  }
  if (v.sign) {
    // sum (x - zx)(w - zw) = sum x w - zw sum x - zx sum w + K zx zw.
    const uint32_t zx = static_cast<uint32_t>(input_zero_point);
    v.bias.resize(static_cast<size_t>(n));
    for (int64_t col = 0; col < n; ++col) {
      uint32_t wsum = 0;
      for (int64_t kk = 0; kk < k; ++kk) {
        wsum += static_cast<uint32_t>(static_cast<int32_t>(weight_at(kk, col)));
      }
      const uint32_t zw = static_cast<uint32_t>(wq.zero_point(col));
      const uint32_t b = bias != nullptr ? static_cast<uint32_t>(bias[col]) : 0;
      v.bias[col] = static_cast<int32_t>(b - zx * wsum +
                                         static_cast<uint32_t>(k) * zx * zw);
    }
  }
  return v;
}

// Packs raw weights for the VNNI micro-kernels and folds the corrections
// (kernels.h, PackedVnniB).
template <typename WeightAt, typename ZeroPointAt>
PackedVnniB PackVnni(int64_t k, int64_t n, int32_t input_zero_point,
                     const int32_t* bias, ZeroPointAt&& zero_point_at,
                     WeightAt&& weight_at) {
  PackedVnniB v;
  v.k = k;
  v.kq = (k + 3) / 4;
  v.n = n;
  const int64_t blocks = (n + 15) / 16;
  v.data.assign(static_cast<size_t>(blocks * v.kq * 64), 0);
  v.bias.resize(static_cast<size_t>(n));
  const uint32_t zx = static_cast<uint32_t>(input_zero_point);
  bool any_zw = false;
  for (int64_t col = 0; col < n; ++col) {
    uint32_t wsum = 0;
    for (int64_t kk = 0; kk < k; ++kk) {
      const int8_t w = weight_at(kk, col);
      v.data[(((col / 16) * v.kq + kk / 4) * 16 + col % 16) * 4 + kk % 4] = w;
      wsum += static_cast<uint32_t>(static_cast<int32_t>(w));
    }
    const uint32_t zw = static_cast<uint32_t>(zero_point_at(col));
    any_zw = any_zw || zw != 0;
    const uint32_t b = bias != nullptr ? static_cast<uint32_t>(bias[col]) : 0;
    v.bias[col] = static_cast<int32_t>(b - (128u + zx) * wsum +
                                       static_cast<uint32_t>(k) * zx * zw);
  }
  if (any_zw) {
    v.zero_points.resize(static_cast<size_t>(n));
    for (int64_t col = 0; col < n; ++col)
      v.zero_points[col] = zero_point_at(col);
  }
  return v;
}

// row[n] -= zw[n] * x_sum (wrapping), the VNNI per-row correction.
void CorrectRow(const PackedVnniB& v, uint32_t x_sum, int32_t* row) {
  for (int64_t col = 0; col < v.n; ++col) {
    row[col] =
        static_cast<int32_t>(static_cast<uint32_t>(row[col]) -
                             static_cast<uint32_t>(v.zero_points[col]) * x_sum);
  }
}

bool SameWindow(const reference::ConvGeometry& a,
                const reference::ConvGeometry& b) {
  return a.kernel_height == b.kernel_height &&
         a.kernel_width == b.kernel_width &&
         a.stride_height == b.stride_height &&
         a.stride_width == b.stride_width &&
         a.dilation_height == b.dilation_height &&
         a.dilation_width == b.dilation_width;
}

// The geometry checks of the reference kernels (which report the errors).
bool GeometryOk(const reference::ConvGeometry& g, int64_t in_channels,
                int64_t out_channels) {
  if (g.batch < 0 || g.input_height <= 0 || g.input_width <= 0 ||
      g.kernel_height <= 0 || g.kernel_width <= 0 || g.stride_height <= 0 ||
      g.stride_width <= 0 || g.dilation_height <= 0 || g.dilation_width <= 0 ||
      g.pad_top < 0 || g.pad_left < 0 || g.pad_bottom < 0 || g.pad_right < 0 ||
      g.output_height() <= 0 || g.output_width() <= 0) {
    return false;
  }
  return CheckedElementCount(
             {g.batch, g.input_height, g.input_width, in_channels}, "")
             .ok() &&
         CheckedElementCount(
             {g.batch, g.output_height(), g.output_width(), out_channels}, "")
             .ok();
}

}  // namespace

Isa ImplementedIsa(Isa requested) {
#ifdef QFORGE_HAVE_VNNI_KERNELS
  if (requested >= Isa::kAvxVnni) return requested;
#endif
#ifdef QFORGE_HAVE_AVX2_KERNELS
  if (requested >= Isa::kAvx2) return Isa::kAvx2;
#endif
  return Isa::kScalar;
}

// --- OutputStage -------------------------------------------------------------

OutputStage::OutputStage(reference::Requantizer requantizer, int64_t channels,
                         Isa isa)
    : requantizer_(std::move(requantizer)) {
  if (isa >= Isa::kAvx2 &&
      requantizer_.profile() == ArithmeticProfile::kOnnxRuntime) {
    const auto& s = requantizer_.ort_scales();
    scales_.resize(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) {
      scales_[c] = s.size() == 1 ? s[0] : s[c];
    }
    vector_ort_ = true;
  }
  // The double rescale (tflite_reference FULLY_CONNECTED) stays scalar:
  // Row falls back to Requantizer::Apply.
  if (isa >= Isa::kAvx2 &&
      requantizer_.profile() == ArithmeticProfile::kTfliteReference &&
      !requantizer_.tflite_double()) {
    const auto& m = requantizer_.tflite_multipliers();
    multipliers_.resize(static_cast<size_t>(channels));
    shifts_.resize(static_cast<size_t>(channels));
    bool ok = true;
    for (int64_t c = 0; c < channels; ++c) {
      const reference::QuantizedMultiplier& q = m.size() == 1 ? m[0] : m[c];
      multipliers_[c] = q.multiplier;
      shifts_[c] = q.shift;
      ok = ok && q.multiplier != std::numeric_limits<int32_t>::min() &&
           q.shift >= -31 && q.shift <= 31;
    }
    vector_tflite_ = ok;
  }
}

void OutputStage::Row(const int32_t* acc, int64_t channels, int8_t* out) const {
#ifdef QFORGE_HAVE_AVX2_KERNELS
  if (vector_ort_) {
    const reference::ActivationRange& a = requantizer_.activation();
    avx2::RequantizeOrtRow(acc, channels, scales_.data(),
                           requantizer_.zero_point(), a.min, a.max, out);
    return;
  }
  if (vector_tflite_) {
    const reference::ActivationRange& a = requantizer_.activation();
    avx2::RequantizeTfliteRow(acc, channels, multipliers_.data(),
                              shifts_.data(), requantizer_.zero_point(), a.min,
                              a.max, out);
    return;
  }
#endif
  for (int64_t c = 0; c < channels; ++c) out[c] = requantizer_.Apply(acc[c], c);
}

// --- FullyConnected
// ------------------------------------------------------------

void EmulatedGemmU8S8(const uint8_t* a, int64_t rows, int64_t lda, int64_t kq,
                      const int8_t* packed_b, int64_t n_cols,
                      const int32_t* bias, int32_t* c, int64_t ldc) {
  for (int64_t m = 0; m < rows; ++m) {
    for (int64_t n = 0; n < n_cols; ++n) {
      const int8_t* b = packed_b + ((n / 16) * kq * 16 + n % 16) * 4;
      uint32_t sum = static_cast<uint32_t>(bias[n]);
      for (int64_t q = 0; q < kq; ++q) {
        // One vpdpbusd lane: four u8 x s8 products added, wrapping.
        for (int64_t j = 0; j < 4; ++j) {
          sum += static_cast<uint32_t>(
              static_cast<int32_t>(a[m * lda + 4 * q + j]) *
              static_cast<int32_t>(b[q * 64 + j]));
        }
      }
      c[m * ldc + n] = static_cast<int32_t>(sum);
    }
  }
}

namespace {

// The VNNI GEMM micro-kernel of `chosen`, or nullptr when `chosen` has none
// (the kernel then runs its AVX2 or scalar path).
GemmU8S8Fn VnniGemmFor(Isa chosen) {
#ifdef QFORGE_HAVE_VNNI_KERNELS
  if (chosen == Isa::kAvx512Vnni) return &avx512vnni::GemmU8S8;
  if (chosen == Isa::kAvxVnni) return &avxvnni::GemmU8S8;
#endif
  static_cast<void>(chosen);
  return nullptr;
}

}  // namespace

FullyConnectedKernel FullyConnectedKernel::Create(
    Isa isa, ArithmeticProfile profile,
    const reference::FullyConnectedParams& p, const int8_t* weights,
    const int32_t* bias) {
  const Isa chosen = ImplementedIsa(isa);
  const GemmU8S8Fn gemm = VnniGemmFor(chosen);
  return CreateImpl(gemm != nullptr ? chosen : std::min(chosen, Isa::kAvx2),
                    gemm, profile, p, weights, bias);
}

FullyConnectedKernel FullyConnectedKernel::CreateWithVnniGemmForTesting(
    Isa isa, GemmU8S8Fn gemm, ArithmeticProfile profile,
    const reference::FullyConnectedParams& p, const int8_t* weights,
    const int32_t* bias) {
  return CreateImpl(isa, gemm, profile, p, weights, bias);
}

FullyConnectedKernel FullyConnectedKernel::CreateImpl(
    Isa chosen, GemmU8S8Fn vnni_gemm, ArithmeticProfile profile,
    const reference::FullyConnectedParams& p, const int8_t* weights,
    const int32_t* bias) {
  FullyConnectedKernel kernel;
  kernel.profile_ = profile;
  kernel.params_ = p;
  const int64_t k = p.input_depth, n = p.output_depth;
  absl::StatusOr<int64_t> w_count = CheckedElementCount({k, n}, "weights");
  if (w_count.ok() && weights != nullptr) {
    kernel.weights_.assign(weights, weights + *w_count);
  }
  if (bias != nullptr && n > 0) kernel.bias_.assign(bias, bias + n);
  if (chosen == Isa::kScalar || !w_count.ok() || k <= 0 || n <= 0 ||
      weights == nullptr || !QuantParamsOk(p.input, p.weights, n, p.output)) {
    return kernel;
  }
  absl::StatusOr<reference::Requantizer> requantizer =
      reference::Requantizer::ForLinear(
          profile, p.input.scale, p.weights.scales, p.output.scale,
          p.output.zero_point, p.activation, p.tflite_requant);
  if (!requantizer.ok()) return kernel;
  const bool output_major =
      p.weight_layout == reference::WeightLayout::kOutputMajor;
  auto weight_at = [&](int64_t kk, int64_t col) {
    return output_major ? weights[col * k + kk] : weights[kk * n + col];
  };
  if (vnni_gemm != nullptr) {
    kernel.vnni_gemm_ = vnni_gemm;
    kernel.vnni_ = PackVnni(
        k, n, p.input.zero_point, bias,
        [&](int64_t col) { return p.weights.zero_point(col); }, weight_at);
  } else {
    kernel.packed_ = PackB(k, n, [&](int64_t kk, int64_t col) {
      return static_cast<int32_t>(weight_at(kk, col)) -
             p.weights.zero_point(col);
    });
    kernel.gemv_ =
        PackGemv(k, n, p.weights, p.input.zero_point, bias, weight_at);
  }
  kernel.output_ = OutputStage(*std::move(requantizer), n, chosen);
  kernel.isa_ = chosen;
  return kernel;
}

absl::Status FullyConnectedKernel::Run(int64_t rows, const int8_t* input,
                                       int8_t* output) const {
  reference::FullyConnectedParams p = params_;
  p.rows = rows;
  const int32_t* bias = bias_.empty() ? nullptr : bias_.data();
  if (isa_ == Isa::kScalar || rows < 0 || input == nullptr ||
      output == nullptr ||
      !CheckedElementCount({rows, p.input_depth, 2}, "").ok() ||
      !CheckedElementCount({rows, p.output_depth}, "").ok()) {
    return reference::FullyConnected(profile_, p, input, weights_.data(), bias,
                                     output);
  }
  if (vnni_gemm_ != nullptr) return RunVnni(rows, input, output);
#ifdef QFORGE_HAVE_AVX2_KERNELS
  const int64_t k = packed_.k, kp = packed_.kp, n = packed_.n;
  if (rows == 1) {
    // Matrix-vector: the int8 weights are read once, at half the bytes of
    // the int16 GEMM panels.
    const int32_t zx = p.input.zero_point;
    const int32_t* zw =
        gemv_.zero_points.empty() ? nullptr : gemv_.zero_points.data();
    std::vector<int32_t> acc(static_cast<size_t>(n));
    uint32_t x_sum = 0;
    if (gemv_.sign) {
      std::vector<int8_t> x(static_cast<size_t>(gemv_.kp), 0);
      std::copy(input, input + k, x.begin());
      if (zw != nullptr) {
        for (int64_t kk = 0; kk < k; ++kk) {
          x_sum += static_cast<uint32_t>(static_cast<int32_t>(input[kk]));
        }
      }
      avx2::GemvS8Sign(x.data(), gemv_.kp, gemv_.data.data(), n,
                       gemv_.bias.data(), zw, static_cast<int32_t>(x_sum),
                       acc.data());
    } else {
      std::vector<int16_t> x(static_cast<size_t>(gemv_.kp), 0);
      avx2::ConvertS8ToS16(input, k, zx, x.data());
      if (zw != nullptr) {
        for (int64_t kk = 0; kk < k; ++kk) {
          x_sum += static_cast<uint32_t>(static_cast<int32_t>(x[kk]));
        }
      }
      avx2::GemvS8(x.data(), gemv_.kp, gemv_.data.data(), n, bias, zw,
                   static_cast<int32_t>(x_sum), acc.data());
    }
    output_.Row(acc.data(), n, output);
    return absl::OkStatus();
  }
  const int64_t chunk = std::min<int64_t>(rows, kRowChunk);
  std::vector<int16_t> a(static_cast<size_t>(chunk * kp), 0);
  std::vector<int32_t> acc(static_cast<size_t>(chunk * n));
  for (int64_t m0 = 0; m0 < rows; m0 += chunk) {
    const int64_t mc = std::min(chunk, rows - m0);
    if (kp == k) {
      avx2::ConvertS8ToS16(input + m0 * k, mc * k, p.input.zero_point,
                           a.data());
    } else {
      for (int64_t r = 0; r < mc; ++r) {
        avx2::ConvertS8ToS16(input + (m0 + r) * k, k, p.input.zero_point,
                             a.data() + r * kp);
        a[r * kp + k] = 0;
      }
    }
    avx2::GemmS16(a.data(), mc, kp, kp, packed_.data.data(), n, bias,
                  acc.data(), n);
    for (int64_t r = 0; r < mc; ++r) {
      output_.Row(acc.data() + r * n, n, output + (m0 + r) * n);
    }
  }
  return absl::OkStatus();
#else
  return reference::FullyConnected(profile_, p, input, weights_.data(), bias,
                                   output);
#endif
}

absl::Status FullyConnectedKernel::RunVnni(int64_t rows, const int8_t* input,
                                           int8_t* output) const {
  const int64_t k = params_.input_depth, n = params_.output_depth;
  const int64_t lda = vnni_.kq * 4;
  const int64_t chunk = std::min<int64_t>(rows, kRowChunk);
  std::vector<uint8_t> a(static_cast<size_t>(chunk * lda), 0);
  std::vector<int32_t> acc(static_cast<size_t>(chunk * n));
  for (int64_t m0 = 0; m0 < rows; m0 += chunk) {
    const int64_t mc = std::min(chunk, rows - m0);
    for (int64_t r = 0; r < mc; ++r) {
      const int8_t* x = input + (m0 + r) * k;
      uint8_t* dst = a.data() + r * lda;
      for (int64_t kk = 0; kk < k; ++kk) {
        dst[kk] = static_cast<uint8_t>(static_cast<int32_t>(x[kk]) + 128);
      }
    }
    vnni_gemm_(a.data(), mc, lda, vnni_.kq, vnni_.data.data(), n,
               vnni_.bias.data(), acc.data(), n);
    for (int64_t r = 0; r < mc; ++r) {
      int32_t* row = acc.data() + r * n;
      if (!vnni_.zero_points.empty()) {
        const int8_t* x = input + (m0 + r) * k;
        uint32_t xsum = 0;
        for (int64_t kk = 0; kk < k; ++kk) {
          xsum += static_cast<uint32_t>(static_cast<int32_t>(x[kk]));
        }
        CorrectRow(vnni_, xsum, row);
      }
      output_.Row(row, n, output + (m0 + r) * n);
    }
  }
  return absl::OkStatus();
}

// --- Conv2D
// --------------------------------------------------------------------

Conv2DKernel Conv2DKernel::Create(Isa isa, ArithmeticProfile profile,
                                  const reference::Conv2DParams& p,
                                  const int8_t* weights, const int32_t* bias) {
  const Isa chosen = ImplementedIsa(isa);
  const GemmU8S8Fn gemm = VnniGemmFor(chosen);
  return CreateImpl(gemm != nullptr ? chosen : std::min(chosen, Isa::kAvx2),
                    gemm, profile, p, weights, bias);
}

Conv2DKernel Conv2DKernel::CreateWithVnniGemmForTesting(
    Isa isa, GemmU8S8Fn gemm, ArithmeticProfile profile,
    const reference::Conv2DParams& p, const int8_t* weights,
    const int32_t* bias) {
  return CreateImpl(isa, gemm, profile, p, weights, bias);
}

Conv2DKernel Conv2DKernel::CreateImpl(Isa chosen, GemmU8S8Fn vnni_gemm,
                                      ArithmeticProfile profile,
                                      const reference::Conv2DParams& p,
                                      const int8_t* weights,
                                      const int32_t* bias) {
  Conv2DKernel kernel;
  kernel.profile_ = profile;
  kernel.params_ = p;
  const reference::ConvGeometry& g = p.geometry;
  const bool channels_ok = p.input_channels > 0 && p.output_channels > 0 &&
                           p.groups > 0 && p.input_channels % p.groups == 0 &&
                           p.output_channels % p.groups == 0;
  const int64_t cg = channels_ok ? p.input_channels / p.groups : 0;
  absl::StatusOr<int64_t> w_count = CheckedElementCount(
      {p.output_channels, g.kernel_height, g.kernel_width, cg}, "weights");
  if (channels_ok && w_count.ok() && weights != nullptr) {
    kernel.weights_.assign(weights, weights + *w_count);
  }
  if (bias != nullptr && p.output_channels > 0) {
    kernel.bias_.assign(bias, bias + p.output_channels);
  }
  if (chosen == Isa::kScalar || !channels_ok || !w_count.ok() ||
      weights == nullptr || g.kernel_height <= 0 || g.kernel_width <= 0 ||
      !QuantParamsOk(p.input, p.weights, p.output_channels, p.output) ||
      (profile == ArithmeticProfile::kTfliteReference &&
       !p.weights.all_zero_points_zero())) {
    return kernel;
  }
  absl::StatusOr<reference::Requantizer> requantizer =
      reference::Requantizer::ForLinear(profile, p.input.scale,
                                        p.weights.scales, p.output.scale,
                                        p.output.zero_point, p.activation);
  if (!requantizer.ok()) return kernel;
  const int64_t og = p.output_channels / p.groups;
  const int64_t kdim = g.kernel_height * g.kernel_width * cg;
  // For even cg the direct layout equals the im2col one.
  kernel.direct_ = vnni_gemm == nullptr && cg >= kDirectMinChannels;
  for (int64_t grp = 0; grp < p.groups; ++grp) {
    // B[k][n]: k = (ky * kW + kx) * cg + c, n = output channel in the group;
    // OHWI weights hold exactly that order per output channel.
    auto weight_at = [&](int64_t kk, int64_t col) {
      return weights[(grp * og + col) * kdim + kk];
    };
    if (vnni_gemm != nullptr) {
      kernel.vnni_.push_back(PackVnni(
          kdim, og, p.input.zero_point,
          bias != nullptr ? bias + grp * og : nullptr,
          [&](int64_t col) { return p.weights.zero_point(grp * og + col); },
          weight_at));
      continue;
    }
    if (kernel.direct_) {
      // K = taps x (cg padded to even): the padding channel reads the next
      // channel of the converted image, so its weight is 0.
      const int64_t cgp = cg + cg % 2;
      const int64_t taps = g.kernel_height * g.kernel_width;
      kernel.packed_.push_back(
          PackB(taps * cgp, og, [&](int64_t kk, int64_t col) {
            const int64_t ch = kk % cgp;
            if (ch >= cg) return 0;
            return static_cast<int32_t>(weight_at(kk / cgp * cg + ch, col)) -
                   p.weights.zero_point(grp * og + col);
          }));
      continue;
    }
    kernel.packed_.push_back(PackB(kdim, og, [&](int64_t kk, int64_t col) {
      return static_cast<int32_t>(weight_at(kk, col)) -
             p.weights.zero_point(grp * og + col);
    }));
  }
  kernel.vnni_gemm_ = vnni_gemm;
  kernel.output_ =
      OutputStage(*std::move(requantizer), p.output_channels, chosen);
  kernel.isa_ = chosen;
  return kernel;
}

absl::Status Conv2DKernel::RunReference(const reference::ConvGeometry& g,
                                        const int8_t* input,
                                        int8_t* output) const {
  reference::Conv2DParams p = params_;
  p.geometry = g;
  return reference::Conv2D(profile_, p, input, weights_.data(),
                           bias_.empty() ? nullptr : bias_.data(), output);
}

absl::Status Conv2DKernel::Run(const reference::ConvGeometry& g,
                               const int8_t* input, int8_t* output) const {
  if (isa_ == Isa::kScalar || input == nullptr || output == nullptr ||
      !SameWindow(g, params_.geometry) ||
      !GeometryOk(g, params_.input_channels, params_.output_channels)) {
    return RunReference(g, input, output);
  }
  if (vnni_gemm_ != nullptr) return RunVnni(g, input, output);
#ifdef QFORGE_HAVE_AVX2_KERNELS
  const int64_t C = params_.input_channels, O = params_.output_channels;
  const int64_t groups = params_.groups, cg = C / groups, og = O / groups;
  const int64_t OH = g.output_height(), OW = g.output_width();
  const int64_t positions = g.batch * OH * OW;
  const int32_t zx = params_.input.zero_point;
  const int32_t* bias = bias_.empty() ? nullptr : bias_.data();
  const int64_t kp = packed_[0].kp;
  const int64_t kdim = packed_[0].k;
  const bool pointwise = g.kernel_height == 1 && g.kernel_width == 1 &&
                         g.stride_height == 1 && g.stride_width == 1 &&
                         g.pad_top == 0 && g.pad_left == 0 &&
                         g.pad_bottom == 0 && g.pad_right == 0 && groups == 1;
  const int64_t chunk = std::min<int64_t>(positions, kRowChunk);
  std::vector<int32_t> acc(
      static_cast<size_t>(std::max<int64_t>(chunk, 1) * O));
  // Direct: a zero-padded int16 copy of one input image (x - zx, padding
  // 0, channel stride cs) whose pixels are read in place per tap; images
  // larger than kDirectMaxImage elements use im2col (bounded scratch).
  const int64_t cs = C + cg % 2;
  const bool small_pads = std::max({g.pad_top, g.pad_bottom, g.pad_left,
                                    g.pad_right}) <= kDirectMaxImage;
  const int64_t ph = small_pads ? g.input_height + g.pad_top + g.pad_bottom : 0;
  const int64_t pw = small_pads ? g.input_width + g.pad_left + g.pad_right : 0;
  absl::StatusOr<int64_t> image_size = CheckedElementCount({ph, pw, cs}, "");
  if (direct_ && !(pointwise && kp == C) && small_pads && image_size.ok() &&
      *image_size <= kDirectMaxImage) {
    std::vector<int16_t> img(static_cast<size_t>(ph * pw * cs), 0);
    const int64_t cgp = cg + cg % 2;
    std::vector<avx2::KSegment> segments;
    for (int64_t ky = 0; ky < g.kernel_height; ++ky) {
      for (int64_t kx = 0; kx < g.kernel_width; ++kx) {
        segments.push_back(
            {(ky * g.dilation_height * pw + kx * g.dilation_width) * cs,
             cgp / 2});
      }
    }
    std::vector<const int16_t*> rows_ptr(static_cast<size_t>(chunk));
    const int64_t image_positions = OH * OW;
    for (int64_t b = 0; b < g.batch; ++b) {
      for (int64_t iy = 0; iy < g.input_height; ++iy) {
        const int8_t* src =
            input + (b * g.input_height + iy) * g.input_width * C;
        int16_t* dst = img.data() + ((iy + g.pad_top) * pw + g.pad_left) * cs;
        if (cs == C) {
          avx2::ConvertS8ToS16(src, g.input_width * C, zx, dst);
        } else {
          for (int64_t ix = 0; ix < g.input_width; ++ix) {
            avx2::ConvertS8ToS16(src + ix * C, C, zx, dst + ix * cs);
          }
        }
      }
      int8_t* image_out = output + b * image_positions * O;
      for (int64_t pos0 = 0; pos0 < image_positions; pos0 += chunk) {
        const int64_t rows = std::min(chunk, image_positions - pos0);
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t oy = (pos0 + r) / OW, ox = (pos0 + r) % OW;
          rows_ptr[r] = img.data() +
                        (oy * g.stride_height * pw + ox * g.stride_width) * cs;
        }
        for (int64_t grp = 0; grp < groups; ++grp) {
          if (grp > 0) {
            for (int64_t r = 0; r < rows; ++r) rows_ptr[r] += cg;
          }
          avx2::GemmS16Indirect(rows_ptr.data(), rows, segments.data(),
                                static_cast<int64_t>(segments.size()),
                                packed_[grp].data.data(), kp, og,
                                bias != nullptr ? bias + grp * og : nullptr,
                                acc.data() + grp * og, O);
        }
        for (int64_t r = 0; r < rows; ++r) {
          output_.Row(acc.data() + r * O, O, image_out + (pos0 + r) * O);
        }
      }
    }
    return absl::OkStatus();
  }
  // im2col. With the direct packing each tap holds cg + cg % 2 values (the
  // padding one stays 0 in `a`).
  const int64_t tap_k = direct_ ? cg + cg % 2 : cg;
  std::vector<int16_t> a(static_cast<size_t>(std::max<int64_t>(chunk, 1) * kp),
                         0);
  for (int64_t pos0 = 0; pos0 < positions; pos0 += chunk) {
    const int64_t rows = std::min(chunk, positions - pos0);
    for (int64_t grp = 0; grp < groups; ++grp) {
      if (pointwise && kp == C) {
        // 1x1, stride 1, no padding: the input pixels are the GEMM rows.
        avx2::ConvertS8ToS16(input + pos0 * C, rows * C, zx, a.data());
      } else {
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t pos = pos0 + r;
          const int64_t b = pos / (OH * OW);
          const int64_t oy = (pos / OW) % OH, ox = pos % OW;
          const int64_t y0 = oy * g.stride_height - g.pad_top;
          const int64_t x0 = ox * g.stride_width - g.pad_left;
          int16_t* dst = a.data() + r * kp;
          for (int64_t ky = 0; ky < g.kernel_height; ++ky) {
            const int64_t iy = y0 + ky * g.dilation_height;
            for (int64_t kx = 0; kx < g.kernel_width; ++kx, dst += tap_k) {
              const int64_t ix = x0 + kx * g.dilation_width;
              if (iy < 0 || iy >= g.input_height || ix < 0 ||
                  ix >= g.input_width) {
                // Padding: x - zx = 0.
                std::fill(dst, dst + cg, int16_t{0});
                continue;
              }
              avx2::ConvertS8ToS16(
                  input + ((b * g.input_height + iy) * g.input_width + ix) * C +
                      grp * cg,
                  cg, zx, dst);
            }
          }
          if (kp != kdim) a[r * kp + kdim] = 0;
        }
      }
      avx2::GemmS16(a.data(), rows, kp, kp, packed_[grp].data.data(), og,
                    bias != nullptr ? bias + grp * og : nullptr,
                    acc.data() + grp * og, O);
    }
    for (int64_t r = 0; r < rows; ++r) {
      output_.Row(acc.data() + r * O, O, output + (pos0 + r) * O);
    }
  }
  return absl::OkStatus();
#else
  return RunReference(g, input, output);
#endif
}

absl::Status Conv2DKernel::RunVnni(const reference::ConvGeometry& g,
                                   const int8_t* input, int8_t* output) const {
  const int64_t C = params_.input_channels, O = params_.output_channels;
  const int64_t groups = params_.groups, cg = C / groups, og = O / groups;
  const int64_t OH = g.output_height(), OW = g.output_width();
  const int64_t positions = g.batch * OH * OW;
  const int32_t zx = params_.input.zero_point;
  const uint8_t pad_byte = static_cast<uint8_t>(zx + 128);  // x - zx = 0
  const int64_t lda = vnni_[0].kq * 4;
  const int64_t chunk = std::min<int64_t>(positions, kRowChunk);
  std::vector<uint8_t> a(static_cast<size_t>(std::max<int64_t>(chunk, 1) * lda),
                         0);
  std::vector<int32_t> acc(
      static_cast<size_t>(std::max<int64_t>(chunk, 1) * O));
  std::vector<uint32_t> x_sum(static_cast<size_t>(std::max<int64_t>(chunk, 1)));
  for (int64_t pos0 = 0; pos0 < positions; pos0 += chunk) {
    const int64_t rows = std::min(chunk, positions - pos0);
    for (int64_t grp = 0; grp < groups; ++grp) {
      const PackedVnniB& v = vnni_[grp];
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t pos = pos0 + r;
        const int64_t b = pos / (OH * OW);
        const int64_t oy = (pos / OW) % OH, ox = pos % OW;
        const int64_t y0 = oy * g.stride_height - g.pad_top;
        const int64_t x0 = ox * g.stride_width - g.pad_left;
        uint8_t* dst = a.data() + r * lda;
        uint32_t sum = 0;
        for (int64_t ky = 0; ky < g.kernel_height; ++ky) {
          const int64_t iy = y0 + ky * g.dilation_height;
          for (int64_t kx = 0; kx < g.kernel_width; ++kx, dst += cg) {
            const int64_t ix = x0 + kx * g.dilation_width;
            if (iy < 0 || iy >= g.input_height || ix < 0 ||
                ix >= g.input_width) {
              std::fill(dst, dst + cg, pad_byte);
              sum += static_cast<uint32_t>(zx) * static_cast<uint32_t>(cg);
              continue;
            }
            const int8_t* x =
                input + ((b * g.input_height + iy) * g.input_width + ix) * C +
                grp * cg;
            for (int64_t c = 0; c < cg; ++c) {
              dst[c] = static_cast<uint8_t>(static_cast<int32_t>(x[c]) + 128);
              sum += static_cast<uint32_t>(static_cast<int32_t>(x[c]));
            }
          }
        }
        x_sum[r] = sum;
      }
      vnni_gemm_(a.data(), rows, lda, v.kq, v.data.data(), og, v.bias.data(),
                 acc.data() + grp * og, O);
      if (!v.zero_points.empty()) {
        for (int64_t r = 0; r < rows; ++r) {
          CorrectRow(v, x_sum[r], acc.data() + r * O + grp * og);
        }
      }
    }
    for (int64_t r = 0; r < rows; ++r) {
      output_.Row(acc.data() + r * O, O, output + (pos0 + r) * O);
    }
  }
  return absl::OkStatus();
}

// --- DepthwiseConv2D
// -------------------------------------------------------------

DepthwiseConv2DKernel DepthwiseConv2DKernel::Create(
    Isa isa, ArithmeticProfile profile,
    const reference::DepthwiseConv2DParams& p, const int8_t* weights,
    const int32_t* bias) {
  DepthwiseConv2DKernel kernel;
  kernel.profile_ = profile;
  kernel.params_ = p;
  const reference::ConvGeometry& g = p.geometry;
  const bool channels_ok =
      p.input_channels > 0 && p.depth_multiplier > 0 &&
      CheckedElementCount({p.input_channels, p.depth_multiplier}, "").ok();
  const int64_t oc = channels_ok ? p.input_channels * p.depth_multiplier : 0;
  absl::StatusOr<int64_t> w_count =
      CheckedElementCount({g.kernel_height, g.kernel_width, oc}, "weights");
  if (channels_ok && w_count.ok() && weights != nullptr) {
    kernel.weights_.assign(weights, weights + *w_count);
  }
  if (bias != nullptr && oc > 0) kernel.bias_.assign(bias, bias + oc);
  Isa chosen = std::min(ImplementedIsa(isa), Isa::kAvx2);
  if (chosen == Isa::kScalar || !channels_ok || !w_count.ok() ||
      weights == nullptr || g.kernel_height <= 0 || g.kernel_width <= 0 ||
      !QuantParamsOk(p.input, p.weights, oc, p.output) ||
      (profile == ArithmeticProfile::kTfliteReference &&
       !p.weights.all_zero_points_zero())) {
    return kernel;
  }
  absl::StatusOr<reference::Requantizer> requantizer =
      reference::Requantizer::ForLinear(profile, p.input.scale,
                                        p.weights.scales, p.output.scale,
                                        p.output.zero_point, p.activation);
  if (!requantizer.ok()) return kernel;
  const int64_t padded = (oc + 7) / 8 * 8;
  const int64_t taps = g.kernel_height * g.kernel_width;
  const int64_t kw = g.kernel_width;
  // Vertical tap pairs: rows 2j and 2j + 1 at the same kx.
  const int64_t row_pairs = (g.kernel_height + 1) / 2;
  kernel.padded_channels_ = padded;
  kernel.packed_.assign(static_cast<size_t>(row_pairs * kw * padded * 2), 0);
  kernel.folded_bias_.assign(static_cast<size_t>(padded), 0);
  const uint32_t zx = static_cast<uint32_t>(p.input.zero_point);
  for (int64_t o = 0; o < oc; ++o) {
    const int32_t zw = p.weights.zero_point(o);
    uint32_t wsum = 0;
    for (int64_t t = 0; t < taps; ++t) {
      const int32_t w = static_cast<int32_t>(weights[t * oc + o]) - zw;
      const int64_t ky = t / kw, kx = t % kw;
      kernel.packed_[(((ky / 2) * kw + kx) * padded + o) * 2 + ky % 2] =
          static_cast<int16_t>(w);
      wsum += static_cast<uint32_t>(w);
    }
    const uint32_t b = bias != nullptr ? static_cast<uint32_t>(bias[o]) : 0;
    kernel.folded_bias_[o] = static_cast<int32_t>(b - zx * wsum);
  }
  if (profile == ArithmeticProfile::kOnnxRuntime) {
    const std::vector<float>& s = requantizer->ort_scales();
    kernel.scales_.assign(static_cast<size_t>(padded), 1.0f);
    for (int64_t o = 0; o < oc; ++o) {
      kernel.scales_[o] = s.size() == 1 ? s[0] : s[o];
    }
  } else {
    const auto& m = requantizer->tflite_multipliers();
    kernel.multipliers_.assign(static_cast<size_t>(padded), 1 << 30);
    kernel.shifts_.assign(static_cast<size_t>(padded), 0);
    for (int64_t o = 0; o < oc; ++o) {
      const reference::QuantizedMultiplier& q = m.size() == 1 ? m[0] : m[o];
      // The vector MBQM needs a multiplier != INT32_MIN and |shift| <= 31
      // (QuantizeMultiplier gives [0, 2^31); other shifts stay scalar).
      if (q.multiplier == std::numeric_limits<int32_t>::min() ||
          q.shift < -31 || q.shift > 31) {
        return kernel;
      }
      kernel.multipliers_[o] = q.multiplier;
      kernel.shifts_[o] = q.shift;
    }
  }
  kernel.isa_ = chosen;
  return kernel;
}

absl::Status DepthwiseConv2DKernel::RunReference(
    const reference::ConvGeometry& g, const int8_t* input,
    int8_t* output) const {
  reference::DepthwiseConv2DParams p = params_;
  p.geometry = g;
  return reference::DepthwiseConv2D(profile_, p, input, weights_.data(),
                                    bias_.empty() ? nullptr : bias_.data(),
                                    output);
}

absl::Status DepthwiseConv2DKernel::Run(const reference::ConvGeometry& g,
                                        const int8_t* input,
                                        int8_t* output) const {
  const int64_t C = params_.input_channels;
  const int64_t M = params_.depth_multiplier;
  if (isa_ == Isa::kScalar || input == nullptr || output == nullptr ||
      !SameWindow(g, params_.geometry) || !GeometryOk(g, C, C * M) ||
      !CheckedElementCount({g.input_height, g.input_width, C * M, 2}, "")
           .ok()) {
    return RunReference(g, input, output);
  }
#ifdef QFORGE_HAVE_AVX2_KERNELS
  const reference::ActivationRange& act = params_.activation;
  avx2::DepthwiseConvArgs d;
  d.input = input;
  d.output = output;
  d.batch = g.batch;
  d.in_h = g.input_height;
  d.in_w = g.input_width;
  d.in_channels = C;
  d.multiplier = M;
  d.kh = g.kernel_height;
  d.kw = g.kernel_width;
  d.stride_h = g.stride_height;
  d.stride_w = g.stride_width;
  d.dilation_h = g.dilation_height;
  d.dilation_w = g.dilation_width;
  d.pad_top = g.pad_top;
  d.pad_left = g.pad_left;
  d.out_h = g.output_height();
  d.out_w = g.output_width();
  d.input_zero_point = params_.input.zero_point;
  d.weights = packed_.data();
  d.bias = folded_bias_.data();
  d.padded_channels = padded_channels_;
  d.tflite = profile_ == ArithmeticProfile::kTfliteReference;
  d.scales = scales_.data();
  d.multipliers = multipliers_.data();
  d.shifts = shifts_.data();
  d.output_zero_point = params_.output.zero_point;
  d.act_min = act.min;
  d.act_max = act.max;
  d.scratch = nullptr;
  std::vector<int8_t> scratch(
      static_cast<size_t>(avx2::DepthwiseScratchBytes(d)));
  d.scratch = scratch.data();
  avx2::DepthwiseConv(d);
  return absl::OkStatus();
#else
  return RunReference(g, input, output);
#endif
}

}  // namespace qforge::kernels::int8::fast
