#!/usr/bin/env bash
# Builds and runs the benchmark suite (docs/benchmarks.md):
#  1. the kernel benchmarks bench/qforge_bench_{gemm,conv,depthwise}: the
#     int8 peak and memory-bandwidth rows, then qforge's one-node int8
#     graphs and the peers (oneDNN, XNNPACK, float Eigen) on the same
#     shapes, single-threaded, with a summary of GOPS, ratios and fraction
#     of peak per shape; then bench/qforge_bench_elementwise: the
#     element-wise kernels' scalar and AVX2 paths (elements/s, no peers);
#  2. `qforge bench` on a MobileNetV2 224x224 with seeded random weights,
#     generated into the build tree (bench/gen_mobilenetv2.py, needs Debian
#     python3-torch): float vs int8 median latency, and ONNX Runtime's float
#     latency when the interop venv (scripts/interop-venv.sh) exists.
# Output is also written to BUILD/bench-results/.
#
#   scripts/bench.sh [GOOGLE_BENCHMARK_FLAGS...]   e.g. --benchmark_filter=gemm/64x
# Environment: QFORGE_BENCH_BUILD_DIR (default build-bench),
#   QFORGE_BENCH_MIN_TIME (seconds per repetition, default 0.1),
#   QFORGE_BENCH_REPETITIONS (default 5), QFORGE_BENCH_RUNS (qforge bench
#   runs, default 10), QFORGE_BENCH_JOBS (build jobs, default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${QFORGE_BENCH_BUILD_DIR:-build-bench}
min_time=${QFORGE_BENCH_MIN_TIME:-0.1}
reps=${QFORGE_BENCH_REPETITIONS:-5}
runs=${QFORGE_BENCH_RUNS:-10}
jobs=${QFORGE_BENCH_JOBS:-$(nproc)}

sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
"${sudo_cmd[@]}" scripts/install-deps.sh --bench >/dev/null
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DQFORGE_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j "$jobs" --target qforge_bench qforge_cli >/dev/null

out=$build/bench-results
mkdir -p "$out"
export OMP_NUM_THREADS=1  # oneDNN's OpenMP runtime: one thread, as the others.
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')  commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)  cores: $(getconf _NPROCESSORS_ONLN)"
} | tee "$out/machine.txt"
for family in gemm conv depthwise elementwise; do
  "$build/bench/qforge_bench_$family" --benchmark_repetitions="$reps" \
    --benchmark_display_aggregates_only=true \
    --benchmark_min_time="$min_time" "$@" | tee "$out/$family.txt"
done

model=$build/bench-models/mobilenetv2.onnx
if [[ ! -f $model ]]; then
  mkdir -p "$(dirname "$model")"
  /usr/bin/python3 bench/gen_mobilenetv2.py "$model"
fi
"$build/tools/qforge/qforge" bench "$model" --runs "$runs" | tee "$out/mobilenetv2.txt"

# ONNX Runtime's float latency on the same model, the reference for
# qforge's float path (needs the venv of scripts/interop-venv.sh).
venv=${QFORGE_VENV:-build/venv-interop}
if [[ -x $venv/bin/python ]]; then
  "$venv/bin/python" bench/ort_latency.py "$model" --runs "$runs" | tee -a "$out/mobilenetv2.txt"
else
  echo "onnxruntime: no venv at $venv (scripts/interop-venv.sh makes it); ONNX Runtime's latency not measured" | tee -a "$out/mobilenetv2.txt"
fi
