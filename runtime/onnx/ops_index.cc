// Indexing: Gather, GatherElements, GatherND, Scatter/ScatterElements,
// ScatterND, OneHot, Trilu, CumSum, ReverseSequence. Index tensors stay data
// (they may be runtime values); only constant indices are read at import, to
// turn a Gather into free slices.
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

// Indices wrapped into [0, n) when negative (int64).
Tensor WrapIndex(const Tensor& index, int64_t n) {
  Tensor i = index.Cast(DType::Int64());
  return i.Lt(0).Where(i.Add(n), i);
}

absl::Status Gather(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor index, ctx.Input(1));
  ASSIGN_OR_RETURN(int64_t axis, NormAxis(ctx, ctx.Int("axis", 0), x.ndim()));
  if (x.ndim() == 0) return ctx.Error("cannot gather from a scalar");
  const int64_t n = x.shape()[axis];
  // Constant indices: slices of x (free views) instead of a one-hot reduce.
  if (ctx.In(1).is_const() && index.numel() <= 64) {
    ASSIGN_OR_RETURN(std::vector<int64_t> idx, ctx.IntsInput(1));
    std::vector<Tensor> rows;
    for (int64_t i : idx) {
      if (i < -n || i >= n) return ctx.Error("index ", i, " is out of range for axis of size ", n);
      if (i < 0) i += n;
      rows.push_back(x.Slice(axis, i, i + 1));
    }
    Shape out(x.shape().begin(), x.shape().begin() + axis);
    out.insert(out.end(), index.shape().begin(), index.shape().end());
    out.insert(out.end(), x.shape().begin() + axis + 1, x.shape().end());
    Tensor y = rows.empty()       ? Tensor::Zeros(out, x.dtype())
               : rows.size() == 1 ? rows[0]
                                  : Tensor::Cat(rows, axis);
    ctx.Set(0, y.Reshape(out));
    return absl::OkStatus();
  }
  ctx.Set(0, x.Take(axis, WrapIndex(index, n)));
  return absl::OkStatus();
}

absl::Status GatherElements(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor index, ctx.Input(1));
  ASSIGN_OR_RETURN(int64_t axis, NormAxis(ctx, ctx.Int("axis", 0), x.ndim()));
  ctx.Set(0, x.Gather(axis, WrapIndex(index, x.shape()[axis])));
  return absl::OkStatus();
}

// Flat row numbers of GatherND/ScatterND: data viewed as (rows, *rest) with
// rows = prod(batch dims) * prod(the k indexed dims).
struct NdIndex {
  Tensor rows;       // int64, shape indices.shape[:-1]
  int64_t num_rows;  // data rows
  Shape rest;        // data.shape[batch + k:]
};

absl::StatusOr<NdIndex> FlatNdIndex(const OpContext& ctx, const Tensor& data, const Tensor& index,
                                    int64_t batch_dims) {
  const int64_t r = data.ndim(), q = index.ndim();
  if (q < 1 || batch_dims < 0 || batch_dims >= std::min(r, q))
    return ctx.Error("batch_dims ", batch_dims, " for data ", ShapeToString(data.shape()),
                     " and indices ", ShapeToString(index.shape()));
  const int64_t k = index.shape()[q - 1];
  if (k < 1 || batch_dims + k > r)
    return ctx.Error("indices ", ShapeToString(index.shape()), " index more axes than data ",
                     ShapeToString(data.shape()), " has");
  for (int64_t b = 0; b < batch_dims; ++b)
    if (index.shape()[b] != data.shape()[b])
      return ctx.Error("batch dimensions of ", ShapeToString(index.shape()), " and ",
                       ShapeToString(data.shape()), " differ");
  Tensor idx = index.Cast(DType::Int64());
  Tensor flat =
      Tensor::Zeros(Shape(index.shape().begin(), index.shape().end() - 1), DType::Int64());
  int64_t stride = 1;
  for (int64_t j = k - 1; j >= 0; --j) {
    const int64_t n = data.shape()[batch_dims + j];
    Tensor ij = WrapIndex(idx.Slice(q - 1, j, j + 1).Squeeze({q - 1}), n);
    flat = flat.Add(ij.Mul(stride));
    stride *= n;
  }
  // Batch offsets: the batch position times the rows of one batch.
  int64_t batch_rows = stride;
  for (int64_t b = batch_dims - 1; b >= 0; --b) {
    Shape s(q - 1, 1);
    s[b] = data.shape()[b];
    flat =
        flat.Add(Tensor::Arange(0, data.shape()[b], 1, DType::Int64()).Mul(batch_rows).Reshape(s));
    batch_rows *= data.shape()[b];
  }
  NdIndex out;
  out.rows = flat;
  out.num_rows = batch_rows;
  out.rest.assign(data.shape().begin() + batch_dims + k, data.shape().end());
  return out;
}

absl::Status GatherND(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor index, ctx.Input(1));
  ASSIGN_OR_RETURN(NdIndex nd, FlatNdIndex(ctx, x, index, ctx.Int("batch_dims", 0)));
  Shape flat_shape = {nd.num_rows};
  flat_shape.insert(flat_shape.end(), nd.rest.begin(), nd.rest.end());
  ctx.Set(0, x.Reshape(flat_shape).Take(0, nd.rows));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<ScatterReduction>> ReadReduction(const OpContext& ctx) {
  const std::string r = ctx.Str("reduction", "none");
  if (r == "none") return std::optional<ScatterReduction>();
  if (r == "add") return std::optional<ScatterReduction>(ScatterReduction::kSum);
  if (r == "mul") return std::optional<ScatterReduction>(ScatterReduction::kProd);
  if (r == "max") return std::optional<ScatterReduction>(ScatterReduction::kAmax);
  if (r == "min") return std::optional<ScatterReduction>(ScatterReduction::kAmin);
  return ctx.Error("unknown reduction '", r, "'");
}

absl::Status ScatterElements(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor index, ctx.Input(1));
  ASSIGN_OR_RETURN(Tensor updates, ctx.Input(2));
  ASSIGN_OR_RETURN(int64_t axis, NormAxis(ctx, ctx.Int("axis", 0), x.ndim()));
  ASSIGN_OR_RETURN(std::optional<ScatterReduction> red, ReadReduction(ctx));
  Tensor idx = WrapIndex(index, x.shape()[axis]);
  Tensor src = updates.Cast(x.dtype());
  ctx.Set(0, red ? x.ScatterReduce(axis, idx, src, *red, true) : x.Scatter(axis, idx, src));
  return absl::OkStatus();
}

absl::Status ScatterND(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor index, ctx.Input(1));
  ASSIGN_OR_RETURN(Tensor updates, ctx.Input(2));
  ASSIGN_OR_RETURN(std::optional<ScatterReduction> red, ReadReduction(ctx));
  ASSIGN_OR_RETURN(NdIndex nd, FlatNdIndex(ctx, x, index, 0));
  const int64_t m = nd.rows.numel();
  int64_t rest = 1;
  for (int64_t d : nd.rest) rest *= d;
  Shape expected = nd.rows.shape();
  expected.insert(expected.end(), nd.rest.begin(), nd.rest.end());
  if (updates.shape() != expected)
    return ctx.Error("updates ", ShapeToString(updates.shape()), " must be ",
                     ShapeToString(expected));
  Tensor flat = x.Reshape({nd.num_rows, rest});
  Tensor idx = nd.rows.Reshape({m, 1}).Expand({m, rest});
  Tensor src = updates.Reshape({m, rest}).Cast(x.dtype());
  Tensor y = red ? flat.ScatterReduce(0, idx, src, *red, true) : flat.Scatter(0, idx, src);
  ctx.Set(0, y.Reshape(x.shape()));
  return absl::OkStatus();
}

absl::Status OneHot(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor index, ctx.Input(0));
  ASSIGN_OR_RETURN(double depth_d, ctx.DoubleInput(1));
  ASSIGN_OR_RETURN(Tensor values, ctx.Input(2));
  const int64_t depth = static_cast<int64_t>(depth_d);
  if (depth < 0) return ctx.Error("depth ", depth, " is negative");
  if (values.numel() != 2) return ctx.Error("values must hold [off, on]");
  const int64_t rank = index.ndim() + 1;
  ASSIGN_OR_RETURN(int64_t axis, NormAxis(ctx, ctx.Int("axis", -1), rank));
  Tensor idx = index.Cast(DType::Int64());
  idx = idx.Lt(0).Where(idx.Add(depth), idx).Unsqueeze(axis);
  Shape s(rank, 1);
  s[axis] = depth;
  Tensor hit = Tensor::Arange(0, depth, 1, DType::Int64()).Reshape(s).Eq(idx);
  Tensor v = values.Flatten();
  ctx.Set(0, hit.Where(v.Slice(0, 1, 2).Reshape({}), v.Slice(0, 0, 1).Reshape({})));
  return absl::OkStatus();
}

absl::Status Trilu(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  int64_t k = 0;
  if (ctx.Has(1)) {
    ASSIGN_OR_RETURN(k, ctx.IntInput(1));
  }
  if (x.ndim() < 2) return ctx.Error("input must have rank >= 2, got ", ShapeToString(x.shape()));
  const int64_t rows = x.shape()[x.ndim() - 2], cols = x.shape()[x.ndim() - 1];
  Tensor r = Tensor::Arange(0, rows, 1, DType::Int64()).Reshape({rows, 1});
  Tensor c = Tensor::Arange(0, cols, 1, DType::Int64()).Reshape({1, cols});
  Tensor keep = ctx.Int("upper", 1) ? c.Sub(r).Ge(k) : c.Sub(r).Le(k);
  ctx.Set(0, keep.Where(x, x.ZerosLike()));
  return absl::OkStatus();
}

absl::Status CumSum(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(int64_t axis, ctx.IntInput(1));
  ASSIGN_OR_RETURN(axis, NormAxis(ctx, axis, x.ndim()));
  ctx.Set(0,
          x.CumSum(axis, ctx.Int("exclusive", 0) != 0, ctx.Int("reverse", 0) != 0).Cast(x.dtype()));
  return absl::OkStatus();
}

absl::Status ReverseSequence(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor lens, ctx.Input(1));
  const int64_t batch_axis = ctx.Int("batch_axis", 1), time_axis = ctx.Int("time_axis", 0);
  if (x.ndim() < 2 || (batch_axis != 0 && batch_axis != 1) || (time_axis != 0 && time_axis != 1) ||
      batch_axis == time_axis)
    return ctx.Error("batch_axis and time_axis must be 0 and 1 (either way) of a rank >= 2 input");
  const int64_t t = x.shape()[time_axis], b = x.shape()[batch_axis];
  Shape ts(x.ndim(), 1), bs(x.ndim(), 1);
  ts[time_axis] = t;
  bs[batch_axis] = b;
  Tensor time = Tensor::Arange(0, t, 1, DType::Int64()).Reshape(ts);
  Tensor len = lens.Cast(DType::Int64()).Reshape(bs);
  Tensor src = time.Lt(len).Where(len.Sub(1).Sub(time), time).Expand(x.shape());
  ctx.Set(0, x.Gather(time_axis, src));
  return absl::OkStatus();
}

}  // namespace

void RegisterIndexOps(OpRegistry& r) {
  auto add = [&](const char* name, int since, OpFn fn) { r.Add(kOnnxDomain, name, since, fn); };
  add("Gather", 1, Gather);
  add("GatherElements", 11, GatherElements);
  add("GatherND", 11, GatherND);
  add("Scatter", 9, ScatterElements);
  add("ScatterElements", 11, ScatterElements);
  add("ScatterND", 11, ScatterND);
  add("OneHot", 9, OneHot);
  add("Trilu", 14, Trilu);
  add("CumSum", 11, CumSum);
  add("ReverseSequence", 10, ReverseSequence);
}

}  // namespace uop::onnx_import
