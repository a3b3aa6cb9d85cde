// Serialization of CalibrationStats: protobuf payload behind a magic string
// and a CRC-32, written atomically.

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "qforge/core/status.h"
#include "qforge/quantize/calibration.h"
#include "core/crc32.h"
#include "quantize/proto/calibration_stats.pb.h"

namespace qforge {
namespace {

constexpr char kMagic[] = "QFCALIB1";
constexpr size_t kMagicSize = 8;
constexpr size_t kHeaderSize = kMagicSize + 4;
constexpr uint32_t kFormatVersion = 1;

std::string ErrnoMessage(int err) { return std::strerror(err); }

}  // namespace

// Friend of TensorStats and CalibrationStats: moves their private state to
// and from the protobuf messages, and checks everything it reads.
class CalibrationStatsCodec {
 public:
  static void ToProto(const CalibrationStats& stats,
                      internal::proto::CalibrationStatsFile* file) {
    file->set_format_version(kFormatVersion);
    file->mutable_options()->set_num_bins(stats.options_.num_bins);
    file->mutable_options()->set_averaging_constant(
        stats.options_.averaging_constant);
    for (const auto& [name, t] : stats.tensors_) {
      internal::proto::TensorStatsProto* p = file->add_tensors();
      p->set_name(name);
      p->set_num_samples(t.num_samples_);
      p->set_num_samples_with_data(t.num_samples_with_data_);
      p->set_num_elements(t.num_elements_);
      p->set_min(t.min_);
      p->set_max(t.max_);
      p->set_moving_average_min(t.ma_min_);
      p->set_moving_average_max(t.ma_max_);
      internal::proto::HistogramProto* h = p->mutable_histogram();
      const Histogram& hist = t.histogram_;
      h->set_num_bins(hist.num_bins());
      h->set_exponent(hist.exponent());
      auto counts = hist.counts();
      int first = 0;
      int last = hist.num_bins();
      while (first < last && counts[first] == 0) ++first;
      while (last > first && counts[last - 1] == 0) --last;
      h->set_first_bin(first == last ? 0 : first);
      for (int i = first; i < last; ++i) h->add_counts(counts[i]);
      p->set_checkpoint_stride(t.checkpoint_stride_);
      for (const TensorStats::Checkpoint& cp : t.checkpoints()) {
        internal::proto::CheckpointProto* c = p->add_checkpoints();
        c->set_sample(cp.sample);
        c->set_min(cp.min);
        c->set_max(cp.max);
      }
    }
  }

  static absl::StatusOr<CalibrationStats> FromProto(
      const internal::proto::CalibrationStatsFile& file,
      absl::string_view source) {
    auto loss = [&](absl::string_view what) {
      return absl::DataLossError(
          absl::StrCat("calibration stats ", source, " are corrupt: ", what));
    };
    if (file.format_version() != kFormatVersion) {
      return loss(absl::StrCat("unsupported format version ",
                               file.format_version(), " (this qforge reads ",
                               kFormatVersion, ")"));
    }
    ObserverOptions options;
    options.num_bins = file.options().num_bins();
    options.averaging_constant = file.options().averaging_constant();
    if (absl::Status s = options.Validate(); !s.ok()) {
      return loss(s.message());
    }
    CalibrationStats stats;
    stats.options_ = options;
    for (const internal::proto::TensorStatsProto& p : file.tensors()) {
      auto tensor_loss = [&](absl::string_view what) {
        return loss(absl::StrCat("tensor '", p.name(), "': ", what));
      };
      if (stats.tensors_.contains(p.name())) {
        return tensor_loss("appears twice");
      }
      absl::StatusOr<TensorStats> t = FromProto(p, options);
      if (!t.ok()) return tensor_loss(t.status().message());
      stats.tensors_.emplace(p.name(), *std::move(t));
    }
    return stats;
  }

 private:
  // InvalidArgument describing the first inconsistency found.
  static absl::StatusOr<TensorStats> FromProto(
      const internal::proto::TensorStatsProto& p,
      const ObserverOptions& options) {
    const internal::proto::HistogramProto& hp = p.histogram();
    if (hp.num_bins() != options.num_bins) {
      return absl::InvalidArgumentError(absl::StrCat("histogram has ",
                                                     hp.num_bins(),
                                                     " bins, the file's "
                                                     "options say ",
                                                     options.num_bins));
    }
    if (hp.first_bin() < 0 || hp.first_bin() > hp.num_bins() ||
        hp.counts_size() > hp.num_bins() - hp.first_bin()) {
      return absl::InvalidArgumentError(
          absl::StrCat("histogram counts [", hp.first_bin(), ", ",
                       static_cast<int64_t>(hp.first_bin()) + hp.counts_size(),
                       ") exceed its ", hp.num_bins(), " bins"));
    }
    std::vector<uint64_t> counts(hp.num_bins(), 0);
    for (int i = 0; i < hp.counts_size(); ++i) {
      counts[hp.first_bin() + i] = hp.counts(i);
    }
    QFORGE_ASSIGN_OR_RETURN(
        Histogram hist,
        Histogram::FromParts(hp.num_bins(), hp.exponent(), std::move(counts)));

    if (p.num_samples() < 0 || p.num_samples_with_data() < 0 ||
        p.num_samples_with_data() > p.num_samples() || p.num_elements() < 0 ||
        (p.num_elements() == 0) != (p.num_samples_with_data() == 0) ||
        p.num_elements() < p.num_samples_with_data()) {
      return absl::InvalidArgumentError(
          absl::StrCat("inconsistent counts: ", p.num_samples(), " samples, ",
                       p.num_samples_with_data(), " with data, ",
                       p.num_elements(), " elements"));
    }
    if (hist.total() != static_cast<uint64_t>(p.num_elements())) {
      return absl::InvalidArgumentError(
          absl::StrCat("histogram holds ", hist.total(), " values for ",
                       p.num_elements(), " elements"));
    }
    const bool has_data = p.num_elements() > 0;
    if (has_data) {
      if (!std::isfinite(p.min()) || !std::isfinite(p.max()) ||
          p.min() > p.max() || !std::isfinite(p.moving_average_min()) ||
          !std::isfinite(p.moving_average_max())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "invalid range [", p.min(), ", ", p.max(), "] or moving averages [",
            p.moving_average_min(), ", ", p.moving_average_max(), "]"));
      }
      // The histogram range must be exactly the one the data implies.
      const double r = hist.range();
      const bool covers = -r <= p.min() && p.max() < r;
      const bool minimal = hist.exponent() == Histogram::kMinExponent ||
                           p.min() < -r / 2 || p.max() >= r / 2;
      if (!covers || !minimal) {
        return absl::InvalidArgumentError(
            absl::StrCat("histogram range 2^", hist.exponent(),
                         " does not match [", p.min(), ", ", p.max(), "]"));
      }
      if (hist.counts()[hist.BinOf(p.min())] == 0 ||
          hist.counts()[hist.BinOf(p.max())] == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("histogram has no values at the extremes [", p.min(),
                         ", ", p.max(), "]"));
      }
    } else if (p.min() != std::numeric_limits<float>::infinity() ||
               p.max() != -std::numeric_limits<float>::infinity() ||
               hist.exponent() != Histogram::kMinExponent) {
      return absl::InvalidArgumentError("range of a tensor without data");
    }

    const int64_t stride = p.checkpoint_stride();
    if (stride < 1 || (stride & (stride - 1)) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint stride ", stride, " is not a power of two"));
    }
    if (p.checkpoints_size() > TensorStats::kMaxCheckpoints) {
      return absl::InvalidArgumentError(
          absl::StrCat(p.checkpoints_size(), " checkpoints, at most ",
                       TensorStats::kMaxCheckpoints, " allowed"));
    }
    TensorStats t(p.name(), options, std::move(hist));
    t.num_samples_ = p.num_samples();
    t.num_samples_with_data_ = p.num_samples_with_data();
    t.num_elements_ = p.num_elements();
    t.min_ = p.min();
    t.max_ = p.max();
    t.ma_min_ = p.moving_average_min();
    t.ma_max_ = p.moving_average_max();
    t.checkpoint_stride_ = stride;
    int64_t previous = 0;
    for (const internal::proto::CheckpointProto& c : p.checkpoints()) {
      const bool empty = c.min() == std::numeric_limits<float>::infinity() &&
                         c.max() == -std::numeric_limits<float>::infinity();
      const bool valid_range = std::isfinite(c.min()) &&
                               std::isfinite(c.max()) && c.min() <= c.max() &&
                               c.min() >= p.min() && c.max() <= p.max();
      if (c.sample() <= previous || c.sample() > p.num_samples() ||
          !(empty || valid_range)) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid checkpoint (sample ", c.sample(), ", range [",
                         c.min(), ", ", c.max(), "])"));
      }
      previous = c.sample();
      t.checkpoints_[t.num_checkpoints_++] = {c.sample(), c.min(), c.max()};
    }
    return t;
  }
};

absl::StatusOr<std::string> CalibrationStats::Serialize() const {
  internal::proto::CalibrationStatsFile file;
  CalibrationStatsCodec::ToProto(*this, &file);
  std::string payload;
  if (!file.SerializeToString(&payload)) {
    return absl::OutOfRangeError(absl::StrCat(
        "calibration stats of ", tensors_.size(),
        " tensors are too large to serialize (protobuf limit 2 GiB)"));
  }
  const uint32_t crc = internal::Crc32(payload);
  std::string out;
  out.reserve(kHeaderSize + payload.size());
  out.append(kMagic, kMagicSize);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(crc >> (8 * i)));
  out.append(payload);
  return out;
}

absl::StatusOr<CalibrationStats> CalibrationStats::Parse(
    absl::string_view bytes, absl::string_view source) {
  if (bytes.size() < kHeaderSize ||
      bytes.substr(0, kMagicSize) != absl::string_view(kMagic, kMagicSize)) {
    return absl::DataLossError(
        absl::StrCat(source, " is not a qforge calibration stats file (",
                     bytes.size() < kHeaderSize ? "too short" : "bad magic",
                     ", expected it to start with \"", kMagic, "\")"));
  }
  uint32_t stored_crc = 0;
  for (int i = 0; i < 4; ++i) {
    stored_crc |=
        static_cast<uint32_t>(static_cast<unsigned char>(bytes[kMagicSize + i]))
        << (8 * i);
  }
  const absl::string_view payload = bytes.substr(kHeaderSize);
  const uint32_t crc = internal::Crc32(payload);
  if (crc != stored_crc) {
    return absl::DataLossError(absl::StrCat(
        "calibration stats ", source, " are corrupt or truncated: CRC-32 of ",
        payload.size(), " payload bytes is ", crc, ", the header says ",
        stored_crc));
  }
  internal::proto::CalibrationStatsFile file;
  if (payload.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !file.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::DataLossError(absl::StrCat(
        "calibration stats ", source, " are corrupt: the payload of ",
        payload.size(), " bytes does not parse"));
  }
  return CalibrationStatsCodec::FromProto(file, source);
}

absl::Status SaveStats(const CalibrationStats& stats, absl::string_view path) {
  QFORGE_ASSIGN_OR_RETURN(std::string bytes, stats.Serialize());
  static std::atomic<uint64_t> counter{0};
  const std::string target(path);
  const std::string temp =
      absl::StrCat(target, ".tmp.", ::getpid(), ".", counter.fetch_add(1));
  const int fd =
      ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int err = errno;
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", temp, " to write calibration stats ",
                     target, ": ", ErrnoMessage(err)));
  }
  auto fail = [&](absl::string_view what, int err) {
    ::close(fd);
    ::unlink(temp.c_str());
    return absl::InternalError(absl::StrCat("cannot ", what, " ", temp,
                                            " (for ", target,
                                            "): ", ErrnoMessage(err)));
  };
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n =
        ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write", errno);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("sync", errno);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return absl::InternalError(absl::StrCat("cannot close ", temp, " (for ",
                                            target, "): ", ErrnoMessage(err)));
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return absl::InternalError(absl::StrCat("cannot rename ", temp, " to ",
                                            target, ": ", ErrnoMessage(err)));
  }
  return absl::OkStatus();
}

absl::StatusOr<CalibrationStats> LoadStats(absl::string_view path) {
  const std::string file(path);
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat("calibration stats file ", file, " does not exist"));
    }
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot open calibration stats ", file, ": ", ErrnoMessage(err)));
  }
  std::string bytes;
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return absl::DataLossError(absl::StrCat("cannot read calibration stats ",
                                              file, ": ", ErrnoMessage(err)));
    }
    if (n == 0) break;
    bytes.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return CalibrationStats::Parse(bytes, file);
}

}  // namespace qforge
