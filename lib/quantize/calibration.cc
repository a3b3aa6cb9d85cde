#include "qforge/quantize/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "qforge/core/status.h"
#include "quantize/tensor_check.h"

namespace qforge {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kFloatMax = std::numeric_limits<float>::max();

using Checkpoint = TensorStats::Checkpoint;

// Keeps, of checkpoints sorted by sample, the last one in each window
// ((k - 1) * stride, k * stride]. For checkpoints taken at multiples of
// stride / 2 this keeps the multiples of stride (plus, at most, the newest).
void ThinCheckpoints(Checkpoint* cps, int* n, int64_t stride) {
  int out = 0;
  for (int i = 0; i < *n; ++i) {
    const bool last_in_window =
        i + 1 == *n || (cps[i].sample + stride - 1) / stride !=
                           (cps[i + 1].sample + stride - 1) / stride;
    if (last_in_window) cps[out++] = cps[i];
  }
  *n = out;
}

}  // namespace

absl::Status ObserverOptions::Validate() const {
  QFORGE_RETURN_IF_ERROR(Histogram::ValidateNumBins(num_bins));
  if (!(averaging_constant > 0.0 && averaging_constant <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("moving-average averaging constant must be in (0, 1], "
                     "got ",
                     averaging_constant));
  }
  return absl::OkStatus();
}

TensorStats::TensorStats(std::string name)
    : TensorStats(std::move(name), ObserverOptions{}, Histogram()) {}

TensorStats::TensorStats(std::string name, const ObserverOptions& options,
                         Histogram h)
    : name_(std::move(name)),
      options_(options),
      min_(kInf),
      max_(-kInf),
      histogram_(std::move(h)) {}

absl::StatusOr<TensorStats> TensorStats::Create(
    std::string name, const ObserverOptions& options) {
  QFORGE_RETURN_IF_ERROR(options.Validate());
  QFORGE_ASSIGN_OR_RETURN(Histogram h, Histogram::Create(options.num_bins));
  return TensorStats(std::move(name), options, std::move(h));
}

absl::Status TensorStats::Update(const Tensor& tensor) {
  auto what = [&] {
    return absl::StrCat(internal::Quoted("calibration tensor", name_),
                        " in sample ", num_samples_ + 1);
  };
  if (tensor.dtype() != DataType::kFloat32) {
    return internal::RequireFloat32(tensor, what());
  }
  absl::Status status = Update(tensor.values<float>());
  if (!status.ok()) {
    // Re-scan to report the element with its multi-index and the shape.
    QFORGE_RETURN_IF_ERROR(internal::FindNonFinite(tensor, what()));
  }
  return status;
}

absl::Status TensorStats::Update(absl::Span<const float> values) {
  float lo = kInf;
  float hi = -kInf;
  bool non_finite = false;
  for (float x : values) {
    // NaN fails the comparison; +-Inf exceed the largest float.
    non_finite |= !(std::abs(x) <= kFloatMax);
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  if (non_finite) {
    for (size_t i = 0; i < values.size(); ++i) {
      const float v = values[i];
      if (std::isfinite(v)) continue;
      return absl::InvalidArgumentError(absl::StrCat(
          internal::Quoted("calibration tensor", name_), " in sample ",
          num_samples_ + 1, " has ",
          std::isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"), " at element ", i,
          " of ", values.size(), "; calibration data must be finite"));
    }
  }
  ++num_samples_;
  if (!values.empty()) {
    const double c = options_.averaging_constant;
    if (num_samples_with_data_ == 0) {
      ma_min_ = lo;
      ma_max_ = hi;
    } else {
      ma_min_ += c * (static_cast<double>(lo) - ma_min_);
      ma_max_ += c * (static_cast<double>(hi) - ma_max_);
    }
    ++num_samples_with_data_;
    num_elements_ += static_cast<int64_t>(values.size());
    min_ = std::min(min_, lo);
    max_ = std::max(max_, hi);
    histogram_.AddInRange(values, lo, hi);
  }
  AddCheckpointIfDue();
  return absl::OkStatus();
}

void TensorStats::AddCheckpointIfDue() {
  if (num_samples_ % checkpoint_stride_ != 0) return;
  checkpoints_[num_checkpoints_++] = Checkpoint{num_samples_, min_, max_};
  if (num_checkpoints_ > kMaxCheckpoints) {
    checkpoint_stride_ *= 2;
    Thin();
  }
}

void TensorStats::Thin() {
  ThinCheckpoints(checkpoints_.data(), &num_checkpoints_, checkpoint_stride_);
  while (num_checkpoints_ > kMaxCheckpoints) {
    checkpoint_stride_ *= 2;
    ThinCheckpoints(checkpoints_.data(), &num_checkpoints_, checkpoint_stride_);
  }
}

absl::Status TensorStats::Merge(const TensorStats& other) {
  if (!(options_ == other.options_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot merge statistics of ", internal::Quoted("tensor", other.name_),
        " gathered with ", other.options_.num_bins,
        " histogram bins and averaging constant ",
        other.options_.averaging_constant, " into statistics of ",
        internal::Quoted("tensor", name_), " gathered with ", options_.num_bins,
        " bins and averaging constant ", options_.averaging_constant));
  }
  // Range-growth record: this shard's samples, then the other's.
  std::array<Checkpoint, 2 * (kMaxCheckpoints + 1)> merged;
  int n = 0;
  for (int i = 0; i < num_checkpoints_; ++i) merged[n++] = checkpoints_[i];
  for (const Checkpoint& cp : other.checkpoints()) {
    merged[n++] = Checkpoint{num_samples_ + cp.sample, std::min(min_, cp.min),
                             std::max(max_, cp.max)};
  }

  // Moving averages: weighted by the samples with data.
  const int64_t wa = num_samples_with_data_;
  const int64_t wb = other.num_samples_with_data_;
  if (wb > 0) {
    if (wa == 0) {
      ma_min_ = other.ma_min_;
      ma_max_ = other.ma_max_;
    } else {
      const double total = static_cast<double>(wa + wb);
      ma_min_ = (static_cast<double>(wa) * ma_min_ +
                 static_cast<double>(wb) * other.ma_min_) /
                total;
      ma_max_ = (static_cast<double>(wa) * ma_max_ +
                 static_cast<double>(wb) * other.ma_max_) /
                total;
    }
  }
  // Cannot fail: the bin counts agree.
  QFORGE_RETURN_IF_ERROR(histogram_.Merge(other.histogram_));
  num_samples_ += other.num_samples_;
  num_samples_with_data_ += other.num_samples_with_data_;
  num_elements_ += other.num_elements_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);

  checkpoint_stride_ = std::max(checkpoint_stride_, other.checkpoint_stride_);
  ThinCheckpoints(merged.data(), &n, checkpoint_stride_);
  while (n > kMaxCheckpoints) {
    checkpoint_stride_ *= 2;
    ThinCheckpoints(merged.data(), &n, checkpoint_stride_);
  }
  std::copy(merged.begin(), merged.begin() + n, checkpoints_.begin());
  num_checkpoints_ = n;
  return absl::OkStatus();
}

size_t TensorStats::MemoryBytes() const {
  return sizeof(*this) - sizeof(histogram_) + histogram_.MemoryBytes() +
         name_.capacity();
}

bool TensorStats::operator==(const TensorStats& other) const {
  return name_ == other.name_ && options_ == other.options_ &&
         num_samples_ == other.num_samples_ &&
         num_samples_with_data_ == other.num_samples_with_data_ &&
         num_elements_ == other.num_elements_ && min_ == other.min_ &&
         max_ == other.max_ && ma_min_ == other.ma_min_ &&
         ma_max_ == other.ma_max_ && histogram_ == other.histogram_ &&
         checkpoint_stride_ == other.checkpoint_stride_ &&
         std::equal(checkpoints().begin(), checkpoints().end(),
                    other.checkpoints().begin(), other.checkpoints().end());
}

absl::StatusOr<CalibrationStats> CalibrationStats::Create(
    const ObserverOptions& options) {
  QFORGE_RETURN_IF_ERROR(options.Validate());
  CalibrationStats stats;
  stats.options_ = options;
  return stats;
}

absl::Status CalibrationStats::Update(absl::string_view name,
                                      const Tensor& tensor) {
  auto it = tensors_.find(name);
  if (it != tensors_.end()) return it->second.Update(tensor);
  QFORGE_ASSIGN_OR_RETURN(TensorStats stats,
                          TensorStats::Create(std::string(name), options_));
  QFORGE_RETURN_IF_ERROR(stats.Update(tensor));
  tensors_.emplace(std::string(name), std::move(stats));
  return absl::OkStatus();
}

const TensorStats* CalibrationStats::Find(absl::string_view name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

TensorStats* CalibrationStats::Find(absl::string_view name) {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

absl::Status CalibrationStats::Merge(const CalibrationStats& other) {
  if (!(options_ == other.options_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot merge calibration statistics gathered with ",
        other.options_.num_bins, " histogram bins and averaging constant ",
        other.options_.averaging_constant, " into statistics gathered with ",
        options_.num_bins, " bins and averaging constant ",
        options_.averaging_constant));
  }
  if (&other == this) {
    const CalibrationStats copy = other;
    return Merge(copy);
  }
  for (const auto& [name, stats] : other.tensors_) {
    auto it = tensors_.find(name);
    if (it == tensors_.end()) {
      tensors_.emplace(name, stats);
    } else {
      QFORGE_RETURN_IF_ERROR(it->second.Merge(stats));
    }
  }
  return absl::OkStatus();
}

size_t CalibrationStats::MemoryBytes() const {
  size_t bytes = sizeof(*this);
  for (const auto& [name, stats] : tensors_) {
    // Map node overhead: the key and about four pointers.
    bytes += name.capacity() + 4 * sizeof(void*) + stats.MemoryBytes();
  }
  return bytes;
}

}  // namespace qforge
