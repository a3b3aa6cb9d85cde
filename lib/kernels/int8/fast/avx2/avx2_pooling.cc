// AVX2 pooling kernels (see avx2_pooling.h). Compiled with -mavx2
// -ffp-contract=off (and without -mfma: no multiply-add can be fused);
// plain types only, every helper has internal linkage.
#include "kernels/int8/fast/avx2/avx2_pooling.h"

#include <immintrin.h>

#include "kernels/int8/fast/avx2/avx2_vector_requant.h"

namespace qforge::kernels::int8::fast::avx2 {
namespace {

struct Window {
  int64_t y_begin, y_end, x_begin, x_end;
  int64_t count() const { return (y_end - y_begin) * (x_end - x_begin); }
};

// The reference's clipping: the end is clipped before the start.
Window WindowAt(const Pool2DArgs& a, int64_t oy, int64_t ox) {
  Window w;
  const int64_t y0 = oy * a.stride_h - a.pad_top;
  const int64_t x0 = ox * a.stride_w - a.pad_left;
  w.y_end = y0 + a.kh < a.in_h ? y0 + a.kh : a.in_h;
  w.x_end = x0 + a.kw < a.in_w ? x0 + a.kw : a.in_w;
  w.y_begin = y0 > 0 ? y0 : 0;
  w.x_begin = x0 > 0 ? x0 : 0;
  if (w.y_end < w.y_begin) w.y_end = w.y_begin;
  if (w.x_end < w.x_begin) w.x_end = w.x_begin;
  return w;
}

void MaxPixel(const Pool2DArgs& a, const int8_t* image, const Window& w,
              int8_t* out) {
  const int64_t C = a.channels;
  const __m256i lo = _mm256_set1_epi8(static_cast<char>(a.lo));
  const __m256i hi = _mm256_set1_epi8(static_cast<char>(a.hi));
  int64_t c = 0;
  for (; c + 32 <= C; c += 32) {
    __m256i m = _mm256_set1_epi8(-128);
    for (int64_t y = w.y_begin; y < w.y_end; ++y) {
      const int8_t* row = image + (y * a.in_w) * C + c;
      for (int64_t x = w.x_begin; x < w.x_end; ++x) {
        m = _mm256_max_epi8(
            m,
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + x * C)));
      }
    }
    if (a.table == nullptr) m = _mm256_min_epi8(_mm256_max_epi8(m, lo), hi);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + c), m);
  }
  for (; c < C; ++c) {
    int8_t m = -128;
    for (int64_t y = w.y_begin; y < w.y_end; ++y) {
      for (int64_t x = w.x_begin; x < w.x_end; ++x) {
        const int8_t v = image[(y * a.in_w + x) * C + c];
        m = v > m ? v : m;
      }
    }
    if (a.table == nullptr) {
      m = static_cast<int8_t>(m < a.lo ? a.lo : (m > a.hi ? a.hi : m));
    }
    out[c] = m;
  }
  if (a.table != nullptr) {
    for (int64_t i = 0; i < C; ++i) {
      out[i] = a.table[static_cast<uint8_t>(out[i])];
    }
  }
}

void AverageTflitePixel(const Pool2DArgs& a, const int8_t* image,
                        const Window& w, int8_t* out) {
  const int64_t C = a.channels;
  const int32_t n = static_cast<int32_t>(w.count());
  const __m256i half = _mm256_set1_epi32(n / 2);
  const __m256d divisor = _mm256_set1_pd(static_cast<double>(n));
  const __m256i lo = _mm256_set1_epi32(a.lo), hi = _mm256_set1_epi32(a.hi);
  for (int64_t c = 0; c < C; c += 8) {
    const int64_t lanes = C - c < 8 ? C - c : 8;
    __m256i s = _mm256_setzero_si256();
    for (int64_t y = w.y_begin; y < w.y_end; ++y) {
      const int8_t* row = image + (y * a.in_w) * C + c;
      for (int64_t x = w.x_begin; x < w.x_end; ++x) {
        s = _mm256_add_epi32(s, LoadInt8x8(row + x * C, lanes));
      }
    }
    const __m256i positive = _mm256_cmpgt_epi32(s, _mm256_setzero_si256());
    const __m256i num = _mm256_blendv_epi8(_mm256_sub_epi32(s, half),
                                           _mm256_add_epi32(s, half), positive);
    const __m128i q_lo = _mm256_cvttpd_epi32(_mm256_div_pd(
        _mm256_cvtepi32_pd(_mm256_castsi256_si128(num)), divisor));
    const __m128i q_hi = _mm256_cvttpd_epi32(_mm256_div_pd(
        _mm256_cvtepi32_pd(_mm256_extracti128_si256(num, 1)), divisor));
    __m256i q = _mm256_inserti128_si256(_mm256_castsi128_si256(q_lo), q_hi, 1);
    q = VecClampInt32(q, lo, hi);
    StoreInt8x8(q, lanes, out + c);
  }
}

// Sums of float(q - zx) * sx over the window for G groups of 8 channels
// at once (independent accumulators: the additions of one lane stay in the
// reference's order, rows outer, columns inner).
template <int G>
inline void OrtSums(const Pool2DArgs& a, const int8_t* image, const Window& w,
                    int64_t c, int64_t lanes, __m256* s) {
  const int64_t C = a.channels;
  const __m256 sx = _mm256_set1_ps(a.input_scale);
  const __m256i zx = _mm256_set1_epi32(a.input_zero_point);
#pragma GCC unroll 4
  for (int g = 0; g < G; ++g) s[g] = _mm256_setzero_ps();
  for (int64_t y = w.y_begin; y < w.y_end; ++y) {
    const int8_t* row = image + (y * a.in_w) * C + c;
    for (int64_t x = w.x_begin; x < w.x_end; ++x) {
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g) {
        const __m256i q = _mm256_sub_epi32(
            LoadInt8x8(row + x * C + 8 * g, G == 1 ? lanes : 8), zx);
        s[g] = _mm256_add_ps(s[g], _mm256_mul_ps(_mm256_cvtepi32_ps(q), sx));
      }
    }
  }
}

void AverageOrtPixel(const Pool2DArgs& a, const int8_t* image, const Window& w,
                     int8_t* out) {
  const int64_t C = a.channels;
  const int64_t n = a.count_include_pad ? a.kh * a.kw : w.count();
  const __m256 count = _mm256_set1_ps(static_cast<float>(n));
  const __m256 sy = _mm256_set1_ps(a.output_scale);
  const __m256 zy = _mm256_set1_ps(static_cast<float>(a.output_zero_point));
  const __m256i lo = _mm256_set1_epi32(a.lo), hi = _mm256_set1_epi32(a.hi);
  auto finish = [&](__m256 s, int64_t lanes, int8_t* dst) {
    const __m256 shifted =
        _mm256_add_ps(_mm256_div_ps(_mm256_div_ps(s, count), sy), zy);
    __m256i q = _mm256_cvtps_epi32(shifted);
    q = VecClampInt32(q, lo, hi);
    StoreInt8x8(q, lanes, dst);
  };
  int64_t c = 0;
  for (; c + 32 <= C; c += 32) {
    __m256 s[4];
    OrtSums<4>(a, image, w, c, 8, s);
    for (int g = 0; g < 4; ++g) finish(s[g], 8, out + c + 8 * g);
  }
  for (; c < C; c += 8) {
    const int64_t lanes = C - c < 8 ? C - c : 8;
    __m256 s[1];
    OrtSums<1>(a, image, w, c, lanes, s);
    finish(s[0], lanes, out + c);
  }
}

}  // namespace

void Pool2D(const Pool2DArgs& a) {
  const int64_t C = a.channels;
  for (int64_t b = 0; b < a.batch; ++b) {
    const int8_t* image = a.input + b * a.in_h * a.in_w * C;
    for (int64_t oy = 0; oy < a.out_h; ++oy) {
      for (int64_t ox = 0; ox < a.out_w; ++ox) {
        const Window w = WindowAt(a, oy, ox);
        const int8_t* origin = image + (w.y_begin * a.in_w) * C;
        // Pixel functions index rows from y_begin: shift the image back.
        Window local = w;
        local.y_end -= w.y_begin;
        local.y_begin = 0;
        int8_t* out = a.output + ((b * a.out_h + oy) * a.out_w + ox) * C;
        switch (a.kind) {
          case PoolKind::kMax:
            MaxPixel(a, origin, local, out);
            break;
          case PoolKind::kAverageTflite:
            AverageTflitePixel(a, origin, local, out);
            break;
          case PoolKind::kAverageOrt:
            AverageOrtPixel(a, origin, local, out);
            break;
        }
      }
    }
  }
}

void GlobalSums(const int8_t* input, int64_t batch, int64_t pixels,
                int64_t channels, int32_t* sums) {
  const int64_t C = channels;
  for (int64_t b = 0; b < batch; ++b) {
    const int8_t* image = input + b * pixels * C;
    int64_t c = 0;
    for (; c + 32 <= C; c += 32) {
      __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
      for (int64_t i = 0; i < pixels; ++i) {
        const int8_t* p = image + i * C + c;
        s0 = _mm256_add_epi32(s0, LoadInt8x8(p));
        s1 = _mm256_add_epi32(s1, LoadInt8x8(p + 8));
        s2 = _mm256_add_epi32(s2, LoadInt8x8(p + 16));
        s3 = _mm256_add_epi32(s3, LoadInt8x8(p + 24));
      }
      int32_t* dst = sums + b * C + c;
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), s0);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 8), s1);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 16), s2);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 24), s3);
    }
    for (; c < C; c += 8) {
      const int64_t lanes = C - c < 8 ? C - c : 8;
      __m256i s = _mm256_setzero_si256();
      for (int64_t i = 0; i < pixels; ++i) {
        s = _mm256_add_epi32(s, LoadInt8x8(image + i * C + c, lanes));
      }
      alignas(32) int32_t tmp[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), s);
      for (int64_t j = 0; j < lanes; ++j) sums[b * C + c + j] = tmp[j];
    }
  }
}

void GlobalFloatSums(const int8_t* input, int64_t batch, int64_t pixels,
                     int64_t channels, int32_t zero_point, float scale,
                     float* sums) {
  const int64_t C = channels;
  const __m256 sx = _mm256_set1_ps(scale);
  const __m256i zx = _mm256_set1_epi32(zero_point);
  for (int64_t b = 0; b < batch; ++b) {
    const int8_t* image = input + b * pixels * C;
    int64_t c = 0;
    for (; c + 32 <= C; c += 32) {
      __m256 s[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps(), _mm256_setzero_ps()};
      for (int64_t i = 0; i < pixels; ++i) {
#pragma GCC unroll 4
        for (int g = 0; g < 4; ++g) {
          const __m256i q =
              _mm256_sub_epi32(LoadInt8x8(image + i * C + c + 8 * g, 8), zx);
          s[g] = _mm256_add_ps(s[g], _mm256_mul_ps(_mm256_cvtepi32_ps(q), sx));
        }
      }
      for (int g = 0; g < 4; ++g)
        _mm256_storeu_ps(sums + b * C + c + 8 * g, s[g]);
    }
    for (; c < C; c += 8) {
      const int64_t lanes = C - c < 8 ? C - c : 8;
      __m256 s = _mm256_setzero_ps();
      for (int64_t i = 0; i < pixels; ++i) {
        const __m256i q =
            _mm256_sub_epi32(LoadInt8x8(image + i * C + c, lanes), zx);
        s = _mm256_add_ps(s, _mm256_mul_ps(_mm256_cvtepi32_ps(q), sx));
      }
      alignas(32) float tmp[8];
      _mm256_store_ps(tmp, s);
      for (int64_t j = 0; j < lanes; ++j) sums[b * C + c + j] = tmp[j];
    }
  }
}

}  // namespace qforge::kernels::int8::fast::avx2
