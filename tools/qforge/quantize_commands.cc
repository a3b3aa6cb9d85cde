// qforge quantize / calibrate / compare.
//
//   qforge calibrate MODEL --calib DATA --stats-out S [--samples B:E] [--config
//   CFG] qforge quantize MODEL -o OUT (--calib DATA | --stats-in S ...)
//   [--config CFG]
//                   [--report R.json]
//   qforge compare FLOAT_MODEL QUANT_MODEL --data DATA [--labels L.npy]
//                  [--json] [--config CFG]
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "args.h"
#include "commands.h"
#include "io/atomic_file.h"
#include "qforge/core/status.h"
#include "qforge/io/model.h"
#include "qforge/io/npy.h"
#include "qforge/io/tflite.h"
#include "qforge/ir/layout.h"
#include "qforge/quantize/calibration.h"
#include "qforge/quantize/calibration_data.h"
#include "qforge/quantize/quant_config.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"
#include "qforge/validate/compare.h"

namespace qforge::cli {
namespace {

// A progress bar on stderr, drawn only when stderr is a terminal.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label)
      : label_(std::move(label)), enabled_(::isatty(STDERR_FILENO) == 1) {}
  ~ProgressBar() {
    if (enabled_ && drawn_) std::fputs("\n", stderr);
  }
  void Update(int64_t done, int64_t total) {
    if (!enabled_ || total <= 0) return;
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(kWidth * done / total);
    std::string bar(filled, '#');
    bar.append(kWidth - filled, ' ');
    std::fprintf(stderr, "\r%s [%s] %lld/%lld", label_.c_str(), bar.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total));
    std::fflush(stderr);
    drawn_ = true;
  }
  ProgressCallback Callback() {
    return [this](int64_t done, int64_t total) { Update(done, total); };
  }

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
};

absl::StatusOr<QuantConfig> ReadConfig(const std::string& path) {
  if (path.empty()) return QuantConfig();
  return LoadQuantConfig(path);
}

// OpenCalibrationData, plus: a bare FILE.npy feeds a model's single input.
absl::StatusOr<std::unique_ptr<CalibrationData>> OpenData(
    const std::string& spec, const Graph& model) {
  if (spec.find('=') == std::string::npos && absl::EndsWith(spec, ".npy")) {
    if (model.inputs().size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", spec, "' is a single .npy but the model has ",
          model.inputs().size(),
          " inputs; give NAME=FILE.npy,... or an .npz keyed by input name"));
    }
    return OpenCalibrationData(
        absl::StrCat(model.inputs()[0]->name(), "=", spec));
  }
  return OpenCalibrationData(spec);
}

absl::Status ParseSamples(const std::string& text, int64_t* begin,
                          int64_t* end) {
  *begin = 0;
  *end = -1;
  if (text.empty()) return absl::OkStatus();
  std::vector<std::string> parts = absl::StrSplit(text, ':');
  const auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "--samples '", text, "' is not BEGIN:END (e.g. 0:500, 500:)"));
  };
  if (parts.size() != 2) return bad();
  if (!parts[0].empty() && !absl::SimpleAtoi(parts[0], begin)) return bad();
  if (!parts[1].empty() && !absl::SimpleAtoi(parts[1], end)) return bad();
  if (*begin < 0 || (*end >= 0 && *end < *begin)) return bad();
  return absl::OkStatus();
}

absl::Status CheckSamples(int64_t begin, int64_t end, int64_t total) {
  const int64_t e = end < 0 ? total : end;
  if (begin > total || e > total || begin >= e) {
    return absl::InvalidArgumentError(
        absl::StrCat("--samples ", begin, ":", end < 0 ? "" : absl::StrCat(end),
                     " selects no samples of the data's ", total));
  }
  return absl::OkStatus();
}

absl::StatusOr<TfliteIoType> ParseIoType(const std::string& text) {
  if (text.empty() || text == "float") return TfliteIoType::kFloat32;
  if (text == "int8") return TfliteIoType::kInt8;
  if (text == "uint8") return TfliteIoType::kUint8;
  return absl::InvalidArgumentError(absl::StrCat(
      "--io-type '", text, "': expected float, int8 or uint8"));
}

}  // namespace

absl::Status Calibrate(const std::vector<std::string>& args) {
  std::string model_path, calib, config_path, stats_out, samples;
  ArgParser parser(
      "qforge calibrate",
      "Runs the float MODEL (prepared for quantization as 'qforge quantize' "
      "does) over samples of\nDATA and writes the calibration statistics to "
      "S. Shard a calibration with --samples and\nmerge the shards with "
      "'qforge quantize --stats-in a --stats-in b ...'.");
  parser.AddPositional("MODEL", "float model (.onnx)", &model_path);
  parser.AddOption("calib", "DATA",
                   "calibration data: FILE.npz, DIR/, NAME=FILE.npy,... or "
                   "FILE.npy (single-input model)",
                   &calib, /*required=*/true);
  parser.AddOption("stats-out", "S", "statistics file to write", &stats_out,
                   /*required=*/true);
  parser.AddOption("samples", "BEGIN:END",
                   "only samples [BEGIN, END) (either may be empty)", &samples);
  parser.AddOption("config", "CFG", "quantization config (text format)",
                   &config_path);
  std::vector<std::string> plugins;
  AddPluginOption(parser, &plugins);
  QFORGE_RETURN_IF_ERROR(parser.Parse(args));
  if (parser.help_requested()) {
    std::cout << parser.Help();
    return absl::OkStatus();
  }
  int64_t begin = 0, end = -1;
  QFORGE_RETURN_IF_ERROR(ParseSamples(samples, &begin, &end));
  QFORGE_ASSIGN_OR_RETURN(QuantConfig config, ReadConfig(config_path));
  Registry registry;
  QFORGE_RETURN_IF_ERROR(FillRegistry(plugins, registry));
  QFORGE_ASSIGN_OR_RETURN(Graph model, LoadModel(model_path, registry));
  QFORGE_ASSIGN_OR_RETURN(std::unique_ptr<CalibrationData> data,
                          OpenData(calib, model));
  QFORGE_RETURN_IF_ERROR(CheckSamples(begin, end, data->num_samples()));
  QFORGE_ASSIGN_OR_RETURN(Graph prepared,
                          PrepareForQuantization(model, config, registry));
  ProgressBar bar("calibrating");
  QFORGE_ASSIGN_OR_RETURN(CalibrationStats stats,
                          qforge::Calibrate(prepared, *data, config, registry,
                                            begin, end, bar.Callback()));
  QFORGE_RETURN_IF_ERROR(SaveStats(stats, stats_out));
  const int64_t e = end < 0 ? data->num_samples() : end;
  std::cout << "calibrated " << stats.size() << " tensors on samples [" << begin
            << ", " << e << ") of " << data->num_samples() << "; wrote "
            << stats_out << "\n";
  return absl::OkStatus();
}

absl::Status Quantize(const std::vector<std::string>& args) {
  std::string model_path, out_path, calib, config_path, report_path, io_type_text;
  std::vector<std::string> stats_in;
  ArgParser parser(
      "qforge quantize",
      "Quantizes the float MODEL to INT8 and writes it to OUT (format by "
      "extension: .onnx).\nCalibrates on DATA, or uses statistics from "
      "'qforge calibrate' (--stats-in, repeatable:\nshards are merged). "
      "Prints what was quantized, what stayed float and why, calibration\n"
      "warnings and the parameter size before and after.");
  parser.AddPositional("MODEL", "float model (.onnx or .tflite)", &model_path);
  parser.AddOption("o", "OUT", "quantized model to write (.onnx or .tflite)",
                   &out_path, /*required=*/true);
  parser.AddOption("calib", "DATA",
                   "calibration data: FILE.npz, DIR/, NAME=FILE.npy,... or "
                   "FILE.npy (single-input model)",
                   &calib);
  parser.AddRepeated("stats-in", "S",
                     "calibration statistics (from 'qforge calibrate'); "
                     "several are merged",
                     &stats_in);
  parser.AddOption("config", "CFG", "quantization config (text format)",
                   &config_path);
  parser.AddOption("report", "R.json", "also write the report as JSON",
                   &report_path);
  std::vector<std::string> plugins;
  AddPluginOption(parser, &plugins);
  parser.AddOption("io-type", "T",
                   "TFLite output only: element type of the model's inputs and "
                   "outputs, float (default), int8 or uint8",
                   &io_type_text);
  QFORGE_RETURN_IF_ERROR(parser.Parse(args));
  if (parser.help_requested()) {
    std::cout << parser.Help();
    return absl::OkStatus();
  }
  if (calib.empty() && stats_in.empty()) {
    return absl::InvalidArgumentError(
        "give calibration data (--calib DATA) or statistics (--stats-in S)");
  }
  if (!calib.empty() && !stats_in.empty()) {
    return absl::InvalidArgumentError(
        "give either --calib or --stats-in, not both");
  }
  QFORGE_ASSIGN_OR_RETURN(const ModelFormat out_format,
                          ModelFormatFromPath(out_path));
  QFORGE_ASSIGN_OR_RETURN(const TfliteIoType io_type, ParseIoType(io_type_text));
  if (!io_type_text.empty() && out_format != ModelFormat::kTflite) {
    return absl::InvalidArgumentError(
        absl::StrCat("--io-type applies to .tflite output, not '", out_path, "'"));
  }
  QFORGE_ASSIGN_OR_RETURN(QuantConfig config, ReadConfig(config_path));
  // A TFLite model runs on TFLite's integer arithmetic unless a config says
  // otherwise.
  if (config_path.empty() && out_format == ModelFormat::kTflite) {
    config.profile = ArithmeticProfile::kTfliteReference;
  }
  Registry registry;
  QFORGE_RETURN_IF_ERROR(FillRegistry(plugins, registry));
  QFORGE_ASSIGN_OR_RETURN(Graph model, LoadModel(model_path, registry));
  QFORGE_ASSIGN_OR_RETURN(Graph prepared,
                          PrepareForQuantization(model, config, registry));
  CalibrationStats stats;
  std::vector<std::string> data_warnings;
  if (!calib.empty()) {
    QFORGE_ASSIGN_OR_RETURN(std::unique_ptr<CalibrationData> data,
                            OpenData(calib, model));
    data_warnings = data->warnings();
    ProgressBar bar("calibrating");
    QFORGE_ASSIGN_OR_RETURN(
        stats, qforge::Calibrate(prepared, *data, config, registry, 0, -1,
                                 bar.Callback()));
  } else {
    for (size_t i = 0; i < stats_in.size(); ++i) {
      QFORGE_ASSIGN_OR_RETURN(CalibrationStats shard, LoadStats(stats_in[i]));
      if (i == 0) {
        stats = std::move(shard);
        continue;
      }
      absl::Status merged = stats.Merge(shard);
      if (!merged.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot merge '", stats_in[i], "': ", merged.message()));
      }
    }
  }
  QFORGE_ASSIGN_OR_RETURN(QuantizeResult result,
                          QuantizeWithStats(prepared, stats, config, registry));
  for (const std::string& w : data_warnings) {
    result.report.warnings.push_back(w);
  }
  // The summary first: it explains the model even if writing it fails.
  std::cout << result.report.ToString() << std::flush;
  if (out_format == ModelFormat::kTflite) {
    QFORGE_RETURN_IF_ERROR(SaveTflite(result.model, out_path,
                                      {.input_type = io_type, .output_type = io_type}));
  } else {
    QFORGE_RETURN_IF_ERROR(SaveModel(result.model, out_path));
  }
  if (!report_path.empty()) {
    QFORGE_RETURN_IF_ERROR(
        internal::WriteFileAtomically(report_path, result.report.ToJson()));
  }
  std::cout << "wrote " << out_path << "\n";
  return absl::OkStatus();
}

absl::Status Compare(const std::vector<std::string>& args) {
  std::string float_path, quant_path, data_spec, labels_path, config_path;
  bool json = false;
  ArgParser parser(
      "qforge compare",
      "Runs FLOAT_MODEL and QUANT_MODEL on DATA and reports, for each output "
      "and each\nintermediate tensor found in both (by name), SQNR, cosine, "
      "max and mean |error|:\ncumulative (the quantized model end to end) "
      "and isolated (each quantized layer alone\non the float model's "
      "inputs), worst layers first. With --labels, also the top-1\naccuracy "
      "of both models. The float model is prepared as 'qforge quantize' "
      "prepares it\n(BatchNorm folded); pass the same --config.");
  parser.AddPositional("FLOAT_MODEL", "float model (.onnx or .tflite)",
                       &float_path);
  parser.AddPositional("QUANT_MODEL", "quantized model (.onnx or .tflite)",
                       &quant_path);
  parser.AddOption("data", "DATA",
                   "inputs: FILE.npz, DIR/, NAME=FILE.npy,... or FILE.npy "
                   "(single-input model)",
                   &data_spec, /*required=*/true);
  parser.AddOption("labels", "L.npy", "class index per sample", &labels_path);
  parser.AddFlag("json", "print the report as JSON", &json);
  parser.AddOption("config", "CFG", "the quantization config used",
                   &config_path);
  std::vector<std::string> plugins;
  AddPluginOption(parser, &plugins);
  QFORGE_RETURN_IF_ERROR(parser.Parse(args));
  if (parser.help_requested()) {
    std::cout << parser.Help();
    return absl::OkStatus();
  }
  QFORGE_ASSIGN_OR_RETURN(QuantConfig config, ReadConfig(config_path));
  Registry registry;
  QFORGE_RETURN_IF_ERROR(FillRegistry(plugins, registry));
  QFORGE_ASSIGN_OR_RETURN(Graph float_model, LoadModel(float_path, registry));
  QFORGE_ASSIGN_OR_RETURN(Graph quant_model, LoadModel(quant_path, registry));
  // The int8 kernels run NCHW (docs/int8_kernels.md): a quantized NHWC model
  // (an int8 .tflite) is converted, and the float one with it so that the
  // intermediate tensors still match by name and shape. Model inputs and
  // outputs keep their names and shapes.
  bool nhwc = false;
  for (const Node* n : quant_model.nodes())
    nhwc |= n->layout() == Layout::kNHWC;
  if (nhwc) {
    QFORGE_RETURN_IF_ERROR(
        ConvertLayout(quant_model, Layout::kNCHW, registry.schemas()));
    QFORGE_RETURN_IF_ERROR(
        ConvertLayout(float_model, Layout::kNCHW, registry.schemas()));
  }
  QFORGE_ASSIGN_OR_RETURN(std::unique_ptr<CalibrationData> data,
                          OpenData(data_spec, float_model));
  CompareOptions options;
  options.config = config;
  if (!labels_path.empty()) {
    QFORGE_ASSIGN_OR_RETURN(Tensor labels, ReadNpy(labels_path));
    options.labels = std::move(labels);
  }
  ProgressBar bar("comparing");
  options.progress = bar.Callback();
  QFORGE_ASSIGN_OR_RETURN(
      ComparisonReport report,
      CompareModels(float_model, quant_model, *data, registry, options));
  std::cout << (json ? report.ToJson() : report.ToString());
  return absl::OkStatus();
}

}  // namespace qforge::cli
