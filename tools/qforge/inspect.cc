// qforge inspect MODEL [--json]
// qforge inspect --quantizers
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "core/json_string.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "args.h"
#include "commands.h"
#include "qforge/core/status.h"
#include "qforge/io/model.h"
#include "qforge/registry.h"

namespace qforge::cli {
namespace {

using ::qforge::internal::JsonString;

std::string JsonShape(const Shape& shape) {
  if (!shape.rank_known()) return "null";
  std::vector<std::string> dims;
  for (const Dim& d : shape.dims()) {
    if (d.is_static()) {
      dims.push_back(absl::StrCat(d.value));
    } else if (!d.symbol.empty()) {
      dims.push_back(JsonString(d.symbol));
    } else {
      dims.push_back("null");
    }
  }
  return absl::StrCat("[", absl::StrJoin(dims, ", "), "]");
}

std::string TypeText(const Value& v) {
  return absl::StrCat(DataTypeName(v.dtype()), v.shape().ToString());
}

struct OpCount {
  std::string domain;
  std::string op_type;
  int count = 0;
  bool known = true;
};

}  // namespace

absl::Status Inspect(const std::vector<std::string>& args) {
  std::string model_path;
  bool json = false;
  bool quantizers = false;
  std::vector<std::string> plugins;
  // "qforge inspect --quantizers" needs no model.
  for (const std::string& a : args) {
    if (a == "--") break;
    if (a != "--quantizers") continue;
    ArgParser q("qforge inspect --quantizers",
                "Lists the ops the quantizer registry knows, with their opset "
                "ranges.");
    q.AddFlag("quantizers", "list the registry's quantizers", &quantizers);
    AddPluginOption(q, &plugins);
    QFORGE_RETURN_IF_ERROR(q.Parse(args));
    if (q.help_requested()) {
      std::cout << q.Help();
      return absl::OkStatus();
    }
    Registry registry;
    QFORGE_RETURN_IF_ERROR(FillRegistry(plugins, registry));
    const std::vector<std::string> list = registry.quantizers().List();
    std::cout << list.size() << " quantizers:\n";
    for (const std::string& item : list) std::cout << "  " << item << "\n";
    return absl::OkStatus();
  }
  ArgParser parser(
      "qforge inspect",
      "Loads MODEL and prints its ops (with counts), the dtype and "
      "shape of each input and output,\nthe number of constants and "
      "their size in bytes. Ops qforge has no schema for are listed\n"
      "as \"unknown (kept opaque)\".");
  parser.AddPositional("MODEL", "model file (.onnx)", &model_path);
  parser.AddFlag("json", "print the report as JSON", &json);
  parser.AddFlag("quantizers",
                 "list the registry's quantizers instead (no MODEL)",
                 &quantizers);
  AddPluginOption(parser, &plugins);
  QFORGE_RETURN_IF_ERROR(parser.Parse(args));
  if (parser.help_requested()) {
    std::cout << parser.Help();
    return absl::OkStatus();
  }

  Registry registry;
  QFORGE_RETURN_IF_ERROR(FillRegistry(plugins, registry));
  QFORGE_ASSIGN_OR_RETURN(Graph graph, LoadModel(model_path, registry));

  // Ops in first-seen order, with counts.
  std::vector<OpCount> ops;
  std::map<std::pair<std::string, std::string>, size_t> index;
  const int64_t default_opset = graph.onnx_opset();
  for (const Node* node : graph.nodes()) {
    const OpKey key = OpKey::Of(*node);
    auto [it, inserted] =
        index.emplace(std::make_pair(key.domain, key.op_type), ops.size());
    if (inserted) {
      const int64_t opset = key.domain.empty()
                                ? default_opset
                                : (graph.opsets().count(key.domain)
                                       ? graph.opsets().at(key.domain)
                                       : 0);
      const bool known = registry.schemas().Find(key, opset) != nullptr ||
                         registry.schemas().Find(key) != nullptr;
      ops.push_back({key.domain, key.op_type, 0, known});
    }
    ++ops[it->second].count;
  }
  int64_t num_constants = 0;
  int64_t parameter_bytes = 0;
  for (const Value* v : graph.values()) {
    if (!v->is_constant()) continue;
    ++num_constants;
    parameter_bytes += static_cast<int64_t>(v->constant()->num_bytes());
  }
  auto op_name = [](const OpCount& op) {
    return op.domain.empty() ? op.op_type
                             : absl::StrCat(op.domain, "::", op.op_type);
  };

  if (json) {
    std::string out = "{\n";
    absl::StrAppend(&out, "  \"model\": ", JsonString(model_path), ",\n");
    absl::StrAppend(&out, "  \"graph\": ", JsonString(graph.name()), ",\n");
    std::vector<std::string> opsets;
    for (const auto& [domain, version] : graph.opsets()) {
      opsets.push_back(absl::StrCat(
          JsonString(domain.empty() ? "ai.onnx" : domain), ": ", version));
    }
    absl::StrAppend(&out, "  \"opsets\": {", absl::StrJoin(opsets, ", "),
                    "},\n");
    auto values = [&](const std::vector<Value*>& list) {
      std::vector<std::string> items;
      for (const Value* v : list) {
        items.push_back(
            absl::StrCat("{\"name\": ", JsonString(v->name()),
                         ", \"dtype\": ", JsonString(DataTypeName(v->dtype())),
                         ", \"shape\": ", JsonShape(v->shape()), "}"));
      }
      return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
    };
    absl::StrAppend(&out, "  \"inputs\": ", values(graph.inputs()), ",\n");
    absl::StrAppend(&out, "  \"outputs\": ", values(graph.outputs()), ",\n");
    absl::StrAppend(&out, "  \"num_nodes\": ", graph.num_nodes(), ",\n");
    std::vector<std::string> op_items;
    std::vector<std::string> unknown;
    for (const OpCount& op : ops) {
      op_items.push_back(absl::StrCat(
          "{\"op\": ", JsonString(op.op_type),
          ", \"domain\": ", JsonString(op.domain), ", \"count\": ", op.count,
          ", \"known\": ", op.known ? "true" : "false", "}"));
      if (!op.known) unknown.push_back(JsonString(op_name(op)));
    }
    absl::StrAppend(&out, "  \"ops\": [", absl::StrJoin(op_items, ", "),
                    "],\n");
    absl::StrAppend(&out, "  \"unknown_ops\": [", absl::StrJoin(unknown, ", "),
                    "],\n");
    absl::StrAppend(&out, "  \"num_constants\": ", num_constants, ",\n");
    absl::StrAppend(&out, "  \"parameter_bytes\": ", parameter_bytes, "\n}\n");
    std::cout << out;
    return absl::OkStatus();
  }

  std::string out;
  absl::StrAppend(&out, "model: ", model_path, "\n");
  if (!graph.name().empty())
    absl::StrAppend(&out, "graph: ", graph.name(), "\n");
  std::vector<std::string> opsets;
  for (const auto& [domain, version] : graph.opsets()) {
    opsets.push_back(
        absl::StrCat(domain.empty() ? "ai.onnx" : domain, " ", version));
  }
  absl::StrAppend(&out, "opsets: ", absl::StrJoin(opsets, ", "), "\n");
  absl::StrAppend(&out, "inputs:\n");
  for (const Value* v : graph.inputs()) {
    absl::StrAppend(&out, "  ", v->name(), ": ", TypeText(*v), "\n");
  }
  absl::StrAppend(&out, "outputs:\n");
  for (const Value* v : graph.outputs()) {
    absl::StrAppend(&out, "  ", v->name(), ": ", TypeText(*v), "\n");
  }
  absl::StrAppend(&out, "ops (", graph.num_nodes(),
                  graph.num_nodes() == 1 ? " node" : " nodes", "):\n");
  size_t width = 0;
  for (const OpCount& op : ops) width = std::max(width, op_name(op).size());
  for (const OpCount& op : ops) {
    absl::StrAppend(&out,
                    absl::StrFormat("  %-*s %5d", width, op_name(op), op.count),
                    op.known ? "" : "  unknown (kept opaque)", "\n");
  }
  absl::StrAppend(&out, "constants: ", num_constants, " (", parameter_bytes,
                  " parameter bytes)\n");
  std::cout << out;
  return absl::OkStatus();
}

}  // namespace qforge::cli
