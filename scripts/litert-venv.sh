#!/usr/bin/env bash
# Creates (idempotently) the Python virtual environment used by the LiteRT
# (TFLite runtime) interop test (tests/interop/litert_interop_test.py) and
# prints its wall time.
#   QFORGE_LITERT_VENV=DIR  where the venv lives (default: <repo>/build/venv-litert)
#   QFORGE_PYTHON=PY        interpreter that creates it (default: python3)
#   --with-tensorflow       also install tensorflow-cpu and scikit-learn (its
#                           bundled digits data set): only needed to
#                           regenerate the committed fixtures
#                           (tests/interop/make_tflite_fixtures.py,
#                           tests/interop/make_keras_cnn_fixture.py), never in CI
# Needs python3-venv (scripts/install-deps.sh) and access to PyPI. Versions are
# pinned; a venv whose pins already match is left alone. Exits non-zero (and
# says why) when the venv cannot be created, e.g. without network access.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${QFORGE_LITERT_VENV:-$repo/build/venv-litert}"
start=$SECONDS

pins=(ai-edge-litert==2.3.0 numpy==2.2.6)
if [[ "${1:-}" == "--with-tensorflow" ]]; then
  pins+=(tensorflow-cpu==2.21.0 scikit-learn==1.6.1)
fi
stamp="$venv/.qforge-pins"
want="${pins[*]}"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "litert venv: $venv up to date ($want)"
else
  echo "litert venv: creating $venv ($want)"
  "${QFORGE_PYTHON:-python3}" -m venv "$venv" || {
    echo "litert venv: python3 -m venv failed (is python3-venv installed?)" >&2
    exit 1
  }
  "$venv/bin/python" -m pip install --disable-pip-version-check -q "${pins[@]}" || {
    echo "litert venv: pip install ${pins[*]} failed (no network access to PyPI?)" >&2
    exit 1
  }
  echo "$want" > "$stamp"
fi
"$venv/bin/python" -c 'import numpy; from ai_edge_litert import interpreter; print("litert venv: ai-edge-litert ok, numpy", numpy.__version__)'
echo "litert venv: done in $((SECONDS - start)) s"
