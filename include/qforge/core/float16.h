// IEEE 754 binary16 conversion.
//
// Conversions are exact where the value is representable; float to half
// rounds to nearest, ties to even, and overflows to infinity.
#ifndef QFORGE_CORE_FLOAT16_H_
#define QFORGE_CORE_FLOAT16_H_

#include <cstdint>

#include "qforge/core/export.h"

namespace qforge {

// Storage for one binary16 element; tensors of DataType::kFloat16 hold these.
struct Half {
  uint16_t bits = 0;
};

QFORGE_EXPORT float HalfToFloat(uint16_t half);
QFORGE_EXPORT uint16_t FloatToHalf(float value);

}  // namespace qforge

#endif  // QFORGE_CORE_FLOAT16_H_
