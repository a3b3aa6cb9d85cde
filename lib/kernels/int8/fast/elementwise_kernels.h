// Fast INT8 element-wise kernels with runtime ISA dispatch: Add, Sub, Mul
// (numpy broadcasting, requantization), 256-entry table lookup (Relu, Clip,
// Sigmoid, Tanh, HardSwish, plugin tables, int8 -> int8 requantization),
// QuantizeLinear / DequantizeLinear, Concat with requantization, Softmax.
//
// Each function takes the same arguments as its reference kernel
// (lib/kernels/int8/reference/) plus the ISA, and returns the same bytes in
// both arithmetic profiles. With Isa::kScalar, on a CPU without AVX2 + FMA,
// and whenever the arguments are invalid (so that errors read exactly as
// the reference's), it calls the reference kernel itself.
//
// Broadcasting: the output dims of size 1 are dropped and adjacent dims
// that broadcast alike are merged; the innermost merged dim is one span
// whose operands are each contiguous or a single repeated element (same
// shape: one span; scalar or per-channel operand along the innermost dims:
// spans with a scalar operand or with a contiguous repeated vector). Other
// broadcasts loop over the outer dims and call the same span kernel.
#ifndef QFORGE_LIB_KERNELS_INT8_FAST_ELEMENTWISE_KERNELS_H_
#define QFORGE_LIB_KERNELS_INT8_FAST_ELEMENTWISE_KERNELS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "kernels/int8/fast/isa.h"
#include "kernels/int8/reference/concat.h"
#include "kernels/int8/reference/elementwise.h"
#include "kernels/int8/reference/lut.h"
#include "kernels/int8/reference/profile.h"
#include "kernels/int8/reference/quant_types.h"
#include "kernels/int8/reference/softmax.h"

namespace qforge::kernels::int8::fast {

// The ISA the element-wise kernels run for a requested ISA: kAvx2 when
// requested >= kAvx2 and the CPU has AVX2 and FMA (and the build has the x86
// kernels), else kScalar.
Isa ElementwiseIsa(Isa requested);

// How many calls in this process took a SIMD path (tests use it to make sure
// a comparison with the reference did not silently run the reference).
int64_t SimdCallsForTesting();

absl::Status Add(Isa isa, ArithmeticProfile profile,
                 const reference::BinaryParams& params,
                 absl::Span<const int64_t> shape1, const int8_t* input1,
                 absl::Span<const int64_t> shape2, const int8_t* input2,
                 int8_t* output);
absl::Status Sub(Isa isa, ArithmeticProfile profile,
                 const reference::BinaryParams& params,
                 absl::Span<const int64_t> shape1, const int8_t* input1,
                 absl::Span<const int64_t> shape2, const int8_t* input2,
                 int8_t* output);
absl::Status Mul(Isa isa, ArithmeticProfile profile,
                 const reference::BinaryParams& params,
                 absl::Span<const int64_t> shape1, const int8_t* input1,
                 absl::Span<const int64_t> shape2, const int8_t* input2,
                 int8_t* output);

// reference::ApplyLut.
absl::Status ApplyLut(Isa isa, const reference::Int8Lut& lut,
                      const int8_t* input, int64_t count, int8_t* output);

// reference::QuantizeLinear (int8 output) and DequantizeLinear (int8 input).
absl::Status QuantizeLinear(Isa isa, ArithmeticProfile profile,
                            const float* input, int64_t count,
                            const reference::QuantParam& output_quant,
                            int8_t* output);
absl::Status DequantizeLinear(Isa isa, const int8_t* input, int64_t count,
                              const reference::QuantParam& input_quant,
                              float* output);

// reference::Concat: inputs with the output's params are copied (memcpy),
// the others mapped through their 256-entry requantization table (the
// reference's own per-element mapping, tabulated).
absl::Status Concat(Isa isa, ArithmeticProfile profile,
                    absl::Span<const reference::ConcatInput> inputs,
                    int64_t outer_size, int64_t inner_size,
                    const reference::QuantParam& output_quant, int8_t* output);

// reference::Softmax over the last axis. AVX2: the row maximum with
// vpmaxsb; onnxruntime keeps the binary32 sum in row order (scalar) and
// vectorizes the table gather, division and conversion; tflite_reference
// tabulates the fixed-point exponential of the 256 possible differences
// x - max once per call (0 below diff_min) and gathers from it for the
// (wrapping, order-free) int32 sum and the outputs.
absl::Status Softmax(Isa isa, ArithmeticProfile profile,
                     const reference::SoftmaxParams& params,
                     const int8_t* input, int64_t rows, int64_t depth,
                     int8_t* output);

}  // namespace qforge::kernels::int8::fast

#endif  // QFORGE_LIB_KERNELS_INT8_FAST_ELEMENTWISE_KERNELS_H_
