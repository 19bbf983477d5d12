// Recurrent layers: LSTM, GRU, RNN with every direction, sequence_lens,
// initial states, peepholes, clip, custom activations and both layouts.
//
// The input projection of all time steps is one matmul; the recurrence is
// unrolled over the (import-time known) sequence length, one small matmul
// per step, so the whole layer is part of the lazy tensor graph. Reverse
// directions with sequence_lens reverse each batch entry within its length
// (as ReverseSequence does), run forward and reverse the outputs back.
#include "absl/strings/ascii.h"
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

enum class Cell { kLstm, kGru, kRnn };

struct Activation {
  std::string name;
  float alpha = 0, beta = 0;
};

absl::StatusOr<Tensor> Apply(const OpContext& ctx, const Activation& a, const Tensor& x) {
  std::string n = absl::AsciiStrToLower(a.name);
  if (n == "sigmoid") return x.Sigmoid();
  if (n == "tanh") return x.Tanh();
  if (n == "relu") return x.Relu();
  if (n == "affine") return x.Mul(a.alpha).Add(a.beta);
  if (n == "leakyrelu") return x.Lt(0).Where(x.Mul(a.alpha), x);
  if (n == "thresholdedrelu") return x.Gt(a.alpha).Where(x, x.ZerosLike());
  if (n == "scaledtanh") return x.Mul(a.beta).Tanh().Mul(a.alpha);
  if (n == "hardsigmoid") return x.Mul(a.alpha).Add(a.beta).Maximum(0.0).Minimum(1.0);
  if (n == "elu") return x.Gt(0).Where(x, x.Exp().Sub(1).Mul(a.alpha));
  if (n == "softsign") return x.Div(x.Abs().Add(1));
  if (n == "softplus") return x.Softplus();
  return ctx.Error("unknown activation '", a.name, "'");
}

// The activations of each direction, with their alpha/beta where they take
// them (consumed in order from the attribute lists, as ONNX specifies).
absl::StatusOr<std::vector<Activation>> ReadActivations(const OpContext& ctx, Cell cell, int dirs) {
  std::vector<std::string> names = ctx.Strs("activations");
  const int per_dir = cell == Cell::kLstm ? 3 : cell == Cell::kGru ? 2 : 1;
  if (names.empty()) {
    std::vector<std::string> d = cell == Cell::kLstm
                                     ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
                                 : cell == Cell::kGru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                      : std::vector<std::string>{"Tanh"};
    for (int k = 0; k < dirs; ++k) names.insert(names.end(), d.begin(), d.end());
  }
  if (static_cast<int>(names.size()) == per_dir && dirs == 2)
    names.insert(names.end(), names.begin(), names.end());
  if (static_cast<int>(names.size()) != per_dir * dirs)
    return ctx.Error(names.size(), " activations for ", dirs, " directions of ", per_dir);
  std::vector<float> alphas = ctx.Floats("activation_alpha"), betas = ctx.Floats("activation_beta");
  size_t ai = 0, bi = 0;
  std::vector<Activation> out;
  for (const std::string& n : names) {
    Activation a{n};
    std::string l = absl::AsciiStrToLower(n);
    const bool takes_alpha = l == "affine" || l == "leakyrelu" || l == "thresholdedrelu" ||
                             l == "scaledtanh" || l == "hardsigmoid" || l == "elu";
    const bool takes_beta = l == "affine" || l == "scaledtanh" || l == "hardsigmoid";
    if (takes_alpha) {
      a.alpha = ai < alphas.size()   ? alphas[ai++]
                : l == "leakyrelu"   ? 0.01f
                : l == "hardsigmoid" ? 0.2f
                                     : 1.0f;
    }
    if (takes_beta) a.beta = bi < betas.size() ? betas[bi++] : (l == "hardsigmoid" ? 0.5f : 0.0f);
    out.push_back(a);
  }
  return out;
}

// Reverses x [T, B, ...] per batch entry within its length.
Tensor ReverseWithin(const Tensor& x, const Tensor& lens) {
  const int64_t t = x.shape()[0];
  Shape ts(x.ndim(), 1), bs(x.ndim(), 1);
  ts[0] = t;
  bs[1] = x.shape()[1];
  Tensor time = Tensor::Arange(0, t, 1, DType::Int64()).Reshape(ts);
  Tensor len = lens.Cast(DType::Int64()).Reshape(bs);
  Tensor src = time.Lt(len).Where(len.Sub(1).Sub(time), time).Expand(x.shape());
  return x.Gather(0, src);
}

template <Cell kCell>
absl::Status Recurrent(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor w, ctx.Input(1));
  ASSIGN_OR_RETURN(Tensor r, ctx.Input(2));
  ASSIGN_OR_RETURN(std::optional<Tensor> b, ctx.OptInput(3));
  ASSIGN_OR_RETURN(std::optional<Tensor> lens, ctx.OptInput(4));
  ASSIGN_OR_RETURN(std::optional<Tensor> h0, ctx.OptInput(5));
  std::optional<Tensor> c0, peep;
  if (kCell == Cell::kLstm) {
    ASSIGN_OR_RETURN(c0, ctx.OptInput(6));
    ASSIGN_OR_RETURN(peep, ctx.OptInput(7));
  }
  const int gates = kCell == Cell::kLstm ? 4 : kCell == Cell::kGru ? 3 : 1;
  const std::string direction = ctx.Str("direction", "forward");
  const int dirs = direction == "bidirectional" ? 2 : 1;
  if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
    return ctx.Error("unknown direction '", direction, "'");
  const bool batch_first = ctx.Int("layout", 0) != 0;
  if (x.ndim() != 3 || w.ndim() != 3 || r.ndim() != 3)
    return ctx.Error("X, W and R must be 3-D, got ", ShapeToString(x.shape()), ", ",
                     ShapeToString(w.shape()), ", ", ShapeToString(r.shape()));
  if (batch_first) {
    x = x.Permute({1, 0, 2});
    if (h0) h0 = h0->Permute({1, 0, 2});
    if (c0) c0 = c0->Permute({1, 0, 2});
  }
  const int64_t steps = x.shape()[0], batch = x.shape()[1];
  const int64_t hidden = ctx.HasAttr("hidden_size") ? ctx.Int("hidden_size", 0) : r.shape()[2];
  if (w.shape()[0] != dirs || w.shape()[1] != gates * hidden ||
      r.shape() != Shape{dirs, gates * hidden, hidden})
    return ctx.Error("W ", ShapeToString(w.shape()), " / R ", ShapeToString(r.shape()),
                     " do not match ", dirs, " directions of ", gates, " gates x hidden ", hidden);
  ASSIGN_OR_RETURN(std::vector<Activation> acts, ReadActivations(ctx, kCell, dirs));
  const float clip = ctx.Float("clip", 0.0f);
  const bool linear_before_reset = ctx.Int("linear_before_reset", 0) != 0;
  const bool couple = ctx.Int("input_forget", 0) != 0;
  const DType d = x.dtype();

  std::vector<Tensor> ys, hs, cs;
  for (int dir = 0; dir < dirs; ++dir) {
    const bool reverse = direction == "reverse" || dir == 1;
    Tensor wd = w.Select(0, dir), rd = r.Select(0, dir);
    Tensor xs = x;
    if (reverse) xs = lens ? ReverseWithin(x, *lens) : x.Flip({0});
    // All steps' input projections at once: [T, B, gates * H].
    Tensor xw = xs.Matmul(wd.T());
    Tensor wb = Tensor::Zeros({gates * hidden}, d), rb = Tensor::Zeros({gates * hidden}, d);
    if (b) {
      Tensor bd = b->Select(0, dir);
      wb = bd.Slice(0, 0, gates * hidden);
      rb = bd.Slice(0, gates * hidden, 2 * gates * hidden);
    }
    if (kCell != Cell::kGru)
      xw = xw.Add(wb.Add(rb));
    else
      xw = xw.Add(wb);
    Tensor h = h0 ? h0->Select(0, dir) : Tensor::Zeros({batch, hidden}, d);
    Tensor c = c0 ? c0->Select(0, dir) : Tensor::Zeros({batch, hidden}, d);
    const Activation* a = &acts[dir * (kCell == Cell::kLstm ? 3 : kCell == Cell::kGru ? 2 : 1)];
    Tensor len_col;
    if (lens) len_col = lens->Cast(DType::Int64()).Reshape({batch, 1});
    std::vector<Tensor> outs;
    auto gate = [&](const Tensor& g, int k) { return g.Slice(1, k * hidden, (k + 1) * hidden); };
    auto clipped = [&](const Tensor& g) { return clip > 0 ? g.Clip(-clip, clip) : g; };
    for (int64_t t = 0; t < steps; ++t) {
      Tensor xt = xw.Select(0, t);
      Tensor hn, cn = c;
      if (kCell == Cell::kLstm) {
        Tensor g = xt.Add(h.Matmul(rd.T()));
        Tensor gi = gate(g, 0), go = gate(g, 1), gf = gate(g, 2), gc = gate(g, 3);
        if (peep) {
          Tensor p = peep->Select(0, dir);
          gi = gi.Add(c.Mul(p.Slice(0, 0, hidden)));
          gf = gf.Add(c.Mul(p.Slice(0, 2 * hidden, 3 * hidden)));
        }
        ASSIGN_OR_RETURN(Tensor i, Apply(ctx, a[0], clipped(gi)));
        ASSIGN_OR_RETURN(Tensor f, Apply(ctx, a[0], clipped(gf)));
        if (couple) f = i.Neg().Add(1);
        ASSIGN_OR_RETURN(Tensor cand, Apply(ctx, a[1], clipped(gc)));
        cn = f.Mul(c).Add(i.Mul(cand));
        if (peep) go = go.Add(cn.Mul(peep->Select(0, dir).Slice(0, hidden, 2 * hidden)));
        ASSIGN_OR_RETURN(Tensor o, Apply(ctx, a[0], clipped(go)));
        ASSIGN_OR_RETURN(Tensor hc, Apply(ctx, a[2], cn));
        hn = o.Mul(hc);
      } else if (kCell == Cell::kGru) {
        Tensor hr = h.Matmul(rd.T());  // [B, 3H]: z, r, h parts of H R^T
        Tensor rbz = rb.Slice(0, 0, hidden), rbr = rb.Slice(0, hidden, 2 * hidden),
               rbh = rb.Slice(0, 2 * hidden, 3 * hidden);
        ASSIGN_OR_RETURN(Tensor z,
                         Apply(ctx, a[0], clipped(gate(xt, 0).Add(gate(hr, 0)).Add(rbz))));
        ASSIGN_OR_RETURN(Tensor rr,
                         Apply(ctx, a[0], clipped(gate(xt, 1).Add(gate(hr, 1)).Add(rbr))));
        Tensor hpart;
        if (linear_before_reset) {
          hpart = rr.Mul(gate(hr, 2).Add(rbh));
        } else {
          Tensor rh = rd.Slice(0, 2 * hidden, 3 * hidden);  // [H, H]
          hpart = rr.Mul(h).Matmul(rh.T()).Add(rbh);
        }
        ASSIGN_OR_RETURN(Tensor cand, Apply(ctx, a[1], clipped(gate(xt, 2).Add(hpart))));
        hn = z.Neg().Add(1).Mul(cand).Add(z.Mul(h));
      } else {
        ASSIGN_OR_RETURN(hn, Apply(ctx, a[0], clipped(xt.Add(h.Matmul(rd.T())))));
      }
      if (lens) {
        Tensor valid = len_col.Gt(t);
        outs.push_back(valid.Where(hn, hn.ZerosLike()));
        h = valid.Where(hn, h);
        c = valid.Where(cn, c);
      } else {
        outs.push_back(hn);
        h = hn;
        c = cn;
      }
    }
    Tensor y = steps == 0 ? Tensor::Zeros({0, batch, hidden}, d) : Tensor::Stack(outs, 0);
    if (reverse) y = lens ? ReverseWithin(y, *lens) : y.Flip({0});
    ys.push_back(y);
    hs.push_back(h);
    cs.push_back(c);
  }
  Tensor y = Tensor::Stack(ys, 1);  // [T, D, B, H]
  Tensor yh = Tensor::Stack(hs, 0), yc = Tensor::Stack(cs, 0);
  if (batch_first) {
    y = y.Permute({2, 0, 1, 3});
    yh = yh.Permute({1, 0, 2});
    yc = yc.Permute({1, 0, 2});
  }
  if (ctx.Wants(0)) ctx.Set(0, y);
  if (ctx.Wants(1)) ctx.Set(1, yh);
  if (kCell == Cell::kLstm && ctx.Wants(2)) ctx.Set(2, yc);
  return absl::OkStatus();
}

}  // namespace

void RegisterRnnOps(OpRegistry& r) {
  r.Add(kOnnxDomain, "LSTM", 1, Recurrent<Cell::kLstm>);
  r.Add(kOnnxDomain, "GRU", 1, Recurrent<Cell::kGru>);
  r.Add(kOnnxDomain, "RNN", 1, Recurrent<Cell::kRnn>);
}

}  // namespace uop::onnx_import
