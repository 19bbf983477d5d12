#!/usr/bin/python3
"""Peer for the training-step benchmarks: the same step as bench/train_bench.cc
written by hand in numpy (float32): forward, cross-entropy, backward, Adam.

Usage: numpy_train.py mlp|convnet   prints `# blas: ...` and `ms_per_step X loss A B`
(X: median milliseconds per step; A, B: the first and last loss).
Models (same shapes as the C++ side):
  mlp:     batch 128, 784 -> 256 -> 256 -> 10, ReLU
  convnet: batch 32, 1x28x28, conv3x3(1->8, pad 1) ReLU maxpool2,
           conv3x3(8->16, pad 1) ReLU maxpool2, linear 784 -> 10
"""
import sys
import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

try:
    from threadpoolctl import threadpool_info
except ImportError:  # the timing does not need it
    threadpool_info = None

F = np.float32


class Adam:
    def __init__(self, params, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.p, self.lr, self.b1, self.b2, self.eps = params, lr, b1, b2, eps
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, grads):
        self.t += 1
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for p, g, m, v in zip(self.p, grads, self.m, self.v):
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


def uniform(rng, shape, fan_in):
    b = 1 / np.sqrt(fan_in)
    return rng.uniform(-b, b, shape).astype(F)


def xent(z, y):
    """Mean cross-entropy and its gradient with respect to the logits z."""
    m = z.max(1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(1, keepdims=True)
    n = len(y)
    loss = -(z[np.arange(n), y] - m[:, 0] - np.log(s[:, 0])).mean()
    dz = e / s
    dz[np.arange(n), y] -= 1
    return loss, dz / n


class Mlp:
    def __init__(self, rng):
        self.p = [uniform(rng, (256, 784), 784), uniform(rng, (256,), 784),
                  uniform(rng, (256, 256), 256), uniform(rng, (256,), 256),
                  uniform(rng, (10, 256), 256), uniform(rng, (10,), 256)]

    def loss_and_grads(self, x, y):
        w1, b1, w2, b2, w3, b3 = self.p
        h1 = x @ w1.T + b1
        a1 = np.maximum(h1, 0)
        h2 = a1 @ w2.T + b2
        a2 = np.maximum(h2, 0)
        loss, dz = xent(a2 @ w3.T + b3, y)
        dh2 = (dz @ w3) * (h2 > 0)
        dh1 = (dh2 @ w2) * (h1 > 0)
        return loss, [dh1.T @ x, dh1.sum(0), dh2.T @ a1, dh2.sum(0), dz.T @ a2, dz.sum(0)]


def conv_fwd(x, w, b):
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = sliding_window_view(xp, (3, 3), axis=(2, 3))  # n c h w 3 3
    out = np.tensordot(cols, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)
    return out + b[None, :, None, None], cols


def conv_bwd(dout, cols, w, shape):
    dw = np.tensordot(dout, cols, axes=([0, 2, 3], [0, 2, 3]))
    db = dout.sum((0, 2, 3))
    n, c, h, wd = shape
    dxp = np.zeros((n, c, h + 2, wd + 2), F)
    for i in range(3):
        for j in range(3):
            dxp[:, :, i:i + h, j:j + wd] += np.tensordot(dout, w[:, :, i, j],
                                                         axes=([1], [0])).transpose(0, 3, 1, 2)
    return dxp[:, :, 1:-1, 1:-1], dw, db


def pool_fwd(x):
    n, c, h, w = x.shape
    win = x.reshape(n, c, h // 2, 2, w // 2, 2)
    out = win.max((3, 5))
    hit = win == out[:, :, :, None, :, None]
    return out, hit / hit.sum((3, 5), keepdims=True)  # ties share the gradient


def pool_bwd(dout, share):
    n, c, h2, _, w2, _ = share.shape
    return (share * dout[:, :, :, None, :, None]).reshape(n, c, 2 * h2, 2 * w2)


class ConvNet:
    def __init__(self, rng):
        self.p = [uniform(rng, (8, 1, 3, 3), 9), uniform(rng, (8,), 9),
                  uniform(rng, (16, 8, 3, 3), 72), uniform(rng, (16,), 72),
                  uniform(rng, (10, 784), 784), uniform(rng, (10,), 784)]

    def loss_and_grads(self, x, y):
        w1, b1, w2, b2, w3, b3 = self.p
        h1, cols1 = conv_fwd(x, w1, b1)
        p1, s1 = pool_fwd(np.maximum(h1, 0))
        h2, cols2 = conv_fwd(p1, w2, b2)
        p2, s2 = pool_fwd(np.maximum(h2, 0))
        flat = p2.reshape(len(x), -1)
        loss, dz = xent(flat @ w3.T + b3, y)
        dflat = dz @ w3
        dh2 = pool_bwd(dflat.reshape(p2.shape), s2) * (h2 > 0)
        dp1, dw2, db2 = conv_bwd(dh2, cols2, w2, p1.shape)
        dh1 = pool_bwd(dp1, s1) * (h1 > 0)
        _, dw1, db1 = conv_bwd(dh1, cols1, w1, x.shape)
        return loss, [dw1, db1, dw2, db2, dz.T @ flat, dz.sum(0)]


def main():
    kind = sys.argv[1] if len(sys.argv) > 1 else "mlp"
    rng = np.random.default_rng(0)
    if threadpool_info is not None:
        blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if blas:
            print("# blas: %s %s threads=%s" % (blas[0].get("internal_api"),
                                                blas[0].get("version"), blas[0].get("num_threads")))
    if kind == "mlp":
        model, shape, batch = Mlp(rng), (128, 784), 128
    else:
        model, shape, batch = ConvNet(rng), (32, 1, 28, 28), 32
    batches = [(rng.standard_normal(shape).astype(F), rng.integers(0, 10, batch))
               for _ in range(8)]
    opt = Adam(model.p)
    losses, times = [], []
    for step in range(40):
        x, y = batches[step % len(batches)]
        t = time.perf_counter()
        loss, grads = model.loss_and_grads(x, y)
        opt.step(grads)
        times.append(time.perf_counter() - t)
        losses.append(loss)
    times = sorted(times[5:])
    print("ms_per_step %.4f loss %.4f %.4f" % (1e3 * times[len(times) // 2], losses[0], losses[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
