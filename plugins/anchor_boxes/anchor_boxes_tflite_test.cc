// AnchorBoxes as a TFLite CUSTOM op (code "AnchorBoxes", flexbuffer
// custom_options): the example model examples/models/anchor_boxes.tflite is
// written here from a float graph through qforge's own TFLite exporter (set
// QFORGE_REGENERATE_EXAMPLES=1 to rewrite it and its calibration data;
// otherwise the test checks the committed files are what the generator
// makes), then imported, quantized with the plugin, exported as a
// full-integer .tflite with the anchors folded into a constant.
#define FLATBUFFERS_LOCALE_INDEPENDENT 0  // Header-only FlatBuffers.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "anchor_boxes.h"
#include "flatbuffers/flexbuffers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/io/npy.h"
#include "qforge/io/tflite.h"
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

std::string SourceDir() {
  const char* dir = std::getenv("QFORGE_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}
std::string ModelPath() {
  return SourceDir() + "/examples/models/anchor_boxes.tflite";
}
std::string CalibPath() {
  return SourceDir() + "/examples/models/anchor_boxes_tflite_calib.npz";
}

// Seeded values in [-1, 1) (a 64-bit LCG; no dependence on <random>'s
// distributions, which differ between standard libraries).
std::vector<float> Seeded(uint64_t seed, int64_t n, float scale) {
  std::vector<float> out;
  uint64_t s = seed;
  for (int64_t i = 0; i < n; ++i) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    out.push_back(scale * (static_cast<float>(s >> 40) / 8388608.0f - 1.0f));
  }
  return out;
}

// Flexbuffer options for AnchorBoxes.
std::string Options(float size, int64_t stride, std::vector<float> ratios,
                    std::vector<float> scales) {
  flexbuffers::Builder fbb;
  fbb.Map([&] {
    fbb.Float("size", size);
    fbb.Int("stride", stride);
    fbb.TypedVector("ratios", [&] {
      for (float r : ratios) fbb.Float(r);
    });
    fbb.TypedVector("scales", [&] {
      for (float s : scales) fbb.Float(s);
    });
  });
  fbb.Finish();
  const std::vector<uint8_t>& buf = fbb.GetBuffer();
  return std::string(buf.begin(), buf.end());
}

// The example: image [1,16,16,3] (NHWC) -> CONV_2D 3x3 stride 2 SAME (8 ch)
// -> p3 [1,8,8,8] (an output) -> CUSTOM AnchorBoxes "anchors_p3"
// (size 16, stride 2, ratios [0.5, 1, 2], scales [1, 2]) -> anchors
// [1, 384, 4].
absl::StatusOr<Graph> ExampleGraph() {
  Graph g;
  Value* image = g.AddValue("image", DataType::kFloat32);
  image->set_shape(Shape({1, 16, 16, 3}));
  g.AddInput(image);
  // OIHW, as the TFLite importer stores CONV_2D filters.
  Value* w = g.AddConstant(
      "conv_w", Tensor::FromVector<float>({8, 3, 3, 3}, Seeded(1, 216, 0.4f)));
  Value* b = g.AddConstant("conv_b",
                           Tensor::FromVector<float>({8}, Seeded(2, 8, 0.1f)));
  Value* p3 = g.AddValue("p3", DataType::kFloat32);
  QFORGE_ASSIGN_OR_RETURN(
      Node * conv,
      g.AddNode({.name = "p3",
                 .op_type = "Conv",
                 .inputs = {image, w, b},
                 .outputs = {p3},
                 .attributes = {{"kernel_shape", std::vector<int64_t>{3, 3}},
                                {"strides", std::vector<int64_t>{2, 2}},
                                {"dilations", std::vector<int64_t>{1, 1}},
                                {"auto_pad", std::string("SAME_UPPER")},
                                {"group", int64_t{1}}}}));
  conv->set_layout(Layout::kNHWC);
  Value* anchors = g.AddValue("anchors", DataType::kFloat32);
  QFORGE_ASSIGN_OR_RETURN(Node * ab, g.AddNode({.name = "anchors_p3",
                                                .domain = kTfliteCustomDomain,
                                                .op_type = kAnchorBoxesOp,
                                                .inputs = {p3},
                                                .outputs = {anchors}}));
  ab->set_layout(Layout::kNHWC);
  ab->set_custom_options(Options(16.0f, 2, {0.5f, 1.0f, 2.0f}, {1.0f, 2.0f}));
  g.set_opset(kTfliteCustomDomain, 1);
  g.AddOutput(p3);
  g.AddOutput(anchors);
  // Shapes and dtypes for the exporter, from the schemas.
  Registry registry;
  QFORGE_RETURN_IF_ERROR(RegisterBuiltins(registry));
  QFORGE_RETURN_IF_ERROR(RegisterPlugin(AnchorBoxesPlugin(), registry));
  QFORGE_RETURN_IF_ERROR(VerifyGraph(g, registry.schemas()));
  return g;
}

NpzContents ExampleCalibration() {
  return {{"image", Tensor::FromVector<float>(
                        {8, 16, 16, 3}, Seeded(3, 8 * 16 * 16 * 3, 1.0f))}};
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

AnchorBoxesAttributes ExampleAttrs() {
  AnchorBoxesAttributes a;
  a.layout = Layout::kNHWC;
  a.size = 16.0f;
  a.stride = 2;
  a.ratios = {0.5f, 1.0f, 2.0f};
  a.scales = {1.0f, 2.0f};
  return a;
}

TEST(AnchorBoxesTfliteExample, CommittedFilesAreWhatTheGeneratorMakes) {
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph g, ExampleGraph());
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveTfliteToBytes(g));
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string calib,
                              SerializeNpz(ExampleCalibration()));
  if (std::getenv("QFORGE_REGENERATE_EXAMPLES") != nullptr) {
    std::ofstream(ModelPath(), std::ios::binary) << bytes;
    std::ofstream(CalibPath(), std::ios::binary) << calib;
  }
  EXPECT_EQ(ReadFile(ModelPath()), bytes);
  EXPECT_EQ(ReadFile(CalibPath()), calib);
}

class AnchorBoxesTfliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(RegisterBuiltins(registry_), IsOk());
    ASSERT_THAT(RegisterPlugin(AnchorBoxesPlugin(), registry_), IsOk());
    QFORGE_ASSERT_OK_AND_ASSIGN(model_, LoadTflite(ModelPath(), registry_));
    QFORGE_ASSERT_OK_AND_ASSIGN(data_, OpenCalibrationData(CalibPath()));
  }
  Registry registry_;
  Graph model_;
  std::unique_ptr<CalibrationData> data_;
};

TEST_F(AnchorBoxesTfliteTest, ImportsAsTheTfliteCustomOpWithItsOptions) {
  const Node* node = model_.FindNode("anchors");
  if (node == nullptr) node = model_.FindNode("anchors_p3");
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->domain(), kTfliteCustomDomain);
  EXPECT_EQ(node->op_type(), kAnchorBoxesOp);
  QFORGE_ASSERT_OK_AND_ASSIGN(AnchorBoxesAttributes a,
                              ReadAnchorBoxesAttributes(*node));
  EXPECT_EQ(a.layout, Layout::kNHWC);
  EXPECT_EQ(a.size, 16.0f);
  EXPECT_EQ(a.stride, 2);
  EXPECT_EQ(a.ratios, (std::vector<float>{0.5f, 1.0f, 2.0f}));
  EXPECT_EQ(a.scales, (std::vector<float>{1.0f, 2.0f}));
}

TEST_F(AnchorBoxesTfliteTest, FloatRunGivesTheAnchorsOfTheGrid) {
  QFORGE_ASSERT_OK_AND_ASSIGN(auto exec, Executor::Prepare(model_, registry_));
  QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap sample, data_->Sample(0));
  QFORGE_ASSERT_OK_AND_ASSIGN(TensorMap out, exec->Run(sample));
  const Tensor& anchors = out.at("anchors");
  ASSERT_EQ(anchors.dims(), (std::vector<int64_t>{1, 8 * 8 * 6, 4}));
  // Independent check of one box: cell (y=3, x=5), ratio 2, scale 2 (a=5):
  // w = sqrt(32^2 / 2), h = 2w, centre (11, 7).
  const double w = std::sqrt(32.0 * 32.0 / 2.0), h = 2.0 * w;
  const float* box = anchors.data<float>() + ((3 * 8 + 5) * 6 + 5) * 4;
  EXPECT_NEAR(box[0], 11.0 - w / 2, 1e-4);
  EXPECT_NEAR(box[1], 7.0 - h / 2, 1e-4);
  EXPECT_NEAR(box[2], 11.0 + w / 2, 1e-4);
  EXPECT_NEAR(box[3], 7.0 + h / 2, 1e-4);
}

TEST_F(AnchorBoxesTfliteTest, QuantizesAndExportsAnchorsAsAConstant) {
  QFORGE_ASSERT_OK_AND_ASSIGN(
      QuantizeResult r, Quantize(model_, *data_, QuantConfig(), registry_));
  for (const Node* n : r.model.nodes()) {
    EXPECT_TRUE(n->domain().empty()) << n->Describe();
  }
  QFORGE_ASSERT_OK_AND_ASSIGN(std::string bytes, SaveTfliteToBytes(r.model));
  EXPECT_EQ(bytes.find("AnchorBoxes"), std::string::npos)
      << "a CUSTOM AnchorBoxes op is left in the exported file";
  // Re-import: the anchors output is a constant within 0.5 LSB of the exact
  // anchors: with float model outputs a float constant holding the
  // dequantized int8 anchors (the export writes a constant graph output
  // without a DEQUANTIZE, docs/io.md), with int8 outputs the int8 constant.
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor want,
                              ComputeAnchorBoxes(ExampleAttrs(), 1, 8, 8));
  for (TfliteIoType io : {TfliteIoType::kFloat32, TfliteIoType::kInt8}) {
    QFORGE_ASSERT_OK_AND_ASSIGN(
        std::string io_bytes, SaveTfliteToBytes(r.model, {.output_type = io}));
    QFORGE_ASSERT_OK_AND_ASSIGN(Graph back,
                                LoadTfliteFromBytes(io_bytes, registry_));
    const Value* out = nullptr;
    for (const Value* v : back.outputs()) {
      if (v->shape().rank_known() && v->shape().rank() == 3) out = v;
    }
    ASSERT_NE(out, nullptr);
    std::string nodes;
    for (const Node* n : back.nodes()) nodes += n->Describe() + "; ";
    ASSERT_TRUE(out->is_constant()) << out->name() << " in " << nodes;
    Tensor t(DataType::kFloat32, out->constant()->dims());
    if (io == TfliteIoType::kFloat32) {
      ASSERT_FALSE(out->quant().has_value()) << out->name();
      t = *out->constant();
    } else {
      ASSERT_TRUE(out->quant().has_value()) << out->name();
      const QuantParams& p = *out->quant();
      ASSERT_EQ(p.scale.size(), 1u);
      for (int64_t i = 0; i < t.num_elements(); ++i) {
        t.data<float>()[i] = static_cast<float>(
            (out->constant()->GetAsInt64(i) - p.zero_point[0]) * p.scale[0]);
      }
    }
    ASSERT_EQ(t.num_elements(), want.num_elements());
    double scale = 0.0;
    for (int64_t i = 0; i < want.num_elements(); ++i) {
      const double d = t.GetAsDouble(i);
      scale = std::max(scale, std::abs(d - want.data<float>()[i]));
    }
    // Range of the anchors / 255 is one LSB; half of it is the bound.
    const auto v = want.values<float>();
    const double lsb = (*std::max_element(v.begin(), v.end()) -
                        std::min(0.0f, *std::min_element(v.begin(), v.end()))) /
                       255.0;
    EXPECT_LE(scale, 0.5 * lsb + 1e-6);
  }
}

TEST(AnchorBoxesTfliteErrors, MalformedOptionsNameTheNode) {
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph g, ExampleGraph());
  Node* node = g.FindNode("anchors_p3");
  ASSERT_NE(node, nullptr);
  node->set_custom_options("not a flexbuffer");
  EXPECT_THAT(ReadAnchorBoxesAttributes(*node).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("anchors_p3"),
                             HasSubstr("not a valid flexbuffer"))));
  node->set_custom_options("");
  EXPECT_THAT(ReadAnchorBoxesAttributes(*node).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("anchors_p3"), HasSubstr("missing"))));
  flexbuffers::Builder fbb;
  fbb.Map([&] {
    fbb.String("size", "big");
    fbb.Int("stride", 2);
  });
  fbb.Finish();
  node->set_custom_options(
      std::string(fbb.GetBuffer().begin(), fbb.GetBuffer().end()));
  EXPECT_THAT(ReadAnchorBoxesAttributes(*node).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("anchors_p3"), HasSubstr("'size'"))));
}

TEST(AnchorBoxesTfliteWithoutPlugin, DefaultPolicyFailsNamingNodeOpAndFixes) {
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph model, LoadTflite(ModelPath(), registry));
  QFORGE_ASSERT_OK_AND_ASSIGN(auto data, OpenCalibrationData(CalibPath()));
  EXPECT_THAT(Quantize(model, *data, QuantConfig(), registry).status(),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("anchors"), HasSubstr("AnchorBoxes"),
                             HasSubstr("--plugin"), HasSubstr("keep_float"))));
}

}  // namespace
}  // namespace qforge::contrib
