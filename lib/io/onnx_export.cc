// Graph -> ONNX ModelProto.
#include "absl/strings/str_cat.h"
#include "qforge/io/onnx.h"

namespace qforge {

absl::StatusOr<std::string> SaveOnnxToBytes(const Graph& graph) {
  return absl::UnimplementedError("ONNX export is not built yet");
}

absl::Status SaveOnnx(const Graph& graph, absl::string_view path) {
  return absl::UnimplementedError(
      absl::StrCat("cannot write '", path, "': ONNX export is not built yet"));
}

}  // namespace qforge
