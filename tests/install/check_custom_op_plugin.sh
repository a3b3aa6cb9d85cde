#!/usr/bin/env bash
# Installs the qforge build in BUILD_DIR into a scratch prefix, then builds
# examples/custom_op_plugin against it with find_package(qforge) and runs its
# tests (ctest). Usage: check_custom_op_plugin.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src="$1"
build="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$src/examples/custom_op_plugin" -B "$work/example" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/example" >/dev/null
LD_LIBRARY_PATH="$work/prefix/lib:${LD_LIBRARY_PATH:-}" \
  ctest --test-dir "$work/example" --output-on-failure
