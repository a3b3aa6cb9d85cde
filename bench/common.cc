#include "common.h"

#include <dlfcn.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "qforge/core/quant_params.h"
#include "qforge/ir/verifier.h"

namespace qforge::bench {
namespace {

// CPU seconds of the calling thread: the machine may be shared, and a
// single-threaded kernel's rate per CPU second is what it achieves when it
// runs (Google Benchmark's rows use CPU time likewise).
double ThreadSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

// 12 independent vpmaddubsw -> vpmaddwd -> vpaddd chains per iteration, each
// 32 u8 x s8 MACs: 384 MACs per iteration.
constexpr double kAvx2MacsPerIteration = 12 * 32;
void Avx2Int8Loop(int64_t iterations) {
  asm volatile(
      "1:\n"
      "vpmaddubsw %%ymm1, %%ymm0, %%ymm8\n"
      "vpmaddubsw %%ymm1, %%ymm0, %%ymm9\n"
      "vpmaddubsw %%ymm1, %%ymm0, %%ymm10\n"
      "vpmaddubsw %%ymm1, %%ymm0, %%ymm11\n"
      "vpmaddubsw %%ymm1, %%ymm0, %%ymm12\n"
      "vpmaddubsw %%ymm1, %%ymm0, %%ymm13\n"
      "vpmaddwd %%ymm2, %%ymm8, %%ymm8\n"
      "vpmaddwd %%ymm2, %%ymm9, %%ymm9\n"
      "vpmaddwd %%ymm2, %%ymm10, %%ymm10\n"
      "vpmaddwd %%ymm2, %%ymm11, %%ymm11\n"
      "vpmaddwd %%ymm2, %%ymm12, %%ymm12\n"
      "vpmaddwd %%ymm2, %%ymm13, %%ymm13\n"
      "vpaddd %%ymm8, %%ymm3, %%ymm3\n"
      "vpaddd %%ymm9, %%ymm4, %%ymm4\n"
      "vpaddd %%ymm10, %%ymm5, %%ymm5\n"
      "vpaddd %%ymm11, %%ymm6, %%ymm6\n"
      "vpaddd %%ymm12, %%ymm7, %%ymm7\n"
      "vpaddd %%ymm13, %%ymm14, %%ymm14\n"
      "vpmaddubsw %%ymm1, %%ymm0, %%ymm8\n"
      "vpmaddubsw %%ymm1, %%ymm0, %%ymm9\n"
      "vpmaddubsw %%ymm1, %%ymm0, %%ymm10\n"
      "vpmaddubsw %%ymm1, %%ymm0, %%ymm11\n"
      "vpmaddubsw %%ymm1, %%ymm0, %%ymm12\n"
      "vpmaddubsw %%ymm1, %%ymm0, %%ymm13\n"
      "vpmaddwd %%ymm2, %%ymm8, %%ymm8\n"
      "vpmaddwd %%ymm2, %%ymm9, %%ymm9\n"
      "vpmaddwd %%ymm2, %%ymm10, %%ymm10\n"
      "vpmaddwd %%ymm2, %%ymm11, %%ymm11\n"
      "vpmaddwd %%ymm2, %%ymm12, %%ymm12\n"
      "vpmaddwd %%ymm2, %%ymm13, %%ymm13\n"
      "vpaddd %%ymm8, %%ymm3, %%ymm3\n"
      "vpaddd %%ymm9, %%ymm4, %%ymm4\n"
      "vpaddd %%ymm10, %%ymm5, %%ymm5\n"
      "vpaddd %%ymm11, %%ymm6, %%ymm6\n"
      "vpaddd %%ymm12, %%ymm7, %%ymm7\n"
      "vpaddd %%ymm13, %%ymm14, %%ymm14\n"
      "dec %0\n"
      "jnz 1b\n"
      "vzeroupper\n"
      : "+r"(iterations)
      :
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "cc");
}

// The exact AVX2 form (no int16 saturation): int8 values sign-extended to
// int16, 12 independent vpmaddwd -> vpaddd chains, 16 MACs each: 192 MACs
// per iteration. Not the reference peak; it bounds kernels that must match
// the scalar reference bit for bit without restricting the weights.
constexpr double kAvx2Int16MacsPerIteration = 12 * 16;
void Avx2Int16Loop(int64_t iterations) {
  asm volatile(
      "1:\n"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm8\n"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm9\n"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm10\n"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm11\n"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm12\n"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm13\n"
      "vpaddd %%ymm8, %%ymm2, %%ymm2\n"
      "vpaddd %%ymm9, %%ymm3, %%ymm3\n"
      "vpaddd %%ymm10, %%ymm4, %%ymm4\n"
      "vpaddd %%ymm11, %%ymm5, %%ymm5\n"
      "vpaddd %%ymm12, %%ymm6, %%ymm6\n"
      "vpaddd %%ymm13, %%ymm7, %%ymm7\n"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm8\n"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm9\n"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm10\n"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm11\n"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm12\n"
      "vpmaddwd %%ymm1, %%ymm0, %%ymm13\n"
      "vpaddd %%ymm8, %%ymm2, %%ymm2\n"
      "vpaddd %%ymm9, %%ymm3, %%ymm3\n"
      "vpaddd %%ymm10, %%ymm4, %%ymm4\n"
      "vpaddd %%ymm11, %%ymm5, %%ymm5\n"
      "vpaddd %%ymm12, %%ymm6, %%ymm6\n"
      "vpaddd %%ymm13, %%ymm7, %%ymm7\n"
      "dec %0\n"
      "jnz 1b\n"
      "vzeroupper\n"
      : "+r"(iterations)
      :
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "cc");
}

// 12 independent 512-bit vpdpbusd accumulators (64 MACs each).
constexpr double kAvx512VnniMacsPerIteration = 12 * 64;
void Avx512VnniLoop(int64_t iterations) {
  asm volatile(
      "1:\n"
      "vpdpbusd %%zmm1, %%zmm0, %%zmm2\n"
      "vpdpbusd %%zmm1, %%zmm0, %%zmm3\n"
      "vpdpbusd %%zmm1, %%zmm0, %%zmm4\n"
      "vpdpbusd %%zmm1, %%zmm0, %%zmm5\n"
      "vpdpbusd %%zmm1, %%zmm0, %%zmm6\n"
      "vpdpbusd %%zmm1, %%zmm0, %%zmm7\n"
      "vpdpbusd %%zmm1, %%zmm0, %%zmm8\n"
      "vpdpbusd %%zmm1, %%zmm0, %%zmm9\n"
      "vpdpbusd %%zmm1, %%zmm0, %%zmm10\n"
      "vpdpbusd %%zmm1, %%zmm0, %%zmm11\n"
      "vpdpbusd %%zmm1, %%zmm0, %%zmm12\n"
      "vpdpbusd %%zmm1, %%zmm0, %%zmm13\n"
      "dec %0\n"
      "jnz 1b\n"
      "vzeroupper\n"
      : "+r"(iterations)
      :
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "cc");
}

// The same with the VEX-encoded 256-bit AVX-VNNI form (32 MACs each).
constexpr double kAvxVnniMacsPerIteration = 12 * 32;
void AvxVnniLoop(int64_t iterations) {
  asm volatile(
      "1:\n"
      "%{vex%} vpdpbusd %%ymm1, %%ymm0, %%ymm2\n"
      "%{vex%} vpdpbusd %%ymm1, %%ymm0, %%ymm3\n"
      "%{vex%} vpdpbusd %%ymm1, %%ymm0, %%ymm4\n"
      "%{vex%} vpdpbusd %%ymm1, %%ymm0, %%ymm5\n"
      "%{vex%} vpdpbusd %%ymm1, %%ymm0, %%ymm6\n"
      "%{vex%} vpdpbusd %%ymm1, %%ymm0, %%ymm7\n"
      "%{vex%} vpdpbusd %%ymm1, %%ymm0, %%ymm8\n"
      "%{vex%} vpdpbusd %%ymm1, %%ymm0, %%ymm9\n"
      "%{vex%} vpdpbusd %%ymm1, %%ymm0, %%ymm10\n"
      "%{vex%} vpdpbusd %%ymm1, %%ymm0, %%ymm11\n"
      "%{vex%} vpdpbusd %%ymm1, %%ymm0, %%ymm12\n"
      "%{vex%} vpdpbusd %%ymm1, %%ymm0, %%ymm13\n"
      "dec %0\n"
      "jnz 1b\n"
      "vzeroupper\n"
      : "+r"(iterations)
      :
      : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "cc");
}

// Best-of-three MACs/s of `loop` run for about `seconds` each time.
double TimeLoop(void (*loop)(int64_t), double macs_per_iteration,
                double seconds) {
  constexpr int64_t kChunk = 1 << 16;
  double best = 0.0;
  for (int trial = 0; trial < 3; ++trial) {
    int64_t done = 0;
    const double start = ThreadSeconds();
    double elapsed = 0.0;
    do {
      loop(kChunk);
      done += kChunk;
      elapsed = ThreadSeconds() - start;
    } while (elapsed < seconds / 3);
    best = std::max(best, done * macs_per_iteration / elapsed);
  }
  return best;
}

__attribute__((target("avx2"))) int64_t ReadBuffer(const int8_t* data,
                                                   int64_t bytes) {
  // Four independent accumulators of 32-byte loads; the sum is returned so
  // that the loads cannot be dropped.
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i + 128 <= bytes; i += 128) {
    a0 = _mm256_add_epi32(
        a0, _mm256_load_si256(reinterpret_cast<const __m256i*>(data + i)));
    a1 = _mm256_add_epi32(
        a1, _mm256_load_si256(reinterpret_cast<const __m256i*>(data + i + 32)));
    a2 = _mm256_add_epi32(
        a2, _mm256_load_si256(reinterpret_cast<const __m256i*>(data + i + 64)));
    a3 = _mm256_add_epi32(
        a3, _mm256_load_si256(reinterpret_cast<const __m256i*>(data + i + 96)));
  }
  a0 = _mm256_add_epi32(_mm256_add_epi32(a0, a1), _mm256_add_epi32(a2, a3));
  alignas(32) int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), a0);
  int64_t sum = 0;
  for (int32_t v : lanes) sum += v;
  return sum;
}

struct AlignedBuffer {
  explicit AlignedBuffer(int64_t bytes)
      : size(bytes),
        data(static_cast<int8_t*>(
            std::aligned_alloc(64, (bytes + 63) / 64 * 64))) {
    std::memset(data, 1, size);
  }
  ~AlignedBuffer() { std::free(data); }
  int64_t size;
  int8_t* data;
};

struct Peak {
  double gops = 0.0;
  std::string name;
};

const Peak& ThePeak() {
  static const Peak* peak = [] {
    auto* p = new Peak;
    const CpuFeatures cpu = DetectCpu();
    const double avx2 = MeasureAvx2Int8MacsPerSecond();
    const double vnni = MeasureVnniMacsPerSecond();
    std::printf("CPU: avx2=%d avx512vnni=%d avxvnni=%d\n", cpu.avx2,
                cpu.avx512vnni, cpu.avxvnni);
    std::printf(
        "int8 peak, AVX2 vpmaddubsw+vpmaddwd+vpaddd: %.1f GOPS (%.1f G "
        "MAC/s)\n",
        2e-9 * avx2, 1e-9 * avx2);
    if (vnni > 0) {
      std::printf("int8 peak, vpdpbusd (%s): %.1f GOPS (%.1f G MAC/s)\n",
                  cpu.avx512vnni ? "AVX-512 VNNI" : "AVX-VNNI", 2e-9 * vnni,
                  1e-9 * vnni);
      p->gops = 2e-9 * vnni;
      p->name = cpu.avx512vnni ? "avx512vnni" : "avxvnni";
    } else {
      std::printf(
          "int8 peak, vpdpbusd: NOT MEASURED - this CPU has neither AVX-512 "
          "VNNI nor AVX-VNNI; peak_frac refers to the AVX2 peak\n");
      p->gops = 2e-9 * avx2;
      p->name = "avx2";
    }
    std::fflush(stdout);
    return p;
  }();
  return *peak;
}

// Google Benchmark's console table plus one summary line per shape.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    // Iteration runs (absent under --benchmark_report_aggregates_only) and
    // the median / cv aggregates of --benchmark_repetitions.
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const std::string& name = run.run_name.function_name;
      for (const char* counter : {"GOPS", "GB/s"}) {
        auto it = run.counters.find(counter);
        if (it == run.counters.end()) continue;
        if (run.run_type == Run::RT_Iteration) {
          samples_[name].push_back(it->second.value);
        } else if (run.aggregate_name == "median") {
          medians_[name] = it->second.value;
        } else if (run.aggregate_name == "cv") {
          cvs_[name] = it->second.value;
        }
      }
      if (std::find(order_.begin(), order_.end(), name) == order_.end())
        order_.push_back(name);
    }
  }

  double MedianOf(const std::string& name) const {
    if (auto it = medians_.find(name); it != medians_.end()) return it->second;
    if (auto it = samples_.find(name); it != samples_.end())
      return Median(it->second);
    return 0.0;
  }

  void PrintSummary() const {
    // family/shape -> implementation -> median.
    std::map<std::string, std::map<std::string, double>> rows;
    std::vector<std::string> shapes;
    for (const std::string& name : order_) {
      const size_t slash = name.rfind('/');
      if (slash == std::string::npos) continue;
      const std::string shape = name.substr(0, slash);
      if (!rows.count(shape)) shapes.push_back(shape);
      rows[shape][name.substr(slash + 1)] = MedianOf(name);
    }
    const double peak = ThePeak().gops;
    std::printf(
        "\nSummary (median over repetitions; GOPS = 2 x MACs / s; peak = %s "
        "%.1f GOPS; single thread)\n",
        ThePeak().name.c_str(), peak);
    for (const std::string& shape : shapes) {
      const auto& impls = rows.at(shape);
      std::string line = absl::StrFormat("%-32s", shape);
      for (const auto& [impl, v] : impls) {
        absl::StrAppend(&line, absl::StrFormat("  %s=%.2f", impl, v));
        auto cv = cvs_.find(absl::StrCat(shape, "/", impl));
        if (cv != cvs_.end())
          absl::StrAppend(&line,
                          absl::StrFormat("(cv %.1f%%)", 100 * cv->second));
      }
      std::printf("%s\n", line.c_str());
      for (const auto& [impl, ours] : impls) {
        if (impl.rfind("qforge", 0) != 0) continue;
        std::string ratios =
            absl::StrFormat("    %-16s %.4f of peak", impl, ours / peak);
        for (const auto& [peer, theirs] : impls) {
          if (peer.rfind("qforge", 0) == 0 || theirs <= 0) continue;
          // The per-tensor row is the one comparable with XNNPACK's QS8 FC.
          const bool per_tensor = impl.find("_pt") != std::string::npos;
          const bool peer_per_tensor = peer.find("qs8") != std::string::npos;
          if (per_tensor != peer_per_tensor && peer.rfind("xnnpack", 0) == 0)
            continue;
          absl::StrAppend(
              &ratios, absl::StrFormat("  x%.3f vs %s", ours / theirs, peer));
        }
        // Batch-1 fully connected: the weights' read bandwidth is the limit.
        std::vector<std::string> dims = absl::StrSplit(shape, 'x');
        if (shape.rfind("gemm/1x", 0) == 0 && dims.size() == 3) {
          const std::string k = dims[1], n = dims[2];
          const int64_t bytes = std::stoll(k) * std::stoll(n);
          const double gbs = MedianOf(absl::StrCat("memory/", bytes, "B/read"));
          if (gbs > 0) {
            const double limit = 2.0 * gbs;  // 2 ops per weight byte.
            absl::StrAppend(&ratios,
                            absl::StrFormat("  %.4f of memory limit %.1f GOPS",
                                            ours / limit, limit));
          }
        }
        std::printf("%s\n", ratios.c_str());
      }
    }
    std::fflush(stdout);
  }

 private:
  static double Median(std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  }

  std::map<std::string, std::vector<double>> samples_;
  std::map<std::string, double> medians_, cvs_;
  std::vector<std::string> order_;
};

// oneDNN (Debian: the OpenMP runtime) and Eigen must run on one thread.
void PinPeersToOneThread() {
  setenv("OMP_NUM_THREADS", "1", /*overwrite=*/0);
  using SetThreads = void (*)(int);
  if (auto fn = reinterpret_cast<SetThreads>(
          dlsym(RTLD_DEFAULT, "omp_set_num_threads"))) {
    fn(1);
  }
}

}  // namespace

CpuFeatures DetectCpu() {
  __builtin_cpu_init();
  CpuFeatures f;
  f.avx2 = __builtin_cpu_supports("avx2");
  f.avx512vnni = __builtin_cpu_supports("avx512vnni") &&
                 __builtin_cpu_supports("avx512bw");
  f.avxvnni = __builtin_cpu_supports("avxvnni");
  return f;
}

double MeasureAvx2Int8MacsPerSecond(double seconds) {
  if (!DetectCpu().avx2) return 0.0;
  return TimeLoop(Avx2Int8Loop, kAvx2MacsPerIteration, seconds);
}

double MeasureVnniMacsPerSecond(double seconds) {
  const CpuFeatures cpu = DetectCpu();
  if (cpu.avx512vnni)
    return TimeLoop(Avx512VnniLoop, kAvx512VnniMacsPerIteration, seconds);
  if (cpu.avxvnni)
    return TimeLoop(AvxVnniLoop, kAvxVnniMacsPerIteration, seconds);
  return 0.0;
}

double MeasureReadBandwidth(int64_t bytes, double seconds) {
  if (!DetectCpu().avx2) return 0.0;
  AlignedBuffer buffer(bytes);
  double best = 0.0;
  for (int trial = 0; trial < 3; ++trial) {
    int64_t passes = 0;
    const double start = ThreadSeconds();
    double elapsed = 0.0;
    do {
      benchmark::DoNotOptimize(ReadBuffer(buffer.data, bytes));
      ++passes;
      elapsed = ThreadSeconds() - start;
    } while (elapsed < seconds / 3);
    best = std::max(best, passes * static_cast<double>(bytes) / elapsed);
  }
  return best;
}

double PeakGops() { return ThePeak().gops; }
const std::string& PeakName() { return ThePeak().name; }

void RegisterMachineRows(const std::vector<int64_t>& bandwidth_bytes) {
  const CpuFeatures cpu = DetectCpu();
  auto peak_row = [](void (*loop)(int64_t), double macs_per_iteration) {
    return [=](benchmark::State& state) {
      constexpr int64_t kIterations = 1 << 16;
      for (auto _ : state) loop(kIterations);
      SetOpsCounters(state, macs_per_iteration * kIterations);
    };
  };
  if (cpu.avx2) {
    Configure(benchmark::RegisterBenchmark(
        "peak/avx2/int8_mac", peak_row(Avx2Int8Loop, kAvx2MacsPerIteration)));
    // The exact (non-saturating) int16 form, for reference.
    Configure(benchmark::RegisterBenchmark(
        "peak/avx2_int16_exact/int8_mac",
        peak_row(Avx2Int16Loop, kAvx2Int16MacsPerIteration)));
  }
  if (cpu.avx512vnni) {
    Configure(benchmark::RegisterBenchmark(
        "peak/avx512vnni/int8_mac",
        peak_row(Avx512VnniLoop, kAvx512VnniMacsPerIteration)));
  }
  if (cpu.avxvnni) {
    Configure(benchmark::RegisterBenchmark(
        "peak/avxvnni/int8_mac",
        peak_row(AvxVnniLoop, kAvxVnniMacsPerIteration)));
  }
  if (!cpu.avx2) return;
  for (int64_t bytes : bandwidth_bytes) {
    Configure(benchmark::RegisterBenchmark(
        absl::StrCat("memory/", bytes, "B/read").c_str(),
        [bytes](benchmark::State& state) {
          AlignedBuffer buffer(bytes);
          for (auto _ : state)
            benchmark::DoNotOptimize(ReadBuffer(buffer.data, bytes));
          state.counters["GB/s"] = benchmark::Counter(
              1e-9 * bytes, benchmark::Counter::kIsIterationInvariantRate);
          // A kernel that reads each weight byte once does 2 ops per byte.
          state.counters["limit_GOPS"] = benchmark::Counter(
              2e-9 * bytes, benchmark::Counter::kIsIterationInvariantRate);
        }));
  }
}

void SetOpsCounters(benchmark::State& state, double macs) {
  state.counters["GOPS"] = benchmark::Counter(
      2e-9 * macs, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_frac"] = benchmark::Counter(
      2e-9 * macs / PeakGops(), benchmark::Counter::kIsIterationInvariantRate);
}

benchmark::internal::Benchmark* Configure(benchmark::internal::Benchmark* b) {
  // CPU time (the default): rates are per CPU second of the benchmark
  // thread, which a shared machine disturbs least.
  return b->Unit(benchmark::kMillisecond);
}

std::vector<int8_t> RandomInt8(int64_t n, uint64_t seed, int lo, int hi) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> dist(lo, hi);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(dist(rng));
  return v;
}

std::vector<float> RandomFloat(int64_t n, uint64_t seed, float lo, float hi) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

std::vector<float> ChannelScales(int64_t n, uint64_t seed) {
  std::vector<float> s = RandomFloat(n, seed, 0.0f, 1.0f);
  for (auto& x : s) x = 1e-3f * std::pow(10.0f, x);  // 1e-3 .. 1e-2
  return s;
}

namespace {

std::vector<int64_t> Zeros(int64_t n) { return std::vector<int64_t>(n, 0); }

// int32 bias at input scale x weight scale, zero point 0.
Value* AddBias(Graph& g, int64_t n, const std::vector<float>& w_scales,
               uint64_t seed) {
  std::vector<int8_t> raw = RandomInt8(n, seed);
  std::vector<int32_t> b(raw.begin(), raw.end());
  for (auto& x : b) x *= 37;
  Value* bias = g.AddConstant("bias", Tensor::FromVector<int32_t>({n}, b));
  std::vector<float> scales(n);
  for (int64_t i = 0; i < n; ++i)
    scales[i] = kInputScale * w_scales[w_scales.size() == 1 ? 0 : i];
  bias->set_quant(
      scales.size() == 1
          ? QuantParams::PerTensor(scales[0], 0, DataType::kInt32)
          : QuantParams::PerAxis(scales, Zeros(n), 0, DataType::kInt32));
  return bias;
}

absl::StatusOr<QforgeCase> Finish(std::unique_ptr<Registry> registry,
                                  std::unique_ptr<Graph> graph,
                                  std::vector<int64_t> input_dims,
                                  uint64_t seed) {
  QFORGE_RETURN_IF_ERROR(VerifyGraph(*graph, registry->schemas()));
  QforgeCase c;
  QFORGE_ASSIGN_OR_RETURN(c.executor, Executor::Prepare(*graph, *registry));
  int64_t n = 1;
  for (int64_t d : input_dims) n *= d;
  Tensor x = Tensor::FromVector<int8_t>(input_dims, RandomInt8(n, seed + 17));
  x.set_quant(QuantParams::PerTensor(kInputScale, kInputZeroPoint));
  c.inputs["x"] = std::move(x);
  c.registry = std::move(registry);
  c.graph = std::move(graph);
  return c;
}

absl::StatusOr<std::pair<std::unique_ptr<Registry>, std::unique_ptr<Graph>>>
NewGraph() {
  auto registry = std::make_unique<Registry>();
  QFORGE_RETURN_IF_ERROR(RegisterBuiltins(*registry));
  auto g = std::make_unique<Graph>();
  g->set_name("bench");
  g->set_opset("", 17);
  return std::make_pair(std::move(registry), std::move(g));
}

Value* AddActivation(Graph& g, const std::string& name,
                     std::vector<int64_t> dims, float scale, int zero_point) {
  Value* v = g.AddValue(name, DataType::kInt8, Shape(std::move(dims)));
  v->set_quant(QuantParams::PerTensor(scale, zero_point));
  return v;
}

}  // namespace

absl::StatusOr<QforgeCase> MakeQforgeLinear(LinearOp op, int64_t m, int64_t k,
                                            int64_t n, bool per_tensor,
                                            uint64_t seed) {
  QFORGE_ASSIGN_OR_RETURN(auto rg, NewGraph());
  Graph& g = *rg.second;
  Value* x = AddActivation(g, "x", {m, k}, kInputScale, kInputZeroPoint);
  g.AddInput(x);
  const bool gemm = op == LinearOp::kGemm;
  std::vector<int64_t> wdims =
      gemm ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n};
  Value* w = g.AddConstant(
      "w", Tensor::FromVector<int8_t>(wdims, RandomInt8(n * k, seed)));
  std::vector<float> scales =
      per_tensor ? std::vector<float>{0.004f} : ChannelScales(n, seed + 1);
  w->set_quant(per_tensor
                   ? QuantParams::PerTensor(scales[0], 0)
                   : QuantParams::PerAxis(scales, Zeros(n), gemm ? 0 : 1));
  Value* y = AddActivation(g, "y", {m, n}, kOutputScale, kOutputZeroPoint);
  NodeSpec spec{.name = "op",
                .op_type = gemm ? "Gemm" : "MatMul",
                .inputs = {x, w},
                .outputs = {y}};
  if (gemm) {
    spec.inputs.push_back(AddBias(g, n, scales, seed + 2));
    spec.attributes["transB"] = int64_t{1};
  }
  QFORGE_RETURN_IF_ERROR(g.AddNode(std::move(spec)).status());
  g.AddOutput(y);
  return Finish(std::move(rg.first), std::move(rg.second), {m, k}, seed);
}

absl::StatusOr<QforgeCase> MakeQforgeConv(const ConvShape& s, uint64_t seed) {
  QFORGE_ASSIGN_OR_RETURN(auto rg, NewGraph());
  Graph& g = *rg.second;
  // NHWC activations, as the int8 kernels run them (a Conv node of layout
  // kNHWC; its weights stay OIHW): no layout conversion in the timed run.
  Value* x =
      AddActivation(g, "x", {1, s.h, s.w, s.c}, kInputScale, kInputZeroPoint);
  g.AddInput(x);
  const int64_t cg = s.c / s.group;
  Value* w = g.AddConstant("w", Tensor::FromVector<int8_t>(
                                    {s.o, cg, s.kh, s.kw},
                                    RandomInt8(s.o * cg * s.kh * s.kw, seed)));
  std::vector<float> scales = ChannelScales(s.o, seed + 1);
  w->set_quant(QuantParams::PerAxis(scales, Zeros(s.o), 0));
  Value* y = AddActivation(g, "y", {1, s.out_h(), s.out_w(), s.o}, kOutputScale,
                           kOutputZeroPoint);
  NodeSpec spec{.name = "op",
                .op_type = "Conv",
                .inputs = {x, w, AddBias(g, s.o, scales, seed + 2)},
                .outputs = {y}};
  spec.attributes["kernel_shape"] = std::vector<int64_t>{s.kh, s.kw};
  spec.attributes["strides"] = std::vector<int64_t>{s.stride, s.stride};
  spec.attributes["pads"] = std::vector<int64_t>{s.pad, s.pad, s.pad, s.pad};
  spec.attributes["group"] = s.group;
  QFORGE_ASSIGN_OR_RETURN(Node * node, g.AddNode(std::move(spec)));
  node->set_layout(Layout::kNHWC);
  g.AddOutput(y);
  return Finish(std::move(rg.first), std::move(rg.second), {1, s.h, s.w, s.c},
                seed);
}

void RunQforge(benchmark::State& state, const QforgeCase& c) {
  for (auto _ : state) {
    absl::StatusOr<TensorMap> out = c.executor->Run(c.inputs);
    if (!out.ok()) {
      state.SkipWithError(std::string(out.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(out->begin()->second.data<int8_t>());
  }
}

int Main(int argc, char** argv) {
  PinPeersToOneThread();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  PeakGops();  // Measured (and printed) before any row.
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintSummary();
  benchmark::Shutdown();
  return 0;
}

}  // namespace qforge::bench
