// Finite-difference checks for the gradient tests: float64 inputs, losses
// evaluated by the reference interpreter (no storage writes), central
// differences per input element.
#ifndef UOP_RUNTIME_TENSOR_GRADIENT_TEST_UTIL_H_
#define UOP_RUNTIME_TENSOR_GRADIENT_TEST_UTIL_H_

#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/tensor/gradient.h"
#include "runtime/tensor/reference_eval.h"
#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop {

// A realized float64 tensor of uniform values in [lo, hi).
inline Tensor RandomF64(const Shape& shape, uint32_t seed, double lo = -1, double hi = 1) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = dist(gen);
  return Tensor::FromVector(v, shape);
}

// The one element of `t` (any float dtype) through the reference realizer.
inline double EvalScalar(const Tensor& t) {
  absl::StatusOr<HostArray> v = ReferenceEvaluate(t.Cast(DType::Float64()).uop());
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? v->AsDouble(0) : 0;
}

// Central differences of the scalar `loss` with respect to each element of
// `input` (a float64 tensor made by FromVector), by rewriting the input's
// storage in place between evaluations.
inline std::vector<double> NumericGradient(const Tensor& loss, const Tensor& input,
                                           double h = 1e-6) {
  std::shared_ptr<Storage> s = input.storages().storages()[0];
  std::vector<uint8_t> original = s->host;
  std::vector<double> out(input.numel());
  for (int64_t i = 0; i < input.numel(); ++i) {
    double x;
    std::memcpy(&x, original.data() + 8 * i, 8);
    double f[2];
    for (int side = 0; side < 2; ++side) {
      std::vector<uint8_t> bytes = original;
      double xi = x + (side == 0 ? h : -h);
      std::memcpy(bytes.data() + 8 * i, &xi, 8);
      s->SetHostBytes(bytes);
      f[side] = EvalScalar(loss);
    }
    out[i] = (f[0] - f[1]) / (2 * h);
  }
  s->SetHostBytes(original);
  return out;
}

// The analytic gradient of `loss` with respect to `input`, as doubles.
inline std::vector<double> AnalyticGradient(const Tensor& loss, const Tensor& input) {
  absl::StatusOr<std::vector<Tensor>> g = Gradient(loss, {input});
  EXPECT_TRUE(g.ok()) << g.status();
  if (!g.ok()) return {};
  EXPECT_EQ((*g)[0].shape(), input.shape());
  EXPECT_EQ((*g)[0].dtype(), input.dtype());
  return Values((*g)[0]);
}

// The loss sum(f(x) * w) with random weights w: its gradient checks the whole
// vector-Jacobian product, not just the sum of the Jacobian's rows.
inline Tensor RandomProjection(const Tensor& y, uint32_t seed) {
  Tensor w = RandomF64(y.shape(), seed ^ 0x9e3779b9u, 0.5, 1.5);
  return y.Cast(DType::Float64()).Mul(w).Sum();
}

}  // namespace uop

#endif  // UOP_RUNTIME_TENSOR_GRADIENT_TEST_UTIL_H_
