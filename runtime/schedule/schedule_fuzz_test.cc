// Random tensor programs (elementwise ops, every movement op, reductions,
// CONTIGUOUS) realized by the Engine and by the reference interpreter must
// agree. Each seed prints its program when it fails.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/engine/engine.h"
#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop {
namespace {

constexpr int kSeeds = 120;
constexpr int kSteps = 14;

// Builds the same random program for a seed every time it is called.
class Program {
 public:
  explicit Program(uint32_t seed) : rng_(seed) {}

  std::vector<Tensor> Build() {
    pool_.clear();
    log_.clear();
    pool_.push_back(Input({2, 3, 4}, 1));
    pool_.push_back(Input({2, 3, 4}, 2));
    pool_.push_back(Input({3, 4}, 3));
    for (int i = 0; i < kSteps; ++i) Step();
    return {pool_.back(), pool_[pool_.size() - 2], pool_[pool_.size() / 2]};
  }
  const std::string& log() const { return log_; }

 private:
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  Tensor Input(Shape shape, uint32_t seed) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return Tensor::FromVector(RandomFloats(static_cast<size_t>(n), seed), shape);
  }
  void Push(Tensor t, const std::string& what) {
    absl::StrAppend(&log_, pool_.size(), " = ", what, " ", ShapeToString(t.shape()), "\n");
    ASSERT_TRUE(t.ok()) << log_ << t.status();
    pool_.push_back(std::move(t));
  }

  void Step() {
    const int i = Pick(static_cast<int>(pool_.size()));
    const Tensor& x = pool_[i];
    const int64_t rank = x.ndim();
    const std::string src = absl::StrCat("t", i);
    switch (Pick(13)) {
      case 0:
        return Push(x.Relu().Add(0.5), "relu+0.5 " + src);
      case 1:
        return Push(x.Mul(0.3).Exp(), "exp(0.3*) " + src);
      case 2:
        return Push(x.Sin().Neg(), "-sin " + src);
      case 3: {  // binary with a same-shape partner, or its own flip
        for (int j = static_cast<int>(pool_.size()) - 1; j >= 0; --j) {
          if (j != i && pool_[j].shape() == x.shape() && Pick(2) == 0)
            return Push(Pick(2) ? x.Add(pool_[j]) : x.Maximum(pool_[j]),
                        absl::StrCat("binary ", src, " t", j));
        }
        return Push(x.Mul(x.Flip({rank - 1})), "mul-flip " + src);
      }
      case 4: {
        std::vector<int64_t> order(rank);
        for (int64_t a = 0; a < rank; ++a) order[a] = a;
        std::shuffle(order.begin(), order.end(), rng_);
        return Push(x.Permute(order), "permute " + src);
      }
      case 5: {
        PairList pads;
        for (int64_t a = 0; a < rank; ++a) pads.push_back({Pick(2), Pick(2)});
        return Push(x.Pad(pads), "pad " + src);
      }
      case 6: {
        PairList bounds;
        for (int64_t d : x.shape()) {
          int64_t b = d > 1 ? Pick(2) : 0;
          bounds.push_back({b, d - (d - b > 1 ? Pick(2) : 0)});
        }
        return Push(x.Shrink(bounds), "shrink " + src);
      }
      case 7:
        return Push(x.Flip({Pick(static_cast<int>(rank))}), "flip " + src);
      case 8:
        return Push(x.Reshape({x.numel()}).Reshape(x.shape()).Flatten(0, rank > 1 ? 1 : 0),
                    "flatten " + src);
      case 9: {
        const int64_t axis = Pick(static_cast<int>(rank));
        Tensor r = Pick(2) ? x.Sum({axis}, true) : x.Max({axis}, true);
        // Broadcast back and combine: a reduce read through an EXPAND.
        return Push(Pick(2) ? r : x.Sub(r.Expand(x.shape())),
                    absl::StrCat("reduce ", axis, " ", src));
      }
      case 10:
        return Push(x.Mul(2).Contiguous(), "contiguous " + src);
      case 11: {  // a reduce fused forward across a permute
        std::vector<int64_t> order(rank);
        for (int64_t a = 0; a < rank; ++a) order[a] = a;
        std::shuffle(order.begin(), order.end(), rng_);
        const int64_t axis = Pick(static_cast<int>(rank));
        Tensor p = x.Sum({axis}, true).Permute(order);
        return Push(p.Add(p.Sin()), absl::StrCat("sum ", axis, " permute+sin ", src));
      }
      default: {
        if (rank < 2) return Push(x.Unsqueeze(0).Expand({2, x.shape()[0]}), "expand " + src);
        return Push(x.Sum({rank - 1}).Unsqueeze(-1).Expand(x.shape()).Mul(x),
                    "sum-expand-mul " + src);
      }
    }
  }

  std::mt19937 rng_;
  std::vector<Tensor> pool_;
  std::string log_;
};

std::vector<std::vector<double>> Realize(uint32_t seed, std::string* log) {
  Program p(seed);
  std::vector<Tensor> outs = p.Build();
  *log = p.log();
  std::vector<Tensor*> ptrs;
  for (Tensor& t : outs) ptrs.push_back(&t);
  absl::Status st = Tensor::RealizeAll(ptrs);
  EXPECT_TRUE(st.ok()) << *log << st;
  std::vector<std::vector<double>> values;
  for (const Tensor& t : outs) values.push_back(Values(t));
  return values;
}

TEST(ScheduleFuzz, RandomProgramsMatchTheReference) {
  std::shared_ptr<Realizer> previous = Tensor::GetRealizer();
  std::shared_ptr<Engine> engine = std::make_shared<Engine>(EngineOptions{.cache_dir = "-"});
  for (uint32_t seed = 0; seed < kSeeds; ++seed) {
    std::string log;
    Tensor::SetRealizer(nullptr);
    std::vector<std::vector<double>> want = Realize(seed, &log);
    Tensor::SetRealizer(engine);
    std::vector<std::vector<double>> got = Realize(seed, &log);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_TRUE(AllClose(got[i], want[i], 1e-4, 1e-4))
          << "seed " << seed << " output " << i << "\n"
          << log;
  }
  Tensor::SetRealizer(previous);
}

}  // namespace
}  // namespace uop
