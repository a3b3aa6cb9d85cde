// The executor runs a quantized NCHW model NHWC (ConvertLayout with
// int8_exact on a private copy) and hides it: the spatial nodes it runs are
// NHWC with Transposes only at the boundaries, while fetched values and the
// tensors an observer sees keep the model's names, Values and NCHW shapes.
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "digits_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/io/npy.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::DigitsPath;
using ::qforge::testing::IsOk;
using ::qforge::testing::QuantizedDigits;
using ::qforge::testing::QuantizeDigits;

// [N, C, H, W] int8 -> [N, H, W, C], written out independently of the
// library's transposition code.
Tensor NchwToNhwc(const Tensor& t) {
  const int64_t n = t.dim(0), c = t.dim(1), h = t.dim(2), w = t.dim(3);
  Tensor out(t.dtype(), {n, h, w, c});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t k = 0; k < c; ++k)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          out.data<int8_t>()[((b * h + y) * w + x) * c + k] =
              t.data<int8_t>()[((b * c + k) * h + y) * w + x];
  return out;
}

class Int8LayoutExecutorTest
    : public ::testing::TestWithParam<ArithmeticProfile> {};

TEST_P(Int8LayoutExecutorTest, QuantizedDigitsRunsNhwcInvisibly) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizedDigits digits,
                              QuantizeDigits(registry, GetParam()));
  const Graph& model = digits.quantized.model;
  QFORGE_ASSERT_OK_AND_ASSIGN(auto exec, Executor::Prepare(model, registry));
  EXPECT_EQ(&exec->graph(), &model);
  const Graph& run = exec->executed_graph();
  ASSERT_NE(&run, &model);

  // Spatial nodes run NHWC; Transposes sit only at the boundaries: none
  // between two spatial nodes.
  const std::set<std::string> spatial = {"Conv", "MaxPool", "AveragePool",
                                         "GlobalAveragePool"};
  int spatial_nodes = 0, transposes = 0;
  for (const Node* n : run.nodes()) {
    if (spatial.count(n->op_type())) {
      ++spatial_nodes;
      EXPECT_EQ(n->layout(), Layout::kNHWC) << n->Describe();
    }
    if (n->op_type() == "Transpose") ++transposes;
  }
  EXPECT_GE(spatial_nodes, 2);
  EXPECT_LE(transposes, 2);
  // The model itself is untouched.
  for (const Node* n : model.nodes()) {
    EXPECT_NE(n->op_type(), "Transpose");
    if (spatial.count(n->op_type())) EXPECT_EQ(n->layout(), Layout::kNCHW);
  }

  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor images,
                              ReadNpy(DigitsPath("digits_test_images.npy")));
  // A few images.
  const int64_t n = 3;
  std::vector<int64_t> dims = images.dims();
  dims[0] = n;
  Tensor few(images.dtype(), dims);
  std::memcpy(few.raw_data(), images.raw_data(), few.num_bytes());
  const std::string in = model.inputs()[0]->name();

  // Observed: model Values with their producers, NCHW shapes, each once.
  std::map<std::string, Tensor> seen;
  RunOptions observe;
  observe.observer = [&](const Node& node, const Value& value,
                         const Tensor& t) -> absl::Status {
    EXPECT_EQ(model.FindValue(value.name()), &value) << value.name();
    EXPECT_EQ(value.producer(), &node) << value.name();
    EXPECT_FALSE(seen.count(value.name())) << value.name() << " seen twice";
    const Shape& s = value.shape();
    EXPECT_TRUE(s.rank_known() && s.rank() == t.rank()) << value.name();
    for (int i = 1; s.rank_known() && i < s.rank() && i < t.rank(); ++i) {
      if (s.dim(i).is_static()) {
        EXPECT_EQ(t.dim(i), s.dim(i).value) << value.name() << " dim " << i;
      }
    }
    seen.emplace(value.name(), t);
    return absl::OkStatus();
  };
  QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap out, exec->Run({{in, few}}, observe));
  int node_outputs = 0;
  for (const Node* node : model.nodes()) {
    for (const Value* v : node->outputs()) {
      if (v == nullptr) continue;
      ++node_outputs;
      EXPECT_TRUE(seen.count(v->name())) << v->name() << " not observed";
    }
  }
  EXPECT_EQ(static_cast<int>(seen.size()), node_outputs);

  // Fetching the first Conv's output gives the observed NCHW tensor, and
  // the executed graph holds it NHWC.
  const Node* conv = nullptr;
  for (const Node* node : model.nodes()) {
    if (node->op_type() == "Conv") {
      conv = node;
      break;
    }
  }
  ASSERT_NE(conv, nullptr);
  const std::string name = conv->output(0)->name();
  RunOptions fetch;
  fetch.fetch = {name};
  QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap f, exec->Run({{in, few}}, fetch));
  const Tensor& nchw = f.at(name);
  ASSERT_EQ(nchw.rank(), 4);
  ASSERT_EQ(seen.at(name).dims(), nchw.dims());
  EXPECT_EQ(
      std::memcmp(seen.at(name).raw_data(), nchw.raw_data(), nchw.num_bytes()),
      0);
  const Value* stored = run.FindValue(name);
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(stored->producer()->layout(), Layout::kNHWC);
  // The executed graph prepared on its own (already NHWC: kept as it is)
  // stores that value NHWC.
  QFORGE_ASSERT_OK_AND_ASSIGN(auto direct, Executor::Prepare(run, registry));
  EXPECT_EQ(&direct->executed_graph(), &run);
  QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap g, direct->Run({{in, few}}, fetch));
  const Tensor expected = NchwToNhwc(nchw);
  ASSERT_EQ(g.at(name).dims(), expected.dims());
  EXPECT_EQ(std::memcmp(g.at(name).raw_data(), expected.raw_data(),
                        expected.num_bytes()),
            0);
  // Same outputs either way.
  QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap out2, direct->Run({{in, few}}));
  for (const auto& [k, t] : out) {
    ASSERT_TRUE(out2.count(k)) << k;
    ASSERT_EQ(out2.at(k).dims(), t.dims());
    EXPECT_EQ(std::memcmp(out2.at(k).raw_data(), t.raw_data(), t.num_bytes()),
              0);
  }
}

INSTANTIATE_TEST_SUITE_P(Profiles, Int8LayoutExecutorTest,
                         ::testing::Values(ArithmeticProfile::kOnnxRuntime,
                                           ArithmeticProfile::kTfliteReference),
                         [](const auto& info) {
                           return std::string(
                               ArithmeticProfileName(info.param));
                         });

}  // namespace
}  // namespace qforge
