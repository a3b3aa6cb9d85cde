// .npy / .npz tests. Fixtures are built byte by byte from the format specs
// (NumPy's NEP 1 "A Simple File Format for NumPy Arrays" and PKWARE's zip
// APPNOTE); CRCs come from zlib, an implementation independent of ours.
#include "qforge/io/npy.h"

#include <dirent.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/core/float16.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Le16(uint16_t v) {
  return std::string{char(v & 0xFF), char(v >> 8)};
}
std::string Le32(uint32_t v) { return Le16(v & 0xFFFF) + Le16(v >> 16); }
std::string Le64(uint64_t v) { return Le32(v & 0xFFFFFFFFu) + Le32(v >> 32); }

template <typename T>
std::string Bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()),
                     v.size() * sizeof(T));
}

// A .npy file per NEP 1: magic, version, header length, dict padded with
// spaces and '\n' to a multiple of 64 bytes, data.
std::string Npy(const std::string& dict, const std::string& data,
                int major = 1) {
  const size_t prefix = major == 1 ? 10 : 12;
  size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  std::string header =
      dict + std::string(total - prefix - dict.size() - 1, ' ') + "\n";
  std::string out = std::string("\x93NUMPY", 6) + char(major) + char(0);
  out += major == 1 ? Le16(header.size()) : Le32(header.size());
  return out + header + data;
}

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/qforge_npy_test_" + name;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(NpyTest, ReadsFloat32Version1) {
  const std::string bytes =
      Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
          Bytes<float>({1, 2, 3, 4, 5, -6.5f}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor t, ParseNpy(bytes));
  EXPECT_EQ(t.dtype(), DataType::kFloat32);
  EXPECT_THAT(t.dims(), ElementsAre(2, 3));
  EXPECT_THAT(t.ToVector<float>(), ElementsAre(1, 2, 3, 4, 5, -6.5f));
}

TEST(NpyTest, ReadsVersions2And3AndLooseHeaders) {
  for (int major : {2, 3}) {
    QFORGE_ASSERT_OK_AND_ASSIGN(
        Tensor t,
        ParseNpy(
            Npy("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
                Bytes<int64_t>({-1, 0, int64_t{1} << 40}), major)));
    EXPECT_THAT(t.ToVector<int64_t>(), ElementsAre(-1, 0, int64_t{1} << 40));
  }
  // Double quotes, other key order, no trailing comma, Python 2 longs.
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Tensor t,
      ParseNpy(Npy(R"({"shape":(2L,1L),"fortran_order":False,"descr":"<i4"})",
                   Bytes<int32_t>({7, -8}))));
  EXPECT_THAT(t.dims(), ElementsAre(2, 1));
  EXPECT_THAT(t.ToVector<int32_t>(), ElementsAre(7, -8));
}

TEST(NpyTest, ReadsEveryDtype) {
  auto parse = [](const std::string& descr, const std::string& shape,
                  const std::string& data) {
    return ParseNpy(Npy("{'descr': '" + descr +
                            "', 'fortran_order': False, 'shape': " + shape +
                            ", }",
                        data));
  };
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor f8,
                              parse("<f8", "(1,)", Bytes<double>({0.1})));
  EXPECT_THAT(f8.ToVector<double>(), ElementsAre(0.1));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor i1,
                              parse("|i1", "(2,)", Bytes<int8_t>({-128, 127})));
  EXPECT_THAT(i1.ToVector<int8_t>(), ElementsAre(-128, 127));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor u1,
                              parse("|u1", "(2,)", Bytes<uint8_t>({0, 255})));
  EXPECT_THAT(u1.ToVector<uint8_t>(), ElementsAre(0, 255));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor i2,
                              parse("<i2", "(1,)", Bytes<int16_t>({-300})));
  EXPECT_THAT(i2.ToVector<int16_t>(), ElementsAre(-300));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor u2,
                              parse("<u2", "(1,)", Bytes<uint16_t>({65000})));
  EXPECT_THAT(u2.ToVector<uint16_t>(), ElementsAre(65000));
  // float16 1.0 = 0x3C00, -2.0 = 0xC000.
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Tensor f2, parse("<f2", "(2,)", Bytes<uint16_t>({0x3C00, 0xC000})));
  EXPECT_EQ(f2.dtype(), DataType::kFloat16);
  EXPECT_EQ(f2.GetAsDouble(0), 1.0);
  EXPECT_EQ(f2.GetAsDouble(1), -2.0);
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Tensor b1, parse("|b1", "(3,)", std::string("\x01\x00\x01", 3)));
  EXPECT_THAT(b1.ToVector<bool>(), ElementsAre(true, false, true));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor scalar,
                              parse("<f4", "()", Bytes<float>({3.5f})));
  EXPECT_EQ(scalar.rank(), 0);
  EXPECT_THAT(scalar.ToVector<float>(), ElementsAre(3.5f));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor empty, parse("<f4", "(0, 2)", ""));
  EXPECT_THAT(empty.dims(), ElementsAre(0, 2));
}

TEST(NpyTest, UnsupportedLayoutsAreUnimplemented) {
  EXPECT_THAT(
      ParseNpy(Npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }",
                   Bytes<float>({1, 2, 3, 4})),
               "f.npy"),
      StatusIs(absl::StatusCode::kUnimplemented,
               AllOf(HasSubstr("f.npy"), HasSubstr("Fortran"))));
  EXPECT_THAT(
      ParseNpy(Npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
                   Bytes<float>({1})),
               "b.npy"),
      StatusIs(absl::StatusCode::kUnimplemented,
               AllOf(HasSubstr("b.npy"), HasSubstr("big-endian"))));
  EXPECT_THAT(
      ParseNpy(Npy("{'descr': '<u4', 'fortran_order': False, 'shape': (1,), }",
                   Bytes<uint32_t>({1}))),
      StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("'<u4'")));
  EXPECT_THAT(
      ParseNpy(Npy(
          "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
          Bytes<float>({1}))),
      StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("structured")));
}

TEST(NpyTest, CorruptFilesAreDataLoss) {
  const std::string good =
      Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
          Bytes<float>({1, 2, 3, 4, 5, 6}));
  // Truncated data.
  EXPECT_THAT(ParseNpy(good.substr(0, good.size() - 4), "t.npy"),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("t.npy"), HasSubstr("truncated data"),
                             HasSubstr("24 bytes"), HasSubstr("20"))));
  // Truncated header.
  EXPECT_THAT(
      ParseNpy(good.substr(0, 40), "h.npy"),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr("h.npy"), HasSubstr("truncated header"))));
  // Every prefix fails cleanly.
  for (size_t len = 0; len < good.size(); ++len) {
    EXPECT_THAT(ParseNpy(good.substr(0, len)),
                StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  }
  // Trailing bytes.
  EXPECT_THAT(ParseNpy(good + "xx"), StatusIs(absl::StatusCode::kDataLoss,
                                              HasSubstr("2 unexpected bytes")));
  // Bad magic.
  std::string bad = good;
  bad[1] = 'X';
  EXPECT_THAT(ParseNpy(bad, "m.npy"),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("m.npy"), HasSubstr("magic"))));
  // Malformed headers.
  for (const std::string dict :
       {"{'descr': '<f4', 'shape': (2, 3), }",
        "{'descr': '<f4' 'fortran_order': False}", "['descr']",
        "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': "
        "(99999999999999999999,)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 1048576, "
        "1048576)}",
        "{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}"}) {
    EXPECT_THAT(ParseNpy(Npy(dict, Bytes<float>({1})), "x.npy"),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr("x.npy")))
        << dict;
  }
}

TEST(NpyTest, WritesTheSpecLayout) {
  // NEP 1: for a float32 (2, 3) array numpy writes version 1.0 and a header
  // padded so that the data starts at byte 128.
  QFORGE_ASSERT_OK_AND_ASSIGN(
      std::string bytes,
      SerializeNpy(Tensor::FromVector<float>({2, 3}, {1, 2, 3, 4, 5, 6})));
  ASSERT_EQ(bytes.size(), 128u + 24u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(bytes.substr(8, 2), Le16(118));
  const std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  EXPECT_EQ(bytes.substr(10, dict.size()), dict);
  EXPECT_EQ(bytes[127], '\n');
  EXPECT_EQ(bytes.substr(128), Bytes<float>({1, 2, 3, 4, 5, 6}));
  // 1-D tuples have a trailing comma; scalars are "()".
  QFORGE_ASSERT_OK_AND_ASSIGN(
      std::string one,
      SerializeNpy(Tensor::FromVector<int8_t>({3}, {1, 2, 3})));
  EXPECT_THAT(
      one,
      HasSubstr("'descr': '|i1', 'fortran_order': False, 'shape': (3,), }"));
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string scalar,
                              SerializeNpy(Tensor::Scalar<double>(1.0)));
  EXPECT_THAT(scalar, HasSubstr("'shape': (), }"));
}

template <typename T>
void ExpectRoundTrip(std::vector<int64_t> dims, std::vector<T> values) {
  const Tensor t = Tensor::FromVector<T>(dims, values);
  const std::string path = TempPath("roundtrip.npy");
  ASSERT_THAT(WriteNpy(path, t), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor back, ReadNpy(path));
  EXPECT_EQ(back.dtype(), t.dtype());
  EXPECT_EQ(back.dims(), t.dims());
  EXPECT_EQ(std::memcmp(back.raw_data(), t.raw_data(), t.num_bytes()), 0);
  std::remove(path.c_str());
}

TEST(NpyTest, RoundTripsEveryDtype) {
  ExpectRoundTrip<float>({2, 2}, {1.5f, -0.f, 1e30f, -3});
  ExpectRoundTrip<double>({3}, {0.1, -2, 1e300});
  ExpectRoundTrip<Half>({2}, {Half{0x3C00}, Half{0x7C00}});
  ExpectRoundTrip<int8_t>({1, 1, 2}, {-128, 127});
  ExpectRoundTrip<uint8_t>({2}, {0, 255});
  ExpectRoundTrip<int16_t>({1}, {-32768});
  ExpectRoundTrip<uint16_t>({1}, {65535});
  ExpectRoundTrip<int32_t>({2}, {INT32_MIN, INT32_MAX});
  ExpectRoundTrip<int64_t>({2}, {INT64_MIN, INT64_MAX});
  {
    Tensor b(DataType::kBool, {3});
    b.data<bool>()[0] = true;
    b.data<bool>()[2] = true;
    const std::string path = TempPath("bool.npy");
    ASSERT_THAT(WriteNpy(path, b), IsOk());
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor back, ReadNpy(path));
    EXPECT_EQ(back.dtype(), DataType::kBool);
    EXPECT_EQ(
        back.GetAsInt64(0) * 4 + back.GetAsInt64(1) * 2 + back.GetAsInt64(2),
        5);
    std::remove(path.c_str());
  }
  ExpectRoundTrip<float>({}, {42});
  ExpectRoundTrip<float>({0, 5}, {});
}

bool DirHasEntryWithPrefix(const std::string& dir, const std::string& prefix) {
  DIR* d = ::opendir(dir.c_str());
  bool found = false;
  while (dirent* e = d ? ::readdir(d) : nullptr) {
    if (std::string(e->d_name).rfind(prefix, 0) == 0) found = true;
  }
  if (d) ::closedir(d);
  return found;
}

TEST(NpyTest, FailedWritesLeaveNothingBehind) {
  const std::string dir = TempPath("atomic_dir");
  ::mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/out.npy";
  // A tensor that cannot be written: the existing file stays as it was.
  WriteAll(path, "old contents");
  Tensor undefined;
  EXPECT_THAT(WriteNpy(path, undefined),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_EQ(ReadAll(path), "old contents");
  EXPECT_FALSE(DirHasEntryWithPrefix(dir, "out.npy.tmp"));
  // A directory that does not exist.
  EXPECT_THAT(WriteNpy(dir + "/missing/out.npy", Tensor::Scalar<float>(1)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing")));
  // A successful write replaces the file and leaves no temp file.
  ASSERT_THAT(WriteNpy(path, Tensor::Scalar<float>(1)), IsOk());
  EXPECT_FALSE(DirHasEntryWithPrefix(dir, "out.npy.tmp"));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor back, ReadNpy(path));
  EXPECT_THAT(back.ToVector<float>(), ElementsAre(1.0f));
  std::remove(path.c_str());
  ::rmdir(dir.c_str());
}

TEST(NpyTest, MissingFileIsNotFound) {
  EXPECT_THAT(
      ReadNpy("/nonexistent/x.npy"),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/x.npy")));
}

// --- .npz
// -----------------------------------------------------------------------

uint32_t ZlibCrc(const std::string& data) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(data.data()), data.size()));
}

struct ZipFixtureEntry {
  std::string name;
  std::string data;     // As stored in the file.
  uint16_t method = 0;  // 0 stored, 8 deflate.
  uint32_t size = 0;    // Uncompressed size.
  uint32_t crc = 0;     // Of the uncompressed data.
};

// A zip archive the way Python's zipfile writes numpy.savez output: local
// headers carry a zip64 extra field with the sizes (numpy forces zip64), the
// central directory carries the real 32-bit sizes.
std::string Zip(const std::vector<ZipFixtureEntry>& entries) {
  std::string out;
  std::vector<uint32_t> offsets;
  for (const ZipFixtureEntry& e : entries) {
    offsets.push_back(out.size());
    out += Le32(0x04034b50) + Le16(45) + Le16(0) + Le16(e.method) + Le16(0) +
           Le16(0x21) + Le32(e.crc) + Le32(0xFFFFFFFFu) + Le32(0xFFFFFFFFu) +
           Le16(e.name.size()) + Le16(20) + e.name + Le16(1) + Le16(16) +
           Le64(e.size) + Le64(e.data.size()) + e.data;
  }
  const uint32_t cd_offset = out.size();
  for (size_t i = 0; i < entries.size(); ++i) {
    const ZipFixtureEntry& e = entries[i];
    out += Le32(0x02014b50) + Le16(45) + Le16(20) + Le16(0) + Le16(e.method) +
           Le16(0) + Le16(0x21) + Le32(e.crc) + Le32(e.data.size()) +
           Le32(e.size) + Le16(e.name.size()) + Le16(0) + Le16(0) + Le16(0) +
           Le16(0) + Le32(0) + Le32(offsets[i]) + e.name;
  }
  const uint32_t cd_size = out.size() - cd_offset;
  out += Le32(0x06054b50) + Le16(0) + Le16(0) + Le16(entries.size()) +
         Le16(entries.size()) + Le32(cd_size) + Le32(cd_offset) + Le16(0);
  return out;
}

ZipFixtureEntry Stored(const std::string& name, const std::string& data) {
  return {name, data, 0, static_cast<uint32_t>(data.size()), ZlibCrc(data)};
}

TEST(NpzTest, ReadsNumpySavezLayout) {
  const std::string a =
      Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
          Bytes<float>({1.5f, -2}));
  const std::string b =
      Npy("{'descr': '<i8', 'fortran_order': False, 'shape': (), }",
          Bytes<int64_t>({7}));
  QFORGE_ASSERT_OK_AND_ASSIGN(
      NpzContents npz,
      ParseNpz(Zip({Stored("x.npy", a), Stored("arr_1.npy", b)})));
  ASSERT_EQ(npz.size(), 2u);
  EXPECT_THAT(npz.at("x").ToVector<float>(), ElementsAre(1.5f, -2));
  EXPECT_THAT(npz.at("arr_1").ToVector<int64_t>(), ElementsAre(7));
}

TEST(NpzTest, CompressedEntryIsUnimplemented) {
  const std::string a =
      Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
          Bytes<float>({1.5f, -2}));
  // Raw deflate (zip method 8) with zlib.
  std::string deflated(compressBound(a.size()) + 64, '\0');
  z_stream zs{};
  ASSERT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(a.data()));
  zs.avail_in = a.size();
  zs.next_out = reinterpret_cast<Bytef*>(deflated.data());
  zs.avail_out = deflated.size();
  ASSERT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  deflated.resize(zs.total_out);
  deflateEnd(&zs);
  ZipFixtureEntry e{"x.npy", deflated, 8, static_cast<uint32_t>(a.size()),
                    ZlibCrc(a)};
  EXPECT_THAT(
      ParseNpz(Zip({e}), "c.npz"),
      StatusIs(
          absl::StatusCode::kUnimplemented,
          AllOf(HasSubstr("c.npz"), HasSubstr("'x.npy'"),
                HasSubstr("re-save with numpy.savez, not savez_compressed"))));
}

TEST(NpzTest, CorruptArchivesAreDataLoss) {
  const std::string a =
      Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
          Bytes<float>({1.5f, -2}));
  const std::string good = Zip({Stored("x.npy", a)});
  ASSERT_THAT(ParseNpz(good), IsOk());
  for (size_t len = 0; len < good.size(); ++len) {
    EXPECT_THAT(ParseNpz(good.substr(0, len), "t.npz"),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr("t.npz")))
        << len;
  }
  // A flipped data byte fails the CRC.
  std::string flipped = good;
  flipped[good.find(std::string("\x93NUMPY", 6)) + a.size() - 1] ^= 0x10;
  EXPECT_THAT(ParseNpz(flipped, "f.npz"),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("f.npz"), HasSubstr("CRC"))));
  // Arbitrary bit flips never crash.
  for (size_t i = 0; i < good.size(); ++i) {
    std::string g = good;
    g[i] ^= 0x04;
    (void)ParseNpz(g);
  }
}

TEST(NpzTest, RoundTrip) {
  NpzContents in;
  in["image"] = Tensor::FromVector<float>({1, 2, 2}, {0.5f, 1, 2, 3});
  in["label"] = Tensor::FromVector<int64_t>({1}, {9});
  in["mask"] = Tensor(DataType::kBool, {2});
  in["mask"].data<bool>()[0] = true;
  const std::string path = TempPath("roundtrip.npz");
  ASSERT_THAT(WriteNpz(path, in), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(NpzContents out, ReadNpz(path));
  ASSERT_EQ(out.size(), 3u);
  for (const auto& [key, t] : in) {
    ASSERT_EQ(out.count(key), 1u) << key;
    EXPECT_EQ(out.at(key).dtype(), t.dtype());
    EXPECT_EQ(out.at(key).dims(), t.dims());
    EXPECT_EQ(std::memcmp(out.at(key).raw_data(), t.raw_data(), t.num_bytes()),
              0);
  }
  // The written entries are stored with the CRC zlib computes.
  const std::string bytes = ReadAll(path);
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string image_npy, SerializeNpy(in["image"]));
  const size_t local = bytes.find("image.npy");
  ASSERT_NE(local, std::string::npos);
  EXPECT_EQ(bytes.substr(local - 30, 4), Le32(0x04034b50));
  EXPECT_EQ(bytes.substr(local - 30 + 8, 2), Le16(0));  // Stored.
  EXPECT_EQ(bytes.substr(local - 30 + 14, 4), Le32(ZlibCrc(image_npy)));
  std::remove(path.c_str());

  NpzContents bad;
  bad["a/b"] = Tensor::Scalar<float>(1);
  EXPECT_THAT(WriteNpz(path, bad),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  struct stat st;
  EXPECT_NE(::stat(path.c_str(), &st), 0);
}

}  // namespace
}  // namespace qforge
