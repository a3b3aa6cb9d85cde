// The graph IR: Graph, Node and Value.
//
// A Graph owns its Nodes and Values. A Value is a named tensor edge: a graph
// input, a constant (initializer), or the output of exactly one Node; it
// records its dtype, its (possibly symbolic) shape and, once quantized, its
// QuantParams. Nodes carry ONNX op names and semantics, a domain ("" is the
// default ONNX domain), attributes, and for spatial ops the data layout.
// Ops the library does not know are kept as opaque nodes: domain, op type,
// attributes and raw custom options survive import and export unchanged.
//
// Pointers to Nodes and Values stay valid until that Node or Value is
// removed. Graph is movable, not copyable; Clone() makes a deep copy.
#ifndef QFORGE_IR_GRAPH_H_
#define QFORGE_IR_GRAPH_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "qforge/core/data_type.h"
#include "qforge/core/export.h"
#include "qforge/core/quant_params.h"
#include "qforge/core/shape.h"
#include "qforge/core/tensor.h"
#include "qforge/ir/attribute.h"

namespace qforge {

class Node;
class Graph;

// Memory layout of a spatial op's activations.
enum class Layout : uint8_t {
  kNCHW,  // ONNX's layout: channels before spatial dims.
  kNHWC,  // TFLite's layout: channels last.
};
QFORGE_EXPORT const char* LayoutName(Layout layout);

class QFORGE_EXPORT Value {
 public:
  const std::string& name() const { return name_; }
  DataType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  void set_dtype(DataType dtype) { dtype_ = dtype; }
  void set_shape(Shape shape) { shape_ = std::move(shape); }

  // Constants (initializers) hold their data.
  bool is_constant() const { return constant_.has_value(); }
  const Tensor* constant() const { return constant_ ? &*constant_ : nullptr; }
  Tensor* mutable_constant() { return constant_ ? &*constant_ : nullptr; }
  // Makes this value a constant with `data`; dtype and shape follow it.
  void set_constant(Tensor data);

  const std::optional<QuantParams>& quant() const { return quant_; }
  void set_quant(std::optional<QuantParams> quant) { quant_ = std::move(quant); }

  // The node producing this value, or nullptr for graph inputs and constants.
  Node* producer() const { return producer_; }
  // Nodes that read this value, one entry per (node, input slot) use.
  const std::vector<Node*>& consumers() const { return consumers_; }

  bool is_graph_input() const { return is_graph_input_; }
  bool is_graph_output() const { return is_graph_output_; }

 private:
  friend class Graph;
  friend class Node;
  explicit Value(std::string name) : name_(std::move(name)) {}

  std::string name_;
  DataType dtype_ = DataType::kUndefined;
  Shape shape_;
  std::optional<Tensor> constant_;
  std::optional<QuantParams> quant_;
  Node* producer_ = nullptr;
  std::vector<Node*> consumers_;
  bool is_graph_input_ = false;
  bool is_graph_output_ = false;
};

class QFORGE_EXPORT Node {
 public:
  const std::string& name() const { return name_; }
  const std::string& domain() const { return domain_; }
  const std::string& op_type() const { return op_type_; }
  // "Conv" for the default domain, "qforge.contrib::AnchorBoxes" otherwise.
  std::string QualifiedOpType() const;
  // "node 'conv1' (Conv)": the prefix of every message about this node.
  std::string Describe() const;

  // Inputs may contain nullptr for omitted optional inputs.
  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  // Input i, or nullptr when absent or omitted.
  Value* input(int i) const {
    return i < num_inputs() ? inputs_[i] : nullptr;
  }
  Value* output(int i) const {
    return i < num_outputs() ? outputs_[i] : nullptr;
  }

  // Rewires input slot i to `value` (nullptr to omit it), keeping consumer
  // lists consistent.
  void SetInput(int i, Value* value);

  // Attributes, ordered by name.
  const std::map<std::string, Attribute>& attributes() const { return attributes_; }
  bool HasAttribute(absl::string_view name) const;
  const Attribute* FindAttribute(absl::string_view name) const;
  void SetAttribute(std::string name, Attribute value);
  void RemoveAttribute(absl::string_view name);

  // Typed accessors. The Get* forms return `fallback` when the attribute is
  // absent and an InvalidArgument error naming the node when it has another
  // kind. Ints accept an int64 attribute; floats accept an int attribute.
  absl::StatusOr<int64_t> GetInt(absl::string_view name, int64_t fallback) const;
  absl::StatusOr<float> GetFloat(absl::string_view name, float fallback) const;
  absl::StatusOr<std::string> GetString(absl::string_view name,
                                        std::string fallback) const;
  absl::StatusOr<std::vector<int64_t>> GetInts(
      absl::string_view name, std::vector<int64_t> fallback) const;
  absl::StatusOr<std::vector<float>> GetFloats(
      absl::string_view name, std::vector<float> fallback) const;
  absl::StatusOr<const Tensor*> GetTensor(absl::string_view name) const;
  // The same, but absence is an InvalidArgument error naming the node.
  absl::StatusOr<int64_t> RequireInt(absl::string_view name) const;
  absl::StatusOr<std::vector<int64_t>> RequireInts(absl::string_view name) const;

  Layout layout() const { return layout_; }
  void set_layout(Layout layout) { layout_ = layout; }

  // Raw bytes a custom op carried in its file (e.g. TFLite custom_options).
  const std::string& custom_options() const { return custom_options_; }
  void set_custom_options(std::string bytes) { custom_options_ = std::move(bytes); }

  // Names of the user's original nodes this node stands for (after fusion).
  const std::vector<std::string>& origins() const { return origins_; }
  void add_origin(std::string name) { origins_.push_back(std::move(name)); }
  void set_origins(std::vector<std::string> o) { origins_ = std::move(o); }

 private:
  friend class Graph;
  Node() = default;

  std::string name_;
  std::string domain_;
  std::string op_type_;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
  std::map<std::string, Attribute> attributes_;
  Layout layout_ = Layout::kNCHW;
  std::string custom_options_;
  std::vector<std::string> origins_;
};

// Arguments for Graph::AddNode.
struct NodeSpec {
  std::string name;  // Made unique if empty or taken.
  std::string domain;
  std::string op_type;
  std::vector<Value*> inputs;   // nullptr for omitted optional inputs.
  std::vector<Value*> outputs;  // Values with no producer yet.
  std::map<std::string, Attribute> attributes;
};

class QFORGE_EXPORT Graph {
 public:
  Graph() = default;
  Graph(Graph&&) noexcept;
  Graph& operator=(Graph&&) noexcept;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  ~Graph();

  // Deep copy; node order, names and all data are preserved.
  Graph Clone() const;

  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // Opset imported per domain ("" = ai.onnx).
  const std::map<std::string, int64_t>& opsets() const { return opsets_; }
  void set_opset(std::string domain, int64_t version) { opsets_[std::move(domain)] = version; }
  // The default-domain opset, or 0 when unset.
  int64_t onnx_opset() const;

  // Free-form key/value metadata (ONNX metadata_props), e.g.
  // "qforge.arithmetic_profile" on a quantized graph.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  void set_metadata(std::string key, std::string value) {
    metadata_[std::move(key)] = std::move(value);
  }

  // --- Values ---------------------------------------------------------------
  // Creates a value with a unique name derived from `name`.
  Value* AddValue(absl::string_view name, DataType dtype = DataType::kUndefined,
                  Shape shape = Shape());
  // Creates a constant value holding `data`.
  Value* AddConstant(absl::string_view name, Tensor data);
  Value* FindValue(absl::string_view name) const;
  // All values in creation order.
  std::vector<Value*> values() const;
  // Renames a value; fails if the name is taken.
  absl::Status RenameValue(Value* value, std::string new_name);

  const std::vector<Value*>& inputs() const { return inputs_; }
  const std::vector<Value*>& outputs() const { return outputs_; }
  void AddInput(Value* value);
  void AddOutput(Value* value);
  void SetOutputs(std::vector<Value*> outputs);
  void SetInputs(std::vector<Value*> inputs);

  // --- Nodes ----------------------------------------------------------------
  // Appends a node. Fails if an output already has a producer.
  absl::StatusOr<Node*> AddNode(NodeSpec spec);
  Node* FindNode(absl::string_view name) const;
  // Nodes in insertion order (a topological order after TopologicalSort()).
  std::vector<Node*> nodes() const;
  int num_nodes() const { return static_cast<int>(nodes_.size()); }

  // Removes a node; its outputs lose their producer. Values stay.
  void RemoveNode(Node* node);
  // Points every use of `from` (node inputs and graph outputs) at `to`.
  void ReplaceAllUses(Value* from, Value* to);
  // Inserts `spec` on the edge from `value` to all of its consumers: the
  // consumers then read the new node's first output. `spec.inputs` usually
  // contains `value`.
  absl::StatusOr<Node*> InsertAfter(Value* value, NodeSpec spec);
  // Removes nodes whose outputs reach no graph output, and values that are
  // no longer used by anything. Returns the number of nodes removed.
  int RemoveDeadNodes();

  // Orders nodes so that every producer precedes its consumers. Fails naming
  // the nodes on a cycle.
  absl::Status TopologicalSort();
  // Nodes in topological order, without modifying the graph.
  absl::StatusOr<std::vector<Node*>> TopologicalOrder() const;

  // A node name not yet used, derived from `base`.
  std::string UniqueNodeName(absl::string_view base) const;
  std::string UniqueValueName(absl::string_view base) const;

 private:
  std::string name_;
  std::map<std::string, int64_t> opsets_;
  std::map<std::string, std::string> metadata_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Value>> values_;
  absl::flat_hash_map<std::string, Value*> value_by_name_;
  absl::flat_hash_map<std::string, Node*> node_by_name_;
  std::vector<Value*> inputs_;
  std::vector<Value*> outputs_;
};

}  // namespace qforge

#endif  // QFORGE_IR_GRAPH_H_
