// Schemas of the elementwise, tensor and quant ops: inference on partial
// shapes, wrong attribute kinds, and a randomized robustness check.
//
// The robustness check builds thousands of one-node graphs with random
// shapes (static, symbolic or of unknown rank), random attribute values
// (in and out of range, sometimes of the wrong kind) and random constant
// parameters. For each, verification and execution must either succeed or
// fail with InvalidArgument / Unimplemented naming the node; and whenever
// both succeed, the kernel's output dtype and dims must match what shape
// inference derived (OpTest::Run reports a mismatch as Internal).
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kernels/float/dtype_dispatch.h"
#include "op_test_util.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::OpTest;
using ::qforge::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

Tensor F(std::vector<int64_t> dims) {
  Tensor t(DataType::kFloat32, std::move(dims));
  for (int64_t i = 0; i < t.num_elements(); ++i)
    t.data<float>()[i] = 0.5f * i - 1;
  return t;
}
Tensor I64(std::vector<int64_t> v) {
  const int64_t n = static_cast<int64_t>(v.size());
  return Tensor::FromVector<int64_t>({n}, v);
}

// --- inference on partial shapes ---------------------------------------------

TEST(SchemaInference, UnknownRankPropagates) {
  for (const char* op_type : {"Relu", "Softmax", "Identity", "Sigmoid"}) {
    OpTest op(op_type);
    op.Input(F({2, 3}), Shape());
    ASSERT_THAT(op.Verify(), IsOk()) << op_type;
    EXPECT_FALSE(op.output(0).shape().rank_known()) << op_type;
    EXPECT_EQ(op.output(0).dtype(), DataType::kFloat32) << op_type;
  }
}

TEST(SchemaInference, BroadcastWithSymbols) {
  OpTest op("Mul");
  op.Input(F({2, 1, 4}),
           Shape({Dim::Symbol("b"), Dim::Static(1), Dim::Unknown()}))
      .Input(F({3, 1}), Shape({Dim::Static(3), Dim::Static(1)}));
  ASSERT_THAT(op.Verify(), IsOk());
  EXPECT_EQ(op.output(0).shape(),
            Shape({Dim::Symbol("b"), Dim::Static(3), Dim::Unknown()}));
}

TEST(SchemaInference, GatherKeepsSymbols) {
  OpTest op("Gather");
  op.Input(F({2, 5, 3}),
           Shape({Dim::Symbol("n"), Dim::Static(5), Dim::Static(3)}))
      .Input(I64({1, 2}), Shape({Dim::Symbol("k")}))
      .Attr("axis", int64_t{1});
  ASSERT_THAT(op.Verify(), IsOk());
  EXPECT_EQ(op.output(0).shape(),
            Shape({Dim::Symbol("n"), Dim::Symbol("k"), Dim::Static(3)}));
}

TEST(SchemaInference, TransposeAndUnsqueezeKeepSymbols) {
  OpTest t("Transpose");
  t.Input(F({2, 3}), Shape({Dim::Symbol("n"), Dim::Static(3)}));
  ASSERT_THAT(t.Verify(), IsOk());
  EXPECT_EQ(t.output(0).shape(), Shape({Dim::Static(3), Dim::Symbol("n")}));

  OpTest u("Unsqueeze");
  u.Input(F({2}), Shape({Dim::Symbol("n")})).Constant(I64({0, -1}));
  ASSERT_THAT(u.Verify(), IsOk());
  EXPECT_EQ(u.output(0).shape(),
            Shape({Dim::Static(1), Dim::Symbol("n"), Dim::Static(1)}));
}

TEST(SchemaInference, SliceOnSymbolicAxisIsUnknown) {
  OpTest op("Slice");
  op.Input(F({4, 6}), Shape({Dim::Symbol("n"), Dim::Static(6)}))
      .Constant(I64({1, 1}))
      .Constant(I64({3, -1}));
  ASSERT_THAT(op.Verify(), IsOk());
  EXPECT_EQ(op.output(0).shape(), Shape({Dim::Unknown(), Dim::Static(4)}));
}

TEST(SchemaInference, SqueezeWithoutAxesNeedsStaticDims) {
  OpTest op("Squeeze");
  op.Input(F({1, 3}), Shape({Dim::Symbol("n"), Dim::Static(3)}));
  ASSERT_THAT(op.Verify(), IsOk());
  EXPECT_FALSE(op.output(0).shape().rank_known());
}

TEST(SchemaInference, FlattenAndPadWithSymbols) {
  OpTest f("Flatten");
  f.Input(F({2, 3, 4}),
          Shape({Dim::Symbol("n"), Dim::Static(3), Dim::Static(4)}));
  ASSERT_THAT(f.Verify(), IsOk());
  EXPECT_EQ(f.output(0).shape(), Shape({Dim::Unknown(), Dim::Static(12)}));

  OpTest p("Pad");
  p.Input(F({2, 3}), Shape({Dim::Symbol("n"), Dim::Static(3)}))
      .Constant(I64({0, 1, 0, 2}));
  ASSERT_THAT(p.Verify(), IsOk());
  EXPECT_EQ(p.output(0).shape(), Shape({Dim::Symbol("n"), Dim::Static(6)}));
}

TEST(SchemaInference, QuantOutputTypes) {
  OpTest q("QuantizeLinear");
  q.Input(F({2, 3}), Shape({Dim::Symbol("n"), Dim::Static(3)}))
      .Constant(Tensor::Scalar<float>(1))
      .Constant(Tensor::Scalar<int8_t>(0));
  ASSERT_THAT(q.Verify(), IsOk());
  EXPECT_EQ(q.output(0).dtype(), DataType::kInt8);
  EXPECT_EQ(q.output(0).shape(), Shape({Dim::Symbol("n"), Dim::Static(3)}));

  OpTest dq("DequantizeLinear");
  dq.Input(Tensor(DataType::kUint8, {4})).Constant(Tensor::Scalar<float>(1));
  ASSERT_THAT(dq.Verify(), IsOk());
  EXPECT_EQ(dq.output(0).dtype(), DataType::kFloat32);
}

// --- wrong attribute kinds ---------------------------------------------------

TEST(SchemaAttributes, WrongKindsAreErrorsNamingNodeAndAttribute) {
  struct Case {
    const char* op;
    const char* attr;
    Attribute value;
  };
  const Case cases[] = {
      {"Softmax", "axis", std::string("last")},
      {"Gather", "axis", std::vector<int64_t>{0}},
      {"Transpose", "perm", std::vector<float>{1, 0}},
      {"Flatten", "axis", std::string("1")},
      {"Cast", "to", 1.0f},
      {"LeakyRelu", "alpha", std::string("0.1")},
      {"Concat", "axis", std::vector<float>{0}},
      {"Pad", "mode", int64_t{0}},
      {"Shape", "start", 1.0f},
      {"Reshape", "allowzero", std::string("yes")},
      {"Split", "axis", std::vector<int64_t>{}},
      {"QuantizeLinear", "axis", std::string("x")},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op);
    OpTest op(c.op);
    op.Input(F({2, 2}));
    const std::string op_type = c.op;
    if (op_type == "Gather") op.Constant(I64({0}));
    if (op_type == "Pad") op.Constant(I64({0, 0, 0, 0}));
    if (op_type == "Reshape") op.Constant(I64({4}));
    if (op_type == "QuantizeLinear") op.Constant(F({2}));
    op.Attr(c.attr, c.value);
    EXPECT_THAT(op.Verify(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("test_node"),
                               HasSubstr(std::string("'") + c.attr + "'"))));
  }
}

// --- randomized robustness ---------------------------------------------------

class Fuzzer {
 public:
  explicit Fuzzer(uint32_t seed) : rng_(seed) {}

  int Int(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  std::vector<int64_t> Dims(int max_rank = 3) {
    std::vector<int64_t> dims(Int(0, max_rank));
    for (int64_t& d : dims) d = Chance(0.1) ? 0 : Int(1, 3);
    return dims;
  }
  std::vector<int64_t> Ints(int max_len, int lo, int hi) {
    std::vector<int64_t> v(Int(0, max_len));
    for (int64_t& x : v) x = Int(lo, hi);
    return v;
  }
  // Element type of the data tensors of the node being built: mostly
  // float32, sometimes any other type the IR carries.
  void PickDtype() {
    static constexpr DataType kOthers[] = {
        DataType::kFloat64, DataType::kFloat16, DataType::kInt8,
        DataType::kUint8,   DataType::kInt16,   DataType::kUint16,
        DataType::kInt32,   DataType::kInt64,   DataType::kBool};
    dtype_ = Chance(0.7) ? DataType::kFloat32 : kOthers[Int(0, 8)];
  }
  // Random data of the picked dtype: reals in [-3, 3], integers in
  // [-5, 5] (wrapped for unsigned types), zeros included.
  Tensor Floats(std::vector<int64_t> dims) {
    Tensor t(dtype_, std::move(dims));
    absl::Status s =
        kernels::VisitDtype(dtype_, [&]<typename T>(kernels::TypeTag<T>) {
          for (int64_t i = 0; i < t.num_elements(); ++i) {
            const double v =
                kernels::kIsFloat<T>
                    ? std::uniform_real_distribution<double>(-3, 3)(rng_)
                    : static_cast<double>(Int(-5, 5));
            if constexpr (std::is_unsigned_v<T> && !std::is_same_v<T, bool>) {
              t.data<T>()[i] = static_cast<T>(static_cast<int64_t>(v));
            } else {
              t.data<T>()[i] = kernels::CastValue<T>(v);
            }
          }
          return absl::OkStatus();
        });
    if (!s.ok()) ADD_FAILURE() << s;
    return t;
  }
  // A shape `b` that often broadcasts with `a`.
  std::vector<int64_t> BroadcastPartner(const std::vector<int64_t>& a) {
    if (Chance(0.2)) return Dims();
    std::vector<int64_t> b(a.begin() + Int(0, static_cast<int>(a.size())),
                           a.end());
    for (int64_t& d : b) {
      if (Chance(0.3)) d = 1;
    }
    return b;
  }

  // Adds `t` as a graph input (declared static, symbolic-ish or of unknown
  // rank) or as a constant.
  void Feed(OpTest& op, Tensor t, bool may_be_constant = true) {
    if (may_be_constant && Chance(0.4)) {
      op.Constant(std::move(t));
      return;
    }
    const int pick = Int(0, 9);
    if (pick == 0) {
      op.Input(std::move(t), Shape());
    } else if (pick == 1) {
      std::vector<Dim> dims;
      for (int64_t d : t.dims())
        dims.push_back(Chance(0.5) ? Dim::Unknown() : Dim::Static(d));
      op.Input(std::move(t), Shape(std::move(dims)));
    } else {
      op.Input(std::move(t));
    }
  }

  // Adds an int64 parameter (axes, pads, shape, ...): mostly a constant, so
  // that inference can use it.
  void FeedParam(OpTest& op, std::vector<int64_t> v) {
    if (Chance(0.75)) {
      op.Constant(I64(std::move(v)));
    } else {
      Feed(op, I64(std::move(v)), false);
    }
  }

  int64_t Axis() { return Int(-4, 4); }

  // n distinct axes of a rank-`rank` tensor, in random order, some negative;
  // now and then arbitrary values instead.
  std::vector<int64_t> DistinctAxes(int n, int rank) {
    if (Chance(0.1)) return Ints(3, -4, 4);
    std::vector<int64_t> all(rank);
    for (int i = 0; i < rank; ++i) all[i] = i;
    std::shuffle(all.begin(), all.end(), rng_);
    all.resize(std::min(n, rank));
    for (int64_t& a : all) {
      if (Chance(0.3)) a -= rank;
    }
    return all;
  }

  std::mt19937& rng() { return rng_; }

 private:
  std::mt19937 rng_;
  DataType dtype_ = DataType::kFloat32;
};

// Builds a random node of `op_type`.
void BuildRandom(Fuzzer& fz, OpTest& op, const std::string& op_type) {
  const std::vector<int64_t> dims = fz.Dims();
  fz.PickDtype();
  if (op_type == "Add" || op_type == "Sub" || op_type == "Mul" ||
      op_type == "Div" || op_type == "Pow") {
    fz.Feed(op, fz.Floats(dims));
    fz.Feed(op, fz.Floats(fz.BroadcastPartner(dims)));
  } else if (op_type == "Clip") {
    fz.Feed(op, fz.Floats(dims));
    for (int i = 0; i < 2; ++i) {
      if (fz.Chance(0.3)) {
        op.Omitted();
      } else {
        fz.Feed(op, fz.Floats(fz.Chance(0.8) ? std::vector<int64_t>{}
                                             : fz.Dims(1)));
      }
    }
  } else if (op_type == "Softmax" || op_type == "Flatten") {
    fz.Feed(op, fz.Floats(dims));
    if (fz.Chance(0.8)) op.Attr("axis", fz.Axis());
  } else if (op_type == "Cast") {
    fz.Feed(op, fz.Floats(dims));
    const int64_t codes[] = {1, 2, 3, 5, 6, 7, 9, 10, 11, 8, 16, 99};
    op.Attr("to", codes[fz.Int(0, 11)]);
  } else if (op_type == "Constant") {
    switch (fz.Int(0, 4)) {
      case 0:
        op.Attr("value", fz.Floats(fz.Dims()));
        break;
      case 1:
        op.Attr("value_float", 1.5f);
        break;
      case 2:
        op.Attr("value_ints", fz.Ints(3, -2, 2));
        break;
      case 3:
        op.Attr("value_int", int64_t{3}).Attr("value_float", 1.0f);
        break;
      default:
        break;  // No value at all.
    }
  } else if (op_type == "Shape") {
    fz.Feed(op, fz.Floats(dims), false);
    if (fz.Chance(0.5)) op.Attr("start", fz.Axis());
    if (fz.Chance(0.5)) op.Attr("end", fz.Axis());
  } else if (op_type == "Gather") {
    fz.Feed(op, fz.Floats(dims));
    Tensor idx = I64(fz.Ints(3, -4, 4));
    if (idx.num_elements() == 1 && fz.Chance(0.5)) idx.Reshape({});
    if (fz.Chance(0.7)) {
      op.Constant(std::move(idx));
    } else {
      fz.Feed(op, std::move(idx), false);
    }
    if (fz.Chance(0.8)) op.Attr("axis", fz.Axis());
  } else if (op_type == "Slice") {
    fz.Feed(op, fz.Floats(dims));
    const int rank = static_cast<int>(dims.size());
    std::vector<int64_t> axes = fz.DistinctAxes(fz.Int(0, rank), rank);
    const size_t n = fz.Chance(0.9) ? axes.size() : fz.Int(0, 3);
    std::vector<int64_t> starts(n), ends(n), steps(n);
    for (size_t i = 0; i < n; ++i) {
      starts[i] = fz.Chance(0.1) ? INT64_MIN : fz.Int(-5, 5);
      ends[i] = fz.Chance(0.1) ? INT64_MAX : fz.Int(-5, 5);
      steps[i] = fz.Chance(0.05) ? 0 : (fz.Chance(0.5) ? 1 : fz.Int(-3, 3));
      if (steps[i] == 0 && fz.Chance(0.8)) steps[i] = -1;
    }
    fz.FeedParam(op, starts);
    fz.FeedParam(op, ends);
    const bool with_axes = fz.Chance(0.7);
    if (with_axes) fz.FeedParam(op, axes);
    if (fz.Chance(0.6)) {
      if (!with_axes) op.Omitted();
      fz.FeedParam(op, steps);
    }
  } else if (op_type == "Split") {
    fz.Feed(op, fz.Floats(dims));
    const int outputs = fz.Int(1, 3);
    op.NumOutputs(outputs);
    const int64_t axis = fz.Axis();
    if (fz.Chance(0.8)) op.Attr("axis", axis);
    if (fz.Chance(0.5)) {
      // Sizes that usually sum to the axis' size.
      std::vector<int64_t> split(outputs, 0);
      const int rank = static_cast<int>(dims.size());
      int64_t left = rank > 0 ? dims[((axis % rank) + rank) % rank] : 2;
      for (int i = 0; i + 1 < outputs; ++i) {
        split[i] = fz.Int(0, static_cast<int>(left));
        left -= split[i];
      }
      split[outputs - 1] = left + (fz.Chance(0.1) ? 1 : 0);
      if (fz.Chance(0.1)) split = fz.Ints(3, -1, 3);
      fz.FeedParam(op, split);
    }
  } else if (op_type == "Concat") {
    const int n = fz.Int(1, 3);
    const int64_t axis = fz.Axis();
    for (int i = 0; i < n; ++i) {
      std::vector<int64_t> d = dims;
      if (!d.empty() && fz.Chance(0.7)) {
        const int a = static_cast<int>(
            ((axis % static_cast<int64_t>(d.size())) + d.size()) % d.size());
        d[a] = fz.Int(0, 3);
      } else if (fz.Chance(0.2)) {
        d = fz.Dims();
      }
      fz.Feed(op, fz.Floats(d));
    }
    if (fz.Chance(0.9)) op.Attr("axis", axis);
  } else if (op_type == "Reshape") {
    fz.Feed(op, fz.Floats(dims));
    std::vector<int64_t> shape;
    if (fz.Chance(0.6)) {
      // A valid shape: the input's dims regrouped, with a 0 or -1 now and then.
      int64_t n = NumElements(dims);
      for (int64_t d : {2, 3}) {
        while (n % d == 0 && n > 1 && fz.Chance(0.6)) {
          shape.push_back(d);
          n /= d;
        }
      }
      if (n != 1 || shape.empty()) shape.push_back(n);
      std::shuffle(shape.begin(), shape.end(), fz.rng());
      if (fz.Chance(0.4))
        shape[fz.Int(0, static_cast<int>(shape.size()) - 1)] = -1;
      if (!dims.empty() && !shape.empty() && fz.Chance(0.3)) shape[0] = 0;
    } else {
      shape.resize(fz.Int(0, 3));
      const int64_t choices[] = {-1, 0, 1, 2, 3, 4, 6, -2};
      for (int64_t& s : shape) s = choices[fz.Int(0, 7)];
    }
    fz.FeedParam(op, shape);
    if (fz.Chance(0.3)) op.Attr("allowzero", int64_t{1});
  } else if (op_type == "Transpose") {
    fz.Feed(op, fz.Floats(dims));
    if (fz.Chance(0.7)) {
      std::vector<int64_t> perm(dims.size());
      for (size_t i = 0; i < perm.size(); ++i)
        perm[i] = static_cast<int64_t>(i);
      std::shuffle(perm.begin(), perm.end(), std::mt19937(fz.Int(0, 1000)));
      if (fz.Chance(0.2)) perm = fz.Ints(3, -1, 3);
      op.Attr("perm", perm);
    }
  } else if (op_type == "Squeeze") {
    fz.Feed(op, fz.Floats(dims));
    if (fz.Chance(0.8)) {
      std::vector<int64_t> axes;
      for (int d = 0; d < static_cast<int>(dims.size()); ++d) {
        if ((dims[d] == 1 || fz.Chance(0.1)) && fz.Chance(0.7))
          axes.push_back(d);
      }
      if (fz.Chance(0.1)) axes = fz.Ints(3, -4, 4);
      fz.FeedParam(op, axes);
    }
  } else if (op_type == "Unsqueeze") {
    fz.Feed(op, fz.Floats(dims));
    const int n = fz.Int(0, 2);
    fz.FeedParam(op, fz.DistinctAxes(n, static_cast<int>(dims.size()) + n));
  } else if (op_type == "Pad") {
    fz.Feed(op, fz.Floats(dims));
    std::vector<int64_t> pads(fz.Chance(0.8) ? 2 * dims.size() : fz.Int(0, 4));
    for (int64_t& p : pads) p = fz.Int(-2, 3);
    fz.FeedParam(op, pads);
    if (fz.Chance(0.3)) fz.Feed(op, fz.Floats({}));
    const char* modes[] = {"constant", "reflect", "edge", "wrap"};
    if (fz.Chance(0.7)) op.Attr("mode", std::string(modes[fz.Int(0, 3)]));
  } else if (op_type == "QuantizeLinear" || op_type == "DequantizeLinear") {
    if (op_type == "QuantizeLinear") {
      fz.Feed(op, fz.Floats(dims));
    } else {
      Tensor q(DataType::kInt8, dims);
      for (int64_t i = 0; i < q.num_elements(); ++i)
        q.data<int8_t>()[i] = static_cast<int8_t>(i * 37);
      fz.Feed(op, std::move(q));
    }
    const std::vector<int64_t> sdims = fz.Chance(0.5)
                                           ? std::vector<int64_t>{}
                                           : std::vector<int64_t>{fz.Int(1, 3)};
    Tensor scale(DataType::kFloat32, sdims);
    for (int64_t i = 0; i < scale.num_elements(); ++i)
      scale.data<float>()[i] = 0.1f * (i + 1);
    fz.Feed(op, std::move(scale));
    if (fz.Chance(0.6)) {
      Tensor zp(DataType::kInt8, fz.Chance(0.9) ? sdims : fz.Dims(1));
      fz.Feed(op, std::move(zp));
    }
    if (fz.Chance(0.7)) op.Attr("axis", fz.Axis());
  } else {
    fz.Feed(op, fz.Floats(dims));  // Unary ops.
  }
  // Now and then an attribute of the wrong kind.
  if (fz.Chance(0.05)) op.Attr("axis", std::string("bad"));
}

TEST(SchemaRobustness, RandomNodesNeverCrashAndInferenceMatchesKernels) {
  const std::vector<std::string> ops = {"Add",
                                        "Sub",
                                        "Mul",
                                        "Div",
                                        "Pow",
                                        "Exp",
                                        "Sqrt",
                                        "Erf",
                                        "Relu",
                                        "Clip",
                                        "LeakyRelu",
                                        "Sigmoid",
                                        "Tanh",
                                        "HardSigmoid",
                                        "HardSwish",
                                        "Softmax",
                                        "Identity",
                                        "Cast",
                                        "Constant",
                                        "Shape",
                                        "Gather",
                                        "Slice",
                                        "Split",
                                        "Concat",
                                        "Reshape",
                                        "Flatten",
                                        "Transpose",
                                        "Squeeze",
                                        "Unsqueeze",
                                        "Pad",
                                        "QuantizeLinear",
                                        "DequantizeLinear"};
  // QFORGE_FUZZ_SEED and QFORGE_FUZZ_ITERATIONS widen the search locally.
  const char* seed_env = std::getenv("QFORGE_FUZZ_SEED");
  const char* iterations_env = std::getenv("QFORGE_FUZZ_ITERATIONS");
  const uint32_t seed =
      seed_env ? static_cast<uint32_t>(std::atoll(seed_env)) : 12345;
  const int iterations = iterations_env ? std::atoi(iterations_env) : 4000;
  Fuzzer fz(seed);
  int ran_ok = 0, rejected = 0;
  for (int iteration = 0; iteration < iterations; ++iteration) {
    const std::string& op_type = ops[iteration % ops.size()];
    OpTest op(op_type, fz.Chance(0.2) ? 11 : 17);
    BuildRandom(fz, op, op_type);
    absl::StatusOr<std::vector<Tensor>> result = op.Run();
    if (result.ok()) {
      ++ran_ok;
      continue;
    }
    ++rejected;
    const absl::StatusCode code = result.status().code();
    EXPECT_TRUE(code == absl::StatusCode::kInvalidArgument ||
                code == absl::StatusCode::kUnimplemented)
        << "iteration " << iteration << " (" << op_type
        << "): " << result.status();
    EXPECT_THAT(std::string(result.status().message()), HasSubstr("test_node"))
        << "iteration " << iteration << " (" << op_type << ")";
  }
  // The generator must exercise both paths substantially.
  EXPECT_GT(ran_ok, iterations / 4);
  EXPECT_GT(rejected, iterations / 10);
  std::cout << "ran " << ran_ok << ", rejected " << rejected << "\n";
}

}  // namespace
}  // namespace qforge
