// A fixed-size histogram of real values that merges exactly.
//
// Calibration splits its data across processes or machines and merges the
// statistics; the merged histogram must equal, bit for bit, the histogram of
// one pass over all the data, for any split and any order. This histogram
// guarantees it by construction:
//
//  * It has `num_bins` (a power of two, default 4096) equal bins covering the
//    symmetric interval [-R, R), where R = 2^e is a power of two. Bin i covers
//    [(i - num_bins/2) * w, (i - num_bins/2 + 1) * w) with w = 2R / num_bins:
//    every edge is an integer multiple of a power of two.
//  * R is always the smallest power of two >= 2^kMinExponent such that every
//    value x seen satisfies -R <= x < R. It depends only on the set of
//    values, not on their order or on how they were split.
//  * When a value needs a larger R, R doubles (as many times as needed) and
//    each pair of adjacent bins folds into one. Because edges at R are
//    multiples of the edges at 2R, the bin of x at 2R is exactly the folded
//    bin of x at R: folding commutes with adding values.
//  * The bin of x is floor(x / w), computed as x * 2^-log2(w) in double,
//    which is exact (a power-of-two scaling of a float within double range),
//    so no rounding can put a value in different bins in different runs.
//  * Merge brings both histograms to the larger R by folding and adds the
//    (integer) counts.
//
// Hence for any split of the data into shards, folding and adding shard
// histograms gives the same R and the same counts as one pass. Every
// quantity derived from the counts (percentile, entropy and MSE ranges) is a
// deterministic function of them, so shard-and-merge selects exactly the
// range a single pass would.
//
// Resolution: the data's largest magnitude M lies in [R/2, R), so it spans
// between num_bins/4 and num_bins/2 bins on its side of zero (1024 to 2048
// with the default, as TensorRT's 2048-bin calibration histograms). Memory
// is num_bins * 8 bytes (32 KiB by default), fixed at construction.
#ifndef QFORGE_QUANTIZE_HISTOGRAM_H_
#define QFORGE_QUANTIZE_HISTOGRAM_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "qforge/core/export.h"

namespace qforge {

class TensorStats;

class QFORGE_EXPORT Histogram {
 public:
  static constexpr int kDefaultNumBins = 4096;
  static constexpr int kMinNumBins = 16;
  static constexpr int kMaxNumBins = 1 << 20;
  // R never goes below 2^kMinExponent (the smallest normal float), and never
  // needs to exceed 2^kMaxExponent (every finite float is < 2^128).
  static constexpr int kMinExponent = -126;
  static constexpr int kMaxExponent = 128;

  // An empty histogram with kDefaultNumBins bins.
  Histogram();
  // InvalidArgument unless num_bins is a power of two in
  // [kMinNumBins, kMaxNumBins].
  static absl::StatusOr<Histogram> Create(int num_bins);
  static absl::Status ValidateNumBins(int num_bins);
  // Rebuilds a histogram from its parts (deserialization); checks them.
  static absl::StatusOr<Histogram> FromParts(int num_bins, int exponent,
                                             std::vector<uint64_t> counts);

  int num_bins() const { return static_cast<int>(counts_.size()); }
  // R = 2^exponent().
  int exponent() const { return exponent_; }
  double range() const;
  double bin_width() const;
  // Lower edge of bin i (0 <= i <= num_bins: bin_lower_edge(num_bins) == R).
  double bin_lower_edge(int i) const;
  // The bin holding a finite value within [-R, R).
  int BinOf(float value) const;

  absl::Span<const uint64_t> counts() const { return counts_; }
  uint64_t total() const { return total_; }
  bool empty() const { return total_ == 0; }

  // Adds finite values; non-finite values are skipped (callers that must
  // reject them, like TensorStats, check first).
  void Add(absl::Span<const float> values);

  // Grows R to 2^exponent (no-op when already at least that large), folding
  // bins. exponent is clamped to [kMinExponent, kMaxExponent].
  void GrowTo(int exponent);

  // Adds `other` into this histogram. InvalidArgument when the bin counts
  // differ (no change is made then).
  absl::Status Merge(const Histogram& other);

  size_t MemoryBytes() const;

  bool operator==(const Histogram& other) const = default;

 private:
  friend class TensorStats;
  explicit Histogram(int num_bins);
  // Adds values already known to be finite and within [lo, hi].
  void AddInRange(absl::Span<const float> values, float lo, float hi);
  // Smallest exponent >= exponent_ whose range holds [lo, hi].
  int ExponentFor(float lo, float hi) const;

  int log2_half_bins_;  // log2(num_bins / 2).
  int exponent_ = kMinExponent;
  uint64_t total_ = 0;
  std::vector<uint64_t> counts_;
};

}  // namespace qforge

#endif  // QFORGE_QUANTIZE_HISTOGRAM_H_
