// The u8 x s8 GEMM micro-kernel interface shared by the AVX-512 VNNI and
// AVX-VNNI kernels (vpdpbusd) and a scalar emulation of them used to test
// the packing and the zero-point corrections on CPUs without VNNI. Plain
// types only: included by the ISA translation units.
//
// Packed B: blocks of 16 columns; block b holds, for each quad q of K,
// the 64 bytes w[4q + j][16b + i] at offset ((b * kq + q) * 16 + i) * 4 + j
// (raw int8 weights; K padded to kq * 4 and N to 16 with zeros).
// A: uint8 rows (x + 128) of kq * 4 bytes (row stride lda).
// C[m][n] = bias[n] + sum_k A[m][k] * B[k][n], int32 wrapping (vpdpbusd,
// not the saturating vpdpbusds), for m < rows, n < n_cols; bias is not
// null and has n_cols entries.
#ifndef QFORGE_LIB_KERNELS_INT8_FAST_VNNI_GEMM_H_
#define QFORGE_LIB_KERNELS_INT8_FAST_VNNI_GEMM_H_

#include <cstdint>

namespace qforge::kernels::int8::fast {

using GemmU8S8Fn = void (*)(const uint8_t* a, int64_t rows, int64_t lda,
                            int64_t kq, const int8_t* packed_b, int64_t n_cols,
                            const int32_t* bias, int32_t* c, int64_t ldc);

// Scalar emulation (kernels.cc).
void EmulatedGemmU8S8(const uint8_t* a, int64_t rows, int64_t lda, int64_t kq,
                      const int8_t* packed_b, int64_t n_cols,
                      const int32_t* bias, int32_t* c, int64_t ldc);

namespace avx512vnni {
void GemmU8S8(const uint8_t* a, int64_t rows, int64_t lda, int64_t kq,
              const int8_t* packed_b, int64_t n_cols, const int32_t* bias,
              int32_t* c, int64_t ldc);
}  // namespace avx512vnni

namespace avxvnni {
void GemmU8S8(const uint8_t* a, int64_t rows, int64_t lda, int64_t kq,
              const int8_t* packed_b, int64_t n_cols, const int32_t* bias,
              int32_t* c, int64_t ldc);
}  // namespace avxvnni

}  // namespace qforge::kernels::int8::fast

#endif  // QFORGE_LIB_KERNELS_INT8_FAST_VNNI_GEMM_H_
