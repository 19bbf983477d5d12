// Every failure is an error tensor with a message naming the op and what was
// wrong, and every op passes the first error through unchanged.
#include <functional>

#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop {
namespace {

TEST(TensorErrors, MessagesNameOpShapesAndExpectation) {
  Tensor m = Tensor::Zeros({2, 3});
  Tensor img = Tensor::Zeros({1, 3, 4, 4});
  struct Case {
    Tensor t;
    const char* message;
  };
  const Case cases[] = {
      {m.Add(Tensor::Zeros({4})), "Add: cannot broadcast shapes (2, 3) and (4,)"},
      {m.Where(Tensor::Zeros({3}), Tensor::Zeros({2})),
       "Where: cannot broadcast shapes (3,) and (2,)"},
      {m.Sum({3}), "Sum: axis 3 is out of range for rank 2"},
      {m.Max({-3}), "Max: axis -3 is out of range for rank 2"},
      {m.Transpose(0, 2), "Transpose: axis 2 is out of range for rank 2"},
      {m.Reshape({5}), "Reshape: cannot reshape (2, 3) (6 elements) to (5,) (5 elements)"},
      {m.BitwiseOr(m), "BitwiseOr: needs integer or bool dtypes, got float32 and float32"},
      {m.RShift(1), "RShift: needs integer dtypes, got float32 and float32"},
      {Tensor::Zeros({2}, DType::Int32()).RShift(0.5), "RShift: needs an integer operand, got 0.5"},
      {m.Select(1, -4), "Select: index -4 is out of range for axis 1 of size 3"},
      {m.Gather(0, Tensor::Zeros({2, 3}, DType::Int32()).Cast(DType::Float32())),
       "Gather: index must have an integer dtype, got float32"},
      {img.Conv2d(Tensor::Zeros({8, 4, 3, 3})),
       "Conv: input (1, 3, 4, 4) has 3 channels, weight (8, 4, 3, 3) expects 4 x 1 groups = 4"},
      {m.Matmul(m), "Matmul: cannot multiply (2, 3) by (2, 3): 3 != 2"},
      {Tensor::FromVector<bool>({true}).Pow(Tensor::FromVector<bool>({true})),
       "Pow: needs number dtypes, got bool"},
      {Tensor::FromVector<bool>({true}).Mod(Tensor::FromVector<bool>({true})),
       "Mod: needs number dtypes, got bool"},
      {Tensor::Cat({m, Tensor::Zeros({2, 2})}, 0),
       "Cat: shapes (2, 3) and (2, 2) differ off axis 0"},
      {m.Expand({3, 3}), "Expand: cannot expand (2, 3) to (3, 3)"},
      {m.Squeeze({0}), "Squeeze: axis 0 of (2, 3) has size 2, not 1"},
      {m.Flatten(1, 0), "Flatten: start axis 1 is after end axis 0"},
      {m.LayerNorm(2), "LayerNorm: axis 2 is out of range for rank 2"},
      {m.ArgMax(5), "ArgMax: axis 5 is out of range for rank 2"},
      {m.OneHot(3), "OneHot: index must have an integer dtype, got float32"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.t.status().code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(std::string(c.t.status().message()), c.message);
  }
}

TEST(TensorErrors, EveryOpPropagatesTheFirstError) {
  Tensor bad = Tensor::Zeros({2}).Add(Tensor::Zeros({3}));
  Tensor good = Tensor::Ones({2});
  Tensor idx = Tensor::Zeros({2}, DType::Int32());
  const std::function<Tensor(const Tensor&)> ops[] = {
      [](const Tensor& t) { return t.Relu(); },
      [](const Tensor& t) { return t.Exp().Log(); },
      [](const Tensor& t) { return t.Sum({0}); },
      [](const Tensor& t) { return t.Mean(); },
      [](const Tensor& t) { return t.ArgMax(0); },
      [](const Tensor& t) { return t.CumSum(0); },
      [](const Tensor& t) {
        return t.Reshape({2, 1});
      },
      [](const Tensor& t) {
        return t.Pad({{1, 1}}, 0, PadMode::kReflect);
      },
      [](const Tensor& t) { return t.Slice(0, 0, 1, -1); },
      [](const Tensor& t) { return t.Cast(DType::Int8()); },
      [](const Tensor& t) { return t.Pow(3); },
      [](const Tensor& t) { return t.Round(); },
      [](const Tensor& t) { return t.Softmax(); },
      [](const Tensor& t) { return t.Contiguous().Detach().To("CUDA"); },
      [](const Tensor& t) { return t.Dropout(0.5); },
      [&](const Tensor& t) { return good.Add(t); },
      [&](const Tensor& t) { return good.Mul(t).Where(t, good); },
      [&](const Tensor& t) {
        return Tensor::Cat({good, t});
      },
      [&](const Tensor& t) {
        return Tensor::Stack({t, good});
      },
      [&](const Tensor& t) { return t.Take(0, idx); },
      [&](const Tensor& t) { return good.Gather(0, t.Cast(DType::Int32())); },
      [&](const Tensor& t) { return good.Scatter(0, idx, t); },
      [&](const Tensor& t) {
        return t.Reshape({1, 1, 2}).Conv(good.Reshape({1, 1, 2}));
      },
      [&](const Tensor& t) {
        return t.Reshape({1, 2}).Matmul(good.Reshape({2, 1}));
      },
      [](const Tensor& t) {
        return t.Reshape({1, 1, 2}).MaxPool({{2}});
      },
  };
  for (const auto& op : ops) {
    Tensor r = op(bad);
    EXPECT_EQ(r.status(), bad.status());
  }
  EXPECT_EQ(bad.Split({1, 1})[0].status(), bad.status());
  Tensor target = Tensor::FromVector<float>({1, 2});
  EXPECT_EQ(target.Assign(bad).status(), bad.status());
  EXPECT_EQ(bad.ToBytes().status(), bad.status());
  EXPECT_EQ(bad.Item<float>().status(), bad.status());
}

}  // namespace
}  // namespace uop
