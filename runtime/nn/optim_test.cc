// Each optimizer's update against the same step computed by hand in double.
#include "runtime/nn/optim.h"

#include <cmath>
#include <vector>

#include "runtime/tensor/gradient.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop::nn {
namespace {

struct Params {
  Tensor w = Tensor::FromVector<double>({1, -2, 0.5}, {3});
  Tensor b = Tensor::FromVector<double>({0.25, 4}, {1, 2});
  std::vector<Tensor*> ptrs() { return {&w, &b}; }
  std::vector<double> values() {
    std::vector<double> v = Values(w), vb = Values(b);
    v.insert(v.end(), vb.begin(), vb.end());
    return v;
  }
};

const std::vector<std::vector<double>> kGrads = {{0.5, -1, 0.25, 2, -0.125},
                                                 {-0.25, 0.5, 1, -1, 0.75}};

std::vector<Tensor> GradTensors(const std::vector<double>& g) {
  return {Tensor::FromVector<double>({g[0], g[1], g[2]}, {3}),
          Tensor::FromVector<double>({g[3], g[4]}, {1, 2})};
}

void RunStep(Optimizer& opt, const std::vector<double>& g) {
  absl::StatusOr<std::vector<Tensor>> updates = opt.Step(GradTensors(g));
  ASSERT_TRUE(updates.ok()) << updates.status();
  ASSERT_TRUE(RealizeTensors(*updates).ok());
}

TEST(Sgd, PlainMomentumNesterovAndWeightDecayMatchHandSteps) {
  struct Variant {
    SgdOptions o;
  };
  for (const SgdOptions& o : {SgdOptions{.lr = 0.1}, SgdOptions{.lr = 0.1, .momentum = 0.9},
                              SgdOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true},
                              SgdOptions{.lr = 0.05, .momentum = 0.5, .weight_decay = 0.1}}) {
    SCOPED_TRACE(::testing::Message() << "momentum " << o.momentum << " nesterov " << o.nesterov
                                      << " wd " << o.weight_decay);
    Params p;
    std::vector<double> want = p.values(), buf(5, 0);
    absl::StatusOr<std::unique_ptr<Sgd>> opt = Sgd::Create(p.ptrs(), o);
    ASSERT_TRUE(opt.ok()) << opt.status();
    for (const std::vector<double>& g : kGrads) {
      RunStep(**opt, g);
      for (int i = 0; i < 5; ++i) {
        double gi = g[i] + o.weight_decay * want[i];
        buf[i] = o.momentum * buf[i] + gi;
        double step = o.momentum == 0 ? gi : o.nesterov ? gi + o.momentum * buf[i] : buf[i];
        want[i] -= o.lr * step;
      }
      EXPECT_TRUE(AllClose(p.values(), want, 1e-12, 1e-12));
    }
  }
}

void CheckAdam(bool decoupled, const AdamOptions& o) {
  Params p;
  std::vector<double> want = p.values(), m(5, 0), v(5, 0);
  absl::StatusOr<std::unique_ptr<Adam>> opt =
      decoupled ? Adam::CreateW(p.ptrs(), o) : Adam::Create(p.ptrs(), o);
  ASSERT_TRUE(opt.ok()) << opt.status();
  int t = 0;
  for (const std::vector<double>& g : kGrads) {
    RunStep(**opt, g);
    ++t;
    for (int i = 0; i < 5; ++i) {
      double gi = decoupled ? g[i] : g[i] + o.weight_decay * want[i];
      if (decoupled) want[i] *= 1 - o.lr * o.weight_decay;
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * gi;
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * gi * gi;
      double mhat = m[i] / (1 - std::pow(o.beta1, t)), vhat = v[i] / (1 - std::pow(o.beta2, t));
      want[i] -= o.lr * mhat / (std::sqrt(vhat) + o.eps);
    }
    EXPECT_TRUE(AllClose(p.values(), want, 1e-12, 1e-10));
    EXPECT_TRUE(AllClose(Values((*opt)->m()), m, 1e-12, 1e-12));
    EXPECT_TRUE(AllClose(Values((*opt)->v()), v, 1e-12, 1e-12));
    EXPECT_TRUE(AllClose(Values((*opt)->beta_powers()),
                         {std::pow(o.beta1, t), std::pow(o.beta2, t)}, 1e-15, 1e-12));
  }
}

TEST(Adam, MatchesHandStepsWithBiasCorrection) {
  CheckAdam(false, {.lr = 0.01});
  CheckAdam(false, {.lr = 0.1, .beta1 = 0.5, .beta2 = 0.75, .eps = 1e-3, .weight_decay = 0.2});
}

TEST(AdamW, DecouplesWeightDecay) {
  CheckAdam(true, {.lr = 0.01, .weight_decay = 0.01});
  CheckAdam(true, {.lr = 0.1, .beta1 = 0.8, .weight_decay = 0.5});
}

TEST(Optimizer, ParametersBecomeViewsOfOneFlatBuffer) {
  Params p;
  absl::StatusOr<std::unique_ptr<Sgd>> opt = Sgd::Create(p.ptrs(), {.lr = 1});
  ASSERT_TRUE(opt.ok());
  EXPECT_EQ((*opt)->num_elements(), 5);
  EXPECT_EQ(p.b.shape(), (Shape{1, 2}));
  EXPECT_EQ(Values((*opt)->flat_parameters()), (std::vector<double>{1, -2, 0.5, 0.25, 4}));
  const UOp* base = p.b.uop().get();
  while (base->num_srcs() == 1 && IsMovement(base->op())) base = base->src(0).get();
  EXPECT_EQ(base, (*opt)->flat_parameters().uop().get());
}

TEST(Optimizer, StepFromBackwardAndLearningRateBuffer) {
  Params p;
  p.w.RequiresGrad();
  p.b.RequiresGrad();
  absl::StatusOr<std::unique_ptr<Sgd>> opt = Sgd::Create(p.ptrs(), {.lr = 0.5});
  ASSERT_TRUE(opt.ok());
  EXPECT_EQ((*opt)->Step().status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Backward(p.w.Sum() + p.b.Square().Sum()).ok());
  ASSERT_TRUE((*opt)->SetLearningRate(0.25).ok());
  absl::StatusOr<std::vector<Tensor>> updates = (*opt)->Step();
  ASSERT_TRUE(updates.ok()) << updates.status();
  ASSERT_TRUE(RealizeTensors(*updates).ok());
  EXPECT_TRUE(AllClose(p.values(), {0.75, -2.25, 0.25, 0.25 - 0.125, 4 - 2}, 1e-12));
  (*opt)->ZeroGrad();
  EXPECT_FALSE(p.w.grad().has_value());
}

TEST(Optimizer, RejectsBadParametersAndGradients) {
  Params p;
  EXPECT_EQ(Sgd::Create({}).status().message(), "SGD: no parameters");
  EXPECT_EQ(Sgd::Create({&p.w, &p.w}).status().message(), "SGD: parameter 1 is given twice");
  Tensor f32 = Tensor::FromVector<float>({1});
  EXPECT_NE(Adam::Create({&p.w, &f32}).status().message().find("use one optimizer per dtype"),
            std::string::npos);
  Tensor ints = Tensor::FromVector<int32_t>({1});
  EXPECT_NE(Sgd::Create({&ints}).status().message().find("not a float"), std::string::npos);
  EXPECT_FALSE(Sgd::Create({&p.w}, {.nesterov = true}).ok());
  EXPECT_FALSE(Adam::Create({&p.w}, {.beta1 = 1}).ok());
  absl::StatusOr<std::unique_ptr<Sgd>> opt = Sgd::Create(p.ptrs());
  ASSERT_TRUE(opt.ok());
  EXPECT_EQ((*opt)->Step({p.w}).status().message(), "SGD: 1 gradients for 2 parameters");
  EXPECT_NE((*opt)->Step({p.w, p.w}).status().message().find("gradient 1 is (3,)"),
            std::string::npos);
}

}  // namespace
}  // namespace uop::nn
