#include <atomic>

#include "runtime/tensor/reference_eval.h"
#include "runtime/tensor/tensor.h"
#include "runtime/tensor/tensor_test_util.h"

namespace uop {
namespace {

// Forwards to the reference realizer and records what it was given.
class RecordingRealizer : public Realizer {
 public:
  absl::string_view name() const override { return "recording"; }
  absl::Status Realize(const UOpPtr& sink) override {
    ++calls;
    last_sink = sink;
    return reference.Realize(sink);
  }
  absl::Status CopyToHost(Storage& s) override { return reference.CopyToHost(s); }

  int calls = 0;
  UOpPtr last_sink;
  ReferenceRealizer reference;
};

class TensorRealize : public ::testing::Test {
 protected:
  void SetUp() override {
    recorder_ = std::make_shared<RecordingRealizer>();
    Tensor::SetRealizer(recorder_);
  }
  void TearDown() override { Tensor::SetRealizer(nullptr); }
  std::shared_ptr<RecordingRealizer> recorder_;
};

TEST_F(TensorRealize, BuildingGraphsComputesNothing) {
  Tensor x = Tensor::FromVector<float>({1, 2, 3, 4}, Shape{2, 2});
  Tensor y = x.Matmul(x).Relu().Softmax().Sum({1}).Exp();
  EXPECT_TRUE(y.ok());
  EXPECT_EQ(recorder_->calls, 0);
  ASSERT_TRUE(y.Realize().ok());
  EXPECT_EQ(recorder_->calls, 1);
}

TEST_F(TensorRealize, RealizeHandsOverSinkOfAssignIntoFreshBuffer) {
  Tensor x = Tensor::FromVector<int32_t>({1, 2, 3, 4}, Shape{2, 2});
  Tensor y = x.Add(10);
  ASSERT_TRUE(y.Realize().ok());
  const UOpPtr& sink = recorder_->last_sink;
  ASSERT_EQ(sink->op(), Op::kSink);
  ASSERT_EQ(sink->num_srcs(), 1u);
  const UOpPtr& assign = sink->src(0);
  EXPECT_EQ(assign->op(), Op::kAssign);
  EXPECT_EQ(assign->src(0)->op(), Op::kReshape);
  EXPECT_EQ(assign->src(0)->src(0)->op(), Op::kBuffer);
  EXPECT_EQ(assign->src(1)->op(), Op::kAdd);
  // Now y is a view of its own realized buffer; realizing again is free.
  EXPECT_EQ(y.uop(), assign->src(0));
  ASSERT_EQ(y.storages().storages().size(), 1u);
  EXPECT_TRUE(y.storages().storages()[0]->realized());
  ASSERT_TRUE(y.Realize().ok());
  EXPECT_EQ(recorder_->calls, 1);
  EXPECT_EQ(*y.ToVector<int32_t>(), (std::vector<int32_t>{11, 12, 13, 14}));
  EXPECT_EQ(recorder_->calls, 1);
  // Source buffers are not copied.
  ASSERT_TRUE(x.Realize().ok());
  EXPECT_EQ(recorder_->calls, 1);
}

TEST_F(TensorRealize, RealizeAllSharesOneSink) {
  Tensor x = Tensor::FromVector<float>({1, 2});
  Tensor a = x.Mul(2), b = x.Add(1), c = a;
  std::vector<Tensor*> all = {&a, &b, &c};
  ASSERT_TRUE(Tensor::RealizeAll(all).ok());
  EXPECT_EQ(recorder_->calls, 1);
  EXPECT_EQ(recorder_->last_sink->num_srcs(), 2u);  // c and a share one output
  EXPECT_EQ(a.uop(), c.uop());
  EXPECT_EQ(Values(b), (std::vector<double>{2, 3}));
}

TEST_F(TensorRealize, AssignUpdatesTheBuffer) {
  Tensor w = Tensor::FromVector<float>({1, 2, 3});
  Tensor alias = w;
  Tensor reader = w.Mul(1);  // reads the buffer lazily
  w.Assign(w.Add(10));
  EXPECT_EQ(w.uop()->op(), Op::kAssign);
  EXPECT_EQ(recorder_->calls, 0);
  ASSERT_TRUE(w.Realize().ok());
  EXPECT_EQ(recorder_->last_sink->src(0)->op(), Op::kAssign);
  EXPECT_NE(w.uop()->op(), Op::kAssign);
  EXPECT_EQ(Values(w), (std::vector<double>{11, 12, 13}));
  EXPECT_EQ(Values(alias), (std::vector<double>{11, 12, 13}));   // same buffer
  EXPECT_EQ(Values(reader), (std::vector<double>{11, 12, 13}));  // read after the write
  // Broadcast value, and a second update reading the first.
  w.Assign(Tensor::FromVector<float>({0.5}));
  w.Assign(w.Mul(4));
  EXPECT_EQ(Values(w), (std::vector<double>{2, 2, 2}));
  w.Assign(7);
  EXPECT_EQ(Values(w), (std::vector<double>{7, 7, 7}));
}

TEST_F(TensorRealize, AStaleAssignNeverRunsTwice) {
  Tensor w = Tensor::FromVector<int32_t>({1});
  w.Assign(w.Add(1));
  Tensor stale = w;  // holds the same ASSIGN
  ASSERT_TRUE(w.Realize().ok());
  EXPECT_EQ(Values(w), (std::vector<double>{2}));
  // Realizing the copy does not increment again: it reads the buffer.
  EXPECT_EQ(Values(stale), (std::vector<double>{2}));
  EXPECT_EQ(Values(stale.Add(0)), (std::vector<double>{2}));
  // A fresh identical Assign is a new write.
  w.Assign(w.Add(1));
  EXPECT_EQ(Values(w), (std::vector<double>{3}));
}

TEST_F(TensorRealize, AssignThroughASliceWritesPartOfTheBuffer) {
  Tensor w = Tensor::FromVector<int32_t>({1, 2, 3, 4, 5, 6}, Shape{2, 3});
  Tensor right = w.Slice(1, 1, std::nullopt).Flip({0});
  right.Assign(Tensor::FromVector<int32_t>({10, 20, 30, 40}, Shape{2, 2}));
  ASSERT_TRUE(right.Realize().ok());
  EXPECT_EQ(Values(w), (std::vector<double>{1, 30, 40, 4, 10, 20}));
}

TEST_F(TensorRealize, AssignErrors) {
  Tensor w = Tensor::FromVector<float>({1, 2});
  Tensor lazy = w.Add(1);
  Tensor r = lazy.Assign(w);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorOf(r),
            "Assign: the target must be a view of a buffer (Realize() it first), got ADD");
  EXPECT_TRUE(lazy.ok());  // unchanged on error
  EXPECT_EQ(ErrorOf(w.Assign(Tensor::FromVector<int32_t>({1, 2}))),
            "Assign: value dtype int32 differs from target dtype float32");
  EXPECT_EQ(ErrorOf(w.Assign(Tensor::FromVector<float>({1, 2, 3}))),
            "Assign: cannot broadcast shapes (3,) and (2,)");
  EXPECT_EQ(ErrorOf(w.Assign(Tensor::FromVector<float>({1, 2, 3, 4}, Shape{2, 2}))),
            "Assign: value shape (2, 2) does not broadcast to target shape (2,)");
  EXPECT_EQ(ErrorOf(w.Expand({2, 2}).Assign(Tensor::Zeros({2, 2}))),
            "Assign: the target must be a view of a buffer (Realize() it first), got EXPAND");
  EXPECT_EQ(Values(w), (std::vector<double>{1, 2}));
}

TEST_F(TensorRealize, RealizerErrorsSurface) {
  Tensor e = Tensor::Empty({2});
  absl::Status s = e.Add(1).Realize();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("not realized"), std::string::npos) << s;
}

TEST_F(TensorRealize, GraphMarkers) {
  Tensor x = Tensor::FromVector<float>({1, 2});
  EXPECT_EQ(x.Contiguous().uop()->op(), Op::kContiguous);
  EXPECT_EQ(x.Detach().uop()->op(), Op::kDetach);
  Tensor moved = x.To("CUDA:1");
  EXPECT_EQ(moved.uop()->op(), Op::kCopy);
  EXPECT_EQ(moved.device(), "CUDA:1");
  EXPECT_EQ(moved.uop()->src(1)->op(), Op::kDevice);
  EXPECT_EQ(x.To("CPU").uop(), x.uop());
  EXPECT_EQ(Values(x.Contiguous().Detach()), (std::vector<double>{1, 2}));
  // The reference treats every device as the host: copies are identities.
  EXPECT_EQ(Values(moved.Mul(2)), (std::vector<double>{2, 4}));
}

TEST(TensorStorage, TensorsKeepTheirStoragesAlive) {
  const size_t before = LiveStorageCount();
  {
    Tensor a = Tensor::FromVector<float>({1, 2});
    Tensor b = Tensor::FromVector<float>({3, 4});
    Tensor c = a.Add(b).Mul(a);
    EXPECT_EQ(c.storages().storages().size(), 2u);
    EXPECT_EQ(LiveStorageCount(), before + 2);
    a = Tensor();
    b = Tensor();
    EXPECT_EQ(LiveStorageCount(), before + 2);  // c still reads them
    EXPECT_EQ(Values(c), (std::vector<double>{4, 12}));
    ASSERT_TRUE(c.Realize().ok());
    // After realize c holds only its own buffer.
    EXPECT_EQ(LiveStorageCount(), before + 1);
  }
  EXPECT_EQ(LiveStorageCount(), before);
}

}  // namespace
}  // namespace uop
