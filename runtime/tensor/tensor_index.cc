// Joining, splitting and data-dependent indexing. Gather/Take/Scatter compare
// indices with an arange (one-hot) and reduce, so they stay ordinary fusable
// graphs rather than host loops.
#include <algorithm>
#include <limits>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_internal.h"

namespace uop {
namespace {

using T = TensorOps;

// Indices with negative values moved into [0, n).
Tensor WrapNegative(const Tensor& index, int64_t n) {
  if (index.dtype().is_unsigned()) return index;
  return index.Lt(0).Where(index.Add(n), index);
}

absl::Status CheckIndexDType(absl::string_view op, const Tensor& index) {
  if (index.dtype().is_int()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(op, ": index must have an integer dtype, got ", index.dtype().ToString()));
}

// (..., n) bool: index[...] == k along a new last axis.
Tensor OneHotAlongLast(const Tensor& index, int64_t n) {
  Tensor classes = Tensor::Arange(0, n, 1, index.dtype(), index.device());
  return index.Unsqueeze(-1).Eq(classes);
}

}  // namespace

Tensor Tensor::Cat(const std::vector<Tensor>& tensors, int64_t axis) {
  if (tensors.empty()) return T::Fail("Cat", "no tensors");
  for (const Tensor& t : tensors)
    if (!t.ok()) return t;
  const Tensor& first = tensors[0];
  if (first.ndim() == 0) return T::Fail("Cat", "cannot concatenate 0-d tensors");
  absl::StatusOr<int64_t> a = T::NormAxis("Cat", axis, first.ndim());
  if (!a.ok()) return Error(a.status());
  DType dtype = first.dtype();
  int64_t total = 0;
  for (const Tensor& t : tensors) {
    if (t.device() != first.device())
      return T::Fail("Cat", "tensors are on different devices ", first.device(), " and ",
                     t.device());
    bool match = t.ndim() == first.ndim();
    for (int64_t k = 0; match && k < t.ndim(); ++k)
      match = k == *a || t.shape()[k] == first.shape()[k];
    if (!match)
      return T::Fail("Cat", "shapes ", ShapeToString(first.shape()), " and ",
                     ShapeToString(t.shape()), " differ off axis ", *a);
    dtype = Promote(dtype, t.dtype());
    total += t.shape()[*a];
  }
  // Each piece padded to the full axis with zeros; their sum (OR for bools)
  // is the concatenation.
  std::optional<Tensor> result;
  int64_t offset = 0;
  for (const Tensor& t : tensors) {
    PairList pads(t.ndim(), {0, 0});
    pads[*a] = {offset, total - offset - t.shape()[*a]};
    offset += t.shape()[*a];
    Tensor piece = t.Cast(dtype).Pad(pads);
    if (!result) {
      result = piece;
    } else {
      result = dtype.is_bool() ? result->LogicalOr(piece) : result->Add(piece);
    }
  }
  return *result;
}

Tensor Tensor::Stack(const std::vector<Tensor>& tensors, int64_t axis) {
  if (tensors.empty()) return T::Fail("Stack", "no tensors");
  for (const Tensor& t : tensors) {
    if (!t.ok()) return t;
    if (t.shape() != tensors[0].shape())
      return T::Fail("Stack", "shapes ", ShapeToString(tensors[0].shape()), " and ",
                     ShapeToString(t.shape()), " differ");
  }
  absl::StatusOr<int64_t> a = T::NormAxis("Stack", axis, tensors[0].ndim() + 1);
  if (!a.ok()) return Error(a.status());
  std::vector<Tensor> parts;
  for (const Tensor& t : tensors) parts.push_back(t.Unsqueeze(*a));
  return Cat(parts, *a);
}

std::vector<Tensor> Tensor::Split(const std::vector<int64_t>& sizes, int64_t axis) const {
  if (!ok()) return {*this};
  absl::StatusOr<int64_t> a = T::NormAxis("Split", axis, ndim());
  if (!a.ok() || ndim() == 0)
    return {Error(a.ok() ? absl::InvalidArgumentError("Split: cannot split a 0-d tensor")
                         : a.status())};
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) return {T::Fail("Split", "negative size ", s)};
    total += s;
  }
  if (total != shape()[*a])
    return {T::Fail("Split", "sizes sum to ", total, ", axis ", *a, " of ", ShapeToString(shape()),
                    " has ", shape()[*a])};
  std::vector<Tensor> out;
  int64_t offset = 0;
  for (int64_t s : sizes) {
    out.push_back(Slice(*a, offset, offset + s));
    offset += s;
  }
  return out;
}

std::vector<Tensor> Tensor::Chunk(int64_t chunks, int64_t axis) const {
  if (!ok()) return {*this};
  if (chunks < 1) return {T::Fail("Chunk", "chunks must be positive, got ", chunks)};
  absl::StatusOr<int64_t> a = T::NormAxis("Chunk", axis, ndim());
  if (!a.ok() || ndim() == 0)
    return {Error(a.ok() ? absl::InvalidArgumentError("Chunk: cannot chunk a 0-d tensor")
                         : a.status())};
  const int64_t n = shape()[*a], size = std::max<int64_t>(1, (n + chunks - 1) / chunks);
  std::vector<int64_t> sizes;
  for (int64_t left = n; left > 0; left -= size) sizes.push_back(std::min(size, left));
  if (sizes.empty()) sizes.push_back(0);
  return Split(sizes, *a);
}

Tensor Tensor::Gather(int64_t axis, const Tensor& index) const {
  TENSOR_RETURN_IF_ERROR(this, &index);
  if (absl::Status s = CheckIndexDType("Gather", index); !s.ok()) return Error(s);
  absl::StatusOr<int64_t> a = T::NormAxis("Gather", axis, ndim());
  if (!a.ok()) return Error(a.status());
  if (index.ndim() != ndim() || ndim() == 0)
    return T::Fail("Gather", "index ", ShapeToString(index.shape()), " must have the rank of ",
                   ShapeToString(shape()));
  PairList bounds;
  for (int64_t k = 0; k < ndim(); ++k) {
    if (k != *a && index.shape()[k] > shape()[k])
      return T::Fail("Gather", "index ", ShapeToString(index.shape()), " exceeds ",
                     ShapeToString(shape()), " on axis ", k);
    bounds.push_back({0, k == *a ? shape()[k] : index.shape()[k]});
  }
  const int64_t n = shape()[*a];
  // x: index.shape with axis size 1, plus the gathered axis last.
  Tensor x = Shrink(bounds).Unsqueeze(-1).Transpose(-1, *a);
  Tensor hit = OneHotAlongLast(WrapNegative(index, n), n);
  return hit.Where(x, 0).Sum({-1}, false, dtype());
}

Tensor Tensor::Take(int64_t axis, const Tensor& index) const {
  TENSOR_RETURN_IF_ERROR(this, &index);
  if (absl::Status s = CheckIndexDType("Take", index); !s.ok()) return Error(s);
  absl::StatusOr<int64_t> a = T::NormAxis("Take", axis, ndim());
  if (!a.ok() || ndim() == 0)
    return Error(a.ok() ? absl::InvalidArgumentError("Take: cannot index a 0-d tensor")
                        : a.status());
  const int64_t n = shape()[*a], q = index.ndim(), r = ndim();
  // data: shape[:a] + (1,) * q + (n,) + shape[a+1:]
  Shape data_shape(shape().begin(), shape().begin() + *a);
  data_shape.insert(data_shape.end(), q, 1);
  data_shape.insert(data_shape.end(), shape().begin() + *a, shape().end());
  // one-hot: (1,) * a + index.shape + (n,) + (1,) * (r - a - 1)
  Shape hit_shape(*a, 1);
  hit_shape.insert(hit_shape.end(), index.shape().begin(), index.shape().end());
  hit_shape.push_back(n);
  hit_shape.insert(hit_shape.end(), r - *a - 1, 1);
  Tensor hit = OneHotAlongLast(WrapNegative(index, n), n).Reshape(hit_shape);
  return hit.Where(Reshape(data_shape), 0).Sum({*a + q}, false, dtype());
}

namespace {

// tinygrad's _pre_scatter: src and the one-hot mask laid out as
// self.shape + (index.shape[axis],), so reducing the last axis scatters.
struct ScatterParts {
  Tensor src, mask;
};

absl::StatusOr<ScatterParts> PreScatter(absl::string_view op, const Tensor& self, int64_t axis,
                                        const Tensor& index, const Tensor& src_in) {
  if (const Tensor* e = T::FirstError({&self, &index, &src_in})) return e->status();
  if (absl::Status s = CheckIndexDType(op, index); !s.ok()) return s;
  if (self.ndim() == 0)
    return absl::InvalidArgumentError(absl::StrCat(op, ": cannot scatter into a 0-d tensor"));
  absl::StatusOr<int64_t> a = T::NormAxis(op, axis, self.ndim());
  if (!a.ok()) return a.status();
  if (index.ndim() != self.ndim() || src_in.ndim() != self.ndim())
    return absl::InvalidArgumentError(absl::StrCat(
        op, ": self ", ShapeToString(self.shape()), ", index ", ShapeToString(index.shape()),
        " and src ", ShapeToString(src_in.shape()), " must have one rank"));
  PairList to_index;
  for (int64_t k = 0; k < self.ndim(); ++k) {
    const int64_t i = index.shape()[k];
    if (i > src_in.shape()[k] || (k != *a && i > self.shape()[k]))
      return absl::InvalidArgumentError(absl::StrCat(
          op, ": index ", ShapeToString(index.shape()), " exceeds src ",
          ShapeToString(src_in.shape()), " or self ", ShapeToString(self.shape()), " on axis ", k));
    to_index.push_back({0, i});
  }
  const int64_t n = self.shape()[*a];
  Shape expanded = index.shape();
  expanded.push_back(n);
  Tensor src = src_in.Cast(self.dtype()).Shrink(to_index).Unsqueeze(-1).Expand(expanded);
  src = src.Transpose(-1, *a);
  Tensor mask = OneHotAlongLast(WrapNegative(index, n), n).Transpose(-1, *a);
  PairList pads;
  for (int64_t k = 0; k < self.ndim(); ++k)
    pads.push_back({0, k == *a ? 0 : self.shape()[k] - src.shape()[k]});
  pads.push_back({0, 0});
  return ScatterParts{src.Pad(pads), mask.Pad(pads)};
}

}  // namespace

Tensor Tensor::Scatter(int64_t axis, const Tensor& index, const Tensor& src) const {
  absl::StatusOr<ScatterParts> p = PreScatter("Scatter", *this, axis, index, src);
  if (!p.ok()) return Error(p.status());
  Tensor values = p->mask.Where(p->src, 0).Sum({-1}, false, dtype());
  return p->mask.Any({-1}).Where(values, *this);
}

Tensor Tensor::Scatter(int64_t axis, const Tensor& index, Number src) const {
  TENSOR_RETURN_IF_ERROR(this, &index);
  return Scatter(axis, index, T::Const(src, dtype(), index.shape(), device_));
}

Tensor Tensor::ScatterReduce(int64_t axis, const Tensor& index, const Tensor& src,
                             ScatterReduction reduction, bool include_self) const {
  absl::StatusOr<ScatterParts> parts = PreScatter("ScatterReduce", *this, axis, index, src);
  if (!parts.ok()) return Error(parts.status());
  const ScatterParts& p = *parts;
  const DType d = dtype();
  Tensor hit = p.mask.Any({-1});
  auto finish = [&](const Tensor& reduced, const Tensor& with_self) {
    return include_self ? with_self : hit.Where(reduced, *this);
  };
  switch (reduction) {
    case ScatterReduction::kSum: {
      Tensor s = p.mask.Where(p.src, 0).Sum({-1}, false, d);
      return finish(s, Add(s));
    }
    case ScatterReduction::kProd: {
      Tensor s = p.mask.Where(p.src, 1).Prod({-1});
      return finish(s, Mul(s));
    }
    case ScatterReduction::kAmax: {
      // The identity of max: -inf, or the dtype's minimum (false for bool).
      Number lowest = d.is_float() ? Number(-std::numeric_limits<double>::infinity())
                                   : Number(d.is_unsigned() || d.is_bool() ? 0 : d.min_int());
      Tensor s = p.mask.Where(p.src, T::ConstLike(p.src, lowest)).Max({-1});
      return finish(s, Maximum(s));
    }
    case ScatterReduction::kAmin: {
      Number highest =
          d.is_float() ? Number(std::numeric_limits<double>::infinity()) : Number(d.max_uint());
      Tensor s = p.mask.Where(p.src, T::ConstLike(p.src, highest)).Min({-1});
      return finish(s, Minimum(s));
    }
    default: {  // kMean
      Tensor s = p.mask.Where(p.src, 0).Sum({-1}, false, d);
      Tensor count = p.mask.Sum({-1}).Cast(d);
      if (include_self) {
        s = s.Add(*this);
        count = count.Add(1);
      }
      Tensor mean = d.is_float() ? s.Div(count) : s.FloorDiv(count);
      return hit.Where(mean.Cast(d), *this);
    }
  }
}

Tensor Tensor::OneHot(int64_t num_classes, DType dtype) const {
  if (!ok()) return *this;
  if (absl::Status s = CheckIndexDType("OneHot", *this); !s.ok()) return Error(s);
  if (num_classes < 0) return T::Fail("OneHot", "negative number of classes ", num_classes);
  return OneHotAlongLast(*this, num_classes).Cast(dtype);
}

Tensor Tensor::Embedding(const Tensor& indices) const {
  TENSOR_RETURN_IF_ERROR(this, &indices);
  if (ndim() != 2)
    return T::Fail("Embedding", "weight must be (vocab, dim), got ", ShapeToString(shape()));
  return Take(0, indices);
}

}  // namespace uop
