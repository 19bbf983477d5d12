// Linear algebra: Einsum (any equation, ellipsis, diagonals, implicit
// output) and Det (batched, by Gaussian elimination with partial pivoting
// unrolled over the matrix size).
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

// Einsum labels: letters as themselves, -1 for an ellipsis while parsing;
// ellipsis dims become 256 + k, k counting positions of a right-aligned block
// as wide as the widest ellipsis, so they broadcast across operands.
using Labels = std::vector<int>;
constexpr int kEllipsisBase = 256;

absl::StatusOr<Labels> ParseTerm(const OpContext& ctx, absl::string_view term) {
  Labels out;
  bool has_ellipsis = false;
  for (size_t i = 0; i < term.size(); ++i) {
    const char c = term[i];
    if (c == '.') {
      if (term.substr(i, 3) != "..." || has_ellipsis)
        return ctx.Error("bad ellipsis in '", term, "'");
      has_ellipsis = true;
      out.push_back(-1);
      i += 2;
      continue;
    }
    if (!std::isalpha(static_cast<unsigned char>(c)))
      return ctx.Error("bad label '", std::string(1, c), "'");
    out.push_back(c);
  }
  return out;
}

// Replaces the ellipsis of `l` by `e` dims aligned to the right of `ell`.
Labels ExpandEllipsis(const Labels& l, int64_t e, int64_t ell) {
  Labels out;
  for (int v : l) {
    if (v != -1) {
      out.push_back(v);
      continue;
    }
    for (int64_t k = 0; k < e; ++k) out.push_back(kEllipsisBase + static_cast<int>(ell - e + k));
  }
  return out;
}

absl::Status Einsum(OpContext& ctx) {
  std::string eq = ctx.Str("equation", "");
  eq.erase(std::remove(eq.begin(), eq.end(), ' '), eq.end());
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms = absl::StrSplit(lhs, ',');
  if (static_cast<int>(terms.size()) != ctx.num_inputs())
    return ctx.Error(terms.size(), " terms for ", ctx.num_inputs(), " inputs in '", eq, "'");
  std::vector<Tensor> xs;
  std::vector<Labels> parsed;
  std::vector<int64_t> widths;
  int64_t ell = 0;
  for (size_t i = 0; i < terms.size(); ++i) {
    ASSIGN_OR_RETURN(Tensor x, ctx.Input(static_cast<int>(i)));
    ASSIGN_OR_RETURN(Labels l, ParseTerm(ctx, terms[i]));
    const int64_t letters = std::count_if(l.begin(), l.end(), [](int v) { return v >= 0; });
    const bool has_ellipsis = letters != static_cast<int64_t>(l.size());
    const int64_t e = x.ndim() - letters;
    if (e < 0 || (!has_ellipsis && e != 0))
      return ctx.Error("term '", terms[i], "' does not match an operand of rank ", x.ndim());
    ell = std::max(ell, e);
    xs.push_back(x);
    parsed.push_back(l);
    widths.push_back(e);
  }
  std::vector<Labels> labels;
  for (size_t i = 0; i < parsed.size(); ++i)
    labels.push_back(ExpandEllipsis(parsed[i], widths[i], ell));
  Labels out;
  if (arrow != std::string::npos) {
    ASSIGN_OR_RETURN(Labels o, ParseTerm(ctx, eq.substr(arrow + 2)));
    out = ExpandEllipsis(o, ell, ell);
  } else {  // implicit: ellipsis dims, then letters used once, sorted
    for (int64_t k = 0; k < ell; ++k) out.push_back(kEllipsisBase + static_cast<int>(k));
    std::map<int, int> count;
    for (const Labels& l : labels)
      for (int v : l)
        if (v < kEllipsisBase) ++count[v];
    for (const auto& [v, c] : count)
      if (c == 1) out.push_back(v);
  }
  // Sizes (ellipsis dims may broadcast from 1).
  std::map<int, int64_t> size;
  for (size_t i = 0; i < xs.size(); ++i)
    for (size_t a = 0; a < labels[i].size(); ++a) {
      const int64_t d = xs[i].shape()[a];
      auto [it, fresh] = size.emplace(labels[i][a], d);
      if (!fresh && it->second != d) {
        if (it->second == 1) {
          it->second = d;
        } else if (d != 1) {
          return ctx.Error("label sizes ", it->second, " and ", d, " disagree in '", eq, "'");
        }
      }
    }
  // Diagonals: a label repeated within one operand keeps one axis.
  for (size_t i = 0; i < xs.size(); ++i) {
    for (bool again = true; again;) {
      again = false;
      Labels& l = labels[i];
      for (size_t a = 0; a < l.size() && !again; ++a)
        for (size_t b = a + 1; b < l.size() && !again; ++b) {
          if (l[a] != l[b]) continue;
          const int64_t n = xs[i].shape()[a];
          Shape es(l.size(), 1);
          es[a] = n;
          es[b] = n;
          Tensor eye = Tensor::Eye(n, n, xs[i].dtype()).Reshape(es);
          xs[i] = xs[i].Mul(eye).Sum({static_cast<int64_t>(b)}, false, xs[i].dtype());
          RETURN_IF_ERROR(xs[i].status());
          l.erase(l.begin() + b);
          again = true;
        }
    }
  }
  // All labels: output first, then the contracted ones.
  Labels all = out;
  for (const Labels& l : labels)
    for (int v : l)
      if (std::find(all.begin(), all.end(), v) == all.end()) all.push_back(v);
  Tensor acc;
  for (size_t i = 0; i < xs.size(); ++i) {
    std::vector<int64_t> perm;
    Shape s;
    for (int v : all) {
      auto it = std::find(labels[i].begin(), labels[i].end(), v);
      if (it == labels[i].end()) {
        s.push_back(1);
      } else {
        perm.push_back(it - labels[i].begin());
        s.push_back(xs[i].shape()[perm.back()]);
      }
    }
    Tensor t = xs[i].Permute(perm).Reshape(s);
    acc = i == 0 ? t : acc.Mul(t);
  }
  std::vector<int64_t> reduce;
  for (size_t a = out.size(); a < all.size(); ++a) reduce.push_back(static_cast<int64_t>(a));
  Shape final_shape;
  for (int v : out) final_shape.push_back(size[v]);
  Tensor y = reduce.empty() ? acc : acc.Sum(reduce, false, xs[0].dtype());
  ctx.Set(0, y.Expand(final_shape));
  return absl::OkStatus();
}

absl::Status Det(OpContext& ctx) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  if (x.ndim() < 2 || x.shape()[x.ndim() - 1] != x.shape()[x.ndim() - 2])
    return ctx.Error("input must be [*, n, n], got ", ShapeToString(x.shape()));
  const int64_t n = x.shape().back();
  Shape batch(x.shape().begin(), x.shape().end() - 2);
  int64_t b = 1;
  for (int64_t d : batch) b *= d;
  const DType d = x.dtype();
  Tensor a = x.Cast(DType::Float32()).Reshape({b, n, n});
  Tensor sign = Tensor::Ones({b}, DType::Float32());
  Tensor rows = Tensor::Arange(0, n, 1, DType::Int32());  // [n]
  for (int64_t k = 0; k < n; ++k) {
    // Pivot: the row >= k with the largest |a[i, k]|.
    Tensor col = a.Select(2, k);  // [b, n]
    Tensor score = rows.Ge(static_cast<int32_t>(k)).Reshape({1, n}).Where(col.Abs(), -1.0f);
    Tensor p = score.ArgMax(1);  // [b]
    Tensor ek = rows.Eq(static_cast<int32_t>(k)).Cast(DType::Float32()).Reshape({1, n, 1});
    Tensor ep =
        rows.Reshape({1, n}).Eq(p.Reshape({b, 1})).Cast(DType::Float32()).Reshape({b, n, 1});
    Tensor rowk = a.Select(1, k).Reshape({b, 1, n});
    Tensor rowp = ep.Mul(a).Sum({1}, true);
    a = a.Add(ek.Mul(rowp.Sub(rowk))).Add(ep.Mul(rowk.Sub(rowp)));
    sign = p.Ne(static_cast<int32_t>(k)).Where(sign.Neg(), sign);
    Tensor pivot = a.Select(1, k).Select(1, k).Reshape({b, 1});
    Tensor below = rows.Gt(static_cast<int32_t>(k)).Reshape({1, n});
    Tensor f = below.LogicalAnd(pivot.Ne(0.0f)).Where(a.Select(2, k).Div(pivot), 0.0f);  // [b, n]
    a = a.Sub(f.Reshape({b, n, 1}).Mul(a.Select(1, k).Reshape({b, 1, n})));
  }
  Tensor diag = a.Mul(Tensor::Eye(n, n).Reshape({1, n, n})).Sum({2});  // [b, n]
  ctx.Set(0, diag.Prod({1}).Mul(sign).Reshape(batch).Cast(d));
  return absl::OkStatus();
}

}  // namespace

void RegisterMathOps(OpRegistry& r) {
  r.Add(kOnnxDomain, "Einsum", 12, Einsum);
  r.Add(kOnnxDomain, "Det", 11, Det);
}

}  // namespace uop::onnx_import
