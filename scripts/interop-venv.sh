#!/usr/bin/env bash
# Creates (idempotently) the Python virtual environment used by the ONNX
# Runtime interop tests (tests/interop/) and prints its wall time.
#   QFORGE_VENV=DIR   where the venv lives (default: <repo>/build/venv-interop)
#   QFORGE_PYTHON=PY  interpreter that creates it (default: python3)
# Needs python3-venv (scripts/install-deps.sh) and access to PyPI. Versions are
# pinned; a venv whose pins already match is left alone. Exits non-zero (and
# says why) when the venv cannot be created, e.g. without network access.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${QFORGE_VENV:-$repo/build/venv-interop}"
start=$SECONDS

pins=(onnxruntime==1.31.1 numpy==2.2.6 onnx==1.17.0 ml_dtypes==0.5.1)
stamp="$venv/.qforge-pins"
want="${pins[*]}"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "interop venv: $venv up to date ($want)"
else
  echo "interop venv: creating $venv ($want)"
  "${QFORGE_PYTHON:-python3}" -m venv "$venv" || {
    echo "interop venv: python3 -m venv failed (is python3-venv installed?)" >&2
    exit 1
  }
  "$venv/bin/python" -m pip install --disable-pip-version-check -q "${pins[@]}" || {
    echo "interop venv: pip install ${pins[*]} failed (no network access to PyPI?)" >&2
    exit 1
  }
  echo "$want" > "$stamp"
fi
"$venv/bin/python" -c 'import onnxruntime, numpy, onnx, onnxruntime.quantization; print("interop venv: onnxruntime", onnxruntime.__version__, "numpy", numpy.__version__, "onnx", onnx.__version__)'
echo "interop venv: done in $((SECONDS - start)) s"
