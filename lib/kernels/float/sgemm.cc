#include "kernels/float/sgemm.h"

#include "kernels/int8/fast/isa.h"

#ifdef QFORGE_HAVE_AVX2_KERNELS
#include "kernels/float/avx2/depthwise_avx2.h"
#include "kernels/float/avx2/sgemm_avx2.h"
#endif

namespace qforge::kernels {
namespace {

#ifdef QFORGE_HAVE_AVX2_KERNELS
bool CpuHasFma() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("fma") != 0;
  }();
  return has;
}
#endif

}  // namespace

bool FastSgemmAvailable() {
#ifdef QFORGE_HAVE_AVX2_KERNELS
  using int8::fast::Isa;
  const absl::StatusOr<Isa> isa = int8::fast::ActiveIsa();
  return isa.ok() && *isa >= Isa::kAvx2 && CpuHasFma();
#else
  return false;
#endif
}

PackedSgemmB PackSgemmB(int64_t k, int64_t n, const float* b, int64_t rs_b,
                        int64_t cs_b) {
  PackedSgemmB packed;
#ifdef QFORGE_HAVE_AVX2_KERNELS
  if (k <= 0 || n <= 0 || !FastSgemmAvailable()) return packed;
  packed.k = k;
  packed.n = n;
  packed.data.resize(avx2::SgemmPackedBSizeAvx2(k, n));
  avx2::SgemmPackBAvx2(k, n, b, rs_b, cs_b, packed.data.data());
#endif
  return packed;
}

bool FastSgemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t rs_a,
               int64_t cs_a, const float* b, int64_t rs_b, int64_t cs_b,
               float* c, int64_t ldc, bool accumulate, const float* row_bias,
               const float* col_bias) {
#ifdef QFORGE_HAVE_AVX2_KERNELS
  if (!FastSgemmAvailable()) return false;
  avx2::SgemmAvx2(m, n, k, a, rs_a, cs_a, b, rs_b, cs_b, c, ldc, accumulate,
                  row_bias, col_bias);
  return true;
#else
  return false;
#endif
}

bool FastSgemmPacked(int64_t m, const float* a, int64_t rs_a, int64_t cs_a,
                     const PackedSgemmB& packed, float* c, int64_t ldc,
                     bool accumulate, const float* row_bias,
                     const float* col_bias) {
#ifdef QFORGE_HAVE_AVX2_KERNELS
  if (packed.empty() || !FastSgemmAvailable()) return false;
  avx2::SgemmPackedAvx2(m, packed.n, packed.k, a, rs_a, cs_a,
                        packed.data.data(), c, ldc, accumulate, row_bias,
                        col_bias);
  return true;
#else
  return false;
#endif
}

bool FastDepthwisePlane(const float* padded, int64_t wp, const float* w,
                        int64_t kh_n, int64_t kw_n, int64_t sh, int64_t sw,
                        int64_t dh, int64_t dw, int64_t oh_n, int64_t ow_n,
                        float bias, float* y) {
#ifdef QFORGE_HAVE_AVX2_KERNELS
  avx2::DepthwisePlaneAvx2(padded, wp, w, kh_n, kw_n, sh, sw, dh, dw, oh_n,
                           ow_n, bias, y);
  return true;
#else
  return false;
#endif
}

bool FastMultiplyAccumulate(const float* w, const float* x, int64_t n,
                            float* y) {
#ifdef QFORGE_HAVE_AVX2_KERNELS
  avx2::MultiplyAccumulateAvx2(w, x, n, y);
  return true;
#else
  return false;
#endif
}

}  // namespace qforge::kernels
