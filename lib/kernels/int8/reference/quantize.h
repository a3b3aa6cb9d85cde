// QuantizeLinear / DequantizeLinear / int8 -> int8 requantization
// (ONNX QuantizeLinear, DequantizeLinear; TFLite QUANTIZE, DEQUANTIZE).
//
// Quantize, onnxruntime (MlasQuantizeLinear, x86 SSE2/AVX path):
//   v  = x / scale                          binary32 division
//   v  = (v > qmin - zp) ? v : qmin - zp    MAXPS: NaN becomes the lower bound
//   v  = (v < qmax - zp) ? v : qmax - zp    MINPS
//   q  = round_half_to_even(v) + zp         cvtps2dq, then integer add
// Quantize, tflite_reference (reference_ops::AffineQuantize):
//   v  = x / scale                          binary32 division
//   q  = clamp(round_half_away_from_zero(v) + zp, qmin, qmax)
//   (the cast of the rounded value to int32 saturates in qforge; NaN -> qmin)
// Dequantize, both profiles (ORT DequantizeLinear, TFLite Dequantize):
//   x  = float(q - zp) * scale              one binary32 rounding. TFLite
//   multiplies in double and rounds to float once; since q - zp has at most
//   9 significant bits and scale 24, the double product is exact and the
//   result is the same single rounding.
// Requantize int8 -> int8 (TFLite QUANTIZE with int8 input; ORT
// DequantizeLinear -> QuantizeLinear):
//   onnxruntime:
//     q_out = QuantizeValueOrt(float(q - zp_in) * s_in, s_out, zp_out)
//   tflite_reference:
//     M = QuantizeMultiplier(double(s_in) / double(s_out))
//     q_out = clamp(MultiplyByQuantizedMultiplier(q - zp_in, M) + zp_out,
//                   -128, 127)
#ifndef QFORGE_LIB_KERNELS_INT8_REFERENCE_QUANTIZE_H_
#define QFORGE_LIB_KERNELS_INT8_REFERENCE_QUANTIZE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "kernels/int8/reference/fixed_point.h"
#include "kernels/int8/reference/profile.h"
#include "kernels/int8/reference/quant_types.h"

namespace qforge::kernels::reference {

// One value, ONNX Runtime's MlasQuantizeLinear (see above). Result in
// [qmin, qmax].
int32_t QuantizeValueOrt(float x, float scale, int32_t zero_point, int32_t qmin,
                         int32_t qmax);

// One value, TFLite's AffineQuantize (see above). Result in [qmin, qmax].
int32_t QuantizeValueTflite(float x, float scale, int32_t zero_point,
                            int32_t qmin, int32_t qmax);

// Dispatches on the profile.
int32_t QuantizeValue(ArithmeticProfile profile, float x, float scale,
                      int32_t zero_point, int32_t qmin, int32_t qmax);

// float(q - zero_point) * scale, both profiles.
float DequantizeValue(int32_t q, float scale, int32_t zero_point);

// Element-wise quantization of `count` floats. The output range is the
// storage type's ([-128, 127] or [0, 255]).
absl::Status QuantizeLinear(ArithmeticProfile profile, const float* input,
                            int64_t count, const QuantParam& output_quant,
                            int8_t* output);
absl::Status QuantizeLinear(ArithmeticProfile profile, const float* input,
                            int64_t count, const QuantParam& output_quant,
                            uint8_t* output);

// Per-axis quantization of a tensor viewed as [outer, axis_size, inner]:
// element (o, a, i) uses scales[a], zero_points[a] (zero_points may be empty
// for all-zero).
absl::Status QuantizeLinearPerAxis(ArithmeticProfile profile,
                                   const float* input, int64_t outer,
                                   int64_t axis_size, int64_t inner,
                                   absl::Span<const float> scales,
                                   absl::Span<const int32_t> zero_points,
                                   int8_t* output);

absl::Status DequantizeLinear(const int8_t* input, int64_t count,
                              const QuantParam& input_quant, float* output);
absl::Status DequantizeLinear(const uint8_t* input, int64_t count,
                              const QuantParam& input_quant, float* output);
absl::Status DequantizeLinearPerAxis(const int8_t* input, int64_t outer,
                                     int64_t axis_size, int64_t inner,
                                     absl::Span<const float> scales,
                                     absl::Span<const int32_t> zero_points,
                                     float* output);

// Maps one int8 value from `input_quant` to `output_quant` (formulas above).
// A precomputed form, so that kernels reuse it per element.
class Int8Requantizer {
 public:
  static absl::StatusOr<Int8Requantizer> Create(ArithmeticProfile profile,
                                                const QuantParam& input_quant,
                                                const QuantParam& output_quant);

  int8_t Apply(int8_t q) const;
  bool is_identity() const { return identity_; }

 private:
  ArithmeticProfile profile_ = ArithmeticProfile::kOnnxRuntime;
  QuantParam input_;
  QuantParam output_;
  QuantizedMultiplier multiplier_;
  bool identity_ = false;
};

absl::Status RequantizeInt8(ArithmeticProfile profile, const int8_t* input,
                            int64_t count, const QuantParam& input_quant,
                            const QuantParam& output_quant, int8_t* output);

}  // namespace qforge::kernels::reference

#endif  // QFORGE_LIB_KERNELS_INT8_REFERENCE_QUANTIZE_H_
