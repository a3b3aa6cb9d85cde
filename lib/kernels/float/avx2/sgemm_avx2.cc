// AVX2 + FMA SGEMM (see sgemm_avx2.h). Compiled with -mavx2 -mfma; includes
// only <immintrin.h> and C headers so no inline function of a shared header
// gets an AVX2 instantiation here.
#include "kernels/float/avx2/sgemm_avx2.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

namespace qforge::kernels::avx2 {
namespace {

constexpr int64_t kMr = 6;     // Rows of the register tile.
constexpr int64_t kNr = 16;    // Columns of the register tile (2 x 8 lanes).
constexpr int64_t kMc = 72;    // Rows of A packed at once (multiple of kMr).
constexpr int64_t kKc = 256;   // K block.
constexpr int64_t kNc = 2048;  // Columns of B packed at once (mult. of kNr).

int64_t Min(int64_t a, int64_t b) { return a < b ? a : b; }
int64_t RoundUp(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

// A 64-byte aligned scratch buffer (freed on scope exit).
class Scratch {
 public:
  explicit Scratch(int64_t floats) {
    const size_t bytes = static_cast<size_t>(RoundUp(floats * 4, 64));
    ptr_ = static_cast<float*>(aligned_alloc(64, bytes > 0 ? bytes : 64));
  }
  ~Scratch() { free(ptr_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  float* get() const { return ptr_; }

 private:
  float* ptr_;
};

// Packs rows [0, kc) and columns [0, nc) of B (dst need not be aligned) into
// 16-column panels: panel q holds (p, j) at dst[q * 16 * kc + p * 16 + (j - 16
// q)], zero past nc.
void PackB(int64_t kc, int64_t nc, const float* b, int64_t rs, int64_t cs,
           float* dst) {
  for (int64_t j0 = 0; j0 < nc; j0 += kNr) {
    const int64_t nr = Min(kNr, nc - j0);
    float* panel = dst + j0 * kc;
    if (cs == 1 && nr == kNr) {
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = b + p * rs + j0;
        _mm256_storeu_ps(panel + p * kNr, _mm256_loadu_ps(src));
        _mm256_storeu_ps(panel + p * kNr + 8, _mm256_loadu_ps(src + 8));
      }
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        float* row = panel + p * kNr;
        int64_t j = 0;
        for (; j < nr; ++j) row[j] = b[p * rs + (j0 + j) * cs];
        for (; j < kNr; ++j) row[j] = 0.0f;
      }
    }
  }
}

// Packs rows [0, mc) and columns [0, kc) of A into 6-row panels: panel q
// holds (i, p) at dst[q * 6 * kc + p * 6 + (i - 6 q)], zero past mc.
void PackA(int64_t mc, int64_t kc, const float* a, int64_t rs, int64_t cs,
           float* dst) {
  for (int64_t i0 = 0; i0 < mc; i0 += kMr) {
    const int64_t mr = Min(kMr, mc - i0);
    float* panel = dst + i0 * kc;
    if (cs == 1) {
      for (int64_t i = 0; i < kMr; ++i) {
        if (i < mr) {
          const float* src = a + (i0 + i) * rs;
          for (int64_t p = 0; p < kc; ++p) panel[p * kMr + i] = src[p];
        } else {
          for (int64_t p = 0; p < kc; ++p) panel[p * kMr + i] = 0.0f;
        }
      }
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        float* col = panel + p * kMr;
        int64_t i = 0;
        for (; i < mr; ++i) col[i] = a[(i0 + i) * rs + p * cs];
        for (; i < kMr; ++i) col[i] = 0.0f;
      }
    }
  }
}

// The 6x16 tile: acc = sum_p A(:, p) B(p, :) over kc, plus rb[i] (row
// bias) and cb[j] (column bias) when given; then C = acc (or C += acc),
// writing only the top-left mr x nr part.
void Kernel6x16(int64_t kc, const float* ap, const float* bp, float* c,
                int64_t ldc, bool accumulate, int64_t mr, int64_t nr,
                const float* rb, const float* cb) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_loadu_ps(bp);
    const __m256 b1 = _mm256_loadu_ps(bp + 8);
    __m256 a = _mm256_broadcast_ss(ap + 0);
    c00 = _mm256_fmadd_ps(a, b0, c00);
    c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(ap + 1);
    c10 = _mm256_fmadd_ps(a, b0, c10);
    c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(ap + 2);
    c20 = _mm256_fmadd_ps(a, b0, c20);
    c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(ap + 3);
    c30 = _mm256_fmadd_ps(a, b0, c30);
    c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(ap + 4);
    c40 = _mm256_fmadd_ps(a, b0, c40);
    c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(ap + 5);
    c50 = _mm256_fmadd_ps(a, b0, c50);
    c51 = _mm256_fmadd_ps(a, b1, c51);
    ap += kMr;
    bp += kNr;
  }
  __m256 acc[kMr][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                        {c30, c31}, {c40, c41}, {c50, c51}};
  if (rb != nullptr) {
    for (int64_t i = 0; i < mr; ++i) {
      const __m256 v = _mm256_set1_ps(rb[i]);
      acc[i][0] = _mm256_add_ps(acc[i][0], v);
      acc[i][1] = _mm256_add_ps(acc[i][1], v);
    }
  }
  if (cb != nullptr) {
    alignas(32) float t[kNr] = {};
    for (int64_t j = 0; j < nr; ++j) t[j] = cb[j];
    const __m256 v0 = _mm256_load_ps(t), v1 = _mm256_load_ps(t + 8);
    for (int64_t i = 0; i < kMr; ++i) {
      acc[i][0] = _mm256_add_ps(acc[i][0], v0);
      acc[i][1] = _mm256_add_ps(acc[i][1], v1);
    }
  }
  if (mr == kMr && nr == kNr) {
    for (int64_t i = 0; i < kMr; ++i) {
      float* row = c + i * ldc;
      __m256 v0 = acc[i][0], v1 = acc[i][1];
      if (accumulate) {
        v0 = _mm256_add_ps(_mm256_loadu_ps(row), v0);
        v1 = _mm256_add_ps(_mm256_loadu_ps(row + 8), v1);
      }
      _mm256_storeu_ps(row, v0);
      _mm256_storeu_ps(row + 8, v1);
    }
    return;
  }
  alignas(32) float tile[kMr * kNr];
  for (int64_t i = 0; i < kMr; ++i) {
    _mm256_store_ps(tile + i * kNr, acc[i][0]);
    _mm256_store_ps(tile + i * kNr + 8, acc[i][1]);
  }
  for (int64_t i = 0; i < mr; ++i) {
    float* row = c + i * ldc;
    const float* t = tile + i * kNr;
    if (accumulate) {
      for (int64_t j = 0; j < nr; ++j) row[j] += t[j];
    } else {
      for (int64_t j = 0; j < nr; ++j) row[j] = t[j];
    }
  }
}

// C[mc x nc] (+)= packed A block x packed B block (panels of kc rows)
// (+ the biases, offset to this block, when not null).
void MacroKernel(int64_t mc, int64_t nc, int64_t kc, const float* pa,
                 const float* pb, float* c, int64_t ldc, bool accumulate,
                 const float* rb, const float* cb) {
  for (int64_t j0 = 0; j0 < nc; j0 += kNr) {
    const int64_t nr = Min(kNr, nc - j0);
    const float* bpanel = pb + j0 * kc;
    for (int64_t i0 = 0; i0 < mc; i0 += kMr) {
      Kernel6x16(kc, pa + i0 * kc, bpanel, c + i0 * ldc + j0, ldc, accumulate,
                 Min(kMr, mc - i0), nr, rb ? rb + i0 : nullptr,
                 cb ? cb + j0 : nullptr);
    }
  }
}

// K == 0: C = bias (or C += bias).
void BiasOnly(int64_t m, int64_t n, float* c, int64_t ldc, bool accumulate,
              const float* rb, const float* cb) {
  for (int64_t i = 0; i < m; ++i) {
    float* row = c + i * ldc;
    for (int64_t j = 0; j < n; ++j) {
      const float v = (rb ? rb[i] : 0.0f) + (cb ? cb[j] : 0.0f);
      row[j] = accumulate ? row[j] + v : v;
    }
  }
}

// packed_b: null -> pack B from (b, rs_b, cs_b) per block.
void Gemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t rs_a,
          int64_t cs_a, const float* b, int64_t rs_b, int64_t cs_b,
          const float* packed_b, float* c, int64_t ldc, bool accumulate,
          const float* rb, const float* cb) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    BiasOnly(m, n, c, ldc, accumulate, rb, cb);
    return;
  }
  const int64_t kc_max = Min(kKc, k);
  Scratch a_buf(RoundUp(Min(kMc, m), kMr) * kc_max);
  Scratch b_buf(packed_b ? 0 : RoundUp(Min(kNc, n), kNr) * kc_max);
  const int64_t npad = RoundUp(n, kNr);
  for (int64_t j0 = 0; j0 < n; j0 += kNc) {
    const int64_t nc = Min(kNc, n - j0);
    for (int64_t p0 = 0; p0 < k; p0 += kKc) {
      const int64_t kc = Min(kKc, k - p0);
      const float* pb;
      if (packed_b != nullptr) {
        pb = packed_b + p0 * npad + j0 * kc;
      } else {
        PackB(kc, nc, b + p0 * rs_b + j0 * cs_b, rs_b, cs_b, b_buf.get());
        pb = b_buf.get();
      }
      const bool acc = accumulate || p0 > 0;
      for (int64_t i0 = 0; i0 < m; i0 += kMc) {
        const int64_t mc = Min(kMc, m - i0);
        PackA(mc, kc, a + i0 * rs_a + p0 * cs_a, rs_a, cs_a, a_buf.get());
        // The biases are added once, with the first K block.
        MacroKernel(mc, nc, kc, a_buf.get(), pb, c + i0 * ldc + j0, ldc, acc,
                    p0 == 0 && rb ? rb + i0 : nullptr,
                    p0 == 0 && cb ? cb + j0 : nullptr);
      }
    }
  }
}

}  // namespace

int64_t SgemmPackedBSizeAvx2(int64_t k, int64_t n) {
  return k * RoundUp(n, kNr);
}

void SgemmPackBAvx2(int64_t k, int64_t n, const float* b, int64_t rs_b,
                    int64_t cs_b, float* packed) {
  const int64_t npad = RoundUp(n, kNr);
  for (int64_t p0 = 0; p0 < k; p0 += kKc) {
    const int64_t kc = Min(kKc, k - p0);
    PackB(kc, n, b + p0 * rs_b, rs_b, cs_b, packed + p0 * npad);
  }
}

void SgemmAvx2(int64_t m, int64_t n, int64_t k, const float* a, int64_t rs_a,
               int64_t cs_a, const float* b, int64_t rs_b, int64_t cs_b,
               float* c, int64_t ldc, bool accumulate, const float* row_bias,
               const float* col_bias) {
  Gemm(m, n, k, a, rs_a, cs_a, b, rs_b, cs_b, nullptr, c, ldc, accumulate,
       row_bias, col_bias);
}

void SgemmPackedAvx2(int64_t m, int64_t n, int64_t k, const float* a,
                     int64_t rs_a, int64_t cs_a, const float* packed_b,
                     float* c, int64_t ldc, bool accumulate,
                     const float* row_bias, const float* col_bias) {
  Gemm(m, n, k, a, rs_a, cs_a, nullptr, 0, 0, packed_b, c, ldc, accumulate,
       row_bias, col_bias);
}

}  // namespace qforge::kernels::avx2
