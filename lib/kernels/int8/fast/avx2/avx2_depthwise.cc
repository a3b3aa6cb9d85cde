// AVX2 depthwise convolution (see avx2_depthwise.h). Compiled with -mavx2
// -ffp-contract=off; plain types only, every helper has internal linkage.
#include "kernels/int8/fast/avx2/avx2_depthwise.h"

#include <immintrin.h>

#include <cstdint>

#include "kernels/int8/fast/avx2/avx2_vector_requant.h"

namespace qforge::kernels::int8::fast::avx2 {
namespace {

int64_t RoundUp(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

struct Layout {
  int64_t O, padded, row_pairs, padded_width;
  int64_t expanded_bytes, zx_row_bytes, pair_row_elems;
};

Layout LayoutFor(const DepthwiseConvArgs& d) {
  Layout l;
  l.O = d.in_channels * d.multiplier;
  l.padded = d.padded_channels;
  l.row_pairs = (d.kh + 1) / 2;
  const int64_t reach =
      (d.out_w - 1) * d.stride_w + (d.kw - 1) * d.dilation_w + 1;
  l.padded_width = d.pad_left + d.in_w > reach ? d.pad_left + d.in_w : reach;
  l.expanded_bytes = d.multiplier > 1 ? RoundUp(d.in_h * d.in_w * l.O, 64) : 0;
  l.zx_row_bytes = RoundUp(d.in_w * l.O + 16, 64);
  l.pair_row_elems = l.padded_width * l.padded * 2;  // int16
  return l;
}

// 8 channels of two rows as int16 pairs (a[c], b[c]); n < 8 reads n bytes.
inline __m256i PairUp(const int8_t* a, const int8_t* b, int64_t n) {
  __m128i va, vb;
  if (n == 8) {
    va = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(a));
    vb = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b));
  } else {
    alignas(16) int8_t ta[16] = {}, tb[16] = {};
    for (int64_t j = 0; j < n; ++j) {
      ta[j] = a[j];
      tb[j] = b[j];
    }
    va = _mm_load_si128(reinterpret_cast<const __m128i*>(ta));
    vb = _mm_load_si128(reinterpret_cast<const __m128i*>(tb));
  }
  return _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(va, vb));
}

// One row of pairs: dst[xp][o][2] = (row_a[xp - pad_left][o],
// row_b[xp - pad_left][o]), zx outside [0, in_w).
void BuildPairRow(const int8_t* row_a, const int8_t* row_b, int64_t in_w,
                  int64_t pad_left, int64_t padded_width, int64_t O,
                  int64_t padded, const __m256i zx_pairs, int16_t* dst) {
  for (int64_t xp = 0; xp < padded_width; ++xp) {
    int16_t* out = dst + xp * padded * 2;
    const int64_t ix = xp - pad_left;
    if (ix < 0 || ix >= in_w) {
      for (int64_t c = 0; c < padded; c += 8) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + c * 2), zx_pairs);
      }
      continue;
    }
    const int8_t* a = row_a + ix * O;
    const int8_t* b = row_b + ix * O;
    int64_t c = 0;
    for (; c + 16 <= O; c += 16) {
      const __m128i va =
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + c));
      const __m128i vb =
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + c));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + c * 2),
                          _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(va, vb)));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + c * 2 + 16),
                          _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(va, vb)));
    }
    for (; c < padded; c += 8) {
      const int64_t n = O - c < 8 ? O - c : 8;
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + c * 2),
                          PairUp(a + c, b + c, n));
    }
  }
}

// K output pixels (ox0, ox0 + 1, ...) x 8 channels [c, c + 8).
template <int K>
inline void PixelBlock(const int16_t* const* rows, int64_t offset,
                       int64_t row_pairs, int64_t kw, int64_t pixel_step,
                       int64_t tap_step, const int16_t* weights, int64_t padded,
                       const int32_t* bias, int64_t c, int64_t lanes,
                       const VecOutputParams& out_params, int8_t* out,
                       int64_t out_step) {
  __m256i acc[K];
  const __m256i b =
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + c));
#pragma GCC unroll 8
  for (int k = 0; k < K; ++k) acc[k] = b;
  const int16_t* w = weights + c * 2;
  for (int64_t j = 0; j < row_pairs; ++j) {
    const int16_t* x = rows[j] + offset + c * 2;
    for (int64_t kx = 0; kx < kw; ++kx, x += tap_step, w += padded * 2) {
      const __m256i wv =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
#pragma GCC unroll 8
      for (int k = 0; k < K; ++k) {
        acc[k] = _mm256_add_epi32(
            acc[k], _mm256_madd_epi16(
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(
                            x + k * pixel_step)),
                        wv));
      }
    }
  }
  if (K % 2 == 0 && lanes == 8) {
    // Two pixels per pack: bytes 0-7 of pixel k, 8-15 of pixel k + 1.
#pragma GCC unroll 4
    for (int k = 0; k < K; k += 2) {
      const __m128i bytes =
          PackInt32x16(VecRequantize8(acc[k], c, out_params),
                       VecRequantize8(acc[k + 1], c, out_params));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + k * out_step + c),
                       bytes);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + (k + 1) * out_step + c),
                       _mm_unpackhi_epi64(bytes, bytes));
    }
    return;
  }
#pragma GCC unroll 4
  for (int k = 0; k < K; ++k) {
    StoreInt8x8(VecRequantize8(acc[k], c, out_params), lanes,
                out + k * out_step + c);
  }
}

// Rows of pairs are cached (2 * J slots, tagged by their first input row)
// so that an output row reuses the pair rows of the previous ones (with
// stride 1 and a 3x3 window every pair row is built once, not twice).
int64_t CacheSlots(const Layout& l) { return 2 * l.row_pairs; }

}  // namespace

int64_t DepthwiseScratchBytes(const DepthwiseConvArgs& d) {
  const Layout l = LayoutFor(d);
  return l.expanded_bytes + l.zx_row_bytes +
         CacheSlots(l) * l.pair_row_elems * 2 + 64 + CacheSlots(l) * 2 * 8 +
         l.row_pairs * 8;
}

void DepthwiseConv(const DepthwiseConvArgs& d) {
  const Layout l = LayoutFor(d);
  const int64_t C = d.in_channels, M = d.multiplier, O = l.O;
  const int64_t H = d.in_h, W = d.in_w;
  int8_t* expanded = d.scratch;
  int8_t* zx_row = expanded + l.expanded_bytes;
  for (int64_t i = 0; i < W * O; ++i) {
    zx_row[i] = static_cast<int8_t>(d.input_zero_point);
  }
  int16_t* pair_rows = reinterpret_cast<int16_t*>(zx_row + l.zx_row_bytes);
  const int64_t slots = CacheSlots(l);
  // Slot bookkeeping in the scratch too (plain arrays): first input row
  // (INT64_MIN: empty), last output row that used it; the J rows of the
  // current output row.
  int64_t* tag = reinterpret_cast<int64_t*>(reinterpret_cast<char*>(pair_rows) +
                                            slots * l.pair_row_elems * 2 + 64);
  int64_t* used = tag + slots;
  const int16_t** rows = reinterpret_cast<const int16_t**>(used + slots);
  const __m256i zx_pairs =
      _mm256_set1_epi16(static_cast<int16_t>(d.input_zero_point));

  VecOutputParams out_params;
  out_params.tflite = d.tflite;
  out_params.scales = d.scales;
  out_params.multipliers = d.multipliers;
  out_params.shifts = d.shifts;
  out_params.clamp = MakeVecClamp(d.output_zero_point, d.act_min, d.act_max);

  const int64_t pixel_step = d.stride_w * l.padded * 2;  // int16 elements
  const int64_t tap_step = d.dilation_w * l.padded * 2;
  for (int64_t b = 0; b < d.batch; ++b) {
    const int8_t* image = d.input + b * H * W * C;
    if (M > 1) {
      if (M == 2) {
        const int64_t count = H * W * C;
        int64_t i = 0;
        for (; i + 16 <= count; i += 16) {
          const __m128i v =
              _mm_loadu_si128(reinterpret_cast<const __m128i*>(image + i));
          _mm_storeu_si128(reinterpret_cast<__m128i*>(expanded + 2 * i),
                           _mm_unpacklo_epi8(v, v));
          _mm_storeu_si128(reinterpret_cast<__m128i*>(expanded + 2 * i + 16),
                           _mm_unpackhi_epi8(v, v));
        }
        for (; i < count; ++i) expanded[2 * i] = expanded[2 * i + 1] = image[i];
      } else {
        for (int64_t i = 0; i < H * W * C; ++i) {
          int8_t* dst = expanded + i * M;
          for (int64_t m = 0; m < M; ++m) dst[m] = image[i];
        }
      }
      image = expanded;
    }
    auto row_at = [&](int64_t y) -> const int8_t* {
      return y < 0 || y >= H ? zx_row : image + y * W * O;
    };
    for (int64_t s = 0; s < slots; ++s) {
      tag[s] = INT64_MIN;
      used[s] = -1;
    }
    for (int64_t oy = 0; oy < d.out_h; ++oy) {
      const int64_t y0 = oy * d.stride_h - d.pad_top;
      for (int64_t j = 0; j < l.row_pairs; ++j) {
        // Pair row (ya, ya + dh); an odd kh's last row has a zero weight
        // for its second half, so the same pair row serves it.
        const int64_t ya = y0 + 2 * j * d.dilation_h;
        int64_t slot = -1;
        for (int64_t s = 0; s < slots && slot < 0; ++s) {
          if (tag[s] == ya) slot = s;
        }
        if (slot < 0) {
          // The least recently used slot not taken by this output row.
          for (int64_t s = 0; s < slots; ++s) {
            if (used[s] != oy && (slot < 0 || used[s] < used[slot])) slot = s;
          }
          int16_t* dst = pair_rows + slot * l.pair_row_elems;
          BuildPairRow(row_at(ya), row_at(ya + d.dilation_h), W, d.pad_left,
                       l.padded_width, O, l.padded, zx_pairs, dst);
          tag[slot] = ya;
        }
        used[slot] = oy;
        rows[j] = pair_rows + slot * l.pair_row_elems;
      }
      int8_t* out_row = d.output + (b * d.out_h + oy) * d.out_w * O;
      for (int64_t c = 0; c < O; c += 8) {
        const int64_t lanes = O - c < 8 ? O - c : 8;
        int64_t ox = 0;
        for (; ox + 8 <= d.out_w; ox += 8) {
          PixelBlock<8>(rows, ox * pixel_step, l.row_pairs, d.kw, pixel_step,
                        tap_step, d.weights, l.padded, d.bias, c, lanes,
                        out_params, out_row + ox * O, O);
        }
        for (; ox + 4 <= d.out_w; ox += 4) {
          PixelBlock<4>(rows, ox * pixel_step, l.row_pairs, d.kw, pixel_step,
                        tap_step, d.weights, l.padded, d.bias, c, lanes,
                        out_params, out_row + ox * O, O);
        }
        for (; ox < d.out_w; ++ox) {
          PixelBlock<1>(rows, ox * pixel_step, l.row_pairs, d.kw, pixel_step,
                        tap_step, d.weights, l.padded, d.bias, c, lanes,
                        out_params, out_row + ox * O, O);
        }
      }
    }
  }
}

}  // namespace qforge::kernels::int8::fast::avx2
