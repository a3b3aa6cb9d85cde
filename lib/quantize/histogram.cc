#include "qforge/quantize/histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace qforge {
namespace {

int Log2(int power_of_two) {
  int l = 0;
  while ((1 << l) < power_of_two) ++l;
  return l;
}

}  // namespace

Histogram::Histogram() : Histogram(kDefaultNumBins) {}

Histogram::Histogram(int num_bins)
    : log2_half_bins_(Log2(num_bins) - 1), counts_(num_bins, 0) {}

absl::Status Histogram::ValidateNumBins(int num_bins) {
  if (num_bins < kMinNumBins || num_bins > kMaxNumBins ||
      (num_bins & (num_bins - 1)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("histogram bin count must be a power of two in [",
                     kMinNumBins, ", ", kMaxNumBins, "], got ", num_bins));
  }
  return absl::OkStatus();
}

absl::StatusOr<Histogram> Histogram::Create(int num_bins) {
  absl::Status status = ValidateNumBins(num_bins);
  if (!status.ok()) return status;
  return Histogram(num_bins);
}

absl::StatusOr<Histogram> Histogram::FromParts(int num_bins, int exponent,
                                               std::vector<uint64_t> counts) {
  absl::Status status = ValidateNumBins(num_bins);
  if (!status.ok()) return status;
  if (exponent < kMinExponent || exponent > kMaxExponent) {
    return absl::InvalidArgumentError(
        absl::StrCat("histogram range exponent ", exponent, " is outside [",
                     kMinExponent, ", ", kMaxExponent, "]"));
  }
  if (counts.size() != static_cast<size_t>(num_bins)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "histogram has ", counts.size(), " counts for ", num_bins, " bins"));
  }
  Histogram h(num_bins);
  h.exponent_ = exponent;
  uint64_t total = 0;
  for (uint64_t c : counts) {
    if (c > std::numeric_limits<uint64_t>::max() - total) {
      return absl::InvalidArgumentError("histogram counts overflow");
    }
    total += c;
  }
  h.counts_ = std::move(counts);
  h.total_ = total;
  return h;
}

double Histogram::range() const { return std::ldexp(1.0, exponent_); }

double Histogram::bin_width() const {
  return std::ldexp(1.0, exponent_ - log2_half_bins_);
}

double Histogram::bin_lower_edge(int i) const {
  const int half = num_bins() / 2;
  return std::ldexp(static_cast<double>(i - half), exponent_ - log2_half_bins_);
}

int Histogram::BinOf(float value) const {
  // value * 2^(log2_half_bins - exponent) is exact in double: a float scaled
  // by a power of two between 2^-148 and 2^147 stays a normal double.
  const double v =
      std::ldexp(static_cast<double>(value), log2_half_bins_ - exponent_);
  int64_t k = static_cast<int64_t>(v);  // Truncates toward zero...
  if (static_cast<double>(k) > v) --k;  // ...so step down to the floor.
  const int64_t i = k + num_bins() / 2;
  return static_cast<int>(std::clamp<int64_t>(i, 0, num_bins() - 1));
}

int Histogram::ExponentFor(float lo, float hi) const {
  int e = exponent_;
  while (e < kMaxExponent && (static_cast<double>(hi) >= std::ldexp(1.0, e) ||
                              static_cast<double>(lo) < -std::ldexp(1.0, e))) {
    ++e;
  }
  return e;
}

void Histogram::GrowTo(int exponent) {
  exponent = std::clamp(exponent, kMinExponent, kMaxExponent);
  if (exponent <= exponent_) return;
  // Folding by 2^shift maps signed bin k = i - half to floor(k / 2^shift).
  // Shifts beyond log2(half) + 1 all give -1 / 0, so cap the shift to keep it
  // well defined.
  const int shift = std::min(exponent - exponent_, log2_half_bins_ + 2);
  const int64_t half = num_bins() / 2;
  // Positive side ascending and negative side descending: each target bin
  // lies between the side's origin and its source, so targets were already
  // emptied of their own original counts when they receive new ones.
  for (int64_t i = half; i < num_bins(); ++i) {
    const int64_t j = ((i - half) >> shift) + half;
    if (j == i) continue;
    counts_[j] += counts_[i];
    counts_[i] = 0;
  }
  for (int64_t i = half - 1; i >= 0; --i) {
    const int64_t j = ((i - half) >> shift) + half;
    if (j == i) continue;
    counts_[j] += counts_[i];
    counts_[i] = 0;
  }
  exponent_ = exponent;
}

void Histogram::AddInRange(absl::Span<const float> values, float lo, float hi) {
  if (values.empty()) return;
  GrowTo(ExponentFor(lo, hi));
  const double scale = std::ldexp(1.0, log2_half_bins_ - exponent_);
  const int64_t half = num_bins() / 2;
  uint64_t* counts = counts_.data();
  for (float x : values) {
    const double v = static_cast<double>(x) * scale;
    int64_t k = static_cast<int64_t>(v);
    if (static_cast<double>(k) > v) --k;
    counts[k + half] += 1;
  }
  total_ += values.size();
}

void Histogram::Add(absl::Span<const float> values) {
  constexpr float kInf = std::numeric_limits<float>::infinity();
  float lo = kInf;
  float hi = -kInf;
  size_t finite = 0;
  for (float x : values) {
    if (!std::isfinite(x)) continue;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    ++finite;
  }
  if (finite == values.size()) {
    AddInRange(values, lo, hi);
    return;
  }
  if (finite == 0) return;
  GrowTo(ExponentFor(lo, hi));
  for (float x : values) {
    if (!std::isfinite(x)) continue;
    counts_[BinOf(x)] += 1;
    ++total_;
  }
}

absl::Status Histogram::Merge(const Histogram& other) {
  if (other.num_bins() != num_bins()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot merge a histogram of ", other.num_bins(),
                     " bins into one of ", num_bins(), " bins"));
  }
  GrowTo(other.exponent_);
  const int shift = std::min(exponent_ - other.exponent_, log2_half_bins_ + 2);
  const int64_t half = num_bins() / 2;
  for (int64_t i = 0; i < num_bins(); ++i) {
    const uint64_t c = other.counts_[i];
    if (c == 0) continue;
    counts_[((i - half) >> shift) + half] += c;
  }
  total_ += other.total_;
  return absl::OkStatus();
}

size_t Histogram::MemoryBytes() const {
  return sizeof(*this) + counts_.capacity() * sizeof(uint64_t);
}

}  // namespace qforge
