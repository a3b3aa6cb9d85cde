// Warnings about calibration statistics that are likely to give poor ranges.
//
// Two problems are common and cheap to detect from TensorStats:
//  * too few samples: "calibrated on 12 samples; at least 100 are
//    recommended";
//  * ranges still moving at the end: the range after the last samples is
//    compared with the range recorded (TensorStats::checkpoints, fixed
//    memory) before them: "range of 'conv3_out' grew by 14% in the last 11%
//    of samples (...)". The comparison uses the ranges with 0 included, as
//    quantization does. Checkpoints are spaced at most num_samples / 32
//    apart, so "the last 10%" is in fact the last 10% to ~13%; the message
//    states the window actually used.
// Warnings are advice: quantization may proceed.
#ifndef QFORGE_QUANTIZE_CALIBRATION_DIAGNOSTICS_H_
#define QFORGE_QUANTIZE_CALIBRATION_DIAGNOSTICS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "qforge/core/export.h"
#include "qforge/quantize/calibration.h"

namespace qforge {

struct QFORGE_EXPORT CalibrationWarning {
  enum class Kind {
    kTooFewSamples,     // Fewer samples than recommended.
    kNoData,            // Observed without elements, or no tensors at all.
    kRangeStillMoving,  // The range grew in the last samples.
  };
  Kind kind;
  std::string tensor;  // Empty for warnings about the whole calibration.
  std::string message;
};

struct QFORGE_EXPORT CalibrationDiagnosticsOptions {
  int64_t min_samples = 100;
  // The trailing fraction of the samples examined for range growth.
  double recent_fraction = 0.1;
  // Warn when the range width grew by more than this fraction in them.
  double growth_threshold = 0.05;
  // Growth is not judged on fewer samples than this.
  int64_t min_samples_for_growth = 10;
};

class QFORGE_EXPORT CalibrationDiagnostics {
 public:
  explicit CalibrationDiagnostics(CalibrationDiagnosticsOptions options = {})
      : options_(options) {}

  // Every warning for `stats`: the sample count once for the whole
  // calibration (per tensor when tensors saw different numbers of samples),
  // then per tensor in name order.
  std::vector<CalibrationWarning> Check(const CalibrationStats& stats) const;
  // Warnings about one tensor (its sample count included).
  std::vector<CalibrationWarning> Check(const TensorStats& stats) const;

  // One warning per line.
  static std::string Format(const std::vector<CalibrationWarning>& warnings);

 private:
  void CheckGrowth(const TensorStats& stats,
                   std::vector<CalibrationWarning>* out) const;
  CalibrationDiagnosticsOptions options_;
};

}  // namespace qforge

#endif  // QFORGE_QUANTIZE_CALIBRATION_DIAGNOSTICS_H_
