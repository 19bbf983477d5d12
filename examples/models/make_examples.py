#!/usr/bin/python3
"""Writes the example models of this model repository (Triton layout).

Run from anywhere with Debian's python3-onnx:  /usr/bin/python3 examples/models/make_examples.py
The output is deterministic, so re-running it leaves git clean.

  add/1/model.onnx   C = A + B, float32, shape [4]   (config: add/config.pbtxt)
"""
import os
import sys

import onnx
from onnx import TensorProto, helper

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


def write(model, relpath):
    path = os.path.join(HERE, relpath)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    print(f"wrote {os.path.relpath(path)}")


def main():
    write(make_add(), "add/1/model.onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
