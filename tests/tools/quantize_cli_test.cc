// `qforge calibrate`, `quantize`, `compare` and `inspect --quantizers` from
// the command line: sharded calibration merged with --stats-in quantizes
// exactly like one pass (every method whose stats merge exactly), compare's
// accuracy against the logits the training script saved, and usage errors
// (exit status 1, one line "qforge: error: ...", no output file left).
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "tests/tools/cli_test_util.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "qforge/io/model.h"
#include "qforge/io/npy.h"
#include "qforge/quantize/calibration.h"
#include "qforge/quantize/quant_config.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"
#include "qforge/testing/status_matchers.h"

namespace qforge {
namespace {

using ::qforge::testing::CliFixture;
using ::qforge::testing::CliResult;
using ::qforge::testing::IsOk;
using ::qforge::testing::Quote;
using ::qforge::testing::ReadAll;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string SourceDir() {
  const char* dir = std::getenv("QFORGE_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}
std::string Digits(const std::string& file) {
  return SourceDir() + "/examples/digits/" + file;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

class QuantizeCliTest : public CliFixture {
 protected:
  void SetUp() override {
    CliFixture::SetUp();
    ASSERT_THAT(RegisterBuiltins(registry_), IsOk());
  }

  Registry registry_;
};

// Same graph: same nodes (names, ops, attributes), and values with equal
// names, dtypes, QuantParams and bitwise-equal constants.
void ExpectSameQuantizedGraph(const Graph& a, const Graph& b) {
  ASSERT_EQ(a.num_nodes(), b.num_nodes());
  for (size_t i = 0; i < a.nodes().size(); ++i) {
    const Node* na = a.nodes()[i];
    const Node* nb = b.nodes()[i];
    EXPECT_EQ(na->name(), nb->name());
    EXPECT_EQ(na->op_type(), nb->op_type());
  }
  const std::vector<Value*> va = a.values();
  const std::vector<Value*> vb = b.values();
  ASSERT_EQ(va.size(), vb.size());
  int quantized = 0;
  for (size_t i = 0; i < va.size(); ++i) {
    SCOPED_TRACE(va[i]->name());
    EXPECT_EQ(va[i]->name(), vb[i]->name());
    EXPECT_EQ(va[i]->dtype(), vb[i]->dtype());
    EXPECT_EQ(va[i]->quant(), vb[i]->quant());
    if (va[i]->quant().has_value()) ++quantized;
    ASSERT_EQ(va[i]->is_constant(), vb[i]->is_constant());
    if (va[i]->is_constant()) {
      const Tensor& ta = *va[i]->constant();
      const Tensor& tb = *vb[i]->constant();
      ASSERT_EQ(ta.dtype(), tb.dtype());
      ASSERT_EQ(ta.dims(), tb.dims());
      EXPECT_EQ(ta.quant(), tb.quant());
      EXPECT_EQ(std::memcmp(ta.raw_data(), tb.raw_data(), ta.num_bytes()), 0);
    }
  }
  EXPECT_GT(quantized, 10);
}

class ShardedCalibrationTest
    : public QuantizeCliTest,
      public ::testing::WithParamInterface<const char*> {};

TEST_P(ShardedCalibrationTest, MergedShardsQuantizeLikeOnePass) {
  const std::string method = GetParam();
  const std::string config_path = Path("config.txt");
  std::ofstream(config_path) << "calibration_method: \"" << method << "\"\n";
  const std::string model = Digits("digits_cnn.onnx");
  const std::string calib = Digits("digits_calib.npz");

  // Two uneven shards of the 256 samples.
  CliResult a =
      Cli({"calibrate", model, "--calib", calib, "--config", config_path,
           "--samples", "0:100", "--stats-out", Path("a.qfcalib")});
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_THAT(a.out, HasSubstr("samples [0, 100) of 256"));
  CliResult b =
      Cli({"calibrate", model, "--calib", calib, "--config", config_path,
           "--samples", "100:", "--stats-out", Path("b.qfcalib")});
  ASSERT_EQ(b.code, 0) << b.err;

  // The CLI's merge path and its one-pass path.
  CliResult merged =
      Cli({"quantize", model, "-o", Path("merged.onnx"), "--config",
           config_path, "--stats-in", Path("a.qfcalib"), "--stats-in",
           Path("b.qfcalib"), "--report", Path("report.json")});
  CliResult single = Cli({"quantize", model, "-o", Path("single.onnx"),
                          "--config", config_path, "--calib", calib});
  if (merged.code == 0 || single.code == 0) {
    ASSERT_EQ(merged.code, 0) << merged.err;
    ASSERT_EQ(single.code, 0) << single.err;
    const std::string mb = ReadAll(Path("merged.onnx"));
    EXPECT_FALSE(mb.empty());
    EXPECT_TRUE(mb == ReadAll(Path("single.onnx")))
        << "merged and single-pass models differ";
    EXPECT_THAT(ReadAll(Path("report.json")), HasSubstr("\"nodes\""));
    EXPECT_THAT(merged.out, HasSubstr("quantized "));
  } else {
    // Until QDQ export exists, saving a quantized graph is refused; nothing
    // may be left behind.
    ExpectOneLineError(merged, "quantized");
    ExpectOneLineError(single, "quantized");
    EXPECT_FALSE(Exists(Path("merged.onnx")));
    EXPECT_FALSE(Exists(Path("single.onnx")));
  }

  // The same check through the API, on the statistics files the CLI wrote.
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantConfig config, LoadQuantConfig(config_path));
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph graph, LoadModel(model, registry_));
  QFORGE_ASSERT_OK_AND_ASSIGN(auto data, OpenCalibrationData(calib));
  QFORGE_ASSERT_OK_AND_ASSIGN(QuantizeResult one_pass,
                              Quantize(graph, *data, config, registry_));
  QFORGE_ASSERT_OK_AND_ASSIGN(CalibrationStats stats,
                              LoadStats(Path("a.qfcalib")));
  QFORGE_ASSERT_OK_AND_ASSIGN(CalibrationStats stats_b,
                              LoadStats(Path("b.qfcalib")));
  ASSERT_THAT(stats.Merge(stats_b), IsOk());
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph prepared,
                              PrepareForQuantization(graph, config, registry_));
  QFORGE_ASSERT_OK_AND_ASSIGN(
      QuantizeResult from_shards,
      QuantizeWithStats(prepared, stats, config, registry_));
  ExpectSameQuantizedGraph(from_shards.model, one_pass.model);
}

INSTANTIATE_TEST_SUITE_P(Methods, ShardedCalibrationTest,
                         ::testing::Values("minmax", "percentile", "entropy",
                                           "mse"));

TEST_F(QuantizeCliTest, CompareReportsAccuracyOfTheTestSplit) {
  // Float vs itself: the accuracy must be what the training script's saved
  // logits give, and the agreement 100%.
  const std::string model = Digits("digits_cnn.onnx");
  CliResult r =
      Cli({"compare", model, model, "--data", Digits("digits_test_images.npy"),
           "--labels", Digits("digits_test_labels.npy"), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor logits,
                              ReadNpy(Digits("digits_test_logits.npy")));
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor labels,
                              ReadNpy(Digits("digits_test_labels.npy")));
  const int64_t n = labels.num_elements();
  const int64_t classes = logits.dim(1);
  int64_t correct = 0;
  for (int64_t s = 0; s < n; ++s) {
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c) {
      if (logits.data<float>()[s * classes + c] >
          logits.data<float>()[s * classes + best]) {
        best = c;
      }
    }
    correct += best == labels.GetAsInt64(s);
  }
  const std::string want =
      absl::StrFormat("\"float_top1\": %.9g", double(correct) / n);
  EXPECT_THAT(r.out, HasSubstr(want)) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\"top1_agreement\": 1,"));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("\"num_samples\": ", n)));

  CliResult text =
      Cli({"compare", model, model, "--data", Digits("digits_test_images.npy"),
           "--labels", Digits("digits_test_labels.npy")});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("Top-1 accuracy: float"));
  EXPECT_THAT(text.out, HasSubstr("Layers, worst first"));
}

TEST_F(QuantizeCliTest, InspectListsQuantizers) {
  CliResult r = Cli({"inspect", "--quantizers"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Conv"));
  EXPECT_THAT(r.out, HasSubstr("quantizers:"));
}

TEST_F(QuantizeCliTest, HelpOnEveryCommand) {
  for (const char* command : {"quantize", "calibrate", "compare", "inspect"}) {
    CliResult r = Cli({command, "--help"});
    EXPECT_EQ(r.code, 0) << command;
    EXPECT_THAT(r.out, StartsWith(absl::StrCat("Usage: qforge ", command)))
        << command;
    EXPECT_TRUE(r.err.empty()) << r.err;
  }
  CliResult top = Cli({"--help"});
  EXPECT_THAT(top.out, HasSubstr("quantize"));
  EXPECT_THAT(top.out, HasSubstr("compare"));
  EXPECT_THAT(top.out, HasSubstr("calibrate"));
}

TEST_F(QuantizeCliTest, QuantizeArgumentErrors) {
  const std::string model = Digits("digits_cnn.onnx");
  const std::string calib = Digits("digits_calib.npz");
  const std::string out = Path("out.onnx");
  ExpectOneLineError(Cli({"quantize", model, "--calib", calib}),
                     "missing option '-o OUT'");
  ExpectOneLineError(Cli({"quantize", model, "-o", out}), "--calib");
  ExpectOneLineError(
      Cli({"quantize", model, "-o", out, "--calib", calib, "--stats-in", "x"}),
      "not both");
  ExpectOneLineError(
      Cli({"quantize", model, "-o", out, "--calib", calib, "--io-type", "int8"}),
      "--io-type applies to .tflite output");
  ExpectOneLineError(Cli({"quantize", model, "-o", Path("out.tflite"), "--calib",
                          calib, "--io-type", "int4"}),
                     "--io-type 'int4'");
  ExpectOneLineError(
      Cli({"quantize", model, "-o", Path("out.bin"), "--calib", calib}),
      "out.bin");
  ExpectOneLineError(Cli({"quantize", model, "-o", out, "--stats-in",
                          Path("missing.qfcalib")}),
                     "missing.qfcalib");
  std::ofstream(Path("corrupt.qfcalib")) << "QFCALIB1 this is not a stats file";
  ExpectOneLineError(Cli({"quantize", model, "-o", out, "--stats-in",
                          Path("corrupt.qfcalib")}),
                     "corrupt.qfcalib");
  std::ofstream(Path("bad.cfg")) << "no_such_field: 1\n";
  ExpectOneLineError(Cli({"quantize", model, "-o", out, "--calib", calib,
                          "--config", Path("bad.cfg")}),
                     "no_such_field");
  ExpectOneLineError(
      Cli({"quantize", model, "-o", out, "--calib", Path("nope.npz")}),
      "nope.npz");
  ExpectOneLineError(
      Cli({"quantize", model, "-o", out, "--calib", calib, "--bogus"}),
      "unknown option '--bogus'");
  EXPECT_FALSE(Exists(out)) << "a failed quantize left an output behind";
}

TEST_F(QuantizeCliTest, CalibrateArgumentErrors) {
  const std::string model = Digits("digits_cnn.onnx");
  const std::string calib = Digits("digits_calib.npz");
  const std::string stats = Path("s.qfcalib");
  ExpectOneLineError(Cli({"calibrate", model, "--calib", calib}),
                     "--stats-out");
  ExpectOneLineError(Cli({"calibrate", model, "--stats-out", stats}),
                     "--calib");
  ExpectOneLineError(Cli({"calibrate", "--calib", calib, "--stats-out", stats}),
                     "MODEL");
  for (const char* bad : {"abc", "1:2:3", "5:2", "-1:4", "x:"}) {
    ExpectOneLineError(Cli({"calibrate", model, "--calib", calib, "--stats-out",
                            stats, "--samples", bad}),
                       "--samples");
  }
  ExpectOneLineError(Cli({"calibrate", model, "--calib", calib, "--stats-out",
                          stats, "--samples", "250:300"}),
                     "256");
  ExpectOneLineError(
      Cli({"calibrate", model, "--calib", Digits("digits_test_labels.npy"),
           "--stats-out", stats}),
      "");
  EXPECT_FALSE(Exists(stats));
}

TEST_F(QuantizeCliTest, CompareArgumentErrors) {
  const std::string model = Digits("digits_cnn.onnx");
  const std::string images = Digits("digits_test_images.npy");
  ExpectOneLineError(Cli({"compare", model, model}), "--data");
  ExpectOneLineError(Cli({"compare", model, "--data", images}), "QUANT_MODEL");
  ExpectOneLineError(
      Cli({"compare", model, Path("missing.onnx"), "--data", images}),
      "missing.onnx");
  // 256 labels for 540 samples.
  ExpectOneLineError(Cli({"compare", model, model, "--data", images, "--labels",
                          Digits("digits_calib.npz")}),
                     "");
  ASSERT_THAT(
      WriteNpy(Path("short.npy"), Tensor::FromVector<int64_t>({3}, {1, 2, 3})),
      IsOk());
  ExpectOneLineError(Cli({"compare", model, model, "--data", images, "--labels",
                          Path("short.npy")}),
                     "labels");
}

// ONNX in -> TFLite out, then TFLite in -> TFLite out (the CLI picks the
// format from the extension); `inspect` reads the TFLite files.
TEST_F(QuantizeCliTest, QuantizesToAndFromTflite) {
  const std::string calib = Digits("digits_calib.npz");
  const std::string q1 = Path("q1.tflite");
  CliResult r = Cli({"quantize", Digits("digits_cnn.onnx"), "-o", q1, "--calib", calib});
  ASSERT_EQ(r.code, 0) << r.err;
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph q, LoadModel(q1, registry_));
  EXPECT_EQ(q.metadata().at("qforge.arithmetic_profile"), "tflite_reference");
  bool has_int8 = false;
  for (const Value* v : q.values()) has_int8 |= v->dtype() == DataType::kInt8;
  EXPECT_TRUE(has_int8);

  // A float TFLite model in, a full-integer one with int8 IO out.
  const std::string f = Path("float.tflite");
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph onnx, LoadModel(Digits("digits_cnn.onnx"), registry_));
  ASSERT_THAT(SaveModel(onnx, f), IsOk());
  const std::string q2 = Path("q2.tflite");
  r = Cli({"quantize", f, "-o", q2, "--calib", calib, "--io-type", "int8"});
  ASSERT_EQ(r.code, 0) << r.err;
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph q2g, LoadModel(q2, registry_));
  EXPECT_EQ(q2g.inputs()[0]->dtype(), DataType::kInt8);
  EXPECT_EQ(q2g.outputs()[0]->dtype(), DataType::kInt8);

  // `run` executes the int8 TFLite model (converted to NCHW for the int8
  // kernels) with its int8 input.
  Tensor x(DataType::kInt8, {1, 1, 8, 8});  // digits keeps its NCHW input.
  for (int i = 0; i < 64; ++i) x.data<int8_t>()[i] = static_cast<int8_t>(i * 3 - 96);
  ASSERT_THAT(WriteNpy(Path("x.npy"), x), IsOk());
  r = Cli({"run", q2, "--input", Path("x.npy"), "--output-dir", Path("run_out")});
  ASSERT_EQ(r.code, 0) << r.err;
  QFORGE_ASSERT_OK_AND_ASSIGN(Tensor logits, ReadNpy(Path("run_out/logits.npy")));
  EXPECT_EQ(logits.dtype(), DataType::kInt8);
  EXPECT_EQ(logits.num_elements(), 10);

  for (const std::string& m : {f, q2}) {
    r = Cli({"inspect", m});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("Conv"));
  }
}

// Issue 6, acceptance 2, on the converter-comparison model (a Keras CNN,
// tests/interop/fixtures/keras_cnn/, docs/converter_comparison.md):
// `quantize` takes its float .tflite with the calibration .npz, `inspect`
// reads the float model and the TFLite converter's int8 model, and `compare`
// runs both int8 models against the float one.
std::string KerasCnn(const std::string& file) {
  return SourceDir() + "/tests/interop/fixtures/keras_cnn/" + file;
}

TEST_F(QuantizeCliTest, ConverterComparisonModel) {
  const std::string q = Path("model_int8.tflite");
  CliResult r = Cli({"quantize", KerasCnn("keras_cnn_float.tflite"), "-o", q,
                     "--calib", KerasCnn("keras_cnn_calib.npz")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("calibration samples: 256"));
  EXPECT_THAT(r.out, HasSubstr("0 kept float"));
  QFORGE_ASSERT_OK_AND_ASSIGN(Graph qg, LoadModel(q, registry_));
  EXPECT_EQ(qg.metadata().at("qforge.arithmetic_profile"), "tflite_reference");
  // The int8 spec's rules, as the model's layers need them: fixed Sigmoid and
  // Tanh outputs, one scale for the Concatenate's inputs and output.
  int concats = 0;
  for (const Node* n : qg.nodes()) {
    if (n->op_type() == "Sigmoid" || n->op_type() == "Tanh") {
      ASSERT_TRUE(n->output(0)->quant().has_value());
      const bool sigmoid = n->op_type() == "Sigmoid";
      EXPECT_EQ(n->output(0)->quant()->scale[0],
                sigmoid ? 1.0f / 256 : 1.0f / 128);
      EXPECT_EQ(n->output(0)->quant()->zero_point[0], sigmoid ? -128 : 0);
    }
    if (n->op_type() == "Concat") {
      ++concats;
      ASSERT_EQ(n->num_inputs(), 3);
      for (const Value* in : n->inputs()) {
        EXPECT_EQ(*in->quant(), *n->output(0)->quant()) << in->name();
      }
    }
  }
  EXPECT_EQ(concats, 1);

  // The Keras model: 5 convolutions (one depthwise), 3 ReLU6, a sigmoid and a
  // tanh branch, one Concatenate, global average pooling, a Dense layer.
  r = Cli({"inspect", KerasCnn("keras_cnn_float.tflite")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("float32[1,8,8,1]"));
  for (const char* op :
       {"Conv           5", "Clip           3", "Sigmoid        1",
        "Tanh           1", "Concat         1", "Gemm           1"}) {
    EXPECT_THAT(r.out, HasSubstr(op));
  }
  r = Cli({"inspect", KerasCnn("keras_cnn_converter_int8.tflite")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("float32[1,8,8,1]"));  // Float IO.
  for (const char* op :
       {"QuantizeLinear", "DequantizeLinear", "Concat", "Sigmoid"}) {
    EXPECT_THAT(r.out, HasSubstr(op));
  }

  // compare runs int8 TFLite models (NHWC, converted for the int8 kernels).
  for (const std::string& m :
       {q, KerasCnn("keras_cnn_converter_int8.tflite")}) {
    r = Cli({"compare", KerasCnn("keras_cnn_float.tflite"), m, "--data",
             KerasCnn("keras_cnn_test_images.npy"), "--labels",
             KerasCnn("keras_cnn_test_labels.npy"), "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("\"num_samples\": 540,"));
    EXPECT_THAT(r.out, HasSubstr("\"float_top1\": 0.9"));
    EXPECT_THAT(r.out, HasSubstr("\"quantized_top1\": 0.9"));
  }
}

}  // namespace
}  // namespace qforge
