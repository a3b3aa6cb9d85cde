// Tensor ops (Constant, Shape, Gather, Slice, Split, Concat, Reshape,
// Flatten, Transpose, Squeeze, Unsqueeze, Pad): schemas and kernels.
// Expected values are hand-computed or produced by explicit index formulas.
#include <cstdint>
#include <numeric>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "op_test_util.h"
#include "qforge/core/float16.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::OpTest;
using ::qforge::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using Dims = std::vector<int64_t>;

Tensor F(Dims dims, std::vector<float> v) {
  return Tensor::FromVector<float>(std::move(dims), v);
}
Tensor I64(Dims dims, std::vector<int64_t> v) {
  return Tensor::FromVector<int64_t>(std::move(dims), v);
}
Tensor I64(std::vector<int64_t> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return Tensor::FromVector<int64_t>({n}, v);
}
// 0, 1, 2, ... as float.
Tensor Iota(Dims dims) {
  std::vector<float> v(NumElements(dims));
  std::iota(v.begin(), v.end(), 0.0f);
  return F(std::move(dims), v);
}

// --- Constant, Shape ---------------------------------------------------------

TEST(ConstantTest, ValueAttributes) {
  {
    OpTest op("Constant");
    op.Attr("value", Tensor::FromVector<int32_t>({2}, {7, -7}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_EQ(y.dtype(), DataType::kInt32);
    EXPECT_THAT(y.ToVector<int32_t>(), ElementsAre(7, -7));
  }
  {
    OpTest op("Constant");
    op.Attr("value_float", 2.5f);
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_EQ(y.rank(), 0);
    EXPECT_THAT(y.ToVector<float>(), ElementsAre(2.5f));
  }
  {
    OpTest op("Constant");
    op.Attr("value_floats", std::vector<float>{1, 2});
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_EQ(y.dims(), Dims{2});
    EXPECT_THAT(y.ToVector<float>(), ElementsAre(1, 2));
  }
  {
    OpTest op("Constant");
    op.Attr("value_int", int64_t{-3});
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_EQ(y.dtype(), DataType::kInt64);
    EXPECT_THAT(y.ToVector<int64_t>(), ElementsAre(-3));
  }
  {
    OpTest op("Constant");
    op.Attr("value_ints", std::vector<int64_t>{4, 5, 6});
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_EQ(y.dims(), Dims{3});
    EXPECT_THAT(y.ToVector<int64_t>(), ElementsAre(4, 5, 6));
  }
}

TEST(ConstantTest, NeedsExactlyOneValue) {
  OpTest none("Constant");
  EXPECT_THAT(none.Verify(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("test_node"), HasSubstr("none"))));
  OpTest two("Constant");
  two.Attr("value_int", int64_t{1}).Attr("value_float", 1.0f);
  EXPECT_THAT(two.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("value_float, value_int")));
  OpTest str("Constant");
  str.Attr("value_string", std::string("x"));
  EXPECT_THAT(str.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("value_string")));
}

TEST(ShapeTest, StartAndEnd) {
  const Tensor x(DataType::kFloat32, {2, 3, 4, 5});
  struct Case {
    std::optional<int64_t> start, end;
    std::vector<int64_t> expected;
  };
  const Case cases[] = {
      {{}, {}, {2, 3, 4, 5}},
      {1, {}, {3, 4, 5}},
      {{}, 1, {2}},
      {-1, {}, {5}},
      {1, -1, {3, 4}},
      {-10, 10, {2, 3, 4, 5}},
      {3, 1, {}},
  };
  for (const Case& c : cases) {
    OpTest op("Shape");
    op.Input(x);
    if (c.start) op.Attr("start", *c.start);
    if (c.end) op.Attr("end", *c.end);
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_EQ(y.dtype(), DataType::kInt64);
    EXPECT_THAT(y.ToVector<int64_t>(), ElementsAreArray(c.expected));
  }
}

TEST(ShapeTest, InferredLengthWithSymbolicDims) {
  OpTest op("Shape");
  op.Input(Tensor(DataType::kFloat32, {2, 3}),
           Shape({Dim::Symbol("n"), Dim::Static(3)}));
  ASSERT_THAT(op.Verify(), IsOk());
  EXPECT_EQ(op.output(0).shape(), Shape({2}));
}

// --- Gather ------------------------------------------------------------------

TEST(GatherTest, Axis0) {
  OpTest op("Gather");
  op.Input(Iota({3, 2})).Constant(I64({2, 2}, {0, 2, 2, 1}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (Dims{2, 2, 2}));
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(0, 1, 4, 5, 4, 5, 2, 3));
}

TEST(GatherTest, Axis1NegativeInt32Indices) {
  // data[i][j] = 3i + j; gather columns {-1, 0} -> [[2, 0], [5, 3]].
  OpTest op("Gather");
  op.Input(Iota({2, 3}))
      .Input(Tensor::FromVector<int32_t>({2}, {-1, 0}))
      .Attr("axis", int64_t{1});
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (Dims{2, 2}));
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(2, 0, 5, 3));
}

TEST(GatherTest, ScalarIndexDropsTheAxis) {
  OpTest op("Gather");
  op.Input(Iota({2, 3, 2}))
      .Constant(Tensor::Scalar<int64_t>(2))
      .Attr("axis", int64_t{-2});
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (Dims{2, 2}));
  // data[i][2][k] = 6i + 4 + k.
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(4, 5, 10, 11));
}

TEST(GatherTest, OtherDtypes) {
  OpTest op("Gather");
  op.Input(Tensor::FromVector<int8_t>({4}, {10, 20, 30, 40}))
      .Input(I64({3}, {3, 3, 0}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<int8_t>(), ElementsAre(40, 40, 10));
}

TEST(GatherTest, OutOfRangeIndexNamesNodeAndIndex) {
  OpTest op("Gather");
  op.Input(Iota({3, 2})).Input(I64({3}, {0, 3, 1}));
  EXPECT_THAT(op.Run(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("node 'test_node' (Gather)"),
                             HasSubstr("index 3"), HasSubstr("element 1"),
                             HasSubstr("size 3"))));
  OpTest neg("Gather");
  neg.Input(Iota({3, 2})).Input(I64({1}, {-4}));
  EXPECT_THAT(neg.Run(), StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("index -4")));
}

TEST(GatherTest, ConstantOutOfRangeIndexFailsVerification) {
  OpTest op("Gather");
  op.Input(Iota({3, 2})).Constant(I64({1}, {5})).Attr("axis", int64_t{0});
  EXPECT_THAT(op.Verify(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("test_node"), HasSubstr("index 5"))));
}

TEST(GatherTest, BadAxis) {
  OpTest op("Gather");
  op.Input(Iota({3, 2})).Input(I64({1}, {0})).Attr("axis", int64_t{2});
  EXPECT_THAT(op.Verify(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("test_node"), HasSubstr("axis 2"))));
}

TEST(GatherTest, FloatIndicesAreRejected) {
  OpTest op("Gather");
  op.Input(Iota({3})).Input(F({1}, {0}));
  EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("float32")));
}

// --- Slice -------------------------------------------------------------------

TEST(SliceTest, StartsEndsAxesSteps) {
  // data[i][j] = 10i + j over [3, 10]; rows 0..1, columns 1, 3, 5 (<6).
  std::vector<float> v;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 10; ++j) v.push_back(10.0f * i + j);
  OpTest op("Slice");
  op.Input(F({3, 10}, v))
      .Constant(I64({0, 1}))
      .Constant(I64({2, 6}))
      .Constant(I64({0, 1}))
      .Constant(I64({1, 2}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (Dims{2, 3}));
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(1, 3, 5, 11, 13, 15));
}

TEST(SliceTest, NegativeStepsAndClamping) {
  // Reverse everything: start past the end clamps to dim - 1, end INT64_MIN
  // clamps to -1.
  OpTest op("Slice");
  op.Input(Iota({5}))
      .Constant(I64({100}))
      .Constant(I64({INT64_MIN}))
      .Constant(I64({0}))
      .Constant(I64({-2}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(4, 2, 0));
}

TEST(SliceTest, NegativeAxesAndIndices) {
  // Last axis, from -3 to -1: columns 2, 3 of 5.
  OpTest op("Slice");
  op.Input(Iota({2, 5})).Input(I64({-3})).Input(I64({-1})).Input(I64({-1}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (Dims{2, 2}));
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(2, 3, 7, 8));
}

TEST(SliceTest, EmptyResultAndOutOfBoundsStart) {
  OpTest op("Slice");
  op.Input(Iota({4})).Constant(I64({10})).Constant(I64({20}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), Dims{0});
}

TEST(SliceTest, Int32ParametersAndOpset1Attributes) {
  {
    OpTest op("Slice");
    op.Input(Iota({6}))
        .Constant(Tensor::FromVector<int32_t>({1}, {1}))
        .Constant(Tensor::FromVector<int32_t>({1}, {-1}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<float>(), ElementsAre(1, 2, 3, 4));
  }
  {
    OpTest op("Slice", 9);
    op.Input(Iota({2, 3}))
        .Attr("starts", std::vector<int64_t>{1})
        .Attr("ends", std::vector<int64_t>{3})
        .Attr("axes", std::vector<int64_t>{1});
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_EQ(y.dims(), (Dims{2, 2}));
    EXPECT_THAT(y.ToVector<float>(), ElementsAre(1, 2, 4, 5));
  }
}

TEST(SliceTest, NonConstantParametersKeepRank) {
  OpTest op("Slice");
  op.Input(Iota({4, 6})).Input(I64({1})).Input(I64({3})).Constant(I64({1}));
  ASSERT_THAT(op.Verify(), IsOk());
  EXPECT_EQ(op.output(0).shape(), Shape({Dim::Static(4), Dim::Unknown()}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (Dims{4, 2}));
}

TEST(SliceTest, Errors) {
  {
    OpTest op("Slice");
    op.Input(Iota({4}))
        .Constant(I64({0}))
        .Constant(I64({2}))
        .Constant(I64({0}))
        .Constant(I64({0}));
    EXPECT_THAT(op.Verify(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("test_node"), HasSubstr("steps"))));
  }
  {
    OpTest op("Slice");
    op.Input(Iota({4})).Input(I64({0})).Input(I64({2})).Input(I64({1}));
    EXPECT_THAT(op.Run(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("test_node"), HasSubstr("axis 1"))));
  }
  {
    OpTest op("Slice");
    op.Input(Iota({4, 4})).Constant(I64({0, 0})).Constant(I64({2}));
    EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("ends has 1")));
  }
  {
    OpTest op("Slice");
    op.Input(Iota({4, 4}))
        .Constant(I64({0, 0}))
        .Constant(I64({2, 2}))
        .Constant(I64({1, -1}));
    EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("more than once")));
  }
}

// --- Split, Concat -----------------------------------------------------------

TEST(SplitTest, EqualParts) {
  OpTest op("Split");
  op.Input(Iota({2, 4})).Attr("axis", int64_t{1}).NumOutputs(2);
  QFORGE_ASSERT_OK_AND_ASSIGN(std::vector<Tensor> y, op.Run());
  EXPECT_EQ(y[0].dims(), (Dims{2, 2}));
  EXPECT_THAT(y[0].ToVector<float>(), ElementsAre(0, 1, 4, 5));
  EXPECT_THAT(y[1].ToVector<float>(), ElementsAre(2, 3, 6, 7));
}

TEST(SplitTest, SizesAsInputAndAttribute) {
  {
    OpTest op("Split");
    op.Input(Iota({6})).Constant(I64({1, 0, 5})).NumOutputs(3);
    QFORGE_ASSERT_OK_AND_ASSIGN(std::vector<Tensor> y, op.Run());
    EXPECT_THAT(y[0].ToVector<float>(), ElementsAre(0));
    EXPECT_THAT(y[1].ToVector<float>(), IsEmpty());
    EXPECT_THAT(y[2].ToVector<float>(), ElementsAre(1, 2, 3, 4, 5));
  }
  {
    OpTest op("Split", 11);
    op.Input(Iota({3, 2}))
        .Attr("split", std::vector<int64_t>{2, 1})
        .NumOutputs(2);
    QFORGE_ASSERT_OK_AND_ASSIGN(std::vector<Tensor> y, op.Run());
    EXPECT_THAT(y[0].ToVector<float>(), ElementsAre(0, 1, 2, 3));
    EXPECT_THAT(y[1].ToVector<float>(), ElementsAre(4, 5));
  }
}

TEST(SplitTest, Errors) {
  {
    OpTest op("Split");
    op.Input(Iota({5})).NumOutputs(2);
    EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      AllOf(HasSubstr("test_node"),
                                            HasSubstr("equal parts"))));
  }
  {
    OpTest op("Split");
    op.Input(Iota({5})).Constant(I64({2, 2})).NumOutputs(2);
    EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("sums to 4")));
  }
  {
    OpTest op("Split");
    op.Input(Iota({5})).Input(I64({2, 2})).NumOutputs(2);
    EXPECT_THAT(op.Run(), StatusIs(absl::StatusCode::kInvalidArgument,
                                   HasSubstr("sums to 4")));
  }
}

TEST(ConcatTest, Axis1) {
  OpTest op("Concat");
  op.Input(Iota({2, 1}))
      .Input(F({2, 2}, {10, 11, 12, 13}))
      .Attr("axis", int64_t{-1});
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (Dims{2, 3}));
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(0, 10, 11, 1, 12, 13));
}

TEST(ConcatTest, ThreeInputsAxis0WithEmpty) {
  OpTest op("Concat");
  op.Input(Tensor::FromVector<int64_t>({1}, {1}))
      .Input(Tensor(DataType::kInt64, {0}))
      .Constant(Tensor::FromVector<int64_t>({2}, {2, 3}))
      .Attr("axis", int64_t{0});
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<int64_t>(), ElementsAre(1, 2, 3));
}

TEST(ConcatTest, SymbolicInference) {
  OpTest op("Concat");
  op.Input(Iota({2, 3}), Shape({Dim::Symbol("n"), Dim::Static(3)}))
      .Input(Iota({2, 4}), Shape({Dim::Symbol("n"), Dim::Static(4)}))
      .Attr("axis", int64_t{1});
  ASSERT_THAT(op.Verify(), IsOk());
  EXPECT_EQ(op.output(0).shape(), Shape({Dim::Symbol("n"), Dim::Static(7)}));
}

TEST(ConcatTest, Errors) {
  {
    OpTest op("Concat");
    op.Input(Iota({2, 3})).Input(Iota({3, 3})).Attr("axis", int64_t{1});
    EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      AllOf(HasSubstr("test_node"),
                                            HasSubstr("dimension 0"))));
  }
  {
    OpTest op("Concat");
    op.Input(Iota({2}))
        .Input(Tensor::FromVector<int8_t>({1}, {1}))
        .Attr("axis", int64_t{0});
    EXPECT_THAT(op.Verify(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("float32"), HasSubstr("int8"))));
  }
  {
    OpTest op("Concat");
    op.Input(Iota({2}));
    EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("'axis'")));
  }
}

// --- Reshape, Flatten, Squeeze, Unsqueeze ------------------------------------

TEST(ReshapeTest, ZeroAndMinusOne) {
  OpTest op("Reshape");
  op.Input(Iota({2, 3, 4})).Constant(I64({0, -1}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (Dims{2, 12}));
  EXPECT_EQ(y.ToVector<float>(), Iota({2, 3, 4}).ToVector<float>());
}

TEST(ReshapeTest, AllowZero) {
  OpTest op("Reshape");
  op.Input(Tensor(DataType::kFloat32, {0, 3}))
      .Constant(I64({3, 0}))
      .Attr("allowzero", int64_t{1});
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (Dims{3, 0}));
}

TEST(ReshapeTest, SymbolicInputKeepsCopiedDim) {
  OpTest op("Reshape");
  op.Input(Iota({2, 3, 4}),
           Shape({Dim::Symbol("n"), Dim::Static(3), Dim::Static(4)}))
      .Constant(I64({0, -1}));
  ASSERT_THAT(op.Verify(), IsOk());
  EXPECT_EQ(op.output(0).shape(), Shape({Dim::Symbol("n"), Dim::Unknown()}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (Dims{2, 12}));
}

TEST(ReshapeTest, ShapeFromGraphInput) {
  OpTest op("Reshape");
  op.Input(Iota({6})).Input(I64({3, 2}));
  ASSERT_THAT(op.Verify(), IsOk());
  EXPECT_EQ(op.output(0).shape(), Shape({Dim::Unknown(), Dim::Unknown()}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (Dims{3, 2}));
}

TEST(ReshapeTest, Errors) {
  {
    OpTest op("Reshape");
    op.Input(Iota({2, 3})).Constant(I64({4, 2}));
    EXPECT_THAT(op.Verify(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("test_node"), HasSubstr("[2,3]"),
                               HasSubstr("[4,2]"))));
  }
  {
    OpTest op("Reshape");
    op.Input(Iota({2, 3})).Constant(I64({-1, -1}));
    EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("more than one -1")));
  }
  {
    OpTest op("Reshape");
    op.Input(Iota({6})).Input(I64({4, -1}));
    EXPECT_THAT(op.Run(), StatusIs(absl::StatusCode::kInvalidArgument,
                                   AllOf(HasSubstr("test_node"),
                                         HasSubstr("cannot reshape"))));
  }
  {
    OpTest op("Reshape");
    op.Input(Iota({6})).Constant(I64({6, 0}));
    EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("rank 1")));
  }
}

TEST(FlattenTest, Axes) {
  const Tensor x = Iota({2, 3, 4});
  const std::pair<int64_t, Dims> cases[] = {{0, {1, 24}}, {1, {2, 12}},
                                            {2, {6, 4}},  {3, {24, 1}},
                                            {-1, {6, 4}}, {-3, {1, 24}}};
  for (const auto& [axis, dims] : cases) {
    OpTest op("Flatten");
    op.Input(x).Attr("axis", axis);
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_EQ(y.dims(), dims) << "axis " << axis;
    EXPECT_EQ(y.ToVector<float>(), x.ToVector<float>());
  }
  OpTest bad("Flatten");
  bad.Input(x).Attr("axis", int64_t{4});
  EXPECT_THAT(bad.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("axis 4")));
}

TEST(SqueezeTest, AxesInputAttributeAndNone) {
  {
    OpTest op("Squeeze");
    op.Input(Iota({1, 3, 1, 2})).Constant(I64({-2}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_EQ(y.dims(), (Dims{1, 3, 2}));
  }
  {
    OpTest op("Squeeze", 11);
    op.Input(Iota({1, 3, 1, 2})).Attr("axes", std::vector<int64_t>{0, 2});
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_EQ(y.dims(), (Dims{3, 2}));
  }
  {
    OpTest op("Squeeze");
    op.Input(Iota({1, 3, 1, 2}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_EQ(y.dims(), (Dims{3, 2}));
    EXPECT_THAT(y.ToVector<float>(), ElementsAre(0, 1, 2, 3, 4, 5));
  }
}

TEST(SqueezeTest, NonUnitAxisIsAnError) {
  OpTest op("Squeeze");
  op.Input(Iota({1, 3})).Constant(I64({1}));
  EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                    AllOf(HasSubstr("test_node"),
                                          HasSubstr("axis 1 of size 3"))));
  OpTest run("Squeeze");
  run.Input(Iota({1, 3})).Input(I64({1}));
  EXPECT_THAT(run.Run(), StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("axis 1 of size 3")));
}

TEST(UnsqueezeTest, Axes) {
  {
    OpTest op("Unsqueeze");
    op.Input(Iota({3, 4})).Constant(I64({0, 3}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_EQ(y.dims(), (Dims{1, 3, 4, 1}));
  }
  {
    // Unsorted and negative: -1 is the last of the 4 output dims.
    OpTest op("Unsqueeze");
    op.Input(Iota({3, 4})).Constant(I64({-1, 1}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_EQ(y.dims(), (Dims{3, 1, 4, 1}));
  }
  {
    OpTest op("Unsqueeze", 11);
    op.Input(Tensor::Scalar<float>(5)).Attr("axes", std::vector<int64_t>{0});
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_EQ(y.dims(), (Dims{1}));
    EXPECT_THAT(y.ToVector<float>(), ElementsAre(5));
  }
}

TEST(UnsqueezeTest, Errors) {
  OpTest dup("Unsqueeze");
  dup.Input(Iota({3})).Constant(I64({1, 1}));
  EXPECT_THAT(dup.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     AllOf(HasSubstr("test_node"),
                                           HasSubstr("more than once"))));
  OpTest range("Unsqueeze");
  range.Input(Iota({3})).Input(I64({2}));
  EXPECT_THAT(range.Run(), StatusIs(absl::StatusCode::kInvalidArgument,
                                    HasSubstr("axis 2")));
  OpTest missing("Unsqueeze");
  missing.Input(Iota({3}));
  EXPECT_THAT(missing.Verify(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("axes")));
}

// --- Transpose ---------------------------------------------------------------

TEST(TransposeTest, DefaultReversesDims) {
  OpTest op("Transpose");
  op.Input(Iota({2, 3}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (Dims{3, 2}));
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(0, 3, 1, 4, 2, 5));
}

TEST(TransposeTest, EveryPermutationOfRank4) {
  const Dims in_dims = {2, 3, 4, 5};
  const Tensor x = Iota(in_dims);
  std::vector<int64_t> perm = {0, 1, 2, 3};
  do {
    OpTest op("Transpose");
    op.Input(x).Attr("perm", perm);
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    Dims out_dims(4);
    for (int i = 0; i < 4; ++i) out_dims[i] = in_dims[perm[i]];
    ASSERT_EQ(y.dims(), out_dims);
    // y[o0][o1][o2][o3] = x[idx] with idx[perm[i]] = o_i.
    std::vector<float> expected;
    int64_t o[4];
    for (o[0] = 0; o[0] < out_dims[0]; ++o[0])
      for (o[1] = 0; o[1] < out_dims[1]; ++o[1])
        for (o[2] = 0; o[2] < out_dims[2]; ++o[2])
          for (o[3] = 0; o[3] < out_dims[3]; ++o[3]) {
            int64_t idx[4];
            for (int i = 0; i < 4; ++i) idx[perm[i]] = o[i];
            expected.push_back(static_cast<float>(
                ((idx[0] * 3 + idx[1]) * 4 + idx[2]) * 5 + idx[3]));
          }
    EXPECT_EQ(y.ToVector<float>(), expected);
  } while (std::next_permutation(perm.begin(), perm.end()));
}

TEST(TransposeTest, Float16AndBool) {
  Tensor b(DataType::kBool, {2, 2});
  b.data<bool>()[1] = true;  // [[F, T], [F, F]] -> [[F, F], [T, F]]
  OpTest op("Transpose");
  op.Input(b);
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_THAT(y.ToVector<bool>(), ElementsAre(false, false, true, false));
}

TEST(TransposeTest, BadPerm) {
  OpTest op("Transpose");
  op.Input(Iota({2, 3})).Attr("perm", std::vector<int64_t>{0, 0});
  EXPECT_THAT(op.Verify(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("test_node"), HasSubstr("[0,0]"))));
  OpTest run("Transpose");
  run.Input(Iota({2, 3}), Shape()).Attr("perm", std::vector<int64_t>{0, 2});
  EXPECT_THAT(run.Run(), StatusIs(absl::StatusCode::kInvalidArgument,
                                  HasSubstr("not a permutation")));
}

// --- Pad ---------------------------------------------------------------------

TEST(PadTest, ConstantMode) {
  OpTest op("Pad");
  op.Input(Iota({2, 2}))
      .Constant(I64({1, 0, 0, 2}))
      .Constant(Tensor::Scalar<float>(-1));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (Dims{3, 4}));
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(-1, -1, -1, -1,  //
                                               0, 1, -1, -1,    //
                                               2, 3, -1, -1));
}

TEST(PadTest, ReflectAndEdgeMatchNumpy) {
  // np.pad([0,1,2], (2,3), 'reflect') = [2,1,0,1,2,1,0,1]
  // np.pad([0,1,2], (2,3), 'edge')    = [0,0,0,1,2,2,2,2]
  {
    OpTest op("Pad");
    op.Input(Iota({3}))
        .Constant(I64({2, 3}))
        .Attr("mode", std::string("reflect"));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<float>(), ElementsAre(2, 1, 0, 1, 2, 1, 0, 1));
  }
  {
    OpTest op("Pad");
    op.Input(Iota({3})).Constant(I64({2, 3})).Attr("mode", std::string("edge"));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<float>(), ElementsAre(0, 0, 0, 1, 2, 2, 2, 2));
  }
}

TEST(PadTest, Reflect2D) {
  // x = [[0,1,2],[3,4,5]]; pads rows (1,1), cols (1,1), reflect:
  // rows: [r1, r0, r1, r0]; cols: [c1, c0, c1, c2, c1].
  OpTest op("Pad");
  op.Input(Iota({2, 3}))
      .Input(I64({1, 1, 1, 1}))
      .Attr("mode", std::string("reflect"));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (Dims{4, 5}));
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(4, 3, 4, 5, 4,  //
                                               1, 0, 1, 2, 1,  //
                                               4, 3, 4, 5, 4,  //
                                               1, 0, 1, 2, 1));
}

TEST(PadTest, NegativePadsCrop) {
  // Crop one from the front of axis 1, add two zeros at its end.
  OpTest op("Pad");
  op.Input(Iota({2, 3})).Constant(I64({0, -1, 0, 2}));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
  EXPECT_EQ(y.dims(), (Dims{2, 4}));
  EXPECT_THAT(y.ToVector<float>(), ElementsAre(1, 2, 0, 0, 4, 5, 0, 0));
}

TEST(PadTest, Int32EdgeAndOpset2Attributes) {
  {
    OpTest op("Pad");
    op.Input(Tensor::FromVector<int32_t>({2}, {7, 9}))
        .Constant(I64({1, 1}))
        .Attr("mode", std::string("edge"));
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<int32_t>(), ElementsAre(7, 7, 9, 9));
  }
  {
    OpTest op("Pad", 2);
    op.Input(Iota({2}))
        .Attr("pads", std::vector<int64_t>{0, 1})
        .Attr("value", 2.5f);
    QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, op.RunOne());
    EXPECT_THAT(y.ToVector<float>(), ElementsAre(0, 1, 2.5f));
  }
}

TEST(PadTest, Errors) {
  {
    OpTest op("Pad");
    op.Input(Iota({2, 3})).Constant(I64({1, 1}));
    EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      AllOf(HasSubstr("test_node"),
                                            HasSubstr("pads has 2"))));
  }
  {
    OpTest op("Pad");
    op.Input(Iota({2})).Constant(I64({1, 1})).Attr("mode", std::string("wrap"));
    EXPECT_THAT(op.Verify(), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("wrap")));
  }
  {
    OpTest op("Pad");
    op.Input(Iota({2})).Input(I64({-3, 0}));
    EXPECT_THAT(op.Run(), StatusIs(absl::StatusCode::kInvalidArgument,
                                   AllOf(HasSubstr("test_node"),
                                         HasSubstr("remove more"))));
  }
  {
    OpTest op("Pad");
    op.Input(Tensor(DataType::kFloat32, {0}))
        .Input(I64({1, 0}))
        .Attr("mode", std::string("edge"));
    EXPECT_THAT(op.Run(), StatusIs(absl::StatusCode::kInvalidArgument,
                                   HasSubstr("no elements")));
  }
}

}  // namespace
}  // namespace qforge
