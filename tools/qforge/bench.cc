// qforge bench: end-to-end latency of a float model and of its INT8 model on
// qforge's executor.
//
//   qforge bench MODEL [--quantized QMODEL] [--runs N] [--warmup N]
//                [--threads N] [--calib-samples N] [--seed S]
//
// Without --quantized the float MODEL is quantized on the fly (default
// config) with --calib-samples generated samples: seeded values uniform in
// [-1, 1] of each input's shape. Inputs are generated the same way; symbolic
// dims count as 1. Each model runs --warmup untimed then --runs timed
// inferences; --threads N runs N inferences concurrently on the one prepared
// model (the kernels themselves are single-threaded).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "args.h"
#include "commands.h"
#include "qforge/core/status.h"
#include "qforge/io/model.h"
#include "qforge/quantize/calibration_data.h"
#include "qforge/quantize/quantize.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"

namespace qforge::cli {
namespace {

absl::StatusOr<int64_t> PositiveInt(const std::string& name,
                                    const std::string& text, int64_t fallback,
                                    int64_t min) {
  if (text.empty()) return fallback;
  int64_t v = 0;
  if (!absl::SimpleAtoi(text, &v) || v < min || v > 1000000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, " '", text, "' is not an integer in [", min, ", 1000000]"));
  }
  return v;
}

// Seeded values of every graph input; with samples > 0, that many samples
// stacked along the (batch-1) first axis, as calibration data.
absl::StatusOr<TensorMap> GenerateInputs(const Graph& model, int64_t samples,
                                         uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  TensorMap out;
  for (const Value* in : model.inputs()) {
    if (in->dtype() != DataType::kFloat32) {
      return absl::UnimplementedError(absl::StrCat(
          "input '", in->name(), "' is ", DataTypeName(in->dtype()),
          "; qforge bench generates float32 inputs only"));
    }
    if (!in->shape().rank_known()) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", in->name(), "' has an unknown rank"));
    }
    std::vector<int64_t> dims;
    for (const Dim& d : in->shape().dims())
      dims.push_back(d.is_static() ? d.value : 1);
    if (samples > 0) {
      // Calibration samples are slices of the first (batch) axis.
      if (dims.empty() || dims[0] != 1) {
        return absl::UnimplementedError(absl::StrCat(
            "input '", in->name(),
            "' has no batch-1 first axis to generate "
            "calibration samples along; quantize the model with 'qforge "
            "quantize' and pass it with --quantized"));
      }
      dims[0] = samples;
    }
    Tensor t(DataType::kFloat32, dims);
    for (float& v : t.values<float>()) v = dist(rng);
    out[in->name()] = std::move(t);
  }
  return out;
}

// CPU seconds of the calling thread.
double ThreadSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Timing {
  double median_ms = 0, min_ms = 0, max_ms = 0;
  double median_cpu_ms = 0;  // CPU time of the running thread.
  int64_t runs = 0;
  double throughput = 0;  // Inferences per second over all threads.
};

absl::StatusOr<Timing> Time(const Graph& model, const Registry& registry,
                            const TensorMap& inputs, int64_t warmup,
                            int64_t runs, int64_t threads) {
  using Clock = std::chrono::steady_clock;
  QFORGE_ASSIGN_OR_RETURN(std::unique_ptr<Executor> executor,
                          Executor::Prepare(model, registry));
  for (int64_t i = 0; i < warmup; ++i) {
    QFORGE_RETURN_IF_ERROR(executor->Run(inputs).status());
  }
  absl::Mutex mu;
  std::vector<double> ms, cpu_ms;
  absl::Status error;
  auto worker = [&](int64_t count) {
    for (int64_t i = 0; i < count; ++i) {
      const auto start = Clock::now();
      const double cpu_start = ThreadSeconds();
      absl::Status s = executor->Run(inputs).status();
      const double cpu = 1e3 * (ThreadSeconds() - cpu_start);
      const double t =
          std::chrono::duration<double, std::milli>(Clock::now() - start)
              .count();
      absl::MutexLock lock(&mu);
      if (!s.ok()) {
        if (error.ok()) error = s;
        return;
      }
      ms.push_back(t);
      cpu_ms.push_back(cpu);
    }
  };
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int64_t t = 0; t < threads; ++t) {
    pool.emplace_back(worker, runs / threads + (t < runs % threads ? 1 : 0));
  }
  for (std::thread& t : pool) t.join();
  const double wall =
      std::chrono::duration<double>(Clock::now() - start).count();
  QFORGE_RETURN_IF_ERROR(error);
  std::sort(ms.begin(), ms.end());
  Timing timing;
  timing.runs = static_cast<int64_t>(ms.size());
  const size_t n = ms.size();
  timing.median_ms = Median(ms);
  timing.median_cpu_ms = Median(cpu_ms);
  timing.min_ms = ms.front();
  timing.max_ms = ms.back();
  timing.throughput = wall > 0 ? n / wall : 0;
  return timing;
}

std::string Describe(absl::string_view what, const Timing& t) {
  return absl::StrFormat(
      "%-6s median %9.3f ms  (min %.3f, max %.3f, %d runs, %.1f "
      "inferences/s; median CPU time %.3f ms)\n",
      what, t.median_ms, t.min_ms, t.max_ms, t.runs, t.throughput,
      t.median_cpu_ms);
}

}  // namespace

absl::Status Bench(const std::vector<std::string>& args) {
  std::string model_path, quantized_path, runs_text, warmup_text, threads_text,
      samples_text, seed_text;
  ArgParser parser(
      "qforge bench",
      "Median latency of the float MODEL and of its INT8 model on qforge's "
      "executor, and their\nratio. The INT8 model is QMODEL, or MODEL "
      "quantized now (default config) on generated\ncalibration samples "
      "(seeded, uniform in [-1, 1]). Inputs are generated the same way.");
  parser.AddPositional("MODEL", "float model (.onnx)", &model_path);
  parser.AddOption("quantized", "QMODEL",
                   "an INT8 model of MODEL (e.g. from 'qforge quantize')",
                   &quantized_path);
  parser.AddOption("runs", "N", "timed inferences per model (default 20)",
                   &runs_text);
  parser.AddOption("warmup", "N", "untimed inferences first (default 2)",
                   &warmup_text);
  parser.AddOption("threads", "N",
                   "concurrent inferences on the prepared model (default 1; "
                   "kernels are single-threaded)",
                   &threads_text);
  parser.AddOption("calib-samples", "N",
                   "generated calibration samples (default 4)", &samples_text);
  parser.AddOption("seed", "S", "seed of the generated data (default 1)",
                   &seed_text);
  QFORGE_RETURN_IF_ERROR(parser.Parse(args));
  if (parser.help_requested()) {
    std::cout << parser.Help();
    return absl::OkStatus();
  }
  QFORGE_ASSIGN_OR_RETURN(int64_t runs, PositiveInt("runs", runs_text, 20, 1));
  QFORGE_ASSIGN_OR_RETURN(int64_t warmup,
                          PositiveInt("warmup", warmup_text, 2, 0));
  QFORGE_ASSIGN_OR_RETURN(int64_t threads,
                          PositiveInt("threads", threads_text, 1, 1));
  if (threads > 256) {
    return absl::InvalidArgumentError(
        absl::StrCat("--threads ", threads, " is more than 256"));
  }
  QFORGE_ASSIGN_OR_RETURN(int64_t samples,
                          PositiveInt("calib-samples", samples_text, 4, 1));
  QFORGE_ASSIGN_OR_RETURN(int64_t seed, PositiveInt("seed", seed_text, 1, 0));

  Registry registry;
  QFORGE_RETURN_IF_ERROR(RegisterBuiltins(registry));
  QFORGE_ASSIGN_OR_RETURN(Graph model, LoadModel(model_path, registry));
  QFORGE_ASSIGN_OR_RETURN(TensorMap inputs, GenerateInputs(model, 0, seed));

  Graph quantized;
  std::string how;
  if (!quantized_path.empty()) {
    QFORGE_ASSIGN_OR_RETURN(quantized, LoadModel(quantized_path, registry));
    how = quantized_path;
  } else {
    QFORGE_ASSIGN_OR_RETURN(TensorMap calib,
                            GenerateInputs(model, samples, seed + 1));
    QFORGE_ASSIGN_OR_RETURN(std::unique_ptr<TensorCalibrationData> data,
                            TensorCalibrationData::Create(std::move(calib)));
    QFORGE_ASSIGN_OR_RETURN(QuantizeResult result,
                            qforge::Quantize(model, *data, {}, registry));
    how = absl::StrCat("quantized now on ", samples,
                       " generated samples: ", result.report.num_quantized(),
                       " nodes int8, ", result.report.num_float(), " float");
    quantized = std::move(result.model);
  }

  std::cout << "model: " << model_path << "\n"
            << "int8 model: " << how << "\n"
            << absl::StrFormat("runs: %d (+%d warmup), threads: %d\n", runs,
                               warmup, threads);
  QFORGE_ASSIGN_OR_RETURN(Timing f,
                          Time(model, registry, inputs, warmup, runs, threads));
  std::cout << Describe("float", f) << std::flush;
  QFORGE_ASSIGN_OR_RETURN(
      Timing q, Time(quantized, registry, inputs, warmup, runs, threads));
  std::cout << Describe("int8", q);
  std::cout << absl::StrFormat(
      "speedup (float / int8 median): %.2fx  (CPU time: %.2fx)\n",
      f.median_ms / q.median_ms, f.median_cpu_ms / q.median_cpu_ms);
  return absl::OkStatus();
}

}  // namespace qforge::cli
