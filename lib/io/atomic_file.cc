#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace qforge::internal {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

absl::Status ErrnoStatus(int err, absl::string_view message) {
  const std::string text = absl::StrCat(message, ": ", ErrnoText(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(text);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(text);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(text);
    default:
      return absl::InternalError(text);
  }
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Closes the descriptor and removes the temp file unless released.
class TempFile {
 public:
  TempFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  absl::Status Close() {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0)
      return ErrnoStatus(errno, "cannot close temporary file");
    return absl::OkStatus();
  }
  void Release() { path_.clear(); }

 private:
  int fd_;
  std::string path_;
};

absl::Status WriteAll(int fd, absl::string_view bytes, absl::string_view path) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrCat("cannot write '", path, "'"));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFileAtomically(
    absl::string_view path,
    const std::function<absl::Status(const ByteSink& sink)>& write) {
  const std::string target(path);
  if (target.empty()) return absl::InvalidArgumentError("empty output path");
  struct stat st;
  if (::stat(target.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write '", target, "': it is a directory"));
  }
  const std::string dir = DirectoryOf(target);
  std::string pattern = absl::StrCat(target, ".tmp.XXXXXX");
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) {
    return ErrnoStatus(errno,
                       absl::StrCat("cannot create a temporary file in '", dir,
                                    "' to write '", target, "'"));
  }
  TempFile temp(fd, pattern);
  // mkstemp creates 0600; give the file the usual permissions (umask applies).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);

  const ByteSink sink = [&](absl::string_view bytes) {
    return WriteAll(temp.fd(), bytes, target);
  };
  absl::Status status = write(sink);
  if (!status.ok()) return status;
  if (::fsync(temp.fd()) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot flush '", target, "'"));
  }
  status = temp.Close();
  if (!status.ok()) return status;
  if (::rename(temp.path().c_str(), target.c_str()) != 0) {
    return ErrnoStatus(
        errno, absl::StrCat("cannot rename temporary file to '", target, "'"));
  }
  temp.Release();
  return absl::OkStatus();
}

absl::Status WriteFileAtomically(absl::string_view path,
                                 absl::string_view contents) {
  return WriteFileAtomically(
      path, [contents](const ByteSink& sink) { return sink(contents); });
}

absl::Status ReadFileToString(absl::string_view path, std::string* contents,
                              int64_t max_bytes) {
  const std::string p(path);
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot open '", p, "'"));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return ErrnoStatus(errno, absl::StrCat("cannot stat '", p, "'"));
  }
  if (S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read '", p, "': it is a directory"));
  }
  if (S_ISREG(st.st_mode) && st.st_size > max_bytes) {
    return absl::OutOfRangeError(absl::StrCat("'", p, "' has ", st.st_size,
                                              " bytes, more than the limit of ",
                                              max_bytes));
  }
  contents->clear();
  if (S_ISREG(st.st_mode)) contents->reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::DataLossError(
          absl::StrCat("cannot read '", p, "': ", ErrnoText(errno)));
    }
    if (n == 0) break;
    contents->append(buffer, static_cast<size_t>(n));
    if (static_cast<int64_t>(contents->size()) > max_bytes) {
      return absl::OutOfRangeError(absl::StrCat(
          "'", p, "' is larger than the limit of ", max_bytes, " bytes"));
    }
  }
  return absl::OkStatus();
}

}  // namespace qforge::internal
