// The qforge tool's commands. Each takes its arguments (after the command
// name), prints its results to stdout and returns an error status on any
// failure; main() turns that into "qforge: error: ..." and exit code 1.
#ifndef QFORGE_TOOLS_QFORGE_COMMANDS_H_
#define QFORGE_TOOLS_QFORGE_COMMANDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "args.h"
#include "qforge/registry.h"

namespace qforge::cli {

struct Command {
  const char* name;
  const char* summary;
  absl::Status (*run)(const std::vector<std::string>& args);
};

absl::Status Inspect(const std::vector<std::string>& args);
absl::Status Run(const std::vector<std::string>& args);
absl::Status Calibrate(const std::vector<std::string>& args);
absl::Status Quantize(const std::vector<std::string>& args);
absl::Status Compare(const std::vector<std::string>& args);
absl::Status Bench(const std::vector<std::string>& args);

// Adds the repeatable --plugin PATH option to a command that takes a model.
void AddPluginOption(ArgParser& parser, std::vector<std::string>* plugins);

// Fills `registry` with the built-ins, then loads each plugin in order
// (qforge::LoadPlugin). Errors name the plugin file.
absl::Status FillRegistry(const std::vector<std::string>& plugins,
                          Registry& registry);

// Replaces every character outside [A-Za-z0-9._-] with '_' (an empty name
// becomes "_"), so that a value name can be used as a file name.
std::string SanitizeFileName(absl::string_view name);

}  // namespace qforge::cli

#endif  // QFORGE_TOOLS_QFORGE_COMMANDS_H_
