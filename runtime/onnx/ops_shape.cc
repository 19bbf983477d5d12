// Shape and movement operators: Reshape, Transpose, Concat, Split, Slice,
// Squeeze/Unsqueeze, Flatten, Expand, Tile, Pad, Shape, Size, Constant,
// ConstantOfShape, Range, EyeLike, DepthToSpace/SpaceToDepth. Shapes and the
// numbers that steer them are read at import (constants), so all of these
// are free views or constants in the tensor graph.
#include <algorithm>

#include "absl/strings/str_join.h"
#include "runtime/onnx/onnx_types.h"
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

absl::Status Reshape(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  std::vector<int64_t> shape;
  if (ctx.opset() < 5) {
    shape = ctx.Ints("shape");
  } else {
    ASSIGN_OR_RETURN(shape, ctx.IntsInput(1));
  }
  const bool allowzero = ctx.Int("allowzero", 0) != 0;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allowzero) {
      if (i >= x.shape().size())
        return ctx.Error("shape ", ShapeToString(shape), " copies axis ", i, " of ",
                         ShapeToString(x.shape()), " which it lacks");
      shape[i] = x.shape()[i];
    }
  }
  ctx.Set(0, x.Reshape(shape));
  return absl::OkStatus();
}

absl::Status Transpose(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  std::vector<int64_t> perm = ctx.Ints("perm");
  if (perm.empty())
    for (int64_t i = x.ndim() - 1; i >= 0; --i) perm.push_back(i);
  ctx.Set(0, x.Permute(perm));
  return absl::OkStatus();
}

absl::Status Concat(OpContext& ctx) {
  std::vector<Tensor> xs;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    ASSIGN_OR_RETURN(Tensor x, ctx.Input(i));
    xs.push_back(x);
  }
  if (xs.empty()) return ctx.Error("needs at least one input");
  ASSIGN_OR_RETURN(int64_t axis,
                   NormAxis(ctx, ctx.Int("axis", ctx.opset() < 4 ? 1 : 0), xs[0].ndim()));
  // Empty pieces (a common way to start a concatenation) add nothing.
  std::vector<Tensor> parts;
  for (const Tensor& x : xs)
    if (x.numel() != 0) parts.push_back(x);
  if (parts.empty()) parts = xs;
  ctx.Set(0, parts.size() == 1 ? parts[0] : Tensor::Cat(parts, axis));
  return absl::OkStatus();
}

absl::Status Split(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(int64_t axis, NormAxis(ctx, ctx.Int("axis", 0), x.ndim()));
  const int64_t n = x.shape()[axis];
  std::vector<int64_t> sizes;
  if (ctx.opset() >= 13 && ctx.Has(1)) {
    ASSIGN_OR_RETURN(sizes, ctx.IntsInput(1));
  } else if (ctx.opset() < 13) {
    sizes = ctx.Ints("split");
  }
  if (sizes.empty()) {
    int64_t parts = ctx.HasAttr("num_outputs") ? ctx.Int("num_outputs", 1) : ctx.num_outputs();
    if (parts <= 0 || parts != ctx.num_outputs())
      return ctx.Error("num_outputs ", parts, " for a node with ", ctx.num_outputs(), " outputs");
    const int64_t chunk = (n + parts - 1) / parts;
    for (int64_t k = 0, left = n; k < parts; ++k) {
      sizes.push_back(std::min(chunk, left));
      left -= sizes.back();
    }
  }
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  if (total != n)
    return ctx.Error("split sizes [", absl::StrJoin(sizes, ", "), "] do not add up to ", n);
  if (static_cast<int>(sizes.size()) != ctx.num_outputs())
    return ctx.Error(sizes.size(), " split sizes for ", ctx.num_outputs(), " outputs");
  std::vector<Tensor> parts = x.Split(sizes, axis);
  for (size_t i = 0; i < parts.size(); ++i) ctx.Set(static_cast<int>(i), parts[i]);
  return absl::OkStatus();
}

absl::Status Slice(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.opset() < 10) {
    starts = ctx.Ints("starts");
    ends = ctx.Ints("ends");
    axes = ctx.Ints("axes");
  } else {
    ASSIGN_OR_RETURN(starts, ctx.IntsInput(1));
    ASSIGN_OR_RETURN(ends, ctx.IntsInput(2));
    if (ctx.Has(3)) {
      ASSIGN_OR_RETURN(axes, ctx.IntsInput(3));
    }
    if (ctx.Has(4)) {
      ASSIGN_OR_RETURN(steps, ctx.IntsInput(4));
    }
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return ctx.Error("starts, ends, axes and steps differ in length");
  ASSIGN_OR_RETURN(axes, NormAxes(ctx, axes, x.ndim()));
  std::vector<SliceSpec> specs(x.ndim());
  for (size_t i = 0; i < axes.size(); ++i) {
    if (steps[i] == 0) return ctx.Error("step 0 on axis ", axes[i]);
    specs[axes[i]] = SliceSpec{starts[i], ends[i], steps[i]};
  }
  ctx.Set(0, x.Slice(specs));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> AxesFromAttrOrInput(OpContext& ctx, int since_input) {
  if (ctx.opset() >= since_input) {
    if (!ctx.Has(1)) return std::vector<int64_t>{};
    return ctx.IntsInput(1);
  }
  return ctx.Ints("axes");
}

absl::Status Squeeze(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> axes, AxesFromAttrOrInput(ctx, 13));
  if (axes.empty()) {
    ctx.Set(0, x.Squeeze());
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(axes, NormAxes(ctx, axes, x.ndim()));
  ctx.Set(0, x.Squeeze(axes));
  return absl::OkStatus();
}

absl::Status Unsqueeze(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> axes, AxesFromAttrOrInput(ctx, 13));
  const int64_t rank = x.ndim() + static_cast<int64_t>(axes.size());
  ASSIGN_OR_RETURN(axes, NormAxes(ctx, axes, rank));
  std::sort(axes.begin(), axes.end());
  Shape out;
  for (int64_t k = 0, src = 0; k < rank; ++k) {
    if (std::binary_search(axes.begin(), axes.end(), k)) {
      out.push_back(1);
    } else {
      out.push_back(x.shape()[src++]);
    }
  }
  ctx.Set(0, x.Reshape(out));
  return absl::OkStatus();
}

absl::Status Flatten(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  int64_t axis = ctx.Int("axis", 1);
  if (axis < 0) axis += x.ndim();
  if (axis < 0 || axis > x.ndim())
    return ctx.Error("axis ", ctx.Int("axis", 1), " is out of range for rank ", x.ndim());
  int64_t outer = 1;
  for (int64_t k = 0; k < axis; ++k) outer *= x.shape()[k];
  int64_t inner = 1;
  for (int64_t k = axis; k < x.ndim(); ++k) inner *= x.shape()[k];
  ctx.Set(0, x.Reshape({outer, inner}));
  return absl::OkStatus();
}

absl::Status Expand(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> shape, ctx.IntsInput(1));
  // Bidirectional broadcasting: dims of 1 in `shape` keep x's size.
  ASSIGN_OR_RETURN(Shape out, BroadcastShape(ctx, {x.shape(), shape}));
  ctx.Set(0, x.Expand(out));
  return absl::OkStatus();
}

absl::Status Tile(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> repeats, ctx.IntsInput(1));
  if (static_cast<int64_t>(repeats.size()) != x.ndim())
    return ctx.Error(repeats.size(), " repeats for rank ", x.ndim());
  for (int64_t r : repeats)
    if (r < 0) return ctx.Error("negative repeat ", r);
  ctx.Set(0, x.Repeat(repeats));
  return absl::OkStatus();
}

absl::Status Pad(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  const std::string mode_name = ctx.Str("mode", "constant");
  PadMode mode;
  if (mode_name == "constant")
    mode = PadMode::kConstant;
  else if (mode_name == "reflect")
    mode = PadMode::kReflect;
  else if (mode_name == "edge")
    mode = PadMode::kEdge;
  else if (mode_name == "wrap")
    mode = PadMode::kWrap;
  else
    return ctx.Error("unknown mode '", mode_name, "'");
  std::vector<int64_t> pads;
  double value = 0;
  std::vector<int64_t> axes;
  if (ctx.opset() < 11) {
    pads = ctx.Ints(ctx.opset() < 2 ? "paddings" : "pads");
    value = ctx.Float("value", 0.0f);
  } else {
    ASSIGN_OR_RETURN(pads, ctx.IntsInput(1));
    if (ctx.Has(2)) {
      ASSIGN_OR_RETURN(std::vector<double> v, ctx.DoublesInput(2));
      if (!v.empty()) value = v[0];
    }
    if (ctx.Has(3)) {
      ASSIGN_OR_RETURN(axes, ctx.IntsInput(3));
    }
  }
  if (axes.empty())
    for (int64_t k = 0; k < x.ndim(); ++k) axes.push_back(k);
  ASSIGN_OR_RETURN(axes, NormAxes(ctx, axes, x.ndim()));
  if (pads.size() != 2 * axes.size())
    return ctx.Error(pads.size(), " pads for ", axes.size(), " axes (need 2 per axis)");
  PairList pairs(x.ndim(), {0, 0});
  const size_t n = axes.size();
  for (size_t i = 0; i < n; ++i) pairs[axes[i]] = {pads[i], pads[i + n]};
  Number fill = x.dtype().is_float() ? Number(value) : Number(static_cast<int64_t>(value));
  ctx.Set(0, x.Pad(pairs, fill, mode));
  return absl::OkStatus();
}

absl::Status ShapeOp(OpContext& ctx) {
  const Value& in = ctx.In(0);
  if (!in.present()) return ctx.Error("input 0 is required");
  const Shape& s = in.shape();
  const int64_t rank = static_cast<int64_t>(s.size());
  int64_t start = ctx.Int("start", 0), end = ctx.Int("end", rank);
  if (start < 0) start += rank;
  if (end < 0) end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  std::vector<int64_t> dims;
  for (int64_t k = start; k < end; ++k) dims.push_back(s[k]);
  ctx.Set(0, HostConstantOf<int64_t>(dims, {static_cast<int64_t>(dims.size())}));
  return absl::OkStatus();
}

absl::Status Size(OpContext& ctx) {
  const Value& in = ctx.In(0);
  if (!in.present()) return ctx.Error("input 0 is required");
  int64_t n = 1;
  for (int64_t d : in.shape()) n *= d;
  ctx.Set(0, HostConstantOf<int64_t>({n}, {}));
  return absl::OkStatus();
}

absl::Status Constant(OpContext& ctx) {
  const Node& node = ctx.node();
  if (node.attrs.size() != 1) return ctx.Error("needs exactly one value attribute");
  const Attribute& a = node.attrs[0];
  if (a.name == "value" || a.name == "sparse_value") {
    if (!a.t) return ctx.Error("attribute '", a.name, "' holds no tensor");
    ctx.Set(0, ctx.eval().ConstantValue(a.t));
  } else if (a.name == "value_float") {
    ctx.Set(0, HostConstantOf<float>({a.f}, {}));
  } else if (a.name == "value_floats") {
    ctx.Set(0, HostConstantOf<float>(a.floats, {static_cast<int64_t>(a.floats.size())}));
  } else if (a.name == "value_int") {
    ctx.Set(0, HostConstantOf<int64_t>({a.i}, {}));
  } else if (a.name == "value_ints") {
    ctx.Set(0, HostConstantOf<int64_t>(a.ints, {static_cast<int64_t>(a.ints.size())}));
  } else if (a.name == "value_string") {
    ctx.Set(0, HostConstant(HostTensor::Strings({a.s}, {})));
  } else if (a.name == "value_strings") {
    ctx.Set(0,
            HostConstant(HostTensor::Strings(a.strings, {static_cast<int64_t>(a.strings.size())})));
  } else {
    return ctx.Error("unknown value attribute '", a.name, "'");
  }
  return absl::OkStatus();
}

absl::Status ConstantOfShape(OpContext& ctx) {
  ASSIGN_OR_RETURN(std::vector<int64_t> shape, ctx.IntsInput(0));
  for (int64_t d : shape)
    if (d < 0) return ctx.Error("negative dimension in ", ShapeToString(shape));
  DType dtype = DType::Float32();
  Number v = 0.0;
  if (const Attribute* a = ctx.Attr("value")) {
    if (!a->t || a->t->is_string || a->t->numel() != 1)
      return ctx.Error("'value' must be a one-element numeric tensor");
    dtype = a->t->dtype;
    v = dtype.is_float() ? Number(a->t->AsDouble(0)) : Number(a->t->AsInt(0));
  }
  ctx.Set(0, Value::FromTensor(Tensor::Full(shape, v, dtype), true));
  return absl::OkStatus();
}

absl::Status Range(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor start_t, ctx.Input(0));
  const DType d = start_t.dtype();
  ASSIGN_OR_RETURN(double start, ctx.DoubleInput(0));
  ASSIGN_OR_RETURN(double limit, ctx.DoubleInput(1));
  ASSIGN_OR_RETURN(double delta, ctx.DoubleInput(2));
  if (delta == 0) return ctx.Error("delta is 0");
  const int64_t n = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((limit - start) / delta)));
  if (d.is_float()) {
    ctx.Set(0, Tensor::Arange(0, n, 1, DType::Float64()).Mul(delta).Add(start).Cast(d));
  } else {
    ASSIGN_OR_RETURN(int64_t s, ctx.IntInput(0));
    ASSIGN_OR_RETURN(int64_t dl, ctx.IntInput(2));
    ctx.Set(0, Tensor::Arange(0, n, 1, DType::Int64()).Mul(dl).Add(s).Cast(d));
  }
  return absl::OkStatus();
}

absl::Status EyeLike(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  if (x.ndim() != 2) return ctx.Error("input must be 2-D, got ", ShapeToString(x.shape()));
  DType d = x.dtype();
  if (ctx.HasAttr("dtype")) {
    ASSIGN_OR_RETURN(d, DTypeFromOnnx(static_cast<int32_t>(ctx.Int("dtype", 1))));
  }
  const int64_t k = ctx.Int("k", 0), rows = x.shape()[0], cols = x.shape()[1];
  Tensor r = Tensor::Arange(0, rows, 1, DType::Int64()).Reshape({rows, 1});
  Tensor c = Tensor::Arange(0, cols, 1, DType::Int64()).Reshape({1, cols});
  ctx.Set(0, Value::FromTensor(c.Sub(r).Eq(k).Cast(d), true));
  return absl::OkStatus();
}

absl::Status DepthToSpace(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(int64_t b, ctx.RequiredInt("blocksize"));
  if (x.ndim() != 4 || b <= 0 || x.shape()[1] % (b * b) != 0)
    return ctx.Error("needs NCHW input with C divisible by blocksize^2, got ",
                     ShapeToString(x.shape()), " and blocksize ", b);
  const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  const bool crd = ctx.Str("mode", "DCR") == "CRD";
  Tensor y = crd ? x.Reshape({n, c / (b * b), b, b, h, w}).Permute({0, 1, 4, 2, 5, 3})
                 : x.Reshape({n, b, b, c / (b * b), h, w}).Permute({0, 3, 4, 1, 5, 2});
  ctx.Set(0, y.Reshape({n, c / (b * b), h * b, w * b}));
  return absl::OkStatus();
}

absl::Status SpaceToDepth(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(int64_t b, ctx.RequiredInt("blocksize"));
  if (x.ndim() != 4 || b <= 0 || x.shape()[2] % b != 0 || x.shape()[3] % b != 0)
    return ctx.Error("needs NCHW input with H and W divisible by blocksize, got ",
                     ShapeToString(x.shape()), " and blocksize ", b);
  const int64_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  Tensor y = x.Reshape({n, c, h / b, b, w / b, b}).Permute({0, 3, 5, 1, 2, 4});
  ctx.Set(0, y.Reshape({n, c * b * b, h / b, w / b}));
  return absl::OkStatus();
}

absl::Status CenterCropPad(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(std::vector<int64_t> target, ctx.IntsInput(1));
  std::vector<int64_t> axes = ctx.Ints("axes");
  if (axes.empty())
    for (int64_t a = 0; a < x.ndim(); ++a) axes.push_back(a);
  ASSIGN_OR_RETURN(axes, NormAxes(ctx, axes, x.ndim()));
  if (target.size() != axes.size())
    return ctx.Error(target.size(), " sizes for ", axes.size(), " axes");
  PairList pads(x.ndim(), {0, 0});
  for (size_t i = 0; i < axes.size(); ++i) {
    if (target[i] < 0) return ctx.Error("negative size ", target[i]);
    const int64_t d = x.shape()[axes[i]], diff = target[i] - d;
    // Grow: the extra half goes after; shrink: the extra half is cut before.
    pads[axes[i]] = diff >= 0 ? std::pair{diff / 2, diff - diff / 2}
                              : std::pair{-((-diff) / 2), -((-diff) - (-diff) / 2)};
  }
  ctx.Set(0, x.Pad(pads));
  return absl::OkStatus();
}

}  // namespace

void RegisterShapeOps(OpRegistry& r) {
  auto add = [&](const char* name, int since, OpFn fn) { r.Add(kOnnxDomain, name, since, fn); };
  add("Reshape", 1, Reshape);
  add("Transpose", 1, Transpose);
  add("Concat", 1, Concat);
  add("Split", 1, Split);
  add("Slice", 1, Slice);
  add("Squeeze", 1, Squeeze);
  add("Unsqueeze", 1, Unsqueeze);
  add("Flatten", 1, Flatten);
  add("Expand", 8, Expand);
  add("Tile", 6, Tile);
  add("Pad", 1, Pad);
  add("Shape", 1, ShapeOp);
  add("Size", 1, Size);
  add("Constant", 1, Constant);
  add("ConstantOfShape", 9, ConstantOfShape);
  add("Range", 11, Range);
  add("EyeLike", 9, EyeLike);
  add("DepthToSpace", 1, DepthToSpace);
  add("SpaceToDepth", 1, SpaceToDepth);
  add("CenterCropPad", 18, CenterCropPad);
}

}  // namespace uop::onnx_import
