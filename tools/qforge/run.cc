// qforge run MODEL --input NAME=FILE.npy ... --output-dir DIR
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "args.h"
#include "commands.h"
#include "qforge/core/status.h"
#include "qforge/io/model.h"
#include "qforge/io/npy.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"

namespace qforge::cli {
namespace {

// mkdir -p.
absl::Status MakeDirectories(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("empty --output-dir");
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    const size_t slash = path.find('/', pos + 1);
    partial = path.substr(0, slash);
    pos = slash;
    if (partial.empty() || partial == "/") continue;
    struct stat st;
    if (::stat(partial.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return absl::FailedPreconditionError(
            absl::StrCat("cannot create output directory '", path, "': '",
                         partial, "' is not a directory"));
      }
      continue;
    }
    if (::mkdir(partial.c_str(), 0777) != 0 && errno != EEXIST) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create output directory '", partial,
                       "': ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

std::string DescribeInputs(const Graph& graph) {
  std::vector<std::string> items;
  for (const Value* v : graph.inputs()) {
    items.push_back(absl::StrCat(v->name(), " (", DataTypeName(v->dtype()),
                                 v->shape().ToString(), ")"));
  }
  return items.empty() ? std::string("none") : absl::StrJoin(items, ", ");
}

}  // namespace

std::string SanitizeFileName(absl::string_view name) {
  std::string out;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    out.push_back(ok ? c : '_');
  }
  if (out.empty()) out = "_";
  return out;
}

absl::Status Run(const std::vector<std::string>& args) {
  std::string model_path;
  std::vector<std::string> input_args;
  std::string output_dir;
  ArgParser parser(
      "qforge run",
      "Runs MODEL on the float reference kernels. Each graph input is read "
      "from "
      "a .npy file;\neach graph output is written to DIR/<name>.npy, with "
      "every "
      "character of the name outside\n[A-Za-z0-9._-] replaced by '_'. DIR is "
      "created if needed.");
  parser.AddPositional("MODEL", "model file (.onnx)", &model_path);
  parser.AddRepeated("input", "NAME=FILE.npy",
                     "graph input NAME read from FILE.npy (repeat per input; "
                     "NAME= may be left out when the model has one input)",
                     &input_args);
  parser.AddOption("output-dir", "DIR", "folder for the output .npy files",
                   &output_dir, /*required=*/true);
  std::vector<std::string> plugins;
  AddPluginOption(parser, &plugins);
  QFORGE_RETURN_IF_ERROR(parser.Parse(args));
  if (parser.help_requested()) {
    std::cout << parser.Help();
    return absl::OkStatus();
  }

  Registry registry;
  QFORGE_RETURN_IF_ERROR(FillRegistry(plugins, registry));
  QFORGE_ASSIGN_OR_RETURN(Graph graph, LoadModel(model_path, registry));
  // A quantized graph runs NHWC whatever its layout: Executor::Prepare
  // converts it (docs/int8_kernels.md).

  TensorMap inputs;
  for (const std::string& arg : input_args) {
    std::string name;
    std::string file;
    const size_t eq = arg.find('=');
    if (eq == std::string::npos) {
      if (graph.inputs().size() != 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--input '", arg, "' must be NAME=FILE.npy: the model has inputs ",
            DescribeInputs(graph)));
      }
      name = graph.inputs()[0]->name();
      file = arg;
    } else {
      name = arg.substr(0, eq);
      file = arg.substr(eq + 1);
    }
    const Value* value = graph.FindValue(name);
    if (value == nullptr || !value->is_graph_input()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--input names '", name,
                       "', which is not a graph input; the model's "
                       "inputs are ",
                       DescribeInputs(graph)));
    }
    if (inputs.count(name) > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--input '", name, "' is given twice"));
    }
    QFORGE_ASSIGN_OR_RETURN(Tensor tensor, ReadNpy(file));
    inputs.emplace(name, std::move(tensor));
  }
  for (const Value* v : graph.inputs()) {
    if (inputs.count(v->name()) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("missing --input for graph input '", v->name(), "' (",
                       DataTypeName(v->dtype()), v->shape().ToString(), ")"));
    }
  }

  // Output files, checked for name clashes before anything runs.
  std::map<std::string, std::string> file_of;   // value name -> file name
  std::map<std::string, std::string> value_of;  // file name -> value name
  for (const Value* v : graph.outputs()) {
    if (file_of.count(v->name()) > 0) continue;  // Listed twice.
    const std::string file = SanitizeFileName(v->name()) + ".npy";
    auto [it, inserted] = value_of.emplace(file, v->name());
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("graph outputs '", it->second, "' and '", v->name(),
                       "' would both be written to ", file));
    }
    file_of[v->name()] = file;
  }

  QFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Executor> executor,
                          Executor::Prepare(graph, registry));
  QFORGE_ASSIGN_OR_RETURN(TensorMap outputs, executor->Run(inputs));
  QFORGE_RETURN_IF_ERROR(MakeDirectories(output_dir));
  for (const auto& [name, file] : file_of) {
    auto it = outputs.find(name);
    if (it == outputs.end()) {
      return absl::InternalError(
          absl::StrCat("the run produced no value for output '", name, "'"));
    }
    const std::string path = absl::StrCat(output_dir, "/", file);
    QFORGE_RETURN_IF_ERROR(WriteNpy(path, it->second));
    std::cout << name << ": " << it->second.DebugString() << " -> " << path
              << "\n";
  }
  return absl::OkStatus();
}

}  // namespace qforge::cli
