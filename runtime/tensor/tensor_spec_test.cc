// Graphs built by every op family are valid tensor-level graphs
// (runtime/uop/spec.h), the contract the scheduler consumes.
#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_test_util.h"
#include "runtime/uop/spec.h"

namespace uop {
namespace {

TEST(TensorSpec, EveryOpFamilyBuildsAValidTensorGraph) {
  Tensor x = Tensor::FromVector<float>(RandomFloats(2 * 3 * 6 * 6, 1), Shape{2, 3, 6, 6});
  Tensor w = Tensor::FromVector<float>(RandomFloats(4 * 3 * 3 * 3, 2), Shape{4, 3, 3, 3});
  Tensor m = Tensor::FromVector<float>(RandomFloats(12, 3), Shape{3, 4});
  Tensor i = Tensor::FromVector<int32_t>({0, 2, 1, -1}, Shape{2, 2});
  ConvOptions conv;
  conv.stride = {2};
  conv.padding = {{1, 0}};
  conv.dilation = {1, 2};
  ConvOptions tconv;
  tconv.stride = {2};
  tconv.output_padding = {1};
  std::vector<Tensor> outs = {
      x.Conv2d(w, Tensor::Ones({4}), conv),
      x.ConvTranspose2d(w.Permute({1, 0, 2, 3}), std::nullopt, tconv),
      x.MaxPool2d({{3, 3}, {2, 2}, {}, {{1, 1}}, true}),
      x.AvgPool2d({{2, 3}, {1, 2}, {}, {{1, 0}}, true, false}),
      m.Matmul(m.T()).Softmax().LogSoftmax(0),
      m.LayerNorm(-1).Add(m.Var({1}, true)).Sub(m.LogSumExp({0})),
      m.Pow(2.5).Add(m.Pow(3)).Mul(m.Abs().Sqrt().Exp().Log().Sin().Cos().Tanh().Gelu()),
      m.Round().Floor().Ceil().Erf().Sigmoid().Silu().Softplus().Mish(),
      m.Max({0}).Add(m.Min({1}, true)).Add(m.Prod({0})),
      m.ArgMax(1, true).Add(m.ArgMin(0, true)),
      m.CumSum(1, true, true).Add(Tensor::Arange(4)),
      m.Pad({{1, 1}, {2, 0}}, 0, PadMode::kReflect).Pad({{0, 1}, {1, 1}}, 3.0),
      m.Slice({SliceSpec{std::nullopt, std::nullopt, -2}, SliceSpec{1, 4, 2}}).Repeat({2, 3}),
      Tensor::Cat({m, m.Flip({0})}, 1).Flatten().Unflatten(0, {6, 4}),
      m.Gather(1, i.Cast(DType::Int64())).Add(m.Take(1, i).Sum({0})),
      m.Scatter(0, i, m.Slice(0, 0, 2)).Add(m.ScatterReduce(1, i, m, ScatterReduction::kAmax)),
      i.OneHot(5).Cast(DType::Float32()).Sum({-1}),
      i.Pow(i).BitwiseXor(i.RShift(1)).Mod(3).FloorDiv(i.Add(5)).Maximum(i.Minimum(0)),
      i.Lt(1).LogicalOr(i.Ge(i)).Where(m.Slice(0, 0, 2).Slice(1, 0, 2), 0.5),
      Tensor::Rand({3, 3}).Add(Tensor::Randn({3}).Cast(DType::Float32())),
      Tensor::RandInt({4}, -5, 5).Cast(DType::Float32()).Add(Tensor::Eye(4).Sum({0})),
      m.Dropout(0.3, {.seed = 1})
          .Contiguous()
          .Detach()
          .Bitcast(DType::Int32())
          .Cast(DType::Float32()),
      Tensor::Stack({m, m}, 1).Flatten(1).Embedding(i.Slice(0, 0, 1)).Sum(),
  };
  UOpList srcs;
  for (const Tensor& t : outs) {
    ASSERT_TRUE(t.ok()) << t.status();
    srcs.push_back(t.uop());
  }
  UOpPtr sink = UOp::Create(Op::kSink, DType::Void(), srcs);
  absl::Status s = VerifyTensorGraph(sink);
  EXPECT_TRUE(s.ok()) << s;
  // And the reference realizes all of it.
  std::vector<Tensor*> ptrs;
  for (Tensor& t : outs) ptrs.push_back(&t);
  EXPECT_TRUE(Tensor::RealizeAll(ptrs).ok());
}

TEST(TensorSpec, RealizeSinkIsValid) {
  Tensor w = Tensor::FromVector<float>({1, 2, 3});
  w.Assign(w.Mul(2));
  Tensor y = w.Add(1).To("CUDA");
  UOpPtr sink = UOp::Create(Op::kSink, DType::Void(), {w.uop(), y.uop()});
  EXPECT_TRUE(VerifyTensorGraph(sink).ok()) << VerifyTensorGraph(sink);
}

}  // namespace
}  // namespace uop
