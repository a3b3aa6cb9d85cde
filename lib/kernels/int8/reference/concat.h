// Concat reference kernel with per-input requantization (TFLite
// CONCATENATION; ONNX Concat in QDQ form -> ORT QLinearConcat).
//
// Layout: input i is [outer, axis_size_i, inner], the output
// [outer, sum_i axis_size_i, inner]; each [axis_size_i * inner] block of
// input i is copied (or mapped) into place.
//
// An input whose (scale, zero point) equal the output's (exact float and int
// equality) is copied unchanged in both profiles. Otherwise each element q is
// mapped to:
//   onnxruntime (QLinearConcat: a 256-entry table per input built by
//     QlinearBuildLookupTable with the identity function):
//     QuantizeValueOrt(float(q - z_in) * s_in, s_out, z_out)
//   tflite_reference: TFLite's int8 CONCATENATION requires equal params and
//     only copies; for unequal params qforge uses TFLite's own requantizing
//     concatenation (reference_ops::ConcatenationWithScaling, the uint8
//     kernel):
//     scale = s_in * (1.0f / s_out);  bias = -z_in * scale      (binary32)
//     y = clamp(int32(round_half_away(q * scale + bias)) + z_out, -128, 127)
//     (q * scale and + bias are two roundings)
#ifndef QFORGE_LIB_KERNELS_INT8_REFERENCE_CONCAT_H_
#define QFORGE_LIB_KERNELS_INT8_REFERENCE_CONCAT_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "kernels/int8/reference/profile.h"
#include "kernels/int8/reference/quant_types.h"

namespace qforge::kernels::reference {

struct ConcatInput {
  const int8_t* data = nullptr;
  int64_t axis_size = 0;
  QuantParam quant;
};

absl::Status Concat(ArithmeticProfile profile,
                    absl::Span<const ConcatInput> inputs, int64_t outer_size,
                    int64_t inner_size, const QuantParam& output_quant,
                    int8_t* output);

}  // namespace qforge::kernels::reference

#endif  // QFORGE_LIB_KERNELS_INT8_REFERENCE_CONCAT_H_
