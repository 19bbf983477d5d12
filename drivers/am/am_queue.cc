#include "drivers/am/am_queue.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "drivers/am/abi/sdma.h"
#include "drivers/am/am_device.h"
#include "drivers/am/am_program.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

constexpr uint64_t kPage = 4096;
constexpr size_t kSignalOffset = 256;  // in gart_: after the amd_queue
constexpr size_t kSdmaRingBytes = 64 * 1024;
constexpr uint64_t kSdmaRptr = 0, kSdmaWptr = 8, kSdmaFence = 64;  // in the SDMA gart page

uint64_t RoundUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

uint32_t Millis(absl::Duration d) {
  return static_cast<uint32_t>(std::clamp(std::ceil(absl::ToDoubleMilliseconds(d)), 1.0, 1e9));
}

}  // namespace

CwsrSizes CwsrSizesFor(const AmGpuNode& gpu) {
  const uint64_t version = gpu.property("gfx_target_version");
  const uint64_t major = version / 10000, minor = (version / 100) % 100, step = version % 100;
  const uint64_t cus = static_cast<uint64_t>(gpu.compute_units());
  const uint64_t xccs = std::max<uint64_t>(1, gpu.property("num_xcc", 1));
  const uint64_t waves_per_cu =
      gpu.property("max_waves_per_simd", 16) * gpu.property("simd_per_cu", 2);
  const uint64_t engines =
      std::max<uint64_t>(1, gpu.property("array_count", 1) /
                                std::max<uint64_t>(1, gpu.property("simd_arrays_per_engine", 1)));
  const uint64_t waves = major != 9 ? cus * waves_per_cu : std::min(cus * 40, engines * 512);
  const bool small_vgpr = (major == 11 && minor == 0 && step <= 1) ||
                          (major == 11 && minor == 5 && step == 1) ||
                          (major == 12 && minor == 0 && step <= 1);
  const uint64_t vgpr = small_vgpr ? 0x60000 : major == 9 ? 0x80000 : 0x40000;
  const uint64_t lds =
      (major == 9 && minor == 5) ? gpu.property("lds_size_in_kb", 64) << 10 : 0x10000;
  const uint64_t wg_data = RoundUp((vgpr + 0x4000 + lds + 0x1000) * (cus / xccs), kPage);
  CwsrSizes s;
  s.ctl_stack =
      static_cast<uint32_t>(RoundUp((major != 9 ? 12 : 8) * (waves / xccs) + 8 + 40, kPage));
  s.ctx_save_restore = static_cast<uint32_t>(wg_data + s.ctl_stack);
  s.debug_memory = static_cast<uint32_t>(RoundUp((waves / xccs) * 32, 64));
  return s;
}

absl::StatusOr<std::unique_ptr<AmEngine>> AmEngine::Create(AmDevice* device, std::string queue,
                                                           absl::Duration wait_timeout) {
  std::unique_ptr<AmEngine> e(new AmEngine(device, std::move(queue), wait_timeout));
  RETURN_IF_ERROR(e->CreateAql());
  return e;
}

absl::Status AmEngine::CreateAql() {
  AmAllocator& mem = device_->am_allocator();
  AmGpuInterface& gpu = device_->gpu_interface();
  packets_ = device_->options().aql_packets;
  if (packets_ < 64 || (packets_ & (packets_ - 1)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(queue_, ": AQL ring of ", packets_, " packets is not a power of two >= 64"));
  }
  ASSIGN_OR_RETURN(
      ring_, mem.AllocInternal(packets_ * sizeof(hsa::kernel_dispatch_packet), kAmGttFlags, true));
  ASSIGN_OR_RETURN(gart_, mem.AllocInternal(kPage, kAmGttFlags, true));
  ASSIGN_OR_RETURN(kernargs_,
                   mem.AllocInternal(device_->options().kernarg_bytes, kAmGttFlags, true));
  ASSIGN_OR_RETURN(eop_, mem.AllocInternal(kPage, kAmPrivateVramFlags, false));
  const CwsrSizes cwsr = CwsrSizesFor(device_->node());
  ASSIGN_OR_RETURN(cwsr_,
                   mem.AllocInternal(RoundUp(cwsr.ctx_save_restore + cwsr.debug_memory, kPage),
                                     kAmPrivateVramFlags, false));
  // Every slot starts invalid: the CP stops at the first invalid header.
  for (size_t i = 0; i < packets_; ++i) {
    reinterpret_cast<hsa::kernel_dispatch_packet*>(ring_.cpu)[i].header = hsa::kPacketInvalid;
  }
  amdq_ = reinterpret_cast<hsa::amd_queue*>(gart_.cpu);
  std::memset(amdq_, 0, sizeof(*amdq_));
  amdq_->queue_properties = hsa::kQueuePropertiesIsPtr64;
  amdq_->read_dispatch_id_field_base_byte_offset = offsetof(hsa::amd_queue, read_dispatch_id);
  amdq_->max_cu_id = static_cast<uint32_t>(device_->node().compute_units() - 1);
  amdq_->max_wave_id = static_cast<uint32_t>(device_->node().property("max_waves_per_simd", 16) *
                                                 device_->node().property("simd_per_cu", 2) -
                                             1);
  // Manual reset: the watcher and the executor may wait at once, and each
  // resets, re-reads the signal, then sleeps (no wake-up is lost).
  ASSIGN_OR_RETURN(AmEvent event, gpu.CreateEvent(AmEventType::kSignal, /*auto_reset=*/false));
  event_ = event.id;
  signal_ = reinterpret_cast<hsa::amd_signal*>(gart_.cpu + kSignalOffset);
  std::memset(signal_, 0, sizeof(*signal_));
  signal_->kind = hsa::kSignalKindUser;
  signal_->value = kFenceBase;
  signal_->event_mailbox_ptr = gpu.event_page().va + 8 * uint64_t{event.slot};
  signal_->event_id = event_;

  AmQueueSpec q;
  q.type = AmQueueType::kComputeAql;
  q.ring_va = ring_.va;
  q.ring_bytes = static_cast<uint32_t>(ring_.size);
  q.write_pointer_va = gart_.va + offsetof(hsa::amd_queue, write_dispatch_id);
  q.read_pointer_va = gart_.va + offsetof(hsa::amd_queue, read_dispatch_id);
  q.percentage = 100;
  q.priority = 7;
  q.eop_va = eop_.va;
  q.eop_bytes = eop_.size;
  q.ctx_save_restore_va = cwsr_.va;
  q.ctx_save_restore_bytes = cwsr.ctx_save_restore;
  q.ctl_stack_bytes = cwsr.ctl_stack;
  ASSIGN_OR_RETURN(AmQueueInfo info, gpu.CreateQueue(q));
  queue_id_ = info.queue_id;
  doorbell_ = info.doorbell;
  queue_created_ = true;
  AmEngine* raw = this;
  kernarg_space_ = std::make_unique<FencedRing>(
      queue_ + " kernel arguments", kernargs_.size,
      [raw](uint64_t fence, const char* why) { return raw->AwaitFence(fence, why); });
  return absl::OkStatus();
}

AmEngine::~AmEngine() {
  AmGpuInterface& gpu = device_->gpu_interface();
  AmAllocator& mem = device_->am_allocator();
  if (sdma_ != nullptr) ReleaseSdma(*sdma_);
  if (queue_created_) (void)gpu.DestroyQueue(queue_id_);
  if (event_ != 0) (void)gpu.DestroyEvent(event_);
  for (const AmMemory* m : {&ring_, &gart_, &kernargs_, &eop_, &cwsr_, &scratch_})
    if (m->handle != 0) mem.FreeInternal(*m);
}

bool AmEngine::HasWork() const { return !batch_.empty() || unreported_flush_; }

absl::Status AmEngine::WaitEvent(uint32_t event, absl::Duration timeout) {
  ASSIGN_OR_RETURN(std::vector<AmEventData> fired,
                   device_->gpu_interface().WaitEvents(
                       {event, device_->memory_event(), device_->hw_event()}, Millis(timeout)));
  if (fired.size() == 3) {
    if (const std::optional<AmMemoryFault>& f = fired[1].memory_fault; f.has_value()) {
      return absl::UnavailableError(absl::StrFormat(
          "%s: GPU memory fault at 0x%x (not present %u, read-only %u, no-execute %u)", queue_,
          f->va, unsigned{f->not_present}, unsigned{f->read_only}, unsigned{f->no_execute}));
    }
    if (const std::optional<AmHwException>& h = fired[2].hw_exception; h.has_value()) {
      return absl::UnavailableError(
          absl::StrFormat("%s: GPU hardware exception (reset type %u, cause %u, memory lost %u)",
                          queue_, h->reset_type, h->reset_cause, unsigned{h->memory_lost}));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> AmEngine::CompletedFence() {
  const int64_t value = __atomic_load_n(&signal_->value, __ATOMIC_ACQUIRE);
  return static_cast<uint64_t>(kFenceBase - value);
}

absl::Status AmEngine::WaitFence(uint64_t fence, absl::Duration timeout) {
  RETURN_IF_ERROR(device_->gpu_interface().ResetEvent(event_));
  ASSIGN_OR_RETURN(uint64_t done, CompletedFence());
  if (done >= fence) return absl::OkStatus();
  return WaitEvent(event_, timeout);
}

absl::Status AmEngine::AwaitFence(uint64_t fence, const char* why) {
  const absl::Time deadline = absl::Now() + wait_timeout_;
  for (;;) {
    ASSIGN_OR_RETURN(uint64_t done, CompletedFence());
    if (done >= fence) return absl::OkStatus();
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat(queue_, ": ", why, ": the GPU did not complete batch ", fence, " within ",
                       absl::FormatDuration(wait_timeout_), " (completed: ", done, ")"));
    }
    RETURN_IF_ERROR(WaitFence(fence, std::min(left, DeviceQueue::kWatchSlice)));
  }
}

absl::Status AmEngine::AddExec(const ExecCommand& c) {
  auto* program = dynamic_cast<AmProgram*>(c.program);
  if (program == nullptr || program->device() != device_) {
    return absl::InvalidArgumentError(absl::StrCat(queue_, ": program '", c.program->desc().name,
                                                   "' was not loaded on ", device_->name()));
  }
  RETURN_IF_ERROR(program->CheckLaunch(c.global, c.local));
  if (program->kd().private_segment_fixed_size != 0) {
    RETURN_IF_ERROR(EnsureScratch(program->kd().private_segment_fixed_size,
                                  (program->kd().kernel_code_properties & kKernelCodeWave32) != 0));
  }
  const size_t args = program->kd().kernarg_size;
  if (batch_.size() + 1 > packets_ / 2 ||
      kernarg_space_->pending_bytes() + args + 64 > kernargs_.size / 2) {
    RETURN_IF_ERROR(Submit().status());  // a long batch: start its first part
    unreported_flush_ = true;
  }
  ASSIGN_OR_RETURN(size_t off, kernarg_space_->Reserve(std::max<size_t>(args, 8), 64));
  uint8_t* k = kernargs_.cpu + off;
  for (size_t i = 0; i < c.bufs.size(); ++i) {
    const uint64_t a = c.bufs[i]->device_address();
    std::memcpy(k + 8 * i, &a, 8);
  }
  for (size_t i = 0; i < c.vars.size(); ++i)
    std::memcpy(k + 8 * (c.bufs.size() + i), &c.vars[i], 8);
  hsa::kernel_dispatch_packet p{};
  p.setup = 3;
  p.workgroup_size_x = static_cast<uint16_t>(c.local.x);
  p.workgroup_size_y = static_cast<uint16_t>(c.local.y);
  p.workgroup_size_z = static_cast<uint16_t>(c.local.z);
  p.grid_size_x = static_cast<uint32_t>(c.global.x * c.local.x);
  p.grid_size_y = static_cast<uint32_t>(c.global.y * c.local.y);
  p.grid_size_z = static_cast<uint32_t>(c.global.z * c.local.z);
  p.private_segment_size = program->kd().private_segment_fixed_size;
  p.group_segment_size = program->kd().group_segment_fixed_size;
  p.kernel_object = program->kernel_object();
  p.kernarg_address = kernargs_.va + off;
  batch_.push_back(p);
  return absl::OkStatus();
}

absl::Status AmEngine::EnsureScratch(uint32_t item_bytes, bool wave32) {
  const AmGpuNode& gpu = device_->node();
  ASSIGN_OR_RETURN(ScratchLayout want,
                   PlanScratch(gpu, item_bytes, wave32, device_->options().max_scratch_bytes));
  if (want.wave_bytes <= scratch_wave_bytes_) return absl::OkStatus();
  // The CP may be running submitted work with the current scratch: let it
  // finish before the backing goes (the batch being built is not visible to
  // the CP yet and runs with the new one).
  uint64_t last;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last = submitted_;
  }
  RETURN_IF_ERROR(AwaitFence(last, "growing the queue's scratch"));
  AmAllocator& mem = device_->am_allocator();
  if (scratch_.handle != 0) {
    mem.FreeInternal(scratch_);
    scratch_ = AmMemory{};
    scratch_wave_bytes_ = 0;
  }
  ASSIGN_OR_RETURN(scratch_,
                   mem.AllocInternal(RoundUp(want.total_bytes, kPage), kAmPrivateVramFlags, false));
  FillScratchFields(gpu, want, scratch_.va, amdq_);
  // Visible before any packet published after this (Submit's header stores
  // release).
  __atomic_thread_fence(__ATOMIC_RELEASE);
  scratch_wave_bytes_ = want.wave_bytes;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> AmEngine::Submit() {
  if (batch_.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    return submitted_;
  }
  // Room in the ring: everything before this batch may have to finish.
  const uint64_t read = __atomic_load_n(&amdq_->read_dispatch_id, __ATOMIC_ACQUIRE);
  if (write_index_ + batch_.size() - read > packets_) {
    uint64_t last;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last = submitted_;
    }
    RETURN_IF_ERROR(AwaitFence(last, "AQL ring full"));
  }
  batch_.back().completion_signal =
      reinterpret_cast<uint64_t>(signal_) - reinterpret_cast<uint64_t>(gart_.cpu) + gart_.va;
  auto* ring = reinterpret_cast<hsa::kernel_dispatch_packet*>(ring_.cpu);
  const uint16_t header = hsa::kPacketKernelDispatch | hsa::kHeaderBarrier |
                          (hsa::kScopeSystem << hsa::kAcquireScopeShift) |
                          (hsa::kScopeSystem << hsa::kReleaseScopeShift);
  for (const hsa::kernel_dispatch_packet& p : batch_) {
    hsa::kernel_dispatch_packet* slot = &ring[write_index_ % packets_];
    // The body first, the header last: the packet becomes valid only then.
    std::memcpy(reinterpret_cast<uint8_t*>(slot) + 4, reinterpret_cast<const uint8_t*>(&p) + 4,
                sizeof(p) - 4);
    __atomic_store_n(reinterpret_cast<uint32_t*>(slot),
                     uint32_t{header} | (uint32_t{p.setup} << 16), __ATOMIC_RELEASE);
    ++write_index_;
  }
  __atomic_store_n(&amdq_->write_dispatch_id, write_index_, __ATOMIC_RELEASE);
  __atomic_store_n(doorbell_, write_index_ - 1, __ATOMIC_RELEASE);
  batch_.clear();
  uint64_t fence;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fence = ++submitted_;
  }
  kernarg_space_->Commit(fence);
  return fence;
}

absl::StatusOr<uint64_t> AmEngine::Flush() {
  ASSIGN_OR_RETURN(uint64_t fence, Submit());
  unreported_flush_ = false;
  return fence;
}

absl::Status AmEngine::CreateSdma() {
  auto s = std::make_unique<Sdma>();
  if (absl::Status st = SetUpSdma(*s); !st.ok()) {
    ReleaseSdma(*s);  // what was made before the failure
    return st;
  }
  sdma_ = std::move(s);
  return absl::OkStatus();
}

absl::Status AmEngine::SetUpSdma(Sdma& s) {
  AmAllocator& mem = device_->am_allocator();
  AmGpuInterface& gpu = device_->gpu_interface();
  ASSIGN_OR_RETURN(s.ring, mem.AllocInternal(kSdmaRingBytes, kAmGttFlags, true));
  ASSIGN_OR_RETURN(s.gart, mem.AllocInternal(kPage, kAmGttFlags, true));
  std::memset(s.gart.cpu, 0, kPage);
  ASSIGN_OR_RETURN(AmEvent event, gpu.CreateEvent(AmEventType::kSignal, false));
  s.event = event.id;
  AmQueueSpec q;
  q.type = AmQueueType::kSdma;
  q.ring_va = s.ring.va;
  q.ring_bytes = kSdmaRingBytes;
  q.read_pointer_va = s.gart.va + kSdmaRptr;
  q.write_pointer_va = s.gart.va + kSdmaWptr;
  q.percentage = 100;
  q.priority = 7;
  ASSIGN_OR_RETURN(AmQueueInfo info, gpu.CreateQueue(q));
  s.queue_id = info.queue_id;
  s.doorbell = info.doorbell;
  s.queue_created = true;
  return absl::OkStatus();
}

void AmEngine::ReleaseSdma(Sdma& s) {
  AmGpuInterface& gpu = device_->gpu_interface();
  AmAllocator& mem = device_->am_allocator();
  if (s.queue_created) (void)gpu.DestroyQueue(s.queue_id);
  if (s.event != 0) (void)gpu.DestroyEvent(s.event);
  if (s.ring.handle != 0) mem.FreeInternal(s.ring);
  if (s.gart.handle != 0) mem.FreeInternal(s.gart);
}

absl::Status AmEngine::SdmaCopy(uint64_t dst, uint64_t src, uint64_t bytes) {
  if (sdma_ == nullptr) RETURN_IF_ERROR(CreateSdma());
  Sdma& s = *sdma_;
  auto* ring = reinterpret_cast<uint32_t*>(s.ring.cpu);
  const uint64_t ring_dwords = kSdmaRingBytes / 4;
  auto put = [&](uint32_t v) {
    ring[(s.wptr / 4) % ring_dwords] = v;
    s.wptr += 4;
  };
  // A few hundred chunks per submission keep it well inside the ring.
  for (uint64_t done = 0; done < bytes;) {
    for (int k = 0; k < 256 && done < bytes; ++k) {
      const uint64_t n = std::min<uint64_t>(sdma::kMaxCopyBytes, bytes - done);
      put(sdma::Header(sdma::kOpCopy, sdma::kSubOpCopyLinear));
      put(static_cast<uint32_t>(n - 1));
      put(0);
      put(static_cast<uint32_t>(src + done));
      put(static_cast<uint32_t>((src + done) >> 32));
      put(static_cast<uint32_t>(dst + done));
      put(static_cast<uint32_t>((dst + done) >> 32));
      done += n;
    }
    const uint32_t seq = ++s.seq;
    const uint64_t fence_va = s.gart.va + kSdmaFence;
    put(sdma::Header(sdma::kOpFence));
    put(static_cast<uint32_t>(fence_va));
    put(static_cast<uint32_t>(fence_va >> 32));
    put(seq);
    put(sdma::Header(sdma::kOpTrap));
    put(s.event);
    __atomic_store_n(reinterpret_cast<uint64_t*>(s.gart.cpu + kSdmaWptr), s.wptr, __ATOMIC_RELEASE);
    __atomic_store_n(s.doorbell, s.wptr, __ATOMIC_RELEASE);
    const absl::Time deadline = absl::Now() + wait_timeout_;
    auto* fence_word = reinterpret_cast<uint32_t*>(s.gart.cpu + kSdmaFence);
    for (;;) {
      RETURN_IF_ERROR(device_->gpu_interface().ResetEvent(s.event));
      if (static_cast<int32_t>(__atomic_load_n(fence_word, __ATOMIC_ACQUIRE) - seq) >= 0) break;
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        return absl::DeadlineExceededError(absl::StrCat(queue_, ": SDMA copy of ", bytes,
                                                        " bytes did not finish within ",
                                                        absl::FormatDuration(wait_timeout_)));
      }
      RETURN_IF_ERROR(WaitEvent(s.event, std::min(left, DeviceQueue::kWatchSlice)));
    }
  }
  return absl::OkStatus();
}

absl::Status AmEngine::AddCopy(const CopyCommand& c) {
  if (c.bytes == 0) return absl::OkStatus();
  // The copy runs once the work recorded before it completed.
  if (!batch_.empty()) {
    RETURN_IF_ERROR(Submit().status());
    unreported_flush_ = true;
  }
  uint64_t last;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last = submitted_;
  }
  RETURN_IF_ERROR(AwaitFence(last, "copy waiting for earlier work"));
  const Allocator* mine = &device_->allocator();
  if (c.dst->owner() == mine && c.src->owner() == mine) {
    return SdmaCopy(c.dst->device_address() + c.dst_offset, c.src->device_address() + c.src_offset,
                    c.bytes);
  }
  // Another device's host-visible buffer: the host copies (through the BAR).
  std::memmove(static_cast<uint8_t*>(c.dst->host_ptr()) + c.dst_offset,
               static_cast<const uint8_t*>(c.src->host_ptr()) + c.src_offset, c.bytes);
  return absl::OkStatus();
}

}  // namespace uop
