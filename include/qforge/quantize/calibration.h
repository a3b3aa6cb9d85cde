// Streaming calibration statistics and range selection.
//
// Calibration runs the float model over representative inputs and records,
// for every tensor to be quantized, what values it took. `TensorStats`
// observes one tensor; `CalibrationStats` holds one per tensor name. Both
// update in place with fixed-size state (memory does not grow with the
// number of samples), merge (so that calibration can be split across threads,
// processes or machines), and serialize to a file.
//
//   CalibrationStats stats;
//   for (const TensorMap& outputs : runs)
//     for (const auto& [name, tensor] : outputs)
//       QFORGE_RETURN_IF_ERROR(stats.Update(name, tensor));
//   QFORGE_RETURN_IF_ERROR(SaveStats(stats, "shard0.qfcalib"));
//   ...
//   QFORGE_ASSIGN_OR_RETURN(FloatRange r,
//       ChooseRange(*stats.Find("conv1_out"), CalibrationMethod::kEntropy));
//   QFORGE_ASSIGN_OR_RETURN(QuantParams p,
//       QuantParamsForRange(r, QuantTarget::Int8Activation()));
//
// What merges exactly: sample and element counts, min/max and the histogram
// (see histogram.h), hence every histogram-based range (percentile, entropy,
// MSE): shard-and-merge selects bit for bit the range of one pass, whatever
// the split and the merge order. What does not: the moving-average min/max
// depends on the order of the samples by definition; merging two of them
// gives their average weighted by the number of samples with data, which
// does not depend on which shard is merged into which (up to float rounding)
// but is not what one pass over the concatenated data would give. The
// range-growth record used by diagnostics treats a merge as "this shard's
// samples, then the other's".
//
// One call to Update is one sample (one run of the model, whatever its batch
// size). Calibration data must be finite: NaN or Inf is an InvalidArgument
// error naming the tensor and the element, and leaves the stats unchanged.
// TensorStats and CalibrationStats are not thread-safe: give each thread its
// own and merge them.
#ifndef QFORGE_QUANTIZE_CALIBRATION_H_
#define QFORGE_QUANTIZE_CALIBRATION_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "qforge/core/export.h"
#include "qforge/core/tensor.h"
#include "qforge/quantize/histogram.h"
#include "qforge/quantize/quant_math.h"

namespace qforge {

enum class CalibrationMethod {
  kMinMax,               // Observed [min, max].
  kMovingAverageMinMax,  // Moving averages of per-sample min and max.
  kPercentile,           // Clips each tail to RangeOptions::percentile.
  kEntropy,              // Minimizes KL divergence (TensorRT's method).
  kMse,                  // Minimizes expected squared quantization error.
};

QFORGE_EXPORT absl::string_view CalibrationMethodName(CalibrationMethod method);
// Inverse of CalibrationMethodName ("minmax", "moving_average_minmax",
// "percentile", "entropy", "mse").
QFORGE_EXPORT absl::StatusOr<CalibrationMethod> ParseCalibrationMethod(
    absl::string_view name);

// How statistics are gathered. Stats gathered with different options cannot
// be merged.
struct QFORGE_EXPORT ObserverOptions {
  // Histogram bins over [-R, R): a power of two in [16, 2^20]. Memory per
  // tensor is about 8 bytes per bin.
  int num_bins = Histogram::kDefaultNumBins;
  // Moving average: avg += c * (sample_min - avg), the first sample
  // initializing it (the "averaging constant" of ONNX Runtime's and
  // PyTorch's moving-average observers). In (0, 1].
  double averaging_constant = 0.01;

  absl::Status Validate() const;
  bool operator==(const ObserverOptions& other) const = default;
};

// How a range is chosen from the statistics (see ChooseRange).
struct QFORGE_EXPORT RangeOptions {
  // kPercentile: keep this percentage of the values on each side, in
  // (50, 100]: 99.99 clips the lowest and the highest 0.01%.
  double percentile = 99.99;
  // kEntropy: number of quantization levels on the |x| histogram (TensorRT
  // uses 128 for int8: the levels on one side of zero). In [2, 65536].
  int num_quantized_bins = 128;
  // kMse: the integer grid being simulated, `mse_num_levels` levels over the
  // range (256 for 8 bits), symmetric ([-T, T], with mse_num_levels / 2 - 1
  // steps per side) or asymmetric ([lo, hi]). In [2, 2^24].
  int mse_num_levels = 256;
  bool mse_symmetric = false;

  absl::Status Validate() const;
  bool operator==(const RangeOptions& other) const = default;
};

// Streaming statistics of one tensor. Fixed-size state: a Histogram, a few
// scalars, and a record of the range after at most kMaxCheckpoints samples
// (evenly spread over all samples seen, for diagnostics).
class QFORGE_EXPORT TensorStats {
 public:
  static constexpr int kMaxCheckpoints = 64;

  // The range after sample `sample` (1-based count of samples seen).
  // min > max when no data had been seen yet.
  struct Checkpoint {
    int64_t sample = 0;
    float min = 0.0f;
    float max = 0.0f;
    bool operator==(const Checkpoint& other) const = default;
  };

  // Default options; `name` is used in messages.
  explicit TensorStats(std::string name = "");
  static absl::StatusOr<TensorStats> Create(std::string name,
                                            const ObserverOptions& options);

  // Observes one sample. InvalidArgument (stats unchanged) for a tensor that
  // is not float32 or has a NaN/Inf element; the message names the tensor,
  // the element and its index.
  absl::Status Update(const Tensor& tensor);
  // Observes one sample given as raw values (same rules as Update).
  absl::Status Update(absl::Span<const float> values);

  // Adds `other` as if its samples came after this one's (see the header
  // comment for what is exact). InvalidArgument, with no change, when the
  // options differ.
  absl::Status Merge(const TensorStats& other);

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  const ObserverOptions& options() const { return options_; }
  int64_t num_samples() const { return num_samples_; }
  // Samples that had at least one element.
  int64_t num_samples_with_data() const { return num_samples_with_data_; }
  int64_t num_elements() const { return num_elements_; }
  bool has_data() const { return num_elements_ > 0; }
  // Observed extremes; only meaningful when has_data().
  float min() const { return min_; }
  float max() const { return max_; }
  FloatRange range() const { return {min_, max_}; }
  // Moving averages of the per-sample min and max. Order-dependent: the same
  // samples in another order give other values.
  double moving_average_min() const { return ma_min_; }
  double moving_average_max() const { return ma_max_; }
  const Histogram& histogram() const { return histogram_; }
  // Oldest first; at most kMaxCheckpoints.
  absl::Span<const Checkpoint> checkpoints() const {
    return absl::MakeConstSpan(checkpoints_.data(), num_checkpoints_);
  }
  int64_t checkpoint_stride() const { return checkpoint_stride_; }

  // Bytes used by this object; does not depend on the number of samples.
  size_t MemoryBytes() const;

  bool operator==(const TensorStats& other) const;

 private:
  friend class CalibrationStatsCodec;
  TensorStats(std::string name, const ObserverOptions& options, Histogram h);
  void AddCheckpointIfDue();
  // Keeps, for each window ((k-1) * stride, k * stride], the last checkpoint.
  void Thin();

  std::string name_;
  ObserverOptions options_;
  int64_t num_samples_ = 0;
  int64_t num_samples_with_data_ = 0;
  int64_t num_elements_ = 0;
  float min_;
  float max_;
  double ma_min_ = 0.0;
  double ma_max_ = 0.0;
  Histogram histogram_;
  int64_t checkpoint_stride_ = 1;
  int num_checkpoints_ = 0;
  // One spare slot: a new checkpoint is added before thinning.
  std::array<Checkpoint, kMaxCheckpoints + 1> checkpoints_{};
};

// Statistics of every observed tensor, by name (iteration in name order).
class QFORGE_EXPORT CalibrationStats {
 public:
  using Map = std::map<std::string, TensorStats, std::less<>>;

  CalibrationStats() = default;
  static absl::StatusOr<CalibrationStats> Create(
      const ObserverOptions& options);

  const ObserverOptions& options() const { return options_; }

  // Observes one sample of tensor `name`, creating its stats on first use.
  absl::Status Update(absl::string_view name, const Tensor& tensor);

  // nullptr when the tensor was never observed.
  const TensorStats* Find(absl::string_view name) const;
  TensorStats* Find(absl::string_view name);
  const Map& tensors() const { return tensors_; }
  size_t size() const { return tensors_.size(); }
  bool empty() const { return tensors_.empty(); }

  // Merges `other` tensor by tensor (tensors only in `other` are copied).
  // InvalidArgument, with no change, when the observer options differ.
  absl::Status Merge(const CalibrationStats& other);

  // Serialized form (see docs/calibration.md): a magic string, a CRC-32 of
  // the payload, and a protobuf payload. Parse reports corrupt or truncated
  // data as DataLoss naming `source` (e.g. a file path).
  absl::StatusOr<std::string> Serialize() const;
  static absl::StatusOr<CalibrationStats> Parse(
      absl::string_view bytes, absl::string_view source = "<memory>");

  size_t MemoryBytes() const;

  bool operator==(const CalibrationStats& other) const = default;

 private:
  friend class CalibrationStatsCodec;
  ObserverOptions options_;
  Map tensors_;
};

// Writes the stats atomically (a temporary file in the same directory, then
// rename): a failure never leaves a partial file at `path`.
QFORGE_EXPORT absl::Status SaveStats(const CalibrationStats& stats,
                                     absl::string_view path);
// NotFound when `path` does not exist; DataLoss naming `path` when it is
// corrupt.
QFORGE_EXPORT absl::StatusOr<CalibrationStats> LoadStats(
    absl::string_view path);

// The range `method` selects from `stats`. Deterministic: equal stats (e.g.
// merged shards vs one pass) give equal ranges. The result lies within the
// observed [min, max] (except kMovingAverageMinMax, which is the averages)
// and need not contain 0 (QuantParamsForRange adds it). All values equal:
// [v, v]. FailedPrecondition when the tensor has no data; InvalidArgument
// for invalid options.
//
//  * kPercentile: the (100 - p)-th and p-th percentiles of the values,
//    interpolated linearly within the histogram bin that holds them.
//  * kEntropy: TensorRT's KL-divergence calibration on the histogram of |x|:
//    for each threshold T (a bin edge, from num_quantized_bins bins up to the
//    largest |x|), the distribution P of |x| clipped to T (clipped mass in
//    the last bin) is compared with the unclipped bins quantized to
//    num_quantized_bins levels (Q, smoothed where empty); the smallest T
//    minimizing KL(P || Q) gives [max(min, -T), min(max, T)]. T cannot be
//    below num_quantized_bins bins: the histogram's resolution bounds it.
//  * kMse: the histogram is taken as piecewise-uniform density; for each
//    candidate range (bin edges; [-T, T] when mse_symmetric, else [lo, hi]
//    around 0) the expected squared error is step^2 / 12 for values inside
//    plus the squared clipping distance for values outside; the minimum
//    wins (ties: the widest range).
QFORGE_EXPORT absl::StatusOr<FloatRange> ChooseRange(
    const TensorStats& stats, CalibrationMethod method,
    const RangeOptions& options = {});

}  // namespace qforge

#endif  // QFORGE_QUANTIZE_CALIBRATION_H_
