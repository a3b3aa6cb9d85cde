// File helpers shared by every reader and exporter.
//
// WriteFileAtomically writes to a temporary file in the destination's
// directory and renames it over the destination only once everything was
// written and flushed, so a failed export never leaves a partial file behind
// (and an existing file stays intact). ReadFileToString reads a whole file
// with an upper bound on its size.
#ifndef QFORGE_LIB_IO_ATOMIC_FILE_H_
#define QFORGE_LIB_IO_ATOMIC_FILE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace qforge::internal {

// Writes `contents` to `path` atomically (temp file + fsync + rename).
// On any error the temp file is removed and `path` is unchanged.
absl::Status WriteFileAtomically(absl::string_view path,
                                 absl::string_view contents);

// Streaming form: `write` is called with a sink that appends bytes; if it
// returns an error, nothing is left behind and that error is returned.
using ByteSink = std::function<absl::Status(absl::string_view bytes)>;
absl::Status WriteFileAtomically(
    absl::string_view path,
    const std::function<absl::Status(const ByteSink& sink)>& write);

// Reads the file at `path`. NotFound when it does not exist, PermissionDenied
// when it cannot be opened, FailedPrecondition for a directory, DataLoss on a
// read error, OutOfRange when it is larger than `max_bytes`.
absl::Status ReadFileToString(absl::string_view path, std::string* contents,
                              int64_t max_bytes = int64_t{1} << 40);

}  // namespace qforge::internal

#endif  // QFORGE_LIB_IO_ATOMIC_FILE_H_
