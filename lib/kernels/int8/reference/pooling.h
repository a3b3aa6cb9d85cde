// MaxPool, AveragePool and GlobalAveragePool / spatial Mean reference kernels,
// NHWC (TFLite MAX_POOL_2D, AVERAGE_POOL_2D, MEAN over axes {1, 2}; ONNX
// MaxPool, AveragePool, GlobalAveragePool in QDQ form).
//
// Input [N, H, W, C], output [N, OH, OW, C] (Pool2D) or [N, C] (global).
// A window at output (oy, ox) covers rows [oy*sh - pad_top, + kh) and
// columns [ox*sw - pad_left, + kw), clipped to the image; windows must
// contain at least one input element. Output sizes are given explicitly
// (PoolOutputSize computes them: floor or ceil mode).
//
// "Same params": exactly equal for onnxruntime (ORT drops a Q/DQ pair only
// for identical constants); equal zero points and |s_in - s_out| <= 1e-6 for
// tflite_reference (the tolerance of TFLite's pooling Prepare DCHECK, within
// which its kernels use the raw values).
// MaxPool, both profiles: m = max over the window of q (padding never wins).
//   With the same params: y = m (TFLite's reference MaxPool; ORT's int8
//   MaxPool). Otherwise y = Int8Requantizer(profile, in, out).Apply(m)
//   (quantize.h): ORT runs DQ -> float MaxPool -> Q, and dequantization is
//   monotonic; TFLite itself requires the same params. Then the activation
//   clamp.
// AveragePool, tflite_reference (reference_integer_ops::AveragePool): input
//   and output must have the same params, and count_include_pad is false.
//   s = sum of the raw q over the in-image window (int), n = their count,
//   y = s > 0 ? (s + n/2) / n : (s - n/2) / n   (C++ truncating division:
//   round half away from zero, on the raw values, zero point included)
// AveragePool, onnxruntime (contrib QLinearAveragePool):
//   - window == whole image and no padding: as GlobalAveragePool below
//     (ORT falls back to MlasQLinearGlobalAveragePool);
//   - otherwise in binary32: x = float(q - zx) * sx; s = 0.0f; s += x over
//     the window, rows outer, columns inner (ORT clips the window end to the
//     image before the start, like this kernel); n = count_include_pad ?
//     kh * kw : in-image count; a = s / float(n);
//     y = clamp(rne(a / sy + float(zy)), -128, 127)   (quantize_value:
//     division, then the zero point added in float, then nearbyintf).
// GlobalAveragePool / Mean over H and W, with n = H * W:
//   onnxruntime (MlasQLinearGlobalAveragePoolNhwc): requires n < 2^24 and
//     2^-32 <= scale < 256 where scale = sx / (sy * float(n)) (binary32:
//     product, then division; MLAS throws otherwise, qforge returns
//     OutOfRange); acc = sum(q) - zx * n (int32);
//     y = RequantizeOrt(acc, scale, zy) (requantize.h: float(acc) * scale,
//     clamp, round half to even, + zy).
//   tflite_reference (reference_ops::QuantizedMeanOrSum, MEAN):
//     {M, e} = QuantizeMultiplier(double(sx) / double(sy));
//     k = min(floor(log2 n), 32, 31 + e);
//     M' = int32((int64(M) << k) / n)   (truncating); e' = e - k;
//     acc = int32(sum(q) - zx * n);
//     y = clamp(MultiplyByQuantizedMultiplier(acc, M', e') + zy, -128, 127).
//   Then the activation clamp (TFLite's MEAN has none; keep the default).
#ifndef QFORGE_LIB_KERNELS_INT8_REFERENCE_POOLING_H_
#define QFORGE_LIB_KERNELS_INT8_REFERENCE_POOLING_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "kernels/int8/reference/profile.h"
#include "kernels/int8/reference/quant_types.h"

namespace qforge::kernels::reference {

struct Pool2DParams {
  int64_t batch = 1;
  int64_t input_height = 0;
  int64_t input_width = 0;
  int64_t channels = 0;
  int64_t kernel_height = 1;
  int64_t kernel_width = 1;
  int64_t stride_height = 1;
  int64_t stride_width = 1;
  int64_t pad_top = 0;
  int64_t pad_left = 0;
  int64_t pad_bottom = 0;
  int64_t pad_right = 0;
  int64_t output_height = 0;
  int64_t output_width = 0;
  bool count_include_pad = false;  // AveragePool, onnxruntime only
  QuantParam input;
  QuantParam output;
  ActivationRange activation;
};

// floor((in + pads - kernel) / stride) + 1, or the ceil variant; in ceil
// mode a last window that would start in the trailing padding is dropped
// (ONNX and PyTorch rule). 0 when the kernel does not fit.
int64_t PoolOutputSize(int64_t input, int64_t kernel, int64_t stride,
                       int64_t pad_before, int64_t pad_after, bool ceil_mode);

absl::Status MaxPool2D(ArithmeticProfile profile, const Pool2DParams& params,
                       const int8_t* input, int8_t* output);

absl::Status AveragePool2D(ArithmeticProfile profile,
                           const Pool2DParams& params, const int8_t* input,
                           int8_t* output);

struct GlobalPoolParams {
  int64_t batch = 1;
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;
  QuantParam input;
  QuantParam output;
  ActivationRange activation;
};

// Mean over H and W of an NHWC tensor; output [N, C].
absl::Status GlobalAveragePool(ArithmeticProfile profile,
                               const GlobalPoolParams& params,
                               const int8_t* input, int8_t* output);

// Mean of a tensor of any rank over any set of axes (ONNX ReduceMean, TFLite
// MEAN); n = product of the reduced dims. The output holds the kept dims in
// their input order (keepdims only changes the shape, not the bytes).
//   tflite_reference (reference_ops::QuantizedMeanOrSum, MEAN, any axes):
//     as GlobalAveragePool above, with this n.
//   onnxruntime (QDQ ReduceMean = DequantizeLinear -> float ReduceMean ->
//     QuantizeLinear): s = 0.0f; s += float(q - zx) * sx in input order
//     (binary32); a = s / float(n); y = QuantizeValueOrt(a, sy, zy)
//     (quantize.h: clamp(rne(a / sy) + zy)).
//   Then the activation clamp.
struct ReduceMeanParams {
  std::vector<int64_t> dims;  // input dims
  std::vector<int64_t> axes;  // reduced axes, each in [0, rank), no repeats
  QuantParam input;
  QuantParam output;
  ActivationRange activation;
};

absl::Status ReduceMean(ArithmeticProfile profile,
                        const ReduceMeanParams& params, const int8_t* input,
                        int8_t* output);

}  // namespace qforge::kernels::reference

#endif  // QFORGE_LIB_KERNELS_INT8_REFERENCE_POOLING_H_
