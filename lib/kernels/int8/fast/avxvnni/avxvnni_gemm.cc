// AVX-VNNI (VEX-encoded, 256-bit) u8 x s8 GEMM (vnni_gemm.h). Compiled with
// -mavx2 -mavxvnni; plain types only. NOT EXECUTED on the development and CI
// machines (no AVX-VNNI); its packing and corrections are tested through
// EmulatedGemmU8S8.
#include <immintrin.h>

#include "kernels/int8/fast/vnni_gemm.h"

namespace qforge::kernels::int8::fast::avxvnni {
namespace {

inline int32_t LoadQuad(const uint8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}

// R rows x one block of 16 columns (two ymm of 8 columns).
template <int R>
void MicroKernel(const uint8_t* a, int64_t lda, int64_t kq,
                 const int8_t* b_block, int64_t n0, int64_t n_cols,
                 const int32_t* bias, int32_t* c, int64_t ldc) {
  __m256i acc[R][2];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    acc[r][0] = _mm256_setzero_si256();
    acc[r][1] = _mm256_setzero_si256();
  }
  for (int64_t q = 0; q < kq; ++q) {
    const __m256i b0 =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b_block + q * 64));
    const __m256i b1 = _mm256_loadu_si256(
        reinterpret_cast<const __m256i*>(b_block + q * 64 + 32));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256i av = _mm256_set1_epi32(LoadQuad(a + r * lda + 4 * q));
      acc[r][0] = _mm256_dpbusd_avx_epi32(acc[r][0], av, b0);
      acc[r][1] = _mm256_dpbusd_avx_epi32(acc[r][1], av, b1);
    }
  }
  alignas(32) int32_t tmp[16];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), acc[r][0]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(tmp + 8), acc[r][1]);
    for (int64_t j = 0; j < 16 && n0 + j < n_cols; ++j) {
      c[r * ldc + n0 + j] = static_cast<int32_t>(
          static_cast<uint32_t>(tmp[j]) + static_cast<uint32_t>(bias[n0 + j]));
    }
  }
}

template <int R>
void RowPanel(const uint8_t* a, int64_t lda, int64_t kq, const int8_t* b,
              int64_t n_cols, const int32_t* bias, int32_t* c, int64_t ldc) {
  for (int64_t blk = 0; blk * 16 < n_cols; ++blk) {
    MicroKernel<R>(a, lda, kq, b + blk * kq * 64, blk * 16, n_cols, bias, c,
                   ldc);
  }
}

}  // namespace

void GemmU8S8(const uint8_t* a, int64_t rows, int64_t lda, int64_t kq,
              const int8_t* packed_b, int64_t n_cols, const int32_t* bias,
              int32_t* c, int64_t ldc) {
  int64_t m = 0;
  for (; m + 4 <= rows; m += 4) {
    RowPanel<4>(a + m * lda, lda, kq, packed_b, n_cols, bias, c + m * ldc, ldc);
  }
  for (; m < rows; ++m) {
    RowPanel<1>(a + m * lda, lda, kq, packed_b, n_cols, bias, c + m * ldc, ldc);
  }
}

}  // namespace qforge::kernels::int8::fast::avxvnni
