// Helpers shared by the op implementations in tensor_*.cc. Not part of the
// public API: include tensor.h instead.
#ifndef UOP_RUNTIME_TENSOR_TENSOR_INTERNAL_H_
#define UOP_RUNTIME_TENSOR_TENSOR_INTERNAL_H_

#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "runtime/tensor/tensor.h"

// Returns the first error tensor among the arguments from the calling op.
#define TENSOR_RETURN_IF_ERROR(...)                                                      \
  do {                                                                                   \
    if (const Tensor* uop_err_ = TensorOps::FirstError({__VA_ARGS__})) return *uop_err_; \
  } while (0)

namespace uop {

struct TensorOps {
  static const Tensor* FirstError(std::initializer_list<const Tensor*> tensors);

  // An InvalidArgument error tensor "op: message".
  template <typename... Args>
  static Tensor Fail(absl::string_view op, const Args&... message) {
    return Tensor::Error(absl::InvalidArgumentError(absl::StrCat(op, ": ", message...)));
  }

  static int64_t Prod(const Shape& s);
  // The element count of `shape`, or an error naming `op` for a negative
  // dimension or a count past int64.
  static absl::StatusOr<int64_t> CheckedNumel(absl::string_view op, const Shape& shape);

  // `axis` in [-rank, rank) made non-negative, or an error naming `op`.
  static absl::StatusOr<int64_t> NormAxis(absl::string_view op, int64_t axis, int64_t rank);
  // Each axis normalized, sorted; duplicates are an error.
  static absl::StatusOr<std::vector<int64_t>> NormAxes(absl::string_view op,
                                                       const std::vector<int64_t>& axes,
                                                       int64_t rank);
  // Expands a per-axis list (empty -> default, one value -> every axis).
  static absl::StatusOr<std::vector<int64_t>> PerAxis(absl::string_view op, absl::string_view what,
                                                      const std::vector<int64_t>& v, size_t n,
                                                      int64_t dflt);
  static absl::StatusOr<PairList> PerAxisPairs(absl::string_view op, const PairList& v, size_t n);

  // numpy broadcast of two shapes, or "op: cannot broadcast shapes A and B".
  static absl::StatusOr<Shape> BroadcastShapes(absl::string_view op, const Shape& a,
                                               const Shape& b);

  // Nodes built without checks: the caller has validated the arguments.
  static Tensor Move(const Tensor& x, Op op, Arg arg);
  // x given leading 1s and expanded to `shape` (must be broadcastable).
  static Tensor BroadcastTo(const Tensor& x, const Shape& shape);
  // An elementwise node over same-shape sources; refs of all sources.
  static Tensor Alu(Op op, std::initializer_list<const Tensor*> srcs);
  static Tensor AluTo(Op op, DType dtype, const Tensor& x);  // CAST / BITCAST
  // A constant of `shape` on `device`.
  static Tensor Const(Number v, DType dtype, const Shape& shape, const std::string& device);
  // A constant shaped like `like` (its device), of `dtype` (default: like's).
  static Tensor ConstLike(const Tensor& like, Number v);
  static Tensor ConstLike(const Tensor& like, Number v, DType dtype);
  // REDUCE_AXIS over validated, sorted axes; drops them unless keepdim.
  static Tensor Reduce(const Tensor& x, Op op, const std::vector<int64_t>& axes, bool keepdim);

  // Brings a binary op's operands to one shape and dtype (`dtype` given, or
  // promoted). Sets *error and returns false on failure.
  static bool Broadcast2(absl::string_view op, const Tensor& a, const Tensor& b,
                         std::optional<DType> dtype, Tensor* out_a, Tensor* out_b, Tensor* error);
  // A tensor for `n` combined with x: (x cast to the result dtype, n as a
  // constant of that dtype and x's shape).
  static std::pair<Tensor, Tensor> WithNumber(const Tensor& x, Number n);

  // tinygrad's _pool: windows over the last k.size() axes, giving
  // shape[:-k] + out_sizes + k. Checks sizes, returns an error tensor on failure.
  static Tensor Pool(absl::string_view op, const Tensor& x, const std::vector<int64_t>& k,
                     const std::vector<int64_t>& stride, const std::vector<int64_t>& dilation);
  // Pads (negative amounts crop) the last pads.size() axes with zeros (or `value`).
  static Tensor PadLast(const Tensor& x, const PairList& pads, Number value = 0);

  // The float dtype an op computes an input of dtype `d` in.
  static DType FloatOf(DType d) { return DefaultFloatFor(d); }
  // The accumulation dtype of Sum (tinygrad's sum_acc_dtype).
  static DType SumAccDType(DType d);
};

}  // namespace uop

#endif  // UOP_RUNTIME_TENSOR_TENSOR_INTERNAL_H_
