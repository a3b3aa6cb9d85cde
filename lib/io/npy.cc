// NumPy .npy / .npz reading and writing.
//
// .npy layout: "\x93NUMPY", major, minor, header length (uint16 for 1.0,
// uint32 for 2.0/3.0, little-endian), then a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and a final '\n' so that the data starts at a multiple
// of 64 bytes, then the raw element data.
//
// .npz is a zip archive. Everything is located through the central
// directory (numpy writes zip64 local headers whose size fields are
// 0xFFFFFFFF); zip64 end records and extra fields are understood.
#include "qforge/io/npy.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/crc32.h"
#include "io/atomic_file.h"
#include "qforge/core/status.h"

namespace qforge {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;
constexpr int64_t kMaxElements = int64_t{1} << 40;

struct DescrInfo {
  absl::string_view code;  // Without the byte-order character.
  DataType dtype;
};
constexpr DescrInfo kDescrs[] = {
    {"f4", DataType::kFloat32}, {"f8", DataType::kFloat64},
    {"f2", DataType::kFloat16}, {"i1", DataType::kInt8},
    {"u1", DataType::kUint8},   {"i2", DataType::kInt16},
    {"u2", DataType::kUint16},  {"i4", DataType::kInt32},
    {"i8", DataType::kInt64},   {"b1", DataType::kBool},
};
constexpr absl::string_view kSupportedDescrs =
    "'<f4', '<f8', '<f2', '|i1', '|u1', '<i2', '<u2', '<i4', '<i8', '|b1'";

absl::Status Malformed(absl::string_view source, absl::string_view what) {
  return absl::DataLossError(
      absl::StrCat(source, ": not a valid .npy file: ", what));
}

// --- Header dict parser
// --------------------------------------------------------

class HeaderParser {
 public:
  HeaderParser(absl::string_view text, absl::string_view source)
      : text_(text), source_(source) {}

  absl::Status Parse() {
    SkipSpace();
    if (!Consume('{')) return Error("the header does not start with '{'");
    while (true) {
      SkipSpace();
      if (Consume('}')) break;
      std::string key;
      QFORGE_RETURN_IF_ERROR(ParseString(&key));
      SkipSpace();
      if (!Consume(':'))
        return Error(absl::StrCat("expected ':' after '", key, "'"));
      SkipSpace();
      if (key == "descr") {
        if (Peek() == '[') {
          return absl::UnimplementedError(absl::StrCat(
              source_,
              ": structured (record) dtypes are not supported; save a "
              "plain numeric array"));
        }
        QFORGE_RETURN_IF_ERROR(ParseString(&descr));
        has_descr = true;
      } else if (key == "fortran_order") {
        if (ConsumeWord("True")) {
          fortran_order = true;
        } else if (ConsumeWord("False")) {
          fortran_order = false;
        } else {
          return Error("fortran_order is neither True nor False");
        }
        has_fortran_order = true;
      } else if (key == "shape") {
        QFORGE_RETURN_IF_ERROR(ParseShape());
        has_shape = true;
      } else {
        return Error(absl::StrCat("unexpected header key '", key, "'"));
      }
      SkipSpace();
      if (Consume(',')) continue;
      SkipSpace();
      if (Consume('}')) break;
      return Error("expected ',' or '}' in the header");
    }
    SkipSpace();
    if (pos_ != text_.size())
      return Error("unexpected text after the header dict");
    if (!has_descr || !has_fortran_order || !has_shape) {
      return Error("the header lacks one of 'descr', 'fortran_order', 'shape'");
    }
    return absl::OkStatus();
  }

  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
  bool has_descr = false;
  bool has_fortran_order = false;
  bool has_shape = false;

 private:
  absl::Status Error(absl::string_view what) {
    return Malformed(source_, absl::StrCat("malformed header: ", what));
  }
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool Consume(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  bool ConsumeWord(absl::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t' ||
            text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  absl::Status ParseString(std::string* out) {
    const char quote = Peek();
    if (quote != '\'' && quote != '"') return Error("expected a quoted string");
    ++pos_;
    const size_t end = text_.find(quote, pos_);
    if (end == absl::string_view::npos) return Error("unterminated string");
    *out = std::string(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return absl::OkStatus();
  }
  absl::Status ParseShape() {
    if (!Consume('(')) return Error("shape is not a tuple");
    shape.clear();
    while (true) {
      SkipSpace();
      if (Consume(')')) return absl::OkStatus();
      if (Peek() < '0' || Peek() > '9') {
        return Error("shape holds something other than non-negative integers");
      }
      int64_t value = 0;
      while (Peek() >= '0' && Peek() <= '9') {
        if (value > (std::numeric_limits<int64_t>::max() - 9) / 10) {
          return Error("a shape dimension is too large");
        }
        value = value * 10 + (Peek() - '0');
        ++pos_;
      }
      Consume('L');  // Python 2 long literal.
      shape.push_back(value);
      SkipSpace();
      if (Consume(',')) continue;
      SkipSpace();
      if (Consume(')')) return absl::OkStatus();
      return Error("expected ',' or ')' in shape");
    }
  }

  absl::string_view text_;
  absl::string_view source_;
  size_t pos_ = 0;
};

absl::StatusOr<DataType> DtypeFromDescr(absl::string_view descr,
                                        absl::string_view source) {
  if (descr.size() < 2) {
    return Malformed(source, absl::StrCat("unknown dtype '", descr, "'"));
  }
  const char order = descr[0];
  const absl::string_view code = descr.substr(1);
  for (const DescrInfo& info : kDescrs) {
    if (info.code != code) continue;
    const bool one_byte = SizeOf(info.dtype) == 1;
    if (order == '<' || order == '|' || order == '=' ||
        (one_byte && order == '>')) {
      return info.dtype;
    }
    if (order == '>') {
      return absl::UnimplementedError(absl::StrCat(
          source, ": dtype '", descr,
          "' is big-endian; qforge reads little-endian data only: convert with "
          "a.astype(a.dtype.newbyteorder('<'))"));
    }
    break;
  }
  return absl::UnimplementedError(
      absl::StrCat(source, ": dtype '", descr,
                   "' is not supported (supported: ", kSupportedDescrs, ")"));
}

absl::StatusOr<std::string> DescrOf(DataType dtype) {
  switch (dtype) {
    case DataType::kFloat32:
      return std::string("<f4");
    case DataType::kFloat64:
      return std::string("<f8");
    case DataType::kFloat16:
      return std::string("<f2");
    case DataType::kInt8:
      return std::string("|i1");
    case DataType::kUint8:
      return std::string("|u1");
    case DataType::kInt16:
      return std::string("<i2");
    case DataType::kUint16:
      return std::string("<u2");
    case DataType::kInt32:
      return std::string("<i4");
    case DataType::kInt64:
      return std::string("<i8");
    case DataType::kBool:
      return std::string("|b1");
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot write a ", DataTypeName(dtype), " tensor as .npy"));
  }
}

uint16_t Le16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) |
                               (static_cast<uint8_t>(p[1]) << 8));
}
uint32_t Le32(const char* p) {
  return static_cast<uint32_t>(Le16(p)) |
         (static_cast<uint32_t>(Le16(p + 2)) << 16);
}
uint64_t Le64(const char* p) {
  return static_cast<uint64_t>(Le32(p)) |
         (static_cast<uint64_t>(Le32(p + 4)) << 32);
}
void PutLe16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>(v >> 8));
}
void PutLe32(std::string& out, uint32_t v) {
  PutLe16(out, static_cast<uint16_t>(v & 0xFFFF));
  PutLe16(out, static_cast<uint16_t>(v >> 16));
}
void PutLe64(std::string& out, uint64_t v) {
  PutLe32(out, static_cast<uint32_t>(v & 0xFFFFFFFFu));
  PutLe32(out, static_cast<uint32_t>(v >> 32));
}

// The .npy header (magic through padding) for `tensor`.
absl::StatusOr<std::string> NpyHeader(const Tensor& tensor) {
  QFORGE_ASSIGN_OR_RETURN(const std::string descr, DescrOf(tensor.dtype()));
  std::string shape = "(";
  for (int64_t d : tensor.dims()) absl::StrAppend(&shape, d, ", ");
  if (tensor.rank() == 1) {
    shape.resize(shape.size() - 1);  // "(3,)"
  } else if (tensor.rank() > 1) {
    shape.resize(shape.size() - 2);  // "(2, 3)"
  }
  shape += ")";
  std::string dict =
      absl::StrCat("{'descr': '", descr,
                   "', 'fortran_order': False, 'shape': ", shape, ", }");
  // Version 1.0 when the header length fits in 16 bits, else 2.0.
  int version = 1;
  size_t prefix = kMagicLen + 2 + 2;
  size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  if (total - prefix > 0xFFFF) {
    version = 2;
    prefix = kMagicLen + 2 + 4;
    total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  }
  const size_t header_len = total - prefix;
  dict.append(header_len - dict.size() - 1, ' ');
  dict.push_back('\n');
  std::string out(kMagic, kMagicLen);
  out.push_back(static_cast<char>(version));
  out.push_back(0);
  if (version == 1) {
    PutLe16(out, static_cast<uint16_t>(header_len));
  } else {
    PutLe32(out, static_cast<uint32_t>(header_len));
  }
  out += dict;
  return out;
}


// --- zip structures
// ------------------------------------------------------------

constexpr uint32_t kLocalSig = 0x04034b50;
constexpr uint32_t kCentralSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr size_t kEndSize = 22;
constexpr size_t kCentralSize = 46;
constexpr size_t kLocalSize = 30;

absl::Status BadZip(absl::string_view source, absl::string_view what) {
  return absl::DataLossError(
      absl::StrCat(source, ": not a valid .npz (zip) file: ", what));
}

struct ZipEntry {
  std::string name;
  uint16_t method = 0;
  uint16_t flags = 0;
  uint32_t crc = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;
  uint64_t local_offset = 0;
};

// Reads the zip64 extended-information extra field, replacing the 32-bit
// fields that are saturated (0xFFFFFFFF), in the order the spec gives.
absl::Status ApplyZip64Extra(absl::string_view extra, bool need_size,
                             bool need_compressed, bool need_offset,
                             ZipEntry& entry, absl::string_view source) {
  size_t pos = 0;
  while (pos + 4 <= extra.size()) {
    const uint16_t id = Le16(extra.data() + pos);
    const uint16_t len = Le16(extra.data() + pos + 2);
    if (pos + 4 + len > extra.size()) break;
    if (id == 0x0001) {
      absl::string_view field = extra.substr(pos + 4, len);
      size_t p = 0;
      auto next = [&](uint64_t& out) -> bool {
        if (p + 8 > field.size()) return false;
        out = Le64(field.data() + p);
        p += 8;
        return true;
      };
      if ((need_size && !next(entry.size)) ||
          (need_compressed && !next(entry.compressed_size)) ||
          (need_offset && !next(entry.local_offset))) {
        return BadZip(source, absl::StrCat("entry '", entry.name,
                                           "' has a short zip64 extra field"));
      }
      return absl::OkStatus();
    }
    pos += 4 + len;
  }
  if (need_size || need_compressed || need_offset) {
    return BadZip(source, absl::StrCat("entry '", entry.name,
                                       "' lacks its zip64 extra field"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ZipEntry>> ReadCentralDirectory(
    absl::string_view bytes, absl::string_view source) {
  if (bytes.size() < kEndSize)
    return BadZip(source, "too short for a zip file");
  // The end record is at most 65535 (comment) + 22 bytes from the end.
  size_t end_pos = std::string::npos;
  const size_t lowest =
      bytes.size() > kEndSize + 0xFFFF ? bytes.size() - kEndSize - 0xFFFF : 0;
  for (size_t p = bytes.size() - kEndSize + 1; p-- > lowest;) {
    if (Le32(bytes.data() + p) == kEndSig) {
      end_pos = p;
      break;
    }
  }
  if (end_pos == std::string::npos) {
    return BadZip(source, "no end-of-central-directory record (truncated?)");
  }
  const char* end = bytes.data() + end_pos;
  uint64_t count = Le16(end + 10);
  uint64_t cd_size = Le32(end + 12);
  uint64_t cd_offset = Le32(end + 16);
  if (count == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_offset == 0xFFFFFFFFu) {
    // zip64: the locator sits right before the end record.
    if (end_pos < 20 || Le32(end - 20) != kZip64LocatorSig) {
      return BadZip(source, "zip64 end-of-central-directory locator missing");
    }
    const uint64_t z64 = Le64(end - 20 + 8);
    if (z64 > bytes.size() || bytes.size() - z64 < 56 ||
        Le32(bytes.data() + z64) != kZip64EndSig) {
      return BadZip(source, "zip64 end-of-central-directory record missing");
    }
    count = Le64(bytes.data() + z64 + 32);
    cd_size = Le64(bytes.data() + z64 + 40);
    cd_offset = Le64(bytes.data() + z64 + 48);
  }
  if (cd_offset > bytes.size() || cd_size > bytes.size() - cd_offset) {
    return BadZip(source,
                  "the central directory lies outside the file (truncated?)");
  }
  if (count > cd_size / kCentralSize) {
    return BadZip(source,
                  "the central directory is too small for its entry count");
  }
  std::vector<ZipEntry> entries;
  size_t pos = cd_offset;
  const size_t cd_end = cd_offset + cd_size;
  for (uint64_t i = 0; i < count; ++i) {
    if (pos + kCentralSize > cd_end ||
        Le32(bytes.data() + pos) != kCentralSig) {
      return BadZip(source,
                    absl::StrCat("central directory entry ", i, " is corrupt"));
    }
    const char* h = bytes.data() + pos;
    ZipEntry e;
    e.flags = Le16(h + 8);
    e.method = Le16(h + 10);
    e.crc = Le32(h + 16);
    e.compressed_size = Le32(h + 20);
    e.size = Le32(h + 24);
    const uint16_t name_len = Le16(h + 28);
    const uint16_t extra_len = Le16(h + 30);
    const uint16_t comment_len = Le16(h + 32);
    e.local_offset = Le32(h + 42);
    if (pos + kCentralSize + name_len + extra_len + comment_len > cd_end) {
      return BadZip(
          source, absl::StrCat("central directory entry ", i, " is truncated"));
    }
    e.name = std::string(h + kCentralSize, name_len);
    QFORGE_RETURN_IF_ERROR(ApplyZip64Extra(
        absl::string_view(h + kCentralSize + name_len, extra_len),
        e.size == 0xFFFFFFFFu, e.compressed_size == 0xFFFFFFFFu,
        e.local_offset == 0xFFFFFFFFu, e, source));
    entries.push_back(std::move(e));
    pos += kCentralSize + name_len + extra_len + comment_len;
  }
  return entries;
}

// Local header + data of one entry, for WriteNpz.
struct PendingEntry {
  std::string name;
  std::string data;   // The .npy bytes.
  uint64_t size = 0;  // Of `data`, kept after the data is written out.
  uint32_t crc = 0;
  uint64_t offset = 0;
};

constexpr uint16_t kDosDate = (0 << 9) | (1 << 5) | 1;  // 1980-01-01.

}  // namespace

// --- .npy public API
// -----------------------------------------------------------

absl::StatusOr<Tensor> ParseNpy(absl::string_view bytes,
                                absl::string_view source) {
  if (bytes.size() < kMagicLen + 4 ||
      bytes.substr(0, kMagicLen) != absl::string_view(kMagic, kMagicLen)) {
    return Malformed(source, "missing the \\x93NUMPY magic");
  }
  const int major = static_cast<uint8_t>(bytes[6]);
  const int minor = static_cast<uint8_t>(bytes[7]);
  size_t header_start;
  uint64_t header_len;
  if (major == 1) {
    header_len = Le16(bytes.data() + 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return Malformed(source, "truncated header");
    header_len = Le32(bytes.data() + 8);
    header_start = 12;
  } else {
    return absl::UnimplementedError(
        absl::StrCat(source, ": .npy format version ", major, ".", minor,
                     " is not supported (1.0, 2.0 and 3.0 are)"));
  }
  if (header_len > bytes.size() - header_start) {
    return Malformed(
        source, absl::StrCat("truncated header: it declares ", header_len,
                             " bytes but only ", bytes.size() - header_start,
                             " follow"));
  }
  HeaderParser header(bytes.substr(header_start, header_len), source);
  QFORGE_RETURN_IF_ERROR(header.Parse());
  QFORGE_ASSIGN_OR_RETURN(const DataType dtype,
                          DtypeFromDescr(header.descr, source));
  if (header.fortran_order) {
    return absl::UnimplementedError(absl::StrCat(
        source,
        ": the array is stored in Fortran order; qforge reads C order "
        "only: save numpy.ascontiguousarray(a) instead"));
  }
  int64_t count = 1;
  for (int64_t d : header.shape) {
    if (d != 0 && count > kMaxElements / d) {
      return Malformed(
          source,
          absl::StrCat("shape ", DimsToString(header.shape), " is too large"));
    }
    count *= d;
  }
  const uint64_t expected = static_cast<uint64_t>(count) * SizeOf(dtype);
  const uint64_t available = bytes.size() - header_start - header_len;
  if (available < expected) {
    return Malformed(
        source, absl::StrCat("truncated data: ", DataTypeName(dtype),
                             DimsToString(header.shape), " needs ", expected,
                             " bytes but the file has ", available));
  }
  if (available > expected) {
    return Malformed(
        source, absl::StrCat(available - expected,
                             " unexpected bytes after the data of ",
                             DataTypeName(dtype), DimsToString(header.shape)));
  }
  Tensor tensor(dtype, header.shape);
  if (expected > 0) {
    std::memcpy(tensor.raw_data(), bytes.data() + header_start + header_len,
                expected);
  }
  if (dtype == DataType::kBool) {
    uint8_t* b = static_cast<uint8_t*>(tensor.raw_data());
    for (int64_t i = 0; i < count; ++i) b[i] = b[i] != 0;
  }
  return tensor;
}

absl::StatusOr<Tensor> ReadNpy(absl::string_view path) {
  std::string bytes;
  QFORGE_RETURN_IF_ERROR(internal::ReadFileToString(path, &bytes));
  return ParseNpy(bytes, path);
}

absl::StatusOr<std::string> SerializeNpy(const Tensor& tensor) {
  QFORGE_ASSIGN_OR_RETURN(std::string out, NpyHeader(tensor));
  out.append(static_cast<const char*>(tensor.raw_data()), tensor.num_bytes());
  return out;
}

absl::Status WriteNpy(absl::string_view path, const Tensor& tensor) {
  QFORGE_ASSIGN_OR_RETURN(const std::string header, NpyHeader(tensor));
  return internal::WriteFileAtomically(
      path, [&](const internal::ByteSink& sink) -> absl::Status {
        QFORGE_RETURN_IF_ERROR(sink(header));
        return sink(absl::string_view(
            static_cast<const char*>(tensor.raw_data()), tensor.num_bytes()));
      });
}

// --- .npz public API
// -----------------------------------------------------------

absl::StatusOr<NpzContents> ParseNpz(absl::string_view bytes,
                                     absl::string_view source) {
  QFORGE_ASSIGN_OR_RETURN(std::vector<ZipEntry> entries,
                          ReadCentralDirectory(bytes, source));
  NpzContents out;
  for (const ZipEntry& e : entries) {
    if (!e.name.empty() && e.name.back() == '/') continue;  // Directory.
    const std::string what = absl::StrCat(source, ": entry '", e.name, "'");
    if (e.flags & 0x1) {
      return absl::UnimplementedError(
          absl::StrCat(what, " is encrypted, which qforge does not support"));
    }
    if (e.method == 8) {
      return absl::UnimplementedError(absl::StrCat(
          what,
          " is compressed (deflate); qforge reads stored entries only: "
          "re-save with numpy.savez, not savez_compressed"));
    }
    if (e.method != 0) {
      return absl::UnimplementedError(absl::StrCat(
          what, " uses zip compression method ", e.method,
          "; qforge reads stored entries only: re-save with numpy.savez"));
    }
    if (e.compressed_size != e.size) {
      return BadZip(
          source, absl::StrCat("stored entry '", e.name, "' has size ", e.size,
                               " but compressed size ", e.compressed_size));
    }
    if (e.local_offset > bytes.size() ||
        bytes.size() - e.local_offset < kLocalSize ||
        Le32(bytes.data() + e.local_offset) != kLocalSig) {
      return BadZip(source, absl::StrCat("the local header of entry '", e.name,
                                         "' is missing or corrupt"));
    }
    const char* lh = bytes.data() + e.local_offset;
    const uint64_t data_start =
        e.local_offset + kLocalSize + Le16(lh + 26) + Le16(lh + 28);
    if (data_start > bytes.size() || bytes.size() - data_start < e.size) {
      return BadZip(
          source, absl::StrCat("the data of entry '", e.name,
                               "' runs past the end of the file (truncated?)"));
    }
    const absl::string_view data = bytes.substr(data_start, e.size);
    if (internal::Crc32(data) != e.crc) {
      return absl::DataLossError(
          absl::StrCat(what, " fails its CRC-32 check (the file is corrupt)"));
    }
    std::string key = e.name;
    if (key.size() > 4 && key.compare(key.size() - 4, 4, ".npy") == 0) {
      key.resize(key.size() - 4);
    }
    if (out.count(key) > 0) {
      return BadZip(source, absl::StrCat("key '", key, "' appears twice"));
    }
    QFORGE_ASSIGN_OR_RETURN(Tensor t, ParseNpy(data, what));
    out.emplace(std::move(key), std::move(t));
  }
  return out;
}

absl::StatusOr<NpzContents> ReadNpz(absl::string_view path) {
  std::string bytes;
  QFORGE_RETURN_IF_ERROR(internal::ReadFileToString(path, &bytes));
  return ParseNpz(bytes, path);
}

absl::StatusOr<std::string> SerializeNpz(const NpzContents& tensors) {
  std::vector<PendingEntry> entries;
  for (const auto& [key, tensor] : tensors) {
    if (key.empty() || key.find('/') != std::string::npos ||
        key.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid .npz key '", key,
                       "': keys must be non-empty and "
                       "contain no '/'"));
    }
    PendingEntry e;
    e.name = key + ".npy";
    if (e.name.size() > 0xFFFF) {
      return absl::InvalidArgumentError(
          absl::StrCat(".npz key is too long: ", key.size(), " bytes"));
    }
    QFORGE_ASSIGN_OR_RETURN(e.data, SerializeNpy(tensor));
    e.crc = internal::Crc32(e.data);
    e.size = e.data.size();
    entries.push_back(std::move(e));
  }
  std::string out;
  // Local headers and data. An entry gets a zip64 extra field when its size
  // or offset does not fit in 32 bits.
  for (PendingEntry& e : entries) {
    e.offset = out.size();
    const bool big = e.data.size() >= 0xFFFFFFFFu;
    PutLe32(out, kLocalSig);
    PutLe16(out, big ? 45 : 20);  // Version needed.
    PutLe16(out, 0);              // Flags.
    PutLe16(out, 0);              // Stored.
    PutLe16(out, 0);              // Time.
    PutLe16(out, kDosDate);
    PutLe32(out, e.crc);
    PutLe32(out, big ? 0xFFFFFFFFu : static_cast<uint32_t>(e.data.size()));
    PutLe32(out, big ? 0xFFFFFFFFu : static_cast<uint32_t>(e.data.size()));
    PutLe16(out, static_cast<uint16_t>(e.name.size()));
    PutLe16(out, big ? 20 : 0);
    out += e.name;
    if (big) {
      PutLe16(out, 0x0001);
      PutLe16(out, 16);
      PutLe64(out, e.data.size());
      PutLe64(out, e.data.size());
    }
    out += e.data;
    e.data.clear();
    e.data.shrink_to_fit();
  }
  // Central directory.
  const uint64_t cd_offset = out.size();
  for (size_t i = 0; i < entries.size(); ++i) {
    const PendingEntry& e = entries[i];
    const uint64_t size = e.size;
    const bool big_size = size >= 0xFFFFFFFFu;
    const bool big_offset = e.offset >= 0xFFFFFFFFu;
    std::string extra;
    if (big_size || big_offset) {
      std::string fields;
      if (big_size) {
        PutLe64(fields, size);
        PutLe64(fields, size);
      }
      if (big_offset) PutLe64(fields, e.offset);
      PutLe16(extra, 0x0001);
      PutLe16(extra, static_cast<uint16_t>(fields.size()));
      extra += fields;
    }
    PutLe32(out, kCentralSig);
    PutLe16(out, 45);  // Version made by.
    PutLe16(out, (big_size || big_offset) ? 45 : 20);
    PutLe16(out, 0);
    PutLe16(out, 0);
    PutLe16(out, 0);
    PutLe16(out, kDosDate);
    PutLe32(out, e.crc);
    PutLe32(out, big_size ? 0xFFFFFFFFu : static_cast<uint32_t>(size));
    PutLe32(out, big_size ? 0xFFFFFFFFu : static_cast<uint32_t>(size));
    PutLe16(out, static_cast<uint16_t>(e.name.size()));
    PutLe16(out, static_cast<uint16_t>(extra.size()));
    PutLe16(out, 0);  // Comment.
    PutLe16(out, 0);  // Disk.
    PutLe16(out, 0);  // Internal attributes.
    PutLe32(out, 0);  // External attributes.
    PutLe32(out, big_offset ? 0xFFFFFFFFu : static_cast<uint32_t>(e.offset));
    out += e.name;
    out += extra;
  }
  const uint64_t cd_size = out.size() - cd_offset;
  const bool zip64 = entries.size() >= 0xFFFF || cd_offset >= 0xFFFFFFFFu ||
                     cd_size >= 0xFFFFFFFFu;
  if (zip64) {
    const uint64_t z64_offset = out.size();
    PutLe32(out, kZip64EndSig);
    PutLe64(out, 44);  // Size of the rest of this record.
    PutLe16(out, 45);
    PutLe16(out, 45);
    PutLe32(out, 0);
    PutLe32(out, 0);
    PutLe64(out, entries.size());
    PutLe64(out, entries.size());
    PutLe64(out, cd_size);
    PutLe64(out, cd_offset);
    PutLe32(out, kZip64LocatorSig);
    PutLe32(out, 0);
    PutLe64(out, z64_offset);
    PutLe32(out, 1);
  }
  PutLe32(out, kEndSig);
  PutLe16(out, 0);
  PutLe16(out, 0);
  const uint16_t count16 =
      zip64 ? 0xFFFF : static_cast<uint16_t>(entries.size());
  PutLe16(out, count16);
  PutLe16(out, count16);
  PutLe32(out, zip64 ? 0xFFFFFFFFu : static_cast<uint32_t>(cd_size));
  PutLe32(out, zip64 ? 0xFFFFFFFFu : static_cast<uint32_t>(cd_offset));
  PutLe16(out, 0);
  return out;
}

absl::Status WriteNpz(absl::string_view path, const NpzContents& tensors) {
  QFORGE_ASSIGN_OR_RETURN(const std::string bytes, SerializeNpz(tensors));
  return internal::WriteFileAtomically(path, bytes);
}

}  // namespace qforge
