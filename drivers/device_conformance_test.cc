// Behavior every backend must share, run on every registered device: the
// one harness a new backend is checked with (add its cc_library to deps).
#include <memory>
#include <string>
#include <vector>

#include "drivers/device_registry.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

class DeviceConformance : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    absl::StatusOr<Device*> d = DeviceRegistry::Global().Get(GetParam());
    ASSERT_TRUE(d.ok()) << d.status();
    dev_ = *d;
  }
  Device* dev_ = nullptr;
};

TEST_P(DeviceConformance, InfoIsComplete) {
  const DeviceInfo& info = dev_->info();
  EXPECT_EQ(info.name, GetParam());
  EXPECT_FALSE(info.description.empty());
  EXPECT_TRUE(info.language == "llvm-ir" || info.language == "c" || info.language == "cuda")
      << info.language;
  EXPECT_GE(info.compute_units, 1);
  EXPECT_GE(info.max_vector_bytes, 16);
  EXPECT_GE(info.max_global.x, 1);
  EXPECT_GE(info.max_local.x, 1);
  EXPECT_GT(info.total_memory, 0u);
  EXPECT_FALSE(dev_->compiler().CacheKey().empty());
}

TEST_P(DeviceConformance, AllocatorTracksUseAndChecksRanges) {
  Allocator& a = dev_->allocator();
  const AllocatorStats before = a.stats();
  absl::StatusOr<DeviceBuffer*> b = a.Alloc(1000);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->size(), 1000u);
  EXPECT_EQ((*b)->owner(), &a);
  EXPECT_EQ(a.stats().bytes_in_use, before.bytes_in_use + 1000);
  EXPECT_GE(a.stats().peak_bytes_in_use, before.bytes_in_use + 1000);
  std::vector<uint8_t> host(100);
  EXPECT_TRUE(a.CopyIn(**b, 900, host).ok());
  EXPECT_TRUE(a.CopyOut(**b, 900, absl::MakeSpan(host)).ok());
  EXPECT_EQ(a.CopyIn(**b, 901, host).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(a.CopyOut(**b, 901, absl::MakeSpan(host)).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(a.Alloc(8, BufferOptions{.alignment = 3}).status().code(),
            absl::StatusCode::kInvalidArgument);
  a.Free(*b);
  a.Free(nullptr);
  EXPECT_EQ(a.stats().bytes_in_use, before.bytes_in_use);
}

TEST_P(DeviceConformance, SubBuffersCopyWithinTheirRangeAndCannotBeFreed) {
  Allocator& a = dev_->allocator();
  ScopedBuffer arena(*a.Alloc(4096));
  absl::StatusOr<std::unique_ptr<DeviceBuffer>> v = MakeSubBuffer(*arena, 1024, 256);
  ASSERT_TRUE(v.ok());
  std::vector<uint8_t> host(256, 7);
  EXPECT_TRUE(a.CopyIn(**v, 0, host).ok());
  EXPECT_EQ(a.CopyIn(**v, 1, host).code(), absl::StatusCode::kOutOfRange);
  EXPECT_DEATH(a.Free(v->get()), "is a sub-buffer view");
}

TEST_P(DeviceConformance, SignalsAreMonotonicAndWaitsBounded) {
  absl::StatusOr<std::unique_ptr<Signal>> s = dev_->CreateSignal("conformance", 2);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->value(), 2u);
  EXPECT_EQ((*s)->device(), GetParam());
  EXPECT_EQ((*s)->Set(1).code(), absl::StatusCode::kInvalidArgument);
  absl::Status st = (*s)->Wait(3, absl::Milliseconds(5));
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_NE(st.message().find(GetParam()), std::string::npos) << st;
  EXPECT_NE(st.message().find("'conformance'"), std::string::npos) << st;
  EXPECT_EQ((*s)->Wait(3, absl::InfiniteDuration()).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE((*s)->Set(3).ok());
  EXPECT_TRUE((*s)->Wait(3, absl::ZeroDuration()).ok());
}

TEST_P(DeviceConformance, QueueOrdersWorkAcrossQueuesWithSignals) {
  absl::StatusOr<std::unique_ptr<Queue>> q1 = dev_->CreateQueue("one");
  absl::StatusOr<std::unique_ptr<Queue>> q2 = dev_->CreateQueue("two");
  ASSERT_TRUE(q1.ok() && q2.ok());
  EXPECT_EQ((*q1)->name(), GetParam() + "/one");
  std::unique_ptr<Signal> mid = *dev_->CreateSignal("mid"), end = *dev_->CreateSignal("end");
  ScopedBuffer a(*dev_->allocator().Alloc(64)), b(*dev_->allocator().Alloc(64));
  auto second = std::make_shared<CommandBuffer>();
  second->Wait(mid.get(), 1).Copy(b.get(), 0, a.get(), 0, 64).SignalValue(end.get(), 1);
  ASSERT_TRUE((*q2)->Submit(second).ok());
  auto first = std::make_shared<CommandBuffer>();
  first->SignalValue(mid.get(), 1);
  ASSERT_TRUE((*q1)->Submit(first).ok());
  EXPECT_TRUE(end->Wait(1, absl::Seconds(10)).ok());
  EXPECT_TRUE((*q1)->Wait(absl::Seconds(10)).ok());
  EXPECT_TRUE((*q2)->Wait(absl::Seconds(10)).ok());
}

TEST_P(DeviceConformance, LoadingGarbageIsAnErrorOrARecordingNeverACrash) {
  absl::StatusOr<std::unique_ptr<Program>> p =
      dev_->LoadProgram({"k", {}, 0}, std::string("\x7f"
                                                  "ELF garbage",
                                                  12));
  if (p.ok()) {
    // Only the null device, which runs nothing, may accept it.
    EXPECT_EQ(dev_->name().rfind("NULL:", 0), 0u) << dev_->name() << " loaded garbage";
  } else {
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << p.status();
  }
}

INSTANTIATE_TEST_SUITE_P(AllDevices, DeviceConformance,
                         testing::ValuesIn(DeviceRegistry::Global().AvailableDevices()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& c : n) {
                             if (c == ':') c = '_';
                           }
                           return n;
                         });

}  // namespace
}  // namespace uop
