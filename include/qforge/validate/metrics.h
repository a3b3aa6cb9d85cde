// Error metrics between a reference tensor and an approximation of it.
//
// Used by layer-wise validation to say how far a quantized tensor is from
// its float counterpart. Both tensors are read as float64 (any numeric dtype;
// quantized tensors should be dequantized first). Definitions:
//   SQNR (dB)   = 10 log10( sum(ref^2) / sum((ref - approx)^2) );
//                 +inf when the two are identical, and -inf for an all-zero
//                 reference with a nonzero error.
//   cosine      = <ref, approx> / (|ref| |approx|); 1 when both are zero,
//                 0 when exactly one is.
//   max_abs     = max |ref - approx|,  mean_abs = mean |ref - approx|.
// NaN in either tensor propagates to every metric.
#ifndef QFORGE_VALIDATE_METRICS_H_
#define QFORGE_VALIDATE_METRICS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "qforge/core/export.h"
#include "qforge/core/tensor.h"

namespace qforge {

struct ErrorMetrics {
  double sqnr_db = 0.0;
  double cosine = 0.0;
  double max_abs = 0.0;
  double mean_abs = 0.0;
  int64_t num_elements = 0;

  // "SQNR 41.2 dB, cosine 0.99991, max |err| 0.031, mean |err| 0.0042".
  std::string ToString() const;
};

// Streams metrics over several tensor pairs (e.g. one per sample): the
// result equals Compute over the concatenation of all pairs.
class QFORGE_EXPORT ErrorAccumulator {
 public:
  // InvalidArgument when the element counts differ.
  absl::Status Add(const Tensor& reference, const Tensor& approx);
  ErrorMetrics Result() const;

 private:
  double signal_ = 0.0;   // sum ref^2
  double noise_ = 0.0;    // sum (ref - approx)^2
  double dot_ = 0.0;      // sum ref * approx
  double approx_sq_ = 0.0;
  double abs_sum_ = 0.0;
  double max_abs_ = 0.0;
  int64_t count_ = 0;
};

QFORGE_EXPORT absl::StatusOr<ErrorMetrics> CompareTensors(const Tensor& reference,
                                                          const Tensor& approx);

}  // namespace qforge

#endif  // QFORGE_VALIDATE_METRICS_H_
