// Node attributes.
//
// An Attribute holds one of the ONNX attribute kinds the IR carries: int,
// float, string, tensor, and lists of ints, floats and strings. Attributes of
// unknown (custom) ops are kept verbatim so that export writes them back.
#ifndef QFORGE_IR_ATTRIBUTE_H_
#define QFORGE_IR_ATTRIBUTE_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "qforge/core/export.h"
#include "qforge/core/tensor.h"

namespace qforge {

using Attribute =
    std::variant<int64_t, float, std::string, Tensor, std::vector<int64_t>,
                 std::vector<float>, std::vector<std::string>>;

// "int", "float", "string", "tensor", "ints", "floats", "strings".
QFORGE_EXPORT const char* AttributeKindName(const Attribute& attr);

}  // namespace qforge

#endif  // QFORGE_IR_ATTRIBUTE_H_
