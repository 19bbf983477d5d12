#include "drivers/am/pci/am_pci_gpu.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "drivers/am/pci/ip_firmware.h"
#include "drivers/am/pci/psp_firmware.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

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

absl::StatusOr<std::unique_ptr<AmPciGpu>> AmPciGpu::Open(KernelIo& io, const PciFunction& fn,
                                                         AmPciGpuOptions options) {
  std::unique_ptr<AmPciGpu> gpu(new AmPciGpu());
  RETURN_IF_ERROR(gpu->BringUp(io, fn, options));
  return gpu;
}

absl::Status AmPciGpu::BringUp(KernelIo& io, const PciFunction& fn,
                               const AmPciGpuOptions& options) {
  UOP_AM_STEP("PCI BARs", Take(AmPciBars::Open(io, fn), &bars_));
  UOP_AM_STEP(
      "IP discovery",
      Take(ReadAmDiscovery(bars_->regs(), bars_->vram(), options.ifwi_timeout), &discovery_));
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

  UOP_AM_STEP("GMC", Take(AmGmc::Create(*regs_, bars_->vram(), size, *arena_), &gmc_));
  UOP_AM_STEP("GMC", gmc_->Init());
  UOP_AM_STEP("IH", Take(AmIh::Create(*regs_, bars_->vram(), gmc_->fb_base(), *arena_), &ih_));
  UOP_AM_STEP("IH", ih_->Init());

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

  UOP_AM_STEP("SMU", Take(AmSmu::Create(*regs_, *indirect_, *gmc_, *arena_, options.smu), &smu_));
  UOP_AM_STEP("SMU", smu_->Init());
  if (options.max_performance) {
    UOP_AM_STEP("SMU clocks", smu_->SetPerformanceLevel(AmSmuPerfLevel::kHigh).status());
  }

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
  return absl::OkStatus();
}

AmPciGpu::~AmPciGpu() {
  // The VM first: its page tables live in the allocator's VRAM.
  if (vm_ != nullptr) (void)vm_->Destroy();
}

absl::Status AmPciGpu::Reset() {
  if (smu_ == nullptr) return absl::FailedPreconditionError("AM: the SMU was never brought up");
  return smu_->Mode1Reset();
}

uint8_t* AmPciGpu::vram_host() const { return const_cast<uint8_t*>(bars_->vram().host_base()); }

volatile uint64_t* AmPciGpu::doorbell_host(uint32_t dword_index) const {
  return reinterpret_cast<volatile uint64_t*>(bars_->doorbells().host_base() +
                                              uint64_t{dword_index} * 4);
}

}  // namespace uop
