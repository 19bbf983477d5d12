#!/usr/bin/python3
"""Peer for matmul benchmarks: numpy float32 matmul on OpenBLAS.

Usage: numpy_matmul.py N [N...]   prints `N gflops` per size, one per line, and
`# blas: <name> <version> threads=<n>` first. Refuses to run on a BLAS that is
not OpenBLAS (Debian's reference BLAS is no peer).
"""
import os
import sys
import time

# These variables slow OpenBLAS down on these machines; the peer runs without.
for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(var, None)

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info  # noqa: E402


def main():
    info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if not info or info[0].get("internal_api") != "openblas":
        print("# blas: not OpenBLAS: %r" % info, file=sys.stderr)
        return 2
    blas = info[0]
    print("# blas: openblas %s threads=%s" % (blas.get("version"), blas.get("num_threads")))
    for n in map(int, sys.argv[1:]):
        rng = np.random.default_rng(0)
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        a @ b  # warm-up
        best = float("inf")
        reps = max(3, int(2e10 / (2 * n ** 3)))
        for _ in range(reps):
            t = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - t)
        print("%d %.3f" % (n, 2 * n ** 3 / best / 1e9))
    return 0


if __name__ == "__main__":
    sys.exit(main())
