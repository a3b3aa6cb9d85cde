// GELU as ONNX opset 20 defines it, shared by the float Gelu kernel and the
// int8/int16 tables of the erf plugin (plugins/erf), so that a table is built
// from exactly the float reference the float graph runs.
//
//   approximate = "none": y = 0.5 * x * (1 + erf(x / sqrt(2)))
//   approximate = "tanh": y = 0.5 * x * (1 + tanh(sqrt(2 / pi) *
//                                                 (x + 0.044715 * x^3)))
//
// C is the type the arithmetic happens in (float for float32 and float16,
// double for double).
#ifndef QFORGE_LIB_KERNELS_FLOAT_GELU_H_
#define QFORGE_LIB_KERNELS_FLOAT_GELU_H_

#include <cmath>

namespace qforge::kernels {

template <typename C>
C GeluErf(C x) {
  const C kSqrt2 = static_cast<C>(1.4142135623730950488016887242097L);
  return C{0.5} * x * (C{1} + std::erf(x / kSqrt2));
}

template <typename C>
C GeluTanh(C x) {
  const C kSqrt2OverPi = static_cast<C>(0.79788456080286535587989211986876L);
  const C kCubic = static_cast<C>(0.044715L);
  const C inner = kSqrt2OverPi * (x + kCubic * x * x * x);
  return C{0.5} * x * (C{1} + std::tanh(inner));
}

template <typename C>
C Gelu(C x, bool tanh_approximation) {
  return tanh_approximation ? GeluTanh(x) : GeluErf(x);
}

}  // namespace qforge::kernels

#endif  // QFORGE_LIB_KERNELS_FLOAT_GELU_H_
