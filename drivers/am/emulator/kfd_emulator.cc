#include "drivers/am/emulator/kfd_emulator.h"

#include <sys/mman.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "drivers/am/abi/kfd.h"

namespace uop {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kDoorbellBase = 0xC000000000000000ull;  // KFD's doorbell mmap type bits
constexpr uint64_t kDoorbellBytes = 0x2000;
constexpr uint32_t kShaderEngines = 6;  // the topology's array_count / simd_arrays_per_engine
constexpr uint64_t kRenderOffsetBase = uint64_t{1} << 40;
constexpr char kTopology[] = "/sys/devices/virtual/kfd/kfd/topology/nodes";

}  // namespace

class KfdEmulator::KfdNode final : public EmulatedNode {
 public:
  explicit KfdNode(KfdEmulator* e) : e_(e) {}
  int OnIoctl(int, unsigned long request, void* arg) override { return e_->Ioctl(request, arg); }
  int OnMmap(int, void* addr, size_t length, int prot, int flags, uint64_t offset,
             void** out) override {
    return e_->MmapKfd(addr, length, prot, flags, offset, out);
  }

 private:
  KfdEmulator* const e_;
};

class KfdEmulator::RenderNode final : public EmulatedNode {
 public:
  explicit RenderNode(KfdEmulator* e) : e_(e) {}
  int OnOpen(int fd, int) override {
    std::lock_guard<std::mutex> lock(e_->mu_);
    e_->render_fds_.insert(fd);
    return 0;
  }
  void OnClose(int fd) override {
    std::lock_guard<std::mutex> lock(e_->mu_);
    e_->render_fds_.erase(fd);
  }
  int OnIoctl(int, unsigned long, void*) override { return -ENOTTY; }  // no amdgpu ioctls used
  int OnMmap(int, void* addr, size_t length, int prot, int flags, uint64_t offset,
             void** out) override {
    return e_->MmapRender(addr, length, prot, flags, offset, out);
  }
  int OnMunmap(void* addr, size_t length) override {
    {
      std::lock_guard<std::mutex> lock(e_->mu_);
      auto& maps = e_->vram_user_maps_;
      for (auto it = maps.begin(); it != maps.end(); ++it) {
        if (it->first == addr) {
          maps.erase(it);
          break;
        }
      }
    }
    return ::munmap(addr, length) == 0 ? 0 : -errno;
  }

 private:
  KfdEmulator* const e_;
};

KfdEmulator::KfdEmulator(const Options& options)
    : options_(options),
      memory_(options.vram_bytes + options.gtt_bytes + kDoorbellBytes),
      kfd_node_(std::make_shared<KfdNode>(this)),
      render_node_(std::make_shared<RenderNode>(this)),
      rng_(options.seed) {
  doorbells_ = *memory_.Create(kDoorbellBytes);
  cp_ = std::make_unique<AmdCp>(
      &address_space_, &twins_,
      [this](uint32_t id) {
        // Called on the GPU thread with mu_ released (see GpuLoop).
        std::lock_guard<std::mutex> lock(mu_);
        SignalEvent(id);
      },
      AmdCpConfig{.gfx_major = static_cast<uint32_t>(options.gfx_target_version / 10000),
                  .shader_engines = kShaderEngines});
  gpu_ = std::thread([this] { GpuLoop(); });
}

KfdEmulator::~KfdEmulator() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  gpu_cv_.notify_all();
  gpu_.join();
}

void KfdEmulator::Install(EmulatedKernelIo& io) {
  io.AddNode("/dev/kfd", kfd_node_);
  io.AddNode(absl::StrCat("/dev/dri/renderD", options_.render_minor), render_node_);
  io.AddFile(absl::StrCat(kTopology, "/0/gpu_id"), "0\n");
  io.AddFile(absl::StrCat(kTopology, "/0/properties"), "cpu_cores_count 2\nsimd_count 0\n");
  io.AddFile(absl::StrCat(kTopology, "/1/gpu_id"), absl::StrCat(options_.gpu_id, "\n"));
  io.AddFile(absl::StrCat(kTopology, "/1/properties"),
             absl::StrCat("cpu_cores_count 0\nsimd_count ", 2 * options_.compute_units,
                          "\nmem_banks_count 1\nlocal_mem_size ", options_.vram_bytes,
                          "\ngfx_target_version ", options_.gfx_target_version,
                          "\nlds_size_in_kb 64\nsimd_per_cu 2\nmax_waves_per_simd 16\n"
                          "array_count ",
                          2 * kShaderEngines,
                          "\nsimd_arrays_per_engine 2\nnum_xcc 1\n"
                          "max_slots_scratch_cu 32\nvendor_id 4098\ndevice_id ",
                          options_.device_id, "\ndrm_render_minor ", options_.render_minor, "\n"));
}

void KfdEmulator::Pause() {
  std::lock_guard<std::mutex> lock(mu_);
  paused_ = true;
}

void KfdEmulator::Resume() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    paused_ = false;
  }
  gpu_cv_.notify_all();
}

void KfdEmulator::set_latency(absl::Duration min, absl::Duration max) {
  std::lock_guard<std::mutex> lock(mu_);
  latency_min_ = min;
  latency_max_ = std::max(min, max);
}

void KfdEmulator::Unplug() {
  std::lock_guard<std::mutex> lock(mu_);
  unplugged_ = true;
  // What reads through a BAR return once the device is gone.
  for (const auto& [addr, len] : vram_user_maps_) {
    void* p =
        ::mmap(addr, len, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) std::memset(p, 0xFF, len);
  }
}

std::string KfdEmulator::fault() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fault_;
}

AmdCpStats KfdEmulator::stats() const {
  return cp_->stats();  // atomic counters
}

int KfdEmulator::Ioctl(unsigned long request, void* arg) {
  if (arg == nullptr) return -EFAULT;
  switch (request) {
    case kfd::kIoctlGetVersion: {
      auto* v = static_cast<kfd::get_version_args*>(arg);
      v->major_version = 1;
      v->minor_version = options_.kfd_minor;
      return 0;
    }
    case kfd::kIoctlAcquireVm: {
      auto* a = static_cast<kfd::acquire_vm_args*>(arg);
      std::lock_guard<std::mutex> lock(mu_);
      if (a->gpu_id != options_.gpu_id || render_fds_.count(static_cast<int>(a->drm_fd)) == 0) {
        return -EINVAL;
      }
      vm_acquired_ = true;
      return 0;
    }
    case kfd::kIoctlRuntimeEnable:
      return options_.kfd_minor >= 14 ? 0 : -ENOTTY;
    case kfd::kIoctlAllocMemoryOfGpu:
      return Alloc(arg);
    case kfd::kIoctlFreeMemoryOfGpu: {
      auto* f = static_cast<kfd::free_memory_of_gpu_args*>(arg);
      std::lock_guard<std::mutex> lock(mu_);
      auto it = allocations_.find(f->handle);
      if (it == allocations_.end()) return -EINVAL;
      memory_.Destroy(it->second.bo->id);
      allocations_.erase(it);
      return 0;
    }
    case kfd::kIoctlMapMemoryToGpu:
    case kfd::kIoctlUnmapMemoryFromGpu: {
      auto* m = static_cast<kfd::map_memory_to_gpu_args*>(arg);
      if (m->n_devices != 1 || m->device_ids_array_ptr == 0) return -EINVAL;
      if (*reinterpret_cast<const uint32_t*>(m->device_ids_array_ptr) != options_.gpu_id) {
        return -EINVAL;
      }
      std::lock_guard<std::mutex> lock(mu_);
      auto it = allocations_.find(m->handle);
      if (it == allocations_.end()) return -EINVAL;
      const bool bound = it->second.bo->gpu_va != 0;
      if (request == kfd::kIoctlMapMemoryToGpu && !bound) {
        if (memory_.Bind(it->second.bo, it->second.va) < 0) return -EINVAL;
      } else if (request == kfd::kIoctlUnmapMemoryFromGpu && bound) {
        memory_.Unbind(it->second.bo->id);
      }
      m->n_success = 1;
      return 0;
    }
    case kfd::kIoctlCreateQueue:
      return CreateQueue(arg);
    case kfd::kIoctlDestroyQueue: {
      auto* d = static_cast<kfd::destroy_queue_args*>(arg);
      std::lock_guard<std::mutex> lock(mu_);
      return queues_.erase(d->queue_id) == 1 ? 0 : -EINVAL;
    }
    case kfd::kIoctlCreateEvent:
      return CreateEvent(arg);
    case kfd::kIoctlDestroyEvent:
    case kfd::kIoctlSetEvent:
    case kfd::kIoctlResetEvent: {
      auto* d = static_cast<kfd::destroy_event_args*>(arg);
      std::lock_guard<std::mutex> lock(mu_);
      auto it = events_.find(d->event_id);
      if (it == events_.end()) return -EINVAL;
      if (request == kfd::kIoctlDestroyEvent) events_.erase(it);
      if (request == kfd::kIoctlSetEvent) SignalEvent(d->event_id);
      if (request == kfd::kIoctlResetEvent) it->second.signaled = false;
      return 0;
    }
    case kfd::kIoctlWaitEvents:
      return WaitEvents(arg);
    default:
      return -ENOTTY;
  }
}

int KfdEmulator::Alloc(void* arg) {
  auto* a = static_cast<kfd::alloc_memory_of_gpu_args*>(arg);
  const uint32_t kind =
      a->flags & (kfd::kAllocVram | kfd::kAllocGtt | kfd::kAllocUserptr | kfd::kAllocDoorbell);
  if (a->gpu_id != options_.gpu_id || a->va_addr == 0 || a->va_addr % kPage != 0 || a->size == 0 ||
      a->size % kPage != 0 || (kind != kfd::kAllocVram && kind != kfd::kAllocGtt)) {
    return -EINVAL;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!vm_acquired_) return -EINVAL;
  for (const auto& [h, al] : allocations_) {
    if (a->va_addr < al.va + al.bo->size && al.va < a->va_addr + a->size) return -EINVAL;
  }
  absl::StatusOr<std::shared_ptr<EmuMemory::Bo>> bo = memory_.Create(a->size, a->flags);
  if (!bo.ok()) return -ENOMEM;
  Allocation al;
  al.bo = *bo;
  al.va = a->va_addr;
  al.flags = a->flags;
  const uint64_t handle = next_handle_++;
  al.mmap_offset = kRenderOffsetBase + handle * (uint64_t{1} << 24);
  a->handle = handle;
  a->mmap_offset = al.mmap_offset;
  allocations_[handle] = std::move(al);
  return 0;
}

int KfdEmulator::MmapRender(void* addr, size_t length, int prot, int flags, uint64_t offset,
                            void** out) {
  std::shared_ptr<EmuMemory::Bo> bo;
  bool vram;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Allocation* found = nullptr;
    for (const auto& [h, al] : allocations_)
      if (al.mmap_offset == offset) found = &al;
    if (found == nullptr) return -EINVAL;
    // KFD maps an allocation at its own address, whole.
    if ((flags & MAP_FIXED) == 0 || reinterpret_cast<uint64_t>(addr) != found->va ||
        length != found->bo->size) {
      return -EINVAL;
    }
    vram = (found->flags & kfd::kAllocVram) != 0;
    if (vram && (found->flags & kfd::kAllocPublic) == 0) return -EINVAL;  // not behind the BAR
    bo = found->bo;
  }
  const int r = memory_.MapUser(*bo, 0, addr, length, prot, flags, out);
  if (r == 0 && vram) {
    std::lock_guard<std::mutex> lock(mu_);
    vram_user_maps_.emplace_back(*out, length);
  }
  return r;
}

int KfdEmulator::MmapKfd(void* addr, size_t length, int prot, int flags, uint64_t offset,
                         void** out) {
  if (offset != kDoorbellBase || length != kDoorbellBytes) return -EINVAL;
  return memory_.MapUser(*doorbells_, 0, addr, length, prot, flags, out);
}

int KfdEmulator::CreateQueue(void* arg) {
  auto* q = static_cast<kfd::create_queue_args*>(arg);
  if (q->gpu_id != options_.gpu_id ||
      (q->queue_type != kfd::kQueueTypeComputeAql && q->queue_type != kfd::kQueueTypeSdma) ||
      q->ring_size < 1024 || (q->ring_size & (q->ring_size - 1)) != 0 || q->queue_percentage == 0 ||
      q->queue_priority > kfd::kMaxQueuePriority) {
    return -EINVAL;
  }
  Queue queue;
  auto hold = [&](uint64_t va, uint64_t bytes) {
    std::shared_ptr<EmuMemory::Bo> bo;
    if (memory_.Translate(va, bytes, &bo) == nullptr) return false;
    queue.holds.push_back(std::move(bo));
    return true;
  };
  if (!hold(q->ring_base_address, q->ring_size) || !hold(q->read_pointer_address, 8) ||
      !hold(q->write_pointer_address, 8)) {
    return -EFAULT;
  }
  const bool aql = q->queue_type == kfd::kQueueTypeComputeAql;
  if (aql && (q->ring_size % 64 != 0 || q->eop_buffer_size < kPage ||
              !hold(q->eop_buffer_address, q->eop_buffer_size) || q->ctx_save_restore_size == 0 ||
              q->ctl_stack_size >= q->ctx_save_restore_size ||
              !hold(q->ctx_save_restore_address, q->ctx_save_restore_size))) {
    return -EINVAL;
  }
  std::lock_guard<std::mutex> lock(mu_);
  const uint32_t id = next_queue_++;
  if (id >= kDoorbellBytes / 8) return -ENOSPC;
  queue.state.aql = aql;
  queue.state.ring = q->ring_base_address;
  queue.state.ring_bytes = q->ring_size;
  queue.state.read_ptr = q->read_pointer_address;
  queue.state.write_ptr = q->write_pointer_address;
  queue.state.doorbell = reinterpret_cast<const volatile uint64_t*>(doorbells_->view + 8 * id);
  q->queue_id = id;
  q->doorbell_offset = kDoorbellBase + 8 * id;
  queues_[id] = std::move(queue);
  gpu_cv_.notify_all();
  return 0;
}

int KfdEmulator::CreateEvent(void* arg) {
  auto* c = static_cast<kfd::create_event_args*>(arg);
  if (c->event_type != kfd::kEventSignal && c->event_type != kfd::kEventMemory &&
      c->event_type != kfd::kEventHwException) {
    return -EINVAL;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (c->event_type == kfd::kEventSignal) {
    if (event_page_ == nullptr) {
      // The first signal event brings the event page: a GTT allocation.
      auto it = allocations_.find(c->event_page_offset);
      if (it == allocations_.end() || (it->second.flags & kfd::kAllocGtt) == 0) return -EINVAL;
      event_page_ = it->second.bo;
    }
    if (next_slot_ >= event_page_->size / 8) return -ENOSPC;
    c->event_slot_index = next_slot_++;
  }
  Event e;
  e.type = c->event_type;
  e.auto_reset = c->auto_reset != 0;
  c->event_id = next_event_++;
  c->event_page_offset = 0;
  events_[c->event_id] = e;
  return 0;
}

void KfdEmulator::SignalEvent(uint32_t id) {
  auto it = events_.find(id);
  if (it == events_.end()) return;  // an interrupt for no event: ignored, like KFD
  it->second.signaled = true;
  event_cv_.notify_all();
}

int KfdEmulator::WaitEvents(void* arg) {
  auto* w = static_cast<kfd::wait_events_args*>(arg);
  if (w->num_events == 0 || w->num_events > 4096 || w->events_ptr == 0) return -EINVAL;
  auto* data = reinterpret_cast<kfd::event_data*>(w->events_ptr);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(w->timeout);
  std::unique_lock<std::mutex> lock(mu_);
  for (uint32_t i = 0; i < w->num_events; ++i)
    if (events_.count(data[i].event_id) == 0) return -EINVAL;
  auto ready = [&] {
    uint32_t n = 0;
    for (uint32_t i = 0; i < w->num_events; ++i) {
      auto it = events_.find(data[i].event_id);
      n += it != events_.end() && it->second.signaled;
    }
    return w->wait_for_all ? n == w->num_events : n > 0;
  };
  if (!event_cv_.wait_until(lock, deadline, ready)) {
    w->wait_result = kfd::kWaitTimeout;
    return 0;
  }
  for (uint32_t i = 0; i < w->num_events; ++i) {
    auto it = events_.find(data[i].event_id);
    if (it == events_.end() || !it->second.signaled) continue;
    if (it->second.type == kfd::kEventMemory) {
      data[i].memory_exception.gpu_id = options_.gpu_id;
      data[i].memory_exception.va = it->second.fault_va;
      data[i].memory_exception.failure.not_present = 1;
    } else if (it->second.type == kfd::kEventHwException) {
      data[i].hw_exception.gpu_id = options_.gpu_id;
    }
    if (it->second.auto_reset) it->second.signaled = false;
  }
  w->wait_result = kfd::kWaitComplete;
  return 0;
}

void KfdEmulator::FaultQueue(uint32_t id, const absl::Status& fault, uint64_t va) {
  auto it = queues_.find(id);
  if (it != queues_.end()) it->second.state.faulted = true;
  if (fault_.empty()) fault_ = absl::StrCat("queue ", id, ": ", fault.message());
  // A GPU page fault reaches the process as its memory-exception events.
  for (auto& [eid, e] : events_) {
    if (e.type != kfd::kEventMemory) continue;
    e.signaled = true;
    e.fault_va = va;
  }
  event_cv_.notify_all();
}

void KfdEmulator::GpuLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (paused_ || unplugged_) {
      gpu_cv_.wait(lock, [this] { return stop_ || (!paused_ && !unplugged_); });
      continue;
    }
    // A snapshot that keeps each queue's memory alive while it runs, even if
    // the driver destroys the queue meanwhile.
    std::vector<std::pair<uint32_t, Queue>> queues(queues_.begin(), queues_.end());
    absl::Duration latency = latency_min_;
    if (latency_max_ > latency_min_) {
      std::uniform_int_distribution<int64_t> us(absl::ToInt64Microseconds(latency_min_),
                                                absl::ToInt64Microseconds(latency_max_));
      latency = absl::Microseconds(us(rng_));
    }
    lock.unlock();
    bool progress = false;
    for (auto& [id, queue] : queues) {
      AmdQueueState& state = queue.state;
      if (state.faulted) continue;
      bool ran = false;
      // With latency, one AQL packet at a time, each taking that long.
      const int budget = latency > absl::ZeroDuration() && state.aql ? 1 : 64;
      absl::Status st = cp_->Step(state, &ran, budget, latency);
      progress |= ran;
      if (!st.ok()) {
        std::lock_guard<std::mutex> relock(mu_);
        if (queues_.count(id) != 0) FaultQueue(id, st, cp_->last_fault_address());
      }
    }
    lock.lock();
    if (!progress) gpu_cv_.wait_for(lock, absl::ToChronoNanoseconds(kIdlePoll));
  }
}

}  // namespace uop
