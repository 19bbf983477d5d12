#!/bin/bash
# onnxruntime contrib operators and opset 18-21 operators against onnxruntime's
# outputs (tests/onnx/ort_cases, made by gen_ort_cases.py).
set -euo pipefail
runfiles="${TEST_SRCDIR:-$0.runfiles}/${TEST_WORKSPACE:-__main__}"
exec "$runfiles/tests/onnx/conformance" "$runfiles/tests/onnx/ort_cases"
