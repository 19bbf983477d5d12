#include "drivers/am/pci/sdma/sdma.h"

#include <bit>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

using namespace sdma_field;

constexpr uint64_t kMinRingBytes = 256;
constexpr uint64_t kMaxRingBytes = uint64_t{1} << 30;
// tinygrad: rd_l2_policy=2 (NOA), wr_l2_policy=3 (BYPASS), as its comment
// says. Linux writes CACHE_READ/WRITE_POLICY_L2__DEFAULT; we follow tinygrad
// (the values the AM driver runs with), unverified which one Linux means.
constexpr uint32_t kRdL2Policy = 2, kWrL2Policy = 3;
constexpr uint32_t kRptrWritebackTimer = 4;  // tinygrad and Linux's SDMA MQD

}  // namespace

absl::StatusOr<std::unique_ptr<AmSdma>> AmSdma::Create(const AmRegisterIo& regs,
                                                       const IpDiscoveryTable& ip,
                                                       const MmioRegion& doorbells,
                                                       AmSdmaConfig config) {
  const IpBlock* b = ip.Find(kHwIdSdma0);
  if (b == nullptr) {
    return absl::NotFoundError("the GPU has no SDMA0 block in its discovery table");
  }
  if (b->major != 6 || b->minor != 0) {
    return absl::UnimplementedError(
        absl::StrFormat("SDMA0 %d.%d.%d: the AM bring-up has SDMA register tables for 6.0.x only "
                        "(GC 11.0, Navi3x)",
                        b->major, b->minor, b->revision));
  }
  if (config.instances < 1 || config.instances > kSdma600Instances) {
    return absl::InvalidArgumentError(absl::StrFormat("%d SDMA instances: SDMA 6.0 has 1 to %d",
                                                      config.instances, kSdma600Instances));
  }
  return std::unique_ptr<AmSdma>(new AmSdma(regs, doorbells, config));
}

absl::Status AmSdma::CheckInstance(int instance) const {
  if (instance < 0 || instance >= config_.instances) {
    return absl::InvalidArgumentError(
        absl::StrFormat("SDMA instance %d: this GPU has %d", instance, config_.instances));
  }
  return absl::OkStatus();
}

absl::Status AmSdma::Init() {
  for (int i = 0; i < config_.instances; ++i) RETURN_IF_ERROR(InitInstance(i));
  return absl::OkStatus();
}

absl::Status AmSdma::InitInstance(int instance) {
  RETURN_IF_ERROR(CheckInstance(instance));
  const AmSdmaRegs& r = kSdma600Regs[instance];
  // The engine's first read: a removed device fails here.
  ASSIGN_OR_RETURN(const uint32_t f32, regs_.Read(r.f32_cntl));
  RETURN_IF_ERROR(
      regs_.Update(r.watchdog_cntl, kWatchdogQueueHangCountMask, config_.queue_hang_count & 0xFF));
  RETURN_IF_ERROR(regs_.Update(r.utcl1_cntl, kUtcl1RespModeMask | kUtcl1RedoDelayMask,
                               (3u << kUtcl1RespModeShift) | (9u << kUtcl1RedoDelayShift)));
  RETURN_IF_ERROR(regs_.Update(r.utcl1_page, kUtcl1PagePolicyMask | kUtcl1PageLlcNoalloc,
                               (kRdL2Policy << kUtcl1PageRdL2PolicyShift) |
                                   (kWrL2Policy << kUtcl1PageWrL2PolicyShift) |
                                   kUtcl1PageLlcNoalloc));
  RETURN_IF_ERROR(regs_.Write(r.sem_wait_fail_timer_cntl, 0));
  RETURN_IF_ERROR(regs_.Update(r.cntl, 0, kCntlTrapEnable));
  RETURN_IF_ERROR(regs_.Write(r.f32_cntl, f32 & ~(kF32Halt | kF32Th1Reset)));
  RETURN_IF_ERROR(WaitIdle(instance, "after un-halting the F32 engine"));
  initialised_[instance] = true;
  return absl::OkStatus();
}

absl::Status AmSdma::WaitIdle(int instance, const char* why) const {
  const AmReg& reg = kSdma600Regs[instance].status_reg;
  const absl::Time deadline = absl::Now() + config_.wait_timeout;
  for (;;) {
    ASSIGN_OR_RETURN(const uint32_t v, regs_.Read(reg));
    if ((v & kStatusIdle) != 0) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrFormat("SDMA%d: %s: %s = 0x%08x never reported IDLE within %s", instance, why,
                          reg.name, v, absl::FormatDuration(config_.wait_timeout)));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

absl::StatusOr<bool> AmSdma::Idle(int instance) const {
  RETURN_IF_ERROR(CheckInstance(instance));
  ASSIGN_OR_RETURN(const uint32_t v, regs_.Read(kSdma600Regs[instance].status_reg));
  return (v & kStatusIdle) != 0;
}

absl::Status AmSdma::CheckSpec(const AmSdmaQueueSpec& s) const {
  RETURN_IF_ERROR(CheckInstance(s.instance));
  auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("SDMA", s.instance, " queue: ", what));
  };
  if (s.queue != 0) {
    return absl::UnimplementedError(absl::StrFormat(
        "SDMA%d queue %d: only QUEUE0 is programmed directly (the others are MES-mapped user "
        "queues)",
        s.instance, s.queue));
  }
  if (s.vmid > 15) return bad(absl::StrFormat("vmid %u is not 0..15", s.vmid));
  if (!std::has_single_bit(s.ring_bytes) || s.ring_bytes < kMinRingBytes ||
      s.ring_bytes > kMaxRingBytes) {
    return bad(absl::StrFormat("ring_bytes %u is not a power of two in [%u, %u]", s.ring_bytes,
                               kMinRingBytes, kMaxRingBytes));
  }
  if (s.ring_va % 256 != 0)
    return bad(absl::StrFormat("ring_va 0x%x is not 256-byte aligned", s.ring_va));
  if (s.rptr_va == 0 || s.rptr_va % 8 != 0) {
    return bad(absl::StrFormat("rptr_va 0x%x is not a non-zero 8-byte aligned address", s.rptr_va));
  }
  if (s.wptr_poll_va % 8 != 0) {
    return bad(absl::StrFormat("wptr_poll_va 0x%x is not 8-byte aligned", s.wptr_poll_va));
  }
  const uint64_t db = uint64_t{s.doorbell_index} * 4;
  if (s.doorbell_index % 2 != 0 || db + 8 > doorbells_.size() ||
      s.doorbell_index > (kDoorbellOffsetMask >> kDoorbellOffsetShift)) {
    return bad(absl::StrFormat(
        "doorbell_index %u: not an even dword index of a 64-bit doorbell inside the %u-byte "
        "doorbell BAR",
        s.doorbell_index, doorbells_.size()));
  }
  return absl::OkStatus();
}

absl::Status AmSdma::StopRing(int instance) {
  const AmSdmaRegs& r = kSdma600Regs[instance];
  RETURN_IF_ERROR(regs_.Update(r.rb_cntl, kRbEnable, 0));
  RETURN_IF_ERROR(regs_.Update(r.ib_cntl, kIbEnable, 0));
  RETURN_IF_ERROR(regs_.Update(r.doorbell, kDoorbellEnable, 0));
  RETURN_IF_ERROR(regs_.Write(r.doorbell_offset, 0));
  return WaitIdle(instance, "stopping QUEUE0");
}

absl::StatusOr<AmSdmaQueue> AmSdma::CreateQueue(const AmSdmaQueueSpec& s) {
  RETURN_IF_ERROR(CheckSpec(s));
  if (!initialised_[s.instance]) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "SDMA%d queue before the instance's Init (the engine is halted)", s.instance));
  }
  if (queue_live_[s.instance]) {
    return absl::FailedPreconditionError(
        absl::StrFormat("SDMA%d QUEUE0 exists already; destroy it first", s.instance));
  }
  const AmSdmaRegs& r = kSdma600Regs[s.instance];
  ASSIGN_OR_RETURN(const uint32_t old_cntl, regs_.Read(r.rb_cntl));
  // A ring an earlier process left running is stopped before reprogramming.
  if ((old_cntl & kRbEnable) != 0) RETURN_IF_ERROR(StopRing(s.instance));

  const uint32_t log2_dwords = std::countr_zero(s.ring_bytes / 4);
  uint32_t cntl = (log2_dwords << kRbSizeShift) | (s.vmid << kRbVmidShift) |
                  kRbRptrWritebackEnable | (kRptrWritebackTimer << kRbRptrWritebackTimerShift);
  // Linux's kernel ring and tinygrad (VMID 0) set RB_PRIV; KFD's user queue
  // MQDs (sdma_v6_0_mqd_init) do not.
  if (s.vmid == 0) cntl |= kRbPriv;
  if (s.wptr_poll_va != 0) cntl |= kRbF32WptrPollEnable;
  RETURN_IF_ERROR(regs_.Write(r.rb_cntl, cntl));  // RB_ENABLE = 0
  // Pointers may go down from a previous use: MINOR_PTR_UPDATE around them.
  RETURN_IF_ERROR(regs_.Write(r.minor_ptr_update, kMinorPtrUpdateEnable));
  RETURN_IF_ERROR(regs_.WritePair(r.rb_rptr, r.rb_rptr_hi, 0));
  RETURN_IF_ERROR(regs_.WritePair(r.rb_wptr, r.rb_wptr_hi, 0));
  RETURN_IF_ERROR(regs_.Write(r.rb_base, static_cast<uint32_t>(s.ring_va >> 8)));
  RETURN_IF_ERROR(regs_.Write(r.rb_base_hi, static_cast<uint32_t>(s.ring_va >> 40)));
  RETURN_IF_ERROR(regs_.Write(r.rb_rptr_addr_hi, static_cast<uint32_t>(s.rptr_va >> 32)));
  RETURN_IF_ERROR(regs_.Write(r.rb_rptr_addr_lo, static_cast<uint32_t>(s.rptr_va) & ~3u));
  RETURN_IF_ERROR(regs_.Write(r.rb_wptr_poll_addr_hi, static_cast<uint32_t>(s.wptr_poll_va >> 32)));
  RETURN_IF_ERROR(regs_.Write(r.rb_wptr_poll_addr_lo, static_cast<uint32_t>(s.wptr_poll_va) & ~3u));
  RETURN_IF_ERROR(regs_.Write(r.doorbell_offset, s.doorbell_index << kDoorbellOffsetShift));
  RETURN_IF_ERROR(regs_.Update(r.doorbell, 0, kDoorbellEnable));
  RETURN_IF_ERROR(regs_.Write(r.minor_ptr_update, 0));
  RETURN_IF_ERROR(regs_.Write(r.rb_cntl, cntl | kRbEnable));
  RETURN_IF_ERROR(regs_.Update(r.ib_cntl, 0, kIbEnable));
  queue_live_[s.instance] = true;
  return AmSdmaQueue{s};
}

absl::Status AmSdma::DestroyQueue(const AmSdmaQueue& q) {
  RETURN_IF_ERROR(CheckInstance(q.spec.instance));
  if (!queue_live_[q.spec.instance]) {
    return absl::FailedPreconditionError(
        absl::StrFormat("SDMA%d QUEUE0 was not created", q.spec.instance));
  }
  queue_live_[q.spec.instance] = false;
  return StopRing(q.spec.instance);
}

absl::Status AmSdma::RingDoorbell(const AmSdmaQueue& q, uint64_t wptr_bytes) const {
  return doorbells_.Write64(q.doorbell_offset(), wptr_bytes);
}

absl::StatusOr<uint64_t> AmSdma::ReadPointer(const AmSdmaQueue& q) const {
  RETURN_IF_ERROR(CheckInstance(q.spec.instance));
  const AmSdmaRegs& r = kSdma600Regs[q.spec.instance];
  ASSIGN_OR_RETURN(const uint32_t lo, regs_.Read(r.rb_rptr));
  ASSIGN_OR_RETURN(const uint32_t hi, regs_.Read(r.rb_rptr_hi));
  return uint64_t{hi} << 32 | lo;
}

}  // namespace uop
