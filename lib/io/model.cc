#include "qforge/io/model.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "qforge/core/status.h"
#include "qforge/io/onnx.h"
#include "qforge/io/tflite.h"

namespace qforge {

absl::StatusOr<ModelFormat> ModelFormatFromPath(absl::string_view path) {
  const std::string lower = absl::AsciiStrToLower(path);
  if (absl::EndsWith(lower, ".onnx")) return ModelFormat::kOnnx;
  if (absl::EndsWith(lower, ".tflite")) return ModelFormat::kTflite;
  return absl::InvalidArgumentError(
      absl::StrCat("cannot tell the model format of '", path,
                   "': expected a file name ending in .onnx or .tflite"));
}

absl::StatusOr<Graph> LoadModel(absl::string_view path,
                                const Registry& registry) {
  QFORGE_ASSIGN_OR_RETURN(const ModelFormat format, ModelFormatFromPath(path));
  switch (format) {
    case ModelFormat::kOnnx:
      return LoadOnnx(path, registry);
    case ModelFormat::kTflite:
      return LoadTflite(path, registry);
  }
  return absl::InternalError("unreachable");
}

absl::Status SaveModel(const Graph& graph, absl::string_view path) {
  QFORGE_ASSIGN_OR_RETURN(const ModelFormat format, ModelFormatFromPath(path));
  switch (format) {
    case ModelFormat::kOnnx:
      return SaveOnnx(graph, path);
    case ModelFormat::kTflite:
      return SaveTflite(graph, path);
  }
  return absl::InternalError("unreachable");
}

}  // namespace qforge
