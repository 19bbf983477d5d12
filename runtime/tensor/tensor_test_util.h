// Helpers for the tensor tests: read results as doubles and compare them.
#ifndef UOP_RUNTIME_TENSOR_TENSOR_TEST_UTIL_H_
#define UOP_RUNTIME_TENSOR_TENSOR_TEST_UTIL_H_

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/tensor/tensor.h"

namespace uop {

// The tensor's values as doubles (through a float64 cast node); fails the
// test and returns {} on error.
inline std::vector<double> Values(const Tensor& t) {
  absl::StatusOr<std::vector<double>> v = t.Cast(DType::Float64()).ToVector<double>();
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : std::vector<double>{};
}

// Element-wise |a - b| <= atol + rtol * |b|, NaN equal to NaN.
inline ::testing::AssertionResult AllClose(const std::vector<double>& actual,
                                           const std::vector<double>& expected, double atol = 1e-6,
                                           double rtol = 1e-6) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure()
           << "size " << actual.size() << " != expected " << expected.size();
  for (size_t i = 0; i < actual.size(); ++i) {
    double a = actual[i], b = expected[i];
    if (std::isnan(a) && std::isnan(b)) continue;
    if (std::isinf(b) && a == b) continue;
    if (!(std::abs(a - b) <= atol + rtol * std::abs(b)))
      return ::testing::AssertionFailure() << "element " << i << ": " << a << " != " << b;
  }
  return ::testing::AssertionSuccess();
}

// n uniform floats in [lo, hi) from a fixed generator (test data only).
inline std::vector<float> RandomFloats(size_t n, uint32_t seed, float lo = -1, float hi = 1) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(gen);
  return v;
}

// The status message of an error tensor (fails the test on an OK tensor).
inline std::string ErrorOf(const Tensor& t) {
  EXPECT_FALSE(t.ok()) << "expected an error tensor";
  return std::string(t.status().message());
}

}  // namespace uop

#endif  // UOP_RUNTIME_TENSOR_TENSOR_TEST_UTIL_H_
