// qforge command-line tool: inspect, run, calibrate, quantize, compare and
// bench.
//
//   qforge inspect MODEL [--json] | qforge inspect --quantizers
//   qforge run MODEL --input NAME=FILE.npy ... --output-dir DIR
//   qforge calibrate MODEL --calib DATA --stats-out S [--samples B:E]
//   qforge quantize MODEL -o OUT (--calib DATA | --stats-in S...) [--report R]
//   qforge compare FLOAT QUANT --data DATA [--labels L.npy] [--json]
//   qforge bench MODEL [--quantized QMODEL] [--runs N] [--threads N]
//
// Every command accepts --help. Errors print one line,
// "qforge: error: <reason>", to stderr and exit with status 1.
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "commands.h"

namespace qforge::cli {
namespace {

constexpr Command kCommands[] = {
    {"inspect", "show a model's ops, inputs, outputs and parameters", Inspect},
    {"run", "run a model on .npy inputs and write its outputs as .npy", Run},
    {"calibrate", "gather calibration statistics (shardable)", Calibrate},
    {"quantize", "quantize a float model to INT8", Quantize},
    {"compare", "layer-wise error of a quantized model vs its float model",
     Compare},
    {"bench", "median latency of a float model and its INT8 model", Bench},
};

std::string TopLevelHelp() {
  std::string out =
      "Usage: qforge COMMAND [ARGS...]\n\n"
      "qforge imports float ONNX models, runs them on reference kernels and\n"
      "quantizes them to INT8.\n\nCommands:\n";
  for (const Command& c : kCommands) {
    absl::StrAppend(&out, absl::StrFormat("  %-10s  %s\n", c.name, c.summary));
  }
  absl::StrAppend(&out,
                  "\nRun 'qforge COMMAND --help' for a command's arguments.\n"
                  "On error qforge prints 'qforge: error: <reason>' and exits "
                  "with status 1.\n");
  return out;
}

int Fail(absl::string_view message) {
  // One line, whatever the message holds.
  std::string line = absl::StrReplaceAll(message, {{"\r", ""}, {"\n", "; "}});
  std::cerr << "qforge: error: " << line << std::endl;
  return 1;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    return Fail("no command given (see qforge --help)");
  }
  const std::string& name = args[0];
  if (name == "--help" || name == "-h" || name == "help") {
    std::cout << TopLevelHelp();
    return 0;
  }
  for (const Command& c : kCommands) {
    if (name != c.name) continue;
    absl::Status status;
    try {
      status = c.run(std::vector<std::string>(args.begin() + 1, args.end()));
    } catch (const std::bad_alloc&) {
      return Fail("out of memory");
    } catch (const std::exception& e) {
      return Fail(absl::StrCat("internal error: ", e.what()));
    }
    if (!status.ok()) return Fail(status.message());
    return 0;
  }
  return Fail(absl::StrCat("unknown command '", name, "' (see qforge --help)"));
}

}  // namespace
}  // namespace qforge::cli

int main(int argc, char** argv) { return qforge::cli::Main(argc, argv); }
