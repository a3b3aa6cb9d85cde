// Runtime dispatch of the float32 AVX2 kernels: the GEMM used by the float
// Conv, Gemm and MatMul kernels, and the depthwise Conv helpers.
//
// With an AVX2+FMA CPU and the active ISA (lib/kernels/int8/fast/isa.h:
// SetIsaForTesting, then QFORGE_ISA, then the CPU's best) at least avx2, the
// calls below run the AVX2 SGEMM of lib/kernels/float/avx2/; otherwise they
// return false and the caller uses its Eigen path (baseline x86-64 / SSE2).
// Results differ from the Eigen path only by rounding order (FMA, blocking).
#ifndef QFORGE_LIB_KERNELS_FLOAT_SGEMM_H_
#define QFORGE_LIB_KERNELS_FLOAT_SGEMM_H_

#include <cstdint>
#include <vector>

namespace qforge::kernels {

// Whether the fast SGEMM would run now (reads the active ISA).
bool FastSgemmAvailable();

// B pre-packed once for FastSgemmPacked (e.g. constant weights); empty when
// the fast SGEMM is unavailable.
struct PackedSgemmB {
  int64_t k = 0, n = 0;
  std::vector<float> data;
  bool empty() const { return data.empty(); }
};

// Packs B (element (p, j) at b[p * rs_b + j * cs_b], k x n). Returns an empty
// PackedSgemmB when the fast SGEMM is unavailable or k or n is 0.
PackedSgemmB PackSgemmB(int64_t k, int64_t n, const float* b, int64_t rs_b,
                        int64_t cs_b);

// C[m x n] = A * B + bias (or C += A * B + bias when `accumulate`), A(i, p)
// = a[i * rs_a + p * cs_a], B(p, j) = b[p * rs_b + j * cs_b], C(i, j) = c[i *
// ldc + j], bias(i, j) = row_bias[i] + col_bias[j] (each optional).
// Returns false (doing nothing) when the fast SGEMM is unavailable.
bool FastSgemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t rs_a,
               int64_t cs_a, const float* b, int64_t rs_b, int64_t cs_b,
               float* c, int64_t ldc, bool accumulate,
               const float* row_bias = nullptr,
               const float* col_bias = nullptr);

// As FastSgemm with B from PackSgemmB (packed.k == k, packed.n == n, not
// empty). Returns false when unavailable or the packing does not match.
bool FastSgemmPacked(int64_t m, const float* a, int64_t rs_a, int64_t cs_a,
                     const PackedSgemmB& packed, float* c, int64_t ldc,
                     bool accumulate, const float* row_bias = nullptr,
                     const float* col_bias = nullptr);

// Depthwise helpers (lib/kernels/float/avx2/depthwise_avx2.h documents the
// arguments). Call them only after FastSgemmAvailable() returned true (they
// do not re-check the ISA: they run per plane or per tap); they return false
// and do nothing in builds without the AVX2 kernels.
bool FastDepthwisePlane(const float* padded, int64_t wp, const float* w,
                        int64_t kh_n, int64_t kw_n, int64_t sh, int64_t sw,
                        int64_t dh, int64_t dw, int64_t oh_n, int64_t ow_n,
                        float bias, float* y);
bool FastMultiplyAccumulate(const float* w, const float* x, int64_t n,
                            float* y);

}  // namespace qforge::kernels

#endif  // QFORGE_LIB_KERNELS_FLOAT_SGEMM_H_
