// Graph -> ONNX ModelProto.
#include <climits>
#include <set>
#include <string>
#include <type_traits>
#include <variant>

#include "absl/strings/str_cat.h"
#include "io/atomic_file.h"
#include "io/onnx_qdq.h"
#include "io/onnx_tensor.h"
#include "onnx/onnx_pb.h"
#include "qforge/core/status.h"
#include "qforge/io/onnx.h"
#include "quantize/activation_storage.h"

namespace qforge {
namespace {

// IR version 8 (ONNX 1.10+): read by ONNX Runtime 1.10 and later.
constexpr int64_t kIrVersion = 8;
// Default-domain opset written when the graph does not name one.
constexpr int64_t kDefaultOpset = 13;
// First default-domain opset with Gelu.
constexpr int64_t kGeluOpset = 20;
// ONNX Runtime's contrib domain: Gelu (erf form) and FastGelu (tanh form).
constexpr char kMicrosoftDomain[] = "com.microsoft";

bool IsDefaultDomainGelu(const Node& node) {
  return (node.domain().empty() || node.domain() == "ai.onnx") &&
         node.op_type() == "Gelu";
}

absl::Status SetValueInfo(const Value& value, onnx::ValueInfoProto* info) {
  info->set_name(value.name());
  if (value.dtype() == DataType::kUndefined && !value.shape().rank_known()) {
    return absl::OkStatus();
  }
  auto* tensor_type = info->mutable_type()->mutable_tensor_type();
  tensor_type->set_elem_type(internal::DataTypeToOnnx(value.dtype()));
  if (value.shape().rank_known()) {
    internal::ShapeToOnnx(value.shape(), tensor_type->mutable_shape());
  }
  return absl::OkStatus();
}

absl::Status SetAttribute(const std::string& name, const Attribute& attr,
                          const Node& node, onnx::AttributeProto* proto) {
  proto->set_name(name);
  using AP = onnx::AttributeProto;
  return std::visit(
      [&](const auto& v) -> absl::Status {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) {
          proto->set_type(AP::INT);
          proto->set_i(v);
        } else if constexpr (std::is_same_v<T, float>) {
          proto->set_type(AP::FLOAT);
          proto->set_f(v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          proto->set_type(AP::STRING);
          proto->set_s(v);
        } else if constexpr (std::is_same_v<T, Tensor>) {
          proto->set_type(AP::TENSOR);
          absl::Status s = internal::TensorToOnnx(v, "", proto->mutable_t());
          if (!s.ok()) {
            return absl::InvalidArgumentError(absl::StrCat(
                node.Describe(), ": attribute '", name, "': ", s.message()));
          }
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          proto->set_type(AP::INTS);
          for (int64_t x : v) proto->add_ints(x);
        } else if constexpr (std::is_same_v<T, std::vector<float>>) {
          proto->set_type(AP::FLOATS);
          for (float x : v) proto->add_floats(x);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          proto->set_type(AP::STRINGS);
          for (const std::string& x : v) proto->add_strings(x);
        }
        return absl::OkStatus();
      },
      attr);
}

absl::Status BuildModel(const Graph& graph, onnx::ModelProto& model);

// Quantized graphs are written in QDQ form (io/onnx_qdq.h).
absl::Status BuildQdqModel(const Graph& graph, onnx::ModelProto& model) {
  Graph qdq = graph.Clone();
  auto storage = qdq.metadata().find(internal::kActivationTypeKey);
  if (storage != qdq.metadata().end() && storage->second == "uint8") {
    // Activations executed as int8 are written as the uint8 the user chose.
    QFORGE_RETURN_IF_ERROR(internal::ConvertActivationStorage(
                               qdq, DataType::kInt8, DataType::kUint8)
                               .status());
  }
  QFORGE_RETURN_IF_ERROR(internal::ExpandToQdq(qdq));
  return BuildModel(qdq, model);
}

absl::Status BuildModel(const Graph& graph, onnx::ModelProto& model) {
  if (internal::HasQuantizedValues(graph)) return BuildQdqModel(graph, model);
  model.set_ir_version(kIrVersion);
  model.set_producer_name("qforge");
  model.set_producer_version("0.1.0");

  // Opsets: the graph's, plus any custom domain its nodes use.
  std::map<std::string, int64_t> opsets = graph.opsets();
  if (opsets.count("") == 0) opsets[""] = kDefaultOpset;
  for (const Node* node : graph.nodes()) {
    const std::string domain =
        node->domain() == "ai.onnx" ? "" : node->domain();
    if (opsets.count(domain) == 0) opsets[domain] = 1;
  }
  // Gelu joined the default domain in opset 20; in an older model it is
  // written as ONNX Runtime's com.microsoft::Gelu / FastGelu (docs/io.md).
  const bool gelu_as_contrib = opsets[""] < kGeluOpset;
  if (gelu_as_contrib) {
    for (const Node* node : graph.nodes()) {
      if (IsDefaultDomainGelu(*node) && opsets.count(kMicrosoftDomain) == 0)
        opsets[kMicrosoftDomain] = 1;
    }
  }
  for (const auto& [domain, version] : opsets) {
    auto* opset = model.add_opset_import();
    opset->set_domain(domain);
    opset->set_version(version);
  }

  for (const auto& [key, value] : graph.metadata()) {
    auto* prop = model.add_metadata_props();
    prop->set_key(key);
    prop->set_value(value);
  }

  onnx::GraphProto* g = model.mutable_graph();
  g->set_name(graph.name().empty() ? "qforge" : graph.name());

  std::set<const Value*> io;
  for (const Value* v : graph.inputs()) {
    QFORGE_RETURN_IF_ERROR(SetValueInfo(*v, g->add_input()));
    io.insert(v);
  }
  for (const Value* v : graph.outputs()) {
    QFORGE_RETURN_IF_ERROR(SetValueInfo(*v, g->add_output()));
    io.insert(v);
  }
  for (const Value* v : graph.values()) {
    if (v->is_constant()) {
      absl::Status s = internal::TensorToOnnx(*v->constant(), v->name(),
                                              g->add_initializer());
      if (!s.ok()) return s;
      continue;
    }
    if (io.count(v) > 0 || v->dtype() == DataType::kUndefined) continue;
    if (v->producer() == nullptr && v->consumers().empty())
      continue;  // Unused.
    QFORGE_RETURN_IF_ERROR(SetValueInfo(*v, g->add_value_info()));
  }

  absl::StatusOr<std::vector<Node*>> order = graph.TopologicalOrder();
  const std::vector<Node*> nodes = order.ok() ? *order : graph.nodes();
  for (const Node* node : nodes) {
    if (node->layout() != Layout::kNCHW) {
      return absl::FailedPreconditionError(absl::StrCat(
          node->Describe(), " has layout ", LayoutName(node->layout()),
          "; ONNX is NCHW: convert the layout before exporting to ONNX"));
    }
    onnx::NodeProto* proto = g->add_node();
    proto->set_name(node->name());
    proto->set_op_type(node->op_type());
    if (!node->domain().empty()) proto->set_domain(node->domain());
    const bool contrib_gelu = gelu_as_contrib && IsDefaultDomainGelu(*node);
    if (contrib_gelu) {
      std::string approximate = "none";
      if (const Attribute* a = node->FindAttribute("approximate")) {
        const auto* str = std::get_if<std::string>(a);
        if (str == nullptr || (*str != "none" && *str != "tanh")) {
          return absl::InvalidArgumentError(absl::StrCat(
              node->Describe(),
              ": attribute 'approximate' must be \"none\" or \"tanh\""));
        }
        approximate = *str;
      }
      proto->set_domain(kMicrosoftDomain);
      proto->set_op_type(approximate == "tanh" ? "FastGelu" : "Gelu");
    }
    for (const Value* in : node->inputs()) {
      proto->add_input(in == nullptr ? std::string() : in->name());
    }
    for (const Value* out : node->outputs()) {
      proto->add_output(out == nullptr ? std::string() : out->name());
    }
    for (const auto& [name, attr] : node->attributes()) {
      if (contrib_gelu && name == "approximate") continue;
      QFORGE_RETURN_IF_ERROR(
          SetAttribute(name, attr, *node, proto->add_attribute()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> SaveOnnxToBytes(const Graph& graph) {
  onnx::ModelProto model;
  QFORGE_RETURN_IF_ERROR(BuildModel(graph, model));
  const size_t size = model.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX)) {
    return absl::OutOfRangeError(absl::StrCat(
        "the ONNX model would be ", size,
        " bytes, more than the 2 GiB protobuf limit; qforge does not write "
        "external data"));
  }
  std::string bytes;
  if (!model.SerializeToString(&bytes)) {
    return absl::InternalError("ONNX model serialization failed");
  }
  return bytes;
}

absl::Status SaveOnnx(const Graph& graph, absl::string_view path) {
  absl::StatusOr<std::string> bytes = SaveOnnxToBytes(graph);
  if (!bytes.ok()) {
    return absl::Status(
        bytes.status().code(),
        absl::StrCat("cannot write '", path, "': ", bytes.status().message()));
  }
  return internal::WriteFileAtomically(path, *bytes);
}

}  // namespace qforge
