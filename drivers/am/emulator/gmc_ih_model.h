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
//    hub); when they appear the hub's TLB reloads the page tables of exactly
//    the VMIDs whose bits were requested;
//  * HDP: the CPU's VRAM writes reach the GPU's view of the page tables only
//    at an HDP flush (a write to the MMIO remap page, which must have been
//    remapped through NBIO first: violation otherwise). So TranslateGart
//    (context 0) and the walker of vm_walker.h (any context) see a PTE only
//    after write -> HDP flush -> invalidation, as hardware does;
//  * contexts 1-15 (VM_CONTEXTn_*, gmc.h's AmVmContextRegsOf): CNTL enabled
//    before that context's BASE (with its valid bit), START and END were
//    written, with START > END, before the L1 TLB / L2 are on, or with a
//    block size past 9 (more than 2^18 PTEs per table): violation. At each
//    HDP flush the model copies, per hub and context whose BASE is set, the
//    registers and every page-table page reachable from BASE (an
//    EmulatedVmView); an acknowledged invalidation of VMID n makes that copy
//    the hub's TLB for n. The walker translates through the TLB copy only.
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
#include <mutex>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/ih.h"

namespace uop {

// One VM context as a hub's walker sees it: the registers and the
// page-table pages reachable from BASE, as of an HDP flush. Immutable once
// published (walkers on other threads hold it by shared_ptr).
struct EmulatedVmView {
  uint32_t cntl = 0;  // VM_CONTEXTn_CNTL (depth, block size)
  uint64_t base = 0;  // root PDE as written (address | valid)
  uint64_t start_page = 0, end_page = 0;
  uint64_t fb_offset = 0;  // MC_VM_FB_OFFSET in bytes: PTE address - VRAM physical
  // Each table page (VRAM physical) -> its entries.
  std::unordered_map<uint64_t, std::vector<uint64_t>> tables;

  int depth() const { return (cntl >> 1) & 3; }
  int block_size() const { return (cntl >> 3) & 0xF; }
  // The walk: level 0 (the root) to depth() (the PTB; depth 0 is a flat
  // table). Level L is indexed by page bits [shift(L), shift(L) + width):
  // the PTB by 9 + block_size bits, each PDB by 9, the root by whatever the
  // context's range needs.
  int shift(int level) const {
    return level == depth() ? 0 : 9 + block_size() + 9 * (depth() - 1 - level);
  }
  uint64_t entries(int level) const {
    if (level == 0) return ((end_page - start_page) >> shift(0)) + 1;
    return level == depth() ? uint64_t{512} << block_size() : 512;
  }
};

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
  // What `hub`'s TLB holds for `vmid` (0-15): whether the context is enabled
  // and the view its last acknowledged invalidation loaded (nullptr before
  // one). Safe from any thread (engines walk while the driver maps).
  struct VmTlb {
    bool enabled = false;
    std::shared_ptr<const EmulatedVmView> view;
  };
  VmTlb TlbOf(const AmVmHubRegs& hub, int vmid) const;
  EmulatedPciGpu& gpu() const { return gpu_; }
  // Records a violation for each request whose ACK was never read.
  void FinishChecks();
  // A MODE1 reset: both hubs forget their contexts, TLBs, semaphore and
  // pending invalidations, and the IH ring is off. Counters (HDP flushes,
  // invalidations) are history and kept; the registers are the caller's to
  // restore (EmulatedNavi31). Runs under the register file's lock.
  void ChipReset();

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
    // Every context (0-15) for the walker. hdp_vm is written in hooks only;
    // tlb_vm and ctx_enabled are read by walkers: under vm_mu_.
    std::array<std::shared_ptr<const EmulatedVmView>, 16> hdp_vm, tlb_vm;
    std::array<bool, 16> ctx_enabled{};
  };

  EmulatedGmcIh(EmulatedPciGpu& gpu, AmRegisterMap map, EmulatedGmcIhConfig config)
      : gpu_(gpu), regs_(gpu.registers()), map_(std::move(map)), config_(config) {}
  uint32_t R(const AmReg& r) const { return regs_.Get(map_.Dword(r)); }
  bool Written(const AmReg& r) const { return regs_.FirstWriteOf(map_.Dword(r)) >= 0; }
  void AttachHub(Hub& h);
  void OnContextCntl(Hub& h, uint32_t value);
  void OnVmContextCntl(Hub& h, int vmid, uint32_t value);
  // The view of `vmid` on `h` now (registers + reachable tables in VRAM),
  // or nullptr when its BASE was never written.
  std::shared_ptr<const EmulatedVmView> SnapshotContext(const Hub& h, int vmid) const;
  void OnHdpFlush();
  void OnIhCntl(uint32_t value);
  Hub& HubOf(const AmVmHubRegs& regs);
  const Hub& HubOf(const AmVmHubRegs& regs) const;

  EmulatedPciGpu& gpu_;
  EmulatedRegisterFile& regs_;
  const AmRegisterMap map_;
  const EmulatedGmcIhConfig config_;
  Hub hubs_[2];
  mutable std::mutex vm_mu_;
  int hdp_flushes_ = 0;
  bool ih_enabled_ = false;
  uint32_t ih_wptr_ = 0;  // bytes
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_GMC_IH_MODEL_H_
