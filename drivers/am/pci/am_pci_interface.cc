#include "drivers/am/pci/am_pci_interface.h"

#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "drivers/am/pci/am_pci_chip.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kBig = 2ull << 20;

uint64_t RoundUp(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

}  // namespace

absl::StatusOr<std::unique_ptr<AmPciInterface>> AmPciInterface::Create(
    std::unique_ptr<AmPciGpu> gpu, std::string device, bool emulated) {
  if (gpu == nullptr) return absl::InvalidArgumentError("AmPciInterface: no GPU");
  std::unique_ptr<AmPciInterface> i(
      new AmPciInterface(std::move(gpu), std::move(device), emulated));
  absl::StatusOr<AmGpuNode> node = AmPciGpuNode(
      i->gpu_->discovery().ip, i->gpu_->bars().function().device, i->gpu_->vram_size());
  if (!node.ok()) {
    return i->Error(node.status().code(),
                    absl::StrCat("node properties: ", node.status().message()));
  }
  i->node_ = *std::move(node);
  for (uint32_t s = 0; s < kEventSlots; ++s) i->free_slots_.insert(s);
  ASSIGN_OR_RETURN(i->event_page_, i->Alloc(kEventSlots * 8, kAmMemGtt | kAmMemWritable, true));
  return i;
}

AmPciInterface::~AmPciInterface() {
  std::vector<uint32_t> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, q] : queues_) ids.push_back(id);
  }
  for (uint32_t id : ids) (void)DestroyQueue(id);
  std::vector<AmMemory> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [h, a] : allocations_) left.push_back(AmMemory{h, a.va, a.size, 0, nullptr});
  }
  for (const AmMemory& m : left) (void)Free(m);
}

absl::Status AmPciInterface::Error(absl::StatusCode code, const std::string& what) const {
  return absl::Status(code, absl::StrCat(device_, ": ", what));
}

std::string AmPciInterface::Describe() const {
  return absl::StrFormat("PCI %s%s, no kernel driver%s", gpu_->bdf(),
                         gpu_->vfio() != nullptr ? " through VFIO" : "",
                         emulated_ ? ", emulated" : "");
}

absl::StatusOr<AmMemory> AmPciInterface::Alloc(size_t bytes, uint32_t flags, bool cpu_map) {
  if (bytes == 0) return Error(absl::StatusCode::kInvalidArgument, "an allocation of 0 bytes");
  const uint64_t size = RoundUp(bytes, kPage);
  const uint64_t align = size >= kBig ? kBig : kPage;
  AmVramAllocator& vram = gpu_->vram();
  AmVm& vm = gpu_->vm();
  AmVmMapFlags map;
  map.writeable = (flags & kAmMemWritable) != 0;
  map.executable = (flags & kAmMemExecutable) != 0;
  map.mtype = (flags & kAmMemUncached) != 0 ? am_field::kMtypeUc : 0;
  Allocation a;
  a.size = size;
  uint8_t* host = nullptr;
  AmVfio* vfio = gpu_->vfio();
  const bool in_host = (flags & kAmMemGtt) != 0 && vfio != nullptr;
  if (in_host) {
    ASSIGN_OR_RETURN(AmDmaBuffer buf, vfio->AllocHost(size));  // zeroed, pinned, IOMMU-mapped
    a.host = buf;
    host = static_cast<uint8_t*>(buf.host);
  } else {
    ASSIGN_OR_RETURN(a.pa, vram.Allocate(size, align, "a buffer"));
    host = gpu_->vram_host() + a.pa;
  }
  auto release = [&] {
    if (a.host.has_value()) {
      (void)vfio->FreeHost(*a.host);
    } else {
      (void)vram.Free(a.pa);
    }
  };
  // One unmapped guard page after each allocation: an overrun faults
  // instead of reaching the neighbour, and no two allocations form one
  // contiguous mapping (the emulator finds a code object's allocation by
  // its mapping).
  absl::StatusOr<uint64_t> va = vm.AllocateVa(size + kPage, align);
  if (!va.ok()) {
    release();
    return va.status();
  }
  a.va = *va;
  absl::Status mapped =
      in_host ? vm.MapSystem(a.va, a.host->iova, size, map) : vm.Map(a.va, a.pa, size, map);
  if (!mapped.ok()) {
    (void)vm.FreeVa(a.va);
    release();
    return mapped;
  }
  // KFD hands out zeroed memory; so does this path (VRAM through the BAR;
  // host pages come zeroed).
  if (!in_host) std::memset(host, 0, size);
  AmMemory m;
  m.va = a.va;
  m.size = size;
  m.flags = flags;
  m.cpu = cpu_map ? host : nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  m.handle = next_handle_++;
  allocations_[m.handle] = a;
  return m;
}

absl::Status AmPciInterface::Free(const AmMemory& m) {
  Allocation a;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = allocations_.find(m.handle);
    if (it == allocations_.end()) {
      return Error(absl::StatusCode::kInvalidArgument,
                   absl::StrFormat("free of unknown memory handle %u (va 0x%x)", m.handle, m.va));
    }
    a = it->second;
    allocations_.erase(it);
  }
  RETURN_IF_ERROR(gpu_->vm().Unmap(a.va, a.size));
  RETURN_IF_ERROR(gpu_->vm().FreeVa(a.va));
  if (a.host.has_value()) return gpu_->vfio()->FreeHost(*a.host);
  return gpu_->vram().Free(a.pa);
}

absl::StatusOr<AmEvent> AmPciInterface::CreateEvent(AmEventType type, bool auto_reset) {
  std::lock_guard<std::mutex> lock(mu_);
  Event e;
  e.type = type;
  e.auto_reset = auto_reset;
  uint32_t id;
  if (type == AmEventType::kSignal) {
    // Vectors still in the IH ring may carry the id a destroyed event had
    // (AmDevice's wait can return on the mailbox before its vector is
    // drained): drain them now, so they cannot fire the event reusing it.
    RETURN_IF_ERROR(PumpInterrupts());
    if (free_slots_.empty()) {
      return Error(absl::StatusCode::kResourceExhausted,
                   absl::StrCat("all ", kEventSlots, " signal event mailboxes are in use"));
    }
    e.slot = *free_slots_.begin();
    free_slots_.erase(free_slots_.begin());
    id = e.slot + 1;  // the CP writes the id to the mailbox: never 0
    reinterpret_cast<volatile uint64_t*>(event_page_.cpu)[e.slot] = 0;
  } else {
    id = next_fault_event_++;
  }
  events_[id] = e;
  return AmEvent{id, e.slot};
}

absl::Status AmPciInterface::DestroyEvent(uint32_t event) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = events_.find(event);
  if (it == events_.end()) {
    return Error(absl::StatusCode::kNotFound, absl::StrCat("no event ", event));
  }
  if (it->second.type == AmEventType::kSignal) free_slots_.insert(it->second.slot);
  events_.erase(it);
  return absl::OkStatus();
}

absl::Status AmPciInterface::ResetEvent(uint32_t event) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = events_.find(event);
  if (it == events_.end()) {
    return Error(absl::StatusCode::kNotFound, absl::StrCat("no event ", event));
  }
  it->second.fired = false;
  if (it->second.type == AmEventType::kSignal) {
    __atomic_store_n(reinterpret_cast<uint64_t*>(event_page_.cpu) + it->second.slot, 0,
                     __ATOMIC_RELEASE);
  }
  return absl::OkStatus();
}

absl::Status AmPciInterface::PumpInterrupts() {
  ASSIGN_OR_RETURN(AmIhPoll poll, gpu_->ih().Poll());
  for (const IvEntry& iv : poll.entries) {
    ++interrupts_;
    if (iv.client_id == am_iv::kClientVmc || iv.client_id == am_iv::kClientUtcl2) {
      // gmc_v11_0_process_interrupt: page number in src_data[0], bits 47:44
      // in src_data[1][3:0].
      AmMemoryFault f;
      f.va = (uint64_t{iv.src_data[0]} << 12) | (uint64_t{iv.src_data[1] & 0xF} << 44);
      f.not_present = true;
      if (!fault_.has_value()) fault_ = f;
      continue;
    }
    if (iv.src_id == am_iv::kSrcCpEndOfPipe || iv.src_id == am_iv::kSrcSdmaTrap) {
      // KFD: the context id (the event id) is in src_data[0], 23 bits.
      auto it = events_.find(iv.src_data[0] & 0x7FFFFF);
      if (it != events_.end()) it->second.fired = true;
    }
  }
  return absl::OkStatus();
}

bool AmPciInterface::Fired(uint32_t id, AmEventData* data) {
  auto it = events_.find(id);
  if (it == events_.end()) return false;
  Event& e = it->second;
  data->id = id;
  bool fired = e.fired;
  switch (e.type) {
    case AmEventType::kSignal:
      fired = fired || __atomic_load_n(reinterpret_cast<uint64_t*>(event_page_.cpu) + e.slot,
                                       __ATOMIC_ACQUIRE) != 0;
      break;
    case AmEventType::kMemoryFault:
      if (fault_.has_value()) {
        fired = true;
        data->memory_fault = fault_;
      }
      break;
    case AmEventType::kHwException:
      break;  // no reset detection on this path yet
  }
  if (fired && e.auto_reset) {
    e.fired = false;
    if (e.type == AmEventType::kSignal) {
      __atomic_store_n(reinterpret_cast<uint64_t*>(event_page_.cpu) + e.slot, 0, __ATOMIC_RELEASE);
    }
  }
  return fired;
}

absl::StatusOr<std::vector<AmEventData>> AmPciInterface::WaitEvents(
    const std::vector<uint32_t>& events, uint32_t timeout_ms) {
  const absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms);
  AmVfio* vfio = gpu_->vfio();
  const bool msi = interrupt_driven();
  absl::Duration nap = absl::Microseconds(2);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    RETURN_IF_ERROR(PumpInterrupts());
    std::vector<AmEventData> out(events.size());
    bool any = false;
    for (size_t i = 0; i < events.size(); ++i) {
      if (events_.count(events[i]) == 0) {
        return Error(absl::StatusCode::kNotFound,
                     absl::StrCat("wait on unknown event ", events[i]));
      }
      any = Fired(events[i], &out[i]) || any;
      out[i].id = events[i];
    }
    if (any) return out;
    const absl::Time now = absl::Now();
    if (now >= deadline) return std::vector<AmEventData>{};
    if (!msi) {
      // Back off from a short spin to 50 us naps; never past the deadline.
      ++wait_stats_.naps;
      lock.unlock();
      absl::SleepFor(std::min(nap, deadline - now));
      nap = std::min(nap * 2, absl::Microseconds(50));
      lock.lock();
      continue;
    }
    if (poller_active_) {
      // Another waiter sleeps on the eventfd; it notifies after each
      // wake-up (then this one drains and checks again, or takes over).
      woken_.wait_until(lock, absl::ToChronoTime(deadline));
      continue;
    }
    poller_active_ = true;
    lock.unlock();
    // The eventfd's counter is read (cleared) before the drain above runs
    // again: an MSI after that read leaves it set, so the next poll returns
    // at once; the vector is in the ring before the MSI is sent.
    absl::StatusOr<bool> irq = vfio->WaitInterrupt(deadline - now);
    lock.lock();
    poller_active_ = false;
    woken_.notify_all();
    if (!irq.ok()) return Error(irq.status().code(), std::string(irq.status().message()));
    ++(*irq ? wait_stats_.interrupt_wakeups : wait_stats_.timeout_wakeups);
  }
}

AmPciInterface::WaitStats AmPciInterface::wait_stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return wait_stats_;
}

bool AmPciInterface::interrupt_driven() const {
  AmVfio* vfio = gpu_->vfio();
  return vfio != nullptr && vfio->irq_eventfd() >= 0;
}

absl::StatusOr<AmQueueInfo> AmPciInterface::CreateQueue(const AmQueueSpec& spec) {
  Queue q;
  q.type = spec.type;
  AmQueueInfo info;
  if (spec.type == AmQueueType::kComputeAql) {
    int slot = -1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (uint32_t s = 0; s < kMaxComputeQueues && slot < 0; ++s)
        if (!compute_slot_used_[s]) slot = static_cast<int>(s);
      if (slot < 0) {
        return Error(absl::StatusCode::kResourceExhausted,
                     absl::StrCat("all ", kMaxComputeQueues, " compute queues of ME1 are mapped"));
      }
      compute_slot_used_[slot] = true;
    }
    absl::StatusOr<AmMemory> mqd = Alloc(kPage, kAmMemVram | kAmMemWritable, false);
    if (!mqd.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      compute_slot_used_[slot] = false;
      return mqd.status();
    }
    AmAqlQueueSpec a;
    a.me = 1;
    a.pipe = static_cast<uint32_t>(slot) % 4;  // spread over the pipes first
    a.queue = static_cast<uint32_t>(slot) / 4;
    a.vmid = static_cast<uint32_t>(gpu_->vm().vmid());
    a.ring_va = spec.ring_va;
    a.ring_bytes = spec.ring_bytes;
    a.rptr_report_va = spec.read_pointer_va;
    a.wptr_poll_va = spec.write_pointer_va;
    a.eop_va = spec.eop_va;
    a.eop_bytes = static_cast<uint32_t>(std::min<uint64_t>(spec.eop_bytes, 4096));
    a.mqd_va = mqd->va;
    a.doorbell_index = kAmComputeDoorbellDword + 2 * static_cast<uint32_t>(slot);
    a.priority = std::min<uint32_t>(spec.priority, 15);
    absl::StatusOr<AmHqd> hqd = gpu_->gfx().MapAqlQueue(a);
    if (!hqd.ok()) {
      (void)Free(*mqd);
      std::lock_guard<std::mutex> lock(mu_);
      compute_slot_used_[slot] = false;
      return hqd.status();
    }
    q.hqd = *hqd;
    q.mqd = *mqd;
    info.doorbell = gpu_->doorbell_host(a.doorbell_index);
  } else {
    int engine = -1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int e = 0; e < gpu_->sdma().instances() && e < 2 && engine < 0; ++e)
        if (!sdma_used_[e]) engine = e;
      if (engine < 0) {
        return Error(absl::StatusCode::kResourceExhausted, "both SDMA engines have a queue");
      }
      sdma_used_[engine] = true;
    }
    AmSdmaQueueSpec s;
    s.instance = engine;
    s.vmid = static_cast<uint32_t>(gpu_->vm().vmid());
    s.ring_va = spec.ring_va;
    s.ring_bytes = spec.ring_bytes;
    s.rptr_va = spec.read_pointer_va;
    s.wptr_poll_va = spec.write_pointer_va;
    s.doorbell_index = kAmSdmaDoorbellDword[engine];
    absl::StatusOr<AmSdmaQueue> sq = gpu_->sdma().CreateQueue(s);
    if (!sq.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      sdma_used_[engine] = false;
      return sq.status();
    }
    q.sdma = *sq;
    info.doorbell = gpu_->doorbell_host(s.doorbell_index);
  }
  std::lock_guard<std::mutex> lock(mu_);
  info.queue_id = next_queue_++;
  queues_[info.queue_id] = q;
  return info;
}

absl::Status AmPciInterface::DestroyQueue(uint32_t queue_id) {
  Queue q;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = queues_.find(queue_id);
    if (it == queues_.end()) {
      return Error(absl::StatusCode::kNotFound, absl::StrCat("no queue ", queue_id));
    }
    q = it->second;
    queues_.erase(it);
  }
  if (q.hqd.has_value()) {
    absl::Status s = gpu_->gfx().UnmapQueue(*q.hqd);
    {
      std::lock_guard<std::mutex> lock(mu_);
      compute_slot_used_[q.hqd->pipe + 4 * q.hqd->queue] = false;
    }
    // The CP may still write its save area while a failed dequeue drains:
    // keep the page rather than reuse it.
    if (s.ok()) RETURN_IF_ERROR(Free(q.mqd));
    return s;
  }
  absl::Status s = gpu_->sdma().DestroyQueue(*q.sdma);
  std::lock_guard<std::mutex> lock(mu_);
  sdma_used_[q.sdma->spec.instance] = false;
  return s;
}

uint64_t AmPciInterface::interrupts_seen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return interrupts_;
}

}  // namespace uop
