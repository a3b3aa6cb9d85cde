#!/usr/bin/env bash
# Builds the qforge CLI and runs it on the bundled examples:
#  1. inspects examples/models/tiny_cnn.onnx and runs it on a sample input,
#     writing build/example-output/probabilities.npy;
#  2. quantizes the digits CNN (examples/digits/digits_cnn.onnx) to INT8,
#     calibrating on examples/digits/digits_calib.npz, writing
#     build/example-output/digits_cnn_int8.onnx and its JSON report;
#  3. compares the INT8 model with the float one on the test split: float vs
#     int8 top-1 accuracy, then the layer-wise error report, worst first.
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

digits=examples/digits
"$qforge" quantize "$digits/digits_cnn.onnx" -o "$out/digits_cnn_int8.onnx" \
  --calib "$digits/digits_calib.npz" --report "$out/digits_quantize_report.json"
"$qforge" compare "$digits/digits_cnn.onnx" "$out/digits_cnn_int8.onnx" \
  --data "$digits/digits_test_images.npy" --labels "$digits/digits_test_labels.npy"
