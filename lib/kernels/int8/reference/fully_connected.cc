#include "kernels/int8/reference/fully_connected.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/int8/reference/kernel_util.h"
#include "kernels/int8/reference/requantize.h"
#include "qforge/core/status.h"

namespace qforge::kernels::reference {
namespace {

absl::Status Validate(const FullyConnectedParams& p, const int8_t* input,
                      const int8_t* weights, const void* output) {
  QFORGE_ASSIGN_OR_RETURN(int64_t out_count, internal::CheckedElementCount(
                                                 {p.rows, p.output_depth},
                                                 "FullyConnected output"));
  QFORGE_ASSIGN_OR_RETURN(
      int64_t in_count, internal::CheckedElementCount({p.rows, p.input_depth},
                                                      "FullyConnected input"));
  QFORGE_ASSIGN_OR_RETURN(int64_t w_count, internal::CheckedElementCount(
                                               {p.input_depth, p.output_depth},
                                               "FullyConnected weights"));
  if ((in_count > 0 && input == nullptr) ||
      (w_count > 0 && weights == nullptr) ||
      (out_count > 0 && output == nullptr)) {
    return absl::InvalidArgumentError("FullyConnected: null buffer");
  }
  QFORGE_RETURN_IF_ERROR(ValidateQuantParam(p.input, "FullyConnected input"));
  QFORGE_RETURN_IF_ERROR(ValidateWeightQuant(p.weights, p.output_depth));
  return absl::OkStatus();
}

}  // namespace

absl::Status FullyConnectedAccumulate(const FullyConnectedParams& p,
                                      const int8_t* input,
                                      const int8_t* weights,
                                      const int32_t* bias, int32_t* acc) {
  QFORGE_RETURN_IF_ERROR(Validate(p, input, weights, acc));
  const int64_t K = p.input_depth;
  const int64_t N = p.output_depth;
  const int64_t w_stride_n =
      p.weight_layout == WeightLayout::kOutputMajor ? K : 1;
  const int64_t w_stride_k =
      p.weight_layout == WeightLayout::kOutputMajor ? 1 : N;
  const int32_t zx = p.input.zero_point;
  for (int64_t m = 0; m < p.rows; ++m) {
    const int8_t* x = input + m * K;
    for (int64_t n = 0; n < N; ++n) {
      const int32_t zw = p.weights.zero_point(n);
      int32_t sum = bias != nullptr ? bias[n] : 0;
      for (int64_t k = 0; k < K; ++k) {
        const int32_t xv = static_cast<int32_t>(x[k]) - zx;
        const int32_t wv =
            static_cast<int32_t>(weights[n * w_stride_n + k * w_stride_k]) - zw;
        sum = internal::WrappingAdd(sum, xv * wv);
      }
      acc[m * N + n] = sum;
    }
  }
  return absl::OkStatus();
}

absl::Status FullyConnected(ArithmeticProfile profile,
                            const FullyConnectedParams& p, const int8_t* input,
                            const int8_t* weights, const int32_t* bias,
                            int8_t* output) {
  QFORGE_RETURN_IF_ERROR(Validate(p, input, weights, output));
  QFORGE_RETURN_IF_ERROR(ValidateQuantParam(p.output, "FullyConnected output"));
  QFORGE_ASSIGN_OR_RETURN(
      Requantizer requantizer,
      Requantizer::ForLinear(profile, p.input.scale, p.weights.scales,
                             p.output.scale, p.output.zero_point, p.activation,
                             p.tflite_requant));
  std::vector<int32_t> acc(static_cast<size_t>(p.rows * p.output_depth));
  QFORGE_RETURN_IF_ERROR(
      FullyConnectedAccumulate(p, input, weights, bias, acc.data()));
  for (int64_t m = 0; m < p.rows; ++m) {
    for (int64_t n = 0; n < p.output_depth; ++n) {
      const int64_t i = m * p.output_depth + n;
      output[i] = requantizer.Apply(acc[i], n);
    }
  }
  return absl::OkStatus();
}

}  // namespace qforge::kernels::reference
