// AVX2 INT8 micro-kernels (see avx2_kernels.h). Compiled with -mavx2
// -ffp-contract=off; plain types only, every helper has internal linkage.
#include "kernels/int8/fast/avx2/avx2_kernels.h"

#include <immintrin.h>

namespace qforge::kernels::int8::fast::avx2 {
namespace {

inline int32_t WrapAdd(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) +
                              static_cast<uint32_t>(b));
}

inline int32_t LoadPair(const int16_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}

// Stores acc + bias for columns [n0, n0 + 8) clipped to n_cols.
inline void StoreBlock(__m256i acc, const int32_t* bias, int64_t n0,
                       int64_t n_cols, int32_t* c_row) {
  if (n0 + 8 <= n_cols) {
    if (bias != nullptr) {
      acc = _mm256_add_epi32(
          acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bias + n0)));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c_row + n0), acc);
    return;
  }
  alignas(32) int32_t tmp[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), acc);
  for (int64_t j = 0; n0 + j < n_cols; ++j) {
    c_row[n0 + j] = bias != nullptr ? WrapAdd(tmp[j], bias[n0 + j]) : tmp[j];
  }
}

// R rows x NB blocks of 8 columns.
template <int R, int NB>
void MicroKernel(const int16_t* a, int64_t lda, int64_t kp,
                 const int16_t* b_block, int64_t n0, int64_t n_cols,
                 const int32_t* bias, int32_t* c, int64_t ldc) {
  __m256i acc[R][NB];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j) acc[r][j] = _mm256_setzero_si256();
  }
  const int64_t pairs = kp / 2;
  const int16_t* b[NB];
#pragma GCC unroll 8
  for (int j = 0; j < NB; ++j) b[j] = b_block + j * kp * 8;
  for (int64_t p = 0; p < pairs; ++p) {
    __m256i bv[NB];
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j) {
      bv[j] =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[j] + p * 16));
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256i av = _mm256_set1_epi32(LoadPair(a + r * lda + 2 * p));
#pragma GCC unroll 8
      for (int j = 0; j < NB; ++j) {
        acc[r][j] = _mm256_add_epi32(acc[r][j], _mm256_madd_epi16(av, bv[j]));
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j) {
      StoreBlock(acc[r][j], bias, n0 + 8 * j, n_cols, c + r * ldc);
    }
  }
}

// One panel of NB column blocks (kp * 8 * NB int16 of B, kept in L1) against
// all rows, 4 at a time.
template <int NB>
void ColumnPanel(const int16_t* a, int64_t rows, int64_t lda, int64_t kp,
                 const int16_t* b_block, int64_t n0, int64_t n_cols,
                 const int32_t* bias, int32_t* c, int64_t ldc) {
  int64_t m = 0;
  for (; m + 4 <= rows; m += 4) {
    MicroKernel<4, NB>(a + m * lda, lda, kp, b_block, n0, n_cols, bias,
                       c + m * ldc, ldc);
  }
  switch (rows - m) {
    case 3:
      MicroKernel<3, NB>(a + m * lda, lda, kp, b_block, n0, n_cols, bias,
                         c + m * ldc, ldc);
      break;
    case 2:
      MicroKernel<2, NB>(a + m * lda, lda, kp, b_block, n0, n_cols, bias,
                         c + m * ldc, ldc);
      break;
    case 1:
      MicroKernel<1, NB>(a + m * lda, lda, kp, b_block, n0, n_cols, bias,
                         c + m * ldc, ldc);
      break;
    default:
      break;
  }
}

}  // namespace

void GemmS16(const int16_t* a, int64_t rows, int64_t lda, int64_t kp,
             const int16_t* packed_b, int64_t n_cols, const int32_t* bias,
             int32_t* c, int64_t ldc) {
  const int64_t blocks = (n_cols + 7) / 8;
  int64_t blk = 0;
  for (; blk + 2 <= blocks; blk += 2) {
    ColumnPanel<2>(a, rows, lda, kp, packed_b + blk * kp * 8, blk * 8, n_cols,
                   bias, c, ldc);
  }
  if (blk < blocks) {
    ColumnPanel<1>(a, rows, lda, kp, packed_b + blk * kp * 8, blk * 8, n_cols,
                   bias, c, ldc);
  }
}

void ConvertS8ToS16(const int8_t* in, int64_t count, int32_t zero_point,
                    int16_t* out) {
  const __m256i zp = _mm256_set1_epi16(static_cast<int16_t>(zero_point));
  int64_t i = 0;
  for (; i + 16 <= count; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    const __m256i w = _mm256_sub_epi16(_mm256_cvtepi8_epi16(x), zp);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), w);
  }
  for (; i < count; ++i) {
    out[i] = static_cast<int16_t>(static_cast<int32_t>(in[i]) - zero_point);
  }
}

void RequantizeOrtRow(const int32_t* acc, int64_t count, const float* scales,
                      int32_t zero_point, int32_t lo, int32_t hi, int8_t* out) {
  const __m256 fmin = _mm256_set1_ps(static_cast<float>(-128 - zero_point));
  const __m256 fmax = _mm256_set1_ps(static_cast<float>(127 - zero_point));
  const __m256i zp = _mm256_set1_epi32(zero_point);
  const __m256i qlo = _mm256_set1_epi32(lo < -128 ? -128 : lo);
  const __m256i qhi = _mm256_set1_epi32(hi > 127 ? 127 : hi);
  alignas(32) int32_t in_tmp[8];
  alignas(32) float s_tmp[8];
  for (int64_t i = 0; i < count; i += 8) {
    const int64_t n = count - i < 8 ? count - i : 8;
    __m256i a;
    __m256 s;
    if (n == 8) {
      a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i));
      s = _mm256_loadu_ps(scales + i);
    } else {
      for (int64_t j = 0; j < 8; ++j) {
        in_tmp[j] = j < n ? acc[i + j] : 0;
        s_tmp[j] = j < n ? scales[i + j] : 1.0f;
      }
      a = _mm256_load_si256(reinterpret_cast<const __m256i*>(in_tmp));
      s = _mm256_load_ps(s_tmp);
    }
    __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(a), s);
    f = _mm256_min_ps(_mm256_max_ps(f, fmin), fmax);
    __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(f), zp);
    q = _mm256_min_epi32(_mm256_max_epi32(q, qlo), qhi);
    const __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(q),
                                        _mm256_extracti128_si256(q, 1));
    const __m128i b8 = _mm_packs_epi16(w16, w16);
    if (n == 8) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), b8);
    } else {
      alignas(16) int8_t bytes[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(bytes), b8);
      for (int64_t j = 0; j < n; ++j) out[i + j] = bytes[j];
    }
  }
}

namespace {

// gemmlowp SaturatingRoundingDoublingHighMul(x, m) for m > 0 (so the
// INT32_MIN * INT32_MIN saturation cannot occur): trunc((x*m + nudge) / 2^31)
// with nudge = 2^30 for x*m >= 0, 1 - 2^30 otherwise. The quotient fits in
// int32, so a logical 64-bit shift gives its low 32 bits.
inline __m256i DoublingHighMul(__m256i x, __m256i m) {
  const __m256i zero = _mm256_setzero_si256();
  const __m256i pos_nudge = _mm256_set1_epi64x(int64_t{1} << 30);
  const __m256i neg_nudge = _mm256_set1_epi64x(int64_t{1} - (int64_t{1} << 30));
  const __m256i trunc_bias = _mm256_set1_epi64x((int64_t{1} << 31) - 1);
  auto half = [&](__m256i a, __m256i b) {
    const __m256i ab = _mm256_mul_epi32(a, b);  // sign-extended low lanes
    const __m256i negative = _mm256_cmpgt_epi64(zero, ab);
    __m256i t = _mm256_add_epi64(
        ab, _mm256_blendv_epi8(pos_nudge, neg_nudge, negative));
    const __m256i t_negative = _mm256_cmpgt_epi64(zero, t);
    t = _mm256_add_epi64(t, _mm256_and_si256(t_negative, trunc_bias));
    return _mm256_srli_epi64(t, 31);  // low 32 bits = the quotient
  };
  const __m256i even = half(x, m);
  const __m256i odd = half(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32));
  // even holds lanes 0,2,4,6 in the low halves; odd lanes 1,3,5,7.
  return _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

// gemmlowp RoundingDivideByPOT(x, e) per lane, e in [0, 31].
inline __m256i RoundingDivideByPot(__m256i x, __m256i e) {
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, e), one);
  const __m256i remainder = _mm256_and_si256(x, mask);
  const __m256i negative = _mm256_cmpgt_epi32(_mm256_setzero_si256(), x);
  const __m256i threshold =
      _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), negative);  // + (x < 0)
  const __m256i round_up = _mm256_cmpgt_epi32(remainder, threshold);
  return _mm256_sub_epi32(_mm256_srav_epi32(x, e), round_up);
}

}  // namespace

void RequantizeTfliteRow(const int32_t* acc, int64_t count,
                         const int32_t* multipliers, const int32_t* shifts,
                         int32_t zero_point, int32_t lo, int32_t hi,
                         int8_t* out) {
  const __m256i zero = _mm256_setzero_si256();
  // clamp(v + zp, -128, 127) == clamp(v, -128 - zp, 127 - zp) + zp, without
  // the int32 overflow of v + zp.
  const __m256i vmin = _mm256_set1_epi32(-128 - zero_point);
  const __m256i vmax = _mm256_set1_epi32(127 - zero_point);
  const __m256i zp = _mm256_set1_epi32(zero_point);
  const __m256i qlo = _mm256_set1_epi32(lo < -128 ? -128 : lo);
  const __m256i qhi = _mm256_set1_epi32(hi > 127 ? 127 : hi);
  alignas(32) int32_t a_tmp[8], m_tmp[8], s_tmp[8];
  for (int64_t i = 0; i < count; i += 8) {
    const int64_t n = count - i < 8 ? count - i : 8;
    __m256i a, m, s;
    if (n == 8) {
      a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i));
      m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(multipliers + i));
      s = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(shifts + i));
    } else {
      for (int64_t j = 0; j < 8; ++j) {
        a_tmp[j] = j < n ? acc[i + j] : 0;
        m_tmp[j] = j < n ? multipliers[i + j] : 1;
        s_tmp[j] = j < n ? shifts[i + j] : 0;
      }
      a = _mm256_load_si256(reinterpret_cast<const __m256i*>(a_tmp));
      m = _mm256_load_si256(reinterpret_cast<const __m256i*>(m_tmp));
      s = _mm256_load_si256(reinterpret_cast<const __m256i*>(s_tmp));
    }
    const __m256i left = _mm256_max_epi32(s, zero);
    const __m256i right = _mm256_sub_epi32(left, s);  // max(-s, 0)
    __m256i v = DoublingHighMul(_mm256_sllv_epi32(a, left), m);
    v = RoundingDivideByPot(v, right);
    v = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(v, vmin), vmax), zp);
    v = _mm256_min_epi32(_mm256_max_epi32(v, qlo), qhi);
    const __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(v),
                                        _mm256_extracti128_si256(v, 1));
    const __m128i b8 = _mm_packs_epi16(w16, w16);
    if (n == 8) {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), b8);
    } else {
      alignas(16) int8_t bytes[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(bytes), b8);
      for (int64_t j = 0; j < n; ++j) out[i + j] = bytes[j];
    }
  }
}

}  // namespace qforge::kernels::int8::fast::avx2
