#include "qforge/ir/graph.h"

#include <algorithm>
#include <deque>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace qforge {

const char* LayoutName(Layout layout) {
  return layout == Layout::kNHWC ? "NHWC" : "NCHW";
}

// --- Value -------------------------------------------------------------------

void Value::set_constant(Tensor data) {
  dtype_ = data.dtype();
  shape_ = Shape(data.dims());
  constant_ = std::move(data);
}

// --- Node --------------------------------------------------------------------

std::string Node::QualifiedOpType() const {
  if (domain_.empty() || domain_ == "ai.onnx") return op_type_;
  return absl::StrCat(domain_, "::", op_type_);
}

std::string Node::Describe() const {
  return absl::StrCat("node '", name_, "' (", QualifiedOpType(), ")");
}

void Node::SetInput(int i, Value* value) {
  if (i >= num_inputs()) inputs_.resize(i + 1, nullptr);
  Value* old = inputs_[i];
  if (old != nullptr) {
    auto it = std::find(old->consumers_.begin(), old->consumers_.end(), this);
    if (it != old->consumers_.end()) old->consumers_.erase(it);
  }
  inputs_[i] = value;
  if (value != nullptr) value->consumers_.push_back(this);
}

bool Node::HasAttribute(absl::string_view name) const {
  return attributes_.find(std::string(name)) != attributes_.end();
}

const Attribute* Node::FindAttribute(absl::string_view name) const {
  auto it = attributes_.find(std::string(name));
  return it == attributes_.end() ? nullptr : &it->second;
}

void Node::SetAttribute(std::string name, Attribute value) {
  attributes_[std::move(name)] = std::move(value);
}

void Node::RemoveAttribute(absl::string_view name) {
  attributes_.erase(std::string(name));
}

namespace {

absl::Status WrongKind(const Node& node, absl::string_view name,
                       const Attribute& attr, absl::string_view expected) {
  return absl::InvalidArgumentError(
      absl::StrCat(node.Describe(), ": attribute '", name, "' is ",
                   AttributeKindName(attr), ", expected ", expected));
}

absl::Status Missing(const Node& node, absl::string_view name) {
  return absl::InvalidArgumentError(absl::StrCat(
      node.Describe(), ": required attribute '", name, "' is missing"));
}

}  // namespace

absl::StatusOr<int64_t> Node::GetInt(absl::string_view name,
                                     int64_t fallback) const {
  const Attribute* a = FindAttribute(name);
  if (a == nullptr) return fallback;
  if (auto* v = std::get_if<int64_t>(a)) return *v;
  return WrongKind(*this, name, *a, "int");
}

absl::StatusOr<float> Node::GetFloat(absl::string_view name,
                                     float fallback) const {
  const Attribute* a = FindAttribute(name);
  if (a == nullptr) return fallback;
  if (auto* v = std::get_if<float>(a)) return *v;
  if (auto* v = std::get_if<int64_t>(a)) return static_cast<float>(*v);
  return WrongKind(*this, name, *a, "float");
}

absl::StatusOr<std::string> Node::GetString(absl::string_view name,
                                            std::string fallback) const {
  const Attribute* a = FindAttribute(name);
  if (a == nullptr) return fallback;
  if (auto* v = std::get_if<std::string>(a)) return *v;
  return WrongKind(*this, name, *a, "string");
}

absl::StatusOr<std::vector<int64_t>> Node::GetInts(
    absl::string_view name, std::vector<int64_t> fallback) const {
  const Attribute* a = FindAttribute(name);
  if (a == nullptr) return fallback;
  if (auto* v = std::get_if<std::vector<int64_t>>(a)) return *v;
  return WrongKind(*this, name, *a, "ints");
}

absl::StatusOr<std::vector<float>> Node::GetFloats(
    absl::string_view name, std::vector<float> fallback) const {
  const Attribute* a = FindAttribute(name);
  if (a == nullptr) return fallback;
  if (auto* v = std::get_if<std::vector<float>>(a)) return *v;
  if (auto* v = std::get_if<std::vector<int64_t>>(a)) {
    return std::vector<float>(v->begin(), v->end());
  }
  return WrongKind(*this, name, *a, "floats");
}

absl::StatusOr<const Tensor*> Node::GetTensor(absl::string_view name) const {
  const Attribute* a = FindAttribute(name);
  if (a == nullptr) return Missing(*this, name);
  if (auto* v = std::get_if<Tensor>(a)) return v;
  return WrongKind(*this, name, *a, "tensor");
}

absl::StatusOr<int64_t> Node::RequireInt(absl::string_view name) const {
  if (!HasAttribute(name)) return Missing(*this, name);
  return GetInt(name, 0);
}

absl::StatusOr<std::vector<int64_t>> Node::RequireInts(
    absl::string_view name) const {
  if (!HasAttribute(name)) return Missing(*this, name);
  return GetInts(name, {});
}

// --- Graph -------------------------------------------------------------------

Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;
Graph::~Graph() = default;

int64_t Graph::onnx_opset() const {
  for (const char* domain : {"", "ai.onnx"}) {
    auto it = opsets_.find(domain);
    if (it != opsets_.end()) return it->second;
  }
  return 0;
}

std::string Graph::UniqueValueName(absl::string_view base) const {
  std::string name = base.empty() ? std::string("value") : std::string(base);
  if (!value_by_name_.contains(name)) return name;
  for (int i = 1;; ++i) {
    std::string candidate = absl::StrCat(name, "_", i);
    if (!value_by_name_.contains(candidate)) return candidate;
  }
}

std::string Graph::UniqueNodeName(absl::string_view base) const {
  std::string name = base.empty() ? std::string("node") : std::string(base);
  if (!node_by_name_.contains(name)) return name;
  for (int i = 1;; ++i) {
    std::string candidate = absl::StrCat(name, "_", i);
    if (!node_by_name_.contains(candidate)) return candidate;
  }
}

Value* Graph::AddValue(absl::string_view name, DataType dtype, Shape shape) {
  auto value = std::unique_ptr<Value>(new Value(UniqueValueName(name)));
  value->dtype_ = dtype;
  value->shape_ = std::move(shape);
  Value* raw = value.get();
  value_by_name_[raw->name_] = raw;
  values_.push_back(std::move(value));
  return raw;
}

Value* Graph::AddConstant(absl::string_view name, Tensor data) {
  Value* v = AddValue(name);
  v->set_constant(std::move(data));
  return v;
}

Value* Graph::FindValue(absl::string_view name) const {
  auto it = value_by_name_.find(name);
  return it == value_by_name_.end() ? nullptr : it->second;
}

std::vector<Value*> Graph::values() const {
  std::vector<Value*> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v.get());
  return out;
}

absl::Status Graph::RenameValue(Value* value, std::string new_name) {
  if (new_name == value->name_) return absl::OkStatus();
  if (value_by_name_.contains(new_name)) {
    return absl::AlreadyExistsError(
        absl::StrCat("cannot rename value '", value->name_, "' to '", new_name,
                     "': the name is taken"));
  }
  value_by_name_.erase(value->name_);
  value->name_ = std::move(new_name);
  value_by_name_[value->name_] = value;
  return absl::OkStatus();
}

void Graph::AddInput(Value* value) {
  value->is_graph_input_ = true;
  inputs_.push_back(value);
}

void Graph::AddOutput(Value* value) {
  value->is_graph_output_ = true;
  outputs_.push_back(value);
}

void Graph::SetInputs(std::vector<Value*> inputs) {
  for (Value* v : inputs_) v->is_graph_input_ = false;
  inputs_.clear();
  for (Value* v : inputs) AddInput(v);
}

void Graph::SetOutputs(std::vector<Value*> outputs) {
  for (Value* v : outputs_) v->is_graph_output_ = false;
  outputs_.clear();
  for (Value* v : outputs) AddOutput(v);
}

absl::StatusOr<Node*> Graph::AddNode(NodeSpec spec) {
  for (Value* out : spec.outputs) {
    if (out == nullptr) continue;
    if (out->producer_ != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "value '", out->name(), "' is produced by both ",
          out->producer_->Describe(), " and node '", spec.name, "' (",
          spec.op_type, ")"));
    }
  }
  auto node = std::unique_ptr<Node>(new Node());
  node->name_ = UniqueNodeName(spec.name.empty() ? spec.op_type : spec.name);
  node->domain_ = std::move(spec.domain);
  node->op_type_ = std::move(spec.op_type);
  node->attributes_ = std::move(spec.attributes);
  for (Value* in : spec.inputs) {
    node->inputs_.push_back(in);
    if (in != nullptr) in->consumers_.push_back(node.get());
  }
  for (Value* out : spec.outputs) {
    node->outputs_.push_back(out);
    if (out != nullptr) out->producer_ = node.get();
  }
  Node* raw = node.get();
  node_by_name_[raw->name_] = raw;
  nodes_.push_back(std::move(node));
  return raw;
}

Node* Graph::FindNode(absl::string_view name) const {
  auto it = node_by_name_.find(name);
  return it == node_by_name_.end() ? nullptr : it->second;
}

std::vector<Node*> Graph::nodes() const {
  std::vector<Node*> out;
  out.reserve(nodes_.size());
  for (const auto& n : nodes_) out.push_back(n.get());
  return out;
}

void Graph::RemoveNode(Node* node) {
  for (int i = 0; i < node->num_inputs(); ++i) node->SetInput(i, nullptr);
  for (Value* out : node->outputs_) {
    if (out != nullptr && out->producer_ == node) out->producer_ = nullptr;
  }
  node_by_name_.erase(node->name_);
  auto it = std::find_if(nodes_.begin(), nodes_.end(),
                         [node](const auto& n) { return n.get() == node; });
  if (it != nodes_.end()) nodes_.erase(it);
}

void Graph::ReplaceAllUses(Value* from, Value* to) {
  const std::vector<Node*> consumers = from->consumers_;
  for (Node* consumer : consumers) {
    for (int i = 0; i < consumer->num_inputs(); ++i) {
      if (consumer->inputs_[i] == from) consumer->SetInput(i, to);
    }
  }
  for (Value*& out : outputs_) {
    if (out == from) {
      from->is_graph_output_ = false;
      out = to;
      to->is_graph_output_ = true;
    }
  }
}

absl::StatusOr<Node*> Graph::InsertAfter(Value* value, NodeSpec spec) {
  const std::vector<Node*> consumers = value->consumers_;
  const bool was_output = value->is_graph_output_;
  absl::StatusOr<Node*> node = AddNode(std::move(spec));
  if (!node.ok()) return node.status();
  Value* new_out = (*node)->output(0);
  for (Node* consumer : consumers) {
    for (int i = 0; i < consumer->num_inputs(); ++i) {
      if (consumer->inputs_[i] == value) consumer->SetInput(i, new_out);
    }
  }
  if (was_output) {
    for (Value*& out : outputs_) {
      if (out == value) {
        value->is_graph_output_ = false;
        out = new_out;
        new_out->is_graph_output_ = true;
      }
    }
  }
  return *node;
}

int Graph::RemoveDeadNodes() {
  absl::flat_hash_set<const Node*> live;
  std::deque<const Value*> work(outputs_.begin(), outputs_.end());
  absl::flat_hash_set<const Value*> seen;
  while (!work.empty()) {
    const Value* v = work.front();
    work.pop_front();
    if (v == nullptr || !seen.insert(v).second) continue;
    const Node* p = v->producer_;
    if (p == nullptr || !live.insert(p).second) continue;
    for (const Value* in : p->inputs_) work.push_back(in);
  }
  std::vector<Node*> dead;
  for (const auto& n : nodes_) {
    if (!live.contains(n.get())) dead.push_back(n.get());
  }
  for (Node* n : dead) RemoveNode(n);
  // Drop values nothing refers to any more.
  absl::flat_hash_set<const Value*> used(inputs_.begin(), inputs_.end());
  used.insert(outputs_.begin(), outputs_.end());
  for (const auto& n : nodes_) {
    used.insert(n->inputs_.begin(), n->inputs_.end());
    used.insert(n->outputs_.begin(), n->outputs_.end());
  }
  std::erase_if(values_, [&](const std::unique_ptr<Value>& v) {
    if (used.contains(v.get())) return false;
    value_by_name_.erase(v->name_);
    return true;
  });
  return static_cast<int>(dead.size());
}

absl::StatusOr<std::vector<Node*>> Graph::TopologicalOrder() const {
  // Kahn's algorithm, stable with respect to the current node order.
  absl::flat_hash_map<const Node*, int> pending;
  absl::flat_hash_map<const Node*, int> position;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node* n = nodes_[i].get();
    position[n] = static_cast<int>(i);
    int count = 0;
    for (const Value* in : n->inputs_) {
      if (in != nullptr && in->producer_ != nullptr) ++count;
    }
    pending[n] = count;
  }
  std::vector<Node*> order;
  order.reserve(nodes_.size());
  std::vector<Node*> ready;
  for (const auto& n : nodes_) {
    if (pending[n.get()] == 0) ready.push_back(n.get());
  }
  auto by_position = [&](Node* a, Node* b) { return position[a] > position[b]; };
  std::make_heap(ready.begin(), ready.end(), by_position);
  while (!ready.empty()) {
    std::pop_heap(ready.begin(), ready.end(), by_position);
    Node* n = ready.back();
    ready.pop_back();
    order.push_back(n);
    for (Value* out : n->outputs_) {
      if (out == nullptr) continue;
      for (Node* c : out->consumers_) {
        if (--pending[c] == 0) {
          ready.push_back(c);
          std::push_heap(ready.begin(), ready.end(), by_position);
        }
      }
    }
  }
  if (order.size() != nodes_.size()) {
    std::vector<std::string> stuck;
    for (const auto& n : nodes_) {
      if (pending[n.get()] > 0) stuck.push_back(n->Describe());
    }
    return absl::InvalidArgumentError(
        absl::StrCat("the graph has a cycle through: ",
                     absl::StrJoin(stuck, ", ")));
  }
  return order;
}

absl::Status Graph::TopologicalSort() {
  absl::StatusOr<std::vector<Node*>> order = TopologicalOrder();
  if (!order.ok()) return order.status();
  absl::flat_hash_map<const Node*, int> rank;
  for (size_t i = 0; i < order->size(); ++i) rank[(*order)[i]] = static_cast<int>(i);
  std::sort(nodes_.begin(), nodes_.end(), [&](const auto& a, const auto& b) {
    return rank[a.get()] < rank[b.get()];
  });
  return absl::OkStatus();
}

Graph Graph::Clone() const {
  Graph copy;
  copy.name_ = name_;
  copy.opsets_ = opsets_;
  copy.metadata_ = metadata_;
  absl::flat_hash_map<const Value*, Value*> map;
  for (const auto& v : values_) {
    auto nv = std::unique_ptr<Value>(new Value(v->name_));
    nv->dtype_ = v->dtype_;
    nv->shape_ = v->shape_;
    nv->constant_ = v->constant_;
    nv->quant_ = v->quant_;
    map[v.get()] = nv.get();
    copy.value_by_name_[nv->name_] = nv.get();
    copy.values_.push_back(std::move(nv));
  }
  map[nullptr] = nullptr;
  for (const auto& n : nodes_) {
    auto nn = std::unique_ptr<Node>(new Node());
    nn->name_ = n->name_;
    nn->domain_ = n->domain_;
    nn->op_type_ = n->op_type_;
    nn->attributes_ = n->attributes_;
    nn->layout_ = n->layout_;
    nn->custom_options_ = n->custom_options_;
    nn->origins_ = n->origins_;
    for (Value* in : n->inputs_) {
      Value* m = map[in];
      nn->inputs_.push_back(m);
      if (m != nullptr) m->consumers_.push_back(nn.get());
    }
    for (Value* out : n->outputs_) {
      Value* m = map[out];
      nn->outputs_.push_back(m);
      if (m != nullptr) m->producer_ = nn.get();
    }
    copy.node_by_name_[nn->name_] = nn.get();
    copy.nodes_.push_back(std::move(nn));
  }
  for (Value* v : inputs_) copy.AddInput(map[v]);
  for (Value* v : outputs_) copy.AddOutput(map[v]);
  return copy;
}

}  // namespace qforge
