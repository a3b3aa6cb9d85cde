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
// in vertical pairs, rows ky = 2j and 2j + 1 at the same kx: vpmaddwd
// multiplies the int16 pairs (x[y][x][o], x[y + dh][x][o]) by the packed
// (w'[2j][kx][o], w'[2j+1][kx][o]) and adds the two products into one int32
// lane exactly (|sum| <= 2 * 128 * 255); an odd kh pairs its last row with
// a zero weight. For each output row, the ceil(kh / 2) rows of such int16
// pairs are built once, padded left and right with zx (a row outside the
// image is all zx), so the per-pixel loop has no borders and no shuffles: a
// load, a vpmaddwd and an add per pair of taps and 8 channels, 8 output
// pixels at a time (then 4, then 1). Output channel o = c * M + m reads input
// channel c; with M > 1 each image is first expanded to C * M channels (x
// repeated M times).
#ifndef QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_DEPTHWISE_H_
#define QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_DEPTHWISE_H_

#include <cstdint>

namespace qforge::kernels::int8::fast::avx2 {

// Packed operands: J = ceil(kh / 2) row pairs, Op = O rounded up to a
// multiple of 8 (padding channels hold zero weights and bias, scale 1,
// multiplier 2^30, shift 0).
struct DepthwiseConvArgs {
  const int8_t* input;  // [batch, in_h, in_w, in_channels]
  int8_t* output;       // [batch, out_h, out_w, in_channels * multiplier]
  int64_t batch, in_h, in_w, in_channels, multiplier;
  int64_t kh, kw, stride_h, stride_w, dilation_h, dilation_w;
  int64_t pad_top, pad_left, out_h, out_w;
  int32_t input_zero_point;
  const int16_t* weights;   // [J][kw][Op][2]: (w'[2j][kx][o], w'[2j+1][kx][o])
  const int32_t* bias;      // [Op], zero point folded in as above
  int64_t padded_channels;  // Op
  // Output stage: tflite_reference (multipliers/shifts) or onnxruntime
  // (scales), each [Op].
  bool tflite;
  const float* scales;
  const int32_t* multipliers;
  const int32_t* shifts;
  int32_t output_zero_point, act_min, act_max;
  // Scratch of DepthwiseScratchBytes() bytes (no alignment needed).
  int8_t* scratch;
};

int64_t DepthwiseScratchBytes(const DepthwiseConvArgs& args);

void DepthwiseConv(const DepthwiseConvArgs& args);

}  // namespace qforge::kernels::int8::fast::avx2

#endif  // QFORGE_LIB_KERNELS_INT8_FAST_AVX2_AVX2_DEPTHWISE_H_
