// AVX2 INT8 micro-kernels (see avx2_kernels.h). Compiled with -mavx2
// -ffp-contract=off; plain types only, every helper has internal linkage.
#include "kernels/int8/fast/avx2/avx2_kernels.h"

#include <immintrin.h>

#include "kernels/int8/fast/avx2/avx2_vector_requant.h"

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

// Register blocking of the GEMM micro-kernel: kMr rows x kNb blocks of 8
// columns = 12 ymm accumulators, plus kNb B vectors and one broadcast A pair
// (15 of the 16 ymm registers).
constexpr int kMr = 6;
constexpr int kNb = 2;
// K blocking: at most kKcPairs k-pairs per pass, so that a pass's B panel
// (kKcPairs * 16 * 2 bytes per column block) stays in L1 while every row
// tile uses it.
constexpr int64_t kKcPairs = 256;

// Lane mask of the first `cols` (< 8) lanes.
inline __m256i TailMask(int64_t cols) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(cols)),
                            lanes);
}

inline __m256i LoadCols(const int32_t* p, int64_t cols) {
  if (cols >= 8) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm256_maskload_epi32(reinterpret_cast<const int*>(p), TailMask(cols));
}

inline void StoreCols(int32_t* p, int64_t cols, __m256i v) {
  if (cols >= 8) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
  } else {
    _mm256_maskstore_epi32(reinterpret_cast<int*>(p), TailMask(cols), v);
  }
}

// R rows x NB blocks of 8 columns, over the k-pairs of `segments`; B's
// blocks start at b + j * b_stride (already advanced to the first pair).
// The tile starts from bias (first pass) or from C (later passes).
template <int R, int NB>
void MicroKernel(const int16_t* const* a_rows, const KSegment* segments,
                 int64_t num_segments, const int16_t* b, int64_t b_stride,
                 bool first, const int32_t* bias, int64_t n0, int64_t n_cols,
                 int32_t* c, int64_t ldc) {
  __m256i acc[R][NB];
  int64_t cols[NB];
#pragma GCC unroll 8
  for (int j = 0; j < NB; ++j) cols[j] = n_cols - (n0 + 8 * j);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j) {
      if (!first) {
        acc[r][j] = LoadCols(c + r * ldc + n0 + 8 * j, cols[j]);
      } else if (bias != nullptr) {
        acc[r][j] = LoadCols(bias + n0 + 8 * j, cols[j]);
      } else {
        acc[r][j] = _mm256_setzero_si256();
      }
    }
  }
  for (int64_t s = 0; s < num_segments; ++s) {
    const int64_t pairs = segments[s].pairs;
    const int16_t* a[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) a[r] = a_rows[r] + segments[s].offset;
    for (int64_t p = 0; p < pairs; ++p) {
      __m256i bv[NB];
#pragma GCC unroll 8
      for (int j = 0; j < NB; ++j) {
        bv[j] = _mm256_loadu_si256(
            reinterpret_cast<const __m256i*>(b + j * b_stride + p * 16));
      }
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m256i av = _mm256_set1_epi32(LoadPair(a[r] + 2 * p));
#pragma GCC unroll 8
        for (int j = 0; j < NB; ++j) {
          acc[r][j] = _mm256_add_epi32(acc[r][j], _mm256_madd_epi16(av, bv[j]));
        }
      }
    }
    b += pairs * 16;
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int j = 0; j < NB; ++j) {
      StoreCols(c + r * ldc + n0 + 8 * j, cols[j], acc[r][j]);
    }
  }
}

template <int NB>
void RowTile(int64_t r, const int16_t* const* a_rows, const KSegment* segments,
             int64_t num_segments, const int16_t* b, int64_t b_stride,
             bool first, const int32_t* bias, int64_t n0, int64_t n_cols,
             int32_t* c, int64_t ldc) {
  switch (r) {
#define QFORGE_TILE(R)                                                     \
  case R:                                                                  \
    MicroKernel<R, NB>(a_rows, segments, num_segments, b, b_stride, first, \
                       bias, n0, n_cols, c, ldc);                          \
    break;
    QFORGE_TILE(1)
    QFORGE_TILE(2)
    QFORGE_TILE(3)
    QFORGE_TILE(4)
    QFORGE_TILE(5)
    QFORGE_TILE(6)
#undef QFORGE_TILE
    default:
      break;
  }
}

// One K pass (segments holding pass_pairs pairs, B advanced to the pass's
// first pair): every column panel of kNb blocks against all rows.
void KPass(const int16_t* const* a_rows, int64_t rows, const KSegment* segments,
           int64_t num_segments, const int16_t* b, int64_t b_stride,
           int64_t n_cols, bool first, const int32_t* bias, int32_t* c,
           int64_t ldc) {
  const int64_t blocks = (n_cols + 7) / 8;
  for (int64_t blk = 0; blk < blocks; blk += kNb) {
    const int64_t nb = blocks - blk < kNb ? blocks - blk : kNb;
    const int16_t* bb = b + blk * b_stride;
    for (int64_t m = 0; m < rows; m += kMr) {
      const int64_t r = rows - m < kMr ? rows - m : kMr;
      if (nb == 2) {
        RowTile<2>(r, a_rows + m, segments, num_segments, bb, b_stride, first,
                   bias, blk * 8, n_cols, c + m * ldc, ldc);
      } else {
        RowTile<1>(r, a_rows + m, segments, num_segments, bb, b_stride, first,
                   bias, blk * 8, n_cols, c + m * ldc, ldc);
      }
    }
  }
}

}  // namespace

void GemmS16Indirect(const int16_t* const* a_rows, int64_t rows,
                     const KSegment* segments, int64_t num_segments,
                     const int16_t* packed_b, int64_t kp, int64_t n_cols,
                     const int32_t* bias, int32_t* c, int64_t ldc) {
  const int64_t b_stride = kp * 8;
  if (num_segments <= 0) {
    const KSegment empty{0, 0};
    KPass(a_rows, rows, &empty, 1, packed_b, b_stride, n_cols, true, bias, c,
          ldc);
    return;
  }
  int64_t s0 = 0, pair0 = 0;
  bool first = true;
  while (s0 < num_segments) {
    // A pass: consecutive segments up to kKcPairs pairs (at least one).
    int64_t s1 = s0 + 1, pairs = segments[s0].pairs;
    while (s1 < num_segments && pairs + segments[s1].pairs <= kKcPairs) {
      pairs += segments[s1++].pairs;
    }
    KPass(a_rows, rows, segments + s0, s1 - s0, packed_b + pair0 * 16, b_stride,
          n_cols, first, bias, c, ldc);
    first = false;
    pair0 += pairs;
    s0 = s1;
  }
}

void GemmS16(const int16_t* a, int64_t rows, int64_t lda, int64_t kp,
             const int16_t* packed_b, int64_t n_cols, const int32_t* bias,
             int32_t* c, int64_t ldc) {
  // K split into segments of kKcPairs pairs: one segment per pass.
  constexpr int64_t kMaxSegments = 64;
  constexpr int64_t kRows = 96;
  KSegment segments[kMaxSegments];
  const int64_t total = kp / 2;
  int64_t seg_pairs = kKcPairs;
  while ((total + seg_pairs - 1) / seg_pairs > kMaxSegments) seg_pairs *= 2;
  int64_t num_segments = 0;
  for (int64_t p0 = 0; p0 < total; p0 += seg_pairs) {
    segments[num_segments++] = {
        2 * p0, total - p0 < seg_pairs ? total - p0 : seg_pairs};
  }
  const int16_t* a_rows[kRows];
  for (int64_t m0 = 0; m0 < rows; m0 += kRows) {
    const int64_t mc = rows - m0 < kRows ? rows - m0 : kRows;
    for (int64_t r = 0; r < mc; ++r) a_rows[r] = a + (m0 + r) * lda;
    GemmS16Indirect(a_rows, mc, segments, num_segments, packed_b, kp, n_cols,
                    bias, c + m0 * ldc, ldc);
  }
}

namespace {

// GEMV over one group of NB column blocks.
template <int NB>
void GemvGroup(const int16_t* x, int64_t pairs, const int8_t* w, __m256i* acc) {
#pragma GCC unroll 4
  for (int j = 0; j < NB; ++j) acc[j] = _mm256_setzero_si256();
  for (int64_t p = 0; p < pairs; ++p) {
    const __m256i xv = _mm256_set1_epi32(LoadPair(x + 2 * p));
    const int8_t* wp = w + p * NB * 16;
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) {
      const __m256i wv = _mm256_cvtepi8_epi16(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(wp + j * 16)));
      acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(xv, wv));
    }
  }
}

// Column blocks of a GEMV group, as a type (GemvColumns' dispatch).
template <int NB>
struct Blocks {
  static constexpr int kValue = NB;
};

// The column groups of a GEMV: group(n0, Blocks<NB>(), acc) writes the dot
// products of columns [n0, n0 + 8 * NB) to acc[0, NB); then c = acc + bias
// (when given) - zero_points * x_sum (when given), stored for the n_cols
// columns.
template <typename Group>
void GemvColumns(int64_t n_cols, const int32_t* bias,
                 const int32_t* zero_points, int32_t x_sum, int32_t* c,
                 Group group) {
  const __m256i xs = _mm256_set1_epi32(x_sum);
  for (int64_t n0 = 0; n0 < n_cols; n0 += kGemvGroup) {
    const int64_t blocks =
        (n_cols - n0 >= kGemvGroup ? kGemvGroup : n_cols - n0 + 7) / 8;
    __m256i acc[4];
    switch (blocks) {
      case 4:
        group(n0, Blocks<4>(), acc);
        break;
      case 3:
        group(n0, Blocks<3>(), acc);
        break;
      case 2:
        group(n0, Blocks<2>(), acc);
        break;
      default:
        group(n0, Blocks<1>(), acc);
        break;
    }
    for (int64_t j = 0; j < blocks; ++j) {
      const int64_t col = n0 + 8 * j;
      const int64_t cols = n_cols - col;
      __m256i v = acc[j];
      if (bias != nullptr) v = _mm256_add_epi32(v, LoadCols(bias + col, cols));
      if (zero_points != nullptr) {
        v = _mm256_sub_epi32(
            v, _mm256_mullo_epi32(LoadCols(zero_points + col, cols), xs));
      }
      StoreCols(c + col, cols, v);
    }
  }
}

}  // namespace

void GemvS8(const int16_t* x, int64_t kp, const int8_t* packed_w,
            int64_t n_cols, const int32_t* bias, const int32_t* zero_points,
            int32_t x_sum, int32_t* c) {
  const int64_t pairs = kp / 2;
  GemvColumns(n_cols, bias, zero_points, x_sum, c,
              [&](int64_t n0, auto blocks, __m256i* acc) {
                GemvGroup<decltype(blocks)::kValue>(x, pairs,
                                                    packed_w + n0 * kp, acc);
              });
}

namespace {

// GemvS8Sign over one group of NB column blocks.
template <int NB>
void GemvSignGroup(const int8_t* x, int64_t quads, const int8_t* w,
                   __m256i* acc) {
  const __m256i ones = _mm256_set1_epi16(1);
#pragma GCC unroll 4
  for (int j = 0; j < NB; ++j) acc[j] = _mm256_setzero_si256();
  for (int64_t q = 0; q < quads; ++q) {
    int32_t quad;
    __builtin_memcpy(&quad, x + 4 * q, sizeof(quad));
    const __m256i xv = _mm256_set1_epi32(quad);
    const __m256i ax = _mm256_abs_epi8(xv);  // |-128| = 128 as uint8
    const int8_t* wp = w + q * NB * 32;
#pragma GCC unroll 4
    for (int j = 0; j < NB; ++j) {
      const __m256i wv =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wp + j * 32));
      // w * sign(x) fits int8 since |w| <= 127.
      const __m256i prod = _mm256_maddubs_epi16(ax, _mm256_sign_epi8(wv, xv));
      acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(prod, ones));
    }
  }
}

}  // namespace

void GemvS8Sign(const int8_t* x, int64_t kq4, const int8_t* packed_w,
                int64_t n_cols, const int32_t* bias, const int32_t* zero_points,
                int32_t x_sum, int32_t* c) {
  const int64_t quads = kq4 / 4;
  GemvColumns(n_cols, bias, zero_points, x_sum, c,
              [&](int64_t n0, auto blocks, __m256i* acc) {
                GemvSignGroup<decltype(blocks)::kValue>(
                    x, quads, packed_w + n0 * kq4, acc);
              });
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

namespace {

// Requantizes `count` accumulators of one row, 8 channels at a time; a tail
// is staged through buffers padded with harmless parameters.
void RequantizeRow(const int32_t* acc, int64_t count, const VecOutputParams& p,
                   int8_t* out) {
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const __m256i a =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i));
    StoreInt8x8(VecRequantize8(a, i, p), out + i);
  }
  if (i == count) return;
  const int64_t n = count - i;
  alignas(32) int32_t a_tmp[8], m_tmp[8], s_tmp[8];
  alignas(32) float scale_tmp[8];
  for (int64_t j = 0; j < 8; ++j) {
    a_tmp[j] = j < n ? acc[i + j] : 0;
    if (p.tflite) {
      m_tmp[j] = j < n ? p.multipliers[i + j] : int32_t{1} << 30;
      s_tmp[j] = j < n ? p.shifts[i + j] : 0;
    } else {
      scale_tmp[j] = j < n ? p.scales[i + j] : 1.0f;
    }
  }
  VecOutputParams tail = p;
  tail.scales = scale_tmp;
  tail.multipliers = m_tmp;
  tail.shifts = s_tmp;
  const __m256i a = _mm256_load_si256(reinterpret_cast<const __m256i*>(a_tmp));
  StoreInt8x8(VecRequantize8(a, 0, tail), n, out + i);
}

}  // namespace

void RequantizeOrtRow(const int32_t* acc, int64_t count, const float* scales,
                      int32_t zero_point, int32_t lo, int32_t hi, int8_t* out) {
  VecOutputParams p;
  p.tflite = false;
  p.scales = scales;
  p.multipliers = nullptr;
  p.shifts = nullptr;
  p.clamp = MakeVecClamp(zero_point, lo, hi);
  RequantizeRow(acc, count, p, out);
}

void RequantizeTfliteRow(const int32_t* acc, int64_t count,
                         const int32_t* multipliers, const int32_t* shifts,
                         int32_t zero_point, int32_t lo, int32_t hi,
                         int8_t* out) {
  VecOutputParams p;
  p.tflite = true;
  p.scales = nullptr;
  p.multipliers = multipliers;
  p.shifts = shifts;
  p.clamp = MakeVecClamp(zero_point, lo, hi);
  RequantizeRow(acc, count, p, out);
}

}  // namespace qforge::kernels::int8::fast::avx2
