// Loading and saving models by file name.
//
// LoadModel and SaveModel pick the format from the file extension:
// ".onnx" for ONNX, ".tflite" for TFLite. They are the entry points the CLI
// and most applications use; the format-specific functions live in
// qforge/io/onnx.h (and the TFLite header once it exists).
#ifndef QFORGE_IO_MODEL_H_
#define QFORGE_IO_MODEL_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "qforge/core/export.h"
#include "qforge/ir/graph.h"
#include "qforge/registry.h"

namespace qforge {

// Model file formats qforge knows.
enum class ModelFormat { kOnnx, kTflite };

// The format of `path` by extension (case-insensitive); InvalidArgument for
// an unknown extension.
QFORGE_EXPORT absl::StatusOr<ModelFormat> ModelFormatFromPath(
    absl::string_view path);

// Loads the model at `path` (format by extension) and verifies it.
QFORGE_EXPORT absl::StatusOr<Graph> LoadModel(absl::string_view path,
                                              const Registry& registry);

// Saves `graph` to `path` (format by extension), atomically.
QFORGE_EXPORT absl::Status SaveModel(const Graph& graph,
                                     absl::string_view path);

}  // namespace qforge

#endif  // QFORGE_IO_MODEL_H_
