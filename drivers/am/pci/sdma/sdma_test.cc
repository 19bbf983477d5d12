// SDMA 6.0 bring-up on the emulated Navi31: Init un-halts both engines,
// CreateQueue programs QUEUE0 so that the engine model executes copies,
// fences, traps and polls byte-exact through the ring (wrapping it); each
// out-of-order or wrong register write is a violation, faults stop the
// queue naming the address, every wait times out naming its register, and a
// removed device fails at the first read.
#include "drivers/am/pci/sdma/sdma.h"

#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "drivers/am/abi/sdma.h"
#include "drivers/am/emulator/discovery_table.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/emulator/gpu_address_space.h"
#include "drivers/am/emulator/sdma/sdma_model.h"
#include "drivers/am/pci/discovery_reader.h"
#include "drivers/am/pci/driver_start_for_test.h"
#include "drivers/am/pci/pci_bars.h"
#include "drivers/am/pci/pci_sysfs.h"
#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

constexpr uint64_t kVram = 64 << 20;
// The test's page tables: GPU VA kVa + p is VRAM physical p (one flat
// mapping); everything else is unmapped.
constexpr uint64_t kVa = uint64_t{1} << 40;
constexpr uint32_t kUserVmid = 3;  // has the same flat mapping

class FlatSpace final : public GpuAddressSpace {
 public:
  FlatSpace(uint8_t* vram, size_t size) : vram_(vram), size_(size) {}
  uint8_t* Translate(uint64_t va, size_t length, std::shared_ptr<void>* hold) const override {
    if (hold != nullptr) hold->reset();
    if (va < kVa || va - kVa > size_ || length > size_ - (va - kVa)) return nullptr;
    return vram_ + (va - kVa);
  }
  std::optional<Allocation> AllocationAt(uint64_t va) const override {
    if (va < kVa || va - kVa >= size_) return std::nullopt;
    return Allocation{1, kVa, vram_, size_, false};
  }

 private:
  uint8_t* const vram_;
  const size_t size_;
};

// Physical VRAM layout of the tests.
constexpr uint64_t kRing0 = 1 << 20, kRing1 = 2 << 20;
constexpr uint64_t kWb0 = 3 << 20, kWb1 = kWb0 + 0x100;  // read-pointer writebacks
constexpr uint64_t kFence = kWb0 + 0x800;                // fence words
constexpr uint64_t kSrc = 8 << 20, kDst = 24 << 20, kBig = 4 << 20;

struct Rig {
  EmulatedKernelIo io;
  std::shared_ptr<EmulatedPciGpu> gpu;
  std::unique_ptr<FlatSpace> space;
  std::mutex mu;
  std::vector<std::pair<int, uint32_t>> traps;  // from the model's hook
  std::vector<std::pair<int, uint64_t>> faults;
  std::unique_ptr<EmulatedSdma> model;
  std::unique_ptr<AmPciBars> bars;
  std::unique_ptr<AmRegisterIo> regs;
  IpDiscoveryTable ip;
  std::unique_ptr<AmSdma> sdma;

  EmulatedRegisterFile& file() { return gpu->registers(); }
  uint32_t Dword(const AmReg& r) { return regs->map().Dword(r); }
  bool HasViolation(const std::string& text) {
    for (const std::string& v : file().violations())
      if (v.find(text) != std::string::npos) return true;
    return false;
  }
  // The test is the driver: it reaches VRAM through the VRAM BAR, as the
  // CPU does (the engine model uses the device's own view).
  void Put32(uint64_t pa, uint32_t v) { ASSERT_TRUE(bars->vram().Write32(pa, v).ok()); }
  uint32_t Get32(uint64_t pa) { return *bars->vram().Read32(pa); }
  uint64_t Get64(uint64_t pa) { return *bars->vram().Read64(pa); }
  void PutBytes(uint64_t pa, absl::Span<const uint8_t> b) {
    ASSERT_TRUE(bars->vram().WriteBlock(pa, b).ok());
  }
  void GetBytes(uint64_t pa, absl::Span<uint8_t> b) {
    ASSERT_TRUE(bars->vram().ReadBlock(pa, b).ok());
  }
};

std::unique_ptr<Rig> MakeRig(EmulatedSdmaConfig model_config = {}, AmSdmaConfig config = {}) {
  auto rig = std::make_unique<Rig>();
  EmulatedPciGpuConfig c;
  c.device_id = 0x744c;  // Navi31
  c.vram_size = kVram;
  c.discovery = BuildDiscoveryBinary(Navi31Ips());
  absl::StatusOr<std::shared_ptr<EmulatedPciGpu>> gpu = EmulatedPciGpu::Install(rig->io, c);
  EXPECT_TRUE(gpu.ok()) << gpu.status();
  rig->gpu = *gpu;
  rig->space = std::make_unique<FlatSpace>(rig->gpu->vram_view(), rig->gpu->vram_bytes());
  Rig* r = rig.get();
  EmulatedSdma::Hooks hooks;
  hooks.on_trap = [r](int inst, uint32_t id) {
    std::lock_guard<std::mutex> lock(r->mu);
    r->traps.emplace_back(inst, id);
  };
  hooks.on_fault = [r](int inst, uint64_t address, const std::string&) {
    std::lock_guard<std::mutex> lock(r->mu);
    r->faults.emplace_back(inst, address);
  };
  absl::StatusOr<std::unique_ptr<EmulatedSdma>> m = EmulatedSdma::Attach(
      *rig->gpu,
      [r](uint32_t vmid) -> const GpuAddressSpace* {
        return vmid == 0 || vmid == kUserVmid ? r->space.get() : nullptr;
      },
      model_config, hooks);
  EXPECT_TRUE(m.ok()) << m.status();
  rig->model = std::move(*m);
  absl::StatusOr<AmPciDriverStart> start = StartAmPciDriverForTest(rig->io);
  EXPECT_TRUE(start.ok()) << start.status();
  rig->ip = start->discovery.ip;
  rig->bars = std::move(start->bars);
  rig->regs = std::move(start->regs);
  absl::StatusOr<std::unique_ptr<AmSdma>> sdma =
      AmSdma::Create(*rig->regs, rig->ip, rig->bars->doorbells(), config);
  EXPECT_TRUE(sdma.ok()) << sdma.status();
  rig->sdma = std::move(*sdma);
  return rig;
}

AmSdmaQueueSpec Spec(int instance, uint64_t ring_bytes = 1024) {
  AmSdmaQueueSpec s;
  s.instance = instance;
  s.ring_va = kVa + (instance == 0 ? kRing0 : kRing1);
  s.ring_bytes = ring_bytes;
  s.rptr_va = kVa + (instance == 0 ? kWb0 : kWb1);
  s.doorbell_index = (instance == 0 ? kNavi10DoorbellSdmaEngine0 : kNavi10DoorbellSdmaEngine1) << 1;
  return s;
}

// The driver side of one ring: packets written through VRAM at the write
// pointer (wrapping), published through the doorbell.
class RingWriter {
 public:
  RingWriter(Rig& rig, const AmSdmaQueue& q) : rig_(rig), q_(q) {}
  void Put(uint32_t v) {
    const uint64_t at = q_.spec.ring_va - kVa + (wptr_ % q_.spec.ring_bytes);
    rig_.Put32(at, v);
    wptr_ += 4;
  }
  void Copy(uint64_t dst_va, uint64_t src_va, uint64_t bytes) {
    Put(sdma::Header(sdma::kOpCopy, sdma::kSubOpCopyLinear));
    Put(static_cast<uint32_t>(bytes - 1));
    Put(0);
    Put(static_cast<uint32_t>(src_va));
    Put(static_cast<uint32_t>(src_va >> 32));
    Put(static_cast<uint32_t>(dst_va));
    Put(static_cast<uint32_t>(dst_va >> 32));
  }
  void Fence(uint64_t va, uint32_t value) {
    Put(sdma::Header(sdma::kOpFence));
    Put(static_cast<uint32_t>(va));
    Put(static_cast<uint32_t>(va >> 32));
    Put(value);
  }
  void Trap(uint32_t id) {
    Put(sdma::Header(sdma::kOpTrap));
    Put(id);
  }
  void PollGe(uint64_t va, uint32_t reference) {
    Put(sdma::PollHeader(sdma::kPollFunctionGreaterEqual));
    Put(static_cast<uint32_t>(va));
    Put(static_cast<uint32_t>(va >> 32));
    Put(reference);
    Put(0xFFFFFFFF);
    Put(0x0FFF000A);
  }
  absl::Status Submit() { return rig_.sdma->RingDoorbell(q_, wptr_); }
  // Waits until the engine's written-back read pointer reaches the write
  // pointer.
  bool Drain(absl::Duration timeout = absl::Seconds(5)) {
    const absl::Time deadline = absl::Now() + timeout;
    while (rig_.Get64(q_.spec.rptr_va - kVa) != wptr_) {
      if (absl::Now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return true;
  }
  uint64_t wptr() const { return wptr_; }

 private:
  Rig& rig_;
  const AmSdmaQueue q_;
  uint64_t wptr_ = 0;
};

bool WaitFor(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(5)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

TEST(AmSdma, RegistersResolveThroughGcSegmentsZeroAndOne) {
  std::unique_ptr<Rig> rig = MakeRig();
  // Navi31 model: GC segment 0 at 0x1260, segment 1 at 0xA000.
  EXPECT_EQ(rig->Dword(kSdma600Regs[0].rb_cntl), 0x1260u + 0x80);
  EXPECT_EQ(rig->Dword(kSdma600Regs[1].rb_cntl), 0x1260u + 0x80 + 0x600);
  EXPECT_EQ(rig->Dword(kSdma600Regs[0].doorbell_offset), 0x1260u + 0xab);
  EXPECT_EQ(rig->Dword(kSdma600Regs[0].f32_cntl), 0xA000u + 0x589a);
  EXPECT_EQ(rig->Dword(kSdma600Regs[1].f32_cntl), 0xA000u + 0x58ba);
  EXPECT_STREQ(kSdma600Regs[1].rb_wptr_poll_addr_lo.name, "regSDMA1_QUEUE0_RB_WPTR_POLL_ADDR_LO");
}

TEST(AmSdma, RefusesOtherSdmaVersions) {
  std::unique_ptr<Rig> rig = MakeRig();
  absl::StatusOr<IpDiscoveryTable> navi24 = ParseIpDiscovery(BuildDiscoveryBinary(Navi24Ips()));
  ASSERT_TRUE(navi24.ok());
  absl::StatusOr<std::unique_ptr<AmSdma>> s =
      AmSdma::Create(*rig->regs, *navi24, rig->bars->doorbells());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(s.status().message().find("SDMA0 5.2.5"), std::string::npos) << s.status();
  AmSdmaConfig three;
  three.instances = 3;
  EXPECT_EQ(AmSdma::Create(*rig->regs, rig->ip, rig->bars->doorbells(), three).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AmSdma, InitUnhaltsBothEngines) {
  std::unique_ptr<Rig> rig = MakeRig();
  EXPECT_FALSE(rig->model->running(0));
  ASSERT_TRUE(rig->sdma->Init().ok());
  for (int i = 0; i < 2; ++i) {
    const AmSdmaRegs& r = kSdma600Regs[i];
    EXPECT_TRUE(rig->model->running(i)) << i;
    EXPECT_EQ(rig->file().WritesOf(rig->Dword(r.f32_cntl)), std::vector<uint32_t>{0}) << i;
    EXPECT_EQ(rig->gpu->Register(rig->Dword(r.cntl)) & sdma_field::kCntlTrapEnable, 1u);
    const uint32_t utcl1 = rig->gpu->Register(rig->Dword(r.utcl1_cntl));
    EXPECT_EQ((utcl1 & sdma_field::kUtcl1RespModeMask) >> sdma_field::kUtcl1RespModeShift, 3u);
    EXPECT_EQ(utcl1 & sdma_field::kUtcl1RedoDelayMask, 9u);
    EXPECT_EQ(rig->gpu->Register(rig->Dword(r.utcl1_page)),
              (2u << 12) | (3u << 14) | sdma_field::kUtcl1PageLlcNoalloc);
    EXPECT_EQ(rig->gpu->Register(rig->Dword(r.watchdog_cntl)), 1u);
    // The engine is configured before it is un-halted.
    EXPECT_LT(rig->file().FirstWriteOf(rig->Dword(r.utcl1_page)),
              rig->file().FirstWriteOf(rig->Dword(r.f32_cntl)));
  }
  rig->model->FinishChecks();
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmSdma, CopiesOfSeveralSizesAreByteExactAndWrapTheRing) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->sdma->Init().ok());
  absl::StatusOr<AmSdmaQueue> q = rig->sdma->CreateQueue(Spec(0, 1024));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_TRUE(rig->model->queue(0).enabled);

  // RB_CNTL: first written with RB_ENABLE clear, RB_ENABLE last of the ring
  // registers; the fields as programmed.
  const AmSdmaRegs& r = kSdma600Regs[0];
  const std::vector<uint32_t> cntl = rig->file().WritesOf(rig->Dword(r.rb_cntl));
  ASSERT_EQ(cntl.size(), 2u);
  EXPECT_EQ(cntl[0] & sdma_field::kRbEnable, 0u);
  EXPECT_EQ(cntl[1], cntl[0] | sdma_field::kRbEnable);
  EXPECT_EQ((cntl[1] & sdma_field::kRbSizeMask) >> sdma_field::kRbSizeShift, 8u);  // 256 dwords
  EXPECT_NE(cntl[1] & sdma_field::kRbRptrWritebackEnable, 0u);
  EXPECT_NE(cntl[1] & sdma_field::kRbPriv, 0u);
  EXPECT_EQ(cntl[1] & sdma_field::kRbVmidMask, 0u);
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(r.rb_base)),
            std::vector<uint32_t>{static_cast<uint32_t>((kVa + kRing0) >> 8)});
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(r.rb_base_hi)), std::vector<uint32_t>{1});
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(r.doorbell_offset)), std::vector<uint32_t>{0x800});
  const std::vector<EmulatedRegisterFile::Access> log = rig->file().log();
  int enable_at = -1;
  for (size_t k = 0; k < log.size(); ++k) {
    if (log[k].write && log[k].dword == rig->Dword(r.rb_cntl) &&
        (log[k].value & sdma_field::kRbEnable) != 0) {
      enable_at = static_cast<int>(k);
    }
  }
  for (const AmReg* reg :
       {&r.rb_base, &r.rb_base_hi, &r.rb_rptr_addr_lo, &r.rb_rptr_addr_hi, &r.rb_rptr, &r.rb_wptr,
        &r.doorbell, &r.doorbell_offset, &r.minor_ptr_update}) {
    EXPECT_LT(rig->file().FirstWriteOf(rig->Dword(*reg)), enable_at) << reg->name;
  }

  std::mt19937 rng(7);
  std::vector<uint8_t> src(kBig + 4096);  // copies start up to 4 KiB in
  for (uint8_t& b : src) b = static_cast<uint8_t>(rng());
  rig->PutBytes(kSrc, src);
  RingWriter w(*rig, *q);
  const uint64_t sizes[] = {1, 3, 4, 255, 4096, 65537, 1 << 20, uint64_t{kBig}};
  uint32_t seq = 0;
  for (int round = 0; round < 5; ++round) {
    for (uint64_t n : sizes) {
      // Clear the destination and a guard beyond it.
      std::vector<uint8_t> zero(n + 64, 0);
      rig->PutBytes(kDst, zero);
      const uint64_t off = (round * 131) % 4096;
      w.Copy(kVa + kDst, kVa + kSrc + off, n);
      w.Fence(kVa + kFence, ++seq);
      ASSERT_TRUE(w.Submit().ok());
      ASSERT_TRUE(w.Drain()) << "size " << n << ": " << rig->model->queue(0).fault;
      ASSERT_EQ(rig->Get32(kFence), seq);
      std::vector<uint8_t> got(n + 64);
      rig->GetBytes(kDst, absl::MakeSpan(got));
      ASSERT_EQ(std::memcmp(got.data(), src.data() + off, n), 0) << "size " << n;
      ASSERT_EQ(got[n], 0) << "copied past " << n << " bytes";
    }
  }
  EXPECT_GT(w.wptr(), 1024u);  // the ring wrapped
  absl::StatusOr<uint64_t> rptr = rig->sdma->ReadPointer(*q);
  ASSERT_TRUE(rptr.ok());
  EXPECT_EQ(*rptr, w.wptr());
  EXPECT_EQ(rig->model->stats().sdma_packets, 80u);
  EXPECT_TRUE(rig->sdma->DestroyQueue(*q).ok());
  EXPECT_FALSE(rig->model->queue(0).enabled);
  rig->model->FinishChecks();
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmSdma, FenceAndTrapPostTheirValues) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->sdma->Init().ok());
  AmSdmaQueueSpec spec = Spec(0);
  spec.vmid = kUserVmid;
  spec.wptr_poll_va = kVa + kWb0 + 0x40;
  absl::StatusOr<AmSdmaQueue> q = rig->sdma->CreateQueue(spec);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(rig->model->queue(0).vmid, kUserVmid);
  // A user VMID: RB_VMID set, RB_PRIV clear (as KFD's MQD); the poll address
  // with F32_WPTR_POLL_ENABLE.
  const AmSdmaRegs& r = kSdma600Regs[0];
  const uint32_t cntl = rig->gpu->Register(rig->Dword(r.rb_cntl));
  EXPECT_EQ((cntl & sdma_field::kRbVmidMask) >> sdma_field::kRbVmidShift, kUserVmid);
  EXPECT_EQ(cntl & sdma_field::kRbPriv, 0u);
  EXPECT_NE(cntl & sdma_field::kRbF32WptrPollEnable, 0u);
  EXPECT_EQ(rig->gpu->Register(rig->Dword(r.rb_wptr_poll_addr_lo)),
            static_cast<uint32_t>(spec.wptr_poll_va));
  EXPECT_EQ(rig->gpu->Register(rig->Dword(r.rb_wptr_poll_addr_hi)), 0x100u);  // kVa >> 32
  RingWriter w(*rig, *q);
  w.Fence(kVa + kFence, 0xC0FFEE);
  w.Trap(77);
  ASSERT_TRUE(w.Submit().ok());
  ASSERT_TRUE(w.Drain());
  EXPECT_EQ(rig->Get32(kFence), 0xC0FFEEu);
  EXPECT_EQ(rig->model->traps(0), std::vector<uint32_t>{77});
  {
    std::lock_guard<std::mutex> lock(rig->mu);
    EXPECT_EQ(rig->traps, (std::vector<std::pair<int, uint32_t>>{{0, 77}}));
  }
  // With CNTL.TRAP_ENABLE clear the engine raises no interrupt.
  ASSERT_TRUE(rig->regs->Update(kSdma600Regs[0].cntl, sdma_field::kCntlTrapEnable, 0).ok());
  w.Trap(78);
  ASSERT_TRUE(w.Submit().ok());
  ASSERT_TRUE(w.Drain());
  EXPECT_EQ(rig->model->traps(0), std::vector<uint32_t>{77});
  EXPECT_EQ(rig->model->dropped_traps(0), 1u);
  ASSERT_TRUE(rig->sdma->DestroyQueue(*q).ok());
  rig->model->FinishChecks();
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmSdma, PollRegmemWaitsForMemorySetLater) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->sdma->Init().ok());
  absl::StatusOr<AmSdmaQueue> q = rig->sdma->CreateQueue(Spec(0));
  ASSERT_TRUE(q.ok()) << q.status();
  const uint64_t flag = kFence + 64;
  rig->Put32(flag, 1);
  RingWriter w(*rig, *q);
  w.PollGe(kVa + flag, 5);
  w.Fence(kVa + kFence, 9);
  ASSERT_TRUE(w.Submit().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(rig->Get32(kFence), 0u);
  absl::StatusOr<bool> idle = rig->sdma->Idle(0);
  ASSERT_TRUE(idle.ok());
  EXPECT_FALSE(*idle);  // STATUS_REG: the poll holds the engine
  rig->Put32(flag, 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(rig->Get32(kFence), 0u);
  rig->Put32(flag, 5);
  ASSERT_TRUE(w.Drain());
  EXPECT_EQ(rig->Get32(kFence), 9u);
  idle = rig->sdma->Idle(0);
  ASSERT_TRUE(idle.ok());
  EXPECT_TRUE(*idle);
  ASSERT_TRUE(rig->sdma->DestroyQueue(*q).ok());
  rig->model->FinishChecks();
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmSdma, AHaltedEngineRunsNothingUntilUnhalted) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->sdma->Init().ok());
  absl::StatusOr<AmSdmaQueue> q = rig->sdma->CreateQueue(Spec(0));
  ASSERT_TRUE(q.ok()) << q.status();
  const AmReg& f32 = kSdma600Regs[0].f32_cntl;
  ASSERT_TRUE(rig->regs->Update(f32, 0, sdma_field::kF32Halt).ok());
  RingWriter w(*rig, *q);
  w.Fence(kVa + kFence, 5);
  ASSERT_TRUE(w.Submit().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(rig->Get32(kFence), 0u);
  ASSERT_TRUE(rig->regs->Update(f32, sdma_field::kF32Halt, 0).ok());
  ASSERT_TRUE(w.Drain());
  EXPECT_EQ(rig->Get32(kFence), 5u);
  ASSERT_TRUE(rig->sdma->DestroyQueue(*q).ok());
  rig->model->FinishChecks();
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmSdma, BothInstancesRunTheirOwnRings) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->sdma->Init().ok());
  absl::StatusOr<AmSdmaQueue> q0 = rig->sdma->CreateQueue(Spec(0));
  absl::StatusOr<AmSdmaQueue> q1 = rig->sdma->CreateQueue(Spec(1, 4096));
  ASSERT_TRUE(q0.ok() && q1.ok()) << q0.status() << q1.status();
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(kSdma600Regs[1].doorbell_offset)),
            std::vector<uint32_t>{0x850});
  std::vector<uint8_t> a(10000, 0xA1), b(7000, 0xB2);
  rig->PutBytes(kSrc, a);
  rig->PutBytes(kSrc + kBig, b);
  RingWriter w0(*rig, *q0), w1(*rig, *q1);
  w0.Copy(kVa + kDst, kVa + kSrc, a.size());
  w0.Trap(10);
  w1.Copy(kVa + kDst + kBig, kVa + kSrc + kBig, b.size());
  w1.Trap(11);
  ASSERT_TRUE(w1.Submit().ok());
  ASSERT_TRUE(w0.Submit().ok());
  ASSERT_TRUE(w0.Drain());
  ASSERT_TRUE(w1.Drain());
  std::vector<uint8_t> got_a(a.size()), got_b(b.size());
  rig->GetBytes(kDst, absl::MakeSpan(got_a));
  rig->GetBytes(kDst + kBig, absl::MakeSpan(got_b));
  EXPECT_EQ(got_a, a);
  EXPECT_EQ(got_b, b);
  EXPECT_EQ(rig->model->traps(0), std::vector<uint32_t>{10});
  EXPECT_EQ(rig->model->traps(1), std::vector<uint32_t>{11});
  ASSERT_TRUE(rig->sdma->DestroyQueue(*q0).ok());
  ASSERT_TRUE(rig->sdma->DestroyQueue(*q1).ok());
  rig->model->FinishChecks();
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmSdma, UnmappedAddressFaultsTheQueueNamingIt) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->sdma->Init().ok());
  absl::StatusOr<AmSdmaQueue> q = rig->sdma->CreateQueue(Spec(0));
  ASSERT_TRUE(q.ok()) << q.status();
  RingWriter w(*rig, *q);
  w.Fence(kVa + kFence, 1);
  const uint64_t packet_va = q->spec.ring_va + w.wptr();
  const uint64_t unmapped = uint64_t{0x5000} << 32;
  w.Copy(kVa + kDst, unmapped, 4096);
  w.Fence(kVa + kFence, 2);
  ASSERT_TRUE(w.Submit().ok());
  ASSERT_TRUE(WaitFor([&] { return rig->model->queue(0).faulted; }));
  const EmulatedSdma::QueueStatus st = rig->model->queue(0);
  EXPECT_EQ(st.fault_address, packet_va);
  EXPECT_NE(st.fault.find("0x500000000000"), std::string::npos) << st.fault;
  EXPECT_EQ(rig->Get32(kFence), 1u);  // nothing after the fault ran
  {
    std::lock_guard<std::mutex> lock(rig->mu);
    EXPECT_EQ(rig->faults, (std::vector<std::pair<int, uint64_t>>{{0, packet_va}}));
  }
  // The faulted queue is torn down and a new one runs.
  ASSERT_TRUE(rig->sdma->DestroyQueue(*q).ok());
  q = rig->sdma->CreateQueue(Spec(0));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_FALSE(rig->model->queue(0).faulted);
  RingWriter w2(*rig, *q);
  w2.Fence(kVa + kFence, 3);
  ASSERT_TRUE(w2.Submit().ok());
  ASSERT_TRUE(w2.Drain());
  EXPECT_EQ(rig->Get32(kFence), 3u);
  ASSERT_TRUE(rig->sdma->DestroyQueue(*q).ok());
  rig->model->FinishChecks();
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmSdma, UnmappedReadPointerWritebackFaultsAtEnable) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->sdma->Init().ok());
  AmSdmaQueueSpec spec = Spec(0);
  spec.rptr_va = 0x1000;  // below the flat mapping
  absl::StatusOr<AmSdmaQueue> q = rig->sdma->CreateQueue(spec);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_TRUE(rig->model->queue(0).faulted);
  EXPECT_EQ(rig->model->queue(0).fault_address, 0x1000u);
  ASSERT_TRUE(rig->sdma->DestroyQueue(*q).ok());
}

TEST(AmSdma, RunawayWritePointerFaultsTheQueue) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->sdma->Init().ok());
  absl::StatusOr<AmSdmaQueue> q = rig->sdma->CreateQueue(Spec(0, 1024));
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_TRUE(rig->sdma->RingDoorbell(*q, 2048).ok());  // two rings of "work"
  ASSERT_TRUE(WaitFor([&] { return rig->model->queue(0).faulted; }));
  EXPECT_EQ(rig->model->queue(0).fault_address, q->spec.ring_va);
  EXPECT_NE(rig->model->queue(0).fault.find("more than a ring"), std::string::npos);
  ASSERT_TRUE(rig->sdma->DestroyQueue(*q).ok());
}

TEST(AmSdma, RefusesBadSpecsNamingTheField) {
  std::unique_ptr<Rig> rig = MakeRig();
  EXPECT_EQ(rig->sdma->CreateQueue(Spec(0)).status().code(),
            absl::StatusCode::kFailedPrecondition);  // before Init
  ASSERT_TRUE(rig->sdma->Init().ok());
  auto code_and = [&](AmSdmaQueueSpec s, absl::StatusCode code, const char* text) {
    absl::StatusOr<AmSdmaQueue> q = rig->sdma->CreateQueue(s);
    EXPECT_EQ(q.status().code(), code) << text;
    EXPECT_NE(q.status().message().find(text), std::string::npos) << q.status();
  };
  AmSdmaQueueSpec s = Spec(0);
  s.ring_bytes = 3000;
  code_and(s, absl::StatusCode::kInvalidArgument, "ring_bytes 3000");
  s = Spec(0);
  s.ring_bytes = 128;
  code_and(s, absl::StatusCode::kInvalidArgument, "ring_bytes 128");
  s = Spec(0);
  s.ring_va += 64;
  code_and(s, absl::StatusCode::kInvalidArgument, "ring_va");
  s = Spec(0);
  s.rptr_va = 0;
  code_and(s, absl::StatusCode::kInvalidArgument, "rptr_va");
  s = Spec(0);
  s.vmid = 16;
  code_and(s, absl::StatusCode::kInvalidArgument, "vmid 16");
  s = Spec(0);
  s.doorbell_index = 3;
  code_and(s, absl::StatusCode::kInvalidArgument, "doorbell_index 3");
  s = Spec(0);
  s.doorbell_index = (2 << 20) / 4;  // the first dword past the 2 MiB BAR
  code_and(s, absl::StatusCode::kInvalidArgument, "doorbell BAR");
  s = Spec(0);
  s.queue = 1;
  code_and(s, absl::StatusCode::kUnimplemented, "QUEUE0");
  s = Spec(2);
  code_and(s, absl::StatusCode::kInvalidArgument, "instance 2");
  // Nothing reached the registers.
  EXPECT_TRUE(rig->file().WritesOf(rig->Dword(kSdma600Regs[0].rb_cntl)).empty());
  absl::StatusOr<AmSdmaQueue> q = rig->sdma->CreateQueue(Spec(0));
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(rig->sdma->CreateQueue(Spec(0)).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(rig->sdma->DestroyQueue(*q).ok());
  EXPECT_EQ(rig->sdma->DestroyQueue(*q).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmSdma, ARingLeftByAnEarlierProcessIsStoppedFirst) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->sdma->Init().ok());
  absl::StatusOr<AmSdmaQueue> old = rig->sdma->CreateQueue(Spec(0));
  ASSERT_TRUE(old.ok());
  RingWriter w_old(*rig, *old);
  w_old.Fence(kVa + kFence, 100);  // leaves 16 in the doorbell
  ASSERT_TRUE(w_old.Submit().ok());
  ASSERT_TRUE(w_old.Drain());
  // The process exits without DestroyQueue; the next one starts over.
  absl::StatusOr<std::unique_ptr<AmSdma>> next =
      AmSdma::Create(*rig->regs, rig->ip, rig->bars->doorbells());
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE((*next)->Init().ok());
  absl::StatusOr<AmSdmaQueue> q = (*next)->CreateQueue(Spec(0));
  ASSERT_TRUE(q.ok()) << q.status();
  const std::vector<uint32_t> cntl = rig->file().WritesOf(rig->Dword(kSdma600Regs[0].rb_cntl));
  ASSERT_EQ(cntl.size(), 5u);  // old: off, on; stop: off; new: off, on
  EXPECT_EQ(cntl[2] & sdma_field::kRbEnable, 0u);
  // The old doorbell value is no new work: the new ring starts at 0, and its
  // first doorbell write (16 again) is seen.
  RingWriter w(*rig, *q);
  w.Fence(kVa + kFence, 7);
  ASSERT_TRUE(w.Submit().ok());
  ASSERT_TRUE(w.Drain());
  EXPECT_EQ(rig->Get32(kFence), 7u);
  EXPECT_FALSE(rig->model->queue(0).faulted);
  ASSERT_TRUE((*next)->DestroyQueue(*q).ok());
  rig->model->FinishChecks();
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

// A driver that programs the registers itself, to provoke each violation.
struct RawRing {
  Rig& rig;
  int i;
  const AmSdmaRegs& r() const { return kSdma600Regs[i]; }
  void W(const AmReg& reg, uint32_t v) { ASSERT_TRUE(rig.regs->Write(reg, v).ok()); }
  // Everything CreateQueue writes except the final enable; `skip` leaves one
  // register out.
  void Program(const AmReg* skip = nullptr, uint32_t doorbell_index = 0x200) {
    const AmSdmaQueueSpec s = Spec(i);
    auto w = [&](const AmReg& reg, uint32_t v) {
      if (&reg != skip) W(reg, v);
    };
    w(r().rb_cntl, Cntl());
    w(r().rb_rptr, 0);
    w(r().rb_rptr_hi, 0);
    w(r().rb_wptr, 0);
    w(r().rb_wptr_hi, 0);
    w(r().rb_base, static_cast<uint32_t>(s.ring_va >> 8));
    w(r().rb_base_hi, static_cast<uint32_t>(s.ring_va >> 40));
    w(r().rb_rptr_addr_hi, static_cast<uint32_t>(s.rptr_va >> 32));
    w(r().rb_rptr_addr_lo, static_cast<uint32_t>(s.rptr_va));
    w(r().doorbell_offset, doorbell_index << 2);
    w(r().doorbell, sdma_field::kDoorbellEnable);
  }
  static uint32_t Cntl(uint32_t log2_dwords = 8) {
    return (log2_dwords << sdma_field::kRbSizeShift) | sdma_field::kRbRptrWritebackEnable;
  }
  void Enable(uint32_t cntl = Cntl()) { W(r().rb_cntl, cntl | sdma_field::kRbEnable); }
};

TEST(AmSdmaModel, RingEnableViolations) {
  struct Case {
    const char* name;
    std::function<void(Rig&, RawRing&)> provoke;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"engine halted",
       [](Rig& rig, RawRing& raw) {
         raw.Program();
         raw.Enable();
       },
       "the engine is halted"},
      {"no base",
       [](Rig& rig, RawRing& raw) {
         ASSERT_TRUE(rig.sdma->Init().ok());
         raw.Program(&raw.r().rb_base_hi);
         raw.Enable();
       },
       "RB_BASE/RB_BASE_HI were not written"},
      {"no rptr address",
       [](Rig& rig, RawRing& raw) {
         ASSERT_TRUE(rig.sdma->Init().ok());
         raw.Program(&raw.r().rb_rptr_addr_lo);
         raw.Enable();
       },
       "RB_RPTR_ADDR_LO/HI"},
      {"no writeback",
       [](Rig& rig, RawRing& raw) {
         ASSERT_TRUE(rig.sdma->Init().ok());
         raw.Program();
         raw.Enable(RawRing::Cntl() & ~sdma_field::kRbRptrWritebackEnable);
       },
       "RPTR_WRITEBACK_ENABLE is clear"},
      {"tiny ring",
       [](Rig& rig, RawRing& raw) {
         ASSERT_TRUE(rig.sdma->Init().ok());
         raw.Program();
         raw.Enable(RawRing::Cntl(/*log2_dwords=*/3));
       },
       "32-byte ring"},
      {"doorbell past the BAR",
       [](Rig& rig, RawRing& raw) {
         ASSERT_TRUE(rig.sdma->Init().ok());
         raw.Program(nullptr, /*doorbell_index=*/(2 << 20) / 4);
         raw.Enable();
       },
       "inside the 2097152-byte doorbell BAR"},
      {"no doorbell",
       [](Rig& rig, RawRing& raw) {
         ASSERT_TRUE(rig.sdma->Init().ok());
         raw.Program(&raw.r().doorbell);
         raw.Enable();
       },
       "DOORBELL.ENABLE is clear"},
      {"minor pointer update left on",
       [](Rig& rig, RawRing& raw) {
         ASSERT_TRUE(rig.sdma->Init().ok());
         raw.Program();
         raw.W(raw.r().minor_ptr_update, 1);
         raw.Enable();
       },
       "MINOR_PTR_UPDATE is still 1"},
      {"vmid without page tables",
       [](Rig& rig, RawRing& raw) {
         ASSERT_TRUE(rig.sdma->Init().ok());
         raw.Program();
         raw.Enable(RawRing::Cntl() | (5u << sdma_field::kRbVmidShift));
       },
       "VMID 5 has no address space"},
  };
  for (const Case& c : cases) {
    std::unique_ptr<Rig> rig = MakeRig();
    RawRing raw{*rig, 0};
    c.provoke(*rig, raw);
    EXPECT_TRUE(rig->HasViolation(c.expect)) << c.name << ": " << rig->file().CheckNoViolations();
    EXPECT_FALSE(rig->model->queue(0).enabled) << c.name;
  }
}

TEST(AmSdmaModel, RingRegistersRewrittenWhileEnabled) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->sdma->Init().ok());
  absl::StatusOr<AmSdmaQueue> q = rig->sdma->CreateQueue(Spec(1));
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE(rig->file().CheckNoViolations().ok());
  const AmSdmaRegs& r = kSdma600Regs[1];
  ASSERT_TRUE(rig->regs->Write(r.rb_base, 0x1234).ok());
  EXPECT_TRUE(rig->HasViolation("regSDMA1_QUEUE0_RB_BASE written while QUEUE0 is enabled"));
  ASSERT_TRUE(rig->regs->Write(r.doorbell_offset, 0x900).ok());
  EXPECT_TRUE(rig->HasViolation("regSDMA1_QUEUE0_DOORBELL_OFFSET written while"));
  ASSERT_TRUE(rig->regs->Update(r.rb_cntl, sdma_field::kRbSizeMask, 2u << 1).ok());
  EXPECT_TRUE(rig->HasViolation("QUEUE0_RB_CNTL rewritten"));
  // The ring keeps the base it was enabled with.
  EXPECT_EQ(rig->model->queue(1).ring_va, q->spec.ring_va);
  ASSERT_TRUE(rig->sdma->DestroyQueue(*q).ok());
}

TEST(AmSdmaModel, FinishChecksReportsRingsLeftEnabled) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->sdma->Init().ok());
  ASSERT_TRUE(rig->sdma->CreateQueue(Spec(1)).ok());
  rig->model->FinishChecks();
  EXPECT_TRUE(rig->HasViolation("SDMA1: QUEUE0 left enabled")) << rig->file().CheckNoViolations();
  EXPECT_FALSE(rig->HasViolation("SDMA0"));
}

TEST(AmSdmaModel, UnhaltBeforeFirmwareIsAViolation) {
  EmulatedSdmaConfig mc;
  mc.firmware_loaded = false;
  std::unique_ptr<Rig> rig = MakeRig(mc);
  rig->model->LoadFirmware(/*GFX_FW_TYPE_RS64_MEC=*/89);  // not SDMA's
  rig->model->LoadFirmware(kGfxFwTypeSdmaUcodeTh0);       // half of it
  ASSERT_TRUE(rig->sdma->InitInstance(0).ok());
  EXPECT_TRUE(
      rig->HasViolation("SDMA0: F32 un-halted (F32_CNTL = 0x0) before its firmware was "
                        "loaded through the PSP (LOAD_IP_FW SDMA_UCODE_TH0: done, TH1: "
                        "missing)"))
      << rig->file().CheckNoViolations();
  rig->model->LoadFirmware(kGfxFwTypeSdmaUcodeTh1);
  ASSERT_TRUE(rig->sdma->InitInstance(1).ok());
  EXPECT_FALSE(rig->HasViolation("SDMA1"));
}

TEST(AmSdma, AHungEngineTimesOutNamingStatusReg) {
  AmSdmaConfig config;
  config.wait_timeout = absl::Milliseconds(20);
  std::unique_ptr<Rig> rig = MakeRig({}, config);
  rig->model->SetHung(1, true);
  const absl::Time start = absl::Now();
  absl::Status s = rig->sdma->Init();
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_NE(s.message().find("regSDMA1_STATUS_REG"), std::string::npos) << s;
  EXPECT_NE(s.message().find("un-halting"), std::string::npos) << s;
  EXPECT_GE(took, absl::Milliseconds(20));
  EXPECT_LT(took, absl::Seconds(1));
  // SDMA0 came up; its queue's teardown waits for idle too.
  absl::StatusOr<AmSdmaQueue> q = rig->sdma->CreateQueue(Spec(0));
  ASSERT_TRUE(q.ok()) << q.status();
  rig->model->SetHung(0, true);
  s = rig->sdma->DestroyQueue(*q);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  EXPECT_NE(s.message().find("regSDMA0_STATUS_REG"), std::string::npos) << s;
  EXPECT_NE(s.message().find("stopping QUEUE0"), std::string::npos) << s;
  EXPECT_FALSE(rig->model->queue(0).enabled);  // the ring was disabled before the wait
}

TEST(AmSdma, RemovedDeviceIsUnavailableNamingTheRegister) {
  std::unique_ptr<Rig> rig = MakeRig();
  ASSERT_TRUE(rig->sdma->InitInstance(0).ok());
  rig->gpu->Remove();
  absl::Status s = rig->sdma->InitInstance(1);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("regSDMA1_F32_CNTL"), std::string::npos) << s;
  absl::StatusOr<AmSdmaQueue> q = rig->sdma->CreateQueue(Spec(0));
  EXPECT_EQ(q.status().code(), absl::StatusCode::kUnavailable) << q.status();
  EXPECT_NE(q.status().message().find("regSDMA0_QUEUE0_RB_CNTL"), std::string::npos) << q.status();
}

}  // namespace
}  // namespace uop
