// The scheduler end to end: graphs built with the Tensor API are realized by
// the Engine (schedule -> memory plan -> codegen -> CPU) and compared with
// the reference interpreter. A wrong view, a reduce in the wrong space, a
// padded constant without its validity or a misordered ASSIGN shows up as a
// wrong number here.
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/engine/engine.h"
#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop {
namespace {

struct Case {
  std::string name;
  std::vector<Shape> inputs;
  std::function<std::vector<Tensor>(const std::vector<Tensor>&)> build;
  double tol = 1e-4;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<double> Data(const Shape& s, uint32_t seed) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  std::vector<float> f = RandomFloats(static_cast<size_t>(n), seed, -2, 2);
  return std::vector<double>(f.begin(), f.end());
}

// Realizes the case's outputs with the installed realizer; returns their
// values (inputs rebuilt from the same data each time).
std::vector<std::vector<double>> RunCase(const Case& c) {
  std::vector<Tensor> in;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    std::vector<double> d = Data(c.inputs[i], 17 + i);
    in.push_back(Tensor::FromVector(std::vector<float>(d.begin(), d.end()), c.inputs[i]));
  }
  std::vector<Tensor> outs = c.build(in);
  std::vector<Tensor*> ptrs;
  for (Tensor& t : outs) ptrs.push_back(&t);
  absl::Status st = Tensor::RealizeAll(ptrs);
  EXPECT_TRUE(st.ok()) << c.name << ": " << st;
  std::vector<std::vector<double>> values;
  for (const Tensor& t : outs) values.push_back(Values(t));
  return values;
}

class ScheduleE2E : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override { previous_ = Tensor::GetRealizer(); }
  void TearDown() override { Tensor::SetRealizer(previous_); }
  std::shared_ptr<Realizer> previous_;
};

TEST_P(ScheduleE2E, MatchesReference) {
  const Case& c = GetParam();
  Tensor::SetRealizer(nullptr);  // the reference
  std::vector<std::vector<double>> want = RunCase(c);
  std::shared_ptr<Engine> engine = Engine::Install({.cache_dir = "-"});
  std::vector<std::vector<double>> got = RunCase(c);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_TRUE(AllClose(got[i], want[i], c.tol, c.tol)) << c.name << " output " << i;
  EXPECT_GE(engine->stats().kernels_run, 1u);
}

using T = Tensor;
using Ts = std::vector<Tensor>;

const Case kCases[] = {
    {"ElementwiseChain",
     {{4, 8}, {4, 8}},
     [](const Ts& in) { return Ts{in[0].Mul(in[1]).Add(1).Exp().Sqrt().Sub(in[0].Sin())}; }},
    {"Reductions",
     {{3, 4, 5}},
     [](const Ts& in) {
       return Ts{in[0].Sum({1}), in[0].Max({0, 2}, true), in[0].Mean({2}), in[0].Min()};
     }},
    {"MatmulBiasRelu",
     {{6, 5}, {5, 7}, {7}},
     [](const Ts& in) { return Ts{in[0].Matmul(in[1]).Add(in[2]).Relu()}; }},
    {"ReduceThenPermuteFuses",
     {{2, 3, 4}, {4, 2, 1}},
     [](const Ts& in) {
       return Ts{in[0].Sum({1}, true).Permute({2, 0, 1}).Add(in[1])};
     }},
    {"BatchedMatmulTransposed",
     {{2, 3, 4}, {2, 5, 4}},
     [](const Ts& in) { return Ts{in[0].Matmul(in[1].Transpose(-1, -2))}; }},
    {"SoftmaxAndLogSoftmax",
     {{3, 9}},
     [](const Ts& in) {
       return Ts{in[0].Softmax(-1), in[0].LogSoftmax(0)};
     }},
    {"ConvBiasRelu",
     {{2, 3, 7, 7}, {4, 3, 3, 3}, {4}},
     [](const Ts& in) {
       ConvOptions o;
       o.padding = {{1, 1}};
       return Ts{in[0].Conv2d(in[1], in[2], o).Relu()};
     }},
    {"StridedConvChain",
     {{1, 2, 9, 9}, {3, 2, 3, 3}, {2, 3, 3, 3}},
     [](const Ts& in) {
       ConvOptions s2;
       s2.stride = {2};
       s2.padding = {{1, 1}};
       ConvOptions s1;
       s1.padding = {{1, 1}};
       T a = in[0].Conv2d(in[1], std::nullopt, s2).Relu();
       return Ts{a.Conv2d(in[2], std::nullopt, s1).Add(1)};
     }},
    {"Pooling",
     {{1, 2, 6, 6}},
     [](const Ts& in) {
       PoolOptions mp{.kernel = {3, 3}, .stride = {2, 2}, .padding = {{1, 1}}};
       PoolOptions ap{.kernel = {2, 2}};
       return Ts{in[0].MaxPool2d(mp), in[0].AvgPool2d(ap)};
     }},
    {"PadModes",
     {{3, 4}},
     [](const Ts& in) {
       return Ts{in[0].Pad({{1, 2}, {2, 1}}, 0, PadMode::kReflect),
                 in[0].Pad({{2, 0}, {1, 3}}, 0, PadMode::kEdge),
                 in[0].Pad({{1, 1}, {3, 2}}, 0, PadMode::kWrap), in[0].Pad({{1, 1}, {1, 1}}, 5.0)};
     }},
    {"PadOverUnsafeAndSafeOps",
     {{4, 4}},
     [](const Ts& in) {
       return Ts{in[0].Exp().Pad({{1, 1}, {0, 2}}).Mul(2), in[0].Add(3).Pad({{2, 0}, {1, 1}}),
                 in[0].Eq(in[0]).Pad({{1, 0}, {0, 1}}).Cast(DType::Float32()),
                 in[0].Reciprocal().Pad({{0, 1}, {1, 0}})};
     }},
    {"CatStackSplit",
     {{2, 3}, {2, 3}},
     [](const Ts& in) {
       std::vector<T> parts = T::Cat({in[0], in[1].Exp()}, 1).Split({1, 4, 1}, 1);
       return Ts{T::Stack({in[0], in[1]}, 1), parts[1].Mul(parts[0].Add(parts[2]))};
     }},
    {"GatherAndOneHot",
     {{5, 4}},
     [](const Ts& in) {
       T idx = T::FromVector<int32_t>({4, 0, 2, 2, 1, 3}, Shape{6});
       return Ts{in[0].Take(0, idx), idx.OneHot(5, DType::Float32()).Matmul(in[0])};
     }},
    {"CumsumArangeArgmax",
     {{3, 7}},
     [](const Ts& in) {
       return Ts{in[0].CumSum(1), T::Arange(10).Cast(DType::Float32()).Mul(0.5),
                 in[0].ArgMax(1).Cast(DType::Float32())};
     }},
    {"Norms",
     {{2, 4, 3, 3}, {4}, {4}, {4}, {4}},
     [](const Ts& in) {
       T var = in[4].Abs().Add(0.5);
       return Ts{in[0].BatchNorm(in[1], in[2], in[3], var),
                 in[0].LayerNorm(-1, std::nullopt, std::nullopt)};
     }},
    {"ViewsOfRealized",
     {{4, 6}},
     [](const Ts& in) {
       T r = in[0].Exp();
       EXPECT_TRUE(r.Realize().ok());
       return Ts{r.Transpose().Flip({0}).Shrink({{1, 5}, {0, 3}}).Contiguous(),
                 r.Reshape({2, 12}).Sum({0})};
     }},
    {"SharedSubgraphTwoOutputs",
     {{8, 8}},
     [](const Ts& in) {
       T s = in[0].Exp().Add(in[0].Transpose());
       return Ts{s.Sum({0}), s.Mul(s).Max({1}), s};
     }},
    {"Attention",
     {{4, 8}, {4, 8}, {4, 8}},
     [](const Ts& in) {
       T scores = in[0].Matmul(in[1].Transpose()).Mul(1.0 / std::sqrt(8.0));
       return Ts{scores.Softmax(-1).Matmul(in[2])};
     }},
    {"BoolAndIntOutputs",
     {{3, 5}, {3, 5}},
     [](const Ts& in) {
       T lt = in[0].Lt(in[1]);
       return Ts{lt.Cast(DType::Float32()), lt.Where(in[0], in[1]),
                 in[0].Mul(3).Cast(DType::Int32()).Cast(DType::Float32())};
     }},
    {"AssignInPlaceAndTranspose",
     {{4, 4}},
     [](const Ts& in) {
       T x = in[0].Contiguous();
       EXPECT_TRUE(x.Realize().ok());
       T before = x.Sum({1});
       T a = x;
       a.Assign(a.Add(1));  // in place
       T b = a.Mul(2);
       T t = in[0].Exp().Contiguous();
       EXPECT_TRUE(t.Realize().ok());
       T u = t;
       u.Assign(t.Transpose());  // reads what it overwrites: copied first
       return Ts{before, b, u};
     }},
    {"ResidualBlock",
     {{1, 4, 6, 6}, {4, 4, 3, 3}, {4, 4, 1, 1}, {4}, {4}},
     [](const Ts& in) {
       ConvOptions p1;
       p1.padding = {{1, 1}};
       T h = in[0].Conv2d(in[1], in[3], p1).Relu();
       T y = h.Conv2d(in[2], in[4]).Add(in[0]).Relu();
       PoolOptions mp{.kernel = {2, 2}};
       return Ts{y.MaxPool2d(mp).Mean({2, 3})};
     }},
};

INSTANTIATE_TEST_SUITE_P(Graphs, ScheduleE2E, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace uop
