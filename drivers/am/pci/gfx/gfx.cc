#include "drivers/am/pci/gfx/gfx.h"

#include <bit>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

const AmGfxRegs& R = kGc1100GfxRegs;

// kfd_mqd_manager.c pipe_priority_map: queue priority 0-6 LOW, 7-10 MEDIUM,
// 11-15 HIGH (KFD_PIPE_PRIORITY_CS_*: 0, 1, 2).
uint32_t PipePriority(uint32_t queue_priority) {
  return queue_priority <= 6 ? 0 : queue_priority <= 10 ? 1 : 2;
}

uint32_t Log2(uint64_t v) { return static_cast<uint32_t>(std::countr_zero(v)); }

absl::Status Prefixed(const absl::Status& s, const std::string& prefix) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(prefix, ": ", s.message()));
}

}  // namespace

std::string AmHqd::Name() const {
  return absl::StrFormat("ME%u/pipe %u/queue %u", me, pipe, queue);
}

absl::StatusOr<std::unique_ptr<AmGfx>> AmGfx::Create(const AmRegisterIo& regs, AmGfxConfig config) {
  if (config.first_compute_vmid > config.last_compute_vmid ||
      config.last_compute_vmid >= kGfx11Vmids) {
    return absl::InvalidArgumentError(
        absl::StrFormat("compute VMIDs %u-%u: need first <= last < %u", config.first_compute_vmid,
                        config.last_compute_vmid, kGfx11Vmids));
  }
  if (config.doorbell_first > config.doorbell_last ||
      (config.doorbell_last << 2) > gfx11::kDoorbellRangeMask) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "MEC doorbell range %u-%u (dwords): need first <= last <= 1023 (CP_MEC_DOORBELL_RANGE "
        "holds bits 2-11 of the byte offset)",
        config.doorbell_first, config.doorbell_last));
  }
  if (config.wait_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("wait_timeout must be positive");
  }
  return std::unique_ptr<AmGfx>(new AmGfx(regs, config));
}

absl::Status AmGfx::Select(uint32_t me, uint32_t pipe, uint32_t queue, uint32_t vmid) {
  return regs_.Write(R.grbm_gfx_cntl, gfx11::GrbmGfxCntl(me, pipe, queue, vmid));
}

template <typename Body>
absl::Status AmGfx::Selected(uint32_t me, uint32_t pipe, uint32_t queue, uint32_t vmid, Body body) {
  absl::Status st = Select(me, pipe, queue, vmid);
  if (st.ok()) st = body();
  // soc21_grbm_select(adev, 0, 0, 0, 0) after every selected sequence, even a
  // failed one: other users (and the CP's own accesses) assume selection 0.
  absl::Status restore = Select(0, 0, 0, 0);
  return st.ok() ? restore : st;
}

absl::Status AmGfx::WaitFor(const AmReg& reg, uint32_t mask, uint32_t want,
                            const std::string& what) {
  const absl::Time deadline = absl::Now() + config_.wait_timeout;
  uint32_t v = 0;
  while (true) {
    ASSIGN_OR_RETURN(v, regs_.Read(reg));
    if ((v & mask) == want) return absl::OkStatus();
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Microseconds(2));
  }
  return absl::DeadlineExceededError(
      absl::StrFormat("%s: %s reads 0x%08x after %s (waiting for 0x%x under mask 0x%x)", what,
                      reg.name, v, absl::FormatDuration(config_.wait_timeout), want, mask));
}

absl::Status AmGfx::Init() {
  std::lock_guard<std::mutex> lock(grbm_mu_);
  if (initialized_) return absl::FailedPreconditionError("GFX: Init was already called");
  // 1. The RLC autoload (started by the PSP) has loaded and started the CP
  // firmware. CP_STAT first (Linux reads both in one loop; CP busy means the
  // firmware is still starting).
  RETURN_IF_ERROR(WaitFor(R.cp_stat, 0xFFFFFFFFu, 0, "GFX: waiting for the CP to go idle"));
  RETURN_IF_ERROR(WaitFor(R.rlc_bootload_status, gfx11::kBootloadComplete, gfx11::kBootloadComplete,
                          "GFX: waiting for the RLC autoload (BOOTLOAD_COMPLETE)"));
  // 2. The RS64 MEC's entry point on every pipe, then a reset pulse so the
  // pipes start from it.
  if (config_.mec_ucode_start.has_value()) {
    const uint64_t start = *config_.mec_ucode_start;
    const uint32_t lo = static_cast<uint32_t>(start), hi = static_cast<uint32_t>(start >> 32);
    for (uint32_t pipe = 0; pipe < kGfx11MecPipes; ++pipe) {
      RETURN_IF_ERROR(Selected(kGfx11MecMe, pipe, 0, 0, [&]() -> absl::Status {
        RETURN_IF_ERROR(regs_.Write(R.mec_rs64_pc_start, lo >> 2 | hi << 30));
        return regs_.Write(R.mec_rs64_pc_start_hi, hi >> 2);
      }));
    }
    RETURN_IF_ERROR(regs_.Update(R.mec_rs64_cntl, 0, gfx11::kMecAllPipesReset));
    RETURN_IF_ERROR(regs_.Update(R.mec_rs64_cntl, gfx11::kMecAllPipesReset, 0));
  }
  // 3. Shader memory apertures of the compute VMIDs.
  for (uint32_t vmid = config_.first_compute_vmid; vmid <= config_.last_compute_vmid; ++vmid) {
    RETURN_IF_ERROR(Selected(0, 0, 0, vmid, [&]() -> absl::Status {
      RETURN_IF_ERROR(regs_.Write(R.sh_mem_config, gfx11::kDefaultShMemConfig));
      return regs_.Write(R.sh_mem_bases, gfx11::kDefaultShMemBases);
    }));
  }
  // 4. Which doorbells the MEC listens to.
  RETURN_IF_ERROR(regs_.Write(R.mec_doorbell_lower, config_.doorbell_first << 2));
  RETURN_IF_ERROR(regs_.Write(R.mec_doorbell_upper, config_.doorbell_last << 2));
  // 5. Unhalt: no icache invalidate, no pipe reset, every pipe active.
  RETURN_IF_ERROR(regs_.Update(
      R.mec_rs64_cntl, gfx11::kMecHalt | gfx11::kMecInvalidateIcache | gfx11::kMecAllPipesReset,
      gfx11::kMecAllPipesActive));
  initialized_ = true;
  return absl::OkStatus();
}

absl::Status AmGfx::CheckSpec(const AmAqlQueueSpec& s) const {
  const std::string q = AmHqd{s.me, s.pipe, s.queue}.Name();
  auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("GFX queue ", q, ": ", what));
  };
  if (s.me != kGfx11MecMe || s.pipe >= kGfx11MecPipes || s.queue >= kGfx11QueuesPerPipe) {
    return bad(absl::StrFormat("GC 11.0 has compute queues on ME %u, pipes 0-%u, queues 0-%u",
                               kGfx11MecMe, kGfx11MecPipes - 1, kGfx11QueuesPerPipe - 1));
  }
  if (s.vmid < config_.first_compute_vmid || s.vmid > config_.last_compute_vmid) {
    return bad(absl::StrFormat("VMID %u: Init programs shader apertures for VMIDs %u-%u only",
                               s.vmid, config_.first_compute_vmid, config_.last_compute_vmid));
  }
  if (s.ring_bytes < 256 || !std::has_single_bit(s.ring_bytes) ||
      Log2(s.ring_bytes / 4) - 1 > gfx11::kPqQueueSizeMask) {
    return bad(absl::StrFormat(
        "ring size %u bytes: CP_HQD_PQ_CONTROL.QUEUE_SIZE needs a power of two >= 256",
        s.ring_bytes));
  }
  if (s.ring_va == 0 || s.ring_va % 256 != 0 || (s.ring_va >> 8) >> 40 != 0) {
    return bad(
        absl::StrFormat("ring at 0x%x: CP_HQD_PQ_BASE needs a 256-byte aligned 48-bit "
                        "address",
                        s.ring_va));
  }
  if (s.rptr_report_va == 0 || s.rptr_report_va % 4 != 0 || s.rptr_report_va >> 48 != 0) {
    return bad(
        absl::StrFormat("read pointer report address 0x%x (CP_HQD_PQ_RPTR_REPORT_ADDR: "
                        "4-byte aligned, 48 bits)",
                        s.rptr_report_va));
  }
  if (s.wptr_poll_va == 0 || s.wptr_poll_va % 8 != 0 || s.wptr_poll_va >> 48 != 0) {
    return bad(
        absl::StrFormat("write pointer poll address 0x%x (CP_HQD_PQ_WPTR_POLL_ADDR: "
                        "8-byte aligned, 48 bits)",
                        s.wptr_poll_va));
  }
  if (s.eop_va == 0 || s.eop_va % 256 != 0 || (s.eop_va >> 8) >> 40 != 0 || s.eop_bytes < 8 ||
      !std::has_single_bit(s.eop_bytes)) {
    return bad(
        absl::StrFormat("EOP buffer 0x%x, %u bytes (CP_HQD_EOP_BASE_ADDR: 256-byte "
                        "aligned; size a power of two)",
                        s.eop_va, s.eop_bytes));
  }
  if (s.mqd_va == 0 || s.mqd_va % 4 != 0 || s.mqd_va >> 48 != 0) {
    return bad(
        absl::StrFormat("MQD address 0x%x (CP_MQD_BASE_ADDR: 4-byte aligned, 48 bits)", s.mqd_va));
  }
  if (s.doorbell_index % 2 != 0 || s.doorbell_index < config_.doorbell_first ||
      s.doorbell_index + 1 > config_.doorbell_last) {
    return bad(
        absl::StrFormat("doorbell dword %u: a 64-bit doorbell needs an even index with "
                        "both dwords inside the MEC range %u-%u",
                        s.doorbell_index, config_.doorbell_first, config_.doorbell_last));
  }
  if (s.priority > 15) return bad(absl::StrFormat("priority %u (0-15)", s.priority));
  return absl::OkStatus();
}

absl::Status AmGfx::WriteHqd(const AmAqlQueueSpec& s) {
  auto w = [&](const AmReg& r, uint32_t v) { return regs_.Write(r, v); };
  const uint64_t ring = s.ring_va >> 8, eop = s.eop_va >> 8;
  const uint32_t pq_control = (Log2(s.ring_bytes / 4) - 1) | 5u << gfx11::kPqRptrBlockSizeShift |
                              gfx11::kPqNoUpdateRptr | 2u << gfx11::kPqSlotBasedWptrShift |
                              gfx11::kPqQueueFullEn | gfx11::kPqUnordDispatch;
  const uint32_t doorbell =
      s.doorbell_index << gfx11::kDoorbellOffsetShift | gfx11::kDoorbellBifDrop;
  const uint32_t eop_size = std::min(gfx11::kEopSizeMax, Log2(s.eop_bytes / 4) - 1);
  // The MQD block in register order (hqd_load writes CP_MQD_BASE_ADDR ..
  // CP_HQD_PQ_WPTR_HI from the MQD; registers the MQD leaves 0 are skipped).
  RETURN_IF_ERROR(w(R.mqd_base_addr, static_cast<uint32_t>(s.mqd_va)));
  RETURN_IF_ERROR(w(R.mqd_base_addr_hi, static_cast<uint32_t>(s.mqd_va >> 32)));
  RETURN_IF_ERROR(w(R.hqd_vmid, s.vmid));
  RETURN_IF_ERROR(w(R.persistent_state, gfx11::kPersistentStatePreload));
  RETURN_IF_ERROR(w(R.pipe_priority, PipePriority(s.priority)));
  RETURN_IF_ERROR(w(R.queue_priority, s.priority));
  RETURN_IF_ERROR(w(R.quantum, gfx11::kQuantumDefault));
  RETURN_IF_ERROR(w(R.pq_base, static_cast<uint32_t>(ring)));
  RETURN_IF_ERROR(w(R.pq_base_hi, static_cast<uint32_t>(ring >> 32)));
  RETURN_IF_ERROR(w(R.pq_rptr_report_addr, static_cast<uint32_t>(s.rptr_report_va)));
  RETURN_IF_ERROR(w(R.pq_rptr_report_addr_hi, static_cast<uint32_t>(s.rptr_report_va >> 32)));
  RETURN_IF_ERROR(w(R.pq_wptr_poll_addr, static_cast<uint32_t>(s.wptr_poll_va)));
  RETURN_IF_ERROR(w(R.pq_wptr_poll_addr_hi, static_cast<uint32_t>(s.wptr_poll_va >> 32)));
  RETURN_IF_ERROR(w(R.pq_doorbell_control, doorbell));
  RETURN_IF_ERROR(w(R.pq_control, pq_control));
  RETURN_IF_ERROR(w(R.ib_control, gfx11::kIbMinAvailSize3));
  RETURN_IF_ERROR(w(R.mqd_control, gfx11::kMqdPrivState));
  RETURN_IF_ERROR(w(R.eop_base_addr, static_cast<uint32_t>(eop)));
  RETURN_IF_ERROR(w(R.eop_base_addr_hi, static_cast<uint32_t>(eop >> 32)));
  RETURN_IF_ERROR(w(R.eop_control, eop_size));
  RETURN_IF_ERROR(w(R.aql_control, gfx11::kAqlControl0));
  // hqd_load after the block: doorbell logic on before the write pointer
  // poll; a fresh queue's write pointer is 0 (== the read pointer).
  RETURN_IF_ERROR(w(R.pq_doorbell_control, doorbell | gfx11::kDoorbellEn));
  RETURN_IF_ERROR(w(R.pq_wptr_lo, 0));
  RETURN_IF_ERROR(w(R.pq_wptr_hi, 0));
  RETURN_IF_ERROR(w(R.pq_wptr_poll_addr, static_cast<uint32_t>(s.wptr_poll_va)));
  RETURN_IF_ERROR(w(R.pq_wptr_poll_addr_hi, static_cast<uint32_t>(s.wptr_poll_va >> 32)));
  RETURN_IF_ERROR(w(R.eop_rptr, gfx11::kEopInitFetcher));
  return w(R.hqd_active, gfx11::kHqdActive);
}

absl::StatusOr<AmHqd> AmGfx::MapAqlQueue(const AmAqlQueueSpec& spec) {
  RETURN_IF_ERROR(CheckSpec(spec));
  const AmHqd hqd{spec.me, spec.pipe, spec.queue};
  std::lock_guard<std::mutex> lock(grbm_mu_);
  if (!initialized_) {
    return absl::FailedPreconditionError(
        absl::StrCat("GFX queue ", hqd.Name(), ": mapped before Init"));
  }
  if (mapped_.count(hqd) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("GFX queue ", hqd.Name(), " is already mapped"));
  }
  RETURN_IF_ERROR(
      Prefixed(Selected(hqd.me, hqd.pipe, hqd.queue, 0,
                        [&]() -> absl::Status {
                          // A queue left active (by an earlier process) would be
                          // overwritten under the running CP.
                          ASSIGN_OR_RETURN(uint32_t active, regs_.Read(R.hqd_active));
                          if ((active & gfx11::kHqdActive) != 0) {
                            return absl::FailedPreconditionError(
                                "regCP_HQD_ACTIVE is already set (unmap the queue first)");
                          }
                          return WriteHqd(spec);
                        }),
               absl::StrCat("GFX queue ", hqd.Name())));
  mapped_.insert(hqd);
  return hqd;
}

absl::Status AmGfx::UnmapQueue(const AmHqd& hqd) {
  std::lock_guard<std::mutex> lock(grbm_mu_);
  if (mapped_.count(hqd) == 0) {
    return absl::NotFoundError(absl::StrCat("GFX queue ", hqd.Name(), " is not mapped"));
  }
  const std::string name = absl::StrCat("GFX queue ", hqd.Name());
  RETURN_IF_ERROR(Prefixed(
      Selected(hqd.me, hqd.pipe, hqd.queue, 0,
               [&]() -> absl::Status {
                 RETURN_IF_ERROR(regs_.Write(R.dequeue_request, gfx11::kDequeueDrainPipe));
                 return WaitFor(R.hqd_active, gfx11::kHqdActive, 0, "dequeue (DRAIN_PIPE)");
               }),
      name));
  mapped_.erase(hqd);
  return absl::OkStatus();
}

}  // namespace uop
