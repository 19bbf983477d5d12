#!/bin/bash
# Runs ort_model.js with onnxruntime-node 1.30.0 from the user cache, installing
# it there first when missing (--ignore-scripts: its install step would try to
# download GPU binaries; the bundled CPU runtime loads offline).
set -euo pipefail
dir="${UOP_CACHE_DIR:-${HOME:-/tmp}/.cache/uop}/npm"
if [[ ! -f "$dir/node_modules/onnxruntime-node/package.json" ]]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" onnxruntime-node@1.30.0 --ignore-scripts --no-audit --no-fund \
    --silent >&2
fi
NODE_PATH="$dir/node_modules" exec node "$(dirname "$0")/ort_model.js" "$@"
