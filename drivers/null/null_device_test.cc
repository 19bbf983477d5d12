#include "drivers/null/null_device.h"

#include <memory>
#include <vector>

#include "drivers/device_registry.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

TEST(NullDevice, RegisteredAsNullWithSeveralIndices) {
  absl::StatusOr<Device*> d = DeviceRegistry::Global().Get("NULL");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->name(), "NULL:0");
  absl::StatusOr<Device*> d3 = DeviceRegistry::Global().Get("NULL:3");
  ASSERT_TRUE(d3.ok());
  EXPECT_NE(*d3, *d);
  EXPECT_EQ((*d3)->name(), "NULL:3");
  absl::Status st = DeviceRegistry::Global().Get("NULL:4").status();
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(st.message().find("NULL:0..3"), std::string::npos) << st;
}

TEST(NullDevice, AllocationsTrackSizesWithoutMemory) {
  std::unique_ptr<NullDevice> d = NullDevice::Create(0);
  // A terabyte "fits": nothing is allocated behind it.
  absl::StatusOr<DeviceBuffer*> big = d->allocator().Alloc(uint64_t{1} << 39);
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ((*big)->host_ptr(), nullptr);
  EXPECT_NE((*big)->device_address(), 0u);
  EXPECT_EQ((*big)->device_address() % 64, 0u);
  ScopedBuffer small(*d->allocator().Alloc(100));
  EXPECT_NE(small->id(), (*big)->id());
  EXPECT_EQ(d->memory_info().bytes_in_use, (uint64_t{1} << 39) + 100);
  d->allocator().Free(*big);
  EXPECT_EQ(d->memory_info().bytes_in_use, 100u);
  EXPECT_EQ(d->memory_info().peak_bytes_in_use, (uint64_t{1} << 39) + 100);
}

TEST(NullDevice, MemoryLimitIsEnforced) {
  std::unique_ptr<NullDevice> d = NullDevice::Create(0, {.memory_bytes = 1000});
  ScopedBuffer a(*d->allocator().Alloc(600));
  absl::Status st = d->allocator().Alloc(401).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(st.message().find("NULL:0"), std::string::npos) << st;
  absl::StatusOr<DeviceBuffer*> fits = d->allocator().Alloc(400);
  ASSERT_TRUE(fits.ok());
  d->allocator().Free(*fits);
}

TEST(NullDevice, CopiesCheckRangesAndReadZeros) {
  std::unique_ptr<NullDevice> d = NullDevice::Create(0);
  ScopedBuffer b(*d->allocator().Alloc(16));
  std::vector<uint8_t> host(8, 0xab);
  EXPECT_TRUE(d->allocator().CopyIn(*b, 8, host).ok());
  EXPECT_EQ(d->allocator().CopyIn(*b, 9, host).code(), absl::StatusCode::kOutOfRange);
  ASSERT_TRUE(d->allocator().CopyOut(*b, 0, absl::MakeSpan(host)).ok());
  EXPECT_EQ(host, std::vector<uint8_t>(8, 0));
  ScopedBuffer c(*d->allocator().Alloc(4));
  EXPECT_EQ(d->allocator().CopyBetween(*c, 0, *b, 0, 8).code(), absl::StatusCode::kOutOfRange);
}

TEST(NullDevice, CompileReturnsSourceAndLaunchesAreRecorded) {
  std::unique_ptr<NullDevice> d = NullDevice::Create(0);
  absl::StatusOr<std::string> bin = d->compiler().Compile("E_4", "void E_4() {}");
  ASSERT_TRUE(bin.ok());
  EXPECT_EQ(*bin, "void E_4() {}");
  EXPECT_EQ(d->compile_count(), 1u);
  absl::StatusOr<std::unique_ptr<Program>> p = d->LoadProgram({"E_4", {16, 8}, 1}, *bin);
  ASSERT_TRUE(p.ok());
  ScopedBuffer out(*d->allocator().Alloc(16)), in(*d->allocator().Alloc(8));
  DeviceBuffer* bufs[] = {out.get(), in.get()};
  const int64_t vars[] = {7};
  RunTiming t{.seconds = -1};
  ASSERT_TRUE((*p)->Run(bufs, vars, LaunchDims{4, 2, 1}, LaunchDims{32, 1, 1}, &t).ok());
  EXPECT_EQ(t.seconds, 0);
  ASSERT_TRUE((*p)->Run(bufs, vars, LaunchDims{1}, LaunchDims{}).ok());
  std::vector<LaunchRecord> l = d->launches();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].name, "E_4");
  EXPECT_EQ(l[0].source, "void E_4() {}");
  EXPECT_EQ(l[0].global, (LaunchDims{4, 2, 1}));
  EXPECT_EQ(l[0].local, (LaunchDims{32, 1, 1}));
  EXPECT_EQ(l[0].buffer_ids, (std::vector<uint64_t>{out->id(), in->id()}));
  EXPECT_EQ(l[0].buffer_sizes, (std::vector<uint64_t>{16, 8}));
  EXPECT_EQ(l[0].vars, (std::vector<int64_t>{7}));
  EXPECT_EQ(l[0].buffer_offsets, (std::vector<uint64_t>{0, 0}));
  EXPECT_EQ(l[1].global, (LaunchDims{1, 1, 1}));
  d->ClearLaunches();
  EXPECT_TRUE(d->launches().empty());
}

TEST(NullDevice, LaunchRecordsShowArenaViews) {
  std::unique_ptr<NullDevice> d = NullDevice::Create(0);
  ScopedBuffer arena(*d->allocator().Alloc(1024));
  std::unique_ptr<DeviceBuffer> a = *MakeSubBuffer(*arena, 0, 512);
  std::unique_ptr<DeviceBuffer> b = *MakeSubBuffer(*arena, 512, 256);
  std::unique_ptr<Program> p = *d->LoadProgram({"k", {512, 256}, 0}, "src");
  DeviceBuffer* bufs[] = {a.get(), b.get()};
  ASSERT_TRUE(p->Run(bufs, {}, {}, {}).ok());
  const LaunchRecord r = d->launches().at(0);
  EXPECT_EQ(r.buffer_ids, (std::vector<uint64_t>{arena->id(), arena->id()}));
  EXPECT_EQ(r.buffer_offsets, (std::vector<uint64_t>{0, 512}));
  EXPECT_EQ(r.buffer_sizes, (std::vector<uint64_t>{512, 256}));
}

TEST(NullDevice, BadLaunchesFailLikeOnRealDevices) {
  std::unique_ptr<NullDevice> d = NullDevice::Create(0);
  absl::StatusOr<std::unique_ptr<Program>> p = d->LoadProgram({"k", {16}, 0}, "src");
  ASSERT_TRUE(p.ok());
  ScopedBuffer small(*d->allocator().Alloc(8));
  DeviceBuffer* bufs[] = {small.get()};
  absl::Status st = (*p)->Run(bufs, {}, {}, {});
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("NULL:0: program 'k'"), std::string::npos) << st;
  EXPECT_TRUE(d->launches().empty());
}

TEST(NullDevice, QueueRecordsLaunchesInOrderAndSignals) {
  std::unique_ptr<NullDevice> d = NullDevice::Create(1);
  std::unique_ptr<Program> a = *d->LoadProgram({"a", {}, 0}, "A");
  std::unique_ptr<Program> b = *d->LoadProgram({"b", {}, 0}, "B");
  std::unique_ptr<Queue> q = *d->CreateQueue("compute");
  EXPECT_EQ(q->name(), "NULL:1/compute");
  std::unique_ptr<Signal> done = *d->CreateSignal("done");
  auto cmds = std::make_shared<CommandBuffer>();
  cmds->Exec(a.get(), {}, {}, {}, {}).Exec(b.get(), {}, {}, {}, {}).SignalValue(done.get(), 1);
  ASSERT_TRUE(q->Submit(cmds).ok());
  ASSERT_TRUE(q->Submit(cmds).ok());
  ASSERT_TRUE(q->Wait(absl::Seconds(10)).ok());
  EXPECT_EQ(done->value(), 1u);
  std::vector<LaunchRecord> l = d->launches();
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(l[0].name, "a");
  EXPECT_EQ(l[1].name, "b");
  EXPECT_EQ(l[2].name, "a");
  EXPECT_EQ(l[3].name, "b");
}

}  // namespace
}  // namespace uop
