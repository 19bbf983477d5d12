#include "drivers/qcom/qcom_queue.h"

#include <chrono>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "drivers/qcom/abi/kgsl.h"
#include "drivers/qcom/qcom_device.h"
#include "drivers/qcom/qcom_program.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

// Context flags as tinygrad's QCOM backend uses them on a6xx.
constexpr uint32_t kContextFlags =
    kgsl::kContextPreamble | kgsl::kContextPwrConstraint | kgsl::kContextNoFaultTolerance |
    kgsl::kContextNoGmemAlloc | (8u << kgsl::kContextPriorityShift) |
    (kgsl::kContextPreemptStyleFinegrain << kgsl::kContextPreemptStyleShift);

}  // namespace

absl::StatusOr<std::unique_ptr<QcomEngine>> QcomEngine::Create(QcomDevice* device,
                                                               std::string queue,
                                                               absl::Duration wait_timeout) {
  std::unique_ptr<QcomEngine> e(new QcomEngine(device, std::move(queue), wait_timeout));
  ASSIGN_OR_RETURN(e->context_, device->kgsl().CreateContext(kContextFlags));
  (void)device->kgsl().SetMaxPower(e->context_);  // best effort: a hint to the governor
  absl::StatusOr<Kgsl::Memory> ring = device->qcom_allocator().AllocInternal(
      device->ring_bytes(), kgsl::kMemTypeCommand << kgsl::kMemTypeShift);
  if (!ring.ok()) {
    (void)device->kgsl().DestroyContext(e->context_);
    e->context_ = 0;
    return ring.status();
  }
  e->ring_ = *ring;
  QcomEngine* raw = e.get();
  e->space_ = std::make_unique<FencedRing>(
      e->queue_ + " command ring", e->ring_.mapped,
      [raw](uint64_t fence, const char* why) { return raw->AwaitFence(fence, why); });
  return e;
}

QcomEngine::~QcomEngine() {
  if (context_ != 0) (void)device_->kgsl().DestroyContext(context_);
  if (ring_.cpu != nullptr) device_->qcom_allocator().FreeInternal(ring_);
}

bool QcomEngine::HasWork() const { return !batch_.dwords().empty() || unreported_flush_; }

absl::Status QcomEngine::AwaitFence(uint64_t fence, const char* why) {
  const absl::Time deadline = absl::Now() + wait_timeout_;
  for (;;) {
    ASSIGN_OR_RETURN(uint64_t done, CompletedFence());
    if (done >= fence) return absl::OkStatus();
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(absl::StrCat(
          queue_, ": ", why, ": the GPU did not retire timestamp ", fence, " of context ", context_,
          " within ", absl::FormatDuration(wait_timeout_), " (retired: ", done, ")"));
    }
    RETURN_IF_ERROR(WaitFence(fence, std::min(left, DeviceQueue::kWatchSlice)));
  }
}

absl::Status QcomEngine::AddExec(const ExecCommand& c) {
  auto* program = dynamic_cast<QcomProgram*>(c.program);
  if (program == nullptr || program->device() != device_) {
    return absl::InvalidArgumentError(absl::StrCat(queue_, ": program '", c.program->desc().name,
                                                   "' was not loaded on ", device_->name()));
  }
  RETURN_IF_ERROR(program->CheckLaunch(c.global, c.local));
  if (space_->pending_bytes() + kQcomArgsBytes + batch_.bytes() + 1024 > ring_.mapped / 2) {
    RETURN_IF_ERROR(Submit().status());  // a long batch: start its first half
    unreported_flush_ = true;
  }
  ASSIGN_OR_RETURN(size_t off, space_->Reserve(kQcomArgsBytes, 256));
  RETURN_IF_ERROR(
      WriteLaunchArgs(program->kernel(), c.bufs, c.vars, ring_.cpu + off, kQcomArgsBytes));
  EmitLaunch(batch_, program->kernel(), ring_.gpu + off, device_->stack_gpu(), device_->flush_gpu(),
             c.global, c.local);
  return absl::OkStatus();
}

absl::Status QcomEngine::AddCopy(const CopyCommand& c) {
  if (c.bytes == 0) return absl::OkStatus();
  if (c.dst->host_ptr() == nullptr || c.src->host_ptr() == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(queue_, ": copy needs host-visible buffers (KGSL memory always is)"));
  }
  // The host copies once the work before the copy retired.
  if (!batch_.dwords().empty()) {
    RETURN_IF_ERROR(Submit().status());
    unreported_flush_ = true;
  }
  uint64_t last;
  {
    std::lock_guard<std::mutex> lock(fence_mu_);
    last = last_submitted_;
  }
  RETURN_IF_ERROR(AwaitFence(last, "copy waiting for earlier work"));
  std::memmove(static_cast<uint8_t*>(c.dst->host_ptr()) + c.dst_offset,
               static_cast<const uint8_t*>(c.src->host_ptr()) + c.src_offset, c.bytes);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> QcomEngine::Submit() {
  if (batch_.dwords().empty()) {
    std::lock_guard<std::mutex> lock(fence_mu_);
    return last_submitted_;
  }
  ASSIGN_OR_RETURN(size_t off, space_->Reserve(batch_.bytes(), 64));
  std::memcpy(ring_.cpu + off, batch_.dwords().data(), batch_.bytes());
  ASSIGN_OR_RETURN(uint32_t ts, device_->kgsl().Submit(context_, ring_.gpu + off, batch_.bytes()));
  uint64_t fence;
  {
    std::lock_guard<std::mutex> lock(fence_mu_);
    // Widen the 32-bit timestamp: it is the next one after the last.
    fence = (last_submitted_ & ~uint64_t{0xFFFFFFFF}) | ts;
    if (fence <= last_submitted_) fence += uint64_t{1} << 32;
    last_submitted_ = fence;
  }
  space_->Commit(fence);
  batch_.clear();
  return fence;
}

absl::StatusOr<uint64_t> QcomEngine::Flush() {
  ASSIGN_OR_RETURN(uint64_t fence, Submit());
  unreported_flush_ = false;
  return fence;
}

absl::StatusOr<uint64_t> QcomEngine::CompletedFence() {
  ASSIGN_OR_RETURN(uint32_t retired, device_->kgsl().RetiredTimestamp(context_));
  std::lock_guard<std::mutex> lock(fence_mu_);
  const uint32_t behind = static_cast<uint32_t>(last_submitted_) - retired;
  return behind > last_submitted_ ? 0 : last_submitted_ - behind;
}

absl::Status QcomEngine::WaitFence(uint64_t fence, absl::Duration timeout) {
  const double ms = std::ceil(absl::ToDoubleMilliseconds(timeout));
  const uint32_t timeout_ms = static_cast<uint32_t>(std::clamp(ms, 1.0, 1e9));
  return device_->kgsl().WaitTimestamp(context_, static_cast<uint32_t>(fence), timeout_ms).status();
}

}  // namespace uop
