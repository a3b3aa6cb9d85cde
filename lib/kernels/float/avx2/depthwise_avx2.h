// AVX2 + FMA float32 depthwise convolution helpers (ISA translation unit
// interface; plain functions only, see sgemm_avx2.h for why). Called only by
// lib/kernels/float/sgemm.cc after its CPU / ISA check.
#ifndef QFORGE_LIB_KERNELS_FLOAT_AVX2_DEPTHWISE_AVX2_H_
#define QFORGE_LIB_KERNELS_FLOAT_AVX2_DEPTHWISE_AVX2_H_

#include <cstdint>

namespace qforge::kernels::avx2 {

// One NCHW output plane from a zero-padded input plane whose rows have `wp`
// floats and cover every window (plus at least 16 readable floats after the
// last row): y[oh * ow_n + ow] = bias + sum over (kh, kw), in that order, of
// w[kh * kw_n + kw] * padded[(oh * sh + kh * dh) * wp + ow * sw + kw * dw].
void DepthwisePlaneAvx2(const float* padded, int64_t wp, const float* w,
                        int64_t kh_n, int64_t kw_n, int64_t sh, int64_t sw,
                        int64_t dh, int64_t dw, int64_t oh_n, int64_t ow_n,
                        float bias, float* y);

// y[i] += w[i] * x[i] for i in [0, n) (one NHWC depthwise tap).
void MultiplyAccumulateAvx2(const float* w, const float* x, int64_t n,
                            float* y);

}  // namespace qforge::kernels::avx2

#endif  // QFORGE_LIB_KERNELS_FLOAT_AVX2_DEPTHWISE_AVX2_H_
