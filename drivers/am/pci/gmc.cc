#include "drivers/am/pci/gmc.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kFbUnit = 1 << 24;           // FB_LOCATION_* units
constexpr uint64_t kApertureShift = 18;         // SYSTEM_APERTURE_* units
constexpr uint64_t kMcMask = (1ull << 48) - 1;  // GC 11: 48-bit MC addresses

// Context 0's register name with "CONTEXT0" replaced by "CONTEXT<vmid>".
std::string ContextName(const char* ctx0_name, int vmid) {
  std::string n = ctx0_name;
  const size_t at = n.find("CONTEXT0");
  if (at != std::string::npos) n.replace(at, 8, "CONTEXT" + std::to_string(vmid));
  return n;
}

}  // namespace

AmVmContextRegs AmVmContextRegsOf(const AmVmHubRegs& hub, int vmid) {
  vmid = std::clamp(vmid, 0, 15);
  // Names live as long as the process (AmReg holds a const char*).
  static const auto* const names = [] {
    auto* n = new std::array<std::array<std::string, 7>, 32>;
    int i = 0;
    for (const AmVmHubRegs* h : {&kMmhub300Regs, &kGcHub1100Regs}) {
      for (int v = 0; v < 16; ++v, ++i) {
        (*n)[i] = {ContextName(h->ctx0_cntl.name, v),     ContextName(h->ctx0_base_lo.name, v),
                   ContextName(h->ctx0_base_hi.name, v),  ContextName(h->ctx0_start_lo.name, v),
                   ContextName(h->ctx0_start_hi.name, v), ContextName(h->ctx0_end_lo.name, v),
                   ContextName(h->ctx0_end_hi.name, v)};
      }
    }
    return n;
  }();
  const auto& name = (*names)[(&hub == &kMmhub300Regs ? 0 : 16) + vmid];
  auto at = [&](const AmReg& r, int k, uint32_t distance) {
    return AmReg{name[k].c_str(), r.hw_id, r.segment, r.offset + distance * vmid};
  };
  return AmVmContextRegs{at(hub.ctx0_cntl, 0, 1),     at(hub.ctx0_base_lo, 1, 2),
                         at(hub.ctx0_base_hi, 2, 2),  at(hub.ctx0_start_lo, 3, 2),
                         at(hub.ctx0_start_hi, 4, 2), at(hub.ctx0_end_lo, 5, 2),
                         at(hub.ctx0_end_hi, 6, 2)};
}

absl::StatusOr<std::unique_ptr<AmGmc>> AmGmc::Create(const AmRegisterIo& regs,
                                                     const MmioRegion& vram, uint64_t vram_size,
                                                     AmVramArena& arena, AmGmcConfig config) {
  if (config.gart_size == 0 || config.gart_size % kPage != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("GART size %u is not a whole number of 4 KiB pages", config.gart_size));
  }
  std::unique_ptr<AmGmc> g(new AmGmc(regs, vram, config));
  g->vram_size_ = vram_size;
  const AmVmHubRegs& mm = kMmhub300Regs;
  ASSIGN_OR_RETURN(uint32_t base, regs.Read(mm.fb_location_base));
  ASSIGN_OR_RETURN(uint32_t top, regs.Read(mm.fb_location_top));
  ASSIGN_OR_RETURN(uint32_t offset, regs.Read(mm.fb_offset));
  g->fb_base_ = (base & 0xFFFFFFu) * kFbUnit;
  g->fb_top_ = (top & 0xFFFFFFu) * kFbUnit + kFbUnit - 1;
  g->fb_offset_ = (offset & 0xFFFFFFu) * kFbUnit;
  if (g->fb_top_ < g->fb_base_ || g->fb_top_ - g->fb_base_ + 1 < vram_size) {
    return absl::DataLossError(absl::StrFormat(
        "MMMC_VM_FB_LOCATION is [0x%x, 0x%x]: it does not hold the %u bytes of VRAM "
        "RCC_CONFIG_MEMSIZE reports (firmware did not set up the memory controller?)",
        g->fb_base_, g->fb_top_, vram_size));
  }
  // GART placement (amdgpu_gmc_gart_location, best fit).
  if (g->fb_base_ >= config.gart_size) {
    g->gart_start_ = 0;
  } else {
    constexpr uint64_t k4G = 1ull << 32;
    g->gart_start_ = (g->fb_top_ + k4G) & ~(k4G - 1);
    if (g->gart_start_ + config.gart_size - 1 > kMcMask) {
      return absl::ResourceExhaustedError("no room for the GART in the 48-bit MC address space");
    }
  }
  const uint64_t table_bytes = config.gart_size / kPage * 8;
  ASSIGN_OR_RETURN(g->gart_table_, arena.Allocate(table_bytes, kPage, "the GART page table"));
  ASSIGN_OR_RETURN(g->scratch_page_,
                   arena.Allocate(kPage, kPage, "the system-aperture scratch page"));
  ASSIGN_OR_RETURN(g->dummy_page_, arena.Allocate(kPage, kPage, "the protection-fault dummy page"));
  // Zeroed table: every GART page invalid until mapped.
  std::vector<uint8_t> zeros(64 << 10, 0);
  for (uint64_t at = 0; at < table_bytes; at += zeros.size()) {
    const uint64_t n = std::min<uint64_t>(zeros.size(), table_bytes - at);
    RETURN_IF_ERROR(vram.WriteBlock(g->gart_table_ + at, absl::MakeConstSpan(zeros).first(n)));
  }
  return g;
}

absl::Status AmGmc::InitHub(const AmVmHubRegs& h) {
  using namespace am_field;
  // AGP aperture off (bottom above top).
  RETURN_IF_ERROR(regs_.Write(h.agp_base, 0));
  RETURN_IF_ERROR(regs_.Write(h.agp_bot, 0xFFFFFF));
  RETURN_IF_ERROR(regs_.Write(h.agp_top, 0));
  // System aperture: VRAM, physically addressed.
  RETURN_IF_ERROR(
      regs_.Write(h.sys_aperture_low, static_cast<uint32_t>(fb_base_ >> kApertureShift)));
  RETURN_IF_ERROR(
      regs_.Write(h.sys_aperture_high, static_cast<uint32_t>(fb_top_ >> kApertureShift)));
  RETURN_IF_ERROR(regs_.WritePair(h.sys_aperture_default_lsb, h.sys_aperture_default_msb,
                                  (scratch_page_ + fb_offset_) >> 12));
  RETURN_IF_ERROR(
      regs_.WritePair(h.fault_default_lo, h.fault_default_hi, (dummy_page_ + fb_offset_) >> 12));
  // L1 TLB and L2 cache.
  RETURN_IF_ERROR(regs_.Update(h.l1_tlb_cntl,
                               kL1TlbEnable | (3u << kL1SystemAccessModeShift) |
                                   kL1SystemApertureUnmappedAccess | kL1AdvancedDriverModel |
                                   (7u << kL1MtypeShift),
                               kL1TlbEnable | (3u << kL1SystemAccessModeShift) |
                                   kL1AdvancedDriverModel | (kMtypeUc << kL1MtypeShift)));
  RETURN_IF_ERROR(regs_.Update(
      h.l2_cntl,
      kL2EnableCache | kL2FragmentProcessing | (3u << kL2Context1IdentityAccessModeShift),
      kL2EnableCache | kL2DefaultPageOutToSystemMemory |
          (1u << kL2Context1IdentityAccessModeShift)));
  RETURN_IF_ERROR(regs_.Update(h.l2_cntl2, 0, kL2InvalidateAllL1Tlbs | kL2InvalidateL2Cache));
  // Context 0: the GART, flat. Base/start/end before the enable.
  RETURN_IF_ERROR(regs_.WritePair(h.ctx0_start_lo, h.ctx0_start_hi, gart_start_ >> 12));
  RETURN_IF_ERROR(regs_.WritePair(h.ctx0_end_lo, h.ctx0_end_hi, gart_end() >> 12));
  RETURN_IF_ERROR(
      regs_.WritePair(h.ctx0_base_lo, h.ctx0_base_hi, (gart_table_ + fb_offset_) | kPteValid));
  return regs_.Update(
      h.ctx0_cntl, kCtxEnable | (3u << kCtxDepthShift) | (0xFu << kCtxBlockSizeShift), kCtxEnable);
}

absl::Status AmGmc::Init() {
  // soc21_common_hw_init does this before the GMC: HDP flushes go through
  // the MMIO remap page.
  RETURN_IF_ERROR(regs_.Write(kNbio430RemapHdpMemFlushCntl, static_cast<uint32_t>(kHdpFlushRemap)));
  RETURN_IF_ERROR(InitHub(kMmhub300Regs));
  RETURN_IF_ERROR(InitHub(kGcHub1100Regs));
  return FlushAndInvalidate(0);
}

absl::Status AmGmc::MapGart(uint64_t gart_va, uint64_t vram_pa, uint64_t pages) {
  if (gart_va % kPage != 0 || vram_pa % kPage != 0 || pages == 0 || gart_va < gart_start_ ||
      (gart_va - gart_start_) / kPage + pages > config_.gart_size / kPage ||
      vram_pa + pages * kPage > vram_size_) {
    return absl::OutOfRangeError(absl::StrFormat(
        "GART map of %u pages at VA 0x%x -> VRAM 0x%x: outside the GART [0x%x, 0x%x] or VRAM "
        "(%u bytes), or not page-aligned",
        pages, gart_va, vram_pa, gart_start_, gart_end(), vram_size_));
  }
  std::vector<uint64_t> ptes(pages);
  for (uint64_t i = 0; i < pages; ++i) {
    ptes[i] = ((vram_pa + fb_offset_ + i * kPage) & kPteAddressMask) | kPteValid | kPteReadable |
              kPteWriteable | kPteExecutable | (uint64_t{am_field::kMtypeUc} << kPteMtypeShift);
  }
  const uint64_t at = gart_table_ + (gart_va - gart_start_) / kPage * 8;
  RETURN_IF_ERROR(vram_.WriteBlock(
      at, absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(ptes.data()), pages * 8)));
  // The GPU reads the table through its own path: make the CPU's writes
  // visible (HDP) before the TLBs refetch.
  return FlushAndInvalidate(0);
}

absl::Status AmGmc::FlushHdp() {
  RETURN_IF_ERROR(regs_.bar().Write32(kHdpFlushRemap, 0));
  // Read back: the write is posted; the read returns after it landed.
  return regs_.bar().Read32(kHdpFlushRemap).status();
}

absl::Status AmGmc::WaitFor(const AmVmHubRegs& hub, const AmReg& reg, uint32_t mask, uint32_t want,
                            const char* what) {
  const absl::Time deadline = absl::Now() + config_.wait_timeout;
  uint32_t v = 0;
  while (true) {
    ASSIGN_OR_RETURN(v, regs_.Read(reg));
    if ((v & mask) == want) return absl::OkStatus();
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Microseconds(1));
  }
  return absl::DeadlineExceededError(absl::StrFormat(
      "%s: %s: %s reads 0x%08x after %s (waiting for 0x%x under mask 0x%x)", hub.hub, what,
      reg.name, v, absl::FormatDuration(config_.wait_timeout), want, mask));
}

absl::Status AmGmc::InvalidateTlb(const AmVmHubRegs& hub, int vmid) {
  if (vmid < 0 || vmid > 15) {
    return absl::InvalidArgumentError(absl::StrFormat("VMID %d (0-15)", vmid));
  }
  const uint32_t bit = 1u << vmid;
  std::lock_guard<std::mutex> lock(invalidate_mu_);
  if (hub.use_semaphore) {
    // Reading the semaphore takes it when it reads 1.
    RETURN_IF_ERROR(WaitFor(hub, hub.inv_sem, 1, 1, "the invalidation engine 17 semaphore"));
  }
  RETURN_IF_ERROR(regs_.Write(hub.inv_req, bit | am_field::kInvAllLevels));
  absl::Status acked = WaitFor(hub, hub.inv_ack, bit, bit, "TLB invalidation not acknowledged");
  if (hub.use_semaphore) {
    // Released even after a timeout: a held semaphore blocks every other
    // user of the engine.
    RETURN_IF_ERROR(regs_.Write(hub.inv_sem, 0));
  }
  RETURN_IF_ERROR(acked);
  if (hub.private_inval) {
    RETURN_IF_ERROR(regs_.Update(hub.bank_select_reserved_cid2, 0,
                                 am_field::kReservedCachePrivateInvalidation));
    RETURN_IF_ERROR(regs_.Read(hub.bank_select_reserved_cid2).status());
  }
  return absl::OkStatus();
}

absl::Status AmGmc::FlushAndInvalidate(int vmid) {
  RETURN_IF_ERROR(FlushHdp());
  RETURN_IF_ERROR(InvalidateTlb(kMmhub300Regs, vmid));
  return InvalidateTlb(kGcHub1100Regs, vmid);
}

}  // namespace uop
