// SDMA 6.0 (GC 11.0, Navi31) bring-up for the AM path without a kernel
// driver: un-halt the engines once the PSP loaded their firmware, then
// program copy rings directly through each instance's QUEUE0 registers (no
// MES). Sequence from Linux's sdma_v6_0.c (sdma_v6_0_start,
// sdma_v6_0_gfx_resume_instance, sdma_v6_0_gfx_stop, sdma_v6_0_wait_for_idle)
// and tinygrad's AM_SDMA (init_hw, setup_ring, fini_hw).
//
//   Init (per instance): WATCHDOG_CNTL.QUEUE_HANG_COUNT, UTCL1_CNTL
//     (RESP_MODE 3, REDO_DELAY 9), UTCL1_PAGE (L2 read/write policy,
//     LLC_NOALLOC), SEM_WAIT_FAIL_TIMER_CNTL = 0, CNTL.TRAP_ENABLE, then
//     F32_CNTL HALT = 0 and TH1_RESET = 0 (un-halt), then a bounded wait for
//     STATUS_REG.IDLE (ours: Linux does not wait here; an engine whose
//     firmware does not run never reports idle).
//   CreateQueue: read RB_CNTL (a ring left enabled by an earlier process is
//     stopped and waited for first), write RB_CNTL with RB_ENABLE = 0 and the
//     ring's size/VMID/PRIV, MINOR_PTR_UPDATE = 1, RB_RPTR/_HI = 0,
//     RB_WPTR/_HI = 0, RB_BASE/_HI (VA >> 8 / >> 40), RB_RPTR_ADDR_HI/LO,
//     RB_WPTR_POLL_ADDR_HI/LO, DOORBELL_OFFSET, DOORBELL.ENABLE,
//     MINOR_PTR_UPDATE = 0, then RB_CNTL | RB_ENABLE last and IB_CNTL.IB_ENABLE.
//   DestroyQueue: RB_CNTL.RB_ENABLE = 0, IB_CNTL.IB_ENABLE = 0, DOORBELL
//     off, DOORBELL_OFFSET 0, then a bounded wait for STATUS_REG.IDLE.
//
// Ring protocol (what a packet writer needs; the same as the KFD path's
// SDMA queue in drivers/am/am_queue.cc, so its writer carries over):
//  * the read and write pointers count BYTES and are 64-bit and monotonic
//    (Linux: ring->wptr << 2, ptr_mask all ones with 64-bit pointers); the
//    dword at pointer p is ring[(p / 4) % (ring_bytes / 4)];
//  * the engine writes its read pointer (bytes, 64-bit) to rptr_va;
//  * work is published by writing the new write pointer (bytes, 64-bit) to
//    the queue's doorbell: RingDoorbell, a 64-bit store at byte offset
//    4 * doorbell_index of the doorbell BAR. With wptr_poll_va set the
//    writer should store it there too (Linux does both; F32_WPTR_POLL_ENABLE
//    lets the firmware re-read it). Packets: drivers/am/abi/sdma.h.
// Addresses in the spec are GPU virtual addresses of the queue's VMID (VMID
// 0: the GART / MC addresses of the kernel's page table).
//
// Not programmed here: NBIO's doorbell routing to the SDMA engines
// (S2A_DOORBELL_ENTRY_2_CTRL: port 2, AWID 0xE, AWADDR[31:28] 3, range at
// the SDMA doorbells; Linux nbio_v4_3_sdma_doorbell_range, tinygrad
// soc.doorbell_enable). That NBIO register lies outside BAR5 on Navi31 and
// needs the indirect RSMU index/data access the AM path does not have yet.
//
// Every wait is bounded (AmSdmaConfig::wait_timeout) and a timeout names the
// register and its last value. A removed device fails at the first read
// (Unavailable naming the register).
#ifndef UOP_DRIVERS_AM_PCI_SDMA_SDMA_H_
#define UOP_DRIVERS_AM_PCI_SDMA_SDMA_H_

#include <array>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/ip_discovery.h"
#include "drivers/am/pci/sdma/sdma_regs.h"
#include "drivers/common/mmio.h"

namespace uop {

struct AmSdmaConfig {
  int instances = kSdma600Instances;
  absl::Duration wait_timeout = absl::Milliseconds(100);  // Linux: usec_timeout
  // SDMA0_WATCHDOG_CNTL.QUEUE_HANG_COUNT in 100 ms units (Linux:
  // max(usec_timeout / 100000, 1) = 1; tinygrad: 100).
  uint32_t queue_hang_count = 1;
};

struct AmSdmaQueueSpec {
  int instance = 0;  // SDMA0 or SDMA1
  int queue = 0;     // only QUEUE0 (see sdma_regs.h)
  uint32_t vmid = 0;
  uint64_t ring_va = 0;       // 256-byte aligned
  uint64_t ring_bytes = 0;    // power of two, 256 B .. 1 GiB
  uint64_t rptr_va = 0;       // 8 bytes, 8-byte aligned: the engine writes its read pointer here
  uint64_t wptr_poll_va = 0;  // 0: none; else 8-byte aligned, enables F32_WPTR_POLL
  // Dword index of the 64-bit doorbell in the doorbell BAR (even); Linux
  // uses kNavi10DoorbellSdmaEngine0/1 << 1.
  uint32_t doorbell_index = 0;
};

// A created ring: what the packet writer needs.
struct AmSdmaQueue {
  AmSdmaQueueSpec spec;
  uint64_t doorbell_offset() const { return uint64_t{spec.doorbell_index} * 4; }
};

class AmSdma {
 public:
  // Checks the discovery table has SDMA0 6.0 (else Unimplemented naming the
  // version). `regs` and `doorbells` must outlive the object.
  static absl::StatusOr<std::unique_ptr<AmSdma>> Create(const AmRegisterIo& regs,
                                                        const IpDiscoveryTable& ip,
                                                        const MmioRegion& doorbells,
                                                        AmSdmaConfig config = {});

  // Init of every instance.
  absl::Status Init();
  absl::Status InitInstance(int instance);

  // Programs and enables the ring; InvalidArgument naming the field for a bad
  // spec, FailedPrecondition before the instance's Init or for a queue that
  // exists already.
  absl::StatusOr<AmSdmaQueue> CreateQueue(const AmSdmaQueueSpec& spec);
  absl::Status DestroyQueue(const AmSdmaQueue& queue);

  // Publishes work: the write pointer (bytes, monotonic) to the doorbell.
  absl::Status RingDoorbell(const AmSdmaQueue& queue, uint64_t wptr_bytes) const;
  // The engine's read pointer (bytes) from RB_RPTR/_HI.
  absl::StatusOr<uint64_t> ReadPointer(const AmSdmaQueue& queue) const;
  absl::StatusOr<bool> Idle(int instance) const;

  int instances() const { return config_.instances; }

 private:
  AmSdma(const AmRegisterIo& regs, const MmioRegion& doorbells, AmSdmaConfig config)
      : regs_(regs), doorbells_(doorbells), config_(config) {}
  absl::Status CheckInstance(int instance) const;
  absl::Status CheckSpec(const AmSdmaQueueSpec& spec) const;
  absl::Status WaitIdle(int instance, const char* why) const;
  absl::Status StopRing(int instance);

  const AmRegisterIo& regs_;
  const MmioRegion& doorbells_;
  const AmSdmaConfig config_;
  std::array<bool, kSdma600Instances> initialised_{};
  std::array<bool, kSdma600Instances> queue_live_{};
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_SDMA_SDMA_H_
