// Building blocks for op schemas' inference functions.
#ifndef QFORGE_LIB_IR_SCHEMA_UTIL_H_
#define QFORGE_LIB_IR_SCHEMA_UTIL_H_

#include <initializer_list>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "qforge/ir/op_schema.h"

namespace qforge::internal {

// Numpy-style multidirectional broadcast of two shapes. Unknown dims stay
// unknown; static dims that differ and are not 1 are an error.
absl::StatusOr<Shape> BroadcastShapes(const Shape& a, const Shape& b);

// Error unless every present input in `inputs` has the same dtype. The
// message names both tensors and their dtypes, and for a quantized integer
// type meeting a float type suggests the missing DequantizeLinear.
absl::Status RequireSameDtype(const InferenceContext& ctx,
                              std::initializer_list<int> inputs);

// Error unless input i's dtype (when known) is one of `allowed`.
absl::Status RequireDtypeIn(const InferenceContext& ctx, int i,
                            std::initializer_list<DataType> allowed);

// The float types most ops accept.
inline constexpr std::initializer_list<DataType> kFloatTypes = {
    DataType::kFloat32, DataType::kFloat64, DataType::kFloat16};

// Every numeric type the IR carries (not bool).
inline constexpr std::initializer_list<DataType> kNumericTypes = {
    DataType::kFloat32, DataType::kFloat64, DataType::kFloat16,
    DataType::kInt8,    DataType::kUint8,   DataType::kInt16,
    DataType::kUint16,  DataType::kInt32,   DataType::kInt64};

// Output 0 gets input `i`'s dtype and shape.
absl::Status InferSameAsInput(InferenceContext& ctx, int i = 0);

// Normalizes a possibly negative axis against `rank`; error when out of range.
absl::StatusOr<int> NormalizeAxis(const InferenceContext& ctx, int64_t axis,
                                  int rank);

}  // namespace qforge::internal

#endif  // QFORGE_LIB_IR_SCHEMA_UTIL_H_
