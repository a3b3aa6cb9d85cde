// CalibrationData: where calibration samples come from.
//
// A source of representative inputs, one sample at a time, with random
// access (so that calibration can be sharded: samples [begin, end) in each
// process). Each sample maps graph input names to tensors with a leading
// batch dimension of 1.
//
// OpenCalibrationData reads, by the form of its argument:
//   "calib.npz"                   keys = input names, leading axis = samples;
//   "dir/"                        every .npz (as above) and .npy (one input
//                                 named after the file stem) in the folder,
//                                 sorted by name, samples concatenated;
//   "image=a.npy,mask=b.npy"      one .npy per input, leading axis = samples.
// All inputs must have the same number of samples. float64 data is cast to
// float32 and the cast is listed in warnings(), naming the input. NaN and
// Inf are errors naming the input and the sample index, raised when that
// sample is read.
#ifndef QFORGE_QUANTIZE_CALIBRATION_DATA_H_
#define QFORGE_QUANTIZE_CALIBRATION_DATA_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "qforge/core/export.h"
#include "qforge/runtime/executor.h"

namespace qforge {

class QFORGE_EXPORT CalibrationData {
 public:
  virtual ~CalibrationData() = default;
  virtual int64_t num_samples() const = 0;
  // Sample i's inputs, each with a leading dimension of 1.
  virtual absl::StatusOr<TensorMap> Sample(int64_t i) const = 0;
  // Notes about the data (e.g. casts), for the report.
  virtual std::vector<std::string> warnings() const { return {}; }
};

// In-memory samples: each tensor's leading axis enumerates the samples.
class QFORGE_EXPORT TensorCalibrationData final : public CalibrationData {
 public:
  // InvalidArgument when the inputs disagree on the number of samples or a
  // tensor is a scalar. float64 tensors are cast to float32, with a warning.
  static absl::StatusOr<std::unique_ptr<TensorCalibrationData>> Create(TensorMap inputs);

  int64_t num_samples() const override { return num_samples_; }
  absl::StatusOr<TensorMap> Sample(int64_t i) const override;
  std::vector<std::string> warnings() const override { return warnings_; }

 private:
  TensorMap inputs_;
  int64_t num_samples_ = 0;
  std::vector<std::string> warnings_;
};

QFORGE_EXPORT absl::StatusOr<std::unique_ptr<CalibrationData>> OpenCalibrationData(
    absl::string_view spec);

}  // namespace qforge

#endif  // QFORGE_QUANTIZE_CALIBRATION_DATA_H_
