#include <dirent.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/quantize/calibration.h"
#include "qforge/testing/status_matchers.h"
#include "core/crc32.h"
#include "quantize/proto/calibration_stats.pb.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

class CalibrationIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/qforge_calib_io_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    for (const std::string& f : ListDir()) ::unlink((dir_ + "/" + f).c_str());
    ::rmdir(dir_.c_str());
  }
  std::vector<std::string> ListDir() const {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir_.c_str());
    if (d == nullptr) return names;
    while (dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    return names;
  }
  void WriteRaw(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
  }
  std::string dir_;
};

CalibrationStats MakeStats() {
  std::mt19937 rng(31);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  CalibrationStats shard_a;
  CalibrationStats shard_b;
  for (int s = 0; s < 300; ++s) {
    std::vector<float> v(64);
    for (float& x : v) x = normal(rng) * (s % 7 + 1);
    CalibrationStats& shard = s % 3 ? shard_a : shard_b;
    EXPECT_THAT(shard.Update("conv1_out", Tensor::FromVector<float>({64}, v)),
                IsOk());
    for (float& x : v) x = std::max(x, 0.0f);
    EXPECT_THAT(shard.Update("relu1_out", Tensor::FromVector<float>({8, 8}, v)),
                IsOk());
  }
  EXPECT_THAT(shard_a.Update("empty", Tensor(DataType::kFloat32, {0})), IsOk());
  EXPECT_THAT(shard_a.Merge(shard_b), IsOk());
  return shard_a;
}

TEST(Crc32Test, CheckValue) {
  // The standard CRC-32 check value of "123456789".
  EXPECT_EQ(internal::Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(internal::Crc32(""), 0u);
}

TEST_F(CalibrationIoTest, RoundTripIsExact) {
  const CalibrationStats stats = MakeStats();
  auto bytes = stats.Serialize();
  ASSERT_THAT(bytes, IsOk());
  auto parsed = CalibrationStats::Parse(*bytes);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(*parsed, stats);
  auto again = parsed->Serialize();
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(*again, *bytes);
  // The parsed stats keep working: same ranges, further updates and merges.
  for (const auto& [name, t] : stats.tensors()) {
    if (!t.has_data()) continue;
    auto r1 = ChooseRange(t, CalibrationMethod::kEntropy);
    auto r2 = ChooseRange(*parsed->Find(name), CalibrationMethod::kEntropy);
    ASSERT_THAT(r1, IsOk());
    ASSERT_THAT(r2, IsOk());
    EXPECT_EQ(*r1, *r2);
  }
  EXPECT_THAT(parsed->Merge(stats), IsOk());
}

TEST_F(CalibrationIoTest, NamesNeedNotBeUtf8) {
  CalibrationStats stats;
  const std::string name = "conv\xff\xfe/out";
  ASSERT_THAT(stats.Update(name, Tensor::FromVector<float>({2}, {1.0f, 2.0f})),
              IsOk());
  auto bytes = stats.Serialize();
  ASSERT_THAT(bytes, IsOk());
  auto parsed = CalibrationStats::Parse(*bytes);
  ASSERT_THAT(parsed, IsOk());
  ASSERT_NE(parsed->Find(name), nullptr);
  EXPECT_EQ(*parsed, stats);
}

TEST_F(CalibrationIoTest, SaveAndLoadAtomically) {
  const CalibrationStats stats = MakeStats();
  const std::string path = dir_ + "/stats.qfcalib";
  ASSERT_THAT(SaveStats(stats, path), IsOk());
  EXPECT_THAT(ListDir(), ::testing::ElementsAre("stats.qfcalib"));  // No temp.
  auto loaded = LoadStats(path);
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ(*loaded, stats);
  // Overwrite in place.
  CalibrationStats other;
  ASSERT_THAT(other.Update("x", Tensor::FromVector<float>({1}, {1.0f})),
              IsOk());
  ASSERT_THAT(SaveStats(other, path), IsOk());
  auto reloaded = LoadStats(path);
  ASSERT_THAT(reloaded, IsOk());
  EXPECT_EQ(*reloaded, other);
  EXPECT_EQ(ListDir().size(), 1u);
}

TEST_F(CalibrationIoTest, SaveIntoMissingDirectoryFails) {
  EXPECT_THAT(SaveStats(MakeStats(), dir_ + "/no/such/dir/s.qfcalib"),
              ::testing::Not(IsOk()));
  EXPECT_TRUE(ListDir().empty());
}

TEST_F(CalibrationIoTest, MissingFileIsNotFound) {
  EXPECT_THAT(
      LoadStats(dir_ + "/absent.qfcalib"),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("absent.qfcalib")));
}

TEST_F(CalibrationIoTest, CorruptFilesAreDataLoss) {
  auto bytes = MakeStats().Serialize();
  ASSERT_THAT(bytes, IsOk());
  const std::string path = dir_ + "/corrupt.qfcalib";
  auto expect_loss = [&](const std::string& contents, const std::string& what) {
    WriteRaw(path, contents);
    EXPECT_THAT(LoadStats(path), StatusIs(absl::StatusCode::kDataLoss,
                                          HasSubstr("corrupt.qfcalib")))
        << what;
  };
  expect_loss("", "empty");
  expect_loss("hello world, not stats", "garbage");
  expect_loss(bytes->substr(0, bytes->size() / 2), "truncated");
  expect_loss(bytes->substr(0, 10), "truncated header");
  std::mt19937 rng(32);
  for (int i = 0; i < 50; ++i) {
    std::string flipped = *bytes;
    const size_t pos = rng() % flipped.size();
    flipped[pos] = static_cast<char>(flipped[pos] ^ (1 << (rng() % 8)));
    expect_loss(flipped, "bit flip at " + std::to_string(pos));
  }
  std::string extended = *bytes + "x";
  expect_loss(extended, "trailing byte");
}

// Payloads with a valid checksum whose content is inconsistent are caught
// by the semantic checks.
std::string Frame(const internal::proto::CalibrationStatsFile& file) {
  std::string payload;
  file.SerializeToString(&payload);
  const uint32_t crc = internal::Crc32(payload);
  std::string out = "QFCALIB1";
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(crc >> (8 * i)));
  return out + payload;
}

TEST_F(CalibrationIoTest, InconsistentContentIsDataLoss) {
  CalibrationStats stats;
  ASSERT_THAT(
      stats.Update("t", Tensor::FromVector<float>({3}, {-1.f, 0.5f, 2.f})),
      IsOk());
  auto bytes = stats.Serialize();
  ASSERT_THAT(bytes, IsOk());
  internal::proto::CalibrationStatsFile good;
  ASSERT_TRUE(good.ParseFromString(bytes->substr(12)));
  EXPECT_THAT(CalibrationStats::Parse(Frame(good), "f"), IsOk());

  auto expect_loss = [&](internal::proto::CalibrationStatsFile f,
                         const std::string& needle) {
    EXPECT_THAT(CalibrationStats::Parse(Frame(f), "in.qfcalib"),
                StatusIs(absl::StatusCode::kDataLoss,
                         AllOf(HasSubstr("in.qfcalib"), HasSubstr(needle))));
  };
  {
    auto f = good;
    f.set_format_version(7);
    expect_loss(f, "version 7");
  }
  {
    auto f = good;
    f.mutable_tensors(0)->set_num_elements(4);
    expect_loss(f, "'t'");
  }
  {
    auto f = good;
    f.mutable_tensors(0)->mutable_histogram()->set_counts(0, 5);
    expect_loss(f, "histogram holds");
  }
  {
    auto f = good;
    f.mutable_tensors(0)->set_max(std::nanf(""));
    expect_loss(f, "invalid range");
  }
  {
    auto f = good;
    f.mutable_tensors(0)->mutable_histogram()->set_exponent(5);
    expect_loss(f, "range 2^5");
  }
  {
    auto f = good;
    f.mutable_tensors(0)->mutable_histogram()->set_first_bin(4095);
    expect_loss(f, "exceed");
  }
  {
    auto f = good;
    *f.add_tensors() = f.tensors(0);
    expect_loss(f, "twice");
  }
  {
    auto f = good;
    f.mutable_options()->set_num_bins(1000);
    expect_loss(f, "1000");
  }
  {
    auto f = good;
    f.mutable_tensors(0)->mutable_checkpoints(0)->set_sample(9);
    expect_loss(f, "checkpoint");
  }
}

}  // namespace
}  // namespace qforge
