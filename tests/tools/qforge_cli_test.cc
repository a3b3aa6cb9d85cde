// Drives the qforge binary from the command line: help and usage errors,
// `inspect` reports, `run` on ONNX node-test models compared with their
// expected outputs at the conformance tolerance, and corrupt inputs that
// must give exit status 1 with a one-line error (never a crash).
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "tests/tools/cli_test_util.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/onnx_tensor.h"
#include "onnx/onnx_pb.h"
#include "qforge/io/npy.h"
#include "qforge/io/onnx.h"
#include "qforge/registry.h"
#include "qforge/testing/status_matchers.h"
#include "tests/conformance/tolerance.h"

namespace qforge {
namespace {

using ::qforge::testing::CliFixture;
using ::qforge::testing::CliResult;
using ::qforge::testing::IsOk;
using ::qforge::testing::Quote;
using ::qforge::testing::ReadAll;
using ::testing::HasSubstr;
using ::testing::StartsWith;

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

class CliTest : public CliFixture {};

// y = Relu(x + bias) with a custom-domain op on the side:
//   x: float[N, 3], bias: float[3] (12 parameter bytes),
//   out:0/relu = Relu(x), boxes = qforge.contrib::AnchorBoxes(x).
onnx::ModelProto HandModel(bool with_custom_op) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  auto* g = model.mutable_graph();
  g->set_name("hand");
  auto set_type = [](onnx::ValueInfoProto* v, const std::string& name) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(onnx::TensorProto::FLOAT);
    t->mutable_shape()->add_dim()->set_dim_param("N");
    t->mutable_shape()->add_dim()->set_dim_value(3);
  };
  set_type(g->add_input(), "x");
  set_type(g->add_output(), "out:0/relu");
  auto* bias = g->add_initializer();
  bias->set_name("bias");
  bias->set_data_type(onnx::TensorProto::FLOAT);
  bias->add_dims(3);
  for (float f : {1.0f, 2.0f, 3.0f}) bias->add_float_data(f);
  auto* relu = g->add_node();
  relu->set_name("relu");
  relu->set_op_type("Relu");
  relu->add_input("x");
  relu->add_output("out:0/relu");
  if (with_custom_op) {
    auto* custom = model.add_opset_import();
    custom->set_domain("qforge.contrib");
    custom->set_version(1);
    set_type(g->add_output(), "boxes");
    auto* node = g->add_node();
    node->set_name("anchors");
    node->set_domain("qforge.contrib");
    node->set_op_type("AnchorBoxes");
    node->add_input("x");
    node->add_input("bias");
    node->add_output("boxes");
  }
  return model;
}

TEST_F(CliTest, HelpOnEveryCommand) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--help"},
                                             {"-h"},
                                             {"help"},
                                             {"inspect", "--help"},
                                             {"run", "--help"},
                                             {"run", "model.onnx", "--help"}}) {
    const CliResult r = Cli(args);
    EXPECT_TRUE(r.exited);
    EXPECT_EQ(r.code, 0) << args[0];
    EXPECT_THAT(r.out, HasSubstr("Usage: qforge")) << args[0];
    EXPECT_EQ(r.err, "");
  }
  EXPECT_THAT(Cli({"--help"}).out,
              AllOf(HasSubstr("inspect"), HasSubstr("run")));
  EXPECT_THAT(
      Cli({"run", "--help"}).out,
      AllOf(HasSubstr("--input NAME=FILE.npy"), HasSubstr("--output-dir DIR")));
  EXPECT_THAT(Cli({"inspect", "--help"}).out, HasSubstr("--json"));
}

TEST_F(CliTest, UsageErrorsAreOneLine) {
  ExpectOneLineError(Cli({}), "no command");
  ExpectOneLineError(Cli({"frobnicate"}), "unknown command 'frobnicate'");
  ExpectOneLineError(Cli({"inspect"}), "missing MODEL");
  ExpectOneLineError(Cli({"inspect", "a.onnx", "b.onnx"}),
                     "unexpected argument 'b.onnx'");
  ExpectOneLineError(Cli({"inspect", "a.onnx", "--bogus"}),
                     "unknown option '--bogus'");
  ExpectOneLineError(Cli({"run", "a.onnx"}), "--output-dir");
  ExpectOneLineError(Cli({"run", "a.onnx", "--output-dir"}), "needs a value");
  ExpectOneLineError(Cli({"inspect", dir_ + "/missing.onnx"}), "missing.onnx");
  ExpectOneLineError(Cli({"inspect", dir_ + "/model.tflite"}), "model.tflite");
}

TEST_F(CliTest, InspectReportsOpsTypesAndConstants) {
  const std::string model = dir_ + "/hand.onnx";
  WriteAll(model, HandModel(/*with_custom_op=*/true).SerializeAsString());
  const CliResult text = Cli({"inspect", model});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("x: float32[N,3]"));
  EXPECT_THAT(text.out, HasSubstr("out:0/relu: float32[N,3]"));
  EXPECT_THAT(text.out, HasSubstr("ops (2 nodes)"));
  EXPECT_THAT(text.out, ::testing::ContainsRegex("Relu +1\n"));
  EXPECT_THAT(text.out,
              ::testing::ContainsRegex(
                  "qforge.contrib::AnchorBoxes +1  unknown \\(kept opaque\\)"));
  EXPECT_THAT(text.out, HasSubstr("constants: 1 (12 parameter bytes)"));

  const CliResult json = Cli({"inspect", model, "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  EXPECT_THAT(
      json.out,
      HasSubstr(R"({"name": "x", "dtype": "float32", "shape": ["N", 3]})"));
  EXPECT_THAT(json.out,
              HasSubstr(R"("unknown_ops": ["qforge.contrib::AnchorBoxes"])"));
  EXPECT_THAT(
      json.out,
      HasSubstr(R"({"op": "Relu", "domain": "", "count": 1, "known": true})"));
  EXPECT_THAT(json.out, HasSubstr(R"("num_constants": 1)"));
  EXPECT_THAT(json.out, HasSubstr(R"("parameter_bytes": 12)"));
}

TEST_F(CliTest, RunSanitizesOutputNamesAndCreatesTheFolder) {
  const std::string model = dir_ + "/hand.onnx";
  WriteAll(model, HandModel(/*with_custom_op=*/false).SerializeAsString());
  const std::vector<float> x = {-1.5f, 0.0f, 2.0f, 3.0f, -0.25f, 7.0f};
  ASSERT_THAT(WriteNpy(dir_ + "/x.npy", Tensor::FromVector<float>({2, 3}, x)),
              IsOk());
  const std::string out_dir = dir_ + "/new/nested";
  const CliResult r = Cli({"run", model, "--input", "x=" + dir_ + "/x.npy",
                           "--output-dir=" + out_dir});
  ASSERT_EQ(r.code, 0) << r.err;
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor y, ReadNpy(out_dir + "/out_0_relu.npy"));
  std::vector<float> expected;
  for (float v : x) expected.push_back(v > 0 ? v : 0.0f);
  EXPECT_EQ(y.ToVector<float>(), expected);
  EXPECT_THAT(y.dims(), ::testing::ElementsAre(2, 3));
  // With a single input, NAME= may be left out.
  const CliResult r2 =
      Cli({"run", model, "--input", dir_ + "/x.npy", "--output-dir", out_dir});
  EXPECT_EQ(r2.code, 0) << r2.err;
}

TEST_F(CliTest, RunInputErrorsAreOneLine) {
  const std::string model = dir_ + "/hand.onnx";
  WriteAll(model, HandModel(/*with_custom_op=*/false).SerializeAsString());
  ASSERT_THAT(
      WriteNpy(dir_ + "/x.npy", Tensor::FromVector<float>({1, 3}, {1, 2, 3})),
      IsOk());
  ExpectOneLineError(Cli({"run", model, "--output-dir", dir_ + "/o"}),
                     "missing --input for graph input 'x'");
  ExpectOneLineError(Cli({"run", model, "--input", "z=" + dir_ + "/x.npy",
                          "--output-dir", dir_ + "/o"}),
                     "'z', which is not a graph input");
  ExpectOneLineError(Cli({"run", model, "--input", "x=" + dir_ + "/nope.npy",
                          "--output-dir", dir_ + "/o"}),
                     "nope.npy");
  // A malformed .npy: a header that is not a dict, and a truncated one.
  WriteAll(dir_ + "/bad.npy",
           std::string("\x93NUMPY\x01\x00\x06\x00hello\n", 16));
  ExpectOneLineError(Cli({"run", model, "--input", "x=" + dir_ + "/bad.npy",
                          "--output-dir", dir_ + "/o"}),
                     "bad.npy");
  QFORGE_ASSERT_OK_AND_ASSIGN(
      std::string good,
      SerializeNpy(Tensor::FromVector<float>({1, 3}, {1, 2, 3})));
  WriteAll(dir_ + "/short.npy", good.substr(0, good.size() - 3));
  ExpectOneLineError(Cli({"run", model, "--input", "x=" + dir_ + "/short.npy",
                          "--output-dir", dir_ + "/o"}),
                     "short.npy");
  // Wrong dtype for the input.
  ASSERT_THAT(
      WriteNpy(dir_ + "/i.npy", Tensor::FromVector<int32_t>({1, 3}, {1, 2, 3})),
      IsOk());
  ExpectOneLineError(Cli({"run", model, "--input", "x=" + dir_ + "/i.npy",
                          "--output-dir", dir_ + "/o"}),
                     "x");
  struct stat st;
  EXPECT_NE(::stat((dir_ + "/o").c_str(), &st), 0)
      << "failed runs must not create outputs";
}

TEST_F(CliTest, CorruptModelFilesFailCleanly) {
  const std::string bytes =
      HandModel(/*with_custom_op=*/true).SerializeAsString();
  ASSERT_THAT(
      WriteNpy(dir_ + "/x.npy", Tensor::FromVector<float>({1, 3}, {1, 2, 3})),
      IsOk());
  // Truncated.
  const std::string truncated = dir_ + "/truncated.onnx";
  WriteAll(truncated, bytes.substr(0, bytes.size() / 2));
  ExpectOneLineError(Cli({"inspect", truncated}), "truncated.onnx");
  ExpectOneLineError(Cli({"run", truncated, "--input", "x=" + dir_ + "/x.npy",
                          "--output-dir", dir_ + "/o"}),
                     "truncated.onnx");
  // Bit-flipped: the high bit of the graph field's length byte (the model
  // starts with ir_version = 8 as 0x08 0x08, then the graph field 0x3A LEN).
  ASSERT_EQ(bytes[2], 0x3A);
  std::string flipped = bytes;
  flipped[3] = static_cast<char>(flipped[3] ^ 0x80);
  const std::string flipped_path = dir_ + "/flipped.onnx";
  WriteAll(flipped_path, flipped);
  ExpectOneLineError(Cli({"inspect", flipped_path}),
                     "flipped.onnx: not a valid ONNX model");
  ExpectOneLineError(Cli({"run", flipped_path, "--input",
                          "x=" + dir_ + "/x.npy", "--output-dir", dir_ + "/o"}),
                     "flipped.onnx");
  // Any single bit flip: exit 0, or 1 with a one-line error; never a crash.
  int failures = 0;
  for (size_t i = 0; i < bytes.size(); i += 1) {
    std::string b = bytes;
    b[i] = static_cast<char>(b[i] ^ (1 << (i % 8)));
    WriteAll(flipped_path, b);
    const CliResult r = Cli({"inspect", flipped_path});
    ASSERT_TRUE(r.exited) << "crash with byte " << i << " flipped: " << r.err;
    ASSERT_TRUE(r.code == 0 || r.code == 1) << r.code;
    if (r.code == 1) {
      ++failures;
      EXPECT_THAT(r.err, StartsWith("qforge: error: "));
      EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    }
  }
  EXPECT_GT(failures, 0);
}

// --- ONNX node-test models driven from the command line ---------------------

std::string NodeTestsDir() {
  const char* env = std::getenv("QFORGE_ONNX_NODE_TESTS");
  return env != nullptr && env[0] != '\0' ? env : QFORGE_DEFAULT_NODE_TESTS_DIR;
}

class CliNodeTest : public CliTest,
                    public ::testing::WithParamInterface<const char*> {};

TEST_P(CliNodeTest, RunReproducesExpectedOutputs) {
  const std::string test_dir = absl::StrCat(NodeTestsDir(), "/", GetParam());
  const std::string model = test_dir + "/model.onnx";
  struct stat st;
  ASSERT_EQ(::stat(model.c_str(), &st), 0)
      << model
      << " not found: ctest generates the ONNX node tests through the "
         "onnx_node_tests fixture (or set QFORGE_ONNX_NODE_TESTS)";
  Registry registry;
  ASSERT_THAT(RegisterBuiltins(registry), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph graph, LoadOnnx(model, registry));

  const std::string data = test_dir + "/test_data_set_0";
  std::vector<std::string> args = {"run", model};
  for (size_t i = 0; i < graph.inputs().size(); ++i) {
    QFORGE_ASSERT_OK_AND_ASSIGN(
        Tensor t,
        internal::ReadOnnxTensorFile(absl::StrCat(data, "/input_", i, ".pb")));
    const std::string npy = absl::StrCat(dir_, "/input_", i, ".npy");
    ASSERT_THAT(WriteNpy(npy, t), IsOk());
    args.push_back("--input");
    args.push_back(absl::StrCat(graph.inputs()[i]->name(), "=", npy));
  }
  args.push_back("--output-dir");
  args.push_back(dir_ + "/out");
  const CliResult r = Cli(args);
  ASSERT_EQ(r.code, 0) << r.err;
  for (size_t i = 0; i < graph.outputs().size(); ++i) {
    QFORGE_ASSERT_OK_AND_ASSIGN(
        Tensor expected,
        internal::ReadOnnxTensorFile(absl::StrCat(data, "/output_", i, ".pb")));
    const std::string name = graph.outputs()[i]->name();
    QFORGE_ASSERT_OK_AND_ASSIGN(
        Tensor actual, ReadNpy(absl::StrCat(dir_, "/out/", name, ".npy")));
    EXPECT_EQ(testing::ConformanceDiff(name, actual, expected), "");
  }
}

// Models of ops whose kernels exist: several inputs, an omitted optional
// input (Clip's max), float16 outputs, pooling and convolution attributes.
INSTANTIATE_TEST_SUITE_P(NodeModels, CliNodeTest,
                         ::testing::Values("test_add", "test_relu",
                                           "test_conv_with_strides_padding",
                                           "test_gemm_default_matrix_bias",
                                           "test_softmax_axis_1",
                                           "test_maxpool_2d_default",
                                           "test_layer_normalization_2d_axis0",
                                           "test_clip_default_min",
                                           "test_cast_FLOAT_to_FLOAT16"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

}  // namespace
}  // namespace qforge
