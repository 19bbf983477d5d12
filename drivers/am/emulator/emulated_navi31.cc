#include "drivers/am/emulator/emulated_navi31.h"

#include "absl/strings/str_cat.h"
#include "drivers/am/emulator/discovery_table.h"
#include "drivers/am/emulator/ip_firmware_files.h"
#include "drivers/am/emulator/psp_firmware_file.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/ih.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

constexpr uint8_t kClientGrbmCp = 20;  // SOC21_IH_CLIENTID_GRBM_CP
constexpr uint8_t kClientGfx = 10;     // SOC21_IH_CLIENTID_GFX (SDMA 6.0 traps)

}  // namespace

absl::StatusOr<std::unique_ptr<EmulatedNavi31>> EmulatedNavi31::Install(
    EmulatedKernelIo& io, EmulatedNavi31Config config) {
  std::unique_ptr<EmulatedNavi31> chip(new EmulatedNavi31());
  EmulatedPciGpuConfig c;
  c.bdf = config.bdf;
  c.device_id = config.chip.device_id;
  c.vram_size = config.vram_size;
  c.discovery = BuildChipDiscoveryBinary(config.chip);
  ASSIGN_OR_RETURN(chip->gpu_, EmulatedPciGpu::Install(io, c));
  ASSIGN_OR_RETURN(chip->gmc_ih_, EmulatedGmcIh::Attach(*chip->gpu_));
  if (config.vfio) {
    ASSIGN_OR_RETURN(chip->vfio_, EmulatedVfio::Install(io, chip->gpu_));
    // Bound to vfio-pci, as sysfs shows it.
    io.AddFile(chip->gpu_->dir() + "/driver/bind", "");
    io.AddFile(chip->gpu_->dir() + "/uevent",
               "DRIVER=vfio-pci\nPCI_SLOT_NAME=" + config.bdf + "\n");
  }
  ASSIGN_OR_RETURN(chip->psp_, EmulatedPsp::Attach(*chip->gpu_));
  ASSIGN_OR_RETURN(chip->smu_, EmulatedSmu::Attach(*chip->gpu_, config.smu));
  ASSIGN_OR_RETURN(chip->nbio_, EmulatedNbio::Attach(*chip->gpu_));

  EmulatedNavi31* raw = chip.get();
  EmulatedMecConfig mec;
  mec.address_space = [raw](uint32_t vmid) { return raw->SpaceFor(vmid); };
  mec.packet_latency = config.packet_latency;
  mec.doorbell_routed = [raw](uint32_t dword) {
    return raw->nbio_->Route(dword) == EmulatedNbio::Target::kGc;
  };
  mec.on_event = [raw](uint32_t event) {
    IvEntry iv;
    iv.client_id = kClientGrbmCp;
    iv.src_id = am_iv::kSrcCpEndOfPipe;
    iv.src_data[0] = event;
    raw->Raise(iv);
  };
  mec.on_fault = [raw](uint32_t vmid, uint64_t address, const std::string&) {
    IvEntry iv;  // the GC hub's UTCL2 reports a shader/CP fault
    iv.client_id = am_iv::kClientUtcl2;
    iv.vmid = static_cast<uint8_t>(vmid);
    iv.src_data[0] = static_cast<uint32_t>(address >> 12);
    iv.src_data[1] = static_cast<uint32_t>(address >> 44) & 0xF;
    raw->Raise(iv);
  };
  ASSIGN_OR_RETURN(chip->mec_, EmulatedMec::Attach(*chip->gpu_, mec));

  EmulatedSdmaConfig sdma;
  sdma.firmware_loaded = false;  // arrives through the PSP (OnAutoload below)
  sdma.doorbell_routed = [raw](uint32_t dword) {
    return raw->nbio_->Route(dword) == EmulatedNbio::Target::kSdma;
  };
  EmulatedSdma::Hooks hooks;
  hooks.on_trap = [raw](int instance, uint32_t context) {
    IvEntry iv;
    iv.client_id = kClientGfx;
    iv.src_id = am_iv::kSrcSdmaTrap;
    iv.ring_id = static_cast<uint8_t>(instance);
    iv.src_data[0] = context;
    raw->Raise(iv);
  };
  hooks.on_fault = [raw](int, uint64_t address, const std::string&) {
    IvEntry iv;
    iv.client_id = am_iv::kClientUtcl2;
    iv.src_data[0] = static_cast<uint32_t>(address >> 12);
    iv.src_data[1] = static_cast<uint32_t>(address >> 44) & 0xF;
    raw->Raise(iv);
  };
  ASSIGN_OR_RETURN(
      chip->sdma_,
      EmulatedSdma::Attach(
          *chip->gpu_, [raw](uint32_t vmid) { return raw->SpaceFor(vmid); }, sdma, hooks));
  // AUTOLOAD_RLC: the RLC brings the CP up; the SDMA engines got their
  // images from the PSP's LOAD_IP_FW commands before it.
  chip->psp_->OnAutoload([raw] {
    for (const EmulatedPsp::IpFwLoad& l : raw->psp_->ip_fw_loads())
      raw->sdma_->LoadFirmware(l.fw_type);
    raw->mec_->CompleteAutoload();
  });

  // MODE1 reset through the SMU resets every block; the register values
  // the chip powers up with are the ones every model has set by now.
  chip->smu_->OnMode1Reset([raw] { raw->Mode1Reset(); });
  const EmulatedRegisterFile& rf = chip->gpu_->registers();
  chip->power_on_.resize(rf.size() / 4);
  for (size_t i = 0; i < chip->power_on_.size(); ++i)
    chip->power_on_[i] = rf.Get(static_cast<uint32_t>(i));

  io.AddFile(absl::StrCat(config.firmware_dir, "/psp_13_0_0_sos.bin"), [] {
    const std::vector<uint8_t> f =
        BuildPspFirmwareFile(Navi31SosComponents(8192, /*with_toc=*/true));
    return std::string(f.begin(), f.end());
  }());
  InstallIpFirmware(io, config.firmware_dir, Navi31IpFirmware());
  return chip;
}

EmulatedNavi31::~EmulatedNavi31() {
  sdma_.reset();
  mec_.reset();
}

void EmulatedNavi31::Mode1Reset() {
  ++mode1_resets_;
  // Engines first, so nothing they run after this point sees half a reset.
  sdma_->ChipReset();
  mec_->ChipReset();
  psp_->ChipReset();
  gmc_ih_->ChipReset();
  // Whether MODE1 clears NBIO's doorbell aperture and S2A entries on
  // hardware is not documented; modelled as cleared (the driver programs
  // NBIO again on every boot path).
  nbio_->ChipReset();
  EmulatedRegisterFile& rf = gpu_->registers();
  for (size_t i = 0; i < power_on_.size(); ++i) rf.Set(static_cast<uint32_t>(i), power_on_[i]);
}

void EmulatedNavi31::LeaveRunningByOtherDriver() { psp_->SetSosRunning(); }

const GpuAddressSpace* EmulatedNavi31::SpaceFor(uint32_t vmid) {
  if (vmid > 15) return nullptr;
  std::lock_guard<std::mutex> lock(spaces_mu_);
  std::unique_ptr<EmulatedVmSpace>& s = spaces_[vmid];
  // The CP, the shaders and SDMA 6.0 translate through the GC hub.
  if (s == nullptr) {
    s = std::make_unique<EmulatedVmSpace>(*gmc_ih_, kGcHub1100Regs, vmid,
                                          vfio_ != nullptr ? &vfio_->iommu() : nullptr);
  }
  return s.get();
}

void EmulatedNavi31::Raise(const IvEntry& iv) {
  std::lock_guard<std::mutex> lock(ih_mu_);
  if (gmc_ih_->InjectInterrupt(iv).ok()) {
    ++raised_;
    // The vector and the write-pointer writeback are in VRAM before the MSI
    // (InjectInterrupt only succeeds with RB_CNTL.ENABLE_INTR set): a driver
    // woken by the eventfd finds them. Without VFIO or a trigger there is no
    // interrupt delivery, only the ring.
    if (vfio_ != nullptr) vfio_->SignalInterrupt();
  } else {
    ++dropped_;
  }
}

absl::Status EmulatedNavi31::CheckNoViolations() const {
  return gpu_->registers().CheckNoViolations();
}

uint64_t EmulatedNavi31::interrupts_raised() const {
  std::lock_guard<std::mutex> lock(ih_mu_);
  return raised_;
}

uint64_t EmulatedNavi31::interrupts_dropped() const {
  std::lock_guard<std::mutex> lock(ih_mu_);
  return dropped_;
}

}  // namespace uop
