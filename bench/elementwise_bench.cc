// Element-wise INT8 kernel rows (kernels/int8/fast/elementwise_kernels.h):
// Add / Mul (same shape, per-channel NHWC vector, scalar), table lookup,
// QuantizeLinear, DequantizeLinear and requantizing Concat, each with the
// scalar reference path and the AVX2 path, on a 112x112x32 activation
// (401408 elements), both arithmetic profiles where they differ. Rows report
// elements per second (items_per_second). The kernels are internal, so this
// binary links qforge_internal and calls them directly; the AVX2 rows are
// registered only on a CPU with AVX2 and FMA.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/int8/fast/elementwise_kernels.h"
#include "kernels/int8/fast/isa.h"
#include "kernels/int8/reference/lut.h"

namespace qforge::bench {
namespace {

namespace fast = kernels::int8::fast;
namespace ref = kernels::reference;

constexpr int64_t kH = 112, kW = 112, kC = 32;
constexpr int64_t kCount = kH * kW * kC;

std::vector<int8_t> RandomBytes(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> d(-128, 127);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

const char* ProfileTag(ArithmeticProfile p) {
  return p == ArithmeticProfile::kOnnxRuntime ? "ort" : "tflite";
}

ref::BinaryParams Params() {
  ref::BinaryParams p;
  p.input1 = {0.02f, -3};
  p.input2 = {0.05f, 7};
  p.output = {0.06f, -1};
  return p;
}

void RegisterBinary(const std::string& isa_name, fast::Isa isa,
                    ArithmeticProfile profile, bool mul,
                    const std::string& shape_name,
                    std::vector<int64_t> shape2) {
  const std::string name = std::string("elementwise/") + (mul ? "mul" : "add") +
                           "_" + shape_name + "/" + ProfileTag(profile) + "/" +
                           isa_name;
  benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
    const std::vector<int64_t> shape1 = {1, kH, kW, kC};
    int64_t n2 = 1;
    for (int64_t d : shape2) n2 *= d;
    const std::vector<int8_t> a = RandomBytes(kCount, 1);
    const std::vector<int8_t> b = RandomBytes(n2, 2);
    std::vector<int8_t> out(kCount);
    ref::BinaryParams p = Params();
    if (mul) p.output.scale = 0.3f;
    for (auto _ : state) {
      const absl::Status s = mul ? fast::Mul(isa, profile, p, shape1, a.data(),
                                             shape2, b.data(), out.data())
                                 : fast::Add(isa, profile, p, shape1, a.data(),
                                             shape2, b.data(), out.data());
      if (!s.ok()) state.SkipWithError(std::string(s.message()).c_str());
      benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations() * kCount);
  });
}

void RegisterUnary(const std::string& isa_name, fast::Isa isa) {
  const std::string suffix = "/" + isa_name;
  benchmark::RegisterBenchmark(
      ("elementwise/lut" + suffix).c_str(), [=](benchmark::State& state) {
        const std::vector<int8_t> x = RandomBytes(kCount, 3);
        std::vector<int8_t> out(kCount);
        ref::Int8Lut lut;
        for (int i = 0; i < 256; ++i) lut[i] = static_cast<int8_t>(255 - i);
        for (auto _ : state) {
          (void)fast::ApplyLut(isa, lut, x.data(), kCount, out.data());
          benchmark::DoNotOptimize(out.data());
        }
        state.SetItemsProcessed(state.iterations() * kCount);
      });
  for (ArithmeticProfile profile :
       {ArithmeticProfile::kOnnxRuntime, ArithmeticProfile::kTfliteReference}) {
    benchmark::RegisterBenchmark(
        ("elementwise/quantize/" + std::string(ProfileTag(profile)) + suffix)
            .c_str(),
        [=](benchmark::State& state) {
          std::mt19937 rng(4);
          std::uniform_real_distribution<float> d(-3.0f, 3.0f);
          std::vector<float> x(kCount);
          for (float& v : x) v = d(rng);
          std::vector<int8_t> out(kCount);
          for (auto _ : state) {
            (void)fast::QuantizeLinear(isa, profile, x.data(), kCount,
                                       {0.02f, 5}, out.data());
            benchmark::DoNotOptimize(out.data());
          }
          state.SetItemsProcessed(state.iterations() * kCount);
        });
    benchmark::RegisterBenchmark(
        ("elementwise/concat_requant/" + std::string(ProfileTag(profile)) +
         suffix)
            .c_str(),
        [=](benchmark::State& state) {
          // Two NHWC inputs of 16 channels each along C, one requantized.
          const std::vector<int8_t> a = RandomBytes(kCount / 2, 5);
          const std::vector<int8_t> b = RandomBytes(kCount / 2, 6);
          const ref::QuantParam out_q{0.05f, 0};
          const ref::ConcatInput inputs[2] = {{a.data(), 16, out_q},
                                              {b.data(), 16, {0.03f, -7}}};
          std::vector<int8_t> out(kCount);
          for (auto _ : state) {
            (void)fast::Concat(isa, profile, inputs, kH * kW, 1, out_q,
                               out.data());
            benchmark::DoNotOptimize(out.data());
          }
          state.SetItemsProcessed(state.iterations() * kCount);
        });
  }
  benchmark::RegisterBenchmark(
      ("elementwise/dequantize" + suffix).c_str(),
      [=](benchmark::State& state) {
        const std::vector<int8_t> x = RandomBytes(kCount, 7);
        std::vector<float> out(kCount);
        for (auto _ : state) {
          (void)fast::DequantizeLinear(isa, x.data(), kCount, {0.02f, 5},
                                       out.data());
          benchmark::DoNotOptimize(out.data());
        }
        state.SetItemsProcessed(state.iterations() * kCount);
      });
}

void RegisterRows() {
  std::vector<std::pair<std::string, fast::Isa>> isas = {
      {"scalar", fast::Isa::kScalar}};
  if (fast::ElementwiseIsa(fast::BestCpuIsa()) == fast::Isa::kAvx2) {
    isas.push_back({"avx2", fast::Isa::kAvx2});
  }
  for (const auto& [isa_name, isa] : isas) {
    for (ArithmeticProfile profile : {ArithmeticProfile::kOnnxRuntime,
                                      ArithmeticProfile::kTfliteReference}) {
      for (bool mul : {false, true}) {
        RegisterBinary(isa_name, isa, profile, mul, "same_shape",
                       {1, kH, kW, kC});
        RegisterBinary(isa_name, isa, profile, mul, "per_channel", {kC});
        RegisterBinary(isa_name, isa, profile, mul, "scalar", {1});
      }
    }
    RegisterUnary(isa_name, isa);
  }
}

}  // namespace
}  // namespace qforge::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  qforge::bench::RegisterRows();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
