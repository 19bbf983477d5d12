// The Gradient / Backward API: laziness (nothing realized), targets anywhere
// in the graph, vector-Jacobian products, errors, and the RequiresGrad marks.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "runtime/tensor/gradient.h"
#include "runtime/tensor/gradient_rules.h"
#include "runtime/tensor/gradient_test_util.h"

namespace uop {
namespace {

// Counts realizes, delegating to the reference.
class CountingRealizer : public Realizer {
 public:
  absl::string_view name() const override { return "counting"; }
  absl::Status Realize(const UOpPtr& sink) override {
    ++realizes;
    return ref_.Realize(sink);
  }
  absl::Status CopyToHost(Storage& s) override { return ref_.CopyToHost(s); }
  std::atomic<int> realizes{0};

 private:
  ReferenceRealizer ref_;
};

class GradientApi : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = Tensor::GetRealizer();
    counter_ = std::make_shared<CountingRealizer>();
    Tensor::SetRealizer(counter_);
  }
  void TearDown() override { Tensor::SetRealizer(previous_); }
  std::shared_ptr<Realizer> previous_;
  std::shared_ptr<CountingRealizer> counter_;
};

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST_F(GradientApi, BuildsALazyGraphWithoutRealizingAnything) {
  // Neither the inputs nor the gradients are realized: Randn is itself lazy.
  Tensor w = Tensor::Randn({3, 4}, DType::Float32(), {.seed = 1});
  Tensor x = Tensor::Rand({2, 3}, DType::Float32(), {.seed = 2});
  Tensor loss = x.Matmul(w).Relu().Sum();
  absl::StatusOr<std::vector<Tensor>> g = Gradient(loss, {w, x});
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(counter_->realizes.load(), 0);
  EXPECT_EQ((*g)[0].shape(), (Shape{3, 4}));
  EXPECT_EQ((*g)[1].shape(), (Shape{2, 3}));
  // dL/dx = relu'(xw) w^T; check one value set through the reference.
  std::vector<double> gx = Values((*g)[1]), wv = Values(w), xv = Values(x);
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 3; ++k) {
      double want = 0;
      for (int j = 0; j < 4; ++j) {
        double z = 0;
        for (int kk = 0; kk < 3; ++kk) z += xv[i * 3 + kk] * wv[kk * 4 + j];
        want += (z > 0 ? 1.0 : 0.0) * wv[k * 4 + j];
      }
      EXPECT_NEAR(gx[i * 3 + k], want, 1e-5);
    }
}

TEST_F(GradientApi, IntermediateTargetsAndVectorJacobianProducts) {
  Tensor x = Tensor::FromVector<double>({1, 2, 3});
  Tensor h = x.Square();
  Tensor y = h.Sin();
  absl::StatusOr<std::vector<Tensor>> g = Gradient(y.Sum(), {h, x});
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_TRUE(AllClose(Values((*g)[0]), {std::cos(1.0), std::cos(4.0), std::cos(9.0)}, 1e-12));
  // With a grad_output v: v * dy/dx elementwise.
  Tensor v = Tensor::FromVector<double>({1, 0, -2});
  absl::StatusOr<std::vector<Tensor>> vjp = Gradient(y, {x}, v);
  ASSERT_TRUE(vjp.ok()) << vjp.status();
  EXPECT_TRUE(AllClose(Values((*vjp)[0]), {2 * std::cos(1.0), 0, -2 * 6 * std::cos(9.0)}, 1e-12));
}

TEST_F(GradientApi, DetachStopsGradients) {
  Tensor x = Tensor::FromVector<double>({2, 3});
  absl::StatusOr<std::vector<Tensor>> g = Gradient((x * x.Detach()).Sum(), {x});
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(Values((*g)[0]), (std::vector<double>{2, 3}));
}

TEST_F(GradientApi, GradientOfAGradientIsAHessianVectorProduct) {
  Tensor x = Tensor::FromVector<double>({0.5, -1});
  Tensor loss = (x * x * x).Sum() + (x.Reshape({2, 1}) * x.Reshape({1, 2})).Sum();
  // H = diag(6x) + 2 ones(2, 2); H v for v = (1, 2).
  absl::StatusOr<std::vector<Tensor>> g = Gradient(loss, {x});
  ASSERT_TRUE(g.ok());
  Tensor v = Tensor::FromVector<double>({1, 2});
  absl::StatusOr<std::vector<Tensor>> hv = Gradient(((*g)[0] * v).Sum(), {x});
  ASSERT_TRUE(hv.ok()) << hv.status();
  EXPECT_TRUE(AllClose(Values((*hv)[0]), {3 * 1 + 6, -6 * 2 + 6}, 1e-12));
}

TEST_F(GradientApi, ErrorsNameTheTargetAndTheOp) {
  Tensor x = Tensor::FromVector<float>({1, -2, 3});
  Tensor other = Tensor::FromVector<float>({4});
  absl::StatusOr<std::vector<Tensor>> r = Gradient(x.Sum(), {x, other});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Message(r.status()),
            "Gradient: target 1 (float32 (1,)) is not part of the loss's graph");

  r = Gradient(x.Lt(0).Cast(DType::Float32()).Sum(), {x});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(Message(r.status()).find("target 0 (float32 (3,)) reaches the loss only through CMPLT"),
            std::string::npos)
      << r.status();

  r = Gradient(x.Detach().Sum(), {x});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(Message(r.status()).find("only through DETACH"), std::string::npos) << r.status();

  Tensor bits = x.Bitcast(DType::Int32()).Bitcast(DType::Float32());
  r = Gradient(bits.Sum(), {x});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(Message(r.status()).find("BITCAST"), std::string::npos) << r.status();

  Tensor i = Tensor::FromVector<int32_t>({1, 2});
  r = Gradient(i.Cast(DType::Float32()).Sum(), {i});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Message(r.status()),
            "Gradient: target 0 has dtype int32; only float tensors have gradients");
  r = Gradient(i.Sum(), {x});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(Message(r.status()).find("the loss has dtype int32"), std::string::npos);

  r = Gradient(x * 2, {x});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(Message(r.status()).find("the loss has shape (3,)"), std::string::npos);

  r = Gradient(Tensor::Error(absl::InvalidArgumentError("bad op")), {x});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Message(r.status()), "bad op");
}

TEST_F(GradientApi, AllowUnusedGivesZeros) {
  Tensor x = Tensor::FromVector<float>({1, 2});
  Tensor unused = Tensor::FromVector<float>({7, 7, 7});
  GradientOptions opts;
  opts.allow_unused = true;
  absl::StatusOr<std::vector<Tensor>> g = Gradient((x * 3).Sum(), {unused, x}, opts);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(Values((*g)[0]), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(Values((*g)[1]), (std::vector<double>{3, 3}));
}

TEST_F(GradientApi, BackwardFillsAndAccumulatesGradOfMarkedTensors) {
  Tensor w = Tensor::FromVector<float>({1, 2, 3});
  w.RequiresGrad();
  Tensor alias = w;  // copies share the mark and the grad
  Tensor unmarked = Tensor::FromVector<float>({5, 5, 5});
  EXPECT_TRUE(w.requires_grad());
  EXPECT_FALSE(w.grad().has_value());
  Tensor loss = (w * unmarked).Sum();
  ASSERT_TRUE(Backward(loss).ok());
  ASSERT_TRUE(alias.grad().has_value());
  EXPECT_EQ(Values(*alias.grad()), (std::vector<double>{5, 5, 5}));
  EXPECT_FALSE(unmarked.grad().has_value());
  ASSERT_TRUE(Backward((w * w).Sum()).ok());
  EXPECT_EQ(Values(*w.grad()), (std::vector<double>{7, 9, 11}));
  w.SetGrad(std::nullopt);
  EXPECT_FALSE(alias.grad().has_value());

  // After an in-place update and realize, the mark follows the tensor.
  w.Assign(w * 2);
  ASSERT_TRUE(w.Realize().ok());
  ASSERT_TRUE(Backward(w.Square().Sum()).ok());
  EXPECT_EQ(Values(*w.grad()), (std::vector<double>{4, 8, 12}));

  absl::Status none = Backward(unmarked.Sum());
  EXPECT_EQ(none.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(Message(none).find("no float tensor marked RequiresGrad()"), std::string::npos);
  w.RequiresGrad(false);
  EXPECT_FALSE(w.requires_grad());
}

TEST(GradientRules, EveryTensorOpIsClassified) {
  int rules = 0;
  for (int i = 0; i < kNumOps; ++i) {
    Op op = static_cast<Op>(i);
    GradEntry e = GradEntryOf(op);
    if (HasTrait(op, kTensor)) {
      EXPECT_NE(e.kind, GradKind::kUnclassified) << OpName(op);
    }
    EXPECT_EQ(e.kind == GradKind::kRule, e.rule != nullptr) << OpName(op);
    rules += e.kind == GradKind::kRule;
  }
  EXPECT_EQ(rules, 25);
  EXPECT_EQ(GradEntryOf(Op::kCmpLt).kind, GradKind::kStop);
  EXPECT_EQ(GradEntryOf(Op::kBuffer).kind, GradKind::kLeaf);
  EXPECT_EQ(GradEntryOf(Op::kRange).kind, GradKind::kUnclassified);
}

}  // namespace
}  // namespace uop
