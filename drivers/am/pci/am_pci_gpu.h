// AmPciGpu: one AMD GPU (GC 11.0, Navi3x) brought up by this process with no
// kernel driver bound, in the order Linux's amdgpu (and tinygrad's AM driver)
// initialise the IP blocks:
//
//   PCI enable + BARs -> IP discovery -> register map -> GMC (GART) -> IH
//   -> PSP (sOS, KM ring, TOC/TMR, every IP firmware, RLC autoload)
//   -> SMU (alive, versions, features, clocks) -> GFX (MEC) -> SDMA
//   -> the compute VMID's page tables (AmVm)
//
// It owns every piece and hands out what the AmGpuInterface on top needs
// (VRAM allocator, VM, GFX, SDMA, IH, the BARs). VRAM is split three ways:
// the runtime allocator gets [1 MiB, size - 96 MiB), the boot arena (GART
// table, IH ring, PSP buffers, TMR, SMU table) [size - 96 MiB, size - 64 KiB),
// and the top 64 KiB hold the firmware's IP discovery table.
//
// Teardown (the destructor) stops what this process started in reverse: the
// VM context is disabled and the device is left for the next process to
// reset; a MODE1 reset through the SMU is `Reset()` (explicit, since it
// costs half a second).
//
// Thread safety: the pieces are each thread-safe where they say so (VRAM
// allocator, VM, GFX queue mapping); bring-up runs on one thread.
#ifndef UOP_DRIVERS_AM_PCI_AM_PCI_GPU_H_
#define UOP_DRIVERS_AM_PCI_AM_PCI_GPU_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/discovery_reader.h"
#include "drivers/am/pci/gfx/gfx.h"
#include "drivers/am/pci/gmc.h"
#include "drivers/am/pci/ih.h"
#include "drivers/am/pci/indirect_regs.h"
#include "drivers/am/pci/nbio.h"
#include "drivers/am/pci/pci_bars.h"
#include "drivers/am/pci/psp.h"
#include "drivers/am/pci/sdma/sdma.h"
#include "drivers/am/pci/smu/smu.h"
#include "drivers/am/pci/vm.h"
#include "drivers/am/pci/vram_allocator.h"
#include "drivers/am/pci/vram_arena.h"
#include "drivers/common/kernel_io.h"

namespace uop {

struct AmPciGpuOptions {
  std::string firmware_dir = "/lib/firmware/amdgpu";
  // The VMID the device's memory and queues live in (GFX programs the
  // compute apertures for 8-15, as KFD uses them).
  int vmid = 8;
  bool max_performance = true;  // SMU soft minimum clocks = maximum
  absl::Duration ifwi_timeout = absl::Seconds(2);
  AmSmuConfig smu;
};

// The doorbell layout (Linux's soc15 Navi10 layout, in dword indices of the
// doorbell BAR): compute queues from 64-bit doorbell 0x0B, SDMA engines at
// 0x100/0x10A; the MEC range ends at user-queue end 0x8A.
inline constexpr uint32_t kAmComputeDoorbellDword = 0x0B * 2;
inline constexpr uint32_t kAmMecDoorbellLastDword = 0x8A * 2;
inline constexpr uint32_t kAmSdmaDoorbellDword[2] = {0x100 * 2, 0x10A * 2};

class AmPciGpu {
 public:
  static constexpr uint64_t kBootArenaBytes = 96ull << 20;
  static constexpr uint64_t kRuntimeVramBegin = 1ull << 20;
  static constexpr uint64_t kDiscoveryReserve = 64ull << 10;

  // Brings up the GPU at `fn` (from FindAmdGpus). Every step's error names
  // the step; pieces already brought up are released on failure.
  static absl::StatusOr<std::unique_ptr<AmPciGpu>> Open(KernelIo& io, const PciFunction& fn,
                                                        AmPciGpuOptions options = {});
  ~AmPciGpu();
  AmPciGpu(const AmPciGpu&) = delete;
  AmPciGpu& operator=(const AmPciGpu&) = delete;

  // MODE1 reset through the SMU: the chip forgets everything this process
  // set up (the next Open boots it from scratch).
  absl::Status Reset();

  const std::string& bdf() const { return bars_->function().bdf; }
  const AmDiscovery& discovery() const { return discovery_; }
  const AmPciBars& bars() const { return *bars_; }
  const AmRegisterIo& regs() const { return *regs_; }
  AmGmc& gmc() { return *gmc_; }
  AmIh& ih() { return *ih_; }
  AmSmu& smu() { return *smu_; }
  AmNbio& nbio() { return *nbio_; }
  AmIndirectRegs& indirect() { return *indirect_; }
  AmGfx& gfx() { return *gfx_; }
  AmSdma& sdma() { return *sdma_; }
  AmVm& vm() { return *vm_; }
  AmVramAllocator& vram() { return *vram_allocator_; }
  uint64_t vram_size() const { return discovery_.vram_size; }
  // The CPU's view of VRAM physical 0 (the whole of VRAM must be behind
  // BAR0: resizable BAR), and of the doorbell BAR.
  uint8_t* vram_host() const;
  volatile uint64_t* doorbell_host(uint32_t dword_index) const;

 private:
  AmPciGpu() = default;
  absl::Status BringUp(KernelIo& io, const PciFunction& fn, const AmPciGpuOptions& options);

  std::unique_ptr<AmPciBars> bars_;
  AmDiscovery discovery_;
  std::unique_ptr<AmRegisterIo> regs_;
  std::unique_ptr<AmIndirectRegs> indirect_;  // registers past BAR5 (one mutex per device)
  std::unique_ptr<AmVramArena> arena_;
  std::unique_ptr<AmGmc> gmc_;
  std::unique_ptr<AmIh> ih_;
  std::unique_ptr<AmPsp> psp_;
  std::unique_ptr<AmSmu> smu_;
  std::unique_ptr<AmNbio> nbio_;
  std::unique_ptr<AmGfx> gfx_;
  std::unique_ptr<AmSdma> sdma_;
  std::unique_ptr<AmVramAllocator> vram_allocator_;
  std::unique_ptr<AmVm> vm_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_AM_PCI_GPU_H_
