// GC 11.0 compute bring-up on the emulated Navi31: AmGfx starts the MEC and
// maps AQL queues through HQD registers; EmulatedMec checks every register
// sequence and runs the mapped queues through AmdCp, so a real AQL dispatch
// of a compiled kernel (with its host twin) executes end to end. Each
// protocol breach is provoked and recorded; every wait times out naming its
// register.
#include "drivers/am/pci/gfx/gfx.h"

#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "drivers/am/abi/hsa.h"
#include "drivers/am/code_object.h"
#include "drivers/am/emulator/am_emu_compiler.h"
#include "drivers/am/emulator/discovery_table.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/emulator/gfx/mec_model.h"
#include "drivers/am/emulator/test_kernels.h"
#include "drivers/am/pci/discovery_reader.h"
#include "drivers/am/pci/driver_start_for_test.h"
#include "drivers/am/pci/pci_bars.h"
#include "drivers/am/pci/pci_sysfs.h"
#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

const AmGfxRegs& R = kGc1100GfxRegs;
constexpr uint64_t kVram = 64 << 20;

// A GPU address space over the emulated VRAM for the tests: explicit
// mappings va -> VRAM offset (the page-table walker replaces this on the
// integrated device). Anything else is unmapped: a GPU page fault.
class TestAddressSpace final : public GpuAddressSpace {
 public:
  explicit TestAddressSpace(EmulatedPciGpu& gpu) : gpu_(gpu) {}
  void Map(uint64_t va, uint64_t vram, size_t size, bool executable) {
    std::lock_guard<std::mutex> lock(mu_);
    maps_[va] = M{next_id_++, vram, size, executable};
  }
  uint8_t* Translate(uint64_t va, size_t length, std::shared_ptr<void>* hold) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = maps_.upper_bound(va);
    if (it == maps_.begin()) return nullptr;
    --it;
    if (va - it->first + length > it->second.size) return nullptr;
    if (hold != nullptr) hold->reset();
    return gpu_.vram_view() + it->second.vram + (va - it->first);
  }
  std::optional<Allocation> AllocationAt(uint64_t va) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = maps_.upper_bound(va);
    if (it == maps_.begin()) return std::nullopt;
    --it;
    if (va - it->first >= it->second.size) return std::nullopt;
    return Allocation{it->second.id, it->first, gpu_.vram_view() + it->second.vram, it->second.size,
                      it->second.executable};
  }

 private:
  struct M {
    uint64_t id, vram;
    size_t size;
    bool executable;
  };
  EmulatedPciGpu& gpu_;
  mutable std::mutex mu_;
  std::map<uint64_t, M> maps_;
  uint64_t next_id_ = 1;
};

// The code object of kAxpy (compiled once per test binary).
const AmdCodeObject& Axpy() {
  static const AmdCodeObject* co = [] {
    absl::StatusOr<std::unique_ptr<AmEmuCompiler>> cc = AmEmuCompiler::Create("gfx1100");
    EXPECT_TRUE(cc.ok()) << cc.status();
    absl::StatusOr<std::string> bin = (*cc)->Compile("axpy", am_test::kAxpy);
    EXPECT_TRUE(bin.ok()) << bin.status();
    absl::StatusOr<AmdCodeObject> loaded = LoadAmdCodeObject(*bin, "axpy");
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return new AmdCodeObject(std::move(*loaded));
  }();
  return *co;
}

// One queue's memory: ring, amd_queue_t, EOP, MQD, signal, kernarg, buffers,
// at VRAM `base` and GPU address kVaBase + base.
struct QueueMem {
  static constexpr uint64_t kVaBase = uint64_t{1} << 32;
  uint64_t base = 0;
  uint64_t Va(uint64_t off) const { return kVaBase + base + off; }
  static constexpr uint64_t kCode = 0x0, kRing = 0x10000, kQueue = 0x11000, kEop = 0x12000,
                            kMqd = 0x13000, kSignal = 0x14000, kMailbox = 0x14040,
                            kKernarg = 0x14100, kBufs = 0x15000, kRingBytes = 4096;
  static constexpr uint64_t kBufBytes = 64;  // 16 floats
};

struct Rig {
  EmulatedKernelIo io;
  std::shared_ptr<EmulatedPciGpu> gpu;
  std::map<uint32_t, std::unique_ptr<TestAddressSpace>> spaces;  // by VMID
  std::atomic<int> events_forwarded{0};
  std::unique_ptr<EmulatedMec> mec;
  std::unique_ptr<AmPciBars> bars;
  std::unique_ptr<AmRegisterIo> regs;
  std::unique_ptr<AmGfx> gfx;

  EmulatedRegisterFile& file() { return gpu->registers(); }
  uint32_t Dword(const AmReg& r) { return regs->map().Dword(r); }
  bool HasViolation(const std::string& text) {
    for (const std::string& v : file().violations())
      if (v.find(text) != std::string::npos) return true;
    return false;
  }
  TestAddressSpace& Space(uint32_t vmid) { return *spaces.at(vmid); }
};

std::unique_ptr<Rig> MakeRig(AmGfxConfig config = {}, EmulatedMecConfig mec_config = {},
                             bool autoload = true) {
  auto rig = std::make_unique<Rig>();
  EmulatedPciGpuConfig c;
  c.device_id = 0x744c;  // Navi31
  c.vram_size = kVram;
  c.discovery = BuildChipDiscoveryBinary(Navi31Chip());
  absl::StatusOr<std::shared_ptr<EmulatedPciGpu>> gpu = EmulatedPciGpu::Install(rig->io, c);
  EXPECT_TRUE(gpu.ok()) << gpu.status();
  rig->gpu = *gpu;
  for (uint32_t vmid : {8u, 9u}) rig->spaces[vmid] = std::make_unique<TestAddressSpace>(*rig->gpu);
  Rig* r = rig.get();
  mec_config.address_space = [r](uint32_t vmid) -> const GpuAddressSpace* {
    auto it = r->spaces.find(vmid);
    return it == r->spaces.end() ? nullptr : it->second.get();
  };
  mec_config.on_event = [r](uint32_t) { ++r->events_forwarded; };
  absl::StatusOr<std::unique_ptr<EmulatedMec>> mec = EmulatedMec::Attach(*rig->gpu, mec_config);
  EXPECT_TRUE(mec.ok()) << mec.status();
  rig->mec = std::move(*mec);
  if (autoload) rig->mec->CompleteAutoload();
  absl::StatusOr<AmPciDriverStart> start = StartAmPciDriverForTest(rig->io);
  EXPECT_TRUE(start.ok()) << start.status();
  rig->bars = std::move(start->bars);
  rig->regs = std::move(start->regs);
  absl::StatusOr<std::unique_ptr<AmGfx>> gfx = AmGfx::Create(*rig->regs, config);
  EXPECT_TRUE(gfx.ok()) << gfx.status();
  rig->gfx = std::move(*gfx);
  return rig;
}

// Lays out one queue's memory at VRAM `base`, maps it into `vmid`'s space,
// uploads the axpy code object and fills the inputs.
QueueMem SetUpQueueMemory(Rig& rig, uint32_t vmid, uint64_t base, float k_offset) {
  QueueMem m{base};
  const AmdCodeObject& co = Axpy();
  TestAddressSpace& s = rig.Space(vmid);
  s.Map(m.Va(QueueMem::kCode), base + QueueMem::kCode, co.image.size(), /*executable=*/true);
  s.Map(m.Va(QueueMem::kRing), base + QueueMem::kRing, QueueMem::kRingBytes, false);
  for (uint64_t off :
       {QueueMem::kQueue, QueueMem::kEop, QueueMem::kMqd, QueueMem::kSignal, QueueMem::kBufs}) {
    s.Map(m.Va(off), base + off, 0x1000, false);
  }
  const MmioRegion& vram = rig.bars->vram();
  EXPECT_TRUE(vram.WriteBlock(base + QueueMem::kCode,
                              absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(co.image.data()),
                                                  co.image.size()))
                  .ok());
  // Every ring slot starts INVALID, as the HSA runtime initialises it.
  for (uint64_t slot = 0; slot < QueueMem::kRingBytes; slot += 64)
    EXPECT_TRUE(vram.Write32(base + QueueMem::kRing + slot, hsa::kPacketInvalid).ok());
  std::vector<float> a(16), b(16);
  for (int i = 0; i < 16; ++i) {
    a[i] = static_cast<float>(i) + k_offset;
    b[i] = static_cast<float>(2 * i);
  }
  auto bytes = [](const std::vector<float>& v) {
    return absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(v.data()), v.size() * 4);
  };
  EXPECT_TRUE(vram.WriteBlock(base + QueueMem::kBufs + QueueMem::kBufBytes, bytes(a)).ok());
  EXPECT_TRUE(vram.WriteBlock(base + QueueMem::kBufs + 2 * QueueMem::kBufBytes, bytes(b)).ok());
  return m;
}

AmAqlQueueSpec SpecFor(const QueueMem& m, uint32_t pipe, uint32_t queue, uint32_t vmid,
                       uint32_t doorbell) {
  AmAqlQueueSpec s;
  s.pipe = pipe;
  s.queue = queue;
  s.vmid = vmid;
  s.ring_va = m.Va(QueueMem::kRing);
  s.ring_bytes = QueueMem::kRingBytes;
  s.rptr_report_va = m.Va(QueueMem::kQueue) + offsetof(hsa::amd_queue, read_dispatch_id);
  s.wptr_poll_va = m.Va(QueueMem::kQueue) + offsetof(hsa::amd_queue, write_dispatch_id);
  s.eop_va = m.Va(QueueMem::kEop);
  s.mqd_va = m.Va(QueueMem::kMqd);
  s.doorbell_index = doorbell;
  return s;
}

// Writes a kernel dispatch of axpy (k = 3, 4 groups of 4) at slot `index`,
// publishes it through write_dispatch_id and rings the doorbell. `out_va`
// overrides the output buffer (a fault test points it at unmapped memory).
void Dispatch(Rig& rig, const QueueMem& m, uint32_t doorbell, uint64_t index, bool mailbox,
              std::optional<uint64_t> out_va = std::nullopt) {
  const MmioRegion& vram = rig.bars->vram();
  hsa::amd_signal sig{};
  sig.kind = hsa::kSignalKindUser;
  sig.value = 1;
  if (mailbox) {
    sig.event_mailbox_ptr = m.Va(QueueMem::kMailbox);
    sig.event_id = 42;
  }
  ASSERT_TRUE(
      vram.WriteBlock(m.base + QueueMem::kSignal,
                      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(&sig), sizeof(sig)))
          .ok());
  const uint64_t args[4] = {out_va.value_or(m.Va(QueueMem::kBufs)),
                            m.Va(QueueMem::kBufs + QueueMem::kBufBytes),
                            m.Va(QueueMem::kBufs + 2 * QueueMem::kBufBytes), 3};
  ASSERT_TRUE(
      vram.WriteBlock(m.base + QueueMem::kKernarg,
                      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(args), sizeof(args)))
          .ok());
  hsa::kernel_dispatch_packet p{};
  p.setup = 1;
  p.workgroup_size_x = 4;
  p.workgroup_size_y = p.workgroup_size_z = 1;
  p.grid_size_x = 16;
  p.grid_size_y = p.grid_size_z = 1;
  p.kernel_object = m.Va(QueueMem::kCode) + Axpy().kd_offset;
  p.kernarg_address = m.Va(QueueMem::kKernarg);
  p.completion_signal = m.Va(QueueMem::kSignal);
  const uint64_t slot = m.base + QueueMem::kRing + (index % (QueueMem::kRingBytes / 64)) * 64;
  // Body first, header last (the packet is published by its header).
  ASSERT_TRUE(
      vram.WriteBlock(slot + 4, absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(&p) + 4, 60))
          .ok());
  const uint32_t header = hsa::kPacketKernelDispatch | hsa::kHeaderBarrier |
                          hsa::kScopeSystem << hsa::kAcquireScopeShift |
                          hsa::kScopeSystem << hsa::kReleaseScopeShift;
  ASSERT_TRUE(vram.Write32(slot, header | uint32_t{p.setup} << 16).ok());
  ASSERT_TRUE(vram.Write64(m.base + QueueMem::kQueue + offsetof(hsa::amd_queue, write_dispatch_id),
                           index + 1)
                  .ok());
  ASSERT_TRUE(rig.bars->doorbells().Write64(uint64_t{doorbell} * 4, index).ok());
}

int64_t SignalValue(Rig& rig, const QueueMem& m) {
  absl::StatusOr<uint64_t> v =
      rig.bars->vram().Read64(m.base + QueueMem::kSignal + offsetof(hsa::amd_signal, value));
  EXPECT_TRUE(v.ok()) << v.status();
  return static_cast<int64_t>(v.value_or(~0ull));
}

bool WaitSignalZero(Rig& rig, const QueueMem& m) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    if (SignalValue(rig, m) == 0) return true;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return false;
}

std::vector<float> Output(Rig& rig, const QueueMem& m) {
  std::vector<float> out(16);
  EXPECT_TRUE(rig.bars->vram()
                  .ReadBlock(m.base + QueueMem::kBufs,
                             absl::MakeSpan(reinterpret_cast<uint8_t*>(out.data()), 64))
                  .ok());
  return out;
}

void ExpectAxpy(Rig& rig, const QueueMem& m, float k_offset) {
  const std::vector<float> out = Output(rig, m);
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(out[i], (static_cast<float>(i) + k_offset) + static_cast<float>(2 * i) * 3) << i;
}

void ExpectClean(Rig& rig) {
  rig.mec->FinishChecks();
  EXPECT_TRUE(rig.file().CheckNoViolations().ok()) << rig.file().CheckNoViolations();
}

TEST(AmGfx, InitStartsTheMecAndAnAqlDispatchRunsEndToEnd) {
  std::unique_ptr<Rig> rig = MakeRig();
  EXPECT_TRUE(rig->mec->halted());
  ASSERT_TRUE(rig->gfx->Init().ok());
  EXPECT_FALSE(rig->mec->halted());
  // Init's register values: the compute VMIDs' apertures, the doorbell
  // range as byte offsets, every pipe active and out of reset.
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(R.sh_mem_config)),
            std::vector<uint32_t>(8, 0x0000C00Cu));
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(R.sh_mem_bases)),
            std::vector<uint32_t>(8, 0x60006000u));
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(R.mec_doorbell_upper)),
            std::vector<uint32_t>{1023u << 2});
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(R.mec_rs64_cntl)),
            std::vector<uint32_t>{gfx11::kMecAllPipesActive});
  // The autoload was waited for before anything was written.
  int first_write = -1, bootload_read = -1;
  const auto log = rig->file().log();
  for (size_t i = 0; i < log.size(); ++i) {
    if (log[i].write && first_write < 0) first_write = static_cast<int>(i);
    if (!log[i].write && log[i].dword == rig->Dword(R.rlc_bootload_status) &&
        (log[i].value & gfx11::kBootloadComplete) != 0 && bootload_read < 0) {
      bootload_read = static_cast<int>(i);
    }
  }
  ASSERT_GE(bootload_read, 0);
  EXPECT_LT(bootload_read, first_write);

  const QueueMem m = SetUpQueueMemory(*rig, 8, 0x100000, 0.5f);
  absl::StatusOr<AmHqd> q = rig->gfx->MapAqlQueue(SpecFor(m, 0, 0, 8, 16));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->Name(), "ME1/pipe 0/queue 0");
  // The model's view of the HQD: what the registers said.
  const std::vector<EmulatedMec::ActiveQueue> active = rig->mec->active_queues();
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].vmid, 8u);
  EXPECT_EQ(active[0].doorbell_dword, 16u);
  EXPECT_EQ(active[0].state.ring, m.Va(QueueMem::kRing));
  EXPECT_EQ(active[0].state.ring_bytes, QueueMem::kRingBytes);
  EXPECT_EQ(active[0].state.read_ptr, m.Va(QueueMem::kQueue) + 128);
  EXPECT_EQ(active[0].state.write_ptr, m.Va(QueueMem::kQueue) + 56);
  // PQ_CONTROL: QUEUE_SIZE log2(1024)-1, RPTR_BLOCK_SIZE 5, NO_UPDATE_RPTR,
  // SLOT_BASED_WPTR 2, QUEUE_FULL_EN, UNORD_DISPATCH.
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(R.pq_control)),
            std::vector<uint32_t>{9u | 5u << 8 | 1u << 27 | 2u << 18 | 1u << 14 | 1u << 28});
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(R.eop_control)), std::vector<uint32_t>{8u});
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(R.pq_base)),
            std::vector<uint32_t>{static_cast<uint32_t>(m.Va(QueueMem::kRing) >> 8)});
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(R.hqd_active)), std::vector<uint32_t>{1u});

  Dispatch(*rig, m, 16, 0, /*mailbox=*/true);
  ASSERT_TRUE(WaitSignalZero(*rig, m)) << "the dispatch never completed";
  ExpectAxpy(*rig, m, 0.5f);
  EXPECT_EQ(rig->mec->stats().dispatches, 1u);
  EXPECT_EQ(rig->mec->stats().work_items, 16u);
  EXPECT_EQ(rig->mec->events(), std::vector<uint32_t>{42});
  EXPECT_EQ(rig->events_forwarded.load(), 1);
  // The CP advanced read_dispatch_id and invalidated the slot.
  EXPECT_EQ(*rig->bars->vram().Read64(m.base + QueueMem::kQueue + 128), 1u);

  // A second packet on the same queue.
  Dispatch(*rig, m, 16, 1, /*mailbox=*/false);
  ASSERT_TRUE(WaitSignalZero(*rig, m));
  EXPECT_EQ(rig->mec->stats().dispatches, 2u);

  ASSERT_TRUE(rig->gfx->UnmapQueue(*q).ok());
  EXPECT_FALSE(rig->mec->IsActive({0, 0}));
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(R.dequeue_request)),
            std::vector<uint32_t>{gfx11::kDequeueDrainPipe});
  EXPECT_EQ(rig->file().Get(rig->Dword(R.grbm_gfx_cntl)), 0u);
  ExpectClean(*rig);
  // Unmapped: a doorbell no longer runs anything.
  Dispatch(*rig, m, 16, 2, false);
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(SignalValue(*rig, m), 1);
  // The queue can be mapped again.
  ASSERT_TRUE(rig->gfx->MapAqlQueue(SpecFor(m, 0, 0, 8, 16)).ok());
  ASSERT_TRUE(WaitSignalZero(*rig, m));
  ExpectClean(*rig);
}

TEST(AmGfx, TwoQueuesOnDifferentPipesAndVmidsRunIndependently) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->gfx->Init().ok());
  const QueueMem a = SetUpQueueMemory(*rig, 8, 0x100000, 1.0f);
  const QueueMem b = SetUpQueueMemory(*rig, 9, 0x200000, 100.0f);
  absl::StatusOr<AmHqd> qa = rig->gfx->MapAqlQueue(SpecFor(a, 0, 0, 8, 16));
  absl::StatusOr<AmHqd> qb = rig->gfx->MapAqlQueue(SpecFor(b, 1, 2, 9, 18));
  ASSERT_TRUE(qa.ok()) << qa.status();
  ASSERT_TRUE(qb.ok()) << qb.status();
  EXPECT_EQ(rig->mec->active_queues().size(), 2u);
  // Only b's doorbell first: a's queue stays idle.
  Dispatch(*rig, b, 18, 0, false);
  ASSERT_TRUE(WaitSignalZero(*rig, b));
  ExpectAxpy(*rig, b, 100.0f);
  EXPECT_EQ(Output(*rig, a), std::vector<float>(16, 0.0f));
  Dispatch(*rig, a, 16, 0, false);
  ASSERT_TRUE(WaitSignalZero(*rig, a));
  ExpectAxpy(*rig, a, 1.0f);
  // Unmapping one leaves the other running.
  ASSERT_TRUE(rig->gfx->UnmapQueue(*qa).ok());
  EXPECT_TRUE(rig->mec->IsActive({1, 2}));
  Dispatch(*rig, b, 18, 1, false);
  ASSERT_TRUE(WaitSignalZero(*rig, b));
  ASSERT_TRUE(rig->gfx->UnmapQueue(*qb).ok());
  EXPECT_TRUE(rig->mec->active_queues().empty());
  ExpectClean(*rig);
}

TEST(AmGfx, ProgramsTheMecEntryPointOnEveryPipeBeforeUnhalting) {
  AmGfxConfig c;
  c.mec_ucode_start = 0x123456780ull;
  std::unique_ptr<Rig> rig = MakeRig(c);
  ASSERT_TRUE(rig->gfx->Init().ok());
  // gfx_v11_0_config_gfx_rs64: lo = addr_lo >> 2 | addr_hi << 30, hi = addr_hi >> 2.
  const uint64_t want = uint64_t{0x23456780u >> 2 | 1u << 30} | uint64_t{1u >> 2} << 32;
  for (uint32_t pipe = 0; pipe < 4; ++pipe) EXPECT_EQ(rig->mec->program_start(pipe), want);
  // Reset pulse, then unhalt.
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(R.mec_rs64_cntl)),
            (std::vector<uint32_t>{gfx11::kMecHalt | gfx11::kMecAllPipesReset, gfx11::kMecHalt,
                                   gfx11::kMecAllPipesActive}));
  ExpectClean(*rig);
}

TEST(AmGfx, AutoloadThatNeverCompletesTimesOutNamingTheRegister) {
  AmGfxConfig c;
  c.wait_timeout = absl::Milliseconds(20);
  std::unique_ptr<Rig> rig = MakeRig(c, {}, /*autoload=*/false);
  const absl::Time start = absl::Now();
  absl::Status st = rig->gfx->Init();
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_NE(st.message().find("regRLC_RLCS_BOOTLOAD_STATUS"), std::string::npos) << st;
  EXPECT_GE(took, absl::Milliseconds(20));
  EXPECT_LT(took, absl::Seconds(1));
  EXPECT_TRUE(rig->file().WritesOf(rig->Dword(R.mec_rs64_cntl)).empty());
  EXPECT_FALSE(rig->gfx->initialized());
  // Nothing can be mapped on a GFX that did not come up.
  const QueueMem m = SetUpQueueMemory(*rig, 8, 0x100000, 0);
  EXPECT_EQ(rig->gfx->MapAqlQueue(SpecFor(m, 0, 0, 8, 16)).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(AmGfx, ARemovedDeviceIsUnavailableNamingTheRegister) {
  std::unique_ptr<Rig> rig = MakeRig();
  rig->gpu->Remove();
  absl::Status st = rig->gfx->Init();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(st.message().find("regCP_STAT"), std::string::npos) << st;
}

TEST(AmGfx, DequeueThatNeverCompletesTimesOutAndRestoresTheSelection) {
  AmGfxConfig c;
  c.wait_timeout = absl::Milliseconds(20);
  EmulatedMecConfig mc;
  mc.never_dequeue = true;
  std::unique_ptr<Rig> rig = MakeRig(c, mc);
  ASSERT_TRUE(rig->gfx->Init().ok());
  const QueueMem m = SetUpQueueMemory(*rig, 8, 0x100000, 0);
  absl::StatusOr<AmHqd> q = rig->gfx->MapAqlQueue(SpecFor(m, 2, 5, 8, 16));
  ASSERT_TRUE(q.ok()) << q.status();
  absl::Status st = rig->gfx->UnmapQueue(*q);
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_NE(st.message().find("ME1/pipe 2/queue 5"), std::string::npos) << st;
  EXPECT_NE(st.message().find("regCP_HQD_ACTIVE"), std::string::npos) << st;
  EXPECT_EQ(rig->file().Get(rig->Dword(R.grbm_gfx_cntl)), 0u);
  rig->mec->FinishChecks();
  EXPECT_TRUE(rig->HasViolation("ME1/pipe 2/queue 5: dequeue requested but never waited for"));
  EXPECT_EQ(rig->file().violations().size(), 1u) << rig->file().CheckNoViolations();
}

TEST(AmGfx, RefusesBadQueueSpecsNamingTheQueueAndWritesNothing) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->gfx->Init().ok());
  const QueueMem m = SetUpQueueMemory(*rig, 8, 0x100000, 0);
  const size_t writes_before = rig->file().WritesOf(rig->Dword(R.grbm_gfx_cntl)).size();
  struct Case {
    const char* what;
    std::function<void(AmAqlQueueSpec&)> mutate;
  };
  const Case cases[] = {
      {"ring size 3000", [](AmAqlQueueSpec& s) { s.ring_bytes = 3000; }},
      {"ring size 128", [](AmAqlQueueSpec& s) { s.ring_bytes = 128; }},
      {"ring at", [](AmAqlQueueSpec& s) { s.ring_va += 0x40; }},
      {"read pointer report", [](AmAqlQueueSpec& s) { s.rptr_report_va += 2; }},
      {"write pointer poll", [](AmAqlQueueSpec& s) { s.wptr_poll_va += 4; }},
      {"EOP buffer", [](AmAqlQueueSpec& s) { s.eop_bytes = 1000; }},
      {"MQD address", [](AmAqlQueueSpec& s) { s.mqd_va = 0; }},
      {"doorbell dword 17", [](AmAqlQueueSpec& s) { s.doorbell_index = 17; }},
      {"doorbell dword 2000", [](AmAqlQueueSpec& s) { s.doorbell_index = 2000; }},
      {"priority 16", [](AmAqlQueueSpec& s) { s.priority = 16; }},
      {"VMID 16: Init programs", [](AmAqlQueueSpec& s) { s.vmid = 16; }},
      {"VMID 3: Init programs shader apertures for VMIDs 8-15",
       [](AmAqlQueueSpec& s) { s.vmid = 3; }},
      {"pipes 0-3", [](AmAqlQueueSpec& s) { s.pipe = 4; }},
      {"queues 0-7", [](AmAqlQueueSpec& s) { s.queue = 8; }},
  };
  for (const Case& c : cases) {
    AmAqlQueueSpec s = SpecFor(m, 1, 3, 8, 16);
    c.mutate(s);
    absl::StatusOr<AmHqd> q = rig->gfx->MapAqlQueue(s);
    EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument) << c.what;
    EXPECT_NE(q.status().message().find(c.what), std::string::npos) << q.status();
    EXPECT_NE(q.status().message().find("GFX queue ME1/pipe"), std::string::npos) << q.status();
  }
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(R.grbm_gfx_cntl)).size(), writes_before);
  // Mapping twice, unmapping what is not mapped.
  absl::StatusOr<AmHqd> q = rig->gfx->MapAqlQueue(SpecFor(m, 1, 3, 8, 16));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(rig->gfx->MapAqlQueue(SpecFor(m, 1, 3, 8, 16)).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(rig->gfx->UnmapQueue(AmHqd{1, 0, 0}).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(rig->gfx->Init().code(), absl::StatusCode::kFailedPrecondition);
  // Bad configurations.
  AmGfxConfig bad;
  bad.doorbell_last = 1024;
  EXPECT_EQ(AmGfx::Create(*rig->regs, bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = {};
  bad.first_compute_vmid = 9;
  bad.last_compute_vmid = 8;
  EXPECT_EQ(AmGfx::Create(*rig->regs, bad).status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(rig->gfx->UnmapQueue(*q).ok());
  ExpectClean(*rig);
}

TEST(AmGfx, AQueueLeftActiveIsRefusedNotOverwritten) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->gfx->Init().ok());
  const QueueMem m = SetUpQueueMemory(*rig, 8, 0x100000, 0);
  ASSERT_TRUE(rig->gfx->MapAqlQueue(SpecFor(m, 0, 1, 8, 16)).ok());
  // A second driver instance (another process) finds the HQD active.
  absl::StatusOr<std::unique_ptr<AmGfx>> other = AmGfx::Create(*rig->regs);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Init().ok());
  absl::StatusOr<AmHqd> q = (*other)->MapAqlQueue(SpecFor(m, 0, 1, 8, 16));
  EXPECT_EQ(q.status().code(), absl::StatusCode::kFailedPrecondition) << q.status();
  EXPECT_NE(q.status().message().find("regCP_HQD_ACTIVE is already set"), std::string::npos);
  EXPECT_EQ(rig->file().Get(rig->Dword(R.grbm_gfx_cntl)), 0u);
  ExpectClean(*rig);
}

TEST(AmGfx, APacketReferencingUnmappedMemoryFaultsTheQueue) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->gfx->Init().ok());
  const QueueMem m = SetUpQueueMemory(*rig, 8, 0x100000, 0);
  const QueueMem other = SetUpQueueMemory(*rig, 8, 0x200000, 7.0f);
  ASSERT_TRUE(rig->gfx->MapAqlQueue(SpecFor(m, 0, 0, 8, 16)).ok());
  ASSERT_TRUE(rig->gfx->MapAqlQueue(SpecFor(other, 3, 7, 8, 20)).ok());
  const uint64_t unmapped = uint64_t{0x7000} << 32;
  Dispatch(*rig, m, 16, 0, false, unmapped);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!rig->mec->IsFaulted({0, 0}) && absl::Now() < deadline)
    absl::SleepFor(absl::Milliseconds(1));
  ASSERT_TRUE(rig->mec->IsFaulted({0, 0}));
  const std::vector<EmulatedMec::Fault> faults = rig->mec->faults();
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0].queue, (EmulatedMec::QueueId{0, 0}));
  EXPECT_EQ(faults[0].vmid, 8u);
  EXPECT_EQ(faults[0].address, m.Va(QueueMem::kRing));  // the faulting packet
  EXPECT_NE(faults[0].message.find("buffer 0x700000000000 is not mapped"), std::string::npos)
      << faults[0].message;
  EXPECT_EQ(SignalValue(*rig, m), 1);  // never completed
  // The fault stops that queue only.
  Dispatch(*rig, other, 20, 0, false);
  ASSERT_TRUE(WaitSignalZero(*rig, other));
  ExpectAxpy(*rig, other, 7.0f);
  ExpectClean(*rig);
}

// Raw HQD programming through the register file, to provoke what AmGfx never
// does. `skip` names a register the sequence leaves out.
void RawMap(Rig& rig, const QueueMem& m, uint32_t pipe, uint32_t queue, uint32_t doorbell,
            const AmReg* skip = nullptr, uint32_t grbm_me = 1, bool doorbell_en = true) {
  const AmRegisterIo& io = *rig.regs;
  auto w = [&](const AmReg& r, uint32_t v) {
    if (&r != skip) ASSERT_TRUE(io.Write(r, v).ok());
  };
  w(R.grbm_gfx_cntl, gfx11::GrbmGfxCntl(grbm_me, pipe, queue, 0));
  w(R.hqd_vmid, 8);
  w(R.pq_base, static_cast<uint32_t>(m.Va(QueueMem::kRing) >> 8));
  w(R.pq_base_hi, 0);
  w(R.pq_rptr_report_addr, static_cast<uint32_t>(m.Va(QueueMem::kQueue) + 128));
  w(R.pq_rptr_report_addr_hi, static_cast<uint32_t>((m.Va(QueueMem::kQueue) + 128) >> 32));
  w(R.pq_wptr_poll_addr, static_cast<uint32_t>(m.Va(QueueMem::kQueue) + 56));
  w(R.pq_wptr_poll_addr_hi, static_cast<uint32_t>((m.Va(QueueMem::kQueue) + 56) >> 32));
  w(R.pq_doorbell_control, doorbell << 2 | (doorbell_en ? gfx11::kDoorbellEn : 0));
  w(R.pq_control, 9);
  w(R.aql_control, 1);
  w(R.hqd_active, 1);
  w(R.grbm_gfx_cntl, 0);
}

TEST(AmGfx, ModelRecordsEachProtocolViolation) {
  struct Case {
    const char* name;
    std::function<void(Rig&, const QueueMem&)> run;
    const char* want;
  };
  const Case cases[] = {
      {"activated while the MEC is halted",
       [](Rig& rig, const QueueMem& m) {
         // Apertures but no unhalt: Init skipped.
         ASSERT_TRUE(rig.regs->Write(R.grbm_gfx_cntl, gfx11::GrbmGfxCntl(0, 0, 0, 8)).ok());
         ASSERT_TRUE(rig.regs->Write(R.sh_mem_config, gfx11::kDefaultShMemConfig).ok());
         ASSERT_TRUE(rig.regs->Write(R.mec_doorbell_upper, 0xFFC).ok());
         RawMap(rig, m, 0, 0, 16);
       },
       "ME1/pipe 0/queue 0: CP_HQD_ACTIVE = 1 while the MEC is halted"},
      {"HQD written with ME 0 selected",
       [](Rig& rig, const QueueMem& m) {
         ASSERT_TRUE(rig.gfx->Init().ok());
         RawMap(rig, m, 0, 0, 16, nullptr, /*grbm_me=*/0);
       },
       "regCP_HQD_VMID accessed with GRBM_GFX_CNTL = 0x0 (ME 0, VMID 0)"},
      {"ACTIVE before the ring base",
       [](Rig& rig, const QueueMem& m) {
         ASSERT_TRUE(rig.gfx->Init().ok());
         RawMap(rig, m, 1, 1, 16, &R.pq_base);
       },
       "ME1/pipe 1/queue 1: CP_HQD_ACTIVE = 1 before regCP_HQD_PQ_BASE were written"},
      {"ACTIVE before the doorbell and PQ control",
       [](Rig& rig, const QueueMem& m) {
         ASSERT_TRUE(rig.gfx->Init().ok());
         RawMap(rig, m, 1, 1, 16, &R.pq_doorbell_control);
       },
       "before regCP_HQD_PQ_DOORBELL_CONTROL were written"},
      {"doorbell outside the MEC range",
       [](Rig& rig, const QueueMem& m) {
         ASSERT_TRUE(rig.gfx->Init().ok());
         ASSERT_TRUE(rig.regs->Write(R.mec_doorbell_upper, 64 << 2).ok());
         RawMap(rig, m, 0, 0, 100);
       },
       "doorbell dword 100 (byte 0x190) outside CP_MEC_DOORBELL_RANGE 0x0-0x100"},
      {"GRBM selection left non-zero",
       [](Rig& rig, const QueueMem&) {
         ASSERT_TRUE(rig.gfx->Init().ok());
         ASSERT_TRUE(rig.regs->Write(R.grbm_gfx_cntl, gfx11::GrbmGfxCntl(1, 2, 3, 0)).ok());
       },
       "GRBM_GFX_CNTL left at 0x306"},
      {"dequeue not waited for",
       [](Rig& rig, const QueueMem& m) {
         ASSERT_TRUE(rig.gfx->Init().ok());
         RawMap(rig, m, 0, 0, 16);
         ASSERT_TRUE(rig.regs->Write(R.grbm_gfx_cntl, gfx11::GrbmGfxCntl(1, 0, 0, 0)).ok());
         ASSERT_TRUE(rig.regs->Write(R.dequeue_request, 1).ok());
         ASSERT_TRUE(rig.regs->Write(R.grbm_gfx_cntl, 0).ok());
       },
       "ME1/pipe 0/queue 0: dequeue requested but never waited for"},
      {"HQD reprogrammed while active",
       [](Rig& rig, const QueueMem& m) {
         ASSERT_TRUE(rig.gfx->Init().ok());
         RawMap(rig, m, 0, 0, 16);
         RawMap(rig, m, 0, 0, 16);
       },
       "regCP_HQD_PQ_BASE written while the queue is active"},
      {"pipe not active",
       [](Rig& rig, const QueueMem& m) {
         ASSERT_TRUE(rig.gfx->Init().ok());
         ASSERT_TRUE(rig.regs->Update(R.mec_rs64_cntl, gfx11::kMecPipe0Active << 2, 0).ok());
         RawMap(rig, m, 2, 0, 16);
       },
       "ME1/pipe 2/queue 0: CP_HQD_ACTIVE = 1 while pipe 2 is not active or in reset"},
      {"no doorbell enable",
       [](Rig& rig, const QueueMem& m) {
         ASSERT_TRUE(rig.gfx->Init().ok());
         RawMap(rig, m, 0, 0, 16, nullptr, 1, /*doorbell_en=*/false);
       },
       "CP_HQD_ACTIVE = 1 without DOORBELL_EN"},
      {"ring not mapped in the VMID",
       [](Rig& rig, const QueueMem&) {
         ASSERT_TRUE(rig.gfx->Init().ok());
         RawMap(rig, QueueMem{0x3000000}, 0, 0, 16);
       },
       "with its ring 0x103010000 (4096 bytes) not mapped in VMID 8"},
  };
  for (const Case& c : cases) {
    std::unique_ptr<Rig> rig = MakeRig();
    const QueueMem m = SetUpQueueMemory(*rig, 8, 0x100000, 0);
    c.run(*rig, m);
    rig->mec->FinishChecks();
    EXPECT_TRUE(rig->HasViolation(c.want)) << c.name << ": " << rig->file().CheckNoViolations();
  }
}

TEST(AmGfx, AQueueInAVmidWithoutAperturesIsNotActivated) {
  AmGfxConfig c;
  c.first_compute_vmid = c.last_compute_vmid = 9;
  std::unique_ptr<Rig> rig = MakeRig(c);
  ASSERT_TRUE(rig->gfx->Init().ok());
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(R.sh_mem_config)).size(), 1u);
  const QueueMem m = SetUpQueueMemory(*rig, 8, 0x100000, 0);
  EXPECT_EQ(rig->gfx->MapAqlQueue(SpecFor(m, 0, 0, 8, 16)).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Programmed by hand, the model refuses it.
  RawMap(*rig, m, 0, 0, 16);
  EXPECT_TRUE(rig->HasViolation(
      "ME1/pipe 0/queue 0: CP_HQD_ACTIVE = 1 for VMID 8 whose SH_MEM_CONFIG was never programmed"))
      << rig->file().CheckNoViolations();
  EXPECT_TRUE(rig->mec->active_queues().empty());
}

TEST(AmGfx, ActivationBeforeTheAutoloadIsAViolation) {
  std::unique_ptr<Rig> rig = MakeRig({}, {}, /*autoload=*/false);
  const QueueMem m = SetUpQueueMemory(*rig, 8, 0x100000, 0);
  RawMap(*rig, m, 0, 0, 16);
  EXPECT_TRUE(rig->HasViolation("CP_HQD_ACTIVE = 1 before the RLC autoload completed"))
      << rig->file().CheckNoViolations();
  EXPECT_TRUE(rig->mec->active_queues().empty());
}

}  // namespace
}  // namespace uop
