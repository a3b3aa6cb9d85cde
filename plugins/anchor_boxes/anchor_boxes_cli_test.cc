// Acceptance through the qforge tool: the example model with an AnchorBoxes
// node (examples/models/anchor_boxes.onnx) quantizes end to end with
// --plugin libqforge_anchor_boxes.so; without it the default policy fails
// with one line naming the node, the op and both fixes, and keep_float
// succeeds, writes the node unchanged and reports it as float.
#include <fstream>
#include <iterator>
#include <string>
#include <type_traits>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "attributes_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/io/model.h"
#include "qforge/registry.h"
#include "qforge/testing/status_matchers.h"
#include "tests/tools/cli_test_util.h"

namespace qforge::testing {
namespace {

using ::qforge::contrib::AttributesText;

using ::testing::AllOf;
using ::testing::HasSubstr;

const std::string kModel =
    std::string(QFORGE_SOURCE_DIR) + "/examples/models/anchor_boxes.onnx";
const std::string kCalib =
    std::string(QFORGE_SOURCE_DIR) + "/examples/models/anchor_boxes_calib.npz";

class AnchorBoxesCliTest : public CliFixture {};

TEST_F(AnchorBoxesCliTest, QuantizesWithThePlugin) {
  const std::string out = Path("q.onnx");
  CliResult r =
      Cli({"quantize", kModel, "-o", out, "--calib", kCalib, "--plugin",
           QFORGE_ANCHOR_BOXES_MODULE, "--report", Path("r.json")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("quantized 4 of 4 nodes; 0 kept float"));
  EXPECT_THAT(
      r.out, AllOf(HasSubstr("anchors_p3"), HasSubstr("folded to a constant")));
  // The written model needs no plugin: the anchors are a constant now.
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph q, LoadModel(out, registry));
  for (const Node* n : q.nodes()) EXPECT_NE(n->op_type(), "AnchorBoxes");
  // And it runs, with the plugin or without.
  CliResult run = Cli({"run", out, "--input",
                       std::string(QFORGE_SOURCE_DIR) +
                           "/examples/models/anchor_boxes_image.npy",
                       "--output-dir", Path("outs")});
  EXPECT_EQ(run.code, 0) << run.err;
}

TEST_F(AnchorBoxesCliTest, InspectListsPluginOpsAndQuantizers) {
  CliResult with =
      Cli({"inspect", "--quantizers", "--plugin", QFORGE_ANCHOR_BOXES_MODULE});
  ASSERT_EQ(with.code, 0) << with.err;
  EXPECT_THAT(with.out, HasSubstr("qforge.contrib::AnchorBoxes"));
  CliResult without = Cli({"inspect", "--quantizers"});
  ASSERT_EQ(without.code, 0) << without.err;
  EXPECT_THAT(without.out, ::testing::Not(HasSubstr("AnchorBoxes")));
  CliResult model =
      Cli({"inspect", kModel, "--plugin", QFORGE_ANCHOR_BOXES_MODULE});
  ASSERT_EQ(model.code, 0) << model.err;
  EXPECT_THAT(model.out, HasSubstr("AnchorBoxes"));
  EXPECT_THAT(model.out, ::testing::Not(HasSubstr("unknown")));
}

TEST_F(AnchorBoxesCliTest,
       WithoutThePluginTheDefaultPolicyNamesNodeOpAndFixes) {
  CliResult r =
      Cli({"quantize", kModel, "-o", Path("q.onnx"), "--calib", kCalib});
  ExpectOneLineError(r, "anchors_p3");
  EXPECT_THAT(r.err, AllOf(HasSubstr("qforge.contrib::AnchorBoxes"),
                           HasSubstr("--plugin"), HasSubstr("keep_float"),
                           HasSubstr("exclude_nodes")));
}

TEST_F(AnchorBoxesCliTest, WithoutThePluginKeepFloatWritesTheNodeUnchanged) {
  const std::string config = Path("keep_float.cfg");
  std::ofstream(config) << "unknown_op_policy: \"keep_float\"\n";
  const std::string out = Path("q.onnx");
  CliResult r = Cli(
      {"quantize", kModel, "-o", out, "--calib", kCalib, "--config", config});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out,
              HasSubstr("float  anchors_p3 (qforge.contrib::AnchorBoxes)"));
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph original, LoadModel(kModel, registry));
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph q, LoadModel(out, registry));
  const Node* before = original.FindNode("anchors_p3");
  const Node* after = q.FindNode("anchors_p3");
  ASSERT_NE(after, nullptr);
  EXPECT_EQ(after->domain(), "qforge.contrib");
  EXPECT_EQ(AttributesText(*after), AttributesText(*before));
  EXPECT_THAT(AttributesText(*after), HasSubstr("stride=2;"));
  ASSERT_EQ(after->num_inputs(), 1);
  EXPECT_EQ(after->output(0)->name(), "anchors");
  EXPECT_EQ(after->output(0)->dtype(), DataType::kFloat32);
}

// The TFLite form: CUSTOM op "AnchorBoxes" with flexbuffer options.
const std::string kTfliteModel =
    std::string(QFORGE_SOURCE_DIR) + "/examples/models/anchor_boxes.tflite";
const std::string kTfliteCalib =
    std::string(QFORGE_SOURCE_DIR) +
    "/examples/models/anchor_boxes_tflite_calib.npz";

TEST_F(AnchorBoxesCliTest, QuantizesTheTfliteModelWithThePlugin) {
  const std::string out = Path("q.tflite");
  CliResult r = Cli({"quantize", kTfliteModel, "-o", out, "--calib",
                     kTfliteCalib, "--plugin", QFORGE_ANCHOR_BOXES_MODULE});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("folded to a constant"));
  std::ifstream in(out, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find("AnchorBoxes"), std::string::npos)
      << "a CUSTOM AnchorBoxes op is left in the export";
}

TEST_F(AnchorBoxesCliTest, WithoutThePluginTheTfliteModelFailsNamingNodeOp) {
  CliResult r = Cli({"quantize", kTfliteModel, "-o", Path("q.tflite"),
                     "--calib", kTfliteCalib});
  ExpectOneLineError(r, "anchors");
  EXPECT_THAT(r.err, AllOf(HasSubstr("tflite.custom::AnchorBoxes"),
                           HasSubstr("--plugin"), HasSubstr("keep_float")));
}

TEST_F(AnchorBoxesCliTest, ABadPluginPathIsOneLineNamingIt) {
  CliResult r = Cli({"inspect", kModel, "--plugin", Path("missing.so")});
  ExpectOneLineError(r, "missing.so");
}

}  // namespace
}  // namespace qforge::testing
