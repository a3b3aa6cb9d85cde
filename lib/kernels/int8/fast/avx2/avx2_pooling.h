// AVX2 pooling kernels, NHWC with the channels vectorized: MaxPool,
// AveragePool (both profiles) and the int32 channel sums of a global
// average pool. Implemented in avx2_pooling.cc (compiled with -mavx2,
// lib/CMakeLists.txt); callers check CpuHasIsa(Isa::kAvx2) and validate the
// parameters first (fast/pooling.cc). Plain types only (see avx2_kernels.h).
//
// The formulas are the reference kernels' (reference/pooling.h,
// docs/arithmetic.md), lane by lane:
//   MaxPool: m = max over the clipped window (vpmaxsb), then either the
//     clamp [lo, hi] (same input and output params) or table[uint8(m)].
//   AveragePool, tflite_reference: s = int32 sum of the raw q, n = in-image
//     count; y = trunc((s > 0 ? s + n/2 : s - n/2) / n) computed as a double
//     division truncated (exact: |s| < 2^31, so the rounded quotient never
//     crosses an integer), clamped to [-128, 127] then [lo, hi].
//   AveragePool, onnxruntime: binary32, the reference's operations in its
//     order (s = 0; s += float(q - zx) * sx, rows outer; s / float(n);
//     / sy; + float(zy); cvtps2dq), no FMA.
//   Global sums: sum of q over H * W per channel, int32, wrapping.
#ifndef QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_POOLING_H_
#define QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_POOLING_H_

#include <cstdint>

namespace qforge::kernels::int8::fast::avx2 {

enum class PoolKind { kMax, kAverageTflite, kAverageOrt };

struct Pool2DArgs {
  PoolKind kind;
  const int8_t* input;  // [batch, in_h, in_w, channels]
  int8_t* output;       // [batch, out_h, out_w, channels]
  int64_t batch, in_h, in_w, channels;
  int64_t kh, kw, stride_h, stride_w, pad_top, pad_left, out_h, out_w;
  bool count_include_pad;  // kAverageOrt
  int32_t lo, hi;          // effective activation clamp, within [-128, 127]
  const int8_t* table;     // kMax: null (clamp only) or 256 entries
  float input_scale, output_scale;  // kAverageOrt
  int32_t input_zero_point, output_zero_point;
};

void Pool2D(const Pool2DArgs& args);

// sums[b * channels + c] = sum over the image of q (int32, wrapping).
void GlobalSums(const int8_t* input, int64_t batch, int64_t pixels,
                int64_t channels, int32_t* sums);

// The onnxruntime ReduceMean sum in binary32: sums[b * channels + c] = 0.0f,
// then += float(q - zero_point) * scale for each pixel in order.
void GlobalFloatSums(const int8_t* input, int64_t batch, int64_t pixels,
                     int64_t channels, int32_t zero_point, float scale,
                     float* sums);

}  // namespace qforge::kernels::int8::fast::avx2

#endif  // QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_POOLING_H_
