// Shared pieces of the qforge kernel benchmarks (bench/*_bench.cc).
//
// - Machine limits measured in the same binary, before any kernel row:
//   the int8 multiply-accumulate peak of one core (AVX-512 VNNI or AVX-VNNI
//   `vpdpbusd` where the CPU has it, always the AVX2
//   vpmaddubsw+vpmaddwd+vpaddd sequence) and the read bandwidth of a buffer
//   of a given size (the memory limit of the batch-1 fully connected).
// - Quantized one-node qforge graphs (Conv, Gemm, MatMul; int8 activations,
//   per-channel or per-tensor int8 weights, int32 bias) built through the
//   public API and prepared once with Executor::Prepare, so a row measures
//   whatever kernels the library has.
// - Row counters: GOPS (2 x MACs / s) and the fraction of the measured peak,
//   and a reporter that prints, after Google Benchmark's own table, one
//   summary line per shape with every implementation's median GOPS and
//   qforge's ratios to the peers.
//
// Row names are "<family>/<shape>/<implementation>"; implementations whose
// name starts with "qforge" are ours.
#ifndef QFORGE_BENCH_COMMON_H_
#define QFORGE_BENCH_COMMON_H_

#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "qforge/core/status.h"
#include "qforge/core/tensor.h"
#include "qforge/ir/graph.h"
#include "qforge/registry.h"
#include "qforge/runtime/executor.h"

namespace qforge::bench {

// --- Machine limits ---------------------------------------------------------

struct CpuFeatures {
  bool avx2 = false;
  bool avx512vnni = false;  // 512-bit vpdpbusd (needs AVX-512 BW/VL too).
  bool avxvnni = false;     // VEX-encoded 256-bit vpdpbusd.
};
CpuFeatures DetectCpu();

// Sustained int8 MACs per CPU second of one core, measured for about
// `seconds` of thread CPU time (best of three). 0 when the CPU lacks the
// instructions.
double MeasureAvx2Int8MacsPerSecond(double seconds = 0.2);
double MeasureVnniMacsPerSecond(double seconds = 0.2);  // The best VNNI form.

// Read bandwidth (bytes/s) of repeatedly streaming a `bytes` buffer.
double MeasureReadBandwidth(int64_t bytes, double seconds = 0.2);

// The peak every row's fraction refers to: the VNNI peak when present, else
// the AVX2 one. Measured once (first call), printed with what it is.
double PeakGops();
const std::string& PeakName();

// Registers the peak rows ("peak/<isa>/int8_mac") and, for each size in
// `bandwidth_bytes`, a "memory/<bytes>/read" row. Call before the kernel
// rows so they run first.
void RegisterMachineRows(const std::vector<int64_t>& bandwidth_bytes);

// --- Rows -----------------------------------------------------------------

// Sets the GOPS and peak_frac counters of a row that did `macs` MACs per
// iteration.
void SetOpsCounters(benchmark::State& state, double macs);

// Common registration settings (ms unit; rates per CPU second).
benchmark::internal::Benchmark* Configure(benchmark::internal::Benchmark* b);

// --- qforge one-node graphs -------------------------------------------------

// A prepared one-node quantized graph and its int8 input.
struct QforgeCase {
  std::unique_ptr<Registry> registry;
  std::unique_ptr<Graph> graph;
  std::unique_ptr<Executor> executor;
  TensorMap inputs;
};

// Gemm (transB=1, weights [N, K]) or MatMul (weights [K, N]) on an [M, K]
// int8 input; per-channel weight scales unless `per_tensor`.
enum class LinearOp { kGemm, kMatMul };
absl::StatusOr<QforgeCase> MakeQforgeLinear(LinearOp op, int64_t m, int64_t k,
                                            int64_t n, bool per_tensor,
                                            uint64_t seed = 1);

// Conv on an NCHW [1, C, H, W] int8 input with OIHW weights; `group` = C
// and O = C gives the depthwise kernel.
struct ConvShape {
  int64_t h, w, c, o, kh, kw, stride, pad, group;
  int64_t out_h() const { return (h + 2 * pad - kh) / stride + 1; }
  int64_t out_w() const { return (w + 2 * pad - kw) / stride + 1; }
  double macs() const {
    return static_cast<double>(out_h() * out_w() * o) * (c / group) * kh * kw;
  }
};
absl::StatusOr<QforgeCase> MakeQforgeConv(const ConvShape& s,
                                          uint64_t seed = 1);

// Runs a case once; aborts the benchmark with the error on failure.
void RunQforge(benchmark::State& state, const QforgeCase& c);

// Seeded random bytes / floats.
std::vector<int8_t> RandomInt8(int64_t n, uint64_t seed, int lo = -127,
                               int hi = 127);
std::vector<float> RandomFloat(int64_t n, uint64_t seed, float lo = -1.0f,
                               float hi = 1.0f);

// Per-channel weight scales (spread over a decade) and a fixed activation
// quantization used by every implementation.
std::vector<float> ChannelScales(int64_t n, uint64_t seed);
constexpr float kInputScale = 0.02f;
constexpr int kInputZeroPoint = 3;
constexpr float kOutputScale = 0.5f;
constexpr int kOutputZeroPoint = -5;

// --- main
// ---------------------------------------------------------------------

// Initializes Google Benchmark, pins the peers to one thread, measures the
// peak, runs the rows with the summary reporter. Returns the exit code.
int Main(int argc, char** argv);

}  // namespace qforge::bench

#endif  // QFORGE_BENCH_COMMON_H_
