// For the anchor_boxes tests: a node's attributes as one line of text, so a
// node can be compared before and after a round trip.
#ifndef QFORGE_PLUGINS_ANCHOR_BOXES_ATTRIBUTES_TEXT_H_
#define QFORGE_PLUGINS_ANCHOR_BOXES_ATTRIBUTES_TEXT_H_

#include <string>
#include <type_traits>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "qforge/ir/graph.h"

namespace qforge::contrib {

// "name=value;" per attribute in name order; lists as "[a,b]", tensors as
// "tensor".
inline std::string AttributesText(const Node& node) {
  std::string s;
  for (const auto& [name, value] : node.attributes()) {
    absl::StrAppend(&s, name, "=");
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, int64_t> ||
                        std::is_same_v<T, float> ||
                        std::is_same_v<T, std::string>) {
            absl::StrAppend(&s, v);
          } else if constexpr (std::is_same_v<T, Tensor>) {
            absl::StrAppend(&s, "tensor");
          } else {
            absl::StrAppend(&s, "[", absl::StrJoin(v, ","), "]");
          }
        },
        value);
    absl::StrAppend(&s, ";");
  }
  return s;
}

}  // namespace qforge::contrib

#endif  // QFORGE_PLUGINS_ANCHOR_BOXES_ATTRIBUTES_TEXT_H_
