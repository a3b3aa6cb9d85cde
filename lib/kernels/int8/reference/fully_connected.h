// FullyConnected / MatMul / Gemm reference kernel (TFLite FULLY_CONNECTED,
// ONNX MatMul and Gemm in QDQ form -> ORT QLinearMatMul / QGemm).
//
// Shapes: input [M, K] (row-major), weights [N, K] (kOutputMajor: TFLite's
// FULLY_CONNECTED layout and ONNX Gemm with transB=1) or [K, N]
// (kInputMajor: ONNX MatMul, Gemm transB=0), bias [N] int32 at scale
// input_scale * weight_scale[n] with zero point 0, output [M, N].
//
// Accumulation, both profiles (exact, int32 wrapping modulo 2^32):
//   acc[m][n] = bias[n] + sum_k (x[m][k] - zx) * (w[n][k] - zw[n])
// The sum order does not matter (addition modulo 2^32 is associative), so a
// SIMD kernel may use any decomposition, e.g. sum x*w - zx*sum w - ..., as
// long as it wraps (vpdpbusd, not the saturating vpdpbusds or pmaddubsw).
// Each product is exact ((x - zx), (w - zw) in [-255, 255]). The runtimes
// overflow the same way (TFLite: UB, in practice wrap); it takes
// K > 33000 worst-case products to overflow.
//
// Requantization: Requantizer::ForLinear (requantize.h):
//   onnxruntime:      clamp(rne(float(acc) * ((sx * sw[n]) / sy)) + zy)
//   tflite_reference (params.tflite_requant):
//     kDouble (default; TFLite BUILTIN_REF FULLY_CONNECTED, per-tensor and
//       per-channel): clamp(int32(round(double(acc) *
//                       (double(sx) * double(sw[n]) / double(sy)))) + zy)
//       with round = std::round (half away from zero);
//     kFixedPoint (the BATCH_MATMUL-style product of two activations):
//       clamp(MultiplyByQuantizedMultiplier(acc,
//             QuantizeMultiplier(double(sx)*sw[n]/sy)) + zy)
// then the activation clamp.
//
// Weight zero points are honoured in both profiles; TFLite itself only
// supports a per-tensor filter offset for FULLY_CONNECTED (int8 weights are
// symmetric per the TFLite int8 spec).
#ifndef QFORGE_LIB_KERNELS_INT8_REFERENCE_FULLY_CONNECTED_H_
#define QFORGE_LIB_KERNELS_INT8_REFERENCE_FULLY_CONNECTED_H_

#include <cstdint>

#include "absl/status/status.h"
#include "kernels/int8/reference/profile.h"
#include "kernels/int8/reference/quant_types.h"
#include "kernels/int8/reference/requantize.h"

namespace qforge::kernels::reference {

enum class WeightLayout {
  kOutputMajor,  // weights[n][k]: [N, K]
  kInputMajor,   // weights[k][n]: [K, N]
};

struct FullyConnectedParams {
  int64_t rows = 0;          // M
  int64_t input_depth = 0;   // K
  int64_t output_depth = 0;  // N
  WeightLayout weight_layout = WeightLayout::kOutputMajor;
  QuantParam input;
  WeightQuant weights;  // per-tensor or per output channel (N)
  QuantParam output;
  ActivationRange activation;
  // tflite_reference only: FULLY_CONNECTED rescales in double.
  TfliteLinearRequant tflite_requant = TfliteLinearRequant::kDouble;
};

// The int32 accumulators acc[M][N] (bias included, may be null). Inputs and
// weights are validated; quantization scales are not used.
absl::Status FullyConnectedAccumulate(const FullyConnectedParams& params,
                                      const int8_t* input,
                                      const int8_t* weights,
                                      const int32_t* bias, int32_t* acc);

// The int8 output [M][N].
absl::Status FullyConnected(ArithmeticProfile profile,
                            const FullyConnectedParams& params,
                            const int8_t* input, const int8_t* weights,
                            const int32_t* bias, int8_t* output);

}  // namespace qforge::kernels::reference

#endif  // QFORGE_LIB_KERNELS_INT8_REFERENCE_FULLY_CONNECTED_H_
