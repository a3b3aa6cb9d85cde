#include "qforge/ir/verifier.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace qforge {
namespace {

// Keeps the more specific of a declared and an inferred shape.
Shape MergeShapes(const Shape& declared, const Shape& inferred) {
  if (!inferred.rank_known()) return declared;
  if (!declared.rank_known() || declared.rank() != inferred.rank()) return inferred;
  Shape merged = inferred;
  for (int i = 0; i < merged.rank(); ++i) {
    if (!merged.dim(i).is_static() && declared.dim(i).is_static()) {
      merged.dim(i) = declared.dim(i);
    } else if (!merged.dim(i).is_static() && merged.dim(i).symbol.empty()) {
      merged.dim(i) = declared.dim(i);
    }
  }
  return merged;
}

}  // namespace

absl::Status VerifyGraph(Graph& graph, const OpSchemaTable& schemas,
                         VerifyResult* result) {
  VerifyResult local;
  VerifyResult& r = result != nullptr ? *result : local;
  r.errors.clear();
  r.unknown_ops.clear();

  // Structure: every node input is available.
  for (const Node* node : graph.nodes()) {
    for (int i = 0; i < node->num_inputs(); ++i) {
      const Value* in = node->input(i);
      if (in == nullptr) continue;
      if (in->producer() == nullptr && !in->is_constant() &&
          !in->is_graph_input()) {
        r.errors.push_back(absl::StrCat(
            node->Describe(), ": input ", i, " '", in->name(),
            "' is dangling: no node produces it and it is neither a graph "
            "input nor a constant"));
      }
    }
  }
  for (const Value* out : graph.outputs()) {
    if (out->producer() == nullptr && !out->is_constant() &&
        !out->is_graph_input()) {
      r.errors.push_back(absl::StrCat("graph output '", out->name(),
                                      "' is not produced by any node"));
    }
  }
  absl::StatusOr<std::vector<Node*>> order = graph.TopologicalOrder();
  if (!order.ok()) {
    r.errors.push_back(std::string(order.status().message()));
    return absl::InvalidArgumentError(absl::StrJoin(r.errors, "\n"));
  }

  const int64_t default_opset = graph.onnx_opset();
  for (Node* node : *order) {
    const OpKey key = OpKey::Of(*node);
    const int64_t opset =
        key.domain.empty() ? default_opset
                           : (graph.opsets().count(key.domain)
                                  ? graph.opsets().at(key.domain)
                                  : 0);
    const OpSchema* schema = schemas.Find(key, opset);
    if (schema == nullptr) schema = schemas.Find(key);
    if (schema == nullptr) {
      r.unknown_ops.push_back(absl::StrCat(node->name(), " (", key.ToString(), ")"));
      continue;
    }
    int present_inputs = node->num_inputs();
    while (present_inputs > 0 && node->input(present_inputs - 1) == nullptr) {
      --present_inputs;
    }
    if (present_inputs < schema->min_inputs ||
        node->num_inputs() > schema->max_inputs) {
      r.errors.push_back(absl::StrCat(
          node->Describe(), ": has ", node->num_inputs(), " inputs, expected ",
          schema->min_inputs,
          schema->max_inputs == schema->min_inputs
              ? std::string()
              : absl::StrCat("..", schema->max_inputs == INT_MAX
                                       ? std::string("n")
                                       : absl::StrCat(schema->max_inputs))));
      continue;
    }
    if (node->num_outputs() < schema->min_outputs ||
        node->num_outputs() > schema->max_outputs) {
      r.errors.push_back(absl::StrCat(node->Describe(), ": has ",
                                      node->num_outputs(), " outputs, expected ",
                                      schema->min_outputs, "..",
                                      schema->max_outputs));
      continue;
    }
    if (!schema->infer) continue;
    // Quantized values stand for real numbers: ops other than the
    // quantize/dequantize boundary see them as float32, and must not mix
    // them with float tensors.
    const bool boundary = key.domain.empty() && (key.op_type == "QuantizeLinear" ||
                                                 key.op_type == "DequantizeLinear");
    if (!boundary) {
      const Value* quantized = nullptr;
      const Value* real = nullptr;
      for (const Value* in : node->inputs()) {
        if (in == nullptr) continue;
        if (in->quant().has_value()) quantized = in;
        // Float constants are parameters (Clip bounds, Resize scales).
        if (!in->quant().has_value() && IsFloatingPoint(in->dtype()) && !in->is_constant()) {
          real = in;
        }
      }
      if (quantized != nullptr && real != nullptr) {
        r.errors.push_back(absl::StrCat(
            node->Describe(), ": quantized input '", quantized->name(), "' (",
            DataTypeName(quantized->dtype()), ") meets float input '", real->name(), "' (",
            DataTypeName(real->dtype()),
            "); insert a DequantizeLinear, or quantize the float input"));
        continue;
      }
    }
    std::vector<DataType> dtypes;
    std::vector<Shape> shapes;
    std::vector<const Tensor*> constants;
    for (int i = 0; i < node->num_inputs(); ++i) {
      const Value* in = node->input(i);
      const bool logical_float = !boundary && in != nullptr && in->quant().has_value();
      dtypes.push_back(in == nullptr ? DataType::kUndefined
                                     : (logical_float ? DataType::kFloat32 : in->dtype()));
      shapes.push_back(in ? in->shape() : Shape());
      constants.push_back(in != nullptr && !logical_float ? in->constant() : nullptr);
    }
    InferenceContext ctx(*node, std::move(dtypes), std::move(shapes),
                         std::move(constants));
    absl::Status status = schema->infer(ctx);
    if (!status.ok()) {
      r.errors.push_back(std::string(status.message()));
      continue;
    }
    for (int i = 0; i < node->num_outputs(); ++i) {
      Value* out = node->output(i);
      if (out == nullptr) continue;
      const DataType inferred = ctx.output_dtype(i);
      if (inferred != DataType::kUndefined) {
        // A quantized output stores the float32 the op produces as integers.
        if (out->quant().has_value() && inferred == DataType::kFloat32 && !boundary) {
          out->set_shape(MergeShapes(out->shape(), ctx.output_shape(i)));
          continue;
        }
        if (out->dtype() != DataType::kUndefined && out->dtype() != inferred) {
          r.errors.push_back(absl::StrCat(
              node->Describe(), ": output '", out->name(), "' is declared ",
              DataTypeName(out->dtype()), " but the op produces ",
              DataTypeName(inferred)));
          continue;
        }
        out->set_dtype(inferred);
      }
      out->set_shape(MergeShapes(out->shape(), ctx.output_shape(i)));
    }
  }
  if (!r.errors.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(r.errors, "\n"));
  }
  return absl::OkStatus();
}

}  // namespace qforge
