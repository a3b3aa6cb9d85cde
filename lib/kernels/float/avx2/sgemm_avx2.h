// AVX2 + FMA single-precision GEMM (ISA translation unit interface).
//
// C[m x n] = A[m x k] * B[k x n]  (or C += A * B), float32, with general row
// and column strides for A and B (so transposed operands need no copy) and
// row stride ldc for C. Goto-style blocking: B is packed into 16-column
// panels per K block, A into 6-row panels, and a 6x16 register-blocked FMA
// micro-kernel computes each tile; M, N and K tails are handled.
//
// Only lib/kernels/float/sgemm.cc calls these, after checking that the CPU
// has AVX2 and FMA. The implementation file is compiled with -mavx2 -mfma
// and includes no template or inline-heavy headers (see docs/int8_kernels.md:
// an AVX2 instantiation of a shared inline function could otherwise be
// picked by the linker for the whole library). This header therefore only
// declares plain functions.
#ifndef QFORGE_LIB_KERNELS_FLOAT_AVX2_SGEMM_AVX2_H_
#define QFORGE_LIB_KERNELS_FLOAT_AVX2_SGEMM_AVX2_H_

#include <cstdint>

namespace qforge::kernels::avx2 {

// Number of floats of a B pre-packed by SgemmPackBAvx2 for a k x n B.
int64_t SgemmPackedBSizeAvx2(int64_t k, int64_t n);

// Packs B (element (p, j) at b[p * rs_b + j * cs_b]) into `packed`
// (SgemmPackedBSizeAvx2(k, n) floats) for SgemmPackedAvx2.
void SgemmPackBAvx2(int64_t k, int64_t n, const float* b, int64_t rs_b,
                    int64_t cs_b, float* packed);

// C = A * B + bias, or C += A * B + bias when `accumulate`. A(i, p) = a[i *
// rs_a + p * cs_a], B(p, j) = b[p * rs_b + j * cs_b], C(i, j) = c[i * ldc +
// j]. bias(i, j) = row_bias[i] (m values) + col_bias[j] (n values), each
// optional (null); it joins the sum with the first K block.
void SgemmAvx2(int64_t m, int64_t n, int64_t k, const float* a, int64_t rs_a,
               int64_t cs_a, const float* b, int64_t rs_b, int64_t cs_b,
               float* c, int64_t ldc, bool accumulate, const float* row_bias,
               const float* col_bias);

// As SgemmAvx2 with B given pre-packed by SgemmPackBAvx2 (same k and n).
void SgemmPackedAvx2(int64_t m, int64_t n, int64_t k, const float* a,
                     int64_t rs_a, int64_t cs_a, const float* packed_b,
                     float* c, int64_t ldc, bool accumulate,
                     const float* row_bias, const float* col_bias);

}  // namespace qforge::kernels::avx2

#endif  // QFORGE_LIB_KERNELS_FLOAT_AVX2_SGEMM_AVX2_H_
