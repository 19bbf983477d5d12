#!/usr/bin/python3
"""Peer for bench/gpu_models_bench: the same ONNX models run by torch on the GPU,
captured whole in a torch.cuda.CUDAGraph.

Usage: torch_onnx.py [--runs N] [--batches 1,32] [--device cuda] CASE_DIR...

torch has no ONNX importer, so this is a small interpreter from ONNX nodes onto
torch ops, for exactly the operators of the dev models (oww_melspectrogram,
silero_vad_v5, ppocr_v4_det); any other operator is an error naming it. fp32,
TF32 off, cuDNN autotuning on (torch at its best for fixed shapes).

Values are torch tensors on the host (initializers, Constant nodes, Shape
results, scalar inputs such as silero's sr, and everything computed only from
those) or on the GPU (what depends on the tensor inputs). Nodes whose inputs
are all on the host run there, once per pass, like an importer's constant
folding; If conditions must be host values and pick their branch while tracing.
A host value used by a GPU node is copied to the GPU once (cached per node
input), so the capture pass launches only GPU work.

For each CASE_DIR (model.onnx, test_data_set_0/input_N.pb and output_N.pb) and
batch B (the fixed input tiled B times along its first symbolic dim; scalars are
not tiled): one eager pass, a CUDA-graph capture, outputs of a replay checked
against the reference (rtol 1e-3, atol 1e-4; at batch B tiled along the axis
where the reference has 1 and the output B), then the wall-clock median of up to
--runs steps (fewer when they pass 3 s) after 5 warm-ups, each step = copy the
host inputs in, replay, copy the outputs back to the host: what uop's Run does.
Prints "result <model> <batch> <ms> <ok|wrong|failed>" per row, "#" lines else.
"""
import os
import statistics
import sys
import time
import traceback

import numpy as np
import onnx
from onnx import numpy_helper

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the interpreter's host logic is usable without torch
    torch = None
    F = None

ONNX_DTYPES = {1: "float32", 2: "uint8", 3: "int8", 5: "int16", 6: "int32", 7: "int64",
               9: "bool", 10: "float16", 11: "float64"}


# Operands that are shapes, axes, pads or bounds: read on the host, never moved.
HOST_OPERANDS = {"Reshape": (1,), "Slice": (1, 2, 3, 4), "Unsqueeze": (1,), "Squeeze": (1,),
                 "Pad": (1, 2), "ConstantOfShape": (0,), "Resize": (1, 2, 3),
                 "ReduceMax": (1,), "ReduceMean": (1,), "LSTM": (4,)}


def torch_dtype(onnx_type):
    return getattr(torch, ONNX_DTYPES[onnx_type])


def attrs_of(node):
    out = {}
    for a in node.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            out[a.name] = a.g
        elif a.type == onnx.AttributeProto.TENSOR:
            out[a.name] = a.t
        else:
            out[a.name] = onnx.helper.get_attribute_value(a)
    for k, v in list(out.items()):
        if isinstance(v, bytes):
            out[k] = v.decode()
    return out


def host_list(v):
    """A host tensor's values as Python ints/floats (never a GPU sync)."""
    if v.is_cuda:
        raise RuntimeError("a shape/axes/pads operand is on the GPU; it must be a host value")
    return v.reshape(-1).tolist()


class Interpreter:
    def __init__(self, model, device):
        self.model = model
        self.device = device
        self.opset = {o.domain or "": o.version for o in model.opset_import}[""]
        self.to_device_cache = {}
        self.initializers = {}
        self.collect_initializers(model.graph)

    def collect_initializers(self, graph):
        for t in graph.initializer:
            self.initializers[t.name] = torch.from_numpy(numpy_helper.to_array(t).copy())
        for node in graph.node:
            for a in node.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    self.collect_initializers(a.g)

    # -- values -----------------------------------------------------------
    def on_device(self, v, key):
        """`v` on the GPU; host values are copied once per `key` (node input)."""
        if v.device.type == self.device.type:
            return v
        cached = self.to_device_cache.get(key)
        if cached is None or cached.shape != v.shape or cached.dtype != v.dtype:
            if torch.cuda.is_current_stream_capturing():
                raise RuntimeError(f"host value {key} first needed during capture")
            cached = v.to(self.device)
            self.to_device_cache[key] = cached
        return cached

    def run_graph(self, graph, env):
        """Evaluates `graph` with `env` (name -> tensor, outer scope included)."""
        env = dict(env)
        for t in graph.initializer:
            env[t.name] = self.initializers[t.name]
        for node in graph.node:
            ins = [env[name] if name else None for name in node.input]
            outs = self.run_node(node, ins, env)
            for name, v in zip(node.output, outs):
                if name:
                    env[name] = v
        return [env[o.name] for o in graph.output]

    def run_node(self, node, ins, env):
        op = node.op_type
        a = attrs_of(node)
        if op == "If":
            cond = ins[0]
            if cond.is_cuda:
                raise RuntimeError(f"If {node.name}: the condition is computed on the GPU")
            branch = a["then_branch"] if bool(cond.reshape(-1)[0]) else a["else_branch"]
            return self.run_graph(branch, env)
        # Data operands follow the GPU; shape/axes/pads operands stay host values.
        host = HOST_OPERANDS.get(op, ())
        data = [i for i, v in enumerate(ins) if v is not None and i not in host]
        if op not in ("Shape", "Size") and any(ins[i].is_cuda for i in data):
            key = node.output[0]
            ins = [self.on_device(v, (key, i)) if i in data else v for i, v in enumerate(ins)]
        fn = getattr(self, "op_" + op, None)
        if fn is None:
            raise NotImplementedError(f"operator {op} (node {node.name}) is not in torch_onnx.py")
        out = fn(ins, a)
        return out if isinstance(out, (list, tuple)) else [out]

    # -- operators ----------------------------------------------------------
    def op_Constant(self, ins, a):
        if "value" in a:
            return torch.from_numpy(numpy_helper.to_array(a["value"]).copy())
        if "value_float" in a:
            return torch.tensor(a["value_float"], dtype=torch.float32)
        if "value_floats" in a:
            return torch.tensor(a["value_floats"], dtype=torch.float32)
        if "value_int" in a:
            return torch.tensor(a["value_int"], dtype=torch.int64)
        if "value_ints" in a:
            return torch.tensor(a["value_ints"], dtype=torch.int64)
        raise NotImplementedError(f"Constant with attributes {sorted(a)}")

    def op_Identity(self, ins, a):
        return ins[0]

    def op_Add(self, ins, a):
        return ins[0] + ins[1]

    def op_Sub(self, ins, a):
        return ins[0] - ins[1]

    def op_Mul(self, ins, a):
        return ins[0] * ins[1]

    def op_Div(self, ins, a):
        x, y = ins
        if not x.is_floating_point() and not y.is_floating_point():
            return torch.div(x, y, rounding_mode="trunc")
        return x / y

    def op_Pow(self, ins, a):
        return torch.pow(ins[0], ins[1]).to(ins[0].dtype)

    def op_MatMul(self, ins, a):
        return torch.matmul(ins[0], ins[1])

    def op_Equal(self, ins, a):
        return torch.eq(ins[0], ins[1])

    def op_Not(self, ins, a):
        return torch.logical_not(ins[0])

    def op_Log(self, ins, a):
        return torch.log(ins[0])

    def op_Sqrt(self, ins, a):
        return torch.sqrt(ins[0])

    def op_Relu(self, ins, a):
        return torch.relu(ins[0])

    def op_Sigmoid(self, ins, a):
        return torch.sigmoid(ins[0])

    def op_HardSigmoid(self, ins, a):
        return torch.clamp(a.get("alpha", 0.2) * ins[0] + a.get("beta", 0.5), 0.0, 1.0)

    def op_Clip(self, ins, a):
        x = ins[0]
        if self.opset < 11:
            lo, hi = a.get("min"), a.get("max")
        else:
            # Bounds may be computed on the GPU (oww: the ReduceMax of the
            # input minus 80): tensors go to torch.clamp as they are.
            lo = ins[1] if len(ins) > 1 else None
            hi = ins[2] if len(ins) > 2 else None
        if lo is None and hi is None:
            return x
        return torch.clamp(x, min=lo, max=hi)

    def op_Cast(self, ins, a):
        return ins[0].to(torch_dtype(a["to"]))

    def op_Transpose(self, ins, a):
        x = ins[0]
        perm = a.get("perm", list(range(x.dim()))[::-1])
        return x.permute(*perm)

    def _axes(self, ins, a, index):
        if "axes" in a:
            return list(a["axes"])
        if len(ins) > index and ins[index] is not None:
            return [int(v) for v in host_list(ins[index])]
        return None

    def op_Unsqueeze(self, ins, a):
        x = ins[0]
        axes = self._axes(ins, a, 1)
        rank = x.dim() + len(axes)
        for ax in sorted(ax % rank for ax in axes):
            x = x.unsqueeze(ax)
        return x

    def op_Squeeze(self, ins, a):
        x = ins[0]
        axes = self._axes(ins, a, 1)
        if axes is None:
            return x.reshape([d for d in x.shape if d != 1])
        axes = {ax % x.dim() for ax in axes}
        return x.reshape([d for i, d in enumerate(x.shape) if i not in axes])

    def op_Reshape(self, ins, a):
        x = ins[0]
        shape = [int(v) for v in host_list(ins[1])]
        if not a.get("allowzero", 0):
            shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
        return x.reshape(shape)

    def op_Shape(self, ins, a):
        dims = list(ins[0].shape)
        start, end = a.get("start", 0), a.get("end", len(dims))
        return torch.tensor(dims[start:end], dtype=torch.int64)

    def op_Size(self, ins, a):
        return torch.tensor(ins[0].numel(), dtype=torch.int64)

    def op_Gather(self, ins, a):
        x, idx = ins
        axis = a.get("axis", 0) % x.dim()
        idx = torch.where(idx < 0, idx + x.shape[axis], idx)
        flat = torch.index_select(x, axis, idx.reshape(-1))
        return flat.reshape(list(x.shape[:axis]) + list(idx.shape) + list(x.shape[axis + 1:]))

    def op_Concat(self, ins, a):
        return torch.cat([v for v in ins if v is not None], dim=a["axis"])

    def op_ConstantOfShape(self, ins, a):
        shape = [int(v) for v in host_list(ins[0])]
        if "value" in a:
            value = numpy_helper.to_array(a["value"]).reshape(-1)
            return torch.full(shape, value[0].item(), dtype=torch.from_numpy(value.copy()).dtype)
        return torch.zeros(shape, dtype=torch.float32)

    def op_Slice(self, ins, a):
        x = ins[0]
        starts = [int(v) for v in host_list(ins[1])]
        ends = [int(v) for v in host_list(ins[2])]
        axes = ([int(v) for v in host_list(ins[3])] if len(ins) > 3 and ins[3] is not None
                else list(range(len(starts))))
        steps = ([int(v) for v in host_list(ins[4])] if len(ins) > 4 and ins[4] is not None
                 else [1] * len(starts))
        for start, end, axis, step in zip(starts, ends, axes, steps):
            x = slice_axis(x, axis % x.dim(), start, end, step)
        return x

    def op_Pad(self, ins, a):
        x = ins[0]
        mode = a.get("mode", "constant")
        pads = [int(v) for v in host_list(ins[1])] if self.opset >= 11 else list(a["pads"])
        value = 0.0
        if len(ins) > 2 and ins[2] is not None and ins[2].numel() > 0:
            value = host_list(ins[2])[0]
        rank = x.dim()
        begin, end = pads[:rank], pads[rank:]
        k = max([0] + [rank - d for d in range(rank) if begin[d] or end[d]])  # padded trailing dims
        if k == 0:
            return x
        torch_pads = []
        for d in range(rank - 1, rank - 1 - k, -1):
            torch_pads += [begin[d], end[d]]
        if mode == "constant":
            return F.pad(x, torch_pads, mode="constant", value=value)
        # reflect/edge: torch wants a batch and a channel dim before the padded ones.
        lead = list(x.shape[:rank - k])
        y = F.pad(x.reshape([-1, 1] + list(x.shape[rank - k:])), torch_pads,
                  mode={"reflect": "reflect", "edge": "replicate"}[mode])
        return y.reshape(lead + list(y.shape[2:]))

    def op_ReduceMax(self, ins, a):
        return self._reduce(torch.amax, ins, a)

    def op_ReduceMean(self, ins, a):
        return self._reduce(torch.mean, ins, a)

    def _reduce(self, fn, ins, a):
        x = ins[0]
        axes = self._axes(ins, a, 1)
        if axes is None:
            axes = list(range(x.dim()))
        return fn(x, dim=[ax % x.dim() for ax in axes], keepdim=bool(a.get("keepdims", 1)))

    def op_GlobalAveragePool(self, ins, a):
        x = ins[0]
        return x.mean(dim=list(range(2, x.dim())), keepdim=True)

    def op_BatchNormalization(self, ins, a):
        x, scale, bias, mean, var = ins[:5]
        return F.batch_norm(x, mean, var, scale, bias, training=False,
                            eps=a.get("epsilon", 1e-5))

    def op_Conv(self, ins, a):
        x, w = ins[0], ins[1]
        b = ins[2] if len(ins) > 2 else None
        nd = w.dim() - 2
        if a.get("auto_pad", "NOTSET") not in ("NOTSET", ""):
            raise NotImplementedError("Conv auto_pad")
        pads = list(a.get("pads", [0] * 2 * nd))
        if pads[:nd] != pads[nd:]:
            torch_pads = []
            for d in range(nd - 1, -1, -1):
                torch_pads += [pads[d], pads[nd + d]]
            x = F.pad(x, torch_pads)
            pads = [0] * 2 * nd
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]
        return conv(x, w, b, stride=list(a.get("strides", [1] * nd)), padding=pads[:nd],
                    dilation=list(a.get("dilations", [1] * nd)), groups=a.get("group", 1))

    def op_ConvTranspose(self, ins, a):
        x, w = ins[0], ins[1]
        b = ins[2] if len(ins) > 2 else None
        nd = w.dim() - 2
        pads = list(a.get("pads", [0] * 2 * nd))
        if pads[:nd] != pads[nd:] or "output_shape" in a or a.get("auto_pad", "NOTSET") != "NOTSET":
            raise NotImplementedError("ConvTranspose with asymmetric pads/output_shape/auto_pad")
        conv = {1: F.conv_transpose1d, 2: F.conv_transpose2d}[nd]
        return conv(x, w, b, stride=list(a.get("strides", [1] * nd)), padding=pads[:nd],
                    output_padding=list(a.get("output_padding", [0] * nd)),
                    groups=a.get("group", 1), dilation=list(a.get("dilations", [1] * nd)))

    def op_Resize(self, ins, a):
        x = ins[0]
        if (a.get("mode", "nearest") != "nearest"
                or a.get("coordinate_transformation_mode", "half_pixel") != "asymmetric"
                or a.get("nearest_mode", "round_prefer_floor") != "floor"):
            raise NotImplementedError(f"Resize {a}")
        scales = ins[2] if len(ins) > 2 else None
        sizes = ins[3] if len(ins) > 3 else None
        if sizes is not None and sizes.numel() > 0:
            out = [int(v) for v in host_list(sizes)]
        else:
            out = [int(np.floor(d * s)) for d, s in zip(x.shape, host_list(scales))]
        if out[:2] != list(x.shape[:2]):
            raise NotImplementedError("Resize of the batch or channel dim")
        # asymmetric + floor: source index floor(dst * in / out), torch's "nearest".
        return F.interpolate(x, size=out[2:], mode="nearest")

    def op_LSTM(self, ins, a):
        x, w, r = ins[0], ins[1], ins[2]
        b = ins[3] if len(ins) > 3 else None
        seq_lens = ins[4] if len(ins) > 4 else None
        h = ins[5] if len(ins) > 5 else None
        c = ins[6] if len(ins) > 6 else None
        if (a.get("direction", "forward") != "forward" or a.get("layout", 0) != 0
                or "activations" in a or "clip" in a or a.get("input_forget", 0)):
            raise NotImplementedError(f"LSTM {sorted(a)}")
        if seq_lens is not None and seq_lens.numel() and host_list(seq_lens) != [x.shape[0]] * x.shape[1]:
            raise NotImplementedError("LSTM with ragged sequence_lens")
        hidden = a["hidden_size"]
        batch = x.shape[1]
        if h is None:
            h = torch.zeros(1, batch, hidden, device=x.device, dtype=x.dtype)
        if c is None:
            c = torch.zeros(1, batch, hidden, device=x.device, dtype=x.dtype)
        h, c = h[0], c[0]
        w_t, r_t = w[0].t(), r[0].t()
        bias = (b[0][:4 * hidden] + b[0][4 * hidden:]) if b is not None else 0
        ys = []
        for t in range(x.shape[0]):
            gates = x[t] @ w_t + h @ r_t + bias  # ONNX gate order: i, o, f, c
            i_g, o_g, f_g, c_g = gates.chunk(4, dim=1)
            c = torch.sigmoid(f_g) * c + torch.sigmoid(i_g) * torch.tanh(c_g)
            h = torch.sigmoid(o_g) * torch.tanh(c)
            ys.append(h)
        y = torch.stack(ys).unsqueeze(1)  # [seq, dirs, batch, hidden]
        return [y, h.unsqueeze(0), c.unsqueeze(0)]


def slice_axis(x, axis, start, end, step):
    """ONNX Slice along one axis (negative steps through a flip)."""
    d = x.shape[axis]
    if step == 0:
        raise ValueError("Slice step 0")
    if start < 0:
        start += d
    if end < 0:
        end += d
    if step > 0:
        start, end = min(max(start, 0), d), min(max(end, 0), d)
        index = [slice(None)] * x.dim()
        index[axis] = slice(start, end, step)
        return x[tuple(index)]
    start, end = min(max(start, 0), d - 1), min(max(end, -1), d - 1)
    if start <= end:
        index = [slice(None)] * x.dim()
        index[axis] = slice(0, 0)
        return x[tuple(index)]
    # Elements start, start+step, ... > end of x are elements d-1-start, ...
    # < d-1-end of x flipped.
    index = [slice(None)] * x.dim()
    index[axis] = slice(d - 1 - start, d - 1 - end, -step)
    return x.flip(axis)[tuple(index)]


def read_tensor(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def first_symbolic_dim(value_info):
    dims = value_info.type.tensor_type.shape.dim
    for i, d in enumerate(dims):
        if not d.HasField("dim_value"):
            return i
    return None


def load_case(case_dir, model, batch):
    """Feed (name -> numpy array, tiled to `batch`) and reference outputs."""
    initializer_names = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializer_names]
    feed = {}
    for n, info in enumerate(inputs):
        path = os.path.join(case_dir, "test_data_set_0", f"input_{n}.pb")
        if not os.path.exists(path):
            break
        arr = read_tensor(path)
        axis = first_symbolic_dim(info)
        if batch > 1 and axis is not None and arr.ndim > 0:
            if arr.shape[axis] != 1:
                raise ValueError(f"input {info.name} {arr.shape}: no 1 at batch axis {axis}")
            reps = [1] * arr.ndim
            reps[axis] = batch
            arr = np.tile(arr, reps)
        feed[info.name] = arr
    refs = []
    while os.path.exists(os.path.join(case_dir, "test_data_set_0", f"output_{len(refs)}.pb")):
        refs.append(read_tensor(os.path.join(case_dir, "test_data_set_0",
                                             f"output_{len(refs)}.pb")))
    return feed, refs


def check(outs, refs, batch):
    """'' when every output matches its (tiled) reference, else what differs."""
    problems = []
    for n, (got, ref) in enumerate(zip(outs, refs)):
        want = ref
        if got.shape != ref.shape and got.ndim == ref.ndim:
            diff = [d for d in range(ref.ndim) if got.shape[d] != ref.shape[d]]
            if len(diff) == 1 and ref.shape[diff[0]] == 1 and got.shape[diff[0]] == batch:
                reps = [1] * ref.ndim
                reps[diff[0]] = batch
                want = np.tile(ref, reps)
        if got.shape != want.shape:
            problems.append(f"output {n}: shape {got.shape} vs reference {ref.shape}")
            continue
        err = np.abs(got.astype(np.float64) - want)
        bad = ~(err <= 1e-4 + 1e-3 * np.abs(want))
        if bad.any():
            problems.append(f"output {n}: {int(bad.sum())} of {bad.size} off, max abs error "
                            f"{float(np.nanmax(err)) if err.size else 0:g}")
        else:
            print(f"#   torch output {n} {tuple(got.shape)} matches (max abs error "
                  f"{float(err.max()) if err.size else 0:g})")
    return "; ".join(problems)


def bench_case(case_dir, batch, runs, device):
    name = os.path.basename(os.path.normpath(case_dir))
    model = onnx.load(os.path.join(case_dir, "model.onnx"))
    interp = Interpreter(model, device)
    feed, refs = load_case(case_dir, model, batch)
    host_in = {k: torch.from_numpy(v.copy()) for k, v in feed.items()}
    # Scalar inputs (silero's sr) stay host values: they steer If on the host.
    static_in = {k: (v.to(device) if v.dim() > 0 else v) for k, v in host_in.items()}
    out_names = [o.name for o in model.graph.output]

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):  # eager passes: host copies cached, cuDNN tuned
            outs = interp.run_graph(model.graph, static_in)
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        outs = interp.run_graph(model.graph, static_in)
    gpu_inputs = [(static_in[k], host_in[k]) for k in host_in if static_in[k].is_cuda]

    def step():
        for dst, src in gpu_inputs:
            dst.copy_(src)
        graph.replay()
        return [o.cpu() for o in outs]

    got = step()
    wrong = check([o.numpy() for o in got], refs, batch)
    if wrong:
        print(f"# torch {name} batch {batch}: WRONG outputs: {wrong}")
    for _ in range(5):
        step()
    times = []
    start = time.perf_counter()
    for i in range(runs):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
        if i >= 10 and time.perf_counter() - start > 3:
            break
    print(f"# torch {name} batch {batch}: {len(times)} runs, min {min(times):.4f} ms, "
          f"outputs {out_names}")
    return statistics.median(times), not wrong


def main(argv):
    runs, batches, device_name, dirs = 200, [1, 32], "cuda", []
    i = 1
    while i < len(argv):
        if argv[i] == "--runs":
            runs, i = int(argv[i + 1]), i + 2
        elif argv[i] == "--batches":
            batches, i = [int(b) for b in argv[i + 1].split(",")], i + 2
        elif argv[i] == "--device":
            device_name, i = argv[i + 1], i + 2
        else:
            dirs.append(argv[i])
            i += 1
    if torch is None or not torch.cuda.is_available():
        print("# torch_onnx: torch with a CUDA GPU is needed")
        return 2
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    device = torch.device(device_name)
    print(f"# device {torch.cuda.get_device_name(device)} torch {torch.__version__} "
          f"cudnn {torch.backends.cudnn.version()}")
    failed = 0
    for case_dir in dirs:
        name = os.path.basename(os.path.normpath(case_dir))
        for batch in batches:
            try:
                ms, ok = bench_case(case_dir, batch, runs, device)
                print(f"result {name} {batch} {ms:.4f} {'ok' if ok else 'wrong'}", flush=True)
                failed += not ok
            except Exception:  # one model's failure must not hide the others
                for line in traceback.format_exc().splitlines():
                    print("# " + line)
                print(f"result {name} {batch} -1 failed", flush=True)
                failed += 1
            torch.cuda.empty_cache()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
