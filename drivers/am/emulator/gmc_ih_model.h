// Device models of the GMC (both VM hubs, the HDP flush) and the IH of an
// emulated GC 11.0 GPU, on the trapped register file of EmulatedPciGpu.
// They answer what the driver reads and check the order and values of what
// it writes, recording every breach as a violation (register_file.h):
//
// GMC, per hub (MMHUB, GCHUB):
//  * FB_LOCATION_BASE/TOP, FB_OFFSET hold what firmware leaves (VRAM at
//    `fb_base` in the MC address space);
//  * CONTEXT0_CNTL.ENABLE_CONTEXT written before the page table base (with
//    its valid bit), start and end were, with start > end, before the system
//    aperture matches the FB location, or before the L1 TLB / L2 cache are
//    enabled: violation;
//  * ENG17_SEM (MMHUB): a read takes it when free (reads 1) and reads 0 while
//    held; releasing it unheld, or before the pending request's ACK was read:
//    violation;
//  * ENG17_REQ: on MMHUB without the semaphore, while a previous request was
//    never waited for, or without all levels (L2 PTEs/PDE0-2, L1): violation;
//  * ENG17_ACK: the VMID bits appear only after `ack_after_reads` reads (a
//    driver that does not poll never sees them; `never_ack` models a hung
//    hub); when they appear the hub's TLB reloads context 0's page table;
//  * HDP: the CPU's VRAM writes reach the GPU's view of the page tables only
//    at an HDP flush (a write to the MMIO remap page, which must have been
//    remapped through NBIO first: violation otherwise). So TranslateGart sees
//    a PTE only after write -> HDP flush -> invalidation, as hardware does.
// IH:
//  * RB_ENABLE before IH_RB_BASE/BASE_HI, before the writeback address (with
//    WPTR_WRITEBACK_ENABLE), before WPTR/RPTR were zeroed, or with a ring
//    size the pointers cannot address: violation;
//  * InjectInterrupt writes a 32-byte vector at the write pointer, advances
//    it (IH_RB_WPTR and the writeback word), or sets RB_OVERFLOW when the
//    ring is full; it fails if the ring is off or interrupts are disabled.
//
// The models run inside the register file's hooks (serialized by its lock);
// TranslateGart/InjectInterrupt are called by the test between driver calls.
#ifndef UOP_DRIVERS_AM_EMULATOR_GMC_IH_MODEL_H_
#define UOP_DRIVERS_AM_EMULATOR_GMC_IH_MODEL_H_

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/ih.h"

namespace uop {

struct EmulatedGmcIhConfig {
  uint64_t fb_base = 0x8000000000;  // 512 GiB, as dGPUs report
  int ack_after_reads = 3;
  bool never_ack = false;
};

class EmulatedGmcIh {
 public:
  // The GPU must serve a table AmRegisterMap accepts (Navi31Ips).
  static absl::StatusOr<std::unique_ptr<EmulatedGmcIh>> Attach(EmulatedPciGpu& gpu,
                                                               EmulatedGmcIhConfig config = {});

  // The VRAM physical address GART VA `va` reaches through `hub`'s TLB
  // (kMmhub300Regs or kGcHub1100Regs): FailedPrecondition when context 0 is
  // off, OutOfRange outside the GART, NotFound for an invalid PTE.
  absl::StatusOr<uint64_t> TranslateGart(const AmVmHubRegs& hub, uint64_t va) const;
  absl::Status InjectInterrupt(const IvEntry& entry);
  int hdp_flushes() const { return hdp_flushes_; }
  int invalidations(const AmVmHubRegs& hub) const;
  // Records a violation for each request whose ACK was never read.
  void FinishChecks();

  static std::array<uint32_t, 8> EncodeIvEntry(const IvEntry& e);

 private:
  struct Hub {
    const AmVmHubRegs* regs = nullptr;
    bool sem_held = false;
    uint32_t pending = 0;   // VMID bits requested, not yet acknowledged
    bool unwaited = false;  // requested and the ACK never read back
    int ack_reads = 0;
    uint32_t ack = 0;
    int invalidations = 0;
    bool enabled = false;
    std::vector<uint64_t> hdp_view, tlb;  // context-0 PTEs as the GPU sees them
    uint64_t tlb_start = 0;               // page number
  };

  EmulatedGmcIh(EmulatedPciGpu& gpu, AmRegisterMap map, EmulatedGmcIhConfig config)
      : gpu_(gpu), regs_(gpu.registers()), map_(std::move(map)), config_(config) {}
  uint32_t R(const AmReg& r) const { return regs_.Get(map_.Dword(r)); }
  bool Written(const AmReg& r) const { return regs_.FirstWriteOf(map_.Dword(r)) >= 0; }
  void AttachHub(Hub& h);
  void OnContextCntl(Hub& h, uint32_t value);
  void OnHdpFlush();
  void OnIhCntl(uint32_t value);
  Hub& HubOf(const AmVmHubRegs& regs);
  const Hub& HubOf(const AmVmHubRegs& regs) const;

  EmulatedPciGpu& gpu_;
  EmulatedRegisterFile& regs_;
  const AmRegisterMap map_;
  const EmulatedGmcIhConfig config_;
  Hub hubs_[2];
  int hdp_flushes_ = 0;
  bool ih_enabled_ = false;
  uint32_t ih_wptr_ = 0;  // bytes
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_GMC_IH_MODEL_H_
