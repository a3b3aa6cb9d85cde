// --plugin PATH: the plugins a command loads into its registry.
#include "absl/strings/str_cat.h"
#include "commands.h"
#include "qforge/core/status.h"
#include "qforge/plugin.h"

namespace qforge::cli {

void AddPluginOption(ArgParser& parser, std::vector<std::string>* plugins) {
  parser.AddRepeated("plugin", "PATH",
                     "load a plugin (shared library, e.g. "
                     "libqforge_anchor_boxes.so) before loading the model; "
                     "repeatable",
                     plugins);
}

absl::Status FillRegistry(const std::vector<std::string>& plugins,
                          Registry& registry) {
  QFORGE_RETURN_IF_ERROR(RegisterBuiltins(registry));
  for (const std::string& path : plugins) {
    QFORGE_RETURN_IF_ERROR(LoadPlugin(path, registry).status());
  }
  return absl::OkStatus();
}

}  // namespace qforge::cli
