// AVX-512 VNNI u8 x s8 GEMM (vnni_gemm.h). Compiled with -mavx512f
// -mavx512bw -mavx512vl -mavx512vnni; plain types only. NOT EXECUTED on the
// development and CI machines (no AVX-512); its packing and corrections are
// tested through EmulatedGemmU8S8.
#include <immintrin.h>

#include "kernels/int8/fast/vnni_gemm.h"

namespace qforge::kernels::int8::fast::avx512vnni {
namespace {

inline int32_t LoadQuad(const uint8_t* p) {
  int32_t v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}

// R rows x one block of 16 columns.
template <int R>
void MicroKernel(const uint8_t* a, int64_t lda, int64_t kq,
                 const int8_t* b_block, int64_t n0, int64_t n_cols,
                 const int32_t* bias, int32_t* c, int64_t ldc) {
  const int64_t valid = n_cols - n0 < 16 ? n_cols - n0 : 16;
  const __mmask16 mask = static_cast<__mmask16>((1u << valid) - 1u);
  const __m512i bias_v = _mm512_maskz_loadu_epi32(mask, bias + n0);
  __m512i acc[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r] = bias_v;
  for (int64_t q = 0; q < kq; ++q) {
    const __m512i b = _mm512_loadu_si512(b_block + q * 64);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512i av = _mm512_set1_epi32(LoadQuad(a + r * lda + 4 * q));
      acc[r] = _mm512_dpbusd_epi32(acc[r], av, b);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    _mm512_mask_storeu_epi32(c + r * ldc + n0, mask, acc[r]);
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
  for (; m + 8 <= rows; m += 8) {
    RowPanel<8>(a + m * lda, lda, kq, packed_b, n_cols, bias, c + m * ldc, ldc);
  }
  for (; m < rows; ++m) {
    RowPanel<1>(a + m * lda, lda, kq, packed_b, n_cols, bias, c + m * ldc, ldc);
  }
}

}  // namespace qforge::kernels::int8::fast::avx512vnni
