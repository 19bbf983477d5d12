#!/usr/bin/python3
"""Writes the example models of this model repository (Triton layout).

Run from anywhere with Debian's python3-onnx:  /usr/bin/python3 examples/models/make_examples.py
The output is deterministic, so re-running it leaves git clean.

  add/1/model.onnx          C = A + B, float32, shape [4]   (config: add/config.pbtxt)
  mlp/1/model.onnx          y = relu(x @ W1 + b1) @ W2 + b2, x [batch, 64] -> y [batch, 16],
                            fixed pseudo-random weights; batches dynamically (mlp/config.pbtxt)
  image_mean/1/model.onnx   per-channel mean of an image, [1, 3, 224, 224] (602112 bytes) -> [1, 3]

ppocr_v4_det/ is a real model copied from ../shared/models (see its README.md), not generated.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
# Opset 13 and IR version 7 are read by every ONNX runtime still in use.
OPSET = 13
IR_VERSION = 7


def tensor(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def make_add():
    graph = helper.make_graph(
        nodes=[helper.make_node("Add", ["A", "B"], ["C"], name="add")],
        name="add",
        inputs=[tensor("A", [4]), tensor("B", [4])],
        outputs=[tensor("C", [4])],
    )
    model = helper.make_model(
        graph,
        producer_name="uop examples/models/make_examples.py",
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def finish(graph, name):
    model = helper.make_model(
        graph,
        producer_name="uop examples/models/make_examples.py",
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model


def make_mlp():
    rng = np.random.default_rng(7)
    w1 = (rng.standard_normal((64, 128)) * 0.1).astype(np.float32)
    b1 = (rng.standard_normal(128) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((128, 16)) * 0.1).astype(np.float32)
    b2 = (rng.standard_normal(16) * 0.1).astype(np.float32)
    graph = helper.make_graph(
        nodes=[
            helper.make_node("MatMul", ["x", "W1"], ["h0"]),
            helper.make_node("Add", ["h0", "b1"], ["h1"]),
            helper.make_node("Relu", ["h1"], ["h"]),
            helper.make_node("MatMul", ["h", "W2"], ["y0"]),
            helper.make_node("Add", ["y0", "b2"], ["y"]),
        ],
        name="mlp",
        inputs=[tensor("x", ["batch", 64])],
        outputs=[tensor("y", ["batch", 16])],
        initializer=[numpy_helper.from_array(a, n)
                     for a, n in ((w1, "W1"), (b1, "b1"), (w2, "W2"), (b2, "b2"))],
    )
    return finish(graph, "mlp")


def make_image_mean():
    graph = helper.make_graph(
        nodes=[helper.make_node("ReduceMean", ["image"], ["mean"], axes=[2, 3], keepdims=0)],
        name="image_mean",
        inputs=[tensor("image", [1, 3, 224, 224])],
        outputs=[tensor("mean", [1, 3])],
    )
    return finish(graph, "image_mean")


def write(model, relpath):
    path = os.path.join(HERE, relpath)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    print(f"wrote {os.path.relpath(path)}")


def main():
    write(make_add(), "add/1/model.onnx")
    write(make_mlp(), "mlp/1/model.onnx")
    write(make_image_mean(), "image_mean/1/model.onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
