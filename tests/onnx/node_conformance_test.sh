#!/bin/bash
# Runs ONNX's backend node tests and fails if any case in must_pass.txt fails.
#
# The cases are generated from Debian's python3-onnx (gen_node_tests.py) into
# $HOME/.cache/uop/onnx-node-tests (or $UOP_ONNX_NODE_TESTS) and reused while
# the generator's STAMP (onnx/numpy versions, script hash) is unchanged.
set -euo pipefail
runfiles="${TEST_SRCDIR:-$0.runfiles}/${TEST_WORKSPACE:-__main__}"
gen="$runfiles/tests/onnx/gen_node_tests.py"
conformance="$runfiles/tests/onnx/conformance"
must_pass="$runfiles/tests/onnx/must_pass.txt"
dir="${UOP_ONNX_NODE_TESTS:-${HOME:-/tmp}/.cache/uop/onnx-node-tests}"
py=/usr/bin/python3

want="$("$py" - "$gen" <<'PY'
import hashlib, sys
import numpy, onnx
digest = hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()[:16]
print(f"onnx {onnx.__version__} numpy {numpy.__version__} script {digest}")
PY
)"
if [[ ! -f "$dir/STAMP" || "$(cat "$dir/STAMP")" != "$want" ]]; then
  mkdir -p "$(dirname "$dir")"
  "$py" "$gen" "$dir"
fi
exec "$conformance" --quiet --must-pass "$must_pass" "$dir"
