// Device model of the SDMA 6.0 engines (SDMA0, SDMA1) of an emulated Navi31
// on the trapped register file: the F32 microengine's halt, each instance's
// QUEUE0 ring registers, and an engine thread that executes enabled rings
// through an AmdCp (amd_cp.h, the SDMA packet processor the KFD emulator
// uses: COPY_LINEAR, FENCE, TRAP, POLL_REGMEM, NOP).
//
// What it models:
//  * F32_CNTL: the engine runs while HALT and TH1_RESET are clear; it starts
//    halted. The firmware arrives through the PSP: with
//    `firmware_loaded = false` the creator passes every LOAD_IP_FW the PSP
//    model executes to LoadFirmware(fw_type); both engines have firmware
//    once SDMA_UCODE_TH0 and TH1 arrived (one image serves both), and
//    un-halting before is a violation naming what is missing.
//  * RB_CNTL.RB_ENABLE 0 -> 1 starts a ring: base = RB_BASE/_HI << 8, size =
//    4 << RB_SIZE bytes, VMID = RB_VMID, read pointer = RB_RPTR/_HI (written
//    to the writeback address RB_RPTR_ADDR_HI/LO at once, then after every
//    packet), write pointer = RB_WPTR/_HI, then every new value of the
//    64-bit doorbell word at byte 4 * DOORBELL_OFFSET.OFFSET of the doorbell
//    BAR (the model resets that word to the write pointer at the enable: a
//    value an earlier queue left there is not new work). Addresses
//    go through the GpuAddressSpace the creator gives for the VMID.
//  * the engine thread steps each enabled ring of a running engine; a fault
//    (unmapped memory, an unknown packet, a write pointer more than a ring
//    ahead) stops that ring: QueueStatus names the address and what, and the
//    fault hook runs. A TRAP packet posts its int_context through the trap
//    hook when CNTL.TRAP_ENABLE is set (else the interrupt is dropped, as the
//    engine raises none), so the integrator can inject IH vectors.
//  * reads: STATUS_REG.IDLE is set when no enabled ring of the instance has
//    work (read < write) and no packet is executing (SetHung: never);
//    RB_RPTR/_HI read the engine's read pointer.
// Violations (register_file.h): RB_ENABLE with the engine halted, before
// RB_BASE/_HI or RB_RPTR_ADDR_LO/HI were written since the ring was last
// disabled, without RPTR_WRITEBACK_ENABLE, with MINOR_PTR_UPDATE still 1,
// with a ring under 256 bytes, without DOORBELL.ENABLE, with a doorbell past
// the doorbell BAR, for a VMID with no address space; ring registers
// (base, read pointer and its address, poll address, doorbell, doorbell
// offset, RB_CNTL's other fields) written while the ring is enabled; F32
// un-halted before the firmware was loaded; FinishChecks: rings left enabled.
//
// Not modelled: the wptr poll (F32_WPTR_POLL_ENABLE) and register-written
// write pointers (doorbells only), IBs (INDIRECT packets), queues other than
// QUEUE0, preemption and context switch, the watchdog, the UTCL1/L2 policy
// bits (stored, not interpreted). NBIO doorbell routing is the creator's
// (EmulatedSdmaConfig::doorbell_routed).
#ifndef UOP_DRIVERS_AM_EMULATOR_SDMA_SDMA_MODEL_H_
#define UOP_DRIVERS_AM_EMULATOR_SDMA_SDMA_MODEL_H_

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drivers/am/emulator/amd_cp.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/emulator/gpu_address_space.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/sdma/sdma_regs.h"

namespace uop {

struct EmulatedSdmaConfig {
  bool firmware_loaded = true;  // false: LoadFirmware must precede the un-halt
  absl::Duration idle_poll = absl::Microseconds(200);  // engine thread with no work
  // Whether NBIO delivers host doorbell writes at this dword index of the
  // doorbell BAR to SDMA (EmulatedNbio::Route); unset: every doorbell is.
  // RB_ENABLE with a doorbell that is not routed is a violation.
  std::function<bool(uint32_t dword)> doorbell_routed;
};

class EmulatedSdma {
 public:
  // The page tables of a VMID as the engine sees them; null: none. The
  // address space must stay alive while a ring of that VMID is enabled.
  using AddressSpaceFor = std::function<const GpuAddressSpace*(uint32_t vmid)>;
  using TrapHook = std::function<void(int instance, uint32_t int_context)>;
  using FaultHook = std::function<void(int instance, uint64_t address, const std::string& what)>;
  struct Hooks {
    TrapHook on_trap;    // engine thread, no model lock held
    FaultHook on_fault;  // likewise
  };
  struct QueueStatus {
    bool enabled = false;
    bool faulted = false;
    uint64_t fault_address = 0;  // GPU VA the fault was about (AmdCp: the packet's)
    std::string fault;
    uint32_t vmid = 0;
    uint64_t ring_va = 0, ring_bytes = 0;
  };

  static absl::StatusOr<std::unique_ptr<EmulatedSdma>> Attach(EmulatedPciGpu& gpu,
                                                              AddressSpaceFor spaces,
                                                              EmulatedSdmaConfig config = {},
                                                              Hooks hooks = {});
  // Stops the engine thread and detaches from the register file.
  ~EmulatedSdma();

  // A LOAD_IP_FW the PSP executed (GFX_FW_TYPE_*); other types are ignored.
  void LoadFirmware(uint32_t gfx_fw_type);
  // A hung engine: STATUS_REG never reads IDLE.
  void SetHung(int instance, bool hung);

  bool running(int instance) const;  // un-halted
  QueueStatus queue(int instance) const;
  std::vector<uint32_t> traps(int instance) const;  // posted int_context, in order
  uint64_t dropped_traps(int instance) const;       // TRAP with CNTL.TRAP_ENABLE clear
  AmdCpStats stats() const;                         // over every ring run so far
  void FinishChecks();
  // A MODE1 reset: both engines halted with no firmware, their rings
  // disabled (a packet executing finishes; nothing after it runs). Traps,
  // statuses and stats are history and kept; the registers are the caller's
  // to restore. Runs under the register file's lock, as the hooks do.
  void ChipReset();

 private:
  struct Run;
  struct Instance {
    bool running = false;
    bool trap_enable = false;
    bool hung = false;
    bool base_lo = false, base_hi = false, rptr_lo = false, rptr_hi = false;
    uint32_t cntl = 0;         // RB_CNTL of the enabled ring
    std::shared_ptr<Run> run;  // the enabled ring, or null
    QueueStatus status;
    std::vector<uint32_t> traps;
    uint64_t dropped_traps = 0;
    std::atomic<bool> stepping{false};
  };

  EmulatedSdma(EmulatedPciGpu& gpu, AmRegisterMap map, AddressSpaceFor spaces,
               EmulatedSdmaConfig config, Hooks hooks);
  uint32_t D(const AmReg& r) const { return map_.Dword(r); }
  void Install(int i);
  void Uninstall(int i);
  void OnF32Cntl(int i, uint32_t v);
  void OnRbCntl(int i, uint32_t v);
  void StartRing(int i, uint32_t cntl);
  // A ring register written: a violation while enabled; `flag` records it.
  void OnRingRegister(int i, const AmReg& r, bool* flag);
  uint32_t ReadStatus(int i, uint32_t stored);
  uint64_t ReadPointerLocked(const Instance& in) const;
  void Loop();
  bool StepRun(Run& r);
  void FaultRun(Run& r, uint64_t address, const std::string& what);
  void Trap(Run& r, uint32_t id);

  EmulatedPciGpu& gpu_;
  EmulatedRegisterFile& regs_;
  const AmRegisterMap map_;
  const AddressSpaceFor spaces_;
  const EmulatedSdmaConfig config_;
  const Hooks hooks_;

  mutable std::mutex mu_;  // after the register file's lock, never before
  std::condition_variable cv_;
  bool stop_ = false;
  bool th0_loaded_ = false, th1_loaded_ = false;
  std::array<Instance, kSdma600Instances> inst_;
  std::vector<std::shared_ptr<Run>> all_runs_;  // for stats
  std::thread engine_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_SDMA_SDMA_MODEL_H_
