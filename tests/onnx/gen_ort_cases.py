#!/usr/bin/python3
"""Writes test cases checked against onnxruntime: its contrib (com.microsoft)
operators, and operators and attributes of opsets 18-21, newer than the node
tests of Debian's onnx 1.12.

Usage: gen_ort_cases.py OUTDIR

Each case is a one-node model with seeded random inputs; the expected outputs
are onnxruntime-node 1.30.0's (tests/onnx/ort_reference.js; onnxruntime-node
from the user cache, as bench/peers/ort_model.sh installs it). The cases are
checked in (tests/onnx/ort_cases) and run by //tests/onnx:ort_cases_test;
this script documents and regenerates them.
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MS = "com.microsoft"
HERE = os.path.dirname(os.path.abspath(__file__))


def case(out, name, node, inputs, outputs, initializers=(), opset=17, out_type=TensorProto.FLOAT):
    d = os.path.join(out, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "test_data_set_0"))
    graph_inputs = [helper.make_tensor_value_info(n, onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[a.dtype], a.shape)
                    for n, a in inputs]
    graph_outputs = [helper.make_tensor_value_info(n, out_type, None) for n in outputs]
    inits = [numpy_helper.from_array(a, n) for n, a in initializers]
    graph = helper.make_graph([node], name, graph_inputs, graph_outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset),
                                                    helper.make_opsetid(MS, 1)])
    model.ir_version = 8
    onnx.save(model, os.path.join(d, "model.onnx"))
    for i, (n, a) in enumerate(inputs):
        with open(os.path.join(d, "test_data_set_0", f"input_{i}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(a, n).SerializeToString())
    return d


def main(argv):
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(5)
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)
    dirs = []
    x = f32(2, 3, 8)
    dirs.append(case(out, "ms_gelu", helper.make_node("Gelu", ["x"], ["y"], domain=MS),
                     [("x", x)], ["y"]))
    dirs.append(case(out, "ms_fast_gelu", helper.make_node("FastGelu", ["x", "b"], ["y"], domain=MS),
                     [("x", x), ("b", f32(8))], ["y"]))
    dirs.append(case(out, "ms_bias_gelu", helper.make_node("BiasGelu", ["x", "b"], ["y"], domain=MS),
                     [("x", x), ("b", f32(8))], ["y"]))
    dirs.append(case(out, "ms_quick_gelu",
                     helper.make_node("QuickGelu", ["x"], ["y"], domain=MS, alpha=1.5),
                     [("x", x)], ["y"]))
    dirs.append(case(out, "ms_bias_add", helper.make_node("BiasAdd", ["x", "b", "s"], ["y"], domain=MS),
                     [("x", f32(2, 4, 8)), ("b", f32(8)), ("s", f32(2, 4, 8))], ["y"]))
    dirs.append(case(out, "ms_fused_matmul",
                     helper.make_node("FusedMatMul", ["a", "b"], ["y"], domain=MS, alpha=0.5,
                                      transA=1, transB=0),
                     [("a", f32(2, 5, 3)), ("b", f32(2, 5, 4))], ["y"]))
    dirs.append(case(out, "ms_fused_conv_relu",
                     helper.make_node("FusedConv", ["x", "w", "b"], ["y"], domain=MS,
                                      activation="Relu", pads=[1, 1, 1, 1], strides=[1, 1]),
                     [("x", f32(1, 3, 6, 6)), ("w", f32(4, 3, 3, 3)), ("b", f32(4))], ["y"]))
    dirs.append(case(out, "ms_skip_layer_norm",
                     helper.make_node("SkipLayerNormalization", ["x", "s", "g", "beta", "bias"],
                                      ["y", "", "", "sum"], domain=MS, epsilon=1e-5),
                     [("x", f32(2, 3, 16)), ("s", f32(2, 3, 16)), ("g", f32(16)), ("beta", f32(16)),
                      ("bias", f32(16))], ["y", "sum"]))
    dirs.append(case(out, "ms_skip_simplified_layer_norm",
                     helper.make_node("SkipSimplifiedLayerNormalization", ["x", "s", "g"], ["y"],
                                      domain=MS, epsilon=1e-5),
                     [("x", f32(2, 3, 16)), ("s", f32(2, 3, 16)), ("g", f32(16))], ["y"]))
    dirs.append(case(out, "simplified_layer_norm",
                     helper.make_node("SimplifiedLayerNormalization", ["x", "g"], ["y"], axis=-1,
                                      epsilon=1e-5),
                     [("x", f32(2, 3, 16)), ("g", f32(16))], ["y"]))
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], dtype=np.int32)
    dirs.append(case(out, "ms_attention",
                     helper.make_node("Attention", ["x", "w", "b", "m"], ["y"], domain=MS, num_heads=2),
                     [("x", f32(2, 4, 8)), ("w", f32(8, 24)), ("b", f32(24)), ("m", mask)], ["y"]))
    dirs.append(case(out, "ms_attention_causal",
                     helper.make_node("Attention", ["x", "w", "b"], ["y"], domain=MS, num_heads=2,
                                      unidirectional=1),
                     [("x", f32(1, 5, 8)), ("w", f32(8, 24)), ("b", f32(24))], ["y"]))
    dirs.append(case(out, "ms_multi_head_attention",
                     helper.make_node("MultiHeadAttention", ["q", "k", "v"], ["y"], domain=MS,
                                      num_heads=2),
                     [("q", f32(2, 3, 8)), ("k", f32(2, 5, 8)), ("v", f32(2, 5, 8))], ["y"]))
    k, n, block = 32, 6, 16
    packed = rng.integers(0, 256, size=(n, k // block, block // 2), dtype=np.uint8)
    scales = (rng.random(n * (k // block)).astype(np.float32) + 0.5) / 8
    zps = rng.integers(0, 256, size=(n * ((k // block + 1) // 2),), dtype=np.uint8)
    dirs.append(case(out, "ms_matmul_nbits",
                     helper.make_node("MatMulNBits", ["a", "b", "s", "z"], ["y"], domain=MS, K=k, N=n,
                                      bits=4, block_size=block),
                     [("a", f32(3, k))], ["y"],
                     initializers=[("b", packed), ("s", scales), ("z", zps)]))
    dirs.append(case(out, "ms_matmul_nbits_default_zero",
                     helper.make_node("MatMulNBits", ["a", "b", "s"], ["y"], domain=MS, K=k, N=n,
                                      bits=4, block_size=block),
                     [("a", f32(2, 3, k))], ["y"], initializers=[("b", packed), ("s", scales)]))
    bq = rng.integers(-100, 100, size=(8, 5), dtype=np.int8)
    dirs.append(case(out, "ms_dynamic_quantize_matmul",
                     helper.make_node("DynamicQuantizeMatMul", ["a", "b", "bs", "bz"], ["y"], domain=MS),
                     [("a", f32(3, 8))], ["y"],
                     initializers=[("b", bq), ("bs", np.array(0.02, np.float32)),
                                   ("bz", np.array(3, np.int8))]))
    qa = rng.integers(0, 256, size=(2, 6), dtype=np.uint8)
    qb = rng.integers(0, 256, size=(2, 6), dtype=np.uint8)
    scalar = lambda v, t: np.array(v, dtype=t)
    dirs.append(case(out, "ms_qlinear_add",
                     helper.make_node("QLinearAdd", ["a", "as", "az", "b", "bs", "bz", "cs", "cz"], ["y"],
                                      domain=MS),
                     [("a", qa), ("b", qb)], ["y"],
                     out_type=TensorProto.UINT8,
                     initializers=[("as", scalar(0.05, np.float32)), ("az", scalar(128, np.uint8)),
                                   ("bs", scalar(0.03, np.float32)), ("bz", scalar(100, np.uint8)),
                                   ("cs", scalar(0.07, np.float32)), ("cz", scalar(120, np.uint8))]))
    dirs.append(case(out, "ms_qlinear_mul",
                     helper.make_node("QLinearMul", ["a", "as", "az", "b", "bs", "bz", "cs", "cz"], ["y"],
                                      domain=MS),
                     [("a", qa), ("b", qb)], ["y"],
                     out_type=TensorProto.UINT8,
                     initializers=[("as", scalar(0.05, np.float32)), ("az", scalar(128, np.uint8)),
                                   ("bs", scalar(0.03, np.float32)), ("bz", scalar(100, np.uint8)),
                                   ("cs", scalar(0.2, np.float32)), ("cz", scalar(10, np.uint8))]))
    dirs.append(case(out, "ms_qlinear_sigmoid",
                     helper.make_node("QLinearSigmoid", ["x", "xs", "xz", "ys", "yz"], ["y"], domain=MS),
                     [("x", qa)], ["y"],
                     out_type=TensorProto.UINT8,
                     initializers=[("xs", scalar(0.05, np.float32)), ("xz", scalar(128, np.uint8)),
                                   ("ys", scalar(1 / 256, np.float32)), ("yz", scalar(0, np.uint8))]))
    dirs.append(case(out, "ms_qlinear_global_average_pool",
                     helper.make_node("QLinearGlobalAveragePool", ["x", "xs", "xz", "ys", "yz"], ["y"],
                                      domain=MS, channels_last=0),
                     [("x", rng.integers(0, 256, size=(1, 3, 4, 4), dtype=np.uint8))], ["y"],
                     out_type=TensorProto.UINT8,
                     initializers=[("xs", scalar(0.05, np.float32)), ("xz", scalar(128, np.uint8)),
                                   ("ys", scalar(0.04, np.float32)), ("yz", scalar(120, np.uint8))]))
    dirs.append(case(out, "ms_qlinear_concat",
                     helper.make_node("QLinearConcat", ["ys", "yz", "a", "as", "az", "b", "bs", "bz"],
                                      ["y"], domain=MS, axis=1),
                     [("a", qa), ("b", qb)], ["y"],
                     out_type=TensorProto.UINT8,
                     initializers=[("ys", scalar(0.06, np.float32)), ("yz", scalar(125, np.uint8)),
                                   ("as", scalar(0.05, np.float32)), ("az", scalar(128, np.uint8)),
                                   ("bs", scalar(0.03, np.float32)), ("bz", scalar(100, np.uint8))]))
    # Operators and attributes of opsets 18-21.
    img = f32(1, 2, 8, 8)
    roi = np.array([], np.float32)
    dirs.append(case(out, "onnx18_resize_antialias_linear",
                     helper.make_node("Resize", ["x", "roi", "s"], ["y"], mode="linear", antialias=1),
                     [("x", img)], ["y"], initializers=[("roi", roi),
                                                        ("s", np.array([1, 1, 0.5, 0.375], np.float32))],
                     opset=18))
    dirs.append(case(out, "onnx18_resize_antialias_cubic_sizes",
                     helper.make_node("Resize", ["x", "roi", "", "sz"], ["y"], mode="cubic", antialias=1),
                     [("x", img)], ["y"], initializers=[("roi", roi),
                                                        ("sz", np.array([1, 2, 3, 5], np.int64))],
                     opset=18))
    dirs.append(case(out, "onnx18_resize_axes_not_larger",
                     helper.make_node("Resize", ["x", "", "", "sz"], ["y"], mode="linear", axes=[2, 3],
                                      keep_aspect_ratio_policy="not_larger"),
                     [("x", f32(1, 1, 4, 6))], ["y"], initializers=[("sz", np.array([6, 6], np.int64))],
                     opset=18))
    dirs.append(case(out, "onnx18_reduce_mean_axes_input",
                     helper.make_node("ReduceMean", ["x", "a"], ["y"], keepdims=0),
                     [("x", f32(2, 3, 4))], ["y"], initializers=[("a", np.array([-1, 0], np.int64))],
                     opset=18))
    dirs.append(case(out, "onnx18_split_num_outputs",
                     helper.make_node("Split", ["x"], ["a", "b", "c"], num_outputs=3),
                     [("x", f32(7, 2))], ["a", "b", "c"], opset=18))
    dirs.append(case(out, "onnx18_pad_axes_reflect",
                     helper.make_node("Pad", ["x", "p", "", "ax"], ["y"], mode="reflect"),
                     [("x", f32(2, 5))], ["y"],
                     initializers=[("p", np.array([2, 3], np.int64)), ("ax", np.array([-1], np.int64))],
                     opset=18))
    dirs.append(case(out, "onnx18_scatter_elements_max",
                     helper.make_node("ScatterElements", ["x", "i", "u"], ["y"], axis=1, reduction="max"),
                     [("x", f32(2, 4)), ("u", f32(2, 3))], ["y"],
                     initializers=[("i", np.array([[0, 1, 0], [3, 3, 2]], np.int64))], opset=18))
    dirs.append(case(out, "onnx18_center_crop_pad",
                     helper.make_node("CenterCropPad", ["x", "s"], ["y"], axes=[0, 2]),
                     [("x", f32(5, 2, 4))], ["y"], initializers=[("s", np.array([2, 7], np.int64))],
                     opset=18))
    dirs.append(case(out, "onnx18_col2im",
                     helper.make_node("Col2Im", ["x", "img", "blk"], ["y"], strides=[2, 1],
                                      dilations=[1, 2], pads=[1, 0, 0, 1]),
                     [("x", f32(1, 2 * 2 * 2, 3 * 4))], ["y"],
                     initializers=[("img", np.array([5, 5], np.int64)),
                                   ("blk", np.array([2, 2], np.int64))], opset=18))
    dirs.append(case(out, "onnx18_lp_pool_ceil",
                     helper.make_node("LpPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
                                      ceil_mode=1, p=3),
                     [("x", f32(1, 2, 6, 6))], ["y"], opset=18))
    dirs.append(case(out, "onnx18_mish", helper.make_node("Mish", ["x"], ["y"]), [("x", x)], ["y"],
                     opset=18))
    dirs.append(case(out, "onnx19_average_pool_dilations",
                     helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[2, 2], dilations=[2, 2],
                                      pads=[1, 1, 1, 1], count_include_pad=0),
                     [("x", f32(1, 1, 6, 6))], ["y"], opset=19))
    dirs.append(case(out, "onnx20_gelu_tanh", helper.make_node("Gelu", ["x"], ["y"], approximate="tanh"),
                     [("x", x)], ["y"], opset=20))
    dirs.append(case(out, "onnx20_dft_axis_input",
                     helper.make_node("DFT", ["x", "", "ax"], ["y"], onesided=1),
                     [("x", f32(2, 6, 5, 1))], ["y"], initializers=[("ax", np.array(-3, np.int64))],
                     opset=20))
    theta = np.array([[[0.9, -0.2, 0.1], [0.3, 1.1, -0.2]], [[1.0, 0.0, 0.0], [0.0, 0.5, 0.3]]],
                     np.float32)
    for align in (0, 1):
        dirs.append(case(out, f"onnx20_affine_grid_align{align}",
                         helper.make_node("AffineGrid", ["t", "s"], ["y"], align_corners=align),
                         [("t", theta)], ["y"], initializers=[("s", np.array([2, 3, 4, 5], np.int64))],
                         opset=20))
    dirs.append(case(out, "onnx21_group_norm_per_channel",
                     helper.make_node("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=2),
                     [("x", f32(2, 4, 3, 3)), ("s", f32(4)), ("b", f32(4))], ["y"], opset=21))
    xq = rng.integers(-128, 128, size=(4, 6), dtype=np.int8)
    dirs.append(case(out, "onnx21_dequantize_blocked",
                     helper.make_node("DequantizeLinear", ["x", "s", "z"], ["y"], axis=1, block_size=4),
                     [("x", xq)], ["y"],
                     initializers=[("s", (rng.random((4, 2)) + 0.1).astype(np.float32)),
                                   ("z", rng.integers(-5, 5, size=(4, 2), dtype=np.int8))], opset=21))
    dirs.append(case(out, "onnx21_quantize_blocked",
                     helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"], axis=0, block_size=3),
                     [("x", f32(5, 2) * 10)], ["y"], out_type=TensorProto.UINT8,
                     initializers=[("s", (rng.random((2, 2)) + 0.1).astype(np.float32)),
                                   ("z", rng.integers(100, 150, size=(2, 2), dtype=np.uint8))], opset=21))
    npm = os.path.join(os.environ.get("HOME", "/tmp"), ".cache", "uop", "npm")
    env = dict(os.environ, NODE_PATH=os.path.join(npm, "node_modules"))
    written = 0
    for d in dirs:
        proc = subprocess.run(["node", os.path.join(HERE, "ort_reference.js"), d], env=env,
                              stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:  # e.g. an op onnxruntime implements only on CUDA
            print(f"gen_ort_cases: {os.path.basename(d)} dropped: {proc.stderr.strip()}",
                  file=sys.stderr)
            shutil.rmtree(d)
            continue
        written += 1
    index = {os.path.basename(d): {"op": os.path.basename(d), "rtol": 1e-3, "atol": 1e-5}
             for d in dirs if os.path.isdir(d)}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f, indent=0, sort_keys=True)
    print(f"gen_ort_cases: wrote {written} cases to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
