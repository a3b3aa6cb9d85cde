#include "qforge/ir/attribute.h"

namespace qforge {

const char* AttributeKindName(const Attribute& attr) {
  static constexpr const char* kNames[] = {"int",  "float",  "string", "tensor",
                                           "ints", "floats", "strings"};
  return kNames[attr.index()];
}

}  // namespace qforge
