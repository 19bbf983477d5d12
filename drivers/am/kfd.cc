#include "drivers/am/kfd.h"

#include <fcntl.h>
#include <sys/mman.h>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kDoorbellPages = 0x2000;  // KFD's doorbell aperture per process and GPU
constexpr size_t kEventPageBytes = 0x8000;

// The interface's allocation flags are KFD's bits, passed on unchanged.
static_assert(kAmMemVram == kfd::kAllocVram && kAmMemGtt == kfd::kAllocGtt &&
              kAmMemWritable == kfd::kAllocWritable && kAmMemExecutable == kfd::kAllocExecutable &&
              kAmMemPublic == kfd::kAllocPublic && kAmMemNoSubstitute == kfd::kAllocNoSubstitute &&
              kAmMemCoherent == kfd::kAllocCoherent && kAmMemUncached == kfd::kAllocUncached);

uint32_t KfdEventType(AmEventType type) {
  switch (type) {
    case AmEventType::kSignal:
      return kfd::kEventSignal;
    case AmEventType::kMemoryFault:
      return kfd::kEventMemory;
    case AmEventType::kHwException:
      return kfd::kEventHwException;
  }
  return kfd::kEventSignal;
}

// What KFD wrote for one waited event, in the interface's terms. KFD copies
// a memory fault's details back only for a memory event that fired (gpu_id
// set); a hardware exception's gpu_id is set the same way.
AmEventData FromKfd(const kfd::event_data& d, AmEventType type) {
  AmEventData out;
  out.id = d.event_id;
  if (type == AmEventType::kMemoryFault && d.memory_exception.gpu_id != 0) {
    const kfd::memory_exception_failure& f = d.memory_exception.failure;
    out.memory_fault = AmMemoryFault{.va = d.memory_exception.va,
                                     .not_present = f.not_present != 0,
                                     .read_only = f.read_only != 0,
                                     .no_execute = f.no_execute != 0,
                                     .imprecise = f.imprecise != 0};
  }
  if (type == AmEventType::kHwException && d.hw_exception.gpu_id != 0) {
    out.hw_exception = AmHwException{.reset_type = d.hw_exception.reset_type,
                                     .reset_cause = d.hw_exception.reset_cause,
                                     .memory_lost = d.hw_exception.memory_lost != 0};
  }
  return out;
}

}  // namespace

std::string Kfd::Describe() const {
  return absl::StrCat("KFD ", major_, ".", minor_, io_.emulated() ? ", emulated" : "");
}

absl::Status Kfd::Call(unsigned long request, void* arg, const char* name) {
  absl::Status st = io_.Ioctl(kfd_fd_, request, arg, name);
  if (st.ok()) return st;
  return absl::Status(st.code(), absl::StrCat(device_, ": ", st.message()));
}

absl::StatusOr<std::unique_ptr<Kfd>> Kfd::Open(KernelIo& io, const AmGpuNode& gpu,
                                               std::string device) {
  std::unique_ptr<Kfd> k(new Kfd(io, std::move(device)));
  k->gpu_id_ = gpu.gpu_id;
  ASSIGN_OR_RETURN(k->kfd_fd_, io.Open("/dev/kfd", O_RDWR));
  const uint64_t minor = gpu.property("drm_render_minor", 0);
  ASSIGN_OR_RETURN(k->drm_fd_, io.Open(absl::StrCat("/dev/dri/renderD", minor), O_RDWR));
  kfd::get_version_args v{};
  RETURN_IF_ERROR(k->Call(kfd::kIoctlGetVersion, &v, "AMDKFD_IOC_GET_VERSION"));
  k->major_ = v.major_version;
  k->minor_ = v.minor_version;
  if (v.major_version != 1) {
    return absl::FailedPreconditionError(absl::StrCat(k->device_, ": KFD interface version ",
                                                      v.major_version, ".", v.minor_version,
                                                      ", this driver speaks 1.x"));
  }
  kfd::acquire_vm_args vm{static_cast<uint32_t>(k->drm_fd_), k->gpu_id_};
  RETURN_IF_ERROR(k->Call(kfd::kIoctlAcquireVm, &vm, "AMDKFD_IOC_ACQUIRE_VM"));
  if (v.minor_version >= 14) {
    // KFD 1.14+ keeps user queues off until the runtime says it is there.
    kfd::runtime_enable_args re{};
    RETURN_IF_ERROR(k->Call(kfd::kIoctlRuntimeEnable, &re, "AMDKFD_IOC_RUNTIME_ENABLE"));
  }
  ASSIGN_OR_RETURN(k->event_page_,
                   k->Alloc(kEventPageBytes,
                            kfd::kAllocGtt | kfd::kAllocWritable | kfd::kAllocCoherent |
                                kfd::kAllocUncached | kfd::kAllocNoSubstitute,
                            /*cpu_map=*/true));
  return k;
}

Kfd::~Kfd() {
  if (doorbells_ != nullptr) (void)io_.Munmap(doorbells_, kDoorbellPages);
  if (event_page_.handle != 0) (void)Free(event_page_);
  if (drm_fd_ >= 0) (void)io_.Close(drm_fd_);
  if (kfd_fd_ >= 0) (void)io_.Close(kfd_fd_);
}

absl::StatusOr<AmMemory> Kfd::Alloc(size_t bytes, uint32_t flags, bool cpu_map) {
  AmMemory m;
  m.size = (std::max<size_t>(bytes, 1) + kPage - 1) / kPage * kPage;
  m.flags = flags;
  // The address first: the GPU will use the same one.
  ASSIGN_OR_RETURN(void* va,
                   io_.Mmap(nullptr, m.size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                            -1, 0, "address reservation"));
  m.va = reinterpret_cast<uint64_t>(va);
  kfd::alloc_memory_of_gpu_args a{};
  a.va_addr = m.va;
  a.size = m.size;
  a.gpu_id = gpu_id_;
  a.flags = flags;
  absl::Status st = Call(kfd::kIoctlAllocMemoryOfGpu, &a, "AMDKFD_IOC_ALLOC_MEMORY_OF_GPU");
  if (!st.ok()) {
    (void)io_.Munmap(va, m.size);
    if (st.code() == absl::StatusCode::kResourceExhausted) {
      return absl::ResourceExhaustedError(absl::StrCat(device_, ": out of ",
                                                       (flags & kfd::kAllocVram) ? "VRAM" : "GTT",
                                                       " allocating ", bytes, " bytes"));
    }
    return st;
  }
  m.handle = a.handle;
  if (cpu_map) {
    absl::StatusOr<void*> cpu = io_.Mmap(va, m.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
                                         drm_fd_, a.mmap_offset, "GPU memory");
    if (!cpu.ok() || *cpu != va) {
      kfd::free_memory_of_gpu_args f{m.handle};
      (void)Call(kfd::kIoctlFreeMemoryOfGpu, &f, "AMDKFD_IOC_FREE_MEMORY_OF_GPU");
      (void)io_.Munmap(va, m.size);
      return cpu.ok() ? absl::InternalError(absl::StrCat(device_, ": mmap did not honor MAP_FIXED"))
                      : cpu.status();
    }
    m.cpu = static_cast<uint8_t*>(va);
  }
  uint32_t ids[1] = {gpu_id_};
  kfd::map_memory_to_gpu_args map{m.handle, reinterpret_cast<uint64_t>(ids), 1, 0};
  st = Call(kfd::kIoctlMapMemoryToGpu, &map, "AMDKFD_IOC_MAP_MEMORY_TO_GPU");
  if (!st.ok() || map.n_success != 1) {
    kfd::free_memory_of_gpu_args f{m.handle};
    (void)Call(kfd::kIoctlFreeMemoryOfGpu, &f, "AMDKFD_IOC_FREE_MEMORY_OF_GPU");
    (void)io_.Munmap(va, m.size);
    return st.ok() ? absl::InternalError(
                         absl::StrCat(device_, ": memory mapped on ", map.n_success, " of 1 GPUs"))
                   : st;
  }
  return m;
}

absl::Status Kfd::Free(const AmMemory& m) {
  uint32_t ids[1] = {gpu_id_};
  kfd::map_memory_to_gpu_args unmap{m.handle, reinterpret_cast<uint64_t>(ids), 1, 0};
  absl::Status st = Call(kfd::kIoctlUnmapMemoryFromGpu, &unmap, "AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU");
  absl::Status mst = io_.Munmap(reinterpret_cast<void*>(m.va), m.size);
  kfd::free_memory_of_gpu_args f{m.handle};
  absl::Status fst = Call(kfd::kIoctlFreeMemoryOfGpu, &f, "AMDKFD_IOC_FREE_MEMORY_OF_GPU");
  if (!st.ok()) return st;
  return mst.ok() ? fst : mst;
}

absl::StatusOr<AmEvent> Kfd::CreateEvent(AmEventType type, bool auto_reset) {
  kfd::create_event_args e{};
  e.event_type = KfdEventType(type);
  e.auto_reset = auto_reset ? 1 : 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (type == AmEventType::kSignal && !event_page_given_) {
      e.event_page_offset = event_page_.handle;
      event_page_given_ = true;
    }
  }
  RETURN_IF_ERROR(Call(kfd::kIoctlCreateEvent, &e, "AMDKFD_IOC_CREATE_EVENT"));
  std::lock_guard<std::mutex> lock(mu_);
  event_types_[e.event_id] = type;
  return AmEvent{.id = e.event_id, .slot = e.event_slot_index};
}

absl::Status Kfd::DestroyEvent(uint32_t event) {
  kfd::destroy_event_args d{event, 0};
  RETURN_IF_ERROR(Call(kfd::kIoctlDestroyEvent, &d, "AMDKFD_IOC_DESTROY_EVENT"));
  std::lock_guard<std::mutex> lock(mu_);
  event_types_.erase(event);
  return absl::OkStatus();
}

absl::Status Kfd::ResetEvent(uint32_t event) {
  kfd::destroy_event_args r{event, 0};
  return Call(kfd::kIoctlResetEvent, &r, "AMDKFD_IOC_RESET_EVENT");
}

absl::StatusOr<std::vector<AmEventData>> Kfd::WaitEvents(const std::vector<uint32_t>& events,
                                                         uint32_t timeout_ms) {
  std::vector<kfd::event_data> data(events.size());
  for (size_t i = 0; i < events.size(); ++i) data[i].event_id = events[i];
  kfd::wait_events_args w{};
  w.events_ptr = reinterpret_cast<uint64_t>(data.data());
  w.num_events = static_cast<uint32_t>(events.size());
  w.wait_for_all = 0;
  w.timeout = timeout_ms;
  RETURN_IF_ERROR(Call(kfd::kIoctlWaitEvents, &w, "AMDKFD_IOC_WAIT_EVENTS"));
  if (w.wait_result == kfd::kWaitTimeout) return std::vector<AmEventData>{};
  if (w.wait_result != kfd::kWaitComplete) {
    return absl::UnavailableError(
        absl::StrCat(device_, ": AMDKFD_IOC_WAIT_EVENTS failed (result ", w.wait_result, ")"));
  }
  std::vector<AmEventData> out;
  out.reserve(events.size());
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < events.size(); ++i) {
    auto it = event_types_.find(events[i]);
    out.push_back(FromKfd(data[i], it != event_types_.end() ? it->second : AmEventType::kSignal));
  }
  return out;
}

absl::StatusOr<AmQueueInfo> Kfd::CreateQueue(const AmQueueSpec& spec) {
  kfd::create_queue_args args{};
  args.ring_base_address = spec.ring_va;
  args.ring_size = spec.ring_bytes;
  args.write_pointer_address = spec.write_pointer_va;
  args.read_pointer_address = spec.read_pointer_va;
  args.queue_type =
      spec.type == AmQueueType::kSdma ? kfd::kQueueTypeSdma : kfd::kQueueTypeComputeAql;
  args.queue_percentage = spec.percentage;
  args.queue_priority = spec.priority;
  args.eop_buffer_address = spec.eop_va;
  args.eop_buffer_size = spec.eop_bytes;
  args.ctx_save_restore_address = spec.ctx_save_restore_va;
  args.ctx_save_restore_size = spec.ctx_save_restore_bytes;
  args.ctl_stack_size = spec.ctl_stack_bytes;
  args.gpu_id = gpu_id_;
  RETURN_IF_ERROR(Call(kfd::kIoctlCreateQueue, &args, "AMDKFD_IOC_CREATE_QUEUE"));
  AmQueueInfo q;
  q.queue_id = args.queue_id;
  const uint64_t base = args.doorbell_offset & ~uint64_t{kDoorbellPages - 1};
  std::lock_guard<std::mutex> lock(mu_);
  if (doorbells_ == nullptr) {
    absl::StatusOr<void*> db = io_.Mmap(nullptr, kDoorbellPages, PROT_READ | PROT_WRITE, MAP_SHARED,
                                        kfd_fd_, base, "KFD doorbells");
    if (!db.ok()) {
      kfd::destroy_queue_args d{q.queue_id, 0};
      (void)Call(kfd::kIoctlDestroyQueue, &d, "AMDKFD_IOC_DESTROY_QUEUE");
      return db.status();
    }
    doorbells_ = *db;
    doorbell_base_ = base;
  } else if (base != doorbell_base_) {
    return absl::InternalError(absl::StrCat(device_, ": queue doorbell outside the mapped page"));
  }
  q.doorbell = reinterpret_cast<volatile uint64_t*>(static_cast<uint8_t*>(doorbells_) +
                                                    (args.doorbell_offset - base));
  return q;
}

absl::Status Kfd::DestroyQueue(uint32_t queue_id) {
  kfd::destroy_queue_args d{queue_id, 0};
  return Call(kfd::kIoctlDestroyQueue, &d, "AMDKFD_IOC_DESTROY_QUEUE");
}

}  // namespace uop
