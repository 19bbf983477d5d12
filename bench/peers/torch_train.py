#!/usr/bin/python3
"""Optional peer for the training-step benchmarks where torch is installed:
the same models and step as bench/peers/numpy_train.py (forward,
cross-entropy, backward, Adam), in torch on the CPU.

Usage: torch_train.py mlp|convnet   prints `ms_per_step X loss A B` like numpy_train.py.
"""
import sys
import time

import torch
import torch.nn.functional as F


def main():
    kind = sys.argv[1] if len(sys.argv) > 1 else "mlp"
    torch.manual_seed(0)
    print("# torch %s threads=%d" % (torch.__version__, torch.get_num_threads()))
    if kind == "mlp":
        model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                    torch.nn.Linear(256, 256), torch.nn.ReLU(),
                                    torch.nn.Linear(256, 10))
        shape = (128, 784)
    else:
        model = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
                                    torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 16, 3, padding=1),
                                    torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                                    torch.nn.Linear(784, 10))
        shape = (32, 1, 28, 28)
    batches = [(torch.randn(shape), torch.randint(0, 10, (shape[0],))) for _ in range(8)]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses, times = [], []
    for step in range(40):
        x, y = batches[step % len(batches)]
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        value = loss.item()
        times.append(time.perf_counter() - t)
        losses.append(value)
    times = sorted(times[5:])
    print("ms_per_step %.4f loss %.4f %.4f" % (1e3 * times[len(times) // 2], losses[0], losses[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
