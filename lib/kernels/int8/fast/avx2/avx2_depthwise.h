// AVX2 depthwise convolution, NHWC, any depth multiplier, with the output
// requantization fused. Implemented in avx2_depthwise.cc (compiled with
// -mavx2, lib/CMakeLists.txt); callers check CpuHasIsa(Isa::kAvx2) first.
// Plain types only (see avx2_kernels.h for why).
//
// Method (exact, docs/arithmetic.md): with w' = w - zw[o] in [-255, 255]
// and the input zero point folded into the bias,
//   acc[o] = bias[o] + sum_taps (x - zx) * w'
//          = (bias[o] - zx * sum_all_taps w') + sum_all_taps x * w'
// where a tap in the padding reads x = zx (it then adds zx * w', which the
// folded bias takes away again: the padding contributes nothing, as in the
// reference). All sums wrap modulo 2^32 like the reference. Taps are taken
// in pairs: vpmaddwd multiplies the int16 pairs (x_t[o], x_t+1[o]) by the
// packed (w'_t[o], w'_t+1[o]) and adds the two products into one int32 lane
// exactly (|sum| <= 2 * 128 * 255). An odd tap count pads the last pair with
// a zero weight. Output channel o = c * M + m reads input channel c; with
// M > 1 each image is first expanded to C * M channels (x repeated M times).
#ifndef QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_DEPTHWISE_H_
#define QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_DEPTHWISE_H_

#include <cstdint>

namespace qforge::kernels::int8::fast::avx2 {

// Packed operands: P = ceil(kh * kw / 2) tap pairs, Op = O rounded up to a
// multiple of 8 (padding channels hold zero weights and bias, scale 1,
// multiplier 2^30, shift 0).
struct DepthwiseConvArgs {
  const int8_t* input;  // [batch, in_h, in_w, in_channels]
  int8_t* output;       // [batch, out_h, out_w, in_channels * multiplier]
  int64_t batch, in_h, in_w, in_channels, multiplier;
  int64_t kh, kw, stride_h, stride_w, dilation_h, dilation_w;
  int64_t pad_top, pad_left, out_h, out_w;
  int32_t input_zero_point;
  const int16_t* weights;  // [P][Op][2]: (w'_2p[o], w'_2p+1[o])
  const int32_t* bias;     // [Op], zero point folded in as above
  int64_t padded_channels;  // Op
  // Output stage: tflite_reference (multipliers/shifts) or onnxruntime
  // (scales), each [Op].
  bool tflite;
  const float* scales;
  const int32_t* multipliers;
  const int32_t* shifts;
  int32_t output_zero_point, act_min, act_max;
  // Scratch of DepthwiseScratchBytes() bytes, and 2 * P tap pointers.
  int8_t* scratch;
  const int8_t** taps;
};

int64_t DepthwiseScratchBytes(const DepthwiseConvArgs& args);

void DepthwiseConv(const DepthwiseConvArgs& args);

}  // namespace qforge::kernels::int8::fast::avx2

#endif  // QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_DEPTHWISE_H_
