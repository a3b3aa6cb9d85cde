// Test helper: a structural, bitwise comparison of two graphs, used by the
// ONNX export round-trip tests (import -> export -> import).
#ifndef QFORGE_TESTS_IO_GRAPH_COMPARE_H_
#define QFORGE_TESTS_IO_GRAPH_COMPARE_H_

#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "qforge/ir/graph.h"

namespace qforge::testing {

inline bool TensorsBitwiseEqual(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.dims() == b.dims() &&
         (a.num_bytes() == 0 ||
          std::memcmp(a.raw_data(), b.raw_data(), a.num_bytes()) == 0);
}

inline bool AttributesEqual(const Attribute& a, const Attribute& b) {
  if (a.index() != b.index()) return false;
  if (const Tensor* ta = std::get_if<Tensor>(&a)) {
    return TensorsBitwiseEqual(*ta, std::get<Tensor>(b));
  }
  if (const float* fa = std::get_if<float>(&a)) {
    return std::memcmp(fa, &std::get<float>(b), sizeof(float)) == 0;
  }
  if (const auto* va = std::get_if<std::vector<float>>(&a)) {
    const auto& vb = std::get<std::vector<float>>(b);
    return va->size() == vb.size() &&
           (va->empty() || std::memcmp(va->data(), vb.data(),
                                       va->size() * sizeof(float)) == 0);
  }
  if (const auto* ia = std::get_if<int64_t>(&a))
    return *ia == std::get<int64_t>(b);
  if (const auto* sa = std::get_if<std::string>(&a))
    return *sa == std::get<std::string>(b);
  if (const auto* va = std::get_if<std::vector<int64_t>>(&a)) {
    return *va == std::get<std::vector<int64_t>>(b);
  }
  return std::get<std::vector<std::string>>(a) ==
         std::get<std::vector<std::string>>(b);
}

inline std::string ValueName(const Value* v) {
  return v == nullptr ? "<none>" : v->name();
}

inline std::string DescribeValue(const Value* v) {
  if (v == nullptr) return "<none>";
  return absl::StrCat(v->name(), ":", DataTypeName(v->dtype()),
                      v->shape().ToString(), v->is_constant() ? " const" : "");
}

// Empty when equal; otherwise the first difference.
inline std::string GraphDiff(const Graph& a, const Graph& b) {
  if (a.name() != b.name())
    return absl::StrCat("name ", a.name(), " vs ", b.name());
  if (a.opsets() != b.opsets()) return "opsets differ";
  auto list_diff = [](const char* what, const std::vector<Value*>& x,
                      const std::vector<Value*>& y) -> std::string {
    if (x.size() != y.size())
      return absl::StrCat(what, " count ", x.size(), " vs ", y.size());
    for (size_t i = 0; i < x.size(); ++i) {
      if (DescribeValue(x[i]) != DescribeValue(y[i])) {
        return absl::StrCat(what, " ", i, ": ", DescribeValue(x[i]), " vs ",
                            DescribeValue(y[i]));
      }
    }
    return "";
  };
  if (std::string d = list_diff("input", a.inputs(), b.inputs()); !d.empty())
    return d;
  if (std::string d = list_diff("output", a.outputs(), b.outputs()); !d.empty())
    return d;
  const std::vector<Node*> na = a.nodes(), nb = b.nodes();
  if (na.size() != nb.size())
    return absl::StrCat("node count ", na.size(), " vs ", nb.size());
  for (size_t i = 0; i < na.size(); ++i) {
    const Node& x = *na[i];
    const Node& y = *nb[i];
    if (x.name() != y.name() || x.domain() != y.domain() ||
        x.op_type() != y.op_type()) {
      return absl::StrCat("node ", i, ": ", x.Describe(), " vs ", y.Describe());
    }
    if (x.num_inputs() != y.num_inputs() ||
        x.num_outputs() != y.num_outputs()) {
      return absl::StrCat(x.Describe(), ": arity differs");
    }
    for (int k = 0; k < x.num_inputs(); ++k) {
      if (DescribeValue(x.input(k)) != DescribeValue(y.input(k))) {
        return absl::StrCat(x.Describe(), " input ", k, ": ",
                            DescribeValue(x.input(k)), " vs ",
                            DescribeValue(y.input(k)));
      }
      if (x.input(k) && x.input(k)->is_constant() &&
          !TensorsBitwiseEqual(*x.input(k)->constant(),
                               *y.input(k)->constant())) {
        return absl::StrCat("constant '", x.input(k)->name(), "' data differs");
      }
    }
    for (int k = 0; k < x.num_outputs(); ++k) {
      if (DescribeValue(x.output(k)) != DescribeValue(y.output(k))) {
        return absl::StrCat(x.Describe(), " output ", k, ": ",
                            DescribeValue(x.output(k)), " vs ",
                            DescribeValue(y.output(k)));
      }
    }
    if (x.attributes().size() != y.attributes().size()) {
      return absl::StrCat(x.Describe(), ": attribute count differs");
    }
    for (const auto& [name, attr] : x.attributes()) {
      const Attribute* other = y.FindAttribute(name);
      if (other == nullptr || !AttributesEqual(attr, *other)) {
        return absl::StrCat(x.Describe(), ": attribute '", name, "' differs");
      }
    }
  }
  // Every constant, including unused ones.
  for (const Value* v : a.values()) {
    if (!v->is_constant()) continue;
    const Value* w = b.FindValue(v->name());
    if (w == nullptr || !w->is_constant() ||
        !TensorsBitwiseEqual(*v->constant(), *w->constant())) {
      return absl::StrCat("constant '", v->name(), "' differs");
    }
  }
  return "";
}

}  // namespace qforge::testing

#endif  // QFORGE_TESTS_IO_GRAPH_COMPARE_H_
