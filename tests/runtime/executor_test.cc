#include "qforge/runtime/executor.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/ir/verifier.h"
#include "qforge/registry.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// y = Relu(x + bias), with bias a constant.
class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(RegisterBuiltins(registry_), IsOk());
    x_ = graph_.AddValue("x", DataType::kFloat32, Shape({Dim::Symbol("n"), Dim::Static(3)}));
    Value* bias = graph_.AddConstant("bias", Tensor::FromVector<float>({3}, {1, -1, 0.5f}));
    Value* sum = graph_.AddValue("sum");
    Value* y = graph_.AddValue("y");
    graph_.AddInput(x_);
    ASSERT_TRUE(graph_.AddNode({.name = "add", .op_type = "Add", .inputs = {x_, bias}, .outputs = {sum}}).ok());
    ASSERT_TRUE(graph_.AddNode({.name = "relu", .op_type = "Relu", .inputs = {sum}, .outputs = {y}}).ok());
    graph_.AddOutput(y);
    ASSERT_THAT(VerifyGraph(graph_, registry_.schemas()), IsOk());
  }
  Registry registry_;
  Graph graph_;
  Value* x_;
};

TEST_F(ExecutorTest, RunsAndObservesEveryIntermediate) {
  QFORGE_ASSERT_OK_AND_ASSIGN(auto exec, Executor::Prepare(graph_, registry_));
  std::vector<std::string> seen;
  RunOptions options;
  options.observer = [&](const Node& node, const Value& value, const Tensor&) {
    seen.push_back(node.name() + ":" + value.name());
    return absl::OkStatus();
  };
  TensorMap in;
  in["x"] = Tensor::FromVector<float>({1, 3}, {-2, 0, 1});
  QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap out, exec->Run(in, options));
  EXPECT_THAT(out.at("y").ToVector<float>(), ElementsAre(0.0f, 0.0f, 1.5f));
  EXPECT_THAT(seen, ElementsAre("add:sum", "relu:y"));
}

TEST_F(ExecutorTest, FetchRunsOnlyWhatIsNeeded) {
  QFORGE_ASSERT_OK_AND_ASSIGN(auto exec, Executor::Prepare(graph_, registry_));
  int runs = 0;
  RunOptions options;
  options.fetch = {"sum"};
  options.observer = [&](const Node&, const Value&, const Tensor&) {
    ++runs;
    return absl::OkStatus();
  };
  TensorMap in;
  in["x"] = Tensor::FromVector<float>({1, 3}, {-2, 0, 1});
  QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap out, exec->Run(in, options));
  EXPECT_EQ(runs, 1);
  EXPECT_THAT(out.at("sum").ToVector<float>(), ElementsAre(-1.0f, -1.0f, 1.5f));
}

TEST_F(ExecutorTest, BatchSizeCanChangeBetweenRuns) {
  QFORGE_ASSERT_OK_AND_ASSIGN(auto exec, Executor::Prepare(graph_, registry_));
  for (int64_t n : {1, 4, 2}) {
    TensorMap in;
    in["x"] = Tensor(DataType::kFloat32, {n, 3});
    QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap out, exec->Run(in));
    EXPECT_EQ(out.at("y").dims(), (std::vector<int64_t>{n, 3}));
  }
}

TEST_F(ExecutorTest, RunsFromSeveralThreadsAtOnce) {
  QFORGE_ASSERT_OK_AND_ASSIGN(auto exec, Executor::Prepare(graph_, registry_));
  std::vector<std::thread> threads;
  std::vector<float> results(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        TensorMap in;
        in["x"] = Tensor::FromVector<float>({1, 3}, {float(t), 0, 0});
        absl::StatusOr<TensorMap> out = exec->Run(in);
        if (out.ok()) results[t] = out->at("y").data<float>()[0];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_THAT(results, ElementsAre(1.0f, 2.0f, 3.0f, 4.0f));
}

TEST_F(ExecutorTest, BadInputsAreRejectedWithNames) {
  QFORGE_ASSERT_OK_AND_ASSIGN(auto exec, Executor::Prepare(graph_, registry_));
  EXPECT_THAT(exec->Run({}), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("'x' was not given")));
  TensorMap wrong_type;
  wrong_type["x"] = Tensor(DataType::kFloat64, {1, 3});
  EXPECT_THAT(exec->Run(wrong_type),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expects float32, got float64[1,3]")));
  TensorMap wrong_shape;
  wrong_shape["x"] = Tensor(DataType::kFloat32, {1, 4});
  EXPECT_THAT(exec->Run(wrong_shape),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("[n,3]")));
}

TEST_F(ExecutorTest, MissingKernelNamesNodeAndFix) {
  Value* z = graph_.AddValue("z");
  ASSERT_TRUE(graph_.AddNode({.name = "anchors_p3", .domain = "qforge.contrib",
                              .op_type = "AnchorBoxes", .inputs = {x_}, .outputs = {z}}).ok());
  EXPECT_THAT(Executor::Prepare(graph_, registry_),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("anchors_p3"), HasSubstr("AnchorBoxes"),
                             HasSubstr("--plugin"))));
}

}  // namespace
}  // namespace qforge
