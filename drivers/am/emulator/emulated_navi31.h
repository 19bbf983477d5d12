// EmulatedNavi31: a whole Navi31 (GC 11.0.0) on the PCI bus with no kernel
// driver, for the AM path's end-to-end tests and the AM_PCI_EMU device: the
// PCI function and its BARs (EmulatedPciGpu) with every device model the
// bring-up talks to, wired together as the chip's blocks are —
//
//   GMC/IH  <- page walks of each VMID (EmulatedVmSpace on the GC hub)
//   PSP     -> RLC autoload complete -> MEC; SDMA firmware -> SDMA engines
//   SMU     (mailbox)
//   NBIO    doorbell aperture + S2A routing -> which doorbells MEC/SDMA see
//   MEC     -> AQL queues through AmdCp; end-of-pipe and fault vectors -> IH
//   SDMA    -> copy rings through AmdCp; trap and fault vectors -> IH
//
// plus the firmware files the driver reads (/lib/firmware/amdgpu: a
// synthetic sOS container with a TOC and the seven IP firmware files, with
// correct headers and pattern payloads). Kernels execute as their host twins.
//
// Every model records protocol violations on the shared register file:
// CheckNoViolations() reports them all.
//
// Lifecycle across processes (the chip outlives the driver that opened it):
// a Mode1Reset message to the SMU resets the whole chip (Mode1Reset()
// below), and LeaveRunningByOtherDriver() makes the state a kernel driver
// (amdgpu) or a crashed process leaves behind. The EmulatedKernelIo must outlive
// this object; destroying it stops the engine threads first.
#ifndef UOP_DRIVERS_AM_EMULATOR_EMULATED_NAVI31_H_
#define UOP_DRIVERS_AM_EMULATOR_EMULATED_NAVI31_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drivers/am/emulator/discovery_table.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/emulator/gfx/mec_model.h"
#include "drivers/am/emulator/gmc_ih_model.h"
#include "drivers/am/emulator/nbio_model.h"
#include "drivers/am/emulator/psp_model.h"
#include "drivers/am/emulator/sdma/sdma_model.h"
#include "drivers/am/emulator/smu/smu_model.h"
#include "drivers/am/emulator/vfio_model.h"
#include "drivers/am/emulator/vm_walker.h"
#include "drivers/common/emulated_kernel_io.h"

namespace uop {

struct EmulatedNavi31Config {
  std::string bdf = "0000:03:00.0";
  uint64_t vram_size = uint64_t{1} << 30;  // sparse: untouched VRAM costs nothing
  std::string firmware_dir = "/lib/firmware/amdgpu";
  absl::Duration packet_latency = absl::ZeroDuration();
  EmulatedSmuConfig smu;  // e.g. a PMFW that never starts
  // Bound to vfio-pci: /dev/vfio/<group> serves the function, and the
  // engines reach host pages (SYSTEM PTEs) through the emulated IOMMU.
  bool vfio = false;
  // The chip the discovery table and PCI device id present (its IP versions
  // and GC info table). The device models and firmware files stay Navi31's:
  // the AM bring-up refuses the others right after discovery.
  EmuChip chip = Navi31Chip();
};

class EmulatedNavi31 {
 public:
  static absl::StatusOr<std::unique_ptr<EmulatedNavi31>> Install(EmulatedKernelIo& io,
                                                                 EmulatedNavi31Config config = {});
  ~EmulatedNavi31();

  EmulatedPciGpu& gpu() { return *gpu_; }
  EmulatedGmcIh& gmc_ih() { return *gmc_ih_; }
  EmulatedPsp& psp() { return *psp_; }
  EmulatedSmu& smu() { return *smu_; }
  EmulatedNbio& nbio() { return *nbio_; }
  EmulatedMec& mec() { return *mec_; }
  EmulatedSdma& sdma() { return *sdma_; }
  // Null unless installed with `vfio`.
  EmulatedVfio* vfio() { return vfio_.get(); }

  // Every violation any model recorded (they share the register file).
  absl::Status CheckNoViolations() const;
  // Interrupt vectors written to the IH ring, and those dropped (ring off
  // or full).
  uint64_t interrupts_raised() const;
  uint64_t interrupts_dropped() const;

  // MODE1 reset of the whole chip, as the SMU's Mode1Reset message does it
  // (the SMU model calls it): every register back to its power-on value
  // (the snapshot taken at Install), the PSP bootloader starting over (sOS
  // not running, no ring, no TMR), the SMU's PMFW restarting with its
  // features off, every MEC queue inactive and the MEC halted, both SDMA
  // engines halted without firmware and their rings off, both hubs' VM
  // contexts and TLBs and the IH ring off. VRAM keeps its contents (a MODE1
  // reset does not clear memory; the IFWI rewrites the discovery table,
  // which is unchanged here). Model histories (the PSP's loads, faults,
  // traps) and violations are kept. Runs inside the SMU's register hook.
  void Mode1Reset();
  int mode1_resets() const { return mode1_resets_; }
  // The state amdgpu (or a process that died without closing the chip)
  // leaves: the sOS running, the chip's other state whatever it was, and no
  // AM marker in the scratch registers.
  void LeaveRunningByOtherDriver();

 private:
  EmulatedNavi31() = default;
  const GpuAddressSpace* SpaceFor(uint32_t vmid);
  void Raise(const IvEntry& iv);

  std::shared_ptr<EmulatedPciGpu> gpu_;
  std::unique_ptr<EmulatedGmcIh> gmc_ih_;
  std::shared_ptr<EmulatedVfio> vfio_;  // outlives the address spaces using its IOMMU
  std::mutex spaces_mu_;
  std::map<uint32_t, std::unique_ptr<EmulatedVmSpace>> spaces_;  // guarded by spaces_mu_
  std::unique_ptr<EmulatedPsp> psp_;
  std::unique_ptr<EmulatedSmu> smu_;
  std::unique_ptr<EmulatedNbio> nbio_;  // routes doorbells to the engines below
  mutable std::mutex ih_mu_;            // serializes the engines' interrupts
  uint64_t raised_ = 0, dropped_ = 0;
  std::vector<uint32_t> power_on_;  // every register dword at Install
  int mode1_resets_ = 0;
  // Engines last: destroyed first, so their threads stop before the models
  // and address spaces they use.
  std::unique_ptr<EmulatedMec> mec_;
  std::unique_ptr<EmulatedSdma> sdma_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_EMULATED_NAVI31_H_
