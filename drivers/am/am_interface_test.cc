// AmDevice over a fake AmGpuInterface: memory, events and queues go through
// the interface with the specs AmEngine fills, the CP-facing wiring (the
// completion signal's mailbox) uses the interface's event page, interface
// failures come back out of AmDevice as they went in, and nothing the device
// made through the interface outlives it, even after a failure.
#include "drivers/am/am_interface.h"

#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "drivers/am/abi/hsa.h"
#include "drivers/am/am_device.h"
#include "drivers/am/am_queue.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

// What the fake saw and what it will do; shared with the test, so that it
// can be read after the device (which owns the fake) is gone.
struct FakeState {
  struct Alloc {
    AmMemory mem;
    bool cpu_map = false;
  };
  struct Wait {
    std::vector<uint32_t> events;
    uint32_t timeout_ms = 0;
  };
  std::mutex mu;
  std::vector<Alloc> allocs;       // every successful Alloc, in order
  std::map<uint64_t, void*> live;  // handle -> backing
  std::vector<std::pair<uint32_t, AmEventType>> events_created;
  std::set<uint32_t> live_events;
  std::vector<uint32_t> resets;
  std::vector<Wait> waits;
  std::vector<AmQueueSpec> queues;
  std::set<uint32_t> live_queues;
  uint64_t doorbells[8] = {};
  // Failure injection: the status the next call returns instead.
  std::optional<absl::Status> fail_alloc, fail_queue, fail_signal_event;
  int alloc_failures_left = 0;  // how many Allocs fail_alloc answers
  // What WaitEvents returns (default: a timeout).
  std::function<std::vector<AmEventData>(const std::vector<uint32_t>&)> on_wait;
};

constexpr uint32_t kSignalSlotBase = 5;  // slots differ from ids on purpose

class FakeGpu final : public AmGpuInterface {
 public:
  explicit FakeGpu(std::shared_ptr<FakeState> s) : s_(std::move(s)) {
    page_backing_ = std::aligned_alloc(4096, 0x8000);
    std::memset(page_backing_, 0, 0x8000);
    page_.handle = 0xE0E0;
    page_.va = reinterpret_cast<uint64_t>(page_backing_);
    page_.size = 0x8000;
    page_.flags = kAmMemGtt;
    page_.cpu = static_cast<uint8_t*>(page_backing_);
  }
  ~FakeGpu() override { std::free(page_backing_); }

  const std::string& device() const override { return name_; }
  std::string Describe() const override { return "fake interface"; }

  absl::StatusOr<AmMemory> Alloc(size_t bytes, uint32_t flags, bool cpu_map) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (s_->fail_alloc.has_value() && s_->alloc_failures_left > 0) {
      --s_->alloc_failures_left;
      return *s_->fail_alloc;
    }
    AmMemory m;
    m.size = (bytes + 4095) / 4096 * 4096;
    void* p = std::aligned_alloc(4096, m.size);
    std::memset(p, 0, m.size);
    m.handle = next_handle_++;
    m.va = reinterpret_cast<uint64_t>(p);
    m.flags = flags;
    m.cpu = cpu_map ? static_cast<uint8_t*>(p) : nullptr;
    s_->live[m.handle] = p;
    s_->allocs.push_back({m, cpu_map});
    return m;
  }
  absl::Status Free(const AmMemory& m) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    auto it = s_->live.find(m.handle);
    if (it == s_->live.end()) return absl::NotFoundError("fake: freeing an unknown handle");
    std::free(it->second);
    s_->live.erase(it);
    return absl::OkStatus();
  }

  absl::StatusOr<AmEvent> CreateEvent(AmEventType type, bool auto_reset) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (type == AmEventType::kSignal && s_->fail_signal_event.has_value()) {
      return *s_->fail_signal_event;
    }
    const uint32_t id = next_event_++;
    s_->events_created.push_back({id, type});
    s_->live_events.insert(id);
    return AmEvent{.id = id, .slot = kSignalSlotBase + id};
  }
  absl::Status DestroyEvent(uint32_t event) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    return s_->live_events.erase(event) == 1 ? absl::OkStatus()
                                             : absl::NotFoundError("fake: unknown event");
  }
  absl::Status ResetEvent(uint32_t event) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->resets.push_back(event);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<AmEventData>> WaitEvents(const std::vector<uint32_t>& events,
                                                      uint32_t timeout_ms) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->waits.push_back({events, timeout_ms});
    if (s_->on_wait) return s_->on_wait(events);
    return std::vector<AmEventData>{};
  }
  const AmMemory& event_page() const override { return page_; }

  absl::StatusOr<AmQueueInfo> CreateQueue(const AmQueueSpec& spec) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    if (s_->fail_queue.has_value()) return *s_->fail_queue;
    const size_t i = s_->queues.size();
    if (i >= 8) return absl::ResourceExhaustedError("fake: out of doorbells");
    s_->queues.push_back(spec);
    s_->live_queues.insert(static_cast<uint32_t>(100 + i));
    return AmQueueInfo{.queue_id = static_cast<uint32_t>(100 + i), .doorbell = &s_->doorbells[i]};
  }
  absl::Status DestroyQueue(uint32_t queue_id) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    return s_->live_queues.erase(queue_id) == 1 ? absl::OkStatus()
                                                : absl::NotFoundError("fake: unknown queue");
  }

 private:
  const std::shared_ptr<FakeState> s_;
  const std::string name_ = "AM_FAKE:0";
  void* page_backing_ = nullptr;
  AmMemory page_;
  uint64_t next_handle_ = 1;  // guarded by s_->mu
  uint32_t next_event_ = 1;   // guarded by s_->mu
};

// A gfx1100 with 48 CUs, as KFD's topology would describe it.
AmGpuNode Node() {
  AmGpuNode n;
  n.properties = {{"gfx_target_version", 110000},
                  {"simd_count", 96},
                  {"simd_per_cu", 2},
                  {"max_waves_per_simd", 16},
                  {"array_count", 6},
                  {"simd_arrays_per_engine", 2},
                  {"lds_size_in_kb", 64},
                  {"local_mem_size", uint64_t{1} << 30},
                  {"device_id", 0x744c}};
  return n;
}

AmDevice::Options Opts() {
  AmDevice::Options o;
  o.aql_packets = 128;
  o.kernarg_bytes = 64 * 1024;
  o.run_timeout = absl::Seconds(2);
  return o;
}

absl::StatusOr<std::unique_ptr<AmDevice>> Make(const std::shared_ptr<FakeState>& s,
                                               AmGpuNode node = Node()) {
  return AmDevice::Create(std::make_unique<FakeGpu>(s), std::move(node), Opts());
}

// The successful Alloc whose range holds `va`.
std::optional<FakeState::Alloc> AllocHolding(FakeState& s, uint64_t va) {
  for (const FakeState::Alloc& a : s.allocs)
    if (va >= a.mem.va && va < a.mem.va + a.mem.size) return a;
  return std::nullopt;
}

// Nothing the device made through the interface is left.
void ExpectAllReleased(FakeState& s) {
  EXPECT_TRUE(s.live.empty()) << s.live.size() << " allocations left";
  EXPECT_TRUE(s.live_events.empty()) << s.live_events.size() << " events left";
  EXPECT_TRUE(s.live_queues.empty()) << s.live_queues.size() << " queues left";
}

TEST(AmInterface, CreateGoesThroughTheInterfaceWithTheExpectedSpecs) {
  auto s = std::make_shared<FakeState>();
  absl::StatusOr<std::unique_ptr<AmDevice>> d = Make(s);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)->info().name, "AM_FAKE:0");  // the interface's device()
  EXPECT_EQ((*d)->node().arch, "gfx1100");    // from gfx_target_version
  EXPECT_EQ((*d)->info().description, "AMD GPU 744c (gfx1100, 48 CUs, 1024 MiB, fake interface)");
  EXPECT_EQ((*d)->info().total_memory, uint64_t{1} << 30);

  // The canary: the first allocation, public VRAM mapped for the CPU.
  ASSERT_FALSE(s->allocs.empty());
  EXPECT_EQ(s->allocs[0].mem.flags, kAmVramFlags);
  EXPECT_TRUE(s->allocs[0].cpu_map);
  uint64_t canary;
  std::memcpy(&canary, s->allocs[0].mem.cpu, 8);
  EXPECT_EQ(canary, AmAllocator::kCanary);

  // The device's fault events, then the sync queue's signal event.
  ASSERT_EQ(s->events_created.size(), 3u);
  EXPECT_EQ(s->events_created[0].second, AmEventType::kMemoryFault);
  EXPECT_EQ(s->events_created[0].first, (*d)->memory_event());
  EXPECT_EQ(s->events_created[1].second, AmEventType::kHwException);
  EXPECT_EQ(s->events_created[1].first, (*d)->hw_event());
  EXPECT_EQ(s->events_created[2].second, AmEventType::kSignal);

  // The sync queue: an AQL queue over GTT rings and private VRAM buffers.
  ASSERT_EQ(s->queues.size(), 1u);
  const AmQueueSpec& q = s->queues[0];
  EXPECT_EQ(q.type, AmQueueType::kComputeAql);
  EXPECT_EQ(q.ring_bytes, 128 * sizeof(hsa::kernel_dispatch_packet));
  std::optional<FakeState::Alloc> ring = AllocHolding(*s, q.ring_va);
  ASSERT_TRUE(ring.has_value());
  EXPECT_EQ(ring->mem.va, q.ring_va);
  EXPECT_EQ(ring->mem.flags, kAmGttFlags);
  std::optional<FakeState::Alloc> gart = AllocHolding(*s, q.write_pointer_va);
  ASSERT_TRUE(gart.has_value());
  EXPECT_EQ(gart->mem.flags, kAmGttFlags);
  EXPECT_EQ(q.write_pointer_va, gart->mem.va + offsetof(hsa::amd_queue, write_dispatch_id));
  EXPECT_EQ(q.read_pointer_va, gart->mem.va + offsetof(hsa::amd_queue, read_dispatch_id));
  std::optional<FakeState::Alloc> eop = AllocHolding(*s, q.eop_va);
  ASSERT_TRUE(eop.has_value());
  EXPECT_EQ(eop->mem.flags, kAmPrivateVramFlags);
  EXPECT_FALSE(eop->cpu_map);
  EXPECT_EQ(q.eop_bytes, eop->mem.size);
  const CwsrSizes cwsr = CwsrSizesFor((*d)->node());
  EXPECT_EQ(q.ctx_save_restore_bytes, cwsr.ctx_save_restore);
  EXPECT_EQ(q.ctl_stack_bytes, cwsr.ctl_stack);
  std::optional<FakeState::Alloc> save = AllocHolding(*s, q.ctx_save_restore_va);
  ASSERT_TRUE(save.has_value());
  EXPECT_GE(save->mem.size, uint64_t{cwsr.ctx_save_restore} + cwsr.debug_memory);
  EXPECT_EQ(q.priority, 7u);
  EXPECT_EQ(q.percentage, 100u);

  // The completion signal in the queue's GTT page posts the queue's event
  // to its mailbox in the interface's event page.
  const uint32_t event = s->events_created[2].first;
  const uint64_t mailbox = (*d)->gpu_interface().event_page().va + 8 * (kSignalSlotBase + event);
  const hsa::amd_signal* signal = nullptr;
  for (size_t off = 0; off + sizeof(hsa::amd_signal) <= gart->mem.size; off += 8) {
    auto* cand = reinterpret_cast<const hsa::amd_signal*>(gart->mem.cpu + off);
    if (cand->event_mailbox_ptr == mailbox) signal = cand;
  }
  ASSERT_NE(signal, nullptr) << "no signal names the event's mailbox";
  EXPECT_EQ(signal->event_id, event);
  EXPECT_EQ(signal->value, AmEngine::kFenceBase);

  d->reset();
  ExpectAllReleased(*s);
}

TEST(AmInterface, AllocatorHonorsTheMemoryLimit) {
  auto s = std::make_shared<FakeState>();
  AmDevice::Options o = Opts();
  o.memory.memory_limit = 64 << 10;
  absl::StatusOr<std::unique_ptr<AmDevice>> d =
      AmDevice::Create(std::make_unique<FakeGpu>(s), Node(), std::move(o));
  ASSERT_TRUE(d.ok()) << d.status();
  Allocator& a = (*d)->allocator();
  absl::StatusOr<DeviceBuffer*> b = a.Alloc(40000);
  ASSERT_TRUE(b.ok()) << b.status();
  const size_t allocs = s->allocs.size();
  absl::StatusOr<DeviceBuffer*> over = a.Alloc(30000);
  ASSERT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted) << over.status();
  EXPECT_NE(over.status().message().find("AM_FAKE:0: allocating 30000 bytes exceeds the memory "
                                         "limit of 65536"),
            absl::string_view::npos)
      << over.status();
  EXPECT_EQ(s->allocs.size(), allocs);  // refused before the interface is asked
  a.Free(*b);
  absl::StatusOr<DeviceBuffer*> fits = a.Alloc(30000);  // the cached block does not count
  ASSERT_TRUE(fits.ok()) << fits.status();
  a.Free(*fits);
}

TEST(AmInterface, AllocatorAllocatesAndFreesThroughTheInterface) {
  auto s = std::make_shared<FakeState>();
  absl::StatusOr<std::unique_ptr<AmDevice>> d = Make(s);
  ASSERT_TRUE(d.ok()) << d.status();
  Allocator& a = (*d)->allocator();
  const size_t before = s->allocs.size();
  absl::StatusOr<DeviceBuffer*> b = a.Alloc(1000);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(s->allocs.size(), before + 1);
  const FakeState::Alloc got = s->allocs.back();
  EXPECT_EQ(got.mem.size, 4096u);  // the size class
  EXPECT_EQ(got.mem.flags, kAmVramFlags);
  EXPECT_TRUE(got.cpu_map);
  EXPECT_EQ((*b)->device_address(), got.mem.va);
  EXPECT_EQ((*b)->host_ptr(), got.mem.cpu);
  const std::vector<uint8_t> data = {1, 2, 3, 4};
  ASSERT_TRUE(a.CopyIn(**b, 10, data).ok());
  EXPECT_EQ(std::memcmp(got.mem.cpu + 10, data.data(), 4), 0);

  // Freed buffers are cached; ReleaseCached hands them back.
  a.Free(*b);
  EXPECT_EQ(s->live.count(got.mem.handle), 1u);
  a.ReleaseCached();
  EXPECT_EQ(s->live.count(got.mem.handle), 0u);

  // Out of memory: the allocator drops its cache and retries once.
  absl::StatusOr<DeviceBuffer*> cached = a.Alloc(4096);
  ASSERT_TRUE(cached.ok());
  const uint64_t cached_handle = s->allocs.back().mem.handle;
  a.Free(*cached);
  s->fail_alloc = absl::ResourceExhaustedError("fake: out of VRAM");
  s->alloc_failures_left = 1;
  absl::StatusOr<DeviceBuffer*> retried = a.Alloc(8192);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(s->live.count(cached_handle), 0u);
  a.Free(*retried);

  // Still out of memory: the interface's error comes back as it was.
  s->alloc_failures_left = 2;
  absl::StatusOr<DeviceBuffer*> failed = a.Alloc(1 << 20);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(failed.status().message(), "fake: out of VRAM");

  d->reset();
  ExpectAllReleased(*s);
}

TEST(AmInterface, FenceWaitsResetThenWaitOnTheQueueAndFaultEvents) {
  auto s = std::make_shared<FakeState>();
  absl::StatusOr<std::unique_ptr<AmDevice>> d = Make(s);
  ASSERT_TRUE(d.ok()) << d.status();
  absl::StatusOr<std::unique_ptr<AmEngine>> e =
      AmEngine::Create(d->get(), "AM_FAKE:0/q", absl::Seconds(1));
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ(s->queues.size(), 2u);  // the sync queue's, then this one's
  const uint32_t event = s->events_created.back().first;
  EXPECT_EQ(s->events_created.back().second, AmEventType::kSignal);

  // Not complete, the interface times out: OK (the caller re-checks).
  s->resets.clear();
  s->waits.clear();
  ASSERT_TRUE((*e)->WaitFence(1, absl::Milliseconds(30)).ok());
  ASSERT_EQ(s->resets, std::vector<uint32_t>{event});
  ASSERT_EQ(s->waits.size(), 1u);
  EXPECT_EQ(s->waits[0].events,
            (std::vector<uint32_t>{event, (*d)->memory_event(), (*d)->hw_event()}));
  EXPECT_EQ(s->waits[0].timeout_ms, 30u);
  EXPECT_EQ(*(*e)->CompletedFence(), 0u);

  // A memory fault reported by the interface fails the wait.
  const uint32_t mem_event = (*d)->memory_event();
  s->on_wait = [&](const std::vector<uint32_t>& ids) {
    std::vector<AmEventData> out(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) out[i].id = ids[i];
    out[1].memory_fault = AmMemoryFault{.va = 0xdead000, .not_present = true};
    EXPECT_EQ(ids[1], mem_event);
    return out;
  };
  absl::Status st = (*e)->WaitFence(1, absl::Milliseconds(30));
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("AM_FAKE:0/q: GPU memory fault at 0xdead000 (not present 1"),
            std::string::npos)
      << st;

  // So does a hardware exception.
  s->on_wait = [](const std::vector<uint32_t>& ids) {
    std::vector<AmEventData> out(ids.size());
    out[2].hw_exception = AmHwException{.reset_type = 2, .reset_cause = 1, .memory_lost = true};
    return out;
  };
  st = (*e)->WaitFence(1, absl::Milliseconds(30));
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("GPU hardware exception (reset type 2, cause 1, memory lost 1)"),
            std::string::npos)
      << st;

  // The CP decrementing the completion signal completes fence 1 with no wait.
  const std::optional<FakeState::Alloc> gart = AllocHolding(*s, s->queues[1].write_pointer_va);
  ASSERT_TRUE(gart.has_value());
  const uint64_t mailbox = (*d)->gpu_interface().event_page().va + 8 * (kSignalSlotBase + event);
  hsa::amd_signal* signal = nullptr;
  for (size_t off = 0; off + sizeof(hsa::amd_signal) <= gart->mem.size; off += 8) {
    auto* cand = reinterpret_cast<hsa::amd_signal*>(gart->mem.cpu + off);
    if (cand->event_mailbox_ptr == mailbox) signal = cand;
  }
  ASSERT_NE(signal, nullptr);
  signal->value = AmEngine::kFenceBase - 1;
  s->waits.clear();
  EXPECT_TRUE((*e)->WaitFence(1, absl::Milliseconds(30)).ok());
  EXPECT_TRUE(s->waits.empty());
  EXPECT_EQ(*(*e)->CompletedFence(), 1u);

  e->reset();
  d->reset();
  ExpectAllReleased(*s);
}

TEST(AmInterface, CopiesMakeAnSdmaQueueAndRingItsDoorbell) {
  auto s = std::make_shared<FakeState>();
  absl::StatusOr<std::unique_ptr<AmDevice>> d = Make(s);
  ASSERT_TRUE(d.ok()) << d.status();
  absl::StatusOr<std::unique_ptr<AmEngine>> e =
      AmEngine::Create(d->get(), "AM_FAKE:0/q", absl::Seconds(1));
  ASSERT_TRUE(e.ok()) << e.status();
  ScopedBuffer src(*(*d)->allocator().Alloc(4096));
  ScopedBuffer dst(*(*d)->allocator().Alloc(4096));
  // The fake has no SDMA engine: it answers the copy's wait with a GPU
  // hardware exception, which the copy reports.
  s->on_wait = [](const std::vector<uint32_t>& ids) {
    std::vector<AmEventData> out(ids.size());
    out[2].hw_exception = AmHwException{.reset_type = 1};
    return out;
  };
  absl::Status st = (*e)->AddCopy(CopyCommand{dst.get(), 0, src.get(), 0, 4096});
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(st.message().find("GPU hardware exception"), std::string::npos) << st;

  ASSERT_EQ(s->queues.size(), 3u);  // sync, this queue's AQL, its SDMA
  const AmQueueSpec& q = s->queues[2];
  EXPECT_EQ(q.type, AmQueueType::kSdma);
  EXPECT_EQ(q.ring_bytes, 64u * 1024);
  std::optional<FakeState::Alloc> ring = AllocHolding(*s, q.ring_va);
  ASSERT_TRUE(ring.has_value());
  EXPECT_EQ(ring->mem.flags, kAmGttFlags);
  std::optional<FakeState::Alloc> gart = AllocHolding(*s, q.write_pointer_va);
  ASSERT_TRUE(gart.has_value());
  EXPECT_EQ(gart->mem.flags, kAmGttFlags);
  EXPECT_EQ(q.write_pointer_va, q.read_pointer_va + 8);
  // The doorbell and the write pointer both say how many bytes were written.
  uint64_t wptr;
  std::memcpy(&wptr, gart->mem.cpu + (q.write_pointer_va - gart->mem.va), 8);
  EXPECT_GT(wptr, 0u);
  EXPECT_EQ(s->doorbells[2], wptr);
  // The copy's wait went on the SDMA queue's own signal event.
  const uint32_t sdma_event = s->events_created.back().first;
  EXPECT_EQ(s->events_created.back().second, AmEventType::kSignal);
  EXPECT_EQ(s->resets.back(), sdma_event);
  EXPECT_EQ(s->waits.back().events[0], sdma_event);

  src.reset();
  dst.reset();
  e->reset();
  d->reset();
  ExpectAllReleased(*s);
}

TEST(AmInterface, InterfaceErrorsComeOutOfCreateAndLeaveNothingBehind) {
  {
    auto s = std::make_shared<FakeState>();
    s->fail_alloc = absl::ResourceExhaustedError("AM_FAKE:0: out of VRAM");
    s->alloc_failures_left = 1;
    absl::StatusOr<std::unique_ptr<AmDevice>> d = Make(s);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(d.status().message(), "AM_FAKE:0: out of VRAM");
    ExpectAllReleased(*s);
  }
  {
    auto s = std::make_shared<FakeState>();
    s->fail_queue = absl::UnavailableError("AM_FAKE:0: no hardware queue free");
    absl::StatusOr<std::unique_ptr<AmDevice>> d = Make(s);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(d.status().message(), "AM_FAKE:0: no hardware queue free");
    EXPECT_FALSE(s->allocs.empty());  // it got as far as the queue's memory
    ExpectAllReleased(*s);
  }
  {
    auto s = std::make_shared<FakeState>();
    s->fail_signal_event = absl::ResourceExhaustedError("AM_FAKE:0: event slots used up");
    absl::StatusOr<std::unique_ptr<AmDevice>> d = Make(s);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(d.status().message(), "AM_FAKE:0: event slots used up");
    ExpectAllReleased(*s);
  }
}

TEST(AmInterface, ASecondQueuesSdmaFailureIsReportedAndCleanedUp) {
  auto s = std::make_shared<FakeState>();
  absl::StatusOr<std::unique_ptr<AmDevice>> d = Make(s);
  ASSERT_TRUE(d.ok()) << d.status();
  absl::StatusOr<std::unique_ptr<AmEngine>> e =
      AmEngine::Create(d->get(), "AM_FAKE:0/q", absl::Seconds(1));
  ASSERT_TRUE(e.ok()) << e.status();
  ScopedBuffer src(*(*d)->allocator().Alloc(4096));
  ScopedBuffer dst(*(*d)->allocator().Alloc(4096));
  const size_t live_before = s->live.size();
  s->fail_queue = absl::UnavailableError("AM_FAKE:0: no SDMA queue free");
  absl::Status st = (*e)->AddCopy(CopyCommand{dst.get(), 0, src.get(), 0, 64});
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(st.message(), "AM_FAKE:0: no SDMA queue free");
  // The SDMA ring, its page and its event went back.
  EXPECT_EQ(s->live.size(), live_before);
  EXPECT_EQ(s->live_events.size(), 4u);  // 2 fault events, 2 AQL queue events
  src.reset();
  dst.reset();
  e->reset();
  d->reset();
  ExpectAllReleased(*s);
}

TEST(AmInterface, CreateRefusesAMissingInterfaceOrTopology) {
  absl::StatusOr<std::unique_ptr<AmDevice>> d = AmDevice::Create(nullptr, Node(), Opts());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("no GPU interface"), std::string::npos) << d.status();

  for (const char* key : {"gfx_target_version", "simd_count"}) {
    auto s = std::make_shared<FakeState>();
    AmGpuNode node = Node();
    node.properties.erase(key);
    d = Make(s, node);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << key;
    EXPECT_EQ(d.status().message(),
              absl::StrCat("AM_FAKE:0: the GPU's topology lacks '", key, "'"));
    EXPECT_TRUE(s->allocs.empty());
  }
}

}  // namespace
}  // namespace uop
