// Arithmetic profiles of the normative scalar INT8 reference kernels.
//
// A quantized model computes different integers depending on the runtime that
// executes it: ONNX Runtime requantizes in single-precision float, TFLite's
// reference kernels requantize with Q31 fixed-point multipliers and double
// rounding. qforge reproduces each runtime's integer arithmetic exactly, op by
// op, and calls each such set of rules an arithmetic profile. Every kernel in
// this folder takes the profile as its first argument; the exact formulas are
// written down per op in docs/arithmetic.md and in each kernel's header.
//
// These kernels are the normative definition: SIMD kernels (AVX2, AVX-512
// VNNI) must produce the same bytes for the same inputs.
#ifndef QFORGE_LIB_KERNELS_INT8_REFERENCE_PROFILE_H_
#define QFORGE_LIB_KERNELS_INT8_REFERENCE_PROFILE_H_

#include "qforge/core/arithmetic_profile.h"

namespace qforge::kernels::reference {

// The public enum (qforge/core/arithmetic_profile.h), which documents each
// profile; the kernels take it as their first argument.
//   kOnnxRuntime: what ONNX Runtime's CPU execution provider computes for a
//     QDQ model after its QDQ transformer fused the pattern (QLinearConv,
//     QLinearMatMul, QGemm, QLinearAdd, QLinearMul, QLinearAveragePool,
//     QLinearGlobalAveragePool, QLinearSigmoid, QLinearSoftmax,
//     QLinearConcat), MLAS x86-64 kernels with AVX2/FMA3;
//     DequantizeLinear -> float op -> QuantizeLinear where ORT has no fused
//     kernel (Sub, Tanh, HardSwish).
//   kTfliteReference: what TFLite's (LiteRT's) reference int8 kernels
//     (BUILTIN_REF op resolver, double-rounding build, i.e.
//     TFLITE_SINGLE_ROUNDING off) compute. TFLite Micro computes the same.
using ::qforge::ArithmeticProfile;

inline const char* ProfileName(ArithmeticProfile profile) {
  return ArithmeticProfileName(profile);
}

}  // namespace qforge::kernels::reference

#endif  // QFORGE_LIB_KERNELS_INT8_REFERENCE_PROFILE_H_
