// com.example::Square, y = x * x: an op qforge does not know, added by a
// plugin (schema, float kernel, int8 kernel, quantizer).
#ifndef SQUARE_OP_H_
#define SQUARE_OP_H_

#include "absl/status/status.h"
#include "qforge/plugin.h"
#include "qforge/registry.h"

namespace example {

inline constexpr char kDomain[] = "com.example";
inline constexpr char kSquare[] = "Square";

absl::Status RegisterSquare(qforge::Registry& registry);
const qforge::PluginDescriptor& SquarePlugin();

}  // namespace example

#endif  // SQUARE_OP_H_
