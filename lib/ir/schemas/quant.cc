// Schemas of QuantizeLinear and DequantizeLinear (ONNX opsets 10 and 13).
//
// The scale (float32) and the optional zero point are scalars for
// per-tensor quantization, or 1-D tensors of the size of dimension `axis`
// (opset 13, default 1) of the input for per-axis quantization. A 1-D scale
// of one element counts as per-tensor. QuantizeLinear's output type is the
// zero point's (int8 or uint8), uint8 without one.
#include <vector>

#include "absl/strings/str_cat.h"
#include "ir/schema_util.h"
#include "ir/schemas/groups.h"
#include "qforge/core/status.h"

namespace qforge::internal {
namespace {

// Checks the shapes of scale (input 1) and zero point (input 2) against the
// input (input 0) and `axis`.
absl::Status CheckScaleAndZeroPoint(const InferenceContext& ctx) {
  QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, 1, {DataType::kFloat32}));
  QFORGE_ASSIGN_OR_RETURN(int64_t axis_attr, ctx.node().GetInt("axis", 1));
  const Shape& scale = ctx.input_shape(1);
  if (scale.rank_known() && scale.rank() > 1) {
    return ctx.Error(absl::StrCat("scale '", ctx.input_name(1),
                                  "' must be a scalar or 1-D, got shape ",
                                  scale.ToString()));
  }
  if (ctx.has_input(2)) {
    const Shape& zp = ctx.input_shape(2);
    if (scale.is_static() && zp.is_static() &&
        scale.num_elements() != zp.num_elements()) {
      return ctx.Error(absl::StrCat(
          "zero point '", ctx.input_name(2), "' has shape ", zp.ToString(),
          " but scale '", ctx.input_name(1), "' has shape ", scale.ToString()));
    }
  }
  const Shape& x = ctx.input_shape(0);
  // Per-axis: a 1-D scale of more than one element.
  if (scale.rank_known() && scale.rank() == 1 && scale.dim(0).is_static() &&
      scale.dim(0).value != 1 && x.rank_known()) {
    if (x.rank() == 0) {
      return ctx.Error("a per-axis scale needs an input of rank >= 1");
    }
    QFORGE_ASSIGN_OR_RETURN(int axis, NormalizeAxis(ctx, axis_attr, x.rank()));
    const Dim& d = x.dim(axis);
    if (d.is_static() && d.value != scale.dim(0).value) {
      return ctx.Error(absl::StrCat("scale '", ctx.input_name(1), "' has ",
                                    scale.dim(0).value, " values but axis ",
                                    axis, " of the input ", x.ToString(),
                                    " has size ", d.value));
    }
  }
  return absl::OkStatus();
}

absl::Status InferQuantizeLinear(InferenceContext& ctx) {
  QFORGE_RETURN_IF_ERROR(
      RequireDtypeIn(ctx, 0, {DataType::kFloat32, DataType::kInt32}));
  QFORGE_RETURN_IF_ERROR(
      RequireDtypeIn(ctx, 2, {DataType::kInt8, DataType::kUint8}));
  QFORGE_RETURN_IF_ERROR(CheckScaleAndZeroPoint(ctx));
  DataType out = DataType::kUint8;
  if (ctx.has_input(2) && ctx.input_dtype(2) != DataType::kUndefined) {
    out = ctx.input_dtype(2);
  }
  ctx.set_output(0, out, ctx.input_shape(0));
  return absl::OkStatus();
}

absl::Status InferDequantizeLinear(InferenceContext& ctx) {
  QFORGE_RETURN_IF_ERROR(RequireDtypeIn(
      ctx, 0, {DataType::kInt8, DataType::kUint8, DataType::kInt32}));
  QFORGE_RETURN_IF_ERROR(RequireSameDtype(ctx, {0, 2}));
  QFORGE_RETURN_IF_ERROR(CheckScaleAndZeroPoint(ctx));
  ctx.set_output(0, DataType::kFloat32, ctx.input_shape(0));
  return absl::OkStatus();
}

}  // namespace

absl::Status RegisterQuantSchemas(OpSchemaTable& table) {
  QFORGE_RETURN_IF_ERROR(table.Register(
      OpSchema{.key = {"", "QuantizeLinear"},
               .since_version = 10,
               .min_inputs = 2,
               .max_inputs = 3,
               .infer = InferQuantizeLinear,
               .doc = "saturate(round_half_even(x / scale) + zero_point)"}));
  QFORGE_RETURN_IF_ERROR(
      table.Register(OpSchema{.key = {"", "DequantizeLinear"},
                              .since_version = 10,
                              .min_inputs = 2,
                              .max_inputs = 3,
                              .infer = InferDequantizeLinear,
                              .doc = "(x - zero_point) * scale as float32"}));
  return absl::OkStatus();
}

}  // namespace qforge::internal
