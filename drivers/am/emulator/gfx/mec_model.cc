#include "drivers/am/emulator/gfx/mec_model.h"

#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "drivers/am/pci/ip_discovery.h"

namespace uop {
namespace {

const AmGfxRegs& R = kGc1100GfxRegs;

// The HQD registers a mapping must write before CP_HQD_ACTIVE = 1.
enum : uint32_t {
  kWrotePqBase = 1u << 0,
  kWrotePqBaseHi = 1u << 1,
  kWrotePqControl = 1u << 2,
  kWroteRptrReport = 1u << 3,
  kWroteWptrPoll = 1u << 4,
  kWroteDoorbell = 1u << 5,
  kWroteAll = (1u << 6) - 1,
};

struct Required {
  const AmReg* reg;
  uint32_t bit;
};
const Required kRequired[] = {
    {&R.pq_base, kWrotePqBase},
    {&R.pq_base_hi, kWrotePqBaseHi},
    {&R.pq_control, kWrotePqControl},
    {&R.pq_rptr_report_addr, kWroteRptrReport},
    {&R.pq_wptr_poll_addr, kWroteWptrPoll},
    {&R.pq_doorbell_control, kWroteDoorbell},
};

std::string HqdRegName(uint32_t offset) {
  const AmReg* named[] = {&R.mqd_base_addr,
                          &R.mqd_base_addr_hi,
                          &R.hqd_active,
                          &R.hqd_vmid,
                          &R.persistent_state,
                          &R.pipe_priority,
                          &R.queue_priority,
                          &R.quantum,
                          &R.pq_base,
                          &R.pq_base_hi,
                          &R.pq_rptr,
                          &R.pq_rptr_report_addr,
                          &R.pq_rptr_report_addr_hi,
                          &R.pq_wptr_poll_addr,
                          &R.pq_wptr_poll_addr_hi,
                          &R.pq_doorbell_control,
                          &R.pq_control,
                          &R.ib_control,
                          &R.dequeue_request,
                          &R.mqd_control,
                          &R.eop_base_addr,
                          &R.eop_base_addr_hi,
                          &R.eop_control,
                          &R.eop_rptr,
                          &R.aql_control,
                          &R.pq_wptr_lo,
                          &R.pq_wptr_hi};
  for (const AmReg* r : named)
    if (r->offset == offset) return r->name;
  return absl::StrFormat("HQD register 0x%x", offset);
}

std::string QueueName(EmulatedMec::QueueId q) {
  return absl::StrFormat("ME1/pipe %u/queue %u", q.pipe, q.queue);
}

uint32_t Idx(const AmReg& r) { return r.offset - kHqdFirstOffset; }

}  // namespace

EmulatedMec::EmulatedMec(EmulatedPciGpu& gpu, AmRegisterMap map, EmulatedMecConfig config)
    : gpu_(gpu), regs_(gpu.registers()), map_(std::move(map)), config_(std::move(config)) {}

absl::StatusOr<std::unique_ptr<EmulatedMec>> EmulatedMec::Attach(EmulatedPciGpu& gpu,
                                                                 EmulatedMecConfig config) {
  if (!config.address_space) {
    return absl::InvalidArgumentError("EmulatedMec needs an address space factory");
  }
  absl::StatusOr<IpDiscoveryTable> table = ParseIpDiscovery(gpu.config().discovery);
  if (!table.ok()) return table.status();
  absl::StatusOr<AmRegisterMap> map = AmRegisterMap::Create(*table);
  if (!map.ok()) return map.status();
  // COMPUTE_TMPRING_SIZE.WAVES counts per shader engine on gfx11: the
  // engine count is the chip's, from its GC info table.
  if (!table->gc_info.has_value()) {
    return absl::FailedPreconditionError(
        "EmulatedMec: the discovery binary has no GC info table (shader engine count)");
  }
  const uint32_t shader_engines = table->gc_info->num_se;
  std::unique_ptr<EmulatedMec> m(new EmulatedMec(gpu, std::move(*map), std::move(config)));
  m->shader_engines_ = shader_engines;
  EmulatedMec* self = m.get();
  EmulatedRegisterFile& rf = m->regs_;
  rf.Set(m->D(R.mec_rs64_cntl), gfx11::kMecHalt);
  rf.OnWrite(m->D(R.grbm_gfx_cntl), [self](uint32_t v) {
    std::lock_guard<std::mutex> lock(self->mu_);
    self->grbm_ = v;
  });
  rf.OnWrite(m->D(R.mec_rs64_cntl), [self](uint32_t v) {
    std::lock_guard<std::mutex> lock(self->mu_);
    self->mec_cntl_ = v;
  });
  for (int hi = 0; hi < 2; ++hi) {
    rf.OnWrite(m->D(hi ? R.mec_rs64_pc_start_hi : R.mec_rs64_pc_start), [self, hi](uint32_t v) {
      std::lock_guard<std::mutex> lock(self->mu_);
      const uint32_t me = (self->grbm_ >> gfx11::kGrbmMeIdShift) & 3;
      const uint32_t pipe = (self->grbm_ >> gfx11::kGrbmPipeIdShift) & 3;
      if (me != kGfx11MecMe) {
        self->regs_.Violation(
            absl::StrFormat("%s written with GRBM_GFX_CNTL selecting ME %u: the RS64 MEC is ME 1",
                            hi ? R.mec_rs64_pc_start_hi.name : R.mec_rs64_pc_start.name, me));
        return;
      }
      uint64_t& pc = self->pc_start_[pipe];
      pc = hi ? (pc & 0xFFFFFFFFull) | uint64_t{v} << 32 : (pc & ~0xFFFFFFFFull) | v;
    });
  }
  for (int bases = 0; bases < 2; ++bases) {
    const AmReg& reg = bases ? R.sh_mem_bases : R.sh_mem_config;
    rf.OnWrite(m->D(reg), [self, bases](uint32_t v) {
      std::lock_guard<std::mutex> lock(self->mu_);
      const uint32_t vmid = (self->grbm_ >> gfx11::kGrbmVmidShift) & 15;
      (bases ? self->sh_mem_bases_ : self->sh_mem_config_)[vmid] = v;
      if (!bases) self->sh_mem_config_written_[vmid] = true;
    });
    rf.OnRead(m->D(reg), [self, bases](uint32_t) {
      std::lock_guard<std::mutex> lock(self->mu_);
      const uint32_t vmid = (self->grbm_ >> gfx11::kGrbmVmidShift) & 15;
      return (bases ? self->sh_mem_bases_ : self->sh_mem_config_)[vmid];
    });
  }
  for (uint32_t off = kHqdFirstOffset; off <= kHqdLastOffset; ++off) {
    const uint32_t dword = m->D(AmReg{"", kHwIdGc, 0, off});
    rf.OnWrite(dword, [self, off](uint32_t v) { self->OnHqdWrite(off, v); });
    rf.OnRead(dword, [self, off](uint32_t stored) { return self->OnHqdRead(off, stored); });
  }
  m->gpu_thread_ = std::thread([self] { self->GpuLoop(); });
  return m;
}

EmulatedMec::~EmulatedMec() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  gpu_thread_.join();
  // The register file may outlive this model: leave plain storage behind.
  std::vector<uint32_t> dwords = {D(R.grbm_gfx_cntl),     D(R.mec_rs64_cntl),
                                  D(R.mec_rs64_pc_start), D(R.mec_rs64_pc_start_hi),
                                  D(R.sh_mem_config),     D(R.sh_mem_bases)};
  for (uint32_t off = kHqdFirstOffset; off <= kHqdLastOffset; ++off)
    dwords.push_back(D(AmReg{"", kHwIdGc, 0, off}));
  for (uint32_t d : dwords) {
    regs_.OnWrite(d, [](uint32_t) {});
    regs_.OnRead(d, [](uint32_t stored) { return stored; });
  }
}

void EmulatedMec::CompleteAutoload() {
  const uint32_t d = D(R.rlc_bootload_status);
  regs_.Set(d, regs_.Get(d) | gfx11::kBootloadComplete);
}

void EmulatedMec::ChipReset() {
  std::lock_guard<std::mutex> lock(mu_);
  grbm_ = 0;
  mec_cntl_ = gfx11::kMecHalt;
  pc_start_ = {};
  sh_mem_config_written_ = {};
  sh_mem_config_ = {};
  sh_mem_bases_ = {};
  for (auto& [id, h] : hqds_) {
    // A new generation: a packet the GPU thread is running now reports
    // nothing into the reset queue.
    const uint64_t generation = h.generation + 1;
    h = Hqd{};
    h.generation = generation;
  }
  cv_.notify_all();
}

bool EmulatedMec::halted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return (mec_cntl_ & gfx11::kMecHalt) != 0;
}

EmulatedMec::Hqd* EmulatedMec::SelectedHqd(const char* what) {
  const uint32_t me = (grbm_ >> gfx11::kGrbmMeIdShift) & 3;
  const uint32_t vmid = (grbm_ >> gfx11::kGrbmVmidShift) & 15;
  if (me != kGfx11MecMe || vmid != 0) {
    regs_.Violation(absl::StrFormat(
        "%s accessed with GRBM_GFX_CNTL = 0x%x (ME %u, VMID %u): an HQD register needs the "
        "MEC (ME 1) and VMID 0 selected",
        what, grbm_, me, vmid));
    return nullptr;
  }
  const QueueId id{(grbm_ >> gfx11::kGrbmPipeIdShift) & 3, (grbm_ >> gfx11::kGrbmQueueIdShift) & 7};
  Hqd& h = hqds_[id];
  h.queue.id = id;
  return &h;
}

void EmulatedMec::OnHqdWrite(uint32_t offset, uint32_t value) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string name = HqdRegName(offset);
  Hqd* h = SelectedHqd(name.c_str());
  if (h == nullptr) return;
  const QueueId id = h->queue.id;
  if (offset == R.hqd_active.offset) {
    if ((value & gfx11::kHqdActive) == 0) {
      regs_.Violation(
          absl::StrFormat("%s: CP_HQD_ACTIVE cleared by a write (queues are stopped with "
                          "CP_HQD_DEQUEUE_REQUEST)",
                          QueueName(id)));
      h->active = false;
    } else if (h->active || h->dequeue_unwaited) {
      regs_.Violation(absl::StrFormat(
          "%s: CP_HQD_ACTIVE = 1 on a queue that is %s", QueueName(id),
          h->active ? "already active" : "still dequeuing (CP_HQD_ACTIVE never read 0)"));
    } else {
      Activate(*h, id);
    }
    h->regs[Idx(R.hqd_active)] = h->active ? 1 : 0;
    return;
  }
  if (offset == R.dequeue_request.offset) {
    if (value != 0) {
      if (!h->active) {
        regs_.Violation(absl::StrFormat("%s: CP_HQD_DEQUEUE_REQUEST on a queue that is not active",
                                        QueueName(id)));
      } else {
        h->dequeue_pending = true;
        h->dequeue_unwaited = true;
        h->dequeue_reads = 0;
        cv_.notify_all();
      }
    }
    h->regs[Idx(R.dequeue_request)] = value;
    return;
  }
  if (h->active && !h->dequeue_pending) {
    regs_.Violation(
        absl::StrFormat("%s: %s written while the queue is active", QueueName(id), name));
  } else if (h->dequeue_unwaited) {
    regs_.Violation(absl::StrFormat(
        "%s: %s written before the dequeue was waited for (CP_HQD_ACTIVE never read 0)",
        QueueName(id), name));
  }
  h->regs[offset - kHqdFirstOffset] = value;
  for (const Required& r : kRequired)
    if (r.reg->offset == offset) h->written |= r.bit;
}

uint32_t EmulatedMec::OnHqdRead(uint32_t offset, uint32_t stored) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string name = HqdRegName(offset);
  Hqd* h = SelectedHqd(name.c_str());
  if (h == nullptr) return stored;
  if (offset != R.hqd_active.offset) return h->regs[offset - kHqdFirstOffset];
  if (h->dequeue_unwaited) {
    // The CP finishes the packet it runs, then drops ACTIVE.
    if (config_.never_dequeue || h->active || ++h->dequeue_reads < config_.dequeue_after_reads) {
      return gfx11::kHqdActive;
    }
    h->dequeue_unwaited = false;
    h->regs[Idx(R.hqd_active)] = 0;
    return 0;
  }
  return h->active ? gfx11::kHqdActive : 0;
}

void EmulatedMec::Activate(Hqd& h, QueueId id) {
  std::vector<std::string> why;
  const auto& r = h.regs;
  if ((regs_.Get(D(R.rlc_bootload_status)) & gfx11::kBootloadComplete) == 0) {
    why.push_back("before the RLC autoload completed (RLC_RLCS_BOOTLOAD_STATUS)");
  }
  if ((mec_cntl_ & gfx11::kMecHalt) != 0) {
    why.push_back("while the MEC is halted (CP_MEC_RS64_CNTL.MEC_HALT)");
  }
  if ((mec_cntl_ & (gfx11::kMecPipe0Active << id.pipe)) == 0 ||
      (mec_cntl_ & (gfx11::kMecPipe0Reset << id.pipe)) != 0) {
    why.push_back(absl::StrFormat("while pipe %u is not active or in reset (CP_MEC_RS64_CNTL 0x%x)",
                                  id.pipe, mec_cntl_));
  }
  if ((h.written & kWroteAll) != kWroteAll) {
    std::vector<std::string> missing;
    for (const Required& q : kRequired)
      if ((h.written & q.bit) == 0) missing.push_back(q.reg->name);
    why.push_back("before " + absl::StrJoin(missing, ", ") + " were written");
  }
  const uint32_t db = r[Idx(R.pq_doorbell_control)];
  const uint32_t db_dword = (db & gfx11::kDoorbellOffsetMask) >> gfx11::kDoorbellOffsetShift;
  const uint32_t lower = regs_.Get(D(R.mec_doorbell_lower)) & gfx11::kDoorbellRangeMask;
  const uint32_t upper = regs_.Get(D(R.mec_doorbell_upper)) & gfx11::kDoorbellRangeMask;
  if ((db & gfx11::kDoorbellEn) == 0) why.push_back("without DOORBELL_EN");
  if (uint64_t{db_dword} * 4 < lower || uint64_t{db_dword} * 4 > upper) {
    why.push_back(absl::StrFormat(
        "with doorbell dword %u (byte 0x%x) outside CP_MEC_DOORBELL_RANGE 0x%x-0x%x", db_dword,
        db_dword * 4, lower, upper));
  }
  if (db_dword % 2 != 0 || (uint64_t{db_dword} / 2 + 1) * 8 > gpu_.doorbell_bytes()) {
    why.push_back(absl::StrFormat(
        "with doorbell dword %u: not a 64-bit doorbell inside the %u-byte doorbell BAR", db_dword,
        gpu_.doorbell_bytes()));
  }
  if (config_.doorbell_routed && !config_.doorbell_routed(db_dword)) {
    why.push_back(absl::StrFormat(
        "with doorbell dword %u, which NBIO does not route to the GC (doorbell aperture, "
        "S2A_DOORBELL_ENTRY_0_CTRL)",
        db_dword));
  }
  if ((r[Idx(R.aql_control)] & gfx11::kAqlControl0) == 0) {
    why.push_back("without CP_HQD_AQL_CONTROL.CONTROL0 (an AQL queue)");
  }
  const uint32_t vmid = r[Idx(R.hqd_vmid)] & 15;
  if (!sh_mem_config_written_[vmid]) {
    why.push_back(absl::StrFormat("for VMID %u whose SH_MEM_CONFIG was never programmed", vmid));
  }
  const GpuAddressSpace* space = config_.address_space(vmid);
  AmdQueueState s;
  s.aql = true;
  s.ring = (uint64_t{r[Idx(R.pq_base_hi)]} << 32 | r[Idx(R.pq_base)]) << 8;
  s.ring_bytes = uint64_t{4} << ((r[Idx(R.pq_control)] & gfx11::kPqQueueSizeMask) + 1);
  s.read_ptr = uint64_t{r[Idx(R.pq_rptr_report_addr_hi)] & 0xFFFF} << 32 |
               (r[Idx(R.pq_rptr_report_addr)] & ~3u);
  s.write_ptr =
      uint64_t{r[Idx(R.pq_wptr_poll_addr_hi)] & 0xFFFF} << 32 | (r[Idx(R.pq_wptr_poll_addr)] & ~7u);
  if (space == nullptr) {
    why.push_back(absl::StrFormat("for VMID %u, which has no address space", vmid));
  } else if (why.empty()) {
    if (space->Translate(s.ring, s.ring_bytes) == nullptr) {
      why.push_back(absl::StrFormat("with its ring 0x%x (%u bytes) not mapped in VMID %u", s.ring,
                                    s.ring_bytes, vmid));
    }
    if (space->Translate(s.read_ptr, 8) == nullptr || space->Translate(s.write_ptr, 8) == nullptr) {
      why.push_back(
          absl::StrFormat("with its read pointer 0x%x or write pointer 0x%x not mapped in VMID %u",
                          s.read_ptr, s.write_ptr, vmid));
    }
  }
  if (!why.empty()) {
    for (const std::string& w : why)
      regs_.Violation(absl::StrFormat("%s: CP_HQD_ACTIVE = 1 %s", QueueName(id), w));
    return;
  }
  std::unique_ptr<AmdCp>& cp = cps_[vmid];
  if (cp == nullptr) {
    cp = std::make_unique<AmdCp>(
        space, &twins_,
        [this](uint32_t event) {
          // On the GPU thread, outside mu_ (see GpuLoop).
          {
            std::lock_guard<std::mutex> lock(mu_);
            events_.push_back(event);
          }
          if (config_.on_event) config_.on_event(event);
        },
        // COMPUTE_TMPRING_SIZE.WAVES counts per engine.
        AmdCpConfig{.gfx_major = 11, .shader_engines = shader_engines_});
  }
  s.doorbell = gpu_.doorbell_view() + db_dword / 2;
  h.active = true;
  h.faulted = false;
  h.written = 0;  // the next mapping writes its registers again
  ++h.generation;
  h.queue = ActiveQueue{id, vmid, db_dword, s};
  cv_.notify_all();
}

void EmulatedMec::GpuLoop() {
  struct Work {
    QueueId id;
    uint64_t generation;
    uint32_t vmid;
    AmdCp* cp;
    AmdQueueState state;
  };
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    // Dequeue requests take effect between packets.
    for (auto& [id, h] : hqds_) {
      if (h.dequeue_pending && !config_.never_dequeue) {
        h.active = false;
        h.dequeue_pending = false;
      }
    }
    std::vector<Work> work;
    for (auto& [id, h] : hqds_) {
      if (h.active && !h.faulted) {
        work.push_back(
            Work{id, h.generation, h.queue.vmid, cps_.at(h.queue.vmid).get(), h.queue.state});
      }
    }
    const absl::Duration latency = config_.packet_latency;
    lock.unlock();
    bool progress = false;
    for (Work& w : work) {
      bool ran = false;
      const int budget = latency > absl::ZeroDuration() ? 1 : 64;
      absl::Status st = w.cp->Step(w.state, &ran, budget, latency);
      progress |= ran;
      if (!st.ok()) {
        const uint64_t address = w.cp->last_fault_address();
        bool report = false;
        {
          std::lock_guard<std::mutex> relock(mu_);
          Hqd& h = hqds_[w.id];
          if (h.generation == w.generation) {
            h.faulted = true;
            faults_.push_back(Fault{w.id, w.vmid, address, std::string(st.message())});
            report = true;
          }
        }
        if (report && config_.on_fault)
          config_.on_fault(w.vmid, address, std::string(st.message()));
      }
    }
    lock.lock();
    if (!progress) cv_.wait_for(lock, std::chrono::microseconds(200));
  }
}

std::vector<EmulatedMec::ActiveQueue> EmulatedMec::active_queues() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ActiveQueue> out;
  for (const auto& [id, h] : hqds_)
    if (h.active) out.push_back(h.queue);
  return out;
}

bool EmulatedMec::IsActive(QueueId q) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = hqds_.find(q);
  return it != hqds_.end() && it->second.active;
}

bool EmulatedMec::IsFaulted(QueueId q) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = hqds_.find(q);
  return it != hqds_.end() && it->second.faulted;
}

std::vector<EmulatedMec::Fault> EmulatedMec::faults() const {
  std::lock_guard<std::mutex> lock(mu_);
  return faults_;
}

std::vector<uint32_t> EmulatedMec::events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

uint64_t EmulatedMec::program_start(uint32_t pipe) const {
  std::lock_guard<std::mutex> lock(mu_);
  return pipe < pc_start_.size() ? pc_start_[pipe] : 0;
}

AmdCpStats EmulatedMec::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  AmdCpStats sum;
  for (const auto& [vmid, cp] : cps_) {
    const AmdCpStats s = cp->stats();
    sum.dispatches += s.dispatches;
    sum.scratch_dispatches += s.scratch_dispatches;
    sum.work_items += s.work_items;
    sum.sdma_packets += s.sdma_packets;
    sum.copied_bytes += s.copied_bytes;
  }
  return sum;
}

void EmulatedMec::FinishChecks() {
  // Collected under mu_, recorded after: the register file's lock is never
  // taken while holding mu_ outside a hook (hooks take them the other way).
  std::vector<std::string> found;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (grbm_ != 0) {
      found.push_back(absl::StrFormat(
          "GRBM_GFX_CNTL left at 0x%x: every selection must be restored to 0", grbm_));
    }
    for (const auto& [id, h] : hqds_) {
      if (h.dequeue_unwaited) {
        found.push_back(absl::StrFormat(
            "%s: dequeue requested but never waited for (CP_HQD_ACTIVE never read 0)",
            QueueName(id)));
      }
    }
  }
  for (std::string& v : found) regs_.Violation(std::move(v));
}

}  // namespace uop
