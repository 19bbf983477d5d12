#include "drivers/am/pci/am_pci_gpu.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "drivers/am/pci/am_pci_chip.h"
#include "drivers/am/pci/gfx/gfx_regs.h"
#include "drivers/am/pci/ip_firmware.h"
#include "drivers/am/pci/psp_firmware.h"
#include "drivers/am/pci/sdma/sdma_regs.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

// Each wait of the teardown (a dequeue, an SDMA engine going idle).
constexpr absl::Duration kTeardownTimeout = absl::Milliseconds(100);

// Prefixes a bring-up step's error with the device and the step.
absl::Status Step(const std::string& bdf, const char* step, absl::Status s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat("AM ", bdf, ": ", step, ": ", s.message()));
}

#define UOP_AM_STEP(step, expr)                                                  \
  do {                                                                           \
    absl::Status uop_am_step_status = (expr);                                    \
    if (!uop_am_step_status.ok()) return Step(fn.bdf, step, uop_am_step_status); \
  } while (0)

template <typename T>
absl::Status Take(absl::StatusOr<T> v, T* out) {
  if (!v.ok()) return v.status();
  *out = std::move(*v);
  return absl::OkStatus();
}

}  // namespace

const char* AmBootPathName(AmBootPath path) {
  switch (path) {
    case AmBootPath::kFull:
      return "full";
    case AmBootPath::kResetThenFull:
      return "MODE1 reset, then full";
    case AmBootPath::kPartial:
      return "partial";
  }
  return "?";
}

std::string AmChipState::Describe() const {
  return absl::StrFormat(
      "SCRATCH_REG7 (layout marker) 0x%08X%s, SCRATCH_REG6 (session) %u, sOS %s, MEC %s, GC "
      "fault status 0x%X",
      layout_marker, layout_marker == kAmLayoutMarker ? " (ours)" : "", session,
      sos_alive ? "alive" : "not running", mec_halted ? "halted" : "running", gc_fault_status);
}

absl::StatusOr<std::unique_ptr<AmPciGpu>> AmPciGpu::Open(KernelIo& io, const PciFunction& fn,
                                                         AmPciGpuOptions options) {
  std::unique_ptr<AmPciGpu> gpu(new AmPciGpu());
  // Ownership before the first access: another owner may be mid-way through
  // its own bring-up.
  ASSIGN_OR_RETURN(gpu->lock_, AmDeviceLock::Acquire(io, options.lock_dir, fn.bdf));
  absl::Status s = gpu->BringUp(io, fn, options);
  if (!s.ok()) {
    // What came up is stopped again; the session flag stays set (Close
    // clears it only after a complete bring-up), so the next Open resets.
    (void)gpu->Close();
    return s;
  }
  return gpu;
}

absl::StatusOr<AmChipState> AmPciGpu::ReadChipState() {
  AmChipState st;
  ASSIGN_OR_RETURN(st.layout_marker, regs_->Read(kAmScratchReg7));
  ASSIGN_OR_RETURN(st.session, regs_->Read(kAmScratchReg6));
  ASSIGN_OR_RETURN(uint32_t sos, regs_->Read(kMp01300Regs.c2pmsg_81));
  st.sos_alive = sos != 0;
  ASSIGN_OR_RETURN(uint32_t mec, regs_->Read(kGc1100GfxRegs.mec_rs64_cntl));
  st.mec_halted = (mec & gfx11::kMecHalt) != 0;
  ASSIGN_OR_RETURN(st.gc_fault_status, regs_->Read(kAmGcFaultStatus));
  return st;
}

absl::Status AmPciGpu::ResetChip() {
  RETURN_IF_ERROR(smu_->Mode1Reset());
  // The reset restarted the PSP: its sOS must have stopped (Linux waits for
  // the bootloader afterwards; AmPsp::LoadSos waits for it per stage).
  ASSIGN_OR_RETURN(uint32_t sos, regs_->Read(kMp01300Regs.c2pmsg_81));
  if (sos != 0) {
    return absl::InternalError(absl::StrFormat(
        "MODE1 reset answered but the PSP's sOS still runs (regMP0_SMN_C2PMSG_81 = 0x%08X)", sos));
  }
  return absl::OkStatus();
}

absl::Status AmPciGpu::BringUp(KernelIo& io, const PciFunction& fn,
                               const AmPciGpuOptions& options) {
  if (options.use_vfio) {
    UOP_AM_STEP("VFIO", Take(AmVfio::Open(io, fn.bdf, options.iommu_groups_dir), &vfio_));
    UOP_AM_STEP("PCI BARs", Take(AmPciBars::OpenVfio(io, fn, *vfio_), &bars_));
  } else {
    UOP_AM_STEP("PCI BARs", Take(AmPciBars::Open(io, fn), &bars_));
  }
  UOP_AM_STEP(
      "IP discovery",
      Take(ReadAmDiscovery(bars_->regs(), bars_->vram(), options.ifwi_timeout), &discovery_));
  UOP_AM_STEP("chip", CheckAmPciBringUpSupported(discovery_.ip));
  AmRegisterMap map;
  UOP_AM_STEP("register map", Take(AmRegisterMap::Create(discovery_.ip), &map));
  regs_ = std::make_unique<AmRegisterIo>(bars_->regs(), std::move(map));
  indirect_ = std::make_unique<AmIndirectRegs>(*regs_);
  const uint64_t size = discovery_.vram_size;
  if (size < 2 * kBootArenaBytes) {
    return Step(fn.bdf, "VRAM layout",
                absl::FailedPreconditionError(
                    absl::StrFormat("%u MiB of VRAM is less than the %u MiB the bring-up needs",
                                    size >> 20, (2 * kBootArenaBytes) >> 20)));
  }
  if (bars_->vram().size() < size || bars_->vram().host_base() == nullptr) {
    return Step(fn.bdf, "VRAM layout",
                absl::FailedPreconditionError(absl::StrFormat(
                    "BAR0 maps %u MiB of %u MiB VRAM: the AM path needs all of VRAM behind the "
                    "BAR (enable resizable BAR / write resource0_resize)",
                    bars_->vram().size() >> 20, size >> 20)));
  }
  arena_ = std::make_unique<AmVramArena>(size - kBootArenaBytes, size - kDiscoveryReserve);

  // The boot arena's allocations, in a fixed order whatever the boot path,
  // so a partial boot finds them where the first boot put them (the PSP's
  // buffers and TMR come last, and only on a full boot).
  UOP_AM_STEP("GMC", Take(AmGmc::Create(*regs_, bars_->vram(), size, *arena_), &gmc_));
  UOP_AM_STEP("IH", Take(AmIh::Create(*regs_, bars_->vram(), gmc_->fb_base(), *arena_), &ih_));
  UOP_AM_STEP("SMU", Take(AmSmu::Create(*regs_, *indirect_, *gmc_, *arena_, options.smu), &smu_));

  // What the last owner left.
  UOP_AM_STEP("chip state", Take(ReadChipState(), &found_));
  if (found_.Resumable() && !options.force_reset) {
    boot_path_ = AmBootPath::kPartial;
  } else if (found_.sos_alive) {
    boot_path_ = AmBootPath::kResetThenFull;
    absl::StatusOr<bool> smu_alive = smu_->FirmwareAlive();
    UOP_AM_STEP("MODE1 reset", smu_alive.status());
    if (!*smu_alive) {
      return Step(fn.bdf, "MODE1 reset",
                  absl::FailedPreconditionError(absl::StrCat(
                      "the chip was left running (", found_.Describe(),
                      ") but its SMU firmware does not run, so it cannot be MODE1-reset: reset "
                      "the PCI function (echo 1 > /sys/bus/pci/devices/",
                      fn.bdf, "/reset) or power-cycle")));
    }
    UOP_AM_STEP("MODE1 reset", ResetChip());
  } else {
    boot_path_ = AmBootPath::kFull;
  }
  // From here until a clean Close the chip is not resumable.
  UOP_AM_STEP("session", regs_->Write(kAmScratchReg6, kAmSessionOpen));
  UOP_AM_STEP("session", regs_->Write(kAmScratchReg7, 0));

  // GMC and IH again on every path: no firmware involved, and the IH ring's
  // read/write pointers belong to this process's AmIh.
  UOP_AM_STEP("GMC", gmc_->Init());
  UOP_AM_STEP("IH", ih_->Init());
  // Doorbell aperture and S2A routing (soc21 common hw_init, gfx/sdma
  // doorbell ranges): without them the engines never see a doorbell.
  UOP_AM_STEP("NBIO", Take(AmNbio::Create(*regs_, *indirect_), &nbio_));
  UOP_AM_STEP("NBIO",
              nbio_->Init(AmDoorbellLayout{
                  0, kAmMecDoorbellLastDword, {kAmSdmaDoorbellDword[0], kAmSdmaDoorbellDword[1]}}));
  // The IH raises an MSI per vector (RB_CNTL.ENABLE_INTR); through VFIO it
  // reaches an eventfd the waits sleep on. NBIO's IH control first
  // (nbio_v4_3_ih_control, with a host page as the dummy-read target; here
  // after the ring is on, harmless: no MSI is delivered before EnableMsi).
  // Once per AmVfio.
  // The page lives as long as the AmVfio (which frees it).
  if (vfio_ != nullptr && options.vfio_msi && vfio_->irq_eventfd() < 0) {
    AmDmaBuffer dummy_page;
    UOP_AM_STEP("MSI", Take(vfio_->AllocHost(AmVfio::kPage), &dummy_page));
    UOP_AM_STEP("MSI", nbio_->ConfigureIhInterrupts(dummy_page.iova));
    UOP_AM_STEP("MSI", vfio_->EnableMsi().status());
  }
  if (boot_path_ != AmBootPath::kPartial) RETURN_IF_ERROR(BootFirmware(io, fn, options));

  AmGfxConfig gfx_config;
  gfx_config.doorbell_first = 0;
  gfx_config.doorbell_last = kAmMecDoorbellLastDword;
  UOP_AM_STEP("GFX", Take(AmGfx::Create(*regs_, gfx_config), &gfx_));
  UOP_AM_STEP("GFX", gfx_->Init());
  UOP_AM_STEP("SDMA", Take(AmSdma::Create(*regs_, discovery_.ip, bars_->doorbells()), &sdma_));
  UOP_AM_STEP("SDMA", sdma_->Init());

  UOP_AM_STEP("VRAM allocator",
              Take(AmVramAllocator::Create(kRuntimeVramBegin, size - kBootArenaBytes,
                                           absl::StrCat("VRAM of AM ", fn.bdf)),
                   &vram_allocator_));
  UOP_AM_STEP(
      "VM", Take(AmVm::Create(*regs_, *gmc_, *vram_allocator_, bars_->vram(), options.vmid), &vm_));
  // The boot arena now holds what a partial boot relies on.
  UOP_AM_STEP("session", regs_->Write(kAmScratchReg7, kAmLayoutMarker));
  booted_ = true;
  return absl::OkStatus();
}

// The PSP (sOS, TOC/TMR, every IP image, RLC autoload) and the SMU: what a
// partial boot keeps.
absl::Status AmPciGpu::BootFirmware(KernelIo& io, const PciFunction& fn,
                                    const AmPciGpuOptions& options) {
  // Firmware: the sOS container and the IP images, both named from discovery.
  const IpBlock* mp0 = discovery_.ip.Find(kHwIdMp0);
  if (mp0 == nullptr) {
    return Step(fn.bdf, "PSP", absl::NotFoundError("the discovery table has no MP0 (PSP) block"));
  }
  const std::string sos_path = absl::StrFormat("%s/psp_%d_%d_%d_sos.bin", options.firmware_dir,
                                               mp0->major, mp0->minor, mp0->revision);
  PspFirmware sos;
  UOP_AM_STEP("PSP firmware", Take(ReadPspFirmware(io, sos_path), &sos));
  std::vector<AmIpFirmware> images;
  UOP_AM_STEP("IP firmware",
              Take(ReadAmIpFirmware(io, options.firmware_dir, discovery_.ip), &images));
  UOP_AM_STEP("PSP", Take(AmPsp::Create(*regs_, bars_->vram(), *gmc_, *arena_), &psp_));
  UOP_AM_STEP("PSP", psp_->BringUp(sos, images));
  UOP_AM_STEP("SMU", smu_->Init());
  if (options.max_performance) {
    UOP_AM_STEP("SMU clocks", smu_->SetPerformanceLevel(AmSmuPerfLevel::kHigh).status());
  }
  return absl::OkStatus();
}

AmPciGpu::~AmPciGpu() { (void)Close(); }

absl::Status AmPciGpu::DequeueAllHqds() {
  const AmGfxRegs& R = kGc1100GfxRegs;
  absl::Status result;
  for (uint32_t pipe = 0; pipe < kGfx11MecPipes; ++pipe) {
    for (uint32_t queue = 0; queue < kGfx11QueuesPerPipe; ++queue) {
      const std::string name = absl::StrFormat("ME1/pipe %u/queue %u", pipe, queue);
      absl::Status s =
          regs_->Write(R.grbm_gfx_cntl, gfx11::GrbmGfxCntl(kGfx11MecMe, pipe, queue, 0));
      absl::StatusOr<uint32_t> active = s.ok() ? regs_->Read(R.hqd_active) : s;
      if (!active.ok()) return active.status();  // the device is gone: nothing more to do
      if ((*active & gfx11::kHqdActive) == 0) continue;
      // A queue the interface above left mapped: its waves are reset, as
      // process teardown does (tinygrad's fini, KFD's WAVEFRONT_RESET).
      RETURN_IF_ERROR(regs_->Write(R.dequeue_request, gfx11::kDequeueResetWaves));
      const absl::Time deadline = absl::Now() + kTeardownTimeout;
      for (;;) {
        ASSIGN_OR_RETURN(const uint32_t v, regs_->Read(R.hqd_active));
        if ((v & gfx11::kHqdActive) == 0) break;
        if (absl::Now() > deadline) {
          result.Update(absl::DeadlineExceededError(
              absl::StrFormat("%s still active after dequeue (regCP_HQD_ACTIVE = 0x%X after %s)",
                              name, v, absl::FormatDuration(kTeardownTimeout))));
          break;
        }
        absl::SleepFor(absl::Microseconds(100));
      }
    }
  }
  RETURN_IF_ERROR(regs_->Write(R.grbm_gfx_cntl, 0));
  // Halted, the MEC fetches nothing until the next bring-up starts it.
  RETURN_IF_ERROR(regs_->Update(R.mec_rs64_cntl, gfx11::kMecHalt, gfx11::kMecHalt));
  return result;
}

absl::Status AmPciGpu::StopSdma() {
  using namespace sdma_field;
  absl::Status result;
  for (int i = 0; i < kSdma600Instances; ++i) {
    const AmSdmaRegs& r = kSdma600Regs[i];
    ASSIGN_OR_RETURN(const uint32_t cntl, regs_->Read(r.rb_cntl));
    if ((cntl & kRbEnable) != 0) {
      // sdma_v6_0_gfx_stop's order: the ring, its IBs, then the doorbell.
      RETURN_IF_ERROR(regs_->Write(r.rb_cntl, cntl & ~kRbEnable));
      RETURN_IF_ERROR(regs_->Update(r.ib_cntl, kIbEnable, 0));
      RETURN_IF_ERROR(regs_->Update(r.doorbell, kDoorbellEnable, 0));
      RETURN_IF_ERROR(regs_->Write(r.doorbell_offset, 0));
      const absl::Time deadline = absl::Now() + kTeardownTimeout;
      for (;;) {
        ASSIGN_OR_RETURN(const uint32_t v, regs_->Read(r.status_reg));
        if ((v & kStatusIdle) != 0) break;
        if (absl::Now() > deadline) {
          result.Update(absl::DeadlineExceededError(
              absl::StrFormat("SDMA%d not idle after its ring was stopped (%s = 0x%X after %s)", i,
                              r.status_reg.name, v, absl::FormatDuration(kTeardownTimeout))));
          break;
        }
        absl::SleepFor(absl::Microseconds(100));
      }
    }
    // sdma_v6_0_enable(false): the F32 halted.
    RETURN_IF_ERROR(regs_->Update(r.f32_cntl, kF32Halt, kF32Halt));
  }
  return result;
}

absl::Status AmPciGpu::Close() {
  if (torn_down_) return close_status_;
  torn_down_ = true;
  absl::Status& s = close_status_;
  if (regs_ != nullptr && !reset_) {
    // The engines before the address space they run in.
    if (gfx_ != nullptr && gfx_->initialized())
      s.Update(Step(bdf(), "teardown GFX", DequeueAllHqds()));
    if (sdma_ != nullptr) s.Update(Step(bdf(), "teardown SDMA", StopSdma()));
    // The VM's page tables live in the allocator's VRAM.
    if (vm_ != nullptr) s.Update(Step(bdf(), "teardown VM", vm_->Destroy()));
    // Resumable only when the bring-up completed and everything stopped.
    if (booted_ && s.ok()) s.Update(Step(bdf(), "teardown", regs_->Write(kAmScratchReg6, 0)));
  }
  lock_.reset();
  return s;
}

absl::Status AmPciGpu::Reset() {
  if (torn_down_) return absl::FailedPreconditionError(absl::StrCat("AM ", bdf(), ": closed"));
  if (smu_ == nullptr) return absl::FailedPreconditionError("AM: the SMU was never brought up");
  // The VM's software state writes the chip when it goes (context off, TLB
  // invalidation, HDP flush): that must happen before the reset, never on
  // the reset chip (whose HDP remap is gone). Its error does not stop the
  // reset, which clears the context anyway.
  if (vm_ != nullptr) (void)vm_->Destroy();
  RETURN_IF_ERROR(Step(bdf(), "MODE1 reset", ResetChip()));
  reset_ = true;  // the chip holds nothing of ours: Close only releases the lock
  return absl::OkStatus();
}

uint8_t* AmPciGpu::vram_host() const { return const_cast<uint8_t*>(bars_->vram().host_base()); }

volatile uint64_t* AmPciGpu::doorbell_host(uint32_t dword_index) const {
  return reinterpret_cast<volatile uint64_t*>(bars_->doorbells().host_base() +
                                              uint64_t{dword_index} * 4);
}

}  // namespace uop
