// Fast INT8 pooling with ISA dispatch: MaxPool, AveragePool and
// GlobalAveragePool / the spatial mean, NHWC. Same signatures and results
// as the normative reference kernels (kernels/int8/reference/pooling.h),
// byte for byte in both arithmetic profiles, plus the ISA to run (normally
// fast::ActiveIsa() read when the op is prepared).
//
// With Isa::kScalar, without AVX2 kernels in the build, and whenever the
// parameters are outside what the vector kernels handle (any invalid
// parameter, so that the reference reports the error; a tflite_reference
// average window of more than 2^22 elements; an onnxruntime AveragePool
// whose window is the whole image, which the reference turns into the
// global pool), these functions call the reference kernel itself.
#ifndef QFORGE_LIB_KERNELS_INT8_FAST_POOLING_H_
#define QFORGE_LIB_KERNELS_INT8_FAST_POOLING_H_

#include <cstdint>

#include "absl/status/status.h"
#include "kernels/int8/fast/isa.h"
#include "kernels/int8/reference/pooling.h"

namespace qforge::kernels::int8::fast {

absl::Status MaxPool2D(Isa isa, ArithmeticProfile profile,
                       const reference::Pool2DParams& params,
                       const int8_t* input, int8_t* output);

absl::Status AveragePool2D(Isa isa, ArithmeticProfile profile,
                           const reference::Pool2DParams& params,
                           const int8_t* input, int8_t* output);

// Mean over H and W of an NHWC tensor; output [N, C].
absl::Status GlobalAveragePool(Isa isa, ArithmeticProfile profile,
                               const reference::GlobalPoolParams& params,
                               const int8_t* input, int8_t* output);

// Mean over any axes (reference::ReduceMean). The AVX2 path covers reduced
// axes that form one contiguous block (e.g. H, W of NHWC: TFLite's MEAN
// over axes [1, 2]); it views the input as [outer, reduced, inner] and sums
// over the middle, vectorized over `inner`, in the reference's order.
absl::Status ReduceMean(Isa isa, ArithmeticProfile profile,
                        const reference::ReduceMeanParams& params,
                        const int8_t* input, int8_t* output);

}  // namespace qforge::kernels::int8::fast

#endif  // QFORGE_LIB_KERNELS_INT8_FAST_POOLING_H_
