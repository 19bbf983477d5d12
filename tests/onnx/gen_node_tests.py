#!/usr/bin/python3
"""Writes ONNX's backend node tests into a folder, the layout ./uop conformance runs.

Usage: gen_node_tests.py OUTDIR

Uses Debian's python3-onnx (1.12) generators, as `python3 -m
onnx.backend.test.cmd_tools generate-data` does, with np.random.seed(0): the
result is byte-for-byte the suite the project measures against. Also writes
OUTDIR/index.json (test -> op, kind, opset, rtol, atol) and OUTDIR/STAMP (the
onnx and numpy versions and this script's hash) so callers can cache the
folder. onnx 1.12's generators use numpy aliases that numpy 1.24 removed;
they are restored before importing them.
"""
import hashlib
import json
import os
import shutil
import sys
import warnings

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # numpy warns about the very aliases being restored
    for alias, builtin in (("float", float), ("int", int), ("bool", bool), ("object", object),
                           ("str", str), ("complex", complex)):
        if not hasattr(np, alias):
            setattr(np, alias, builtin)

import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402


def stamp():
    with open(os.path.abspath(__file__), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    return f"onnx {onnx.__version__} numpy {np.__version__} script {digest}\n"


def write_value(path, value, vi):
    t = vi.type
    if t.HasField("sequence_type"):
        proto = numpy_helper.from_list(value, vi.name)
    elif t.HasField("optional_type"):
        proto = numpy_helper.from_optional(value, vi.name)
    elif t.HasField("map_type"):
        proto = numpy_helper.from_dict(value, vi.name)
    else:
        proto = numpy_helper.from_array(value, vi.name)
    with open(path, "wb") as f:
        f.write(proto.SerializeToString())


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    np.random.seed(0)
    import onnx.backend.test.case.node as node_test  # noqa: E402

    cases = node_test.collect_testcases(None)
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    index = {}
    for case in cases:
        d = os.path.join(tmp, case.name)
        shutil.rmtree(d, ignore_errors=True)  # a repeated name: the last one wins, as in onnx
        os.makedirs(d)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        for i, (inputs, outputs) in enumerate(case.data_sets):
            ds = os.path.join(d, f"test_data_set_{i}")
            os.makedirs(ds)
            for j, v in enumerate(inputs):
                write_value(os.path.join(ds, f"input_{j}.pb"), v, case.model.graph.input[j])
            for j, v in enumerate(outputs):
                write_value(os.path.join(ds, f"output_{j}.pb"), v, case.model.graph.output[j])
        op = case.model.graph.node[0].op_type if case.model.graph.node else ""
        base = case.name[:-len("_expanded")] if case.name.endswith("_expanded") else None
        index[case.name] = {
            "op": op,
            "kind": "expanded" if base else "node",
            "opset": {(o.domain or "ai.onnx"): o.version for o in case.model.opset_import},
            "rtol": case.rtol,
            "atol": case.atol,
        }
    # Expanded tests are named after the op they expand.
    for name, entry in index.items():
        if entry["kind"] == "expanded" and name[:-len("_expanded")] in index:
            entry["op"] = index[name[:-len("_expanded")]]["op"]
    with open(os.path.join(tmp, "index.json"), "w") as f:
        json.dump(index, f, indent=0, sort_keys=True)
    with open(os.path.join(tmp, "STAMP"), "w") as f:
        f.write(stamp())
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    print(f"gen_node_tests: wrote {len(index)} cases to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
