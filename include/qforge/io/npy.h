// NumPy .npy and .npz files.
//
// ReadNpy / WriteNpy move one Tensor to and from NumPy's .npy format
// (format versions 1.0, 2.0 and 3.0 are read; 1.0 is written, or 2.0 when
// the header needs it). Element types: '<f4' float32, '<f8' float64,
// '<f2' float16, '|i1' int8, '|u1' uint8, '<i2' int16, '<u2' uint16,
// '<i4' int32, '<i8' int64, '|b1' bool. Data must be little-endian and in C
// order: big-endian data and fortran_order=True give Unimplemented (convert
// with numpy.ascontiguousarray(a.astype('<f4')) or similar).
//
// ReadNpz / WriteNpz handle numpy.savez archives: a zip file of .npy
// entries named "<key>.npy", stored uncompressed. Compressed entries
// (numpy.savez_compressed) give Unimplemented. Keys are the entry names
// without ".npy".
//
// Errors name the file: DataLoss for a malformed header, truncated data, a
// CRC mismatch or a broken zip directory; NotFound when the file is missing.
// Writes are atomic (temp file + rename): on error nothing is left behind.
#ifndef QFORGE_IO_NPY_H_
#define QFORGE_IO_NPY_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "qforge/core/export.h"
#include "qforge/core/tensor.h"

namespace qforge {

// --- .npy
// ---------------------------------------------------------------------

QFORGE_EXPORT absl::StatusOr<Tensor> ReadNpy(absl::string_view path);
// Parses .npy bytes; `source` names them in messages.
QFORGE_EXPORT absl::StatusOr<Tensor> ParseNpy(
    absl::string_view bytes, absl::string_view source = "<memory>");

QFORGE_EXPORT absl::Status WriteNpy(absl::string_view path,
                                    const Tensor& tensor);
// The .npy bytes of `tensor`; InvalidArgument for string/undefined tensors.
QFORGE_EXPORT absl::StatusOr<std::string> SerializeNpy(const Tensor& tensor);

// --- .npz
// ---------------------------------------------------------------------

// Tensors by key, as numpy.savez writes and numpy.load reads them.
using NpzContents = std::map<std::string, Tensor>;

QFORGE_EXPORT absl::StatusOr<NpzContents> ReadNpz(absl::string_view path);
QFORGE_EXPORT absl::StatusOr<NpzContents> ParseNpz(
    absl::string_view bytes, absl::string_view source = "<memory>");

// Writes one stored (uncompressed) "<key>.npy" entry per tensor. Keys must
// be non-empty and contain no '/' or '\0'.
QFORGE_EXPORT absl::Status WriteNpz(absl::string_view path,
                                    const NpzContents& tensors);
QFORGE_EXPORT absl::StatusOr<std::string> SerializeNpz(
    const NpzContents& tensors);

}  // namespace qforge

#endif  // QFORGE_IO_NPY_H_
