// Helpers for the nn-family kernel tests: run one node (OneNodeSpec, on top
// of tests/op_test_util.h's OpTest), make random tensors, transpose between
// layouts, compare.
#ifndef QFORGE_TESTS_KERNELS_NN_TEST_UTIL_H_
#define QFORGE_TESTS_KERNELS_NN_TEST_UTIL_H_

#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "op_test_util.h"
#include "qforge/core/status.h"
#include "qforge/ir/graph.h"
#include "qforge/ir/verifier.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"

namespace qforge::testing {

// One input of a test node: a tensor fed at run time, a constant, or omitted.
struct NodeInput {
  std::optional<Tensor> tensor;
  bool constant = false;

  static NodeInput Fed(Tensor t) { return {std::move(t), false}; }
  static NodeInput Const(Tensor t) { return {std::move(t), true}; }
  static NodeInput Omitted() { return {std::nullopt, false}; }
};

struct OneNodeSpec {
  std::string op;
  std::vector<NodeInput> inputs;
  std::map<std::string, Attribute> attributes;
  Layout layout = Layout::kNCHW;
  int num_outputs = 1;
  int64_t opset = 17;
};

struct OneNodeResult {
  std::vector<Tensor> outputs;
  // Shapes inferred by the verifier for each output.
  std::vector<Shape> inferred;
};

// Builds a graph with the single node (named "node"), verifies it and runs
// it with OpTest (tests/op_test_util.h), which also checks the outputs'
// dtypes and static dims against shape inference.
inline absl::StatusOr<OneNodeResult> RunOneNode(const OneNodeSpec& spec) {
  OpTest op(spec.op, spec.opset);
  op.Named("node").WithLayout(spec.layout).NumOutputs(spec.num_outputs);
  for (const NodeInput& in : spec.inputs) {
    if (!in.tensor.has_value()) {
      op.Omitted();
    } else if (in.constant) {
      op.Constant(*in.tensor);
    } else {
      op.Input(*in.tensor);
    }
  }
  for (const auto& [name, value] : spec.attributes) op.Attr(name, value);
  OneNodeResult result;
  QFORGE_ASSIGN_OR_RETURN(result.outputs, op.Run());
  for (int i = 0; i < spec.num_outputs; ++i) {
    result.inferred.push_back(op.output(i).shape());
  }
  return result;
}

inline Tensor RandomTensor(std::vector<int64_t> dims, uint32_t seed,
                           float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor t(DataType::kFloat32, std::move(dims));
  for (float& v : t.values<float>()) v = dist(rng);
  return t;
}

// Transposes a float tensor: out dim i = in dim perm[i].
inline Tensor TransposeF(const Tensor& t, const std::vector<int>& perm) {
  const int r = t.rank();
  std::vector<int64_t> out_dims(r);
  for (int i = 0; i < r; ++i) out_dims[i] = t.dim(perm[i]);
  Tensor out(DataType::kFloat32, out_dims);
  std::vector<int64_t> in_strides(r, 1);
  for (int i = r - 2; i >= 0; --i)
    in_strides[i] = in_strides[i + 1] * t.dim(i + 1);
  std::vector<int64_t> idx(r, 0);
  const float* src = t.data<float>();
  float* dst = out.data<float>();
  for (int64_t i = 0; i < out.num_elements(); ++i) {
    int64_t off = 0;
    for (int d = 0; d < r; ++d) off += idx[d] * in_strides[perm[d]];
    dst[i] = src[off];
    for (int d = r - 1; d >= 0; --d) {
      if (++idx[d] < out_dims[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

// [N, C, D...] -> [N, D..., C] and back.
inline std::vector<int> ToNhwcPerm(int rank) {
  std::vector<int> p = {0};
  for (int i = 2; i < rank; ++i) p.push_back(i);
  p.push_back(1);
  return p;
}
inline std::vector<int> ToNchwPerm(int rank) {
  std::vector<int> p = {0, rank - 1};
  for (int i = 1; i < rank - 1; ++i) p.push_back(i);
  return p;
}
inline Tensor ToNhwc(const Tensor& t) {
  return TransposeF(t, ToNhwcPerm(t.rank()));
}
inline Tensor ToNchw(const Tensor& t) {
  return TransposeF(t, ToNchwPerm(t.rank()));
}

// Element-wise closeness: |a - b| <= atol + rtol * |b|.
inline ::testing::AssertionResult AllClose(const Tensor& actual,
                                           const Tensor& expected,
                                           double rtol = 1e-5,
                                           double atol = 1e-6) {
  if (actual.dims() != expected.dims()) {
    return ::testing::AssertionFailure()
           << "dims " << DimsToString(actual.dims()) << " vs expected "
           << DimsToString(expected.dims());
  }
  int bad = 0;
  std::string first;
  for (int64_t i = 0; i < actual.num_elements(); ++i) {
    const double a = actual.GetAsDouble(i);
    const double e = expected.GetAsDouble(i);
    const bool both_nan = std::isnan(a) && std::isnan(e);
    if (!both_nan && !(std::fabs(a - e) <= atol + rtol * std::fabs(e))) {
      if (bad++ == 0) first = absl::StrCat("element ", i, ": ", a, " vs ", e);
    }
  }
  if (bad > 0) {
    return ::testing::AssertionFailure()
           << bad << " of " << actual.num_elements()
           << " elements differ; first " << first;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace qforge::testing

#endif  // QFORGE_TESTS_KERNELS_NN_TEST_UTIL_H_
