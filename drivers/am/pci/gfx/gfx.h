// AmGfx: the compute part of GC 11.0 (Navi3x) brought up without a kernel
// driver, after the PSP has loaded the CP firmware and run the RLC autoload:
// start the RS64 MEC and map AQL compute queues by programming each queue's
// hardware queue descriptor (HQD) registers directly, as Linux's KFD does
// without HWS/MES (mqd_manager_v11.c init_mqd/update_mqd +
// amdgpu_amdkfd_gfx_v11.c hqd_load/hqd_destroy) and tinygrad's AM_GFX.
//
// Init, in gfx_v11_0's order:
//  1. wait (bounded) until CP_STAT reads 0 and RLC_RLCS_BOOTLOAD_STATUS has
//     BOOTLOAD_COMPLETE (gfx_v11_0_wait_for_rlc_autoload_complete);
//  2. with `mec_ucode_start` (the RS64 MEC image's ucode start address from
//     its firmware header): CP_MEC_RS64_PRGRM_CNTR_START/_HI for each pipe
//     (GRBM selecting ME 1, that pipe), then pulse the pipes' resets in
//     CP_MEC_RS64_CNTL (gfx_v11_0_config_gfx_rs64's MEC part);
//  3. per compute VMID: SH_MEM_CONFIG = DEFAULT_SH_MEM_CONFIG (64-bit,
//     unaligned, instruction prefetch 3) and SH_MEM_BASES (LDS and scratch
//     apertures at 0x6000 << 48), selecting the VMID through GRBM
//     (gfx_v11_0_init_compute_vmid);
//  4. CP_MEC_DOORBELL_RANGE_LOWER/UPPER = first/last doorbell dword << 2
//     (gfx_v11_0_cp_set_doorbell_range);
//  5. CP_MEC_RS64_CNTL: clear halt, icache invalidate and pipe resets, set
//     every pipe active (gfx_v11_0_cp_compute_enable).
//
// MapAqlQueue selects the queue (ME/pipe/queue) and writes its HQD: MQD
// base/control, VMID, persistent state, priorities, quantum, ring base
// (>> 8), read-pointer report and write-pointer poll addresses, doorbell
// control (offset, BIF_DROP), PQ control (log2 size, RPTR_BLOCK_SIZE 5,
// NO_UPDATE_RPTR, SLOT_BASED_WPTR 2, QUEUE_FULL_EN, UNORD_DISPATCH), IB
// control, EOP base (>> 8) and size, AQL control; then doorbell enable, write
// pointer 0, the poll address again and EOP_RPTR.INIT_FETCHER as hqd_load,
// and CP_HQD_ACTIVE = 1 last. The MQD struct itself is NOT written to memory:
// CP_MQD_BASE_ADDR only tells the CP where to save the queue's state.
// UnmapQueue writes CP_HQD_DEQUEUE_REQUEST (DRAIN_PIPE) and waits (bounded)
// for CP_HQD_ACTIVE to clear, as hqd_destroy_v11.
//
// GRBM selection is process-wide hardware state: every selected sequence
// runs under one mutex and restores the selection to 0 (also on errors).
// Every wait is bounded and a timeout names the queue, the register and its
// last value; bad specs are InvalidArgument naming the queue and the field.
//
// Unverified against hardware (no AMD GPU here): the reset state of
// CP_MEC_RS64_CNTL after autoload, whether this firmware needs anything
// more than the PC start before unhalting, and the pipe priority map.
#ifndef UOP_DRIVERS_AM_PCI_GFX_GFX_H_
#define UOP_DRIVERS_AM_PCI_GFX_GFX_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/gfx/gfx_regs.h"

namespace uop {

struct AmGfxConfig {
  // SH_MEM_CONFIG/BASES are programmed for VMIDs [first, last] (Linux: the
  // KFD VMIDs 8-15).
  uint32_t first_compute_vmid = 8;
  uint32_t last_compute_vmid = 15;
  // The MEC doorbell range, as dword indices into the doorbell BAR (at most
  // 1023: the register holds bits 2-11 of the byte offset).
  uint32_t doorbell_first = 0;
  uint32_t doorbell_last = 1023;
  // Byte address of the RS64 MEC's first instruction (the firmware header's
  // ucode_start_addr_hi:lo); nullopt: leave the program counter as loaded.
  std::optional<uint64_t> mec_ucode_start;
  absl::Duration wait_timeout = absl::Milliseconds(100);
};

// One AQL queue. Addresses are GPU virtual addresses in `vmid`'s space.
struct AmAqlQueueSpec {
  uint32_t me = kGfx11MecMe;
  uint32_t pipe = 0;
  uint32_t queue = 0;
  uint32_t vmid = 8;
  uint64_t ring_va = 0;         // 256-byte aligned
  uint64_t ring_bytes = 0;      // power of two, at least 256
  uint64_t rptr_report_va = 0;  // amd_queue_t.read_dispatch_id (4-byte aligned)
  uint64_t wptr_poll_va = 0;    // amd_queue_t.write_dispatch_id (8-byte aligned)
  uint64_t eop_va = 0;          // 256-byte aligned
  uint32_t eop_bytes = 2048;    // power of two (GFX11_MEC_HPD_SIZE)
  uint64_t mqd_va = 0;          // where the CP saves the queue (4-byte aligned)
  uint32_t doorbell_index = 0;  // dword index in the doorbell BAR (64-bit doorbell: even)
  uint32_t priority = 7;        // 0-15: CP_HQD_QUEUE_PRIORITY; pipe priority as KFD maps it
};

// A mapped queue.
struct AmHqd {
  uint32_t me = 0, pipe = 0, queue = 0;
  std::string Name() const;  // "ME1/pipe 0/queue 3"
  friend bool operator<(const AmHqd& a, const AmHqd& b) {
    return std::tie(a.me, a.pipe, a.queue) < std::tie(b.me, b.pipe, b.queue);
  }
};

class AmGfx {
 public:
  // `regs` must outlive this object.
  static absl::StatusOr<std::unique_ptr<AmGfx>> Create(const AmRegisterIo& regs,
                                                       AmGfxConfig config = {});

  absl::Status Init();
  absl::StatusOr<AmHqd> MapAqlQueue(const AmAqlQueueSpec& spec);
  absl::Status UnmapQueue(const AmHqd& hqd);

  bool initialized() const { return initialized_; }
  const AmGfxConfig& config() const { return config_; }

 private:
  AmGfx(const AmRegisterIo& regs, AmGfxConfig config) : regs_(regs), config_(config) {}
  // Selects (me, pipe, queue, vmid); the caller holds grbm_mu_.
  absl::Status Select(uint32_t me, uint32_t pipe, uint32_t queue, uint32_t vmid);
  // Runs `body` with the selection made, then restores it to 0; the body's
  // error wins over the restore's.
  template <typename Body>
  absl::Status Selected(uint32_t me, uint32_t pipe, uint32_t queue, uint32_t vmid, Body body);
  absl::Status WaitFor(const AmReg& reg, uint32_t mask, uint32_t want, const std::string& what);
  absl::Status CheckSpec(const AmAqlQueueSpec& spec) const;
  absl::Status WriteHqd(const AmAqlQueueSpec& spec);

  const AmRegisterIo& regs_;
  const AmGfxConfig config_;
  std::mutex grbm_mu_;  // GRBM_GFX_CNTL selection, mapped_
  bool initialized_ = false;
  std::set<AmHqd> mapped_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_GFX_GFX_H_
