#include "drivers/qcom/emulator/kgsl_emulator.h"

#include <sys/mman.h>

#include <cerrno>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "drivers/qcom/abi/kgsl.h"

namespace uop {
namespace {

using namespace kgsl;  // NOLINT

constexpr uint32_t kMaxCmds = 64;

// KGSL's timestamp_cmp: a >= b on the 32-bit circle.
bool TsReached(uint32_t retired, uint32_t ts) { return static_cast<int32_t>(retired - ts) >= 0; }

}  // namespace

KgslEmulator::KgslEmulator(const Options& options)
    : options_(options), memory_(options.memory_bytes), cp_(&memory_, &twins_), rng_(options.seed) {
  gpu_ = std::thread([this] { GpuLoop(); });
}

KgslEmulator::~KgslEmulator() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  gpu_cv_.notify_all();
  gpu_.join();
}

int KgslEmulator::OnOpen(int, int) { return 0; }
void KgslEmulator::OnClose(int) {}

void KgslEmulator::Pause() {
  std::lock_guard<std::mutex> lock(mu_);
  paused_ = true;
}

void KgslEmulator::Resume() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    paused_ = false;
  }
  gpu_cv_.notify_all();
}

void KgslEmulator::set_latency(absl::Duration min, absl::Duration max) {
  std::lock_guard<std::mutex> lock(mu_);
  latency_min_ = min;
  latency_max_ = std::max(min, max);
}

std::string KgslEmulator::fault() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fault_;
}

KgslEmulator::Stats KgslEmulator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

int KgslEmulator::OnIoctl(int, unsigned long request, void* arg) {
  if (arg == nullptr) return -EFAULT;
  switch (request) {
    case kIoctlDeviceGetProperty:
      return GetProperty(arg);
    case kIoctlSetProperty:
      return SetProperty(arg);
    case kIoctlDrawctxtCreate:
      return CreateContext(arg);
    case kIoctlDrawctxtDestroy:
      return DestroyContext(arg);
    case kIoctlGpuobjAlloc:
      return Alloc(arg);
    case kIoctlGpuobjFree:
      return Free(arg);
    case kIoctlGpuobjInfo:
      return Info(arg);
    case kIoctlGpuCommand:
      return GpuCommand(arg);
    case kIoctlReadTimestampCtxtid:
      return ReadTimestamp(arg);
    case kIoctlWaitTimestampCtxtid:
      return WaitTimestamp(arg);
    default:
      return -ENOTTY;
  }
}

int KgslEmulator::GetProperty(void* arg) {
  auto* req = static_cast<kgsl_device_getproperty*>(arg);
  if (req->type != kPropDeviceInfo || req->value == nullptr) return -EINVAL;
  if (req->sizebytes != sizeof(kgsl_devinfo)) return -EINVAL;
  kgsl_devinfo info{};
  info.device_id = 1;  // KGSL_DEVICE_3D0 + 1
  info.chip_id = options_.chip_id;
  info.mmu_enabled = 1;
  info.gpu_id = options_.gpu_id;
  info.gmem_sizebytes = 1 << 20;
  *static_cast<kgsl_devinfo*>(req->value) = info;
  return 0;
}

int KgslEmulator::SetProperty(void* arg) {
  auto* req = static_cast<kgsl_device_getproperty*>(arg);
  if (req->type != kPropPwrConstraint || req->value == nullptr ||
      req->sizebytes != sizeof(kgsl_device_constraint)) {
    return -EINVAL;
  }
  const auto* c = static_cast<const kgsl_device_constraint*>(req->value);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = contexts_.find(c->context_id);
  if (it == contexts_.end() || it->second.destroyed) return -EINVAL;
  return 0;
}

int KgslEmulator::CreateContext(void* arg) {
  auto* req = static_cast<kgsl_drawctxt_create*>(arg);
  std::lock_guard<std::mutex> lock(mu_);
  req->drawctxt_id = next_context_++;
  contexts_[req->drawctxt_id] = Context{};
  return 0;
}

int KgslEmulator::DestroyContext(void* arg) {
  auto* req = static_cast<kgsl_drawctxt_destroy*>(arg);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = contexts_.find(req->drawctxt_id);
    if (it == contexts_.end() || it->second.destroyed) return -EINVAL;
    it->second.destroyed = true;
  }
  retire_cv_.notify_all();
  return 0;
}

int KgslEmulator::Alloc(void* arg) {
  auto* req = static_cast<kgsl_gpuobj_alloc*>(arg);
  if (req->size == 0 || req->metadata_len > 64) return -EINVAL;
  absl::StatusOr<std::shared_ptr<EmuMemory::Bo>> bo = memory_.Create(req->size);
  if (!bo.ok()) return -ENOMEM;
  std::lock_guard<std::mutex> lock(mu_);
  const uint32_t id = next_object_++;
  const bool cpu_map = (req->flags & kMemflagsUseCpuMap) != 0;
  if (!cpu_map) {
    memory_.Bind(*bo, next_gpu_va_);
    next_gpu_va_ += ((*bo)->size + 0xFFFF) & ~uint64_t{0xFFFF};
  }
  objects_[id] = (*bo)->id;
  cpu_map_[id] = cpu_map;
  req->id = id;
  req->mmapsize = (*bo)->size;
  return 0;
}

int KgslEmulator::Free(void* arg) {
  auto* req = static_cast<kgsl_gpuobj_free*>(arg);
  if (req->flags != 0) return -EINVAL;  // free-on-event is not modeled
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(req->id);
  if (it == objects_.end()) return -EINVAL;
  memory_.Destroy(it->second);
  objects_.erase(it);
  cpu_map_.erase(req->id);
  return 0;
}

int KgslEmulator::Info(void* arg) {
  auto* req = static_cast<kgsl_gpuobj_info*>(arg);
  std::shared_ptr<EmuMemory::Bo> bo;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(req->id);
    if (it == objects_.end()) return -EINVAL;
    bo = memory_.Find(it->second);
    req->flags = cpu_map_[req->id] ? kMemflagsUseCpuMap : 0;
  }
  req->gpuaddr = bo->gpu_va;
  req->size = bo->size;
  req->va_len = bo->size;
  req->va_addr = 0;
  return 0;
}

int KgslEmulator::OnMmap(int, void* addr, size_t length, int prot, int flags, uint64_t offset,
                         void** out) {
  if (offset % 4096 != 0) return -EINVAL;
  std::shared_ptr<EmuMemory::Bo> bo;
  bool cpu_map;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(static_cast<uint32_t>(offset >> 12));
    if (it == objects_.end()) return -EINVAL;
    bo = memory_.Find(it->second);
    cpu_map = cpu_map_[it->first];
  }
  const int r = memory_.MapUser(*bo, 0, addr, length, prot, flags, out);
  if (r < 0) return r;
  // USE_CPU_MAP: the GPU address is the CPU address of the first mapping.
  if (cpu_map && bo->gpu_va == 0 && memory_.Bind(bo, reinterpret_cast<uint64_t>(*out)) < 0) {
    ::munmap(*out, length);
    return -EINVAL;
  }
  return 0;
}

int KgslEmulator::GpuCommand(void* arg) {
  auto* req = static_cast<kgsl_gpu_command*>(arg);
  if (req->cmdsize != sizeof(kgsl_command_object) || req->numcmds == 0 || req->numcmds > kMaxCmds ||
      req->cmdlist == 0 || req->numobjs != 0 || req->numsyncs != 0) {
    return -EINVAL;
  }
  Submission s;
  const auto* cmds = reinterpret_cast<const kgsl_command_object*>(req->cmdlist);
  for (uint32_t i = 0; i < req->numcmds; ++i) {
    const kgsl_command_object& c = cmds[i];
    // KGSL checks each IB lies in memory the process mapped for the GPU.
    if ((c.flags & kCmdlistIb) == 0 || c.size == 0 || c.size % 4 != 0 ||
        memory_.Translate(c.gpuaddr + c.offset, c.size) == nullptr) {
      return -EINVAL;
    }
    s.ibs.emplace_back(c.gpuaddr + c.offset, c.size);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = contexts_.find(req->context_id);
    if (it == contexts_.end() || it->second.destroyed) return -EINVAL;
    if (it->second.faulted) return -EDEADLK;
    s.context = req->context_id;
    s.timestamp = ++it->second.queued;
    req->timestamp = s.timestamp;
    pending_.push_back(std::move(s));
    ++stats_.submissions;
  }
  gpu_cv_.notify_all();
  return 0;
}

int KgslEmulator::ReadTimestamp(void* arg) {
  auto* req = static_cast<kgsl_cmdstream_readtimestamp_ctxtid*>(arg);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = contexts_.find(req->context_id);
  if (it == contexts_.end() || it->second.destroyed) return -EINVAL;
  switch (req->type) {
    case kTimestampConsumed:
    case kTimestampRetired:
      req->timestamp = it->second.retired;
      return 0;
    case kTimestampQueued:
      req->timestamp = it->second.queued;
      return 0;
    default:
      return -EINVAL;
  }
}

int KgslEmulator::WaitTimestamp(void* arg) {
  auto* req = static_cast<kgsl_device_waittimestamp_ctxtid*>(arg);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(req->timeout);
  std::unique_lock<std::mutex> lock(mu_);
  auto it = contexts_.find(req->context_id);
  if (it == contexts_.end() || it->second.destroyed) return -EINVAL;
  Context& c = it->second;
  // A timestamp that was never issued can never retire.
  if (static_cast<int32_t>(req->timestamp - c.queued) > 0) return -EINVAL;
  retire_cv_.wait_until(lock, deadline, [&] {
    return TsReached(c.retired, req->timestamp) || c.faulted || c.destroyed;
  });
  if (TsReached(c.retired, req->timestamp)) return 0;
  if (c.faulted) return -EDEADLK;
  if (c.destroyed) return -EINVAL;
  return -ETIMEDOUT;
}

void KgslEmulator::GpuLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    gpu_cv_.wait(lock, [this] { return stop_ || (!pending_.empty() && !paused_); });
    if (stop_) return;
    Submission s = std::move(pending_.front());
    pending_.pop_front();
    absl::Duration latency = latency_min_;
    if (latency_max_ > latency_min_) {
      std::uniform_int_distribution<int64_t> us(absl::ToInt64Microseconds(latency_min_),
                                                absl::ToInt64Microseconds(latency_max_));
      latency = absl::Microseconds(us(rng_));
    }
    const Context& c = contexts_[s.context];
    const bool skip = c.destroyed || c.faulted;
    lock.unlock();
    // The GPU's execution time (the emulator's, not a driver's, sleep).
    if (latency > absl::ZeroDuration())
      std::this_thread::sleep_for(absl::ToChronoNanoseconds(latency));
    absl::Status fault;
    if (!skip) {
      for (const auto& [ib, bytes] : s.ibs) {
        fault = cp_.Execute(ib, bytes);
        if (!fault.ok()) break;
      }
    }
    lock.lock();
    Context& ctx = contexts_[s.context];
    if (skip) continue;
    if (!fault.ok()) {
      ctx.faulted = true;
      if (fault_.empty()) {
        fault_ =
            absl::StrCat("context ", s.context, " timestamp ", s.timestamp, ": ", fault.message());
      }
    } else {
      ctx.retired = s.timestamp;
      ++stats_.retired;
    }
    stats_.cp = cp_.stats();
    retire_cv_.notify_all();
  }
}

}  // namespace uop
