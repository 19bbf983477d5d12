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
// Lifecycle across processes (tinygrad's AMDev, Linux's amdgpu reset):
//  * Ownership: Open takes an exclusive lock on the BDF first (device_lock.h,
//    tinygrad's `am_<bdf>.lock`); a second Open of the same GPU, in this or
//    another process, is Unavailable naming the BDF and "in use".
//  * State detection: before touching the chip, Open reads what the last
//    owner left (AmChipState): the AM layout marker (SCRATCH_REG7 =
//    kAmLayoutMarker, written at the end of a successful bring-up), the
//    session flag (SCRATCH_REG6: 1 from the start of a bring-up until a
//    clean Close writes 0), whether the PSP's sOS runs (C2PMSG_81), the MEC
//    halt bit and the GC hub's protection-fault status. Then:
//      - marker, clean session, sOS alive, MEC halted, no fault: a PARTIAL
//        boot (kPartial) — the PSP (sOS, TOC/TMR, every image, RLC
//        autoload) and the SMU (features, clocks) are left as they run; GMC
//        and IH are programmed again (cheap, no firmware; the IH ring's
//        pointers are this process's), GFX/SDMA are started again and the
//        VMID's page tables are new. The boot arena's allocations come out
//        at the same addresses every time (same order, same sizes), so the
//        PSP's ring and TMR and the SMU's table stay where the first boot
//        put them, untouched by this process;
//      - sOS alive otherwise (amdgpu had the chip, a process crashed or
//        failed half-way, a GC fault, or `force_reset`): MODE1 reset through
//        the SMU first (kResetThenFull), checked by the sOS having stopped,
//        then the full bring-up. sOS alive but the SMU not: FailedPrecondition
//        (no MODE1 without the PMFW; reset the function through PCI);
//      - nothing alive: the full bring-up (kFull).
//  * Teardown (Close, or the destructor): every active HQD of the MEC is
//    dequeued (bounded wait) and the MEC halted, every enabled SDMA ring is
//    stopped and both engines halted, the VM context disabled on both hubs.
//    Only when all of it worked is SCRATCH_REG6 cleared, so the next Open
//    may boot partially; otherwise it resets. The PSP ring is NOT destroyed
//    and the SMU is not unloaded (tinygrad's fini does neither): the next
//    process needs the sOS alive for a partial boot; a kernel driver loading
//    next finds the sOS running and handles it as after any warm reboot
//    (amdgpu checks sOS alive and destroys a leftover ring, as AmPsp does).
//    `Reset()` is the explicit MODE1 reset (half a second).
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
#include "drivers/am/pci/device_lock.h"
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
#include "drivers/am/pci/vfio.h"
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
  // Where the per-device lock file lives (device_lock.h). "/tmp" is
  // tinygrad's (tempfile.gettempdir()).
  std::string lock_dir = "/tmp";
  // MODE1-reset a chip that could boot partially (tinygrad's AM_RESET=1).
  bool force_reset = false;
  // Open the GPU through VFIO (bound to vfio-pci) instead of sysfs: BARs
  // from the device fd, and host memory the GPU reaches through the IOMMU
  // (AmPciInterface then places kAmMemGtt there instead of in VRAM).
  bool use_vfio = false;
  // With use_vfio: route the GPU's MSI-X/MSI to an eventfd after the IH is
  // up (AmVfio::EnableMsi), so AmPciInterface's waits sleep in poll()
  // instead of polling. False: waits poll as through sysfs.
  bool vfio_msi = true;
  std::string iommu_groups_dir = kIommuGroupsDir;
};

// The GC 11.0 scratch registers the lifecycle keeps its state in
// (gc_11_0_0_offset.h: regSCRATCH_REG6 0x2046, regSCRATCH_REG7 0x2047,
// BASE_IDX 1; read from tinygrad's autogen regs.py gc_11_0_0) — free for the
// driver's use, cleared by a MODE1 reset — and the GC hub's protection-fault
// status (regGCVM_L2_PROTECTION_FAULT_STATUS 0x15c8, BASE_IDX 0), non-zero
// when a fault is latched.
inline constexpr AmReg kAmScratchReg6 = {"regSCRATCH_REG6", kHwIdGc, 1, 0x2046};
inline constexpr AmReg kAmScratchReg7 = {"regSCRATCH_REG7", kHwIdGc, 1, 0x2047};
inline constexpr AmReg kAmGcFaultStatus = {"regGCVM_L2_PROTECTION_FAULT_STATUS", kHwIdGc, 0,
                                           0x15c8};
// SCRATCH_REG7 after a successful bring-up by this driver: the version of
// the boot arena's layout (AmPciGpu::kBootArenaBytes and the allocation
// order). Not tinygrad's value (0xA000000x): its boot memory is elsewhere,
// so a chip tinygrad left is reset, never resumed. Bump it whenever the
// arena's layout changes.
inline constexpr uint32_t kAmLayoutMarker = 0x75A00001;
// SCRATCH_REG6: 1 while a process owns the chip (from the start of its
// bring-up), 0 after a clean Close.
inline constexpr uint32_t kAmSessionOpen = 1;

// What Open found on the chip before touching it.
struct AmChipState {
  uint32_t layout_marker = 0;  // SCRATCH_REG7
  uint32_t session = 0;        // SCRATCH_REG6
  bool sos_alive = false;      // MP0 C2PMSG_81 != 0
  bool mec_halted = false;     // CP_MEC_RS64_CNTL.MEC_HALT
  uint32_t gc_fault_status = 0;
  // Whether the chip is as a clean Close of this driver left it.
  bool Resumable() const {
    return layout_marker == kAmLayoutMarker && session == 0 && sos_alive && mec_halted &&
           gc_fault_status == 0;
  }
  std::string Describe() const;  // "SCRATCH_REG7 0x..., SCRATCH_REG6 ..., sOS alive, ..."
};

enum class AmBootPath {
  kFull,           // nothing was running: the whole bring-up
  kResetThenFull,  // something ran (another driver, a crashed or unclean run): MODE1, then full
  kPartial,        // a clean Close of ours left it: PSP and SMU kept, the rest again
};
const char* AmBootPathName(AmBootPath path);

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

  // Locks the GPU at `fn` (from FindAmdGpus), finds what state it is in and
  // brings it up (see the top of this file). Every step's error names the
  // step; pieces already brought up are released on failure.
  static absl::StatusOr<std::unique_ptr<AmPciGpu>> Open(KernelIo& io, const PciFunction& fn,
                                                        AmPciGpuOptions options = {});
  ~AmPciGpu();  // Close(), its error dropped
  AmPciGpu(const AmPciGpu&) = delete;
  AmPciGpu& operator=(const AmPciGpu&) = delete;

  // The teardown described at the top; idempotent (the second call returns
  // the first's result). Queues the AmGpuInterface on top mapped should be
  // gone first (it unmaps its own); any still active are dequeued here. The
  // lock is released afterwards, also on error. Nothing may use this object
  // after it but the accessors of what Open found.
  absl::Status Close();

  // MODE1 reset through the SMU now: the chip forgets everything (the next
  // Open boots it from scratch; its markers are cleared). Only Close may
  // follow (which then only releases the lock).
  absl::Status Reset();

  const AmChipState& found() const { return found_; }
  AmBootPath boot_path() const { return boot_path_; }

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
  // The VFIO device when opened with use_vfio, else null.
  AmVfio* vfio() { return vfio_.get(); }
  uint64_t vram_size() const { return discovery_.vram_size; }
  // The CPU's view of VRAM physical 0 (the whole of VRAM must be behind
  // BAR0: resizable BAR), and of the doorbell BAR.
  uint8_t* vram_host() const;
  volatile uint64_t* doorbell_host(uint32_t dword_index) const;

 private:
  AmPciGpu() = default;
  absl::Status BringUp(KernelIo& io, const PciFunction& fn, const AmPciGpuOptions& options);
  absl::Status BootFirmware(KernelIo& io, const PciFunction& fn, const AmPciGpuOptions& options);
  absl::StatusOr<AmChipState> ReadChipState();
  // MODE1 through the SMU, then checks the sOS stopped.
  absl::Status ResetChip();
  absl::Status DequeueAllHqds();
  absl::Status StopSdma();

  std::unique_ptr<AmDeviceLock> lock_;
  AmChipState found_;
  AmBootPath boot_path_ = AmBootPath::kFull;
  bool booted_ = false;     // BringUp completed
  bool torn_down_ = false;  // Close ran
  bool reset_ = false;      // Reset ran: nothing of ours left on the chip
  absl::Status close_status_;

  std::unique_ptr<AmVfio> vfio_;  // outlives the BARs mapped from it
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
