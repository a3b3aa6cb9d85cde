// ONNX ModelProto -> Graph.
#include <climits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "io/atomic_file.h"
#include "io/onnx_qdq.h"
#include "io/onnx_tensor.h"
#include "onnx/onnx_pb.h"
#include "qforge/core/status.h"
#include "qforge/io/onnx.h"
#include "qforge/ir/verifier.h"
#include "qforge/quantize/quantizer.h"
#include "qforge/registry.h"
#include "quantize/activation_storage.h"

namespace qforge {
namespace {

using internal::DataTypeFromOnnx;
using internal::ShapeFromOnnx;
using internal::TensorFromOnnx;

std::string DescribeNodeProto(const onnx::NodeProto& node, int index) {
  std::string op = node.op_type();
  if (!node.domain().empty() && node.domain() != "ai.onnx") {
    op = absl::StrCat(node.domain(), "::", node.op_type());
  }
  if (node.name().empty()) return absl::StrCat("node #", index, " (", op, ")");
  return absl::StrCat("node '", node.name(), "' (", op, ")");
}

// Adds `source: ` in front of an error message, keeping the code.
absl::Status WithSource(const absl::Status& status, absl::string_view source) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat(source, ": ", status.message()));
}

struct ValueType {
  DataType dtype = DataType::kUndefined;
  Shape shape;
};

absl::StatusOr<ValueType> ValueTypeFromOnnx(const onnx::ValueInfoProto& info,
                                            absl::string_view what) {
  ValueType out;
  if (!info.has_type()) return out;
  const onnx::TypeProto& type = info.type();
  switch (type.value_case()) {
    case onnx::TypeProto::kTensorType: {
      const auto& tensor = type.tensor_type();
      QFORGE_ASSIGN_OR_RETURN(out.dtype,
                              DataTypeFromOnnx(tensor.elem_type(), what));
      QFORGE_ASSIGN_OR_RETURN(
          out.shape, ShapeFromOnnx(tensor.shape(), tensor.has_shape(), what));
      return out;
    }
    case onnx::TypeProto::VALUE_NOT_SET:
      return out;
    case onnx::TypeProto::kSequenceType:
      return absl::UnimplementedError(absl::StrCat(
          what, " is a sequence; qforge supports tensor values only"));
    case onnx::TypeProto::kMapType:
      return absl::UnimplementedError(
          absl::StrCat(what, " is a map; qforge supports tensor values only"));
    case onnx::TypeProto::kOptionalType:
      return absl::UnimplementedError(absl::StrCat(
          what, " is an optional; qforge supports tensor values only"));
    case onnx::TypeProto::kSparseTensorType:
      return absl::UnimplementedError(absl::StrCat(
          what, " is a sparse tensor; qforge supports dense tensors only"));
    default:
      return absl::UnimplementedError(
          absl::StrCat(what, " has a type qforge does not support"));
  }
}

absl::StatusOr<Attribute> AttributeFromOnnx(const onnx::AttributeProto& attr,
                                            absl::string_view node_desc) {
  const std::string what =
      absl::StrCat(node_desc, ": attribute '", attr.name(), "'");
  if (!attr.ref_attr_name().empty()) {
    return absl::UnimplementedError(absl::StrCat(
        what, " refers to a function attribute ('", attr.ref_attr_name(),
        "'); qforge does not read ONNX functions"));
  }
  using AP = onnx::AttributeProto;
  AP::AttributeType type = attr.type();
  if (type == AP::UNDEFINED) {
    // IR version < 2 files do not record the kind: infer it from the field.
    if (attr.has_f())
      type = AP::FLOAT;
    else if (attr.has_i())
      type = AP::INT;
    else if (attr.has_s())
      type = AP::STRING;
    else if (attr.has_t())
      type = AP::TENSOR;
    else if (attr.has_g())
      type = AP::GRAPH;
    else if (attr.floats_size() > 0)
      type = AP::FLOATS;
    else if (attr.ints_size() > 0)
      type = AP::INTS;
    else if (attr.strings_size() > 0)
      type = AP::STRINGS;
    else if (attr.tensors_size() > 0)
      type = AP::TENSORS;
    else if (attr.graphs_size() > 0)
      type = AP::GRAPHS;
    else {
      return absl::DataLossError(
          absl::StrCat(what, " has no type and no value"));
    }
  }
  switch (type) {
    case AP::INT:
      return Attribute(static_cast<int64_t>(attr.i()));
    case AP::FLOAT:
      return Attribute(attr.f());
    case AP::STRING:
      return Attribute(attr.s());
    case AP::TENSOR: {
      QFORGE_ASSIGN_OR_RETURN(Tensor t, TensorFromOnnx(attr.t(), what));
      return Attribute(std::move(t));
    }
    case AP::INTS:
      return Attribute(
          std::vector<int64_t>(attr.ints().begin(), attr.ints().end()));
    case AP::FLOATS:
      return Attribute(
          std::vector<float>(attr.floats().begin(), attr.floats().end()));
    case AP::STRINGS:
      return Attribute(std::vector<std::string>(attr.strings().begin(),
                                                attr.strings().end()));
    case AP::GRAPH:
    case AP::GRAPHS:
      return absl::UnimplementedError(absl::StrCat(
          what,
          " is a subgraph; qforge does not support subgraphs (control-flow "
          "ops such as If, Loop and Scan)"));
    case AP::TENSORS:
      return absl::UnimplementedError(absl::StrCat(
          what, " is a list of tensors, which qforge does not support"));
    case AP::SPARSE_TENSOR:
    case AP::SPARSE_TENSORS:
      return absl::UnimplementedError(absl::StrCat(
          what, " is a sparse tensor, which qforge does not support"));
    case AP::TYPE_PROTO:
    case AP::TYPE_PROTOS:
      return absl::UnimplementedError(
          absl::StrCat(what, " is a type, which qforge does not support"));
    default:
      break;
  }
  return absl::DataLossError(absl::StrCat(
      what, " has an invalid attribute type code ", static_cast<int>(type)));
}

class Importer {
 public:
  explicit Importer(const onnx::ModelProto& model) : model_(model) {}

  absl::StatusOr<Graph> Run(const Registry& registry) {
    QFORGE_RETURN_IF_ERROR(ImportOpsets());
    const onnx::GraphProto& g = model_.graph();
    graph_.set_name(g.name());
    if (g.sparse_initializer_size() > 0) {
      return absl::UnimplementedError(absl::StrCat(
          "sparse initializer '", g.sparse_initializer(0).values().name(),
          "': qforge does not read sparse tensors"));
    }
    QFORGE_RETURN_IF_ERROR(ImportInitializers(g));
    QFORGE_RETURN_IF_ERROR(ImportInputs(g));
    QFORGE_RETURN_IF_ERROR(CreateNodeOutputs(g));
    QFORGE_RETURN_IF_ERROR(ImportValueInfo(g));
    QFORGE_RETURN_IF_ERROR(ImportOutputs(g));
    QFORGE_RETURN_IF_ERROR(ImportNodes(g));
    for (const auto& prop : model_.metadata_props()) {
      graph_.set_metadata(prop.key(), prop.value());
    }
    QFORGE_RETURN_IF_ERROR(VerifyGraph(graph_, registry.schemas()));
    return FoldQdqPatterns(registry);
  }

 private:
  // QDQ patterns -> quantized values and ops (io/onnx_qdq.h). When the folded
  // graph does not verify (an op whose schema takes no integer tensors), the
  // unfolded graph is kept and the reason recorded in the metadata.
  absl::StatusOr<Graph> FoldQdqPatterns(const Registry& registry) {
    bool has_qdq = false;
    for (const Node* n : graph_.nodes()) {
      if (n->op_type() == "QuantizeLinear" ||
          n->op_type() == "DequantizeLinear")
        has_qdq = true;
    }
    if (!has_qdq) return std::move(graph_);
    Graph unfolded = graph_.Clone();
    // Only ops qforge can quantize become quantized ops.
    internal::FoldQdq(graph_, [&](const Node& node) {
      const OpKey key = OpKey::Of(node);
      int64_t opset = 0;
      auto it = graph_.opsets().find(key.domain);
      if (it != graph_.opsets().end()) opset = it->second;
      return registry.quantizers().Find(key, opset) != nullptr ||
             registry.quantizers().Find(key) != nullptr;
    });
    internal::RemoveRedundantQdq(graph_);
    // uint8 activations (e.g. ONNX Runtime's quantizer default) run as int8
    // with zero point - 128; the metadata keeps uint8 for a later export.
    absl::StatusOr<int> to_int8 = internal::ConvertActivationStorage(
        graph_, DataType::kUint8, DataType::kInt8);
    if (!to_int8.ok()) return to_int8.status();
    if (*to_int8 > 0)
      graph_.set_metadata(internal::kActivationTypeKey, "uint8");
    absl::Status verified = VerifyGraph(graph_, registry.schemas());
    if (verified.ok()) return std::move(graph_);
    unfolded.set_metadata("qforge.qdq_fold_error",
                          std::string(verified.message()));
    return unfolded;
  }

  absl::Status ImportOpsets() {
    for (const auto& opset : model_.opset_import()) {
      std::string domain = opset.domain();
      if (domain == "ai.onnx") domain.clear();
      if (opset.version() < 1) {
        return absl::DataLossError(
            absl::StrCat("opset_import for domain '", domain,
                         "' has invalid version ", opset.version()));
      }
      graph_.set_opset(std::move(domain), opset.version());
    }
    return absl::OkStatus();
  }

  absl::Status ImportInitializers(const onnx::GraphProto& g) {
    for (int i = 0; i < g.initializer_size(); ++i) {
      const onnx::TensorProto& init = g.initializer(i);
      if (init.name().empty()) {
        return absl::DataLossError(
            absl::StrCat("initializer #", i, " has no name"));
      }
      if (graph_.FindValue(init.name()) != nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("initializer '", init.name(), "' is defined twice"));
      }
      QFORGE_ASSIGN_OR_RETURN(
          Tensor t, TensorFromOnnx(
                        init, absl::StrCat("initializer '", init.name(), "'")));
      graph_.AddConstant(init.name(), std::move(t));
    }
    return absl::OkStatus();
  }

  absl::Status ImportInputs(const onnx::GraphProto& g) {
    for (int i = 0; i < g.input_size(); ++i) {
      const onnx::ValueInfoProto& in = g.input(i);
      if (in.name().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("graph input #", i, " has no name"));
      }
      Value* existing = graph_.FindValue(in.name());
      if (existing != nullptr) {
        if (existing->is_constant()) continue;  // Initializer listed as input.
        return absl::InvalidArgumentError(
            absl::StrCat("graph input '", in.name(), "' is listed twice"));
      }
      QFORGE_ASSIGN_OR_RETURN(
          ValueType type,
          ValueTypeFromOnnx(in, absl::StrCat("graph input '", in.name(), "'")));
      Value* v = graph_.AddValue(in.name(), type.dtype, std::move(type.shape));
      graph_.AddInput(v);
    }
    return absl::OkStatus();
  }

  absl::Status CreateNodeOutputs(const onnx::GraphProto& g) {
    absl::flat_hash_map<std::string, int> producer;
    for (int n = 0; n < g.node_size(); ++n) {
      const onnx::NodeProto& node = g.node(n);
      for (const std::string& out : node.output()) {
        if (out.empty()) continue;
        auto [it, inserted] = producer.emplace(out, n);
        if (!inserted) {
          return absl::InvalidArgumentError(
              absl::StrCat("value '", out, "' is produced by both ",
                           DescribeNodeProto(g.node(it->second), it->second),
                           " and ", DescribeNodeProto(node, n)));
        }
        if (graph_.FindValue(out) != nullptr) {
          return absl::InvalidArgumentError(
              absl::StrCat(DescribeNodeProto(node, n), ": output '", out,
                           "' has the name of a graph input or initializer"));
        }
        graph_.AddValue(out);
      }
    }
    return absl::OkStatus();
  }

  absl::Status ImportValueInfo(const onnx::GraphProto& g) {
    for (const onnx::ValueInfoProto& info : g.value_info()) {
      Value* v = graph_.FindValue(info.name());
      if (v == nullptr || v->is_constant() || v->is_graph_input()) continue;
      QFORGE_ASSIGN_OR_RETURN(
          ValueType type,
          ValueTypeFromOnnx(info, absl::StrCat("value '", info.name(), "'")));
      if (type.dtype != DataType::kUndefined) v->set_dtype(type.dtype);
      if (type.shape.rank_known()) v->set_shape(std::move(type.shape));
    }
    return absl::OkStatus();
  }

  absl::Status ImportOutputs(const onnx::GraphProto& g) {
    for (int i = 0; i < g.output_size(); ++i) {
      const onnx::ValueInfoProto& out = g.output(i);
      Value* v = graph_.FindValue(out.name());
      if (v == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            "graph output '", out.name(),
            "' is not produced by any node and is not a graph input or "
            "initializer"));
      }
      QFORGE_ASSIGN_OR_RETURN(
          ValueType type,
          ValueTypeFromOnnx(out,
                            absl::StrCat("graph output '", out.name(), "'")));
      if (!v->is_constant() && !v->is_graph_input()) {
        if (type.dtype != DataType::kUndefined) v->set_dtype(type.dtype);
        if (type.shape.rank_known()) v->set_shape(std::move(type.shape));
      }
      graph_.AddOutput(v);
    }
    return absl::OkStatus();
  }

  absl::Status ImportNodes(const onnx::GraphProto& g) {
    for (int n = 0; n < g.node_size(); ++n) {
      const onnx::NodeProto& proto = g.node(n);
      const std::string desc = DescribeNodeProto(proto, n);
      if (proto.op_type().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(desc, ": empty op_type"));
      }
      NodeSpec spec;
      spec.name = proto.name();
      spec.domain =
          proto.domain() == "ai.onnx" ? std::string() : proto.domain();
      spec.op_type = proto.op_type();
      for (int i = 0; i < proto.input_size(); ++i) {
        const std::string& name = proto.input(i);
        if (name.empty()) {
          spec.inputs.push_back(nullptr);
          continue;
        }
        Value* v = graph_.FindValue(name);
        if (v == nullptr) {
          return absl::InvalidArgumentError(absl::StrCat(
              desc, ": input ", i, " '", name,
              "' is not produced by any node and is not a graph input or "
              "initializer"));
        }
        spec.inputs.push_back(v);
      }
      int num_outputs = proto.output_size();
      while (num_outputs > 0 && proto.output(num_outputs - 1).empty())
        --num_outputs;
      for (int i = 0; i < num_outputs; ++i) {
        const std::string& name = proto.output(i);
        spec.outputs.push_back(name.empty() ? nullptr : graph_.FindValue(name));
      }
      for (const onnx::AttributeProto& attr : proto.attribute()) {
        if (attr.name().empty()) {
          return absl::DataLossError(
              absl::StrCat(desc, ": attribute with no name"));
        }
        if (spec.attributes.count(attr.name()) > 0) {
          return absl::InvalidArgumentError(absl::StrCat(
              desc, ": attribute '", attr.name(), "' is given twice"));
        }
        QFORGE_ASSIGN_OR_RETURN(Attribute value, AttributeFromOnnx(attr, desc));
        spec.attributes.emplace(attr.name(), std::move(value));
      }
      MapContribGelu(spec);
      absl::StatusOr<Node*> node = graph_.AddNode(std::move(spec));
      if (!node.ok()) {
        return absl::Status(node.status().code(),
                            absl::StrCat(desc, ": ", node.status().message()));
      }
    }
    return absl::OkStatus();
  }

  // ONNX Runtime's com.microsoft::Gelu (erf form) and bias-free
  // com.microsoft::FastGelu (tanh form), which qforge's export writes for
  // Gelu in models older than opset 20, read back as the default-domain Gelu.
  static void MapContribGelu(NodeSpec& spec) {
    if (spec.domain != "com.microsoft" || spec.inputs.size() != 1 ||
        !spec.attributes.empty()) {
      return;
    }
    if (spec.op_type == "Gelu") {
      spec.domain.clear();
    } else if (spec.op_type == "FastGelu") {
      spec.domain.clear();
      spec.op_type = "Gelu";
      spec.attributes.emplace("approximate", std::string("tanh"));
    }
  }

  const onnx::ModelProto& model_;
  Graph graph_;
};

}  // namespace

absl::StatusOr<Graph> LoadOnnxFromBytes(absl::string_view bytes,
                                        const Registry& registry,
                                        absl::string_view source) {
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    return absl::OutOfRangeError(
        absl::StrCat(source,
                     ": the model is larger than 2 GiB, the protobuf limit; "
                     "qforge does not read external-data models"));
  }
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(absl::StrCat(
        source,
        ": not a valid ONNX model (protobuf parse failed: the file is "
        "truncated or corrupt)"));
  }
  if (!model.has_graph()) {
    return absl::DataLossError(
        absl::StrCat(source, ": not a valid ONNX model (it has no graph)"));
  }
  Importer importer(model);
  absl::StatusOr<Graph> graph = importer.Run(registry);
  if (!graph.ok()) return WithSource(graph.status(), source);
  return graph;
}

absl::StatusOr<Graph> LoadOnnx(absl::string_view path,
                               const Registry& registry) {
  std::string bytes;
  QFORGE_RETURN_IF_ERROR(internal::ReadFileToString(path, &bytes, INT_MAX));
  return LoadOnnxFromBytes(bytes, registry, path);
}

}  // namespace qforge
