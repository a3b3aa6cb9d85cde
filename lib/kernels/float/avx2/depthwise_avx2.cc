// AVX2 + FMA float depthwise helpers (see depthwise_avx2.h). Compiled with
// -mavx2 -mfma; includes only <immintrin.h>.
#include "kernels/float/avx2/depthwise_avx2.h"

#include <immintrin.h>

namespace qforge::kernels::avx2 {
namespace {

// 8 floats at p[0], p[s], ..., p[7 s] for s in {1, 2} (reads up to p[15]).
__m256 LoadStrided(const float* p, int64_t s) {
  if (s == 1) return _mm256_loadu_ps(p);
  const __m256 lo = _mm256_loadu_ps(p);
  const __m256 hi = _mm256_loadu_ps(p + 8);
  // Per 128-bit lane: lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6.
  const __m256 even = _mm256_shuffle_ps(lo, hi, 0x88);
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), 0xD8));
}

}  // namespace

void DepthwisePlaneAvx2(const float* padded, int64_t wp, const float* w,
                        int64_t kh_n, int64_t kw_n, int64_t sh, int64_t sw,
                        int64_t dh, int64_t dw, int64_t oh_n, int64_t ow_n,
                        float bias, float* y) {
  const __m256 vbias = _mm256_set1_ps(bias);
  const bool vec = sw == 1 || sw == 2;
  for (int64_t oh = 0; oh < oh_n; ++oh) {
    float* yr = y + oh * ow_n;
    const float* rows = padded + oh * sh * wp;
    int64_t ow = 0;
    if (vec) {
      for (; ow + 8 <= ow_n; ow += 8) {
        __m256 acc = vbias;
        for (int64_t kh = 0; kh < kh_n; ++kh) {
          const float* xr = rows + kh * dh * wp + ow * sw;
          for (int64_t kw = 0; kw < kw_n; ++kw) {
            acc = _mm256_fmadd_ps(_mm256_set1_ps(w[kh * kw_n + kw]),
                                  LoadStrided(xr + kw * dw, sw), acc);
          }
        }
        _mm256_storeu_ps(yr + ow, acc);
      }
    }
    for (; ow < ow_n; ++ow) {
      float acc = bias;
      for (int64_t kh = 0; kh < kh_n; ++kh) {
        const float* xr = rows + kh * dh * wp + ow * sw;
        for (int64_t kw = 0; kw < kw_n; ++kw) {
          acc += w[kh * kw_n + kw] * xr[kw * dw];
        }
      }
      yr[ow] = acc;
    }
  }
}

void MultiplyAccumulateAvx2(const float* w, const float* x, int64_t n,
                            float* y) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(
        y + i, _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i),
                               _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += w[i] * x[i];
}

}  // namespace qforge::kernels::avx2
