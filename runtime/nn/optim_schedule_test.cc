// Kernel counts: the optimizer step is one fused kernel per flat buffer, and
// a whole forward + backward + update step of a small MLP schedules into a
// fixed, small number of kernels (docs/gradient.md states the same counts).
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/nn/layers.h"
#include "runtime/nn/loss.h"
#include "runtime/nn/optim.h"
#include "runtime/schedule/schedule.h"
#include "runtime/tensor/gradient.h"
#include "runtime/tensor/reference_eval.h"

namespace uop::nn {
namespace {

// Schedules every realize (as the Engine would), records the kernels, then
// computes it with the reference.
class ScheduleCounter : public Realizer {
 public:
  absl::string_view name() const override { return "schedule-counter"; }
  absl::Status Realize(const UOpPtr& sink) override {
    absl::StatusOr<Schedule> s = CreateSchedule(sink);
    if (!s.ok()) return s.status();
    kernels = 0;
    roots.clear();
    for (const ScheduleBuffer& b : s->buffers)
      devices.insert(b.buffer->src(0)->arg().get<std::string>());
    for (const ScheduleItem& item : s->items) {
      if (item.kind != ScheduleItem::Kind::kKernel) continue;
      ++kernels;
      roots += item.root->ShortString() + " " +
               (item.root->shape() ? ShapeToString(*item.root->shape()) : "") + "\n";
    }
    return ref_.Realize(sink);
  }
  absl::Status CopyToHost(Storage& s) override { return ref_.CopyToHost(s); }
  int kernels = 0;
  std::string roots;
  std::set<std::string> devices;  // of every buffer scheduled so far

 private:
  ReferenceRealizer ref_;
};

class OptimSchedule : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = Tensor::GetRealizer();
    counter_ = std::make_shared<ScheduleCounter>();
    Tensor::SetRealizer(counter_);
  }
  void TearDown() override { Tensor::SetRealizer(previous_); }

  // Kernels to realize `tensors` together.
  int Kernels(std::vector<Tensor> tensors) {
    absl::Status s = RealizeTensors(tensors);
    EXPECT_TRUE(s.ok()) << s;
    return counter_->kernels;
  }

  std::shared_ptr<Realizer> previous_;
  std::shared_ptr<ScheduleCounter> counter_;
};

struct Mlp : Module {
  Linear fc1{8, 32, {.seed = 1}}, fc2{32, 32, {.seed = 2}}, fc3{32, 4, {.seed = 3}};
  Tensor operator()(const Tensor& x) const { return fc3(fc2(fc1(x).Relu()).Relu()); }
  void Collect(const std::string& p, std::vector<NamedTensor>* params,
               std::vector<NamedTensor>* buffers) override {
    fc1.Collect(p + "fc1.", params, buffers);
    fc2.Collect(p + "fc2.", params, buffers);
    fc3.Collect(p + "fc3.", params, buffers);
  }
};

// Realized gradients, one per parameter: the step alone is then scheduled.
std::vector<Tensor> RealizedGrads(const std::vector<Tensor>& params) {
  std::vector<Tensor> grads;
  uint64_t seed = 100;
  for (const Tensor& p : params) {
    Tensor g = Tensor::Randn(p.shape(), p.dtype(), {.seed = seed++}).Contiguous();
    EXPECT_TRUE(g.Realize().ok());
    grads.push_back(g);
  }
  return grads;
}

TEST_F(OptimSchedule, StepIsOneKernelPerFlatBufferWhateverTheParameterCount) {
  struct Variant {
    const char* name;
    int kernels;  // for 6 parameter tensors
  };
  for (int variant = 0; variant < 5; ++variant) {
    Mlp mlp;
    absl::StatusOr<std::unique_ptr<Optimizer>> opt;
    int want;
    switch (variant) {
      case 0:
        opt = Sgd::Create(mlp.ParameterPointers(), {.lr = 0.1});
        want = 1;  // parameters
        break;
      case 1:
        opt = Sgd::Create(mlp.ParameterPointers(), {.lr = 0.1, .momentum = 0.9});
        want = 2;  // momentum buffer, parameters
        break;
      case 2:
        opt = Sgd::Create(mlp.ParameterPointers(),
                          {.lr = 0.1, .momentum = 0.9, .nesterov = true, .weight_decay = 1e-4});
        want = 2;
        break;
      case 3:
        opt = Adam::Create(mlp.ParameterPointers());
        want = 2;  // [m, v, beta powers] state, parameters
        break;
      default:
        opt = Adam::CreateW(mlp.ParameterPointers());
        want = 2;
        break;
    }
    ASSERT_TRUE(opt.ok()) << opt.status();
    std::vector<Tensor> grads = RealizedGrads((*opt)->parameter_tensors());
    for (int step = 0; step < 2; ++step) {
      absl::StatusOr<std::vector<Tensor>> updates = (*opt)->Step(grads);
      ASSERT_TRUE(updates.ok()) << updates.status();
      EXPECT_EQ(Kernels(*updates), want) << "variant " << variant << ":\n" << counter_->roots;
      EXPECT_LE(want, static_cast<int>(grads.size())) << "at most one kernel per parameter";
    }
  }
}

// Nothing of a model on another device (here a made-up "GPU0", computed by
// the reference, which ignores devices) lands on the scheduler's default
// device "CPU": initializers, optimizer state, the step and the loss.
TEST_F(OptimSchedule, EverythingStaysOnTheModelsDevice) {
  Linear fc1(8, 16, {.seed = 1, .device = "GPU0"}), fc2(16, 4, {.seed = 2, .device = "GPU0"});
  std::vector<Tensor*> params = {&fc1.weight, &*fc1.bias, &fc2.weight, &*fc2.bias};
  absl::StatusOr<std::unique_ptr<Adam>> opt = Adam::Create(params);
  ASSERT_TRUE(opt.ok()) << opt.status();
  Tensor x = Tensor::FromVector(std::vector<float>(32, 0.5f), {4, 8}, "GPU0");
  Tensor y = Tensor::FromVector(std::vector<float>(16, 0.25f), {4, 4}, "GPU0");
  Tensor loss = CrossEntropy(fc2(fc1(x).Relu()), y);
  absl::StatusOr<std::vector<Tensor>> grads = Gradient(loss, (*opt)->parameter_tensors());
  ASSERT_TRUE(grads.ok()) << grads.status();
  absl::StatusOr<std::vector<Tensor>> updates = (*opt)->Step(*grads);
  ASSERT_TRUE(updates.ok()) << updates.status();
  std::vector<Tensor> all = *updates;
  all.push_back(loss);
  ASSERT_TRUE(RealizeTensors(all).ok());
  ASSERT_TRUE((*opt)->SetLearningRate(0.5).ok());
  EXPECT_EQ(counter_->devices, std::set<std::string>{"GPU0"});
}

// MLP 8 -> 32 -> 32 -> 4 (ReLU), batch 16, cross-entropy, Adam. Forward: the
// three linear layers (matmul + bias, ReLU fused into the readers), the
// one-hot's arange and the log-softmax reductions; backward: the two
// activation-gradient matmuls, the six parameter gradients (weight matmuls
// and bias sums, each one reduce kernel with the ReLU masks fused) and the
// log-softmax backward reductions; then the optimizer's 2 kernels and the
// loss. Elementwise backward work never gets a kernel of its own.
constexpr int kWholeStepKernels = 21;

TEST_F(OptimSchedule, WholeTrainingStepFuses) {
  Mlp mlp;
  absl::StatusOr<std::unique_ptr<Adam>> opt = Adam::Create(mlp.ParameterPointers());
  ASSERT_TRUE(opt.ok()) << opt.status();
  Tensor x = Tensor::Randn({16, 8}, DType::Float32(), {.seed = 7}).Contiguous();
  Tensor y = Tensor::RandInt({16}, 0, 4, DType::Int32(), {.seed = 8}).Contiguous();
  ASSERT_TRUE(Tensor::RealizeAll({&x, &y}).ok());
  Tensor loss = CrossEntropy(mlp(x), y);
  absl::StatusOr<std::vector<Tensor>> grads = Gradient(loss, (*opt)->parameter_tensors());
  ASSERT_TRUE(grads.ok()) << grads.status();
  absl::StatusOr<std::vector<Tensor>> updates = (*opt)->Step(*grads);
  ASSERT_TRUE(updates.ok()) << updates.status();
  std::vector<Tensor> all = *updates;
  all.push_back(loss);
  const int kernels = Kernels(all);
  EXPECT_EQ(kernels, kWholeStepKernels) << counter_->roots;
}

}  // namespace
}  // namespace uop::nn
