#!/usr/bin/env bash
# Builds the qforge CLI and runs it on the bundled example model:
# inspects examples/models/tiny_cnn.onnx and runs it on a sample input,
# writing build/example-output/probabilities.npy.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
"${sudo_cmd[@]}" scripts/install-deps.sh >/dev/null
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target qforge_cli >/dev/null
qforge=build/tools/qforge/qforge
model=examples/models/tiny_cnn.onnx
out=build/example-output

set -x
"$qforge" inspect "$model"
"$qforge" run "$model" --input image=examples/models/tiny_cnn_image.npy --output-dir "$out"
