#!/bin/bash
# onnxruntime contrib operators (com.microsoft) against onnxruntime's own
# outputs (tests/onnx/contrib, made by gen_contrib_cases.py).
set -euo pipefail
runfiles="${TEST_SRCDIR:-$0.runfiles}/${TEST_WORKSPACE:-__main__}"
exec "$runfiles/tests/onnx/conformance" "$runfiles/tests/onnx/contrib"
