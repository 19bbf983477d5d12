#!/bin/bash
# UOP_PROFILE end to end: profile_demo writes a Perfetto trace and a Chrome
# JSON trace at exit; python3-protobuf decodes the first with our .proto.
set -euo pipefail
dir="${TEST_SRCDIR}/${TEST_WORKSPACE}/runtime/profiler"
out="${TEST_TMPDIR}"
UOP_PROFILE="${out}/demo.perfetto-trace" "${dir}/profile_demo"
UOP_PROFILE="${out}/demo.json" "${dir}/profile_demo"
# An unwritable path: the program still succeeds and says why on stderr.
UOP_PROFILE="${out}/missing/dir/x.perfetto-trace" "${dir}/profile_demo" 2>"${out}/err.txt"
grep -q "UOP_PROFILE: writing trace to '${out}/missing/dir/x.perfetto-trace'" "${out}/err.txt"
exec /usr/bin/python3 "${dir}/perfetto_python_decode.py" "${dir}/perfetto_trace.descriptor" \
  "${out}/demo.perfetto-trace" "${out}/demo.json"
