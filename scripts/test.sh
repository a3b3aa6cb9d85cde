#!/usr/bin/env bash
# Builds qforge and runs its whole test suite, as CI does:
#   1. dependencies  (Debian packages, scripts/install-deps.sh)
#   2. build         (build/, RelWithDebInfo)
#   3. sanitizer     (build-asan/, AddressSanitizer + UndefinedBehaviorSanitizer)
#   4. interop venvs (scripts/interop-venv.sh: pinned onnxruntime;
#                     scripts/litert-venv.sh: pinned ai-edge-litert; both from
#                     PyPI, need network access)
#   5. tests         (ctest in both builds; includes the ONNX conformance suite,
#                     the find_package consumer project and the ONNX Runtime
#                     and LiteRT interop tests, label `interop`)
# Each stage prints its wall time. Exits non-zero on the first failure.
#   QFORGE_JOBS=N      parallel build/test jobs (default: nproc)
#   QFORGE_SKIP_ASAN=1 skip the sanitizer build (quicker local runs)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${QFORGE_JOBS:-$(nproc)}"

stage() {  # stage NAME COMMAND...
  local name="$1"
  shift
  local start=$SECONDS
  echo "=== stage: $name"
  "$@"
  echo "=== stage: $name done in $((SECONDS - start)) s"
}

venv="${QFORGE_VENV:-$PWD/build/venv-interop}"
litert_venv="${QFORGE_LITERT_VENV:-$PWD/build/venv-litert}"

configure_and_build() {  # DIR EXTRA_CMAKE_ARGS...
  local dir="$1"
  shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DQFORGE_INTEROP_VENV="$venv" -DQFORGE_LITERT_VENV="$litert_venv" "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

run_ctest() {  # DIR
  ctest --test-dir "$1" -j "$jobs" --output-on-failure --timeout 900
  # The conformance summary ("ONNX conformance: N passed, ...") for the log.
  grep -h "ONNX conformance:" "$1/Testing/Temporary/LastTest.log" | tail -n 1 || true
}

total_start=$SECONDS
sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
stage dependencies "${sudo_cmd[@]}" scripts/install-deps.sh
stage build configure_and_build build
if [[ "${QFORGE_SKIP_ASAN:-0}" != 1 ]]; then
  # -O1 -g1 compiles faster than RelWithDebInfo's -O2 -g;
  # sanitizer reports still carry file and line.
  stage sanitizer-build configure_and_build build-asan -DQFORGE_SANITIZE=ON \
    -DQFORGE_BUILD_TOOLS=ON -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"
fi
stage "interop venv" env QFORGE_VENV="$venv" scripts/interop-venv.sh
stage "litert venv" env QFORGE_LITERT_VENV="$litert_venv" scripts/litert-venv.sh
stage tests run_ctest build
if [[ "${QFORGE_SKIP_ASAN:-0}" != 1 ]]; then
  stage sanitizer-tests run_ctest build-asan
fi
echo "=== all stages passed in $((SECONDS - total_start)) s"
