#!/usr/bin/python3
"""Runs benchmarks for `./uop bench [NAME...]`.

Every benchmark prints lines of the fixed form
  BENCH <name> value=<number> unit=<unit> [peer=<name>:<number>] [ratio=<number>]
(ratio > 1 means uop is better than the peer); other output goes to stderr.
With no NAME, every benchmark runs. A NAME selects the benchmark program that
produces it (e.g. matmul_1024 runs the matmul program, which also prints
matmul_2048).
"""
import os
import re
import subprocess
import sys

BIN = os.environ.get("UOP_BIN_DIR", "bazel-bin")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# program -> (command, names it prints)
PROGRAMS = {
    "matmul": ([f"{BIN}/bench/matmul_bench"], ["matmul_1024", "matmul_2048"]),
    "schedule": ([f"{BIN}/bench/schedule_bench"], ["schedule_resnet50", "matcher_rewrites"]),
    "gpu": ([f"{BIN}/bench/gpu_bench"],
            ["gpu_matmul_fp32_4096", "gpu_matmul_fp16_4096", "gpu_graph_replay",
             "gpu_direct_launch"]),
    "convnet": ([f"{BIN}/bench/convnet_bench"],
                ["convnet_cold", "convnet_jit", "convnet_warm_cache"]),
    "train": ([f"{BIN}/bench/train_bench"], ["train_mlp_step", "train_convnet_step"]),
    "gpu_models": ([f"{BIN}/bench/gpu_models_bench"],
                   [f"gpu_model_{m}_{k}" for m in ("oww_melspectrogram", "silero_vad_v5",
                                                   "ppocr_v4_det") for k in ("b1", "b32", "cold")]),
    "onnx": ([f"{BIN}/bench/onnx_bench"], ["onnx_oww_melspectrogram", "onnx_silero_vad_v5", "onnx_ppocr_v4_det"]),
    "uoprun": ([f"{BIN}/bench/uoprun_bench/uoprun_bench"],
               [f"uoprun_{w}_{m}" for w in ("load", "overhead", "jitter", "jitter_rt")
                for m in ("oww_melspectrogram", "ppocr_v4_det", "silero_vad_v5")]),
    "am_qcom": ([f"{BIN}/bench/am_qcom_bench"],
                [f"{d}_emu_{k}" for d in ("am", "qcom") for k in ("launch", "submit", "stream")]),
    "serve": ([sys.executable, os.path.join(ROOT, "bench/serve_bench.py")],
              ["serve_overhead_small", "serve_overhead_image", "serve_shm_image",
               "serve_throughput_c16", "serve_batching_gain", "serve_batching_gain_tiny",
               "serve_ready_warm"]),
}

LINE = re.compile(r"^BENCH (\S+) value=(\S+) unit=(\S+)( peer=\S+:\S+)?( ratio=\S+)?$")


def main(argv):
    wanted = argv[1:]
    selected = []
    for prog, (cmd, names) in PROGRAMS.items():
        if not wanted or prog in wanted or any(n in wanted for n in names):
            selected.append((prog, cmd))
    unknown = [w for w in wanted
               if w not in PROGRAMS and not any(w in n for _, n in PROGRAMS.values())]
    if unknown:
        print(f"uop bench: unknown benchmark(s): {' '.join(unknown)}; known: "
              + " ".join(n for _, ns in PROGRAMS.values() for n in ns), file=sys.stderr)
        return 2
    failed = 0
    for prog, cmd in selected:
        if not os.path.exists(cmd[0]):
            print(f"uop bench: {prog}: {cmd[0]} not built", file=sys.stderr)
            failed += 1
            continue
        proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for line in proc.stdout.splitlines():
            if LINE.match(line):
                if not wanted or any(w in line.split()[1] or w == prog for w in wanted):
                    print(line, flush=True)
            else:
                print(line, file=sys.stderr)
        if proc.returncode != 0:
            print(f"uop bench: {prog} exited with {proc.returncode}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
