#include "kernels/int8/fast/pooling.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/int8/reference/fixed_point.h"
#include "kernels/int8/reference/kernel_util.h"
#include "kernels/int8/reference/quantize.h"
#include "kernels/int8/reference/requantize.h"

#ifdef QFORGE_HAVE_AVX2_KERNELS
#include "kernels/int8/fast/avx2/avx2_pooling.h"
#endif

namespace qforge::kernels::int8::fast {
namespace {

using reference::internal::CheckedElementCount;

bool UseAvx2(Isa isa) {
#ifdef QFORGE_HAVE_AVX2_KERNELS
  return isa >= Isa::kAvx2 && CpuHasIsa(Isa::kAvx2);
#else
  static_cast<void>(isa);
  return false;
#endif
}

bool QuantOk(const reference::QuantParam& in, const reference::QuantParam& out,
             const reference::ActivationRange& act) {
  return reference::ValidateQuantParam(in, "").ok() &&
         reference::ValidateQuantParam(out, "").ok() &&
         reference::ValidateActivationRange(act).ok();
}

// Every check of the reference's pooling validation (which then reports the
// error): the vector path runs only when this holds.
bool PoolParamsOk(const reference::Pool2DParams& p, const int8_t* input,
                  const int8_t* output) {
  if (p.batch < 0 || p.input_height <= 0 || p.input_width <= 0 ||
      p.channels <= 0 || p.kernel_height <= 0 || p.kernel_width <= 0 ||
      p.stride_height <= 0 || p.stride_width <= 0 || p.pad_top < 0 ||
      p.pad_left < 0 || p.pad_bottom < 0 || p.pad_right < 0 ||
      p.output_height <= 0 || p.output_width <= 0 || input == nullptr ||
      output == nullptr) {
    return false;
  }
  if (!CheckedElementCount(
           {p.batch, p.input_height, p.input_width, p.channels, 2}, "")
           .ok() ||
      !CheckedElementCount(
           {p.batch, p.output_height, p.output_width, p.channels, 2}, "")
           .ok() ||
      !CheckedElementCount({p.kernel_height, p.kernel_width, 256}, "").ok() ||
      !CheckedElementCount({p.output_height, p.stride_height}, "").ok() ||
      !CheckedElementCount({p.output_width, p.stride_width}, "").ok()) {
    return false;
  }
  // No window entirely in the padding: window starts grow with the output
  // index, so the first and the last row (column) decide.
  auto axis_ok = [](int64_t out, int64_t stride, int64_t pad, int64_t kernel,
                    int64_t size) {
    const int64_t first = -pad, last = (out - 1) * stride - pad;
    return first + kernel > 0 && last < size;
  };
  return axis_ok(p.output_height, p.stride_height, p.pad_top, p.kernel_height,
                 p.input_height) &&
         axis_ok(p.output_width, p.stride_width, p.pad_left, p.kernel_width,
                 p.input_width) &&
         QuantOk(p.input, p.output, p.activation);
}

bool TfliteSameParams(const reference::QuantParam& in,
                      const reference::QuantParam& out) {
  return in.zero_point == out.zero_point &&
         std::fabs(in.scale - out.scale) <= 1.0e-6f;
}

int32_t ActivationLo(const reference::ActivationRange& a) {
  return std::max(a.min, reference::kInt8Min);
}
int32_t ActivationHi(const reference::ActivationRange& a) {
  return std::min(a.max, reference::kInt8Max);
}

#ifdef QFORGE_HAVE_AVX2_KERNELS
avx2::Pool2DArgs ArgsFor(const reference::Pool2DParams& p, const int8_t* input,
                         int8_t* output, avx2::PoolKind kind) {
  avx2::Pool2DArgs a;
  a.kind = kind;
  a.input = input;
  a.output = output;
  a.batch = p.batch;
  a.in_h = p.input_height;
  a.in_w = p.input_width;
  a.channels = p.channels;
  a.kh = p.kernel_height;
  a.kw = p.kernel_width;
  a.stride_h = p.stride_height;
  a.stride_w = p.stride_width;
  a.pad_top = p.pad_top;
  a.pad_left = p.pad_left;
  a.out_h = p.output_height;
  a.out_w = p.output_width;
  a.count_include_pad = p.count_include_pad;
  a.lo = ActivationLo(p.activation);
  a.hi = ActivationHi(p.activation);
  a.table = nullptr;
  a.input_scale = p.input.scale;
  a.output_scale = p.output.scale;
  a.input_zero_point = p.input.zero_point;
  a.output_zero_point = p.output.zero_point;
  return a;
}
#endif

}  // namespace

absl::Status MaxPool2D(Isa isa, ArithmeticProfile profile,
                       const reference::Pool2DParams& p, const int8_t* input,
                       int8_t* output) {
  if (!UseAvx2(isa) || !PoolParamsOk(p, input, output)) {
    return reference::MaxPool2D(profile, p, input, output);
  }
#ifdef QFORGE_HAVE_AVX2_KERNELS
  absl::StatusOr<reference::Int8Requantizer> requantizer =
      reference::Int8Requantizer::Create(profile, p.input, p.output);
  if (!requantizer.ok()) return reference::MaxPool2D(profile, p, input, output);
  const bool raw = requantizer->is_identity() ||
                   (profile == ArithmeticProfile::kTfliteReference &&
                    TfliteSameParams(p.input, p.output));
  // Not raw: the reference requantizes the int8 maximum, a function of one
  // byte, so a 256-entry table of the reference's own values.
  int8_t table[256];
  if (!raw) {
    for (int v = -128; v <= 127; ++v) {
      table[static_cast<uint8_t>(v)] =
          static_cast<int8_t>(reference::ClampToActivation(
              requantizer->Apply(static_cast<int8_t>(v)), p.activation));
    }
  }
  avx2::Pool2DArgs a = ArgsFor(p, input, output, avx2::PoolKind::kMax);
  a.table = raw ? nullptr : table;
  avx2::Pool2D(a);
  return absl::OkStatus();
#else
  return reference::MaxPool2D(profile, p, input, output);
#endif
}

absl::Status AveragePool2D(Isa isa, ArithmeticProfile profile,
                           const reference::Pool2DParams& p,
                           const int8_t* input, int8_t* output) {
  if (!UseAvx2(isa) || !PoolParamsOk(p, input, output)) {
    return reference::AveragePool2D(profile, p, input, output);
  }
#ifdef QFORGE_HAVE_AVX2_KERNELS
  avx2::PoolKind kind = avx2::PoolKind::kAverageOrt;
  if (profile == ArithmeticProfile::kTfliteReference) {
    // The reference rejects these (and reports it); int32 sums need
    // 128 * (kh * kw) + kh * kw / 2 < 2^31.
    if (!TfliteSameParams(p.input, p.output) || p.count_include_pad ||
        p.kernel_height * p.kernel_width > (int64_t{1} << 22)) {
      return reference::AveragePool2D(profile, p, input, output);
    }
    kind = avx2::PoolKind::kAverageTflite;
  } else {
    const bool global = p.kernel_height == p.input_height &&
                        p.kernel_width == p.input_width && p.pad_top == 0 &&
                        p.pad_left == 0 && p.pad_bottom == 0 &&
                        p.pad_right == 0;
    if (global) {
      if (p.output_height != 1 || p.output_width != 1) {
        return reference::AveragePool2D(profile, p, input, output);
      }
      reference::GlobalPoolParams g;
      g.batch = p.batch;
      g.height = p.input_height;
      g.width = p.input_width;
      g.channels = p.channels;
      g.input = p.input;
      g.output = p.output;
      g.activation = p.activation;
      return GlobalAveragePool(isa, profile, g, input, output);
    }
  }
  avx2::Pool2D(ArgsFor(p, input, output, kind));
  return absl::OkStatus();
#else
  return reference::AveragePool2D(profile, p, input, output);
#endif
}

absl::Status GlobalAveragePool(Isa isa, ArithmeticProfile profile,
                               const reference::GlobalPoolParams& p,
                               const int8_t* input, int8_t* output) {
  auto fallback = [&] {
    return reference::GlobalAveragePool(profile, p, input, output);
  };
  if (!UseAvx2(isa) || p.batch < 0 || p.height <= 0 || p.width <= 0 ||
      p.channels <= 0 || input == nullptr || output == nullptr ||
      !CheckedElementCount({p.batch, p.height, p.width, p.channels, 2}, "")
           .ok() ||
      !QuantOk(p.input, p.output, p.activation)) {
    return fallback();
  }
#ifdef QFORGE_HAVE_AVX2_KERNELS
  const int64_t n = p.height * p.width;
  const int64_t C = p.channels;
  // The reference's parameters (reference/pooling.cc, docs/arithmetic.md);
  // anything it rejects goes back to it for the error.
  float ort_scale = 0.0f;
  reference::QuantizedMultiplier tflite_m;
  if (profile == ArithmeticProfile::kOnnxRuntime) {
    const float denominator = p.output.scale * static_cast<float>(n);
    ort_scale = p.input.scale / denominator;
    if (n >= 0x1000000 || !(ort_scale >= 0x1.0p-32f) || !(ort_scale < 256.0f)) {
      return fallback();
    }
  } else {
    absl::StatusOr<reference::QuantizedMultiplier> base =
        reference::QuantizeMultiplierChecked(
            static_cast<double>(p.input.scale) /
            static_cast<double>(p.output.scale));
    if (!base.ok()) return fallback();
    int k = 63 - __builtin_clzll(static_cast<uint64_t>(n));
    k = std::min(k, 32);
    k = std::min(k, 31 + base->shift);
    tflite_m.multiplier =
        static_cast<int32_t>((static_cast<int64_t>(base->multiplier) << k) / n);
    tflite_m.shift = base->shift - k;
  }
  std::vector<int32_t> sums(static_cast<size_t>(p.batch * C));
  avx2::GlobalSums(input, p.batch, n, C, sums.data());
  const int32_t ort_bias = -p.input.zero_point * static_cast<int32_t>(n);
  for (int64_t i = 0; i < p.batch * C; ++i) {
    int32_t q;
    if (profile == ArithmeticProfile::kOnnxRuntime) {
      q = reference::RequantizeOrt(
          reference::internal::WrappingAdd(sums[i], ort_bias), ort_scale,
          p.output.zero_point);
    } else {
      const int32_t shifted =
          static_cast<int32_t>(static_cast<int64_t>(sums[i]) -
                               static_cast<int64_t>(p.input.zero_point) * n);
      q = reference::RequantizeTflite(shifted, tflite_m, p.output.zero_point);
    }
    output[i] =
        static_cast<int8_t>(reference::ClampToActivation(q, p.activation));
  }
  return absl::OkStatus();
#else
  return fallback();
#endif
}

absl::Status ReduceMean(Isa isa, ArithmeticProfile profile,
                        const reference::ReduceMeanParams& p,
                        const int8_t* input, int8_t* output) {
  auto fallback = [&] {
    return reference::ReduceMean(profile, p, input, output);
  };
  const int64_t rank = static_cast<int64_t>(p.dims.size());
  if (!UseAvx2(isa) || input == nullptr || output == nullptr ||
      p.axes.empty() || !QuantOk(p.input, p.output, p.activation)) {
    return fallback();
  }
  // One contiguous block of reduced axes [first, last], each in range, no
  // repeats.
  int64_t first = rank, last = -1;
  for (int64_t a : p.axes) {
    if (a < 0 || a >= rank) return fallback();
    first = std::min(first, a);
    last = std::max(last, a);
  }
  if (last - first + 1 != static_cast<int64_t>(p.axes.size())) {
    return fallback();  // repeats or a gap
  }
  std::vector<int64_t> outer_dims, reduced_dims, inner_dims;
  for (int64_t d = 0; d < rank; ++d) {
    (d < first   ? outer_dims
     : d <= last ? reduced_dims
                 : inner_dims)
        .push_back(p.dims[d]);
  }
  // Products with a guard (2^40 elements is far beyond any real tensor).
  auto product = [](const std::vector<int64_t>& dims) -> int64_t {
    int64_t v = 1;
    for (int64_t d : dims) {
      if (d <= 0 || v > (int64_t{1} << 40) / d) return -1;
      v *= d;
    }
    return v;
  };
  const int64_t outer_count = product(outer_dims);
  const int64_t n_count = product(reduced_dims);
  const int64_t inner_count = product(inner_dims);
  if (outer_count <= 0 || n_count <= 0 || inner_count <= 0 ||
      !CheckedElementCount({outer_count, n_count, inner_count, 4}, "").ok()) {
    return fallback();
  }
#ifdef QFORGE_HAVE_AVX2_KERNELS
  const int64_t out_count = outer_count * inner_count;
  if (profile == ArithmeticProfile::kOnnxRuntime) {
    std::vector<float> sums(static_cast<size_t>(out_count));
    avx2::GlobalFloatSums(input, outer_count, n_count, inner_count,
                          p.input.zero_point, p.input.scale, sums.data());
    for (int64_t j = 0; j < out_count; ++j) {
      const float mean = sums[j] / static_cast<float>(n_count);
      const int32_t q = reference::QuantizeValueOrt(
          mean, p.output.scale, p.output.zero_point, -128, 127);
      output[j] =
          static_cast<int8_t>(reference::ClampToActivation(q, p.activation));
    }
    return absl::OkStatus();
  }
  // tflite_reference: the spatial-mean formula with this n.
  absl::StatusOr<reference::QuantizedMultiplier> base =
      reference::QuantizeMultiplierChecked(static_cast<double>(p.input.scale) /
                                           static_cast<double>(p.output.scale));
  if (!base.ok()) return fallback();
  int k = 63 - __builtin_clzll(static_cast<uint64_t>(n_count));
  k = std::min(k, 32);
  k = std::min(k, 31 + base->shift);
  reference::QuantizedMultiplier m;
  m.multiplier = static_cast<int32_t>(
      (static_cast<int64_t>(base->multiplier) << k) / n_count);
  m.shift = base->shift - k;
  std::vector<int32_t> sums(static_cast<size_t>(out_count));
  avx2::GlobalSums(input, outer_count, n_count, inner_count, sums.data());
  for (int64_t j = 0; j < out_count; ++j) {
    const int32_t shifted = static_cast<int32_t>(
        static_cast<int64_t>(sums[j]) -
        static_cast<int64_t>(p.input.zero_point) * n_count);
    const int32_t q =
        reference::RequantizeTflite(shifted, m, p.output.zero_point);
    output[j] =
        static_cast<int8_t>(reference::ClampToActivation(q, p.activation));
  }
  return absl::OkStatus();
#else
  return fallback();
#endif
}

}  // namespace qforge::kernels::int8::fast
