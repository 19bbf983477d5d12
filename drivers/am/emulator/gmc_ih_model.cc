#include "drivers/am/emulator/gmc_ih_model.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "drivers/am/pci/gmc.h"
#include "drivers/am/pci/ip_discovery.h"

namespace uop {
namespace {

constexpr uint64_t kMaxGartPtes = 1 << 22;  // 16 GiB of GART: plenty for a model
constexpr uint64_t kMaxTableEntries = 1 << 22;
constexpr size_t kMaxTablesPerView = 1 << 16;                // 128 GiB of 4 KiB pages
constexpr uint64_t kPdeAddressMask = 0x0000FFFFFFFFFFC0ull;  // PDE bits 47:6
constexpr uint64_t kPdeIsPte = 1ull << 54;                   // AMDGPU_PDE_PTE

}  // namespace

std::array<uint32_t, 8> EmulatedGmcIh::EncodeIvEntry(const IvEntry& e) {
  std::array<uint32_t, 8> dw{};
  dw[0] = e.client_id | (e.src_id << 8) | (e.ring_id << 16) | ((e.vmid & 0xFu) << 24) |
          (e.vmid_type ? 1u << 31 : 0);
  dw[1] = static_cast<uint32_t>(e.timestamp);
  dw[2] = static_cast<uint32_t>(e.timestamp >> 32) & 0xFFFF;
  if (e.timestamp_src) dw[2] |= 1u << 31;
  dw[3] = e.pasid | (e.node_id << 16);
  for (int i = 0; i < 4; ++i) dw[4 + i] = e.src_data[i];
  return dw;
}

absl::StatusOr<std::unique_ptr<EmulatedGmcIh>> EmulatedGmcIh::Attach(EmulatedPciGpu& gpu,
                                                                     EmulatedGmcIhConfig config) {
  absl::StatusOr<IpDiscoveryTable> table = ParseIpDiscovery(gpu.config().discovery);
  if (!table.ok()) return table.status();
  absl::StatusOr<AmRegisterMap> map = AmRegisterMap::Create(*table);
  if (!map.ok()) return map.status();
  std::unique_ptr<EmulatedGmcIh> m(new EmulatedGmcIh(gpu, std::move(*map), config));
  m->hubs_[0].regs = &kMmhub300Regs;
  m->hubs_[1].regs = &kGcHub1100Regs;
  for (Hub& h : m->hubs_) m->AttachHub(h);

  EmulatedGmcIh* self = m.get();
  EmulatedRegisterFile& rf = m->regs_;
  rf.OnWrite(static_cast<uint32_t>(AmGmc::kHdpFlushRemap / 4),
             [self](uint32_t) { self->OnHdpFlush(); });
  const AmIhRegs& ih = kOsssys600Regs;
  rf.OnWrite(m->map_.Dword(ih.rb_cntl), [self](uint32_t v) { self->OnIhCntl(v); });
  rf.OnWrite(m->map_.Dword(ih.rb_rptr), [self](uint32_t v) {
    if ((v & ~am_field::kIhOffsetMask) != 0) {
      self->regs_.Violation(absl::StrFormat("IH_RB_RPTR written 0x%x: not a byte offset", v));
    }
  });
  return m;
}

void EmulatedGmcIh::AttachHub(Hub& h) {
  const AmVmHubRegs& r = *h.regs;
  const uint64_t top = config_.fb_base + gpu_.config().vram_size - 1;
  regs_.Set(map_.Dword(r.fb_location_base), static_cast<uint32_t>(config_.fb_base >> 24));
  regs_.Set(map_.Dword(r.fb_location_top), static_cast<uint32_t>(top >> 24));
  regs_.Set(map_.Dword(r.fb_offset), 0);
  regs_.Set(map_.Dword(r.inv_sem), 0);
  Hub* hp = &h;
  regs_.OnWrite(map_.Dword(r.ctx0_cntl), [this, hp](uint32_t v) { OnContextCntl(*hp, v); });
  for (int vmid = 1; vmid < 16; ++vmid) {
    regs_.OnWrite(map_.Dword(AmVmContextRegsOf(r, vmid).cntl),
                  [this, hp, vmid](uint32_t v) { OnVmContextCntl(*hp, vmid, v); });
  }
  if (r.use_semaphore) {
    regs_.OnRead(map_.Dword(r.inv_sem), [hp](uint32_t) -> uint32_t {
      if (hp->sem_held) return 0;
      hp->sem_held = true;
      return 1;
    });
    regs_.OnWrite(map_.Dword(r.inv_sem), [this, hp](uint32_t v) {
      if ((v & 1) != 0) return;
      if (!hp->sem_held) {
        regs_.Violation(
            absl::StrFormat("%s: ENG17 semaphore released but never taken", hp->regs->hub));
      } else if (hp->unwaited) {
        regs_.Violation(
            absl::StrFormat("%s: ENG17 semaphore released before the invalidation was acknowledged",
                            hp->regs->hub));
      }
      hp->sem_held = false;
    });
  }
  regs_.OnWrite(map_.Dword(r.inv_req), [this, hp](uint32_t v) {
    const char* hub = hp->regs->hub;
    if (hp->regs->use_semaphore && !hp->sem_held) {
      regs_.Violation(
          absl::StrFormat("%s: invalidation requested without the ENG17 semaphore", hub));
    }
    if (hp->unwaited) {
      regs_.Violation(absl::StrFormat(
          "%s: invalidation requested while the previous one was never waited for", hub));
    }
    if ((v & am_field::kInvAllLevels) != am_field::kInvAllLevels) {
      regs_.Violation(absl::StrFormat(
          "%s: ENG17_REQ 0x%08x does not invalidate every level (L2 PTEs, PDE0-2, L1)", hub, v));
    }
    hp->pending = v & 0xFFFF;
    hp->ack &= ~hp->pending;
    hp->unwaited = hp->pending != 0;
    hp->ack_reads = 0;
  });
  regs_.OnRead(map_.Dword(r.inv_ack), [this, hp](uint32_t) -> uint32_t {
    if (hp->pending != 0 && !config_.never_ack && ++hp->ack_reads >= config_.ack_after_reads) {
      hp->ack |= hp->pending;
      // The TLB refetches what the GPU sees, for the VMIDs requested.
      if ((hp->pending & 1) != 0) hp->tlb = hp->hdp_view;
      {
        std::lock_guard<std::mutex> lock(vm_mu_);
        for (int vmid = 0; vmid < 16; ++vmid) {
          if ((hp->pending >> vmid) & 1) hp->tlb_vm[vmid] = hp->hdp_vm[vmid];
        }
      }
      hp->pending = 0;
      ++hp->invalidations;
    }
    if (hp->unwaited && hp->pending == 0) hp->unwaited = false;  // the driver saw the ACK
    return hp->ack;
  });
}

void EmulatedGmcIh::OnContextCntl(Hub& h, uint32_t v) {
  const AmVmHubRegs& r = *h.regs;
  const bool enable = (v & am_field::kCtxEnable) != 0;
  if (enable && !h.enabled) {
    auto need = [&](bool ok, const char* what) {
      if (!ok) {
        regs_.Violation(absl::StrFormat("%s: CONTEXT0_CNTL enabled before %s", r.hub, what));
      }
    };
    need(Written(r.ctx0_base_lo) && Written(r.ctx0_base_hi),
         "the page table base (BASE_ADDR_LO32/HI32) was set");
    need((R(r.ctx0_base_lo) & kPteValid) != 0, "the page table base had its valid bit");
    need(Written(r.ctx0_start_lo) && Written(r.ctx0_end_lo), "START/END_ADDR were set");
    const uint64_t start = R(r.ctx0_start_lo) | (uint64_t{R(r.ctx0_start_hi) & 0xF} << 32);
    const uint64_t end = R(r.ctx0_end_lo) | (uint64_t{R(r.ctx0_end_hi) & 0xF} << 32);
    need(start <= end && end - start < kMaxGartPtes, "a START <= END range");
    const uint64_t fb_lo = uint64_t{R(r.fb_location_base) & 0xFFFFFF} << 24;
    const uint64_t fb_hi = (uint64_t{R(r.fb_location_top) & 0xFFFFFF} << 24) | 0xFFFFFF;
    need(R(r.sys_aperture_low) == (fb_lo >> 18) && R(r.sys_aperture_high) == (fb_hi >> 18),
         "the system aperture covered the FB location");
    need((R(r.l1_tlb_cntl) & am_field::kL1TlbEnable) != 0, "the L1 TLB was enabled");
    need((R(r.l2_cntl) & am_field::kL2EnableCache) != 0, "the L2 cache was enabled");
    need(((v >> am_field::kCtxDepthShift) & 3) == 0, "depth 0 (the GART is a flat table)");
  }
  h.enabled = enable;
  std::lock_guard<std::mutex> lock(vm_mu_);
  h.ctx_enabled[0] = enable;
}

void EmulatedGmcIh::OnVmContextCntl(Hub& h, int vmid, uint32_t v) {
  const AmVmHubRegs& hub = *h.regs;
  const AmVmContextRegs r = AmVmContextRegsOf(hub, vmid);
  const bool enable = (v & am_field::kCtxEnable) != 0;
  bool was_enabled;
  {
    std::lock_guard<std::mutex> lock(vm_mu_);
    was_enabled = h.ctx_enabled[vmid];
  }
  if (enable && !was_enabled) {
    auto need = [&](bool ok, const char* what) {
      if (!ok) {
        regs_.Violation(
            absl::StrFormat("%s: CONTEXT%d_CNTL enabled before %s", hub.hub, vmid, what));
      }
    };
    need(Written(r.base_lo) && Written(r.base_hi),
         "the page table base (BASE_ADDR_LO32/HI32) was set");
    need((R(r.base_lo) & kPteValid) != 0, "the page table base had its valid bit");
    need(Written(r.start_lo) && Written(r.start_hi) && Written(r.end_lo) && Written(r.end_hi),
         "START/END_ADDR were set");
    const uint64_t start = R(r.start_lo) | (uint64_t{R(r.start_hi) & 0xF} << 32);
    const uint64_t end = R(r.end_lo) | (uint64_t{R(r.end_hi) & 0xF} << 32);
    need(start <= end, "a START <= END range");
    need((R(hub.l1_tlb_cntl) & am_field::kL1TlbEnable) != 0, "the L1 TLB was enabled");
    need((R(hub.l2_cntl) & am_field::kL2EnableCache) != 0, "the L2 cache was enabled");
    need(((v >> am_field::kCtxBlockSizeShift) & 0xF) <= 9, "a PAGE_TABLE_BLOCK_SIZE of at most 9");
  }
  std::lock_guard<std::mutex> lock(vm_mu_);
  h.ctx_enabled[vmid] = enable;
}

std::shared_ptr<const EmulatedVmView> EmulatedGmcIh::SnapshotContext(const Hub& h, int vmid) const {
  const AmVmContextRegs r = AmVmContextRegsOf(*h.regs, vmid);
  if (!Written(r.base_lo)) return nullptr;
  auto view = std::make_shared<EmulatedVmView>();
  view->cntl = R(r.cntl);
  view->base = R(r.base_lo) | (uint64_t{R(r.base_hi)} << 32);
  view->start_page = R(r.start_lo) | (uint64_t{R(r.start_hi) & 0xF} << 32);
  view->end_page = R(r.end_lo) | (uint64_t{R(r.end_hi) & 0xF} << 32);
  view->fb_offset = uint64_t{R(h.regs->fb_offset) & 0xFFFFFF} << 24;
  if ((view->base & kPteValid) == 0 || view->end_page < view->start_page) return view;
  const uint64_t vram = gpu_.config().vram_size;
  // Depth-first over the tables reachable from BASE, each copied once.
  std::vector<std::pair<int, uint64_t>> todo = {{0, view->base & kPdeAddressMask}};
  while (!todo.empty() && view->tables.size() < kMaxTablesPerView) {
    const auto [level, addr] = todo.back();
    todo.pop_back();
    const uint64_t n = view->entries(level);
    if (addr < view->fb_offset) continue;
    const uint64_t pa = addr - view->fb_offset;
    if (n > kMaxTableEntries || pa >= vram || n * 8 > vram - pa || view->tables.count(pa)) continue;
    std::vector<uint64_t>& t = view->tables[pa];
    t.resize(n);
    gpu_.ReadVram(pa, absl::MakeSpan(reinterpret_cast<uint8_t*>(t.data()), n * 8));
    if (level == view->depth()) continue;
    for (uint64_t e : t) {
      if ((e & kPteValid) != 0 && (e & kPdeIsPte) == 0)
        todo.push_back({level + 1, e & kPdeAddressMask});
    }
  }
  return view;
}

EmulatedGmcIh::VmTlb EmulatedGmcIh::TlbOf(const AmVmHubRegs& hub, int vmid) const {
  if (vmid < 0 || vmid > 15) return {};
  const Hub& h = HubOf(hub);
  std::lock_guard<std::mutex> lock(vm_mu_);
  return VmTlb{h.ctx_enabled[vmid], h.tlb_vm[vmid]};
}

void EmulatedGmcIh::OnHdpFlush() {
  const uint32_t remap = R(kNbio430RemapHdpMemFlushCntl);
  if (remap != AmGmc::kHdpFlushRemap) {
    regs_.Violation(absl::StrFormat(
        "HDP flush written to the MMIO remap page while NBIO's REMAP_HDP_MEM_FLUSH_CNTL is 0x%x",
        remap));
    return;
  }
  ++hdp_flushes_;
  for (Hub& h : hubs_) {
    const AmVmHubRegs& r = *h.regs;
    const uint64_t base =
        (R(r.ctx0_base_lo) | (uint64_t{R(r.ctx0_base_hi)} << 32)) & kPteAddressMask;
    const uint64_t start = R(r.ctx0_start_lo) | (uint64_t{R(r.ctx0_start_hi) & 0xF} << 32);
    const uint64_t end = R(r.ctx0_end_lo) | (uint64_t{R(r.ctx0_end_hi) & 0xF} << 32);
    if (end < start || end - start >= kMaxGartPtes ||
        base + (end - start + 1) * 8 > gpu_.config().vram_size) {
      h.hdp_view.clear();
      continue;
    }
    h.hdp_view.resize(end - start + 1);
    h.tlb_start = start;
    gpu_.ReadVram(
        base, absl::MakeSpan(reinterpret_cast<uint8_t*>(h.hdp_view.data()), h.hdp_view.size() * 8));
  }
  for (Hub& h : hubs_) {
    for (int vmid = 0; vmid < 16; ++vmid) h.hdp_vm[vmid] = SnapshotContext(h, vmid);
  }
}

absl::StatusOr<uint64_t> EmulatedGmcIh::TranslateGart(const AmVmHubRegs& hub, uint64_t va) const {
  const Hub& h = HubOf(hub);
  if (!h.enabled) {
    return absl::FailedPreconditionError(absl::StrCat(hub.hub, ": context 0 is not enabled"));
  }
  const uint64_t page = va >> 12;
  if (page < h.tlb_start || page - h.tlb_start >= h.tlb.size()) {
    return absl::OutOfRangeError(
        absl::StrFormat("%s: VA 0x%x is outside the GART the TLB holds", hub.hub, va));
  }
  const uint64_t pte = h.tlb[page - h.tlb_start];
  if ((pte & kPteValid) == 0) {
    return absl::NotFoundError(absl::StrFormat("%s: VA 0x%x: invalid PTE 0x%x", hub.hub, va, pte));
  }
  return (pte & kPteAddressMask) + (va & 0xFFF);
}

int EmulatedGmcIh::invalidations(const AmVmHubRegs& hub) const { return HubOf(hub).invalidations; }

EmulatedGmcIh::Hub& EmulatedGmcIh::HubOf(const AmVmHubRegs& regs) {
  return &regs == &kMmhub300Regs ? hubs_[0] : hubs_[1];
}
const EmulatedGmcIh::Hub& EmulatedGmcIh::HubOf(const AmVmHubRegs& regs) const {
  return &regs == &kMmhub300Regs ? hubs_[0] : hubs_[1];
}

void EmulatedGmcIh::FinishChecks() {
  for (Hub& h : hubs_) {
    if (h.unwaited) {
      regs_.Violation(
          absl::StrFormat("%s: an invalidation request was never waited for", h.regs->hub));
    }
    if (h.sem_held) regs_.Violation(absl::StrFormat("%s: ENG17 semaphore left held", h.regs->hub));
  }
}

void EmulatedGmcIh::OnIhCntl(uint32_t v) {
  using namespace am_field;
  const AmIhRegs& r = kOsssys600Regs;
  const bool enable = (v & kIhRbEnable) != 0;
  if ((v & kIhWptrOverflowClear) != 0) {
    // The driver acknowledged an overflow: RB_OVERFLOW drops.
    const uint32_t w = map_.Dword(r.rb_wptr);
    regs_.Set(w, regs_.Get(w) & ~kIhRbOverflow);
  }
  if (enable && !ih_enabled_) {
    auto need = [&](bool ok, const char* what) {
      if (!ok) regs_.Violation(absl::StrFormat("IH: RB_ENABLE set before %s", what));
    };
    need(Written(r.rb_base) && Written(r.rb_base_hi), "IH_RB_BASE/BASE_HI were set");
    need((v & kIhWptrWritebackEnable) == 0 || (Written(r.wptr_addr_lo) && Written(r.wptr_addr_hi)),
         "the write-pointer writeback address was set");
    need(Written(r.rb_wptr) && Written(r.rb_rptr), "IH_RB_WPTR/RPTR were zeroed");
    const uint32_t log2_dwords = (v >> kIhRbSizeShift) & 0x1F;
    need(log2_dwords >= 10 && log2_dwords <= 16, "a ring size of 4-256 KiB");
    ih_wptr_ = 0;
  }
  ih_enabled_ = enable;
}

void EmulatedGmcIh::ChipReset() {
  std::lock_guard<std::mutex> lock(vm_mu_);
  for (Hub& h : hubs_) {
    h.sem_held = false;
    h.pending = 0;
    h.unwaited = false;
    h.ack_reads = 0;
    h.ack = 0;
    h.enabled = false;
    h.hdp_view.clear();
    h.tlb.clear();
    h.tlb_start = 0;
    h.hdp_vm = {};
    h.tlb_vm = {};
    h.ctx_enabled = {};
  }
  ih_enabled_ = false;
  ih_wptr_ = 0;
}

absl::Status EmulatedGmcIh::InjectInterrupt(const IvEntry& entry) {
  using namespace am_field;
  const AmIhRegs& r = kOsssys600Regs;
  const uint32_t cntl = R(r.rb_cntl);
  if (!ih_enabled_ || (cntl & kIhEnableIntr) == 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("IH: interrupt dropped: RB_CNTL is 0x%08x (ring or interrupts off)", cntl));
  }
  const uint32_t ring_bytes = 4u << ((cntl >> kIhRbSizeShift) & 0x1F);
  const uint64_t ring_mc = (uint64_t{R(r.rb_base)} << 8) | (uint64_t{R(r.rb_base_hi) & 0xFF} << 40);
  if (ring_mc < config_.fb_base ||
      ring_mc - config_.fb_base + ring_bytes > gpu_.config().vram_size) {
    return absl::FailedPreconditionError(
        absl::StrFormat("IH: the ring at MC 0x%x is not in VRAM", ring_mc));
  }
  const uint64_t ring = ring_mc - config_.fb_base;
  const uint32_t rptr = R(r.rb_rptr) & kIhOffsetMask;
  uint32_t wreg = ih_wptr_;
  if (((ih_wptr_ + kIvEntryBytes) & (ring_bytes - 1)) == rptr) {
    if ((cntl & kIhWptrOverflowEnable) != 0) wreg |= kIhRbOverflow;
  } else {
    const std::array<uint32_t, 8> dw = EncodeIvEntry(entry);
    gpu_.WriteVram(ring + ih_wptr_,
                   absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(dw.data()), sizeof(dw)));
    ih_wptr_ = (ih_wptr_ + kIvEntryBytes) & (ring_bytes - 1);
    wreg = ih_wptr_ | (R(r.rb_wptr) & kIhRbOverflow);
  }
  regs_.Set(map_.Dword(r.rb_wptr), wreg);
  if ((cntl & kIhWptrWritebackEnable) != 0) {
    const uint64_t wb_mc = (R(r.wptr_addr_lo) & ~3u) | (uint64_t{R(r.wptr_addr_hi) & 0xFFFF} << 32);
    if (wb_mc < config_.fb_base || wb_mc - config_.fb_base + 4 > gpu_.config().vram_size) {
      return absl::FailedPreconditionError(
          absl::StrFormat("IH: the write-pointer writeback MC 0x%x is not in VRAM", wb_mc));
    }
    gpu_.WriteVram(wb_mc - config_.fb_base,
                   absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(&wreg), 4));
  }
  if ((wreg & kIhRbOverflow) != 0) {
    return absl::ResourceExhaustedError("IH: ring full, interrupt dropped (RB_OVERFLOW set)");
  }
  return absl::OkStatus();
}

}  // namespace uop
