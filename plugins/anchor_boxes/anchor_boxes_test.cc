// AnchorBoxes plugin (linked statically, registered with one call): the
// golden cases of the `spec` file, shape inference, attribute errors, and
// quantization: static shapes fold the output into an int8 constant within
// the spec's LSB bound; dynamic shapes run the kernel with a calibrated
// output; keep-float by policy; and what happens without the plugin.
#include "anchor_boxes.h"

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "attributes_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/ir/verifier.h"
#include "qforge/plugin.h"
#include "qforge/quantize/calibration_data.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"
#include "qforge/testing/status_matchers.h"

namespace qforge::contrib {
namespace {

using ::qforge::testing::IsOk;
using ::qforge::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// --- The spec file
// -------------------------------------------------------------

struct SpecCase {
  std::string name;
  std::map<std::string, std::vector<std::string>> attrs;
  std::vector<int64_t> input_shape;
  std::vector<int64_t> output_shape;
  std::vector<std::vector<double>> rows;
};

struct Spec {
  double float_abs = -1;
  double quantized_lsb = -1;
  std::vector<SpecCase> cases;
};

Spec ReadSpec() {
  Spec spec;
  std::ifstream in(QFORGE_ANCHOR_BOXES_SPEC);
  EXPECT_TRUE(in.good()) << "cannot read " << QFORGE_ANCHOR_BOXES_SPEC;
  std::string line;
  SpecCase* current = nullptr;
  while (std::getline(in, line)) {
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string key;
    if (!(words >> key)) continue;
    std::vector<std::string> rest;
    for (std::string w; words >> w;) rest.push_back(w);
    if (key == "tolerance" && rest.size() == 2) {
      (rest[0] == "float_abs" ? spec.float_abs : spec.quantized_lsb) =
          std::stod(rest[1]);
    } else if (key == "case") {
      spec.cases.push_back({.name = rest.at(0)});
      current = &spec.cases.back();
    } else if (current == nullptr) {
      ADD_FAILURE() << "spec line outside a case: " << line;
    } else if (key == "attr") {
      current->attrs[rest.at(0)] =
          std::vector<std::string>(rest.begin() + 1, rest.end());
    } else if (key == "input_shape" || key == "output_shape") {
      auto& dims =
          key == "input_shape" ? current->input_shape : current->output_shape;
      for (const std::string& d : rest) dims.push_back(std::stoll(d));
    } else if (key == "row") {
      std::vector<double> row;
      for (const std::string& v : rest) row.push_back(std::stod(v));
      current->rows.push_back(row);
    } else if (key == "end") {
      current = nullptr;
    } else {
      ADD_FAILURE() << "unknown spec line: " << line;
    }
  }
  EXPECT_GT(spec.float_abs, 0);
  EXPECT_GT(spec.quantized_lsb, 0);
  EXPECT_FALSE(spec.cases.empty());
  return spec;
}

std::map<std::string, Attribute> AttributesOf(const SpecCase& c) {
  std::map<std::string, Attribute> out;
  for (const auto& [name, values] : c.attrs) {
    if (name == "layout") {
      out[name] = values.at(0);
    } else if (name == "stride") {
      out[name] = int64_t{std::stoll(values.at(0))};
    } else if (name == "size") {
      out[name] = std::stof(values.at(0));
    } else {
      std::vector<float> floats;
      for (const std::string& v : values) floats.push_back(std::stof(v));
      out[name] = floats;
    }
  }
  return out;
}

// --- Graph helpers
// ---------------------------------------------------------------

// x -> AnchorBoxes "anchors_p3" -> anchors, with x of `input_shape`.
Graph OneNodeGraph(Shape input_shape, std::map<std::string, Attribute> attrs,
                   Shape output_shape = Shape::UnknownRank()) {
  Graph g;
  g.set_opset(kAnchorBoxesDomain, 1);
  Value* x = g.AddValue("x", DataType::kFloat32, std::move(input_shape));
  Value* y = g.AddValue("anchors", DataType::kFloat32, std::move(output_shape));
  g.AddInput(x);
  g.AddOutput(y);
  absl::StatusOr<Node*> node = g.AddNode({.name = "anchors_p3",
                                          .domain = kAnchorBoxesDomain,
                                          .op_type = kAnchorBoxesOp,
                                          .inputs = {x},
                                          .outputs = {y},
                                          .attributes = std::move(attrs)});
  EXPECT_THAT(node.status(), IsOk());
  return g;
}

std::map<std::string, Attribute> SmallAttrs() {
  return {{"layout", std::string("NCHW")},
          {"size", 16.0f},
          {"stride", int64_t{8}},
          {"ratios", std::vector<float>{0.5f, 2.0f}},
          {"scales", std::vector<float>{1.0f, 1.5f}}};
}

absl::StatusOr<Tensor> RunGraph(const Graph& g, const Registry& registry,
                                Tensor x) {
  QFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Executor> exec,
                          Executor::Prepare(g, registry));
  TensorMap inputs;
  inputs["x"] = std::move(x);
  QFORGE_ASSIGN_OR_RETURN(TensorMap out, exec->Run(inputs));
  return out.at("anchors");
}

std::unique_ptr<CalibrationData> Samples(std::vector<int64_t> dims, int n) {
  dims.insert(dims.begin(), n);
  dims.erase(dims.begin() + 1);  // The leading axis enumerates the samples.
  Tensor t(DataType::kFloat32, dims);
  float v = -1.0f;
  for (float& f : t.values<float>()) f = (v += 0.01f);
  TensorMap m;
  m["x"] = std::move(t);
  return std::move(TensorCalibrationData::Create(std::move(m))).value();
}

class AnchorBoxesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(RegisterBuiltins(registry_), IsOk());
    ASSERT_THAT(RegisterPlugin(AnchorBoxesPlugin(), registry_), IsOk());
  }
  Registry registry_;
};

// --- Float semantics
// -------------------------------------------------------------

TEST_F(AnchorBoxesTest, MatchesTheGoldenCasesOfTheSpec) {
  const Spec spec = ReadSpec();
  for (const SpecCase& c : spec.cases) {
    SCOPED_TRACE(c.name);
    Graph g = OneNodeGraph(Shape(c.input_shape), AttributesOf(c));
    ASSERT_THAT(VerifyGraph(g, registry_.schemas()), IsOk());
    EXPECT_EQ(g.FindValue("anchors")->shape(), Shape(c.output_shape));
    QFORGE_ASSERT_OK_AND_ASSIGN(
        Tensor y,
        RunGraph(g, registry_, Tensor(DataType::kFloat32, c.input_shape)));
    ASSERT_EQ(y.dims(), c.output_shape);
    const int64_t rows = c.output_shape[1];
    ASSERT_EQ(static_cast<int64_t>(c.rows.size()), rows);
    for (int64_t b = 0; b < c.output_shape[0]; ++b) {
      for (int64_t r = 0; r < rows; ++r) {
        for (int k = 0; k < 4; ++k) {
          EXPECT_NEAR(y.data<float>()[(b * rows + r) * 4 + k], c.rows[r][k],
                      spec.float_abs)
              << "image " << b << " row " << r << " coordinate " << k;
        }
      }
    }
  }
}

TEST_F(AnchorBoxesTest, LayoutDefaultsToTheNodesLayout) {
  auto attrs = SmallAttrs();
  attrs.erase("layout");
  // [1,2,3,5] read as NHWC is H=2, W=3; as NCHW it is H=3, W=5.
  Graph nchw = OneNodeGraph(Shape({1, 2, 3, 5}), attrs);
  ASSERT_THAT(VerifyGraph(nchw, registry_.schemas()), IsOk());
  EXPECT_EQ(nchw.FindValue("anchors")->shape(), Shape({1, 3 * 5 * 4, 4}));
  Graph nhwc = OneNodeGraph(Shape({1, 2, 3, 5}), attrs);
  nhwc.FindNode("anchors_p3")->set_layout(Layout::kNHWC);
  ASSERT_THAT(VerifyGraph(nhwc, registry_.schemas()), IsOk());
  EXPECT_EQ(nhwc.FindValue("anchors")->shape(), Shape({1, 2 * 3 * 4, 4}));
}

TEST_F(AnchorBoxesTest, SymbolicGridGivesAnUnknownRowCount) {
  Graph g = OneNodeGraph(Shape({Dim::Symbol("n"), Dim::Static(8),
                                Dim::Symbol("h"), Dim::Static(4)}),
                         SmallAttrs());
  ASSERT_THAT(VerifyGraph(g, registry_.schemas()), IsOk());
  const Shape& s = g.FindValue("anchors")->shape();
  ASSERT_EQ(s.rank(), 3);
  EXPECT_EQ(s.dim(0), Dim::Symbol("n"));
  EXPECT_FALSE(s.dim(1).is_static());
  EXPECT_EQ(s.dim(2), Dim::Static(4));
}

TEST_F(AnchorBoxesTest, BadAttributesAreErrorsNamingTheNode) {
  struct Bad {
    std::string attr;
    Attribute value;
    std::string message;
  };
  const std::vector<Bad> cases = {
      {"layout", std::string("NDHWC"), "layout"},
      {"stride", int64_t{0}, "stride"},
      {"size", -3.0f, "size"},
      {"ratios", std::vector<float>{}, "ratios"},
      {"scales", std::vector<float>{1.0f, NAN}, "scales"},
  };
  for (const Bad& bad : cases) {
    auto attrs = SmallAttrs();
    attrs[bad.attr] = bad.value;
    Graph g = OneNodeGraph(Shape({1, 8, 2, 2}), attrs);
    EXPECT_THAT(
        VerifyGraph(g, registry_.schemas()),
        StatusIs(absl::StatusCode::kInvalidArgument,
                 AllOf(HasSubstr("anchors_p3"), HasSubstr(bad.message))))
        << bad.attr;
  }
  auto attrs = SmallAttrs();
  attrs.erase("size");
  Graph g = OneNodeGraph(Shape({1, 8, 2, 2}), attrs);
  EXPECT_THAT(
      VerifyGraph(g, registry_.schemas()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'size'")));
  Graph rank3 = OneNodeGraph(Shape({8, 2, 2}), SmallAttrs());
  EXPECT_THAT(
      VerifyGraph(rank3, registry_.schemas()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("rank-4")));
}

// --- Quantization
// ----------------------------------------------------------------

TEST_F(AnchorBoxesTest, StaticShapesFoldIntoAnInt8ConstantWithinTheSpecBound) {
  const Spec spec = ReadSpec();
  const SpecCase& c = spec.cases.at(0);
  Graph g = OneNodeGraph(Shape(c.input_shape), AttributesOf(c));
  auto data = Samples(c.input_shape, 2);
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult r,
                              Quantize(g, *data, QuantConfig(), registry_));
  // The node is gone; the anchors are an int8 constant read through a
  // DequantizeLinear.
  EXPECT_EQ(r.model.FindNode("anchors_p3"), nullptr);
  const Value* out = r.model.FindValue("anchors");
  ASSERT_NE(out, nullptr);
  ASSERT_NE(out->producer(), nullptr);
  EXPECT_EQ(out->producer()->op_type(), "DequantizeLinear");
  const Value* q = out->producer()->input(0);
  ASSERT_TRUE(q->is_constant());
  ASSERT_EQ(q->constant()->dtype(), DataType::kInt8);
  ASSERT_TRUE(q->quant().has_value());
  const float scale = q->quant()->scale[0];
  const int64_t zp = q->quant()->zero_point[0];
  // Scale from the exact range of the golden anchors.
  double lo = 0, hi = 0;
  for (const auto& row : c.rows) {
    for (double v : row) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  EXPECT_NEAR(scale, (hi - lo) / 255.0, 1e-3 * scale);
  const int8_t* values = q->constant()->data<int8_t>();
  for (size_t row = 0; row < c.rows.size(); ++row) {
    for (int k = 0; k < 4; ++k) {
      const double dequantized = scale * (values[row * 4 + k] - zp);
      EXPECT_LE(std::abs(dequantized - c.rows[row][k]) / scale,
                spec.quantized_lsb + 1e-3)
          << "row " << row << " coordinate " << k;
    }
  }
  // Reported as quantized, with the folding noted.
  bool found = false;
  for (const auto& e : r.report.nodes) {
    if (e.node != "anchors_p3") continue;
    found = true;
    EXPECT_TRUE(e.quantized);
    EXPECT_THAT(e.reason, HasSubstr("folded to a constant"));
  }
  EXPECT_TRUE(found);
  // The quantized model runs and gives the dequantized anchors.
  QFORGE_ASSERT_OK_AND_ASSIGN(
      Tensor y,
      RunGraph(r.model, registry_, Tensor(DataType::kFloat32, c.input_shape)));
  ASSERT_EQ(y.num_elements(), q->constant()->num_elements());
  for (int64_t i = 0; i < y.num_elements(); ++i) {
    EXPECT_FLOAT_EQ(y.data<float>()[i], scale * (values[i] - zp));
  }
}

TEST_F(AnchorBoxesTest, KeptFloatByPolicyStaysUnchanged) {
  Graph g = OneNodeGraph(Shape({1, 8, 2, 3}), SmallAttrs());
  auto data = Samples({1, 8, 2, 3}, 2);
  QuantConfig config;
  config.exclude_op_types = {"AnchorBoxes"};
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult r,
                              Quantize(g, *data, config, registry_));
  const Node* node = r.model.FindNode("anchors_p3");
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(AttributesText(*node), AttributesText(*g.FindNode("anchors_p3")));
  EXPECT_EQ(r.model.FindValue("anchors")->dtype(), DataType::kFloat32);
  ASSERT_EQ(r.report.nodes.size(), 1u);
  EXPECT_FALSE(r.report.nodes[0].quantized);
  EXPECT_THAT(r.report.nodes[0].reason, HasSubstr("exclude_op_types"));
}

TEST_F(AnchorBoxesTest, DynamicShapesRunTheKernelWithACalibratedOutput) {
  // The grid is symbolic: nothing can be folded at quantization time.
  Graph g = OneNodeGraph(Shape({Dim::Static(1), Dim::Static(8),
                                Dim::Symbol("h"), Dim::Symbol("w")}),
                         SmallAttrs());
  auto data = Samples({1, 8, 2, 3}, 2);
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult r,
                              Quantize(g, *data, QuantConfig(), registry_));
  const Node* node = r.model.FindNode("anchors_p3");
  ASSERT_NE(node, nullptr);
  const Value* q = node->output(0);
  ASSERT_TRUE(q->quant().has_value());
  EXPECT_EQ(q->dtype(), DataType::kInt8);
  const float scale = q->quant()->scale[0];
  // Float and quantized runs on the calibrated grid agree within 1 LSB (the
  // calibrated range is the exact range here: the same grid).
  Tensor x(DataType::kFloat32, {1, 8, 2, 3});
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor expected, RunGraph(g, registry_, x));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor got, RunGraph(r.model, registry_, x));
  ASSERT_EQ(got.dims(), expected.dims());
  for (int64_t i = 0; i < got.num_elements(); ++i) {
    EXPECT_NEAR(got.data<float>()[i], expected.data<float>()[i], 1.0 * scale)
        << i;
  }
}

// --- Without the plugin
// ----------------------------------------------------------

class WithoutPluginTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_THAT(RegisterBuiltins(registry_), IsOk()); }
  Registry registry_;
};

TEST_F(WithoutPluginTest, DefaultPolicyFailsNamingNodeOpAndBothFixes) {
  Graph g = OneNodeGraph(Shape({1, 8, 2, 3}), SmallAttrs(), Shape({1, 24, 4}));
  auto data = Samples({1, 8, 2, 3}, 2);
  EXPECT_THAT(Quantize(g, *data, QuantConfig(), registry_).status(),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("anchors_p3"), HasSubstr("AnchorBoxes"),
                             HasSubstr("--plugin"), HasSubstr("keep_float"),
                             HasSubstr("exclude_nodes"))));
}

TEST_F(WithoutPluginTest, KeepFloatWritesTheNodeUnchanged) {
  Graph g = OneNodeGraph(Shape({1, 8, 2, 3}), SmallAttrs(), Shape({1, 24, 4}));
  auto data = Samples({1, 8, 2, 3}, 2);
  QuantConfig config;
  config.unknown_op_policy = UnknownOpPolicy::kKeepFloat;
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult r,
                              Quantize(g, *data, config, registry_));
  const Node* node = r.model.FindNode("anchors_p3");
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->domain(), kAnchorBoxesDomain);
  EXPECT_EQ(AttributesText(*node), AttributesText(*g.FindNode("anchors_p3")));
  ASSERT_EQ(r.report.nodes.size(), 1u);
  EXPECT_FALSE(r.report.nodes[0].quantized);
  EXPECT_THAT(r.report.nodes[0].reason, HasSubstr("keep_float"));
}

TEST_F(WithoutPluginTest, CalibrationNeedingTheKernelSaysWhichOneIsMissing) {
  // A Relu after the anchors is quantized, so calibration must run the
  // AnchorBoxes node, whose kernel nobody registered.
  Graph g = OneNodeGraph(Shape({1, 8, 2, 3}), SmallAttrs(), Shape({1, 24, 4}));
  Value* anchors = g.FindValue("anchors");
  Value* relu_out =
      g.AddValue("relu_out", DataType::kFloat32, Shape({1, 24, 4}));
  ASSERT_THAT(g.AddNode({.name = "relu",
                         .op_type = "Relu",
                         .inputs = {anchors},
                         .outputs = {relu_out},
                         .attributes = {}})
                  .status(),
              IsOk());
  g.SetOutputs({relu_out});
  auto data = Samples({1, 8, 2, 3}, 2);
  QuantConfig config;
  config.unknown_op_policy = UnknownOpPolicy::kKeepFloat;
  EXPECT_THAT(
      Quantize(g, *data, config, registry_).status(),
      StatusIs(
          absl::StatusCode::kNotFound,
          HasSubstr("op qforge.contrib::AnchorBoxes (node 'anchors_p3') has no "
                    "float kernel: load its plugin with --plugin or register "
                    "one")));
}

}  // namespace
}  // namespace qforge::contrib
