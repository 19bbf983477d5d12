#!/usr/bin/python3
"""Peer for the GPU benchmarks: torch (cuBLAS) on the same GPU.

Usage: torch_gpu.py N [N...]
Prints, one per line:
  # device <name> torch <version>
  matmul fp32 N tflops      (TF32 off: true float32 GEMM)
  matmul fp16 N tflops      (float16 in and out, float32 accumulate)
  graph_replay us_per_kernel  (CUDA graph of 200 tiny kernels, replayed)
Each timing is the median of CUDA-event-timed runs after warm-up, on random
inputs rotated among three sets so the L2 cache does not hold them.
"""
import statistics
import sys

import torch


def timed(fn, reps):
    start = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    end = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    for i in range(reps):
        start[i].record()
        fn(i)
        end[i].record()
    torch.cuda.synchronize()
    return statistics.median(s.elapsed_time(e) for s, e in zip(start, end)) / 1e3


def main():
    if not torch.cuda.is_available():
        print("# torch sees no GPU", file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    print("# device %s torch %s" % (torch.cuda.get_device_name(), torch.__version__))
    for n in map(int, sys.argv[1:]):
        for name, dtype in (("fp32", torch.float32), ("fp16", torch.float16)):
            sets = [(torch.randn(n, n, device="cuda", dtype=dtype),
                     torch.randn(n, n, device="cuda", dtype=dtype)) for _ in range(3)]
            out = torch.empty(n, n, device="cuda", dtype=dtype)
            for a, b in sets:
                torch.matmul(a, b, out=out)
            t = timed(lambda i: torch.matmul(sets[i % 3][0], sets[i % 3][1], out=out), 30)
            print("matmul %s %d %.3f" % (name, n, 2 * n ** 3 / t / 1e12))
    x = torch.randn(1024, device="cuda")
    g = torch.cuda.CUDAGraph()
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):
        for _ in range(3):
            y = x
            for _ in range(200):
                y = y + 1.0
        torch.cuda.synchronize()
        with torch.cuda.graph(g):
            y = x
            for _ in range(200):
                y = y + 1.0
    g.replay()
    torch.cuda.synchronize()
    t = timed(lambda i: g.replay(), 50)
    print("graph_replay %.3f" % (t / 200 * 1e6))
    return 0


if __name__ == "__main__":
    sys.exit(main())
