// Tensor-level graphs built directly from UOps (docs/compiler.md
// "Tensor-level graph"), the way the Tensor API builds them: buffers wrapped
// in RESHAPE, scalars as RESHAPE + EXPAND of CONST, matmul and convolution
// as broadcasted multiplies summed by a REDUCE_AXIS, then reshaped.
//
//   UOpPtr x = Input({4, 8});
//   UOpPtr y = Relu(Matmul(x, Input({8, 16})) + Broadcast(Input({16}), {4, 16}));
//   UOpPtr sink = Sink({y});
#ifndef UOP_RUNTIME_SCHEDULE_TEST_GRAPHS_H_
#define UOP_RUNTIME_SCHEDULE_TEST_GRAPHS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/uop/uop.h"

namespace uop::testing {

UOpPtr DeviceNode(const std::string& name = "CPU");
// A fresh BUFFER (unique id) of prod(shape) elements, reshaped to `shape`
// unless that is already its 1-D shape.
UOpPtr Input(const Shape& shape, DType dtype = DType::Float32(), const std::string& device = "CPU");
// The BUFFER under a chain of views.
UOpPtr BufferOf(const UOpPtr& view);
// CONST reshaped to all ones and expanded to `shape`.
UOpPtr Full(const Shape& shape, double value, DType dtype = DType::Float32());

UOpPtr Reshape(const UOpPtr& x, const Shape& shape);
UOpPtr Permute(const UOpPtr& x, const std::vector<int64_t>& order);
UOpPtr Expand(const UOpPtr& x, const Shape& shape);
UOpPtr Pad(const UOpPtr& x, const PairList& pads);
UOpPtr Shrink(const UOpPtr& x, const PairList& bounds);
UOpPtr Flip(const UOpPtr& x, const std::vector<int64_t>& flags);
// numpy broadcast: leading ones added, then expanded.
UOpPtr Broadcast(const UOpPtr& x, const Shape& shape);

// REDUCE_AXIS (reduced axes kept as 1).
UOpPtr Sum(const UOpPtr& x, const std::vector<int64_t>& axes);
UOpPtr MaxOf(const UOpPtr& x, const std::vector<int64_t>& axes);

// Elementwise, with constants as full tensors of x's shape.
UOpPtr Exp(const UOpPtr& x);  // EXP2(x * log2(e))
UOpPtr Relu(const UOpPtr& x);
UOpPtr Recip(const UOpPtr& x);
UOpPtr AddScalar(const UOpPtr& x, double c);
UOpPtr MulScalar(const UOpPtr& x, double c);

UOpPtr Contiguous(const UOpPtr& x);
UOpPtr CopyTo(const UOpPtr& x, const std::string& device);
UOpPtr Assign(const UOpPtr& target, const UOpPtr& value);
UOpPtr Sink(std::initializer_list<UOpPtr> outputs);
UOpPtr Sink(const std::vector<UOpPtr>& outputs);

// (M, K) @ (K, N).
UOpPtr Matmul(const UOpPtr& a, const UOpPtr& b);
// x (N, C, H, W) with w (O, C, KH, KW), tinygrad's conv2d (pad, pool
// views, broadcasted multiply, sum over (C, KH, KW), reshape) plus bias.
UOpPtr Conv2d(const UOpPtr& x, const UOpPtr& w, const UOpPtr& bias, int64_t stride = 1,
              int64_t padding = 0);
// x - max, exp, / sum along the last axis.
UOpPtr Softmax(const UOpPtr& x);
// Inference batch norm over axis 1: (x - mean) * (weight * rsqrt(var + eps)) + bias.
UOpPtr BatchNorm(const UOpPtr& x);
// ResNet-50 v1.5 inference on (batch, 3, image, image) giving (batch, 1000).
UOpPtr ResNet50(int64_t batch, int64_t image = 224);

// Number of nodes reachable from `root`.
size_t GraphSize(const UOpPtr& root);

}  // namespace uop::testing

#endif  // UOP_RUNTIME_SCHEDULE_TEST_GRAPHS_H_
