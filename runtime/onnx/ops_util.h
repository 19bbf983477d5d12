// Helpers shared by the op handlers (ops_*.cc).
#ifndef UOP_RUNTIME_ONNX_OPS_UTIL_H_
#define UOP_RUNTIME_ONNX_OPS_UTIL_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/base/status_macros.h"
#include "runtime/onnx/op_context.h"
#include "runtime/tensor/tensor.h"

namespace uop::onnx_import {

// `axis` in [-rank, rank) made non-negative, or an error naming it.
absl::StatusOr<int64_t> NormAxis(const OpContext& ctx, int64_t axis, int64_t rank);
absl::StatusOr<std::vector<int64_t>> NormAxes(const OpContext& ctx, std::vector<int64_t> axes,
                                              int64_t rank);

// A scalar tensor (shape ()) of `dtype` holding `v`.
Tensor Scalar(Number v, DType dtype);

// Broadcasts every tensor to their common shape (numpy rules).
absl::StatusOr<Shape> BroadcastShape(const OpContext& ctx, const std::vector<Shape>& shapes);

// The value as a constant of host-known contents (for handlers that compute
// small results on the host, e.g. Shape).
Value HostConstant(HostTensor h);

template <typename T>
Value HostConstantOf(const std::vector<T>& v, Shape shape) {
  return HostConstant(HostTensor::FromVector<T>(v, std::move(shape)));
}

// Runs `f` on input 0 and sets output 0.
template <typename F>
absl::Status UnaryOp(OpContext& ctx, F f) {
  ASSIGN_OR_RETURN(Tensor x, ctx.Input(0));
  ctx.Set(0, f(x));
  return absl::OkStatus();
}

// Runs `f` on inputs 0 and 1 and sets output 0.
template <typename F>
absl::Status BinaryOp(OpContext& ctx, F f) {
  ASSIGN_OR_RETURN(Tensor a, ctx.Input(0));
  ASSIGN_OR_RETURN(Tensor b, ctx.Input(1));
  ctx.Set(0, f(a, b));
  return absl::OkStatus();
}

// Float math on float16/bfloat16 in float32, then back (what ONNX runtimes do).
template <typename F>
Tensor InFloat32(const Tensor& x, F f) {
  DType d = x.dtype();
  if (d == DType::Float16() || d == DType::BFloat16()) return f(x.Cast(DType::Float32())).Cast(d);
  return f(x);
}

// Cast with STRING as the source or target type (ops_string.cc).
absl::Status CastStrings(OpContext& ctx, int32_t to);

// atan(x) for float tensors, accurate to about 1e-7 relative.
Tensor Atan(const Tensor& x);

}  // namespace uop::onnx_import

#endif  // UOP_RUNTIME_ONNX_OPS_UTIL_H_
