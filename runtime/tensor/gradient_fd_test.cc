// Every gradient rule, and the Tensor API's composite ops built from them,
// against central finite differences in float64 on random inputs and random
// shapes (reference realizer).
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "runtime/tensor/gradient.h"
#include "runtime/tensor/gradient_rules.h"
#include "runtime/tensor/gradient_test_util.h"

namespace uop {
namespace {

using Inputs = std::vector<Tensor>;

struct Case {
  std::string name;
  // The input shapes for one random draw.
  std::function<std::vector<Shape>(std::mt19937&)> shapes;
  std::function<Tensor(const Inputs&)> f;
  double lo = -2, hi = 2;  // input domain
  double h = 1e-6;         // finite-difference step
  double tol = 2e-6;       // atol and rtol
};

int64_t Dim(std::mt19937& g, int64_t lo = 1, int64_t hi = 4) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(g);
}

Shape RandShape(std::mt19937& g, int rank, int64_t lo = 1, int64_t hi = 4) {
  Shape s;
  for (int i = 0; i < rank; ++i) s.push_back(Dim(g, lo, hi));
  return s;
}

// One input of random rank 1..3.
std::vector<Shape> One(std::mt19937& g) { return {RandShape(g, static_cast<int>(Dim(g, 1, 3)))}; }
// Two inputs of one random shape.
std::vector<Shape> Two(std::mt19937& g) {
  Shape s = RandShape(g, static_cast<int>(Dim(g, 1, 3)));
  return {s, s};
}
// A matrix at least (2, 2), for ops along an axis.
std::vector<Shape> Matrix(std::mt19937& g) { return {RandShape(g, 2, 2, 4)}; }

Tensor Pow(const Tensor& a, const Tensor& b) {
  return Tensor::FromUOp(UOp::Alu(Op::kPow, {a.uop(), b.uop()}), a.device(),
                         StorageRefs::Merge(a.storages(), b.storages()));
}

std::vector<Case> Cases() {
  ConvOptions conv_opts;
  conv_opts.stride = {2, 1};
  conv_opts.padding = {{1, 0}, {1, 1}};
  conv_opts.dilation = {1, 2};
  PoolOptions pool;
  pool.kernel = {2, 2};
  pool.stride = {1, 2};
  pool.padding = {{1, 0}, {0, 1}};
  return {
      // ------------------------------------------------ elementwise rules
      {"add", Two, [](const Inputs& x) { return x[0] + x[1]; }},
      {"add_broadcast",
       [](std::mt19937& g) {
         Shape s = RandShape(g, 2);
         return std::vector<Shape>{s, {s[1]}};
       },
       [](const Inputs& x) { return x[0] + x[1]; }},
      {"sub", Two, [](const Inputs& x) { return x[0] - x[1]; }},
      {"neg", One, [](const Inputs& x) { return -x[0]; }},
      {"mul", Two, [](const Inputs& x) { return x[0] * x[1]; }},
      {"mul_self", One, [](const Inputs& x) { return x[0] * x[0] * x[0]; }},
      {"div", Two, [](const Inputs& x) { return x[0] / x[1]; }, 0.5, 2},
      {"exp2", One, [](const Inputs& x) { return x[0].Exp2(); }},
      {"exp", One, [](const Inputs& x) { return x[0].Exp(); }},
      {"log2", One, [](const Inputs& x) { return x[0].Log2(); }, 0.2, 3},
      {"log", One, [](const Inputs& x) { return x[0].Log(); }, 0.2, 3},
      {"sin", One, [](const Inputs& x) { return x[0].Sin(); }},
      {"cos", One, [](const Inputs& x) { return x[0].Cos(); }},
      {"tan", One, [](const Inputs& x) { return x[0].Tan(); }, -1, 1},
      {"sqrt", One, [](const Inputs& x) { return x[0].Sqrt(); }, 0.2, 3},
      {"rsqrt", One, [](const Inputs& x) { return x[0].Rsqrt(); }, 0.2, 3},
      {"reciprocal", One, [](const Inputs& x) { return x[0].Reciprocal(); }, 0.5, 2},
      {"pow_op", Two, [](const Inputs& x) { return Pow(x[0], x[1]); }, 0.5, 2},
      {"pow_api", Two, [](const Inputs& x) { return x[0].Pow(x[1]); }, 0.5, 2},
      {"pow_number", One, [](const Inputs& x) { return x[0].Pow(2.5); }, 0.5, 2},
      {"trunc", One, [](const Inputs& x) { return x[0].Trunc() + x[0] * x[0].Floor(); }},
      {"maximum", Two, [](const Inputs& x) { return x[0].Maximum(x[1]); }},
      {"minimum", Two, [](const Inputs& x) { return x[0].Minimum(x[1]); }},
      {"where", Two, [](const Inputs& x) { return x[0].Gt(0).Where(x[0] * x[1], x[1].Exp()); }},
      {"cast", Two,
       [](const Inputs& x) {
         return (x[0].Cast(DType::Float32()) * x[1].Cast(DType::Float32())).Cast(DType::Float64());
       },
       -2, 2, 1e-3, 2e-3},
      {"contiguous", One, [](const Inputs& x) { return x[0].Contiguous() * x[0]; }},
      {"copy", One, [](const Inputs& x) { return x[0].To("CPU:1").Exp().To("CPU") * x[0]; }},
      {"assign", [](std::mt19937& g) { return One(g); },
       [](const Inputs& x) {
         Tensor target = Tensor::Empty(x[0].shape(), DType::Float64());
         return target.Assign(x[0].Sin()) * x[0];
       }},
      // ------------------------------------------------------- movement
      {"reshape", Matrix, [](const Inputs& x) { return x[0].Reshape({-1}).Exp(); }},
      {"permute", [](std::mt19937& g) { return std::vector<Shape>{RandShape(g, 3)}; },
       [](const Inputs& x) {
         return x[0].Permute({2, 0, 1}) * x[0].Permute({2, 0, 1}).Sin();
       }},
      {"expand",
       [](std::mt19937& g) {
         return std::vector<Shape>{{Dim(g), 1, Dim(g)}};
       },
       [](const Inputs& x) {
         Shape s = x[0].shape();
         s[1] = 3;
         return x[0].Expand(s).Exp() * 2;
       }},
      {"pad", Matrix,
       [](const Inputs& x) {
         return x[0].Pad({{1, 2}, {0, 1}}, 0.5).Exp();
       }},
      {"pad_reflect", Matrix,
       [](const Inputs& x) {
         return x[0].Pad({{1, 1}, {1, 0}}, 0, PadMode::kReflect).Sin();
       }},
      {"shrink", Matrix,
       [](const Inputs& x) {
         return x[0].Shrink({{1, 2}, {0, 1}}).Exp();
       }},
      {"flip", Matrix, [](const Inputs& x) { return x[0].Flip({0}) * x[0]; }},
      {"slice_step", Matrix,
       [](const Inputs& x) { return x[0].Slice(0, std::nullopt, std::nullopt, -2).Exp(); }},
      // ------------------------------------------------------ reductions
      {"sum", Matrix, [](const Inputs& x) { return x[0].Sum({1}).Square(); }},
      {"sum_all", One, [](const Inputs& x) { return x[0].Sum().Sin(); }},
      {"max", Matrix, [](const Inputs& x) { return x[0].Max({0}).Exp(); }},
      {"min", Matrix, [](const Inputs& x) { return x[0].Min({1}) * 3; }},
      {"prod", Matrix, [](const Inputs& x) { return x[0].Prod({1}); }},
      {"mean", Matrix, [](const Inputs& x) { return x[0].Mean({0}).Exp(); }},
      {"var", Matrix, [](const Inputs& x) { return x[0].Var({1}); }},
      {"std", Matrix, [](const Inputs& x) { return x[0].Std({0}); }},
      {"cumsum", Matrix, [](const Inputs& x) { return x[0].CumSum(1).Sin(); }},
      {"logsumexp", Matrix, [](const Inputs& x) { return x[0].LogSumExp({1}); }},
      // ------------------------------------------------------ composites
      {"matmul",
       [](std::mt19937& g) {
         int64_t m = Dim(g), k = Dim(g), n = Dim(g);
         return std::vector<Shape>{{m, k}, {k, n}};
       },
       [](const Inputs& x) { return x[0].Matmul(x[1]); }},
      {"batched_matmul",
       [](std::mt19937& g) {
         int64_t b = Dim(g, 1, 2), m = Dim(g), k = Dim(g), n = Dim(g);
         return std::vector<Shape>{{b, m, k}, {k, n}};
       },
       [](const Inputs& x) { return x[0].Matmul(x[1]).Tanh(); }},
      {"linear",
       [](std::mt19937& g) {
         int64_t b = Dim(g), i = Dim(g), o = Dim(g);
         return std::vector<Shape>{{b, i}, {o, i}, {o}};
       },
       [](const Inputs& x) { return x[0].Linear(x[1], x[2]).Relu(); }},
      {"conv2d",
       [](std::mt19937& g) {
         int64_t b = Dim(g, 1, 2), ci = Dim(g, 1, 2), co = Dim(g, 1, 3);
         return std::vector<Shape>{{b, ci, Dim(g, 3, 5), Dim(g, 3, 5)}, {co, ci, 2, 2}, {co}};
       },
       [conv_opts](const Inputs& x) { return x[0].Conv2d(x[1], x[2], conv_opts); }},
      {"conv2d_groups",
       [](std::mt19937& g) {
         return std::vector<Shape>{{1, 4, Dim(g, 3, 4), Dim(g, 3, 4)}, {2, 2, 3, 3}};
       },
       [](const Inputs& x) {
         ConvOptions o;
         o.groups = 2;
         o.padding = {{1, 1}};
         return x[0].Conv2d(x[1], std::nullopt, o);
       }},
      {"conv_transpose",
       [](std::mt19937& g) {
         return std::vector<Shape>{{1, 2, Dim(g, 2, 3), Dim(g, 2, 3)}, {2, 3, 2, 2}};
       },
       [](const Inputs& x) {
         ConvOptions o;
         o.stride = {2};
         return x[0].ConvTranspose2d(x[1], std::nullopt, o);
       }},
      {"maxpool",
       [](std::mt19937& g) {
         return std::vector<Shape>{{1, 2, Dim(g, 3, 5), Dim(g, 3, 5)}};
       },
       [pool](const Inputs& x) { return x[0].MaxPool2d(pool); }},
      {"avgpool",
       [](std::mt19937& g) {
         return std::vector<Shape>{{1, 2, Dim(g, 3, 5), Dim(g, 3, 5)}};
       },
       [pool](const Inputs& x) { return x[0].AvgPool2d(pool); }},
      {"softmax", Matrix, [](const Inputs& x) { return x[0].Softmax(1); }},
      {"log_softmax", Matrix, [](const Inputs& x) { return x[0].LogSoftmax(0); }},
      {"sigmoid", One, [](const Inputs& x) { return x[0].Sigmoid(); }, -5, 5},
      {"tanh", One, [](const Inputs& x) { return x[0].Tanh(); }},
      {"relu", One, [](const Inputs& x) { return x[0].Relu(); }},
      {"leaky_relu", One, [](const Inputs& x) { return x[0].LeakyRelu(0.1); }},
      {"gelu", One, [](const Inputs& x) { return x[0].Gelu(); }},
      {"gelu_tanh", One, [](const Inputs& x) { return x[0].Gelu(true); }},
      {"silu", One, [](const Inputs& x) { return x[0].Silu(); }},
      {"softplus", One, [](const Inputs& x) { return x[0].Softplus(2); }},
      {"elu", One, [](const Inputs& x) { return x[0].Elu(); }},
      {"mish", One, [](const Inputs& x) { return x[0].Mish(); }},
      {"hardswish", One, [](const Inputs& x) { return x[0].HardSwish(); }},
      {"erf", One, [](const Inputs& x) { return x[0].Erf(); }},
      {"abs", One, [](const Inputs& x) { return x[0].Abs() * x[0]; }},
      {"clip", One, [](const Inputs& x) { return x[0].Clip(-0.5, 0.7).Exp(); }},
      {"layernorm",
       [](std::mt19937& g) {
         int64_t d = Dim(g, 2, 4);
         return std::vector<Shape>{{Dim(g), d}, {d}, {d}};
       },
       [](const Inputs& x) { return x[0].LayerNorm(-1, x[1], x[2]); }},
      {"batchnorm_inference",
       [](std::mt19937& g) {
         int64_t c = Dim(g, 1, 3);
         return std::vector<Shape>{{2, c, 2}, {c}, {c}, {c}};
       },
       [](const Inputs& x) { return x[0].BatchNorm(x[1], x[2], x[3], x[3].Square().Add(0.5)); }},
      {"cat_stack", Two,
       [](const Inputs& x) {
         Tensor cat = Tensor::Cat({x[0], x[1].Exp()}, 0);
         return cat * Tensor::Stack({x[1], x[0]}, 0).Reshape(cat.shape());
       }},
      {"gather",
       [](std::mt19937&) {
         return std::vector<Shape>{{4, 3}};
       },
       [](const Inputs& x) {
         Tensor idx = Tensor::FromVector<int32_t>({3, 0, 0, 1, 2, 3}, {2, 3});
         return x[0].Gather(0, idx).Exp();
       }},
      {"embedding",
       [](std::mt19937&) {
         return std::vector<Shape>{{5, 3}};
       },
       [](const Inputs& x) {
         Tensor idx = Tensor::FromVector<int32_t>({4, 1, 1}, {3});
         return x[0].Embedding(idx).Sin();
       }},
      {"cross_entropy",
       [](std::mt19937& g) {
         return std::vector<Shape>{{Dim(g, 2, 4), 3}};
       },
       [](const Inputs& x) {
         Tensor labels = Tensor::FromVector<int32_t>({0, 2, 1, 2}).Shrink({{0, x[0].shape()[0]}});
         Tensor onehot = labels.OneHot(3, DType::Float64());
         return -(x[0].LogSoftmax(1) * onehot).Sum({1}).Mean();
       }},
  };
}

void CheckCase(const Case& c, uint32_t seed, std::set<Op>* seen, std::set<Op>* reduce_ops) {
  std::mt19937 gen(seed);
  std::vector<Shape> shapes = c.shapes(gen);
  Inputs inputs;
  for (size_t i = 0; i < shapes.size(); ++i)
    inputs.push_back(RandomF64(shapes[i], seed * 31 + static_cast<uint32_t>(i), c.lo, c.hi));
  Tensor y = c.f(inputs);
  ASSERT_TRUE(y.ok()) << y.status();
  for (const UOp* u : y.uop()->Toposort()) {
    seen->insert(u->op());
    if (u->op() == Op::kReduceAxis) reduce_ops->insert(u->arg().get<ReduceArg>().op);
  }
  Tensor loss = RandomProjection(y, seed);
  for (size_t i = 0; i < inputs.size(); ++i) {
    SCOPED_TRACE(::testing::Message() << "input " << i << " " << ShapeToString(shapes[i]));
    std::vector<double> analytic = AnalyticGradient(loss, inputs[i]);
    std::vector<double> numeric = NumericGradient(loss, inputs[i], c.h);
    EXPECT_TRUE(AllClose(analytic, numeric, c.tol, c.tol));
  }
}

TEST(GradientFiniteDifference, EveryRuleAndCompositeOnRandomShapes) {
  std::set<Op> seen, reduce_ops;
  for (const Case& c : Cases()) {
    for (uint32_t seed : {1u, 2u, 3u}) {
      SCOPED_TRACE(::testing::Message() << c.name << " seed " << seed);
      CheckCase(c, seed, &seen, &reduce_ops);
    }
  }
  // Every differentiable op's rule ran in some case; for REDUCE_AXIS each of
  // its ops (ADD, MUL, MAX) did.
  for (int i = 0; i < kNumOps; ++i) {
    Op op = static_cast<Op>(i);
    if (GradEntryOf(op).kind == GradKind::kRule) {
      EXPECT_TRUE(seen.count(op)) << OpName(op) << " has a rule but no finite-difference case";
    }
  }
  for (Op op : {Op::kAdd, Op::kMul, Op::kMax})
    EXPECT_TRUE(reduce_ops.count(op)) << "REDUCE_AXIS " << OpName(op);
}

}  // namespace
}  // namespace uop
