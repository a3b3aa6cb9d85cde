#include <string>

#include "core/json_string.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "qforge/quantize/quantize.h"

namespace qforge {
namespace {

using ::qforge::internal::JsonString;

}  // namespace

int QuantizeReport::num_quantized() const {
  int n = 0;
  for (const NodeEntry& e : nodes) n += e.quantized ? 1 : 0;
  return n;
}

int QuantizeReport::num_float() const {
  return static_cast<int>(nodes.size()) - num_quantized();
}

std::string QuantizeReport::ToString() const {
  std::string s = absl::StrCat("quantized ", num_quantized(), " of ", nodes.size(),
                               " nodes; ", num_float(), " kept float\n");
  absl::StrAppend(&s, "parameters: ", float_parameter_bytes, " bytes float -> ",
                  quantized_parameter_bytes, " bytes quantized\n");
  absl::StrAppend(&s, "calibration samples: ", num_calibration_samples, "\n");
  for (const NodeEntry& e : nodes) {
    if (!e.quantized) absl::StrAppend(&s, "  float  ", e.node, " (", e.op, "): ", e.reason, "\n");
  }
  for (const NodeEntry& e : nodes) {
    if (e.quantized && !e.reason.empty()) {
      absl::StrAppend(&s, "  note   ", e.node, " (", e.op, "): ", e.reason, "\n");
    }
  }
  for (const std::string& w : warnings) absl::StrAppend(&s, "warning: ", w, "\n");
  return s;
}

std::string QuantizeReport::ToJson() const {
  std::vector<std::string> entries;
  for (const NodeEntry& e : nodes) {
    std::vector<std::string> origins;
    for (const std::string& o : e.origins) origins.push_back(JsonString(o));
    entries.push_back(absl::StrCat(
        "{\"node\":", JsonString(e.node), ",\"op\":", JsonString(e.op),
        ",\"quantized\":", e.quantized ? "true" : "false", ",\"reason\":", JsonString(e.reason),
        ",\"origins\":[", absl::StrJoin(origins, ","), "]}"));
  }
  std::vector<std::string> warns;
  for (const std::string& w : warnings) warns.push_back(JsonString(w));
  return absl::StrCat("{\"num_quantized\":", num_quantized(), ",\"num_float\":", num_float(),
                      ",\"float_parameter_bytes\":", float_parameter_bytes,
                      ",\"quantized_parameter_bytes\":", quantized_parameter_bytes,
                      ",\"num_calibration_samples\":", num_calibration_samples,
                      ",\"nodes\":[", absl::StrJoin(entries, ","), "],\"warnings\":[",
                      absl::StrJoin(warns, ","), "]}");
}

}  // namespace qforge
