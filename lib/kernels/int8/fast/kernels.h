// Fast INT8 kernels with runtime ISA dispatch: fully connected (Gemm /
// MatMul), Conv2D and depthwise Conv2D. Each kernel is prepared once from its
// constant weights (packed for the chosen ISA) and run many times; the result
// equals the normative reference kernels (lib/kernels/int8/reference/) byte
// for byte in both arithmetic profiles.
//
// The SIMD paths compute the exact int32 accumulators with their own
// micro-kernels and then apply the reference requantization, vectorized
// exactly (the onnxruntime profile's binary32 formula and the
// tflite_reference profile's gemmlowp fixed-point formula). With
// Isa::kScalar, and whenever a case has no SIMD kernel (invalid parameters,
// the tflite_reference profile with nonzero weight
// zero points, ...), a kernel calls the reference kernel itself, so errors
// are reported exactly as the reference reports them.
#ifndef QFORGE_LIB_KERNELS_INT8_FAST_KERNELS_H_
#define QFORGE_LIB_KERNELS_INT8_FAST_KERNELS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kernels/int8/fast/isa.h"
#include "kernels/int8/fast/vnni_gemm.h"
#include "kernels/int8/reference/conv.h"
#include "kernels/int8/reference/fully_connected.h"
#include "kernels/int8/reference/requantize.h"

namespace qforge::kernels::int8::fast {

// The ISA the fully connected kernel actually runs for a requested ISA (the
// best implemented one not above it; scalar when the build has no x86
// kernels). Depthwise has no VNNI kernel: it runs
// std::min(ImplementedIsa(isa), Isa::kAvx2).
Isa ImplementedIsa(Isa requested);

// Weights packed for the int16 GEMM micro-kernels (see avx2_kernels.h):
// B[k][n] = w[k][n] - zw[n], N padded to 8, K to even.
struct PackedGemmB {
  int64_t k = 0, kp = 0, n = 0;
  std::vector<int16_t> data;  // [ceil(n / 8)][kp / 2][8][2]
};

// Raw int8 weights packed for the AVX2 matrix-vector kernels (batch-1 fully
// connected; avx2_kernels.h) and the weight zero points they correct with
// (empty when all are 0). With every weight in [-127, 127] (sign = true)
// the layout is GemvS8Sign's (k-quads, kp a multiple of 4) and `bias` holds
// bias - zx * sum_k w + K * zx * zw (wrapping); else GemvS8's (k-pairs).
struct PackedGemvB {
  int64_t kp = 0, n = 0;
  bool sign = false;
  std::vector<int8_t> data;
  std::vector<int32_t> zero_points;
  std::vector<int32_t> bias;
};

// Weights packed for the VNNI (u8 x s8, vpdpbusd) micro-kernels: raw int8
// weights laid out per vnni_gemm.h, the bias with the sign flip and the
// zero-point terms folded in, and the weight zero points (empty when all are
// 0) for the per-row correction:
//   acc = bias + sum (x - zx)(w - zw)
//       = [bias - (128 + zx) sum_k w + K zx zw] + sum (x + 128) w
//         - zw sum_k x                       (all modulo 2^32)
struct PackedVnniB {
  int64_t k = 0, kq = 0, n = 0;
  std::vector<int8_t> data;
  std::vector<int32_t> bias;
  std::vector<int32_t> zero_points;
};

// Requantization of accumulator rows into int8 (reference arithmetic).
class OutputStage {
 public:
  OutputStage() = default;
  OutputStage(reference::Requantizer requantizer, int64_t channels, Isa isa);
  void Row(const int32_t* acc, int64_t channels, int8_t* out) const;

 private:
  reference::Requantizer requantizer_;
  // Per channel, for the SIMD requantization (empty otherwise).
  std::vector<float> scales_;                  // onnxruntime
  std::vector<int32_t> multipliers_, shifts_;  // tflite_reference
  bool vector_ort_ = false;
  bool vector_tflite_ = false;
};

class FullyConnectedKernel {
 public:
  // params.rows is ignored (given per run). `weights` in
  // params.weight_layout, `bias` [N] or null; both are copied.
  static FullyConnectedKernel Create(Isa isa, ArithmeticProfile profile,
                                     const reference::FullyConnectedParams& p,
                                     const int8_t* weights,
                                     const int32_t* bias);
  // The VNNI path with `gemm` as its micro-kernel (reported as `isa`), for
  // testing the packing and zero-point corrections with EmulatedGemmU8S8 on
  // CPUs without VNNI.
  static FullyConnectedKernel CreateWithVnniGemmForTesting(
      Isa isa, GemmU8S8Fn gemm, ArithmeticProfile profile,
      const reference::FullyConnectedParams& p, const int8_t* weights,
      const int32_t* bias);
  // The ISA this kernel runs.
  Isa isa() const { return isa_; }
  absl::Status Run(int64_t rows, const int8_t* input, int8_t* output) const;

 private:
  static FullyConnectedKernel CreateImpl(
      Isa isa, GemmU8S8Fn vnni_gemm, ArithmeticProfile profile,
      const reference::FullyConnectedParams& p, const int8_t* weights,
      const int32_t* bias);
  absl::Status RunVnni(int64_t rows, const int8_t* input, int8_t* output) const;
  GemmU8S8Fn vnni_gemm_ = nullptr;
  PackedVnniB vnni_;
  Isa isa_ = Isa::kScalar;
  ArithmeticProfile profile_ = ArithmeticProfile::kOnnxRuntime;
  reference::FullyConnectedParams params_;
  std::vector<int8_t> weights_;
  std::vector<int32_t> bias_;
  PackedGemmB packed_;
  PackedGemvB gemv_;  // AVX2, rows == 1
  OutputStage output_;
};

class Conv2DKernel {
 public:
  // `weights` OHWI [O, kH, kW, C/groups] (copied). The spatial geometry
  // (batch, input size, padding) comes with each run; the kernel size,
  // strides and dilations of the run must equal params.geometry's.
  static Conv2DKernel Create(Isa isa, ArithmeticProfile profile,
                             const reference::Conv2DParams& params,
                             const int8_t* weights, const int32_t* bias);
  // As FullyConnectedKernel::CreateWithVnniGemmForTesting.
  static Conv2DKernel CreateWithVnniGemmForTesting(
      Isa isa, GemmU8S8Fn gemm, ArithmeticProfile profile,
      const reference::Conv2DParams& params, const int8_t* weights,
      const int32_t* bias);
  Isa isa() const { return isa_; }
  absl::Status Run(const reference::ConvGeometry& geometry, const int8_t* input,
                   int8_t* output) const;

 private:
  static Conv2DKernel CreateImpl(Isa isa, GemmU8S8Fn vnni_gemm,
                                 ArithmeticProfile profile,
                                 const reference::Conv2DParams& params,
                                 const int8_t* weights, const int32_t* bias);
  absl::Status RunReference(const reference::ConvGeometry& geometry,
                            const int8_t* input, int8_t* output) const;
  absl::Status RunVnni(const reference::ConvGeometry& geometry,
                       const int8_t* input, int8_t* output) const;
  Isa isa_ = Isa::kScalar;
  ArithmeticProfile profile_ = ArithmeticProfile::kOnnxRuntime;
  reference::Conv2DParams params_;
  std::vector<int8_t> weights_;
  std::vector<int32_t> bias_;
  // AVX2: one per group. With direct_ (no im2col), K runs over the taps,
  // each holding the group's channels padded to even (cg + cg % 2).
  std::vector<PackedGemmB> packed_;
  bool direct_ = false;
  GemmU8S8Fn vnni_gemm_ = nullptr;
  std::vector<PackedVnniB> vnni_;  // VNNI: one per group
  OutputStage output_;
};

class DepthwiseConv2DKernel {
 public:
  // `weights` [kH, kW, C * M] (copied). Any depth multiplier M; the AVX2
  // path (avx2/avx2_depthwise.h) packs the weights as int16 tap pairs with
  // the input zero point folded into the bias and fuses the requantization.
  static DepthwiseConv2DKernel Create(
      Isa isa, ArithmeticProfile profile,
      const reference::DepthwiseConv2DParams& params, const int8_t* weights,
      const int32_t* bias);
  Isa isa() const { return isa_; }
  absl::Status Run(const reference::ConvGeometry& geometry, const int8_t* input,
                   int8_t* output) const;

 private:
  absl::Status RunReference(const reference::ConvGeometry& geometry,
                            const int8_t* input, int8_t* output) const;
  Isa isa_ = Isa::kScalar;
  ArithmeticProfile profile_ = ArithmeticProfile::kOnnxRuntime;
  reference::DepthwiseConv2DParams params_;
  std::vector<int8_t> weights_;
  std::vector<int32_t> bias_;
  // AVX2 operands, channels padded to a multiple of 8 (Op).
  int64_t padded_channels_ = 0;
  std::vector<int16_t> packed_;       // [ceil(kH/2)][kW][Op][2], w - zw
  std::vector<int32_t> folded_bias_;  // [Op], bias - zx * sum (w - zw)
  std::vector<float> scales_;         // onnxruntime, [Op]
  std::vector<int32_t> multipliers_;  // tflite_reference, [Op]
  std::vector<int32_t> shifts_;       // tflite_reference, [Op]
};

}  // namespace qforge::kernels::int8::fast

#endif  // QFORGE_LIB_KERNELS_INT8_FAST_KERNELS_H_
