#include "drivers/am/emulator/sdma/sdma_model.h"

#include <cstring>

#include "absl/strings/str_format.h"
#include "drivers/am/pci/ip_discovery.h"

namespace uop {

using namespace sdma_field;

// One enable of a ring: what the engine thread steps. Kept alive by the
// thread's snapshot while it runs, even if the driver disables the ring.
struct EmulatedSdma::Run {
  int instance = 0;
  const GpuAddressSpace* space = nullptr;
  std::unique_ptr<AmdCp> cp;
  AmdQueueState state;
  // The engine's write pointer (bytes); state.doorbell points here. Only the
  // engine thread writes it.
  volatile uint64_t wptr = 0;
  std::atomic<uint64_t> taken_wptr{0};          // the same, for other threads
  const volatile uint64_t* doorbell = nullptr;  // the word in the doorbell page
  std::atomic<uint64_t> last_doorbell{0};       // its value when last taken
  std::atomic<bool> enabled{true};
};

absl::StatusOr<std::unique_ptr<EmulatedSdma>> EmulatedSdma::Attach(EmulatedPciGpu& gpu,
                                                                   AddressSpaceFor spaces,
                                                                   EmulatedSdmaConfig config,
                                                                   Hooks hooks) {
  absl::StatusOr<IpDiscoveryTable> table = ParseIpDiscovery(gpu.config().discovery);
  if (!table.ok()) return table.status();
  absl::StatusOr<AmRegisterMap> map = AmRegisterMap::Create(*table);
  if (!map.ok()) return map.status();
  if (spaces == nullptr)
    return absl::InvalidArgumentError("EmulatedSdma needs an address space source");
  std::unique_ptr<EmulatedSdma> m(
      new EmulatedSdma(gpu, std::move(*map), std::move(spaces), config, std::move(hooks)));
  for (int i = 0; i < kSdma600Instances; ++i) m->Install(i);
  m->engine_ = std::thread([self = m.get()] { self->Loop(); });
  return m;
}

EmulatedSdma::EmulatedSdma(EmulatedPciGpu& gpu, AmRegisterMap map, AddressSpaceFor spaces,
                           EmulatedSdmaConfig config, Hooks hooks)
    : gpu_(gpu),
      regs_(gpu.registers()),
      map_(std::move(map)),
      spaces_(std::move(spaces)),
      config_(config),
      hooks_(std::move(hooks)) {
  th0_loaded_ = th1_loaded_ = config_.firmware_loaded;
}

EmulatedSdma::~EmulatedSdma() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  engine_.join();
  for (int i = 0; i < kSdma600Instances; ++i) Uninstall(i);
}

void EmulatedSdma::Install(int i) {
  const AmSdmaRegs& r = kSdma600Regs[i];
  Instance& in = inst_[i];
  // Power-up: the F32 engine is halted with thread 1 in reset.
  regs_.Set(D(r.f32_cntl), kF32Halt | kF32Th1Reset);
  regs_.Set(D(r.status_reg), kStatusIdle);
  regs_.OnWrite(D(r.f32_cntl), [this, i](uint32_t v) { OnF32Cntl(i, v); });
  regs_.OnWrite(D(r.cntl), [this, i](uint32_t v) {
    std::lock_guard<std::mutex> lock(mu_);
    inst_[i].trap_enable = (v & kCntlTrapEnable) != 0;
  });
  regs_.OnRead(D(r.status_reg), [this, i](uint32_t stored) { return ReadStatus(i, stored); });
  regs_.OnWrite(D(r.rb_cntl), [this, i](uint32_t v) { OnRbCntl(i, v); });
  const std::pair<const AmReg*, bool*> ring_regs[] = {
      {&r.rb_base, &in.base_lo},
      {&r.rb_base_hi, &in.base_hi},
      {&r.rb_rptr_addr_lo, &in.rptr_lo},
      {&r.rb_rptr_addr_hi, &in.rptr_hi},
      {&r.rb_rptr, nullptr},
      {&r.rb_rptr_hi, nullptr},
      {&r.doorbell, nullptr},
      {&r.doorbell_offset, nullptr},
      {&r.rb_wptr_poll_addr_lo, nullptr},
      {&r.rb_wptr_poll_addr_hi, nullptr},
  };
  for (const auto& [reg, flag] : ring_regs) {
    regs_.OnWrite(D(*reg), [this, i, reg, flag](uint32_t) { OnRingRegister(i, *reg, flag); });
  }
  for (const AmReg* reg : {&r.rb_rptr, &r.rb_rptr_hi}) {
    const bool hi = reg == &r.rb_rptr_hi;
    regs_.OnRead(D(*reg), [this, i, hi](uint32_t stored) {
      std::lock_guard<std::mutex> lock(mu_);
      if (inst_[i].run == nullptr) return stored;
      const uint64_t p = ReadPointerLocked(inst_[i]);
      return static_cast<uint32_t>(hi ? p >> 32 : p);
    });
  }
}

void EmulatedSdma::Uninstall(int i) {
  const AmSdmaRegs& r = kSdma600Regs[i];
  for (const AmReg* reg :
       {&r.f32_cntl, &r.cntl, &r.rb_cntl, &r.rb_base, &r.rb_base_hi, &r.rb_rptr_addr_lo,
        &r.rb_rptr_addr_hi, &r.rb_rptr, &r.rb_rptr_hi, &r.doorbell, &r.doorbell_offset,
        &r.rb_wptr_poll_addr_lo, &r.rb_wptr_poll_addr_hi}) {
    regs_.OnWrite(D(*reg), [](uint32_t) {});
  }
  for (const AmReg* reg : {&r.status_reg, &r.rb_rptr, &r.rb_rptr_hi}) {
    regs_.OnRead(D(*reg), [](uint32_t stored) { return stored; });
  }
}

void EmulatedSdma::LoadFirmware(uint32_t gfx_fw_type) {
  std::lock_guard<std::mutex> lock(mu_);
  if (gfx_fw_type == kGfxFwTypeSdmaUcodeTh0) th0_loaded_ = true;
  if (gfx_fw_type == kGfxFwTypeSdmaUcodeTh1) th1_loaded_ = true;
}

void EmulatedSdma::ChipReset() {
  std::lock_guard<std::mutex> lock(mu_);
  th0_loaded_ = th1_loaded_ = false;
  for (Instance& in : inst_) {
    if (in.run != nullptr) in.run->enabled = false;
    in.run = nullptr;
    in.status.enabled = false;
    in.running = false;
    in.trap_enable = false;
    in.cntl = 0;
    in.base_lo = in.base_hi = in.rptr_lo = in.rptr_hi = false;
  }
  cv_.notify_all();
}

void EmulatedSdma::SetHung(int instance, bool hung) {
  std::lock_guard<std::mutex> lock(mu_);
  inst_.at(instance).hung = hung;
}

bool EmulatedSdma::running(int instance) const {
  std::lock_guard<std::mutex> lock(mu_);
  return inst_.at(instance).running;
}

EmulatedSdma::QueueStatus EmulatedSdma::queue(int instance) const {
  std::lock_guard<std::mutex> lock(mu_);
  return inst_.at(instance).status;
}

std::vector<uint32_t> EmulatedSdma::traps(int instance) const {
  std::lock_guard<std::mutex> lock(mu_);
  return inst_.at(instance).traps;
}

uint64_t EmulatedSdma::dropped_traps(int instance) const {
  std::lock_guard<std::mutex> lock(mu_);
  return inst_.at(instance).dropped_traps;
}

AmdCpStats EmulatedSdma::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  AmdCpStats total;
  for (const std::shared_ptr<Run>& r : all_runs_) {
    const AmdCpStats s = r->cp->stats();
    total.sdma_packets += s.sdma_packets;
    total.copied_bytes += s.copied_bytes;
  }
  return total;
}

void EmulatedSdma::FinishChecks() {
  std::vector<std::string> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 0; i < kSdma600Instances; ++i) {
      if (inst_[i].run != nullptr) {
        left.push_back(absl::StrFormat(
            "SDMA%d: QUEUE0 left enabled (RB_ENABLE = 1) at teardown: the engine keeps "
            "fetching from a ring the driver no longer owns",
            i));
      }
    }
  }
  for (std::string& v : left) regs_.Violation(std::move(v));
}

void EmulatedSdma::OnF32Cntl(int i, uint32_t v) {
  std::lock_guard<std::mutex> lock(mu_);
  Instance& in = inst_[i];
  const bool run = (v & (kF32Halt | kF32Th1Reset)) == 0;
  if (run && !in.running && (!th0_loaded_ || !th1_loaded_)) {
    regs_.Violation(absl::StrFormat(
        "SDMA%d: F32 un-halted (F32_CNTL = 0x%x) before its firmware was loaded through the PSP "
        "(LOAD_IP_FW SDMA_UCODE_TH0: %s, TH1: %s)",
        i, v, th0_loaded_ ? "done" : "missing", th1_loaded_ ? "done" : "missing"));
  }
  in.running = run;
  cv_.notify_all();
}

void EmulatedSdma::OnRingRegister(int i, const AmReg& r, bool* flag) {
  std::lock_guard<std::mutex> lock(mu_);
  Instance& in = inst_[i];
  if (in.run != nullptr) {
    regs_.Violation(
        absl::StrFormat("SDMA%d: %s written while QUEUE0 is enabled (RB_ENABLE = 1)", i, r.name));
    return;
  }
  if (flag != nullptr) *flag = true;
}

void EmulatedSdma::OnRbCntl(int i, uint32_t v) {
  std::lock_guard<std::mutex> lock(mu_);
  Instance& in = inst_[i];
  const bool enable = (v & kRbEnable) != 0;
  if (in.run != nullptr) {
    if (enable) {
      if (v != in.cntl) {
        regs_.Violation(absl::StrFormat(
            "SDMA%d: QUEUE0_RB_CNTL rewritten 0x%x -> 0x%x while the ring is enabled", i, in.cntl,
            v));
      }
      return;
    }
    in.run->enabled = false;
    in.run = nullptr;
    in.status.enabled = false;
    in.base_lo = in.base_hi = in.rptr_lo = in.rptr_hi = false;
    return;
  }
  if (enable) StartRing(i, v);
}

void EmulatedSdma::StartRing(int i, uint32_t cntl) {
  const AmSdmaRegs& r = kSdma600Regs[i];
  Instance& in = inst_[i];
  std::vector<std::string> bad;
  if (!in.running) bad.push_back("the engine is halted (F32_CNTL HALT or TH1_RESET set)");
  if (!in.base_lo || !in.base_hi) bad.push_back("RB_BASE/RB_BASE_HI were not written");
  if (!in.rptr_lo || !in.rptr_hi) {
    bad.push_back("RB_RPTR_ADDR_LO/HI (read-pointer writeback) were not written");
  }
  if ((cntl & kRbRptrWritebackEnable) == 0) {
    bad.push_back("RPTR_WRITEBACK_ENABLE is clear (the driver could never see progress)");
  }
  if ((regs_.Get(D(r.minor_ptr_update)) & kMinorPtrUpdateEnable) != 0) {
    bad.push_back("MINOR_PTR_UPDATE is still 1");
  }
  const uint64_t ring_bytes = uint64_t{4} << ((cntl & kRbSizeMask) >> kRbSizeShift);
  if (ring_bytes < 256) {
    bad.push_back(absl::StrFormat("RB_SIZE gives a %u-byte ring (under 256 bytes)", ring_bytes));
  }
  const uint32_t doorbell = regs_.Get(D(r.doorbell));
  const uint64_t db_byte =
      uint64_t{(regs_.Get(D(r.doorbell_offset)) & kDoorbellOffsetMask) >> kDoorbellOffsetShift} * 4;
  if ((doorbell & kDoorbellEnable) == 0) {
    bad.push_back("DOORBELL.ENABLE is clear (this model takes the write pointer from doorbells)");
  } else if (db_byte % 8 != 0 || db_byte + 8 > gpu_.doorbell_bytes()) {
    bad.push_back(
        absl::StrFormat("the doorbell at byte 0x%x is not a 64-bit word inside the "
                        "%u-byte doorbell BAR",
                        db_byte, gpu_.doorbell_bytes()));
  } else if (config_.doorbell_routed &&
             !config_.doorbell_routed(static_cast<uint32_t>(db_byte / 4))) {
    bad.push_back(absl::StrFormat(
        "its doorbell (dword 0x%x) is not routed to SDMA by NBIO (doorbell aperture, "
        "S2A_DOORBELL_ENTRY_2_CTRL)",
        db_byte / 4));
  }
  const uint32_t vmid = (cntl & kRbVmidMask) >> kRbVmidShift;
  const GpuAddressSpace* space = spaces_(vmid);
  if (space == nullptr) bad.push_back(absl::StrFormat("VMID %u has no address space", vmid));
  if (!bad.empty()) {
    for (const std::string& b : bad) {
      regs_.Violation(absl::StrFormat("SDMA%d: QUEUE0 RB_ENABLE while %s", i, b));
    }
    return;
  }

  auto run = std::make_shared<Run>();
  run->instance = i;
  run->space = space;
  Run* raw = run.get();
  run->cp = std::make_unique<AmdCp>(space, /*twins=*/nullptr,
                                    [this, raw](uint32_t id) { Trap(*raw, id); });
  AmdQueueState& q = run->state;
  q.aql = false;
  q.ring = (uint64_t{regs_.Get(D(r.rb_base_hi))} << 40) | (uint64_t{regs_.Get(D(r.rb_base))} << 8);
  q.ring_bytes = ring_bytes;
  q.read_ptr =
      (uint64_t{regs_.Get(D(r.rb_rptr_addr_hi))} << 32) | (regs_.Get(D(r.rb_rptr_addr_lo)) & ~3u);
  q.doorbell = &run->wptr;
  run->wptr = (uint64_t{regs_.Get(D(r.rb_wptr_hi))} << 32) | regs_.Get(D(r.rb_wptr));
  run->taken_wptr = run->wptr;
  // A doorbell write is an event to the engine, not a value it re-reads: a
  // word an earlier queue left in the (here: memory-backed) doorbell page is
  // no new work. The model consumes it by resetting the word to the ring's
  // write pointer, so the driver's first write is seen even if it equals
  // the old value.
  run->doorbell = gpu_.doorbell_view() + db_byte / 8;
  __atomic_store_n(const_cast<uint64_t*>(run->doorbell), run->wptr, __ATOMIC_RELEASE);
  run->last_doorbell = run->wptr;

  in.cntl = cntl;
  in.status = QueueStatus{};
  in.status.enabled = true;
  in.status.vmid = vmid;
  in.status.ring_va = q.ring;
  in.status.ring_bytes = ring_bytes;
  // The engine starts from RB_RPTR and reports it at once.
  const uint64_t rptr = (uint64_t{regs_.Get(D(r.rb_rptr_hi))} << 32) | regs_.Get(D(r.rb_rptr));
  uint8_t* wb = space->Translate(q.read_ptr, 8);
  if (wb == nullptr) {
    q.faulted = true;
    in.status.faulted = true;
    in.status.fault_address = q.read_ptr;
    in.status.fault = "the read-pointer writeback address is not mapped";
  } else {
    __atomic_store_n(reinterpret_cast<uint64_t*>(wb), rptr, __ATOMIC_RELEASE);
  }
  in.run = run;
  all_runs_.push_back(std::move(run));
  cv_.notify_all();
}

uint64_t EmulatedSdma::ReadPointerLocked(const Instance& in) const {
  const uint8_t* wb = in.run->space->Translate(in.run->state.read_ptr, 8);
  if (wb == nullptr) return 0;
  return __atomic_load_n(reinterpret_cast<const uint64_t*>(wb), __ATOMIC_ACQUIRE);
}

uint32_t EmulatedSdma::ReadStatus(int i, uint32_t stored) {
  std::lock_guard<std::mutex> lock(mu_);
  const Instance& in = inst_[i];
  bool busy = in.hung || in.stepping.load();
  if (!busy && in.run != nullptr && in.running && !in.status.faulted) {
    // Work published through the doorbell that the engine has not finished.
    // The engine stores taken_wptr before last_doorbell, so reading them in
    // the other order never pairs a new last_doorbell with an old pointer.
    const uint64_t last = in.run->last_doorbell;
    uint64_t write = in.run->taken_wptr;
    const uint64_t bell = __atomic_load_n(in.run->doorbell, __ATOMIC_ACQUIRE);
    if (bell != last) write = bell;
    busy = ReadPointerLocked(in) < write;
  }
  return busy ? stored & ~kStatusIdle : stored | kStatusIdle;
}

void EmulatedSdma::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    std::vector<std::shared_ptr<Run>> runs;
    for (Instance& in : inst_) {
      if (in.run != nullptr && in.running && !in.status.faulted) runs.push_back(in.run);
    }
    lock.unlock();
    bool progress = false;
    for (const std::shared_ptr<Run>& r : runs) progress |= StepRun(*r);
    lock.lock();
    if (!progress && !stop_) cv_.wait_for(lock, absl::ToChronoNanoseconds(config_.idle_poll));
  }
}

bool EmulatedSdma::StepRun(Run& r) {
  Instance& in = inst_[r.instance];
  // Marked busy before checking the enable, so a driver that disabled the
  // ring and then saw IDLE never races a packet still executing.
  in.stepping = true;
  if (!r.enabled || r.state.faulted) {
    in.stepping = false;
    return false;
  }
  const uint64_t bell = __atomic_load_n(r.doorbell, __ATOMIC_ACQUIRE);
  if (bell != r.last_doorbell) {
    r.wptr = bell;
    r.taken_wptr = bell;
    r.last_doorbell = bell;
  }
  const uint8_t* wb = r.space->Translate(r.state.read_ptr, 8);
  uint64_t read = 0;
  if (wb != nullptr)
    read = __atomic_load_n(reinterpret_cast<const uint64_t*>(wb), __ATOMIC_ACQUIRE);
  const uint64_t write = r.wptr;
  if (wb != nullptr && write > read && (write - read > r.state.ring_bytes || write % 4 != 0)) {
    in.stepping = false;
    FaultRun(r, r.state.ring,
             absl::StrFormat("write pointer 0x%x: not a dword more than a ring (%u bytes) ahead "
                             "of the read pointer 0x%x",
                             write, r.state.ring_bytes, read));
    return false;
  }
  bool progress = false;
  const absl::Status st = r.cp->Step(r.state, &progress, 64);
  in.stepping = false;
  if (!st.ok()) FaultRun(r, r.cp->last_fault_address(), std::string(st.message()));
  return progress;
}

void EmulatedSdma::FaultRun(Run& r, uint64_t address, const std::string& what) {
  r.state.faulted = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Instance& in = inst_[r.instance];
    if (in.run.get() != &r) return;  // disabled meanwhile
    in.status.faulted = true;
    in.status.fault_address = address;
    in.status.fault = what;
  }
  if (hooks_.on_fault) hooks_.on_fault(r.instance, address, what);
}

void EmulatedSdma::Trap(Run& r, uint32_t id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    Instance& in = inst_[r.instance];
    if (!in.trap_enable) {
      ++in.dropped_traps;
      return;
    }
    in.traps.push_back(id);
  }
  if (hooks_.on_trap) hooks_.on_trap(r.instance, id);
}

}  // namespace uop
