// Schemas of elementwise ops, activations, Softmax, Identity and Cast.
#include "ir/schema_util.h"
#include "ir/schemas/groups.h"
#include "qforge/core/status.h"

namespace qforge::internal {
namespace {

absl::Status InferBinaryBroadcast(InferenceContext& ctx) {
  QFORGE_RETURN_IF_ERROR(RequireSameDtype(ctx, {0, 1}));
  absl::StatusOr<Shape> shape =
      BroadcastShapes(ctx.input_shape(0), ctx.input_shape(1));
  if (!shape.ok()) return ctx.Error(shape.status().message());
  ctx.set_output(0, ctx.input_dtype(0), *std::move(shape));
  return absl::OkStatus();
}

absl::Status InferUnaryFloat(InferenceContext& ctx) {
  QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, 0, kFloatTypes));
  return InferSameAsInput(ctx);
}

OpSchema Binary(const char* op, const char* doc) {
  return OpSchema{.key = {"", op}, .min_inputs = 2, .max_inputs = 2,
                  .infer = InferBinaryBroadcast, .doc = doc};
}

OpSchema UnaryFloat(const char* op, const char* doc) {
  return OpSchema{.key = {"", op}, .min_inputs = 1, .max_inputs = 1,
                  .infer = InferUnaryFloat, .doc = doc};
}

}  // namespace

absl::Status RegisterElementwiseSchemas(OpSchemaTable& table) {
  QFORGE_RETURN_IF_ERROR(table.Register(Binary("Add", "A + B with broadcast")));
  QFORGE_RETURN_IF_ERROR(table.Register(UnaryFloat("Relu", "max(x, 0)")));
  return absl::OkStatus();
}

}  // namespace qforge::internal
