#!/usr/bin/env bash
# Installs every Debian package qforge needs to build, test and benchmark.
# Idempotent: packages already present are left alone. Run as root.
#   scripts/install-deps.sh           build + test dependencies
#   scripts/install-deps.sh --bench   also the peer libraries for bench/
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libabsl-dev libeigen3-dev
  libflatbuffers-dev flatbuffers-compiler
  libprotobuf-dev protobuf-compiler
  zlib1g-dev  # Test oracle only: an independent CRC-32 and deflate for .npz tests.
  libonnx-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # Test tooling: ONNX conformance generator and fixture scripts.
  python3 python3-numpy python3-onnx python3-venv
  # Runs the INT8 kernel tests on an emulated CPU without AVX (Nehalem).
  qemu-user
)
if [[ "${1:-}" == "--bench" ]]; then
  # libxnnpack-dev's xnnpack.h includes pthreadpool.h, which it does not pull in.
  packages+=(libdnnl-dev libxnnpack-dev libpthreadpool-dev)
  packages+=(python3-torch)  # bench/gen_mobilenetv2.py
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "dependencies: all present"
