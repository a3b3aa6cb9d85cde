// AVX2 depthwise convolution (see avx2_depthwise.h). Compiled with -mavx2
// -ffp-contract=off; plain types only, every helper has internal linkage.
#include "kernels/int8/fast/avx2/avx2_depthwise.h"

#include <immintrin.h>

#include "kernels/int8/fast/avx2/avx2_vector_requant.h"

namespace qforge::kernels::int8::fast::avx2 {
namespace {

// Tap addresses of an output pixel inside the image: base + offset[t].
struct InteriorTaps {
  const int8_t* base;
  const int64_t* offsets;
  const int8_t* operator()(int64_t t) const { return base + offsets[t]; }
};

// Tap addresses of a border pixel (padding taps point at a zx row).
struct ListedTaps {
  const int8_t* const* taps;
  const int8_t* operator()(int64_t t) const { return taps[t]; }
};

// acc += the pairs' products for 8 channels whose int8 inputs of the two
// taps are the low 8 bytes of a and b.
inline __m256i MaddPair8(__m128i a, __m128i b, const int16_t* w, __m256i acc) {
  const __m256i x = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(a, b));
  return _mm256_add_epi32(
      acc, _mm256_madd_epi16(
               x, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w))));
}

// All output channels of one pixel.
template <typename Taps>
inline void Pixel(const Taps& taps, int64_t pairs, int64_t channels,
                  int64_t padded, const int16_t* weights, const int32_t* bias,
                  const VecOutputParams& out_params, int8_t* out) {
  const int64_t pair_stride = padded * 2;
  int64_t c = 0;
  for (; c + 32 <= channels; c += 32) {
    __m256i acc0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + c));
    __m256i acc1 =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + c + 8));
    __m256i acc2 =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + c + 16));
    __m256i acc3 =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + c + 24));
    const int16_t* w = weights + c * 2;
    for (int64_t p = 0; p < pairs; ++p, w += pair_stride) {
      const __m256i a =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(taps(2 * p) + c));
      const __m256i b = _mm256_loadu_si256(
          reinterpret_cast<const __m256i*>(taps(2 * p + 1) + c));
      // Within each 128-bit lane: lo = channels 0-7 | 16-23 interleaved
      // (a, b) bytes, hi = 8-15 | 24-31.
      const __m256i lo = _mm256_unpacklo_epi8(a, b);
      const __m256i hi = _mm256_unpackhi_epi8(a, b);
      const __m256i x0 = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(lo));
      const __m256i x1 = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(hi));
      const __m256i x2 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(lo, 1));
      const __m256i x3 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(hi, 1));
      acc0 = _mm256_add_epi32(
          acc0, _mm256_madd_epi16(x0, _mm256_loadu_si256(
                                          reinterpret_cast<const __m256i*>(w))));
      acc1 = _mm256_add_epi32(
          acc1, _mm256_madd_epi16(x1, _mm256_loadu_si256(
                                          reinterpret_cast<const __m256i*>(
                                              w + 16))));
      acc2 = _mm256_add_epi32(
          acc2, _mm256_madd_epi16(x2, _mm256_loadu_si256(
                                          reinterpret_cast<const __m256i*>(
                                              w + 32))));
      acc3 = _mm256_add_epi32(
          acc3, _mm256_madd_epi16(x3, _mm256_loadu_si256(
                                          reinterpret_cast<const __m256i*>(
                                              w + 48))));
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c),
                     PackInt32x16(VecRequantize8(acc0, c, out_params),
                                  VecRequantize8(acc1, c + 8, out_params)));
    _mm_storeu_si128(
        reinterpret_cast<__m128i*>(out + c + 16),
        PackInt32x16(VecRequantize8(acc2, c + 16, out_params),
                     VecRequantize8(acc3, c + 24, out_params)));
  }
  for (; c + 16 <= channels; c += 16) {
    __m256i acc0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + c));
    __m256i acc1 =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + c + 8));
    const int16_t* w = weights + c * 2;
    for (int64_t p = 0; p < pairs; ++p, w += pair_stride) {
      const __m128i a =
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(taps(2 * p) + c));
      const __m128i b =
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(taps(2 * p + 1) + c));
      acc0 = MaddPair8(a, b, w, acc0);
      acc1 = MaddPair8(_mm_unpackhi_epi64(a, a), _mm_unpackhi_epi64(b, b),
                       w + 16, acc1);
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c),
                     PackInt32x16(VecRequantize8(acc0, c, out_params),
                                  VecRequantize8(acc1, c + 8, out_params)));
  }
  for (; c < channels; c += 8) {
    const int64_t n = channels - c < 8 ? channels - c : 8;
    __m256i acc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + c));
    const int16_t* w = weights + c * 2;
    for (int64_t p = 0; p < pairs; ++p, w += pair_stride) {
      __m128i a, b;
      if (n == 8) {
        a = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(taps(2 * p) + c));
        b = _mm_loadl_epi64(
            reinterpret_cast<const __m128i*>(taps(2 * p + 1) + c));
      } else {
        // Channel tail: no read past the row (padding lanes have weight 0).
        alignas(16) int8_t ta[16] = {}, tb[16] = {};
        const int8_t* sa = taps(2 * p) + c;
        const int8_t* sb = taps(2 * p + 1) + c;
        for (int64_t j = 0; j < n; ++j) {
          ta[j] = sa[j];
          tb[j] = sb[j];
        }
        a = _mm_load_si128(reinterpret_cast<const __m128i*>(ta));
        b = _mm_load_si128(reinterpret_cast<const __m128i*>(tb));
      }
      acc = MaddPair8(a, b, w, acc);
    }
    const __m128i bytes = PackInt32x8(VecRequantize8(acc, c, out_params));
    if (n == 8) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + c), bytes);
    } else {
      alignas(16) int8_t tmp[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(tmp), bytes);
      for (int64_t j = 0; j < n; ++j) out[c + j] = tmp[j];
    }
  }
}

int64_t RoundUp64(int64_t v) { return (v + 63) / 64 * 64; }

}  // namespace

int64_t DepthwiseScratchBytes(const DepthwiseConvArgs& d) {
  const int64_t o = d.in_channels * d.multiplier;
  int64_t bytes = RoundUp64(o);  // the padding row (x = zx)
  if (d.multiplier > 1) bytes += d.in_h * d.in_w * o;  // expanded image
  return bytes;
}

void DepthwiseConv(const DepthwiseConvArgs& d) {
  const int64_t C = d.in_channels, M = d.multiplier, O = C * M;
  const int64_t H = d.in_h, W = d.in_w;
  const int64_t T = d.kh * d.kw, pairs = (T + 1) / 2;
  int8_t* pad_row = d.scratch;
  for (int64_t o = 0; o < O; ++o) pad_row[o] = static_cast<int8_t>(d.input_zero_point);
  int8_t* expanded = d.scratch + RoundUp64(O);

  // Interior tap offsets (in bytes of the O-channel image); the odd tap
  // count's padding tap repeats the last one (its weight is 0).
  int64_t offsets_small[64];
  int64_t* offsets = 2 * pairs <= 64 ? offsets_small : new int64_t[2 * pairs];
  for (int64_t t = 0; t < 2 * pairs; ++t) {
    const int64_t tt = t < T ? t : T - 1;
    const int64_t ky = tt / d.kw, kx = tt % d.kw;
    offsets[t] = (ky * d.dilation_h * W + kx * d.dilation_w) * O;
  }

  VecOutputParams out_params;
  out_params.tflite = d.tflite;
  out_params.scales = d.scales;
  out_params.multipliers = d.multipliers;
  out_params.shifts = d.shifts;
  out_params.clamp = MakeVecClamp(d.output_zero_point, d.act_min, d.act_max);

  const int64_t y_span = (d.kh - 1) * d.dilation_h;
  const int64_t x_span = (d.kw - 1) * d.dilation_w;
  for (int64_t b = 0; b < d.batch; ++b) {
    const int8_t* image = d.input + b * H * W * C;
    if (M > 1) {
      for (int64_t i = 0; i < H * W; ++i) {
        const int8_t* src = image + i * C;
        int8_t* dst = expanded + i * O;
        for (int64_t c = 0; c < C; ++c) {
          for (int64_t m = 0; m < M; ++m) dst[c * M + m] = src[c];
        }
      }
      image = expanded;
    }
    for (int64_t oy = 0; oy < d.out_h; ++oy) {
      const int64_t y0 = oy * d.stride_h - d.pad_top;
      const bool rows_inside = y0 >= 0 && y0 + y_span < H;
      int8_t* out_row = d.output + (b * d.out_h + oy) * d.out_w * O;
      for (int64_t ox = 0; ox < d.out_w; ++ox) {
        const int64_t x0 = ox * d.stride_w - d.pad_left;
        int8_t* out = out_row + ox * O;
        if (rows_inside && x0 >= 0 && x0 + x_span < W) {
          Pixel(InteriorTaps{image + (y0 * W + x0) * O, offsets}, pairs, O,
                d.padded_channels, d.weights, d.bias, out_params, out);
          continue;
        }
        for (int64_t t = 0; t < 2 * pairs; ++t) {
          const int64_t tt = t < T ? t : T - 1;
          const int64_t iy = y0 + (tt / d.kw) * d.dilation_h;
          const int64_t ix = x0 + (tt % d.kw) * d.dilation_w;
          d.taps[t] = (iy < 0 || iy >= H || ix < 0 || ix >= W)
                          ? pad_row
                          : image + (iy * W + ix) * O;
        }
        Pixel(ListedTaps{d.taps}, pairs, O, d.padded_channels, d.weights,
              d.bias, out_params, out);
      }
    }
  }
  if (offsets != offsets_small) delete[] offsets;
}

}  // namespace qforge::kernels::int8::fast::avx2
