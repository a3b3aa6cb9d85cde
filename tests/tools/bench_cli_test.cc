// `qforge bench`: times the float and the INT8 model of the digits CNN
// (quantized on the fly, or given with --quantized), prints both medians and
// their ratio, and rejects bad arguments with one error line.
#include <cstdlib>
#include <regex>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/tools/cli_test_util.h"

namespace qforge {
namespace {

using ::qforge::testing::CliFixture;
using ::qforge::testing::CliResult;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Digits(const std::string& file) {
  const char* dir = std::getenv("QFORGE_SOURCE_DIR");
  return std::string(dir != nullptr ? dir : ".") + "/examples/digits/" + file;
}

// The "<what> median X ms (... N runs" line's median and run count.
bool ParseTiming(const std::string& out, const std::string& what,
                 double* median, int* runs) {
  std::smatch m;
  const std::regex re(what + R"(\s+median\s+([0-9.]+) ms .* ([0-9]+) runs,)");
  if (!std::regex_search(out, m, re)) return false;
  *median = std::stod(m[1]);
  *runs = std::stoi(m[2]);
  return true;
}

class BenchCliTest : public CliFixture {};

TEST_F(BenchCliTest, QuantizesOnTheFlyAndReportsTheRatioOfMedians) {
  CliResult r = Cli({"bench", Digits("digits_cnn.onnx"), "--runs", "3",
                     "--warmup", "0", "--calib-samples", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("quantized now on 2 generated samples"));
  double f = 0, q = 0;
  int fr = 0, qr = 0;
  ASSERT_TRUE(ParseTiming(r.out, "float", &f, &fr)) << r.out;
  ASSERT_TRUE(ParseTiming(r.out, "int8", &q, &qr)) << r.out;
  EXPECT_EQ(fr, 3);
  EXPECT_EQ(qr, 3);
  ASSERT_GT(q, 0);
  std::smatch m;
  const std::regex speedup(R"(speedup \(float / int8 median\): ([0-9.]+)x)");
  ASSERT_TRUE(std::regex_search(r.out, m, speedup)) << r.out;
  // Medians printed to 0.0005 ms, the ratio to 0.005: within that rounding.
  EXPECT_NEAR(std::stod(m[1]), f / q, 0.006 + 0.0005 * (1 + f / q) / q);
}

TEST_F(BenchCliTest, TakesAQuantizedModelAndRunsOnSeveralThreads) {
  const std::string qmodel = Path("int8.onnx");
  ASSERT_EQ(Cli({"quantize", Digits("digits_cnn.onnx"), "-o", qmodel, "--calib",
                 Digits("digits_calib.npz")})
                .code,
            0);
  CliResult r = Cli({"bench", Digits("digits_cnn.onnx"), "--quantized", qmodel,
                     "--runs", "4", "--threads", "2", "--warmup", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("int8 model: " + qmodel));
  EXPECT_THAT(r.out, HasSubstr("threads: 2"));
  double t = 0;
  int runs = 0;
  ASSERT_TRUE(ParseTiming(r.out, "int8", &t, &runs)) << r.out;
  EXPECT_EQ(runs, 4);
}

TEST_F(BenchCliTest, ArgumentErrors) {
  const std::string model = Digits("digits_cnn.onnx");
  ExpectOneLineError(Cli({"bench", model, "--runs", "0"}), "--runs '0'");
  ExpectOneLineError(Cli({"bench", model, "--threads", "two"}), "--threads");
  ExpectOneLineError(Cli({"bench", model, "--threads", "1000"}), "256");
  ExpectOneLineError(Cli({"bench", Path("missing.onnx")}), "missing.onnx");
  ExpectOneLineError(Cli({"bench", model, "--quantized", Path("q.onnx")}),
                     "q.onnx");
  CliResult help = Cli({"bench", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.out, StartsWith("Usage: qforge bench"));
}

}  // namespace
}  // namespace qforge
