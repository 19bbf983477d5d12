// Kernel counts for graphs exactly as the Tensor API builds them (unrealized
// buffers: only scheduled, never run).
#include <vector>

#include "gtest/gtest.h"
#include "runtime/schedule/schedule.h"
#include "runtime/tensor/tensor.h"

namespace uop {
namespace {

// Kernels needed to realize `outs` (copies excluded).
int Kernels(std::initializer_list<Tensor> outs) {
  UOpList srcs;
  for (const Tensor& t : outs) {
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok()) return -1;
    srcs.push_back(t.uop());
  }
  absl::StatusOr<Schedule> s = CreateSchedule(UOp::Create(Op::kSink, DType::Void(), srcs));
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return -1;
  int n = 0;
  for (const ScheduleItem& item : s->items) n += item.kind == ScheduleItem::Kind::kKernel;
  return n;
}

Tensor E(Shape s) { return Tensor::Empty(std::move(s)); }

TEST(ScheduleTensor, Elementwise) {
  Tensor x = E({4, 8});
  EXPECT_EQ(Kernels({x.Add(1).Mul(E({8})).Exp().Sigmoid().Where(x, 0)}), 1);
}

TEST(ScheduleTensor, SumOfProduct) { EXPECT_EQ(Kernels({E({4, 8}).Mul(E({4, 8})).Sum({1})}), 1); }

TEST(ScheduleTensor, MatmulBiasRelu) {
  EXPECT_EQ(Kernels({E({16, 32}).Matmul(E({32, 8}))}), 1);
  EXPECT_EQ(Kernels({E({16, 32}).Matmul(E({32, 8})).Add(E({8})).Relu()}), 1);
  EXPECT_EQ(Kernels({E({16, 32}).Linear(E({8, 32}), E({8})).Relu()}), 1);
}

TEST(ScheduleTensor, ConvBiasRelu) {
  ConvOptions o;
  o.padding = {{1, 1}};
  EXPECT_EQ(Kernels({E({2, 3, 16, 16}).Conv2d(E({8, 3, 3, 3}), E({8}), o).Relu()}), 1);
  o.stride = {2};
  EXPECT_EQ(Kernels({E({2, 3, 16, 16}).Conv2d(E({8, 3, 3, 3}), E({8}), o).Relu()}), 1);
}

TEST(ScheduleTensor, ConvBatchNormReluTwice) {
  // The first conv's BN + ReLU is stored (the second conv reads it through a
  // PAD), not recomputed inside the second conv.
  auto block = [](const Tensor& x, int64_t cin, int64_t cout) {
    ConvOptions o;
    o.padding = {{1, 1}};
    return x.Conv2d(E({cout, cin, 3, 3}), std::nullopt, o)
        .BatchNorm(E({cout}), E({cout}), E({cout}), E({cout}))
        .Relu();
  };
  EXPECT_EQ(Kernels({block(block(E({1, 4, 8, 8}), 4, 8), 8, 8)}), 2);
}

// max, then exp-sum, then the normalization (recomputing the cheap exp).
TEST(ScheduleTensor, Softmax) { EXPECT_EQ(Kernels({E({4, 64}).Softmax(-1)}), 3); }

// mean, then variance (recomputing x - mean), then the normalization.
TEST(ScheduleTensor, LayerNorm) { EXPECT_EQ(Kernels({E({4, 64}).LayerNorm(-1)}), 3); }

TEST(ScheduleTensor, TwoOutputsShareWork) {
  Tensor s = E({64}).Exp().Add(E({64}));
  EXPECT_EQ(Kernels({s.Mul(2), s.Sum()}), 2);
}

TEST(ScheduleTensor, ViewsOfAnInputAreFree) {
  Tensor x = E({4, 6});
  EXPECT_EQ(Kernels({x.Transpose(), x.Reshape({24}), x.Shrink({{1, 3}, {0, 6}})}), 0);
}

TEST(ScheduleTensor, PoolingAndPadding) {
  PoolOptions mp{.kernel = {2, 2}};
  EXPECT_EQ(Kernels({E({1, 4, 8, 8}).MaxPool2d(mp)}), 1);
  EXPECT_EQ(Kernels({E({8, 8}).Pad({{1, 1}, {1, 1}}, 0, PadMode::kReflect)}), 1);
  // exp under a pad is stored first; relu under a pad is not.
  EXPECT_EQ(Kernels({E({8, 8}).Exp().Pad({{1, 1}, {1, 1}})}), 2);
  EXPECT_EQ(Kernels({E({8, 8}).Relu().Pad({{1, 1}, {1, 1}})}), 1);
}

}  // namespace
}  // namespace uop
