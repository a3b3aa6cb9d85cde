// Schemas of elementwise ops, activations, Softmax, Identity and Cast.
//
// One schema covers all the opsets of an op whose versions differ only in
// which types they accept or in attributes turning into inputs (Clip's
// min/max became inputs at opset 11; both forms are accepted). Softmax is
// the exception: opset 13 changed what it computes (see
// RegisterElementwiseSchemas), so it has one schema per semantics.
#include <algorithm>
#include <climits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ir/schema_util.h"
#include "ir/schemas/cast_target.h"
#include "ir/schemas/groups.h"
#include "qforge/core/status.h"

namespace qforge::internal {
namespace {

constexpr std::initializer_list<DataType> kNumericOrBoolTypes = {
    DataType::kFloat32, DataType::kFloat64, DataType::kFloat16,
    DataType::kInt8,    DataType::kUint8,   DataType::kInt16,
    DataType::kUint16,  DataType::kInt32,   DataType::kInt64,
    DataType::kBool};

// Pow's base (T); its exponent (T1) may be any numeric type.
constexpr std::initializer_list<DataType> kPowBaseTypes = {
    DataType::kFloat32, DataType::kFloat64, DataType::kFloat16,
    DataType::kInt32, DataType::kInt64};

// Relu-14 accepts the signed integer types besides floats.
constexpr std::initializer_list<DataType> kReluTypes = {
    DataType::kFloat32, DataType::kFloat64, DataType::kFloat16, DataType::kInt8,
    DataType::kInt16,   DataType::kInt32,   DataType::kInt64};

absl::Status SetBroadcastOutput(InferenceContext& ctx, DataType dtype) {
  absl::StatusOr<Shape> shape =
      BroadcastShapes(ctx.input_shape(0), ctx.input_shape(1));
  if (!shape.ok()) return ctx.Error(shape.status().message());
  ctx.set_output(0, dtype, *std::move(shape));
  return absl::OkStatus();
}

absl::Status InferArithmetic(InferenceContext& ctx) {
  QFORGE_RETURN_IF_ERROR(RequireSameDtype(ctx, {0, 1}));
  QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, 0, kNumericTypes));
  return SetBroadcastOutput(ctx, ctx.input_dtype(0));
}

absl::Status InferPow(InferenceContext& ctx) {
  QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, 0, kPowBaseTypes));
  QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, 1, kNumericTypes));
  return SetBroadcastOutput(ctx, ctx.input_dtype(0));
}

// Output 0 = input 0 after checking its dtype is one of `types`.
InferenceFunction SameAsInputOf(std::initializer_list<DataType> types) {
  std::vector<DataType> allowed(types);
  return [allowed](InferenceContext& ctx) -> absl::Status {
    const DataType t = ctx.input_dtype(0);
    if (t != DataType::kUndefined &&
        std::find(allowed.begin(), allowed.end(), t) == allowed.end()) {
      std::vector<absl::string_view> names;
      for (DataType a : allowed) names.push_back(DataTypeName(a));
      return ctx.Error(absl::StrCat("input 0 '", ctx.input_name(0), "' is ",
                                    DataTypeName(t), ", expected one of ",
                                    absl::StrJoin(names, ", ")));
    }
    return InferSameAsInput(ctx);
  };
}

// Float attributes, checked for their kind so that a malformed model fails
// at verification rather than when a kernel is created.
absl::Status CheckFloatAttributes(const InferenceContext& ctx,
                                  std::initializer_list<const char*> names) {
  for (const char* name : names) {
    QFORGE_RETURN_IF_ERROR(ctx.node().GetFloat(name, 0.0f).status());
  }
  return absl::OkStatus();
}

// A float unary op with float attributes `names`.
InferenceFunction FloatUnaryWithAttributes(
    std::initializer_list<const char*> names) {
  std::vector<const char*> attrs(names);
  InferenceFunction same = SameAsInputOf(kFloatTypes);
  return [attrs, same](InferenceContext& ctx) -> absl::Status {
    for (const char* name : attrs) {
      QFORGE_RETURN_IF_ERROR(ctx.node().GetFloat(name, 0.0f).status());
    }
    return same(ctx);
  };
}

// Gelu (opset 20): float input, attribute approximate = "none" | "tanh".
absl::Status InferGelu(InferenceContext& ctx) {
  QFORGE_ASSIGN_OR_RETURN(std::string approximate,
                          ctx.node().GetString("approximate", "none"));
  if (approximate != "none" && approximate != "tanh") {
    return ctx.Error(absl::StrCat("attribute approximate must be 'none' or ",
                                  "'tanh', got '", approximate, "'"));
  }
  return SameAsInputOf(kFloatTypes)(ctx);
}

absl::Status InferClip(InferenceContext& ctx) {
  QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, 0, kNumericTypes));
  QFORGE_RETURN_IF_ERROR(RequireSameDtype(ctx, {0, 1, 2}));
  QFORGE_RETURN_IF_ERROR(CheckFloatAttributes(ctx, {"min", "max"}));
  for (int i = 1; i <= 2; ++i) {
    if (!ctx.has_input(i)) continue;
    const Shape& s = ctx.input_shape(i);
    if (s.num_elements() > 1 || s.num_elements() == 0) {
      return ctx.Error(absl::StrCat(
          "input ", i, " '", ctx.input_name(i), "' (", i == 1 ? "min" : "max",
          ") must be a scalar, got shape ", s.ToString()));
    }
  }
  return InferSameAsInput(ctx);
}

// Softmax checks its axis against the input's rank; `default_axis` is 1
// before opset 13 and -1 from 13 on.
InferenceFunction InferSoftmax(int64_t default_axis) {
  return [default_axis](InferenceContext& ctx) -> absl::Status {
    QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, 0, kFloatTypes));
    QFORGE_ASSIGN_OR_RETURN(int64_t axis,
                            ctx.node().GetInt("axis", default_axis));
    const Shape& shape = ctx.input_shape(0);
    if (shape.rank_known()) {
      if (shape.rank() == 0) {
        return ctx.Error("input must have rank >= 1, got a scalar");
      }
      QFORGE_RETURN_IF_ERROR(NormalizeAxis(ctx, axis, shape.rank()).status());
    }
    return InferSameAsInput(ctx);
  };
}

absl::Status InferCast(InferenceContext& ctx) {
  QFORGE_RETURN_IF_ERROR(RequireDtypeIn(ctx, 0, kNumericOrBoolTypes));
  QFORGE_ASSIGN_OR_RETURN(DataType to, CastTargetType(ctx.node()));
  ctx.set_output(0, to, ctx.input_shape(0));
  return absl::OkStatus();
}

OpSchema Schema(const char* op, int since, int inputs, InferenceFunction infer,
                const char* doc) {
  return OpSchema{.key = {"", op},
                  .since_version = since,
                  .min_inputs = inputs,
                  .max_inputs = inputs,
                  .infer = std::move(infer),
                  .doc = doc};
}

}  // namespace

absl::Status RegisterElementwiseSchemas(OpSchemaTable& table) {
  const auto float_unary = SameAsInputOf(kFloatTypes);
  std::vector<OpSchema> schemas = {
      Schema("Add", 1, 2, InferArithmetic, "A + B with broadcast"),
      Schema("Sub", 1, 2, InferArithmetic, "A - B with broadcast"),
      Schema("Mul", 1, 2, InferArithmetic, "A * B with broadcast"),
      Schema("Div", 1, 2, InferArithmetic,
             "A / B with broadcast (integers: truncated)"),
      Schema("Pow", 1, 2, InferPow,
             "X ^ Y with broadcast; Y of any numeric type"),
      Schema("Exp", 1, 1, float_unary, "e ^ x"),
      Schema("Sqrt", 1, 1, float_unary, "square root"),
      Schema("Erf", 9, 1, SameAsInputOf(kNumericTypes), "Gauss error function"),
      // Gelu is defined by opset 20; it is accepted in models of any opset
      // (the verifier falls back to the newest schema of an op) so that
      // the GELU fusion pass (lib/quantize/passes.cc) can produce it.
      Schema("Gelu", 20, 1, InferGelu,
             "x * Phi(x): 0.5 * x * (1 + erf(x / sqrt(2))), or with "
             "approximate='tanh' 0.5 * x * (1 + tanh(sqrt(2 / pi) * "
             "(x + 0.044715 x^3)))"),
      Schema("Relu", 1, 1, SameAsInputOf(kReluTypes), "max(x, 0)"),
      Schema("LeakyRelu", 1, 1, FloatUnaryWithAttributes({"alpha"}),
             "x >= 0 ? x : alpha * x"),
      Schema("Sigmoid", 1, 1, float_unary, "1 / (1 + e^-x)"),
      Schema("Tanh", 1, 1, float_unary, "hyperbolic tangent"),
      Schema("HardSigmoid", 1, 1, FloatUnaryWithAttributes({"alpha", "beta"}),
             "max(0, min(1, alpha * x + beta))"),
      Schema("HardSwish", 14, 1, float_unary,
             "x * max(0, min(1, x / 6 + 0.5))"),
      Schema(
          "Identity", 1, 1,
          [](InferenceContext& ctx) { return InferSameAsInput(ctx); }, "y = x"),
      Schema("Cast", 1, 1, InferCast, "converts to the element type 'to'"),
  };
  for (OpSchema& s : schemas)
    QFORGE_RETURN_IF_ERROR(table.Register(std::move(s)));

  QFORGE_RETURN_IF_ERROR(table.Register(
      OpSchema{.key = {"", "Clip"},
               .since_version = 1,
               .min_inputs = 1,
               .max_inputs = 3,
               .infer = InferClip,
               .doc = "min(max(x, min), max); bounds as inputs (opset 11+) or "
                      "attributes"}));

  // Softmax before opset 13 coerces the input to 2-D at `axis` (default 1)
  // and normalizes over everything from `axis` on; from 13 it normalizes over
  // the single dim `axis` (default -1). The IR keeps the model's opset, not
  // a rewritten node: the verifier picks the schema by the graph's opset and
  // the kernel reads it from KernelInitContext::opset.
  QFORGE_RETURN_IF_ERROR(table.Register(OpSchema{
      .key = {"", "Softmax"},
      .since_version = 1,
      .until_version = 12,
      .min_inputs = 1,
      .max_inputs = 1,
      .infer = InferSoftmax(1),
      .doc = "softmax over the input coerced to 2-D at axis (default 1)"}));
  QFORGE_RETURN_IF_ERROR(
      table.Register(OpSchema{.key = {"", "Softmax"},
                              .since_version = 13,
                              .min_inputs = 1,
                              .max_inputs = 1,
                              .infer = InferSoftmax(-1),
                              .doc = "softmax along axis (default -1)"}));
  return absl::OkStatus();
}

}  // namespace qforge::internal
