#include "qforge/validate/metrics.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace qforge {

std::string ErrorMetrics::ToString() const {
  return absl::StrFormat("SQNR %.1f dB, cosine %.5f, max |err| %.4g, mean |err| %.4g",
                         sqnr_db, cosine, max_abs, mean_abs);
}

absl::Status ErrorAccumulator::Add(const Tensor& reference, const Tensor& approx) {
  if (reference.num_elements() != approx.num_elements()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot compare ", reference.DebugString(), " with ",
        approx.DebugString(), ": element counts differ"));
  }
  for (int64_t i = 0; i < reference.num_elements(); ++i) {
    const double r = reference.GetAsDouble(i);
    const double a = approx.GetAsDouble(i);
    const double e = r - a;
    signal_ += r * r;
    noise_ += e * e;
    dot_ += r * a;
    approx_sq_ += a * a;
    abs_sum_ += std::fabs(e);
    // std::fmax would drop a NaN; keep it.
    if (!(std::fabs(e) <= max_abs_)) max_abs_ = std::fabs(e);
  }
  count_ += reference.num_elements();
  return absl::OkStatus();
}

ErrorMetrics ErrorAccumulator::Result() const {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  ErrorMetrics m;
  m.num_elements = count_;
  m.max_abs = max_abs_;
  m.mean_abs = count_ > 0 ? abs_sum_ / count_ : 0.0;
  if (std::isnan(noise_) || std::isnan(signal_)) {
    m.sqnr_db = m.cosine = std::numeric_limits<double>::quiet_NaN();
    return m;
  }
  if (noise_ == 0.0) {
    m.sqnr_db = kInf;
  } else if (signal_ == 0.0) {
    m.sqnr_db = -kInf;
  } else {
    m.sqnr_db = 10.0 * std::log10(signal_ / noise_);
  }
  if (signal_ == 0.0 && approx_sq_ == 0.0) {
    m.cosine = 1.0;
  } else if (signal_ == 0.0 || approx_sq_ == 0.0) {
    m.cosine = 0.0;
  } else {
    m.cosine = dot_ / (std::sqrt(signal_) * std::sqrt(approx_sq_));
  }
  return m;
}

absl::StatusOr<ErrorMetrics> CompareTensors(const Tensor& reference,
                                            const Tensor& approx) {
  ErrorAccumulator acc;
  absl::Status status = acc.Add(reference, approx);
  if (!status.ok()) return status;
  return acc.Result();
}

}  // namespace qforge
