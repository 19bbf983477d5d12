#!/usr/bin/python3
"""Serving benchmarks: uopd under the load generator, against a bare C++ gRPC
echo server carrying the same payload, on loopback (./uop bench serve).

Prints BENCH lines (see bench/run.py); everything else goes to stderr.
  serve_overhead_small   p50 of ModelInfer on `add` (2x16 B in, 16 B out) minus
                         in-process execution; peer: the echo server's p50 (16 B)
  serve_overhead_image   the same for image_mean (602112 B in); peer: echo 602112 B
  serve_shm_image        p50 of image_mean with the image in system shared memory;
                         peer: the echo server's small-payload p50
  serve_throughput_c16   calls/s of 16 clients on `add`; peer: the echo server
  serve_batching_gain    calls/s at 16 clients on mlp_wide (x[512] -> 4096 -> 512,
                         16 MiB of weights, so a row costs a pass over the weights) with
                         dynamic batching over the same model executing one request
                         at a time; serve_batching_gain_tiny: the same on the example
                         mlp (a 1 us model: the gain is bounded by gRPC's own cost)
  serve_ready_warm       seconds from starting uopd to READY on the example models
                         with a warm kernel cache; peer: the same with an empty cache
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("UOP_BIN_DIR", "bazel-bin")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECONDS = os.environ.get("UOP_SERVE_BENCH_SECONDS", "3")


def log(*a):
    print("serve_bench:", *a, file=sys.stderr, flush=True)


def bench(name, value, unit, peer=None, ratio=None):
    line = f"BENCH {name} value={value:.6g} unit={unit}"
    if peer is not None:
        line += f" peer={peer[0]}:{peer[1]:.6g}"
    if ratio is not None:
        line += f" ratio={ratio:.3g}"
    print(line, flush=True)


class Proc:
    def __init__(self, argv, ready_prefix, timeout=300):
        self.out = tempfile.TemporaryFile(mode="w+")
        self.start = time.monotonic()
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.out, text=True)
        self.lines = []
        self.ready_at = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.p.stdout.readline()
            if not line:
                break
            self.lines.append(line.rstrip("\n"))
            if line.startswith(ready_prefix):
                self.ready_at = time.monotonic() - self.start
                return
        raise RuntimeError(f"{argv[0]} did not print {ready_prefix!r}: {self.lines}")

    def line(self, prefix):
        return next(l for l in self.lines if l.startswith(prefix))

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()


def loadgen(target, *args):
    cmd = [f"{BIN}/tests/load/loadgen", f"--target={target}", f"--seconds={SECONDS}"] + list(args)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    log(r.stdout.strip())
    if r.returncode != 0:
        raise RuntimeError(f"loadgen failed: {r.stdout}")
    fields = dict(re.findall(r"(\w+)=([\d.]+)", r.stdout))
    return float(fields["p50_us"]), float(fields["throughput"].rstrip("/s"))


def inproc(repo, model):
    r = subprocess.run([f"{BIN}/bench/serve_inproc", f"--model-repository={repo}",
                        f"--model={model}", "--runs=1000"], stdout=subprocess.PIPE, text=True,
                       check=True)
    log(r.stdout.strip())
    return float(re.search(r"p50_us=([\d.]+)", r.stdout).group(1))


def uopd(repo, cache, *extra):
    return Proc([f"{BIN}/server/uopd", f"--model-repository={repo}", "--address=127.0.0.1",
                 "--grpc-port=0", "--http-port=0", "--metrics-port=0",
                 f"--kernel-cache-dir={cache}"] + list(extra), "uopd: ready")


def grpc_target(proc):
    return re.search(r"grpc=(\S+)", proc.line("uopd: listening")).group(1)


def write_wide_mlp(repo):
    """mlp_wide (dynamic batching) and mlp_wide_single (none), same weights."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(3)
    w1 = (rng.standard_normal((512, 4096)) * 0.05).astype(np.float32)
    w2 = (rng.standard_normal((4096, 512)) * 0.05).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W1"], ["h0"]), helper.make_node("Relu", ["h0"], ["h"]),
         helper.make_node("MatMul", ["h", "W2"], ["y"])],
        "mlp_wide",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 512])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 512])],
        initializer=[numpy_helper.from_array(w1, "W1"), numpy_helper.from_array(w2, "W2")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    batching = "dynamic_batching { preferred_batch_size: [ 16 ] max_queue_delay_microseconds: 500 }"
    for name, batching in (("mlp_wide", batching), ("mlp_wide_single", "")):
        os.makedirs(os.path.join(repo, name, "1"))
        onnx.save(model, os.path.join(repo, name, "1", "model.onnx"))
        with open(os.path.join(repo, name, "config.pbtxt"), "w") as f:
            f.write(f'name: "{name}"\nbackend: "onnxruntime"\nmax_batch_size: 16\n{batching}\n')


def main():
    work = tempfile.mkdtemp(prefix="uop-serve-bench-")
    try:
        repo = os.path.join(work, "models")
        shutil.copytree(os.path.join(ROOT, "examples/models"), repo,
                        ignore=shutil.ignore_patterns("*.cc", "*.py", "BUILD.bazel"))
        # The example mlp without dynamic batching: every request executes alone.
        single = os.path.join(repo, "mlp_single")
        shutil.copytree(os.path.join(repo, "mlp"), single)
        with open(os.path.join(single, "config.pbtxt")) as f:
            text = f.read()
        text = re.sub(r"dynamic_batching \{[^}]*\}", "", text).replace('"mlp"', '"mlp_single"')
        with open(os.path.join(single, "config.pbtxt"), "w") as f:
            f.write(text)
        write_wide_mlp(repo)
        cache = os.path.join(work, "kernels")

        # Restart to READY: an empty kernel cache, then a warm one.
        cold = uopd(repo, cache)
        cold.stop()
        warm = uopd(repo, cache)
        log(f"READY after {cold.ready_at:.3f} s (empty cache), {warm.ready_at:.3f} s (warm cache)")
        bench("serve_ready_warm", warm.ready_at, "s", ("cold_cache", cold.ready_at),
              cold.ready_at / warm.ready_at)
        target = grpc_target(warm)

        echo = Proc([f"{BIN}/tests/load/echo_server"], "echo_server: listening")
        echo_target = "127.0.0.1:" + echo.line("echo_server: listening").split()[-1]
        try:
            echo_small, _ = loadgen(echo_target, "--echo-bytes=16")
            echo_image, _ = loadgen(echo_target, "--echo-bytes=602112")
            _, echo_c16 = loadgen(echo_target, "--echo-bytes=16", "--concurrency=16")
        finally:
            echo.stop()

        add_p50, _ = loadgen(target, "--model=add")
        add_inproc = inproc(repo, "add")
        overhead = add_p50 - add_inproc
        bench("serve_overhead_small", overhead, "us", ("echo", echo_small), echo_small / overhead)

        image_p50, _ = loadgen(target, "--model=image_mean")
        image_inproc = inproc(repo, "image_mean")
        overhead = image_p50 - image_inproc
        bench("serve_overhead_image", overhead, "us", ("echo", echo_image), echo_image / overhead)
        shm_p50, _ = loadgen(target, "--model=image_mean", "--shm")
        bench("serve_shm_image", shm_p50, "us", ("echo_small", echo_small), echo_small / shm_p50)

        _, add_c16 = loadgen(target, "--model=add", "--concurrency=16")
        bench("serve_throughput_c16", add_c16, "calls/s", ("echo", echo_c16), add_c16 / echo_c16)

        _, tiny = loadgen(target, "--model=mlp", "--concurrency=16")
        _, tiny_single = loadgen(target, "--model=mlp_single", "--concurrency=16")
        _, batched = loadgen(target, "--model=mlp_wide", "--concurrency=16")
        _, single_c16 = loadgen(target, "--model=mlp_wide_single", "--concurrency=16")
        bench("serve_batching_gain", batched / single_c16, "x",
              ("mlp_wide_single_calls_per_s", single_c16))
        bench("serve_batching_gain_tiny", tiny / tiny_single, "x",
              ("mlp_single_calls_per_s", tiny_single))
        warm.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
