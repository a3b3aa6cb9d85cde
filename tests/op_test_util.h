// One-node graphs for op tests: build a graph around a single op, verify it
// (schema dtype rules and shape inference), prepare it and run it.
//
//   OpTest op("Add");
//   op.Input(Tensor::FromVector<float>({2}, {1, 2}))
//     .Constant(Tensor::Scalar<float>(1));
//   QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
//
// Inputs are graph inputs declared with the fed tensor's dtype and dims
// (or a given declared Shape, e.g. symbolic), constants, or omitted optional
// inputs. Run() also checks that every output's dtype and static dims agree
// with what shape inference derived, so each kernel test is a schema test too.
// This is the one one-node runner of the tests; tests/kernels/nn_test_util.h
// wraps it for the nn-family tests (RunOneNode).
#ifndef QFORGE_TESTS_OP_TEST_UTIL_H_
#define QFORGE_TESTS_OP_TEST_UTIL_H_

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "qforge/core/status.h"
#include "qforge/core/tensor.h"
#include "qforge/ir/graph.h"
#include "qforge/ir/verifier.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"

namespace qforge::testing {

// The builtin registry, created once per test binary.
inline const Registry& BuiltinRegistry() {
  static const Registry* registry = [] {
    auto* r = new Registry;
    absl::Status s = RegisterBuiltins(*r);
    if (!s.ok()) std::abort();
    return r;
  }();
  return *registry;
}

class OpTest {
 public:
  // The node is named "test_node"; messages read "node 'test_node' (Op)".
  explicit OpTest(std::string op_type, int64_t opset = 17)
      : op_type_(std::move(op_type)) {
    graph_.set_opset("", opset);
  }

  // Another node name (before the node is built).
  OpTest& Named(std::string name) {
    node_name_ = std::move(name);
    return *this;
  }
  // The node's data layout (spatial ops: kNCHW or kNHWC).
  OpTest& WithLayout(Layout layout) {
    layout_ = layout;
    return *this;
  }

  // A graph input, fed with `value` at run time and declared with its dtype
  // and dims.
  OpTest& Input(Tensor value) {
    Shape declared(value.dims());
    return Input(std::move(value), std::move(declared));
  }
  // A graph input declared with `declared` (which may be symbolic or of
  // unknown rank).
  OpTest& Input(Tensor value, Shape declared) {
    const std::string name = absl::StrCat("in", inputs_.size());
    Value* v = graph_.AddValue(name, value.dtype(), std::move(declared));
    graph_.AddInput(v);
    feeds_[name] = std::move(value);
    inputs_.push_back(v);
    return *this;
  }
  // A constant input.
  OpTest& Constant(Tensor value) {
    inputs_.push_back(graph_.AddConstant(absl::StrCat("in", inputs_.size()),
                                         std::move(value)));
    return *this;
  }
  // An omitted optional input.
  OpTest& Omitted() {
    inputs_.push_back(nullptr);
    return *this;
  }
  OpTest& Attr(std::string name, Attribute value) {
    attributes_[std::move(name)] = std::move(value);
    return *this;
  }
  OpTest& NumOutputs(int n) {
    num_outputs_ = n;
    return *this;
  }

  // Builds the node (once) and runs VerifyGraph.
  absl::Status Verify() {
    if (node_ == nullptr) {
      std::vector<Value*> outputs;
      for (int i = 0; i < num_outputs_; ++i) {
        Value* out = graph_.AddValue(absl::StrCat("out", i));
        graph_.AddOutput(out);
        outputs.push_back(out);
      }
      QFORGE_ASSIGN_OR_RETURN(node_,
                              graph_.AddNode({.name = node_name_,
                                              .op_type = op_type_,
                                              .inputs = inputs_,
                                              .outputs = outputs,
                                              .attributes = attributes_}));
      node_->set_layout(layout_);
    }
    return VerifyGraph(graph_, BuiltinRegistry().schemas());
  }

  // Output i as inferred by Verify().
  const Value& output(int i) const { return *node_->output(i); }
  const Graph& graph() const { return graph_; }

  // Verifies, prepares and runs the graph; returns the outputs in order.
  absl::StatusOr<std::vector<Tensor>> Run() {
    QFORGE_RETURN_IF_ERROR(Verify());
    QFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Executor> exec,
                            Executor::Prepare(graph_, BuiltinRegistry()));
    QFORGE_ASSIGN_OR_RETURN(TensorMap out, exec->Run(feeds_));
    std::vector<Tensor> result;
    for (int i = 0; i < num_outputs_; ++i) {
      const Value& v = output(i);
      Tensor& t = out.at(v.name());
      if (v.dtype() != DataType::kUndefined && v.dtype() != t.dtype()) {
        return absl::InternalError(absl::StrCat(
            "output ", i, ": inferred dtype ", DataTypeName(v.dtype()),
            " but the kernel produced ", t.DebugString()));
      }
      const Shape& s = v.shape();
      if (s.rank_known()) {
        bool ok = s.rank() == t.rank();
        for (int d = 0; ok && d < s.rank(); ++d) {
          ok = !s.dim(d).is_static() || s.dim(d).value == t.dim(d);
        }
        if (!ok) {
          return absl::InternalError(
              absl::StrCat("output ", i, ": inferred shape ", s.ToString(),
                           " but the kernel produced ", t.DebugString()));
        }
      }
      result.push_back(std::move(t));
    }
    return result;
  }

  // Run() for a single-output op.
  absl::StatusOr<Tensor> RunOne() {
    QFORGE_ASSIGN_OR_RETURN(std::vector<Tensor> out, Run());
    return std::move(out.at(0));
  }

 private:
  std::string op_type_;
  std::string node_name_ = "test_node";
  Layout layout_ = Layout::kNCHW;
  Graph graph_;
  std::vector<Value*> inputs_;
  std::map<std::string, Attribute> attributes_;
  int num_outputs_ = 1;
  TensorMap feeds_;
  Node* node_ = nullptr;
};

}  // namespace qforge::testing

#endif  // QFORGE_TESTS_OP_TEST_UTIL_H_
