// AmVm (VMID 1-15 page tables) on the emulated Navi31, translated by the
// emulator's page-table walker (EmulatedVmSpace) as the engines would: maps
// reach the right VRAM byte-exact on both hubs, only after HDP flush and
// invalidation; fragments, unmap, errors, a randomized run against a model,
// the model's context checks, and a walker thread racing the driver.
#include "drivers/am/pci/vm.h"

#include <atomic>
#include <cstring>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "drivers/am/emulator/discovery_table.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/emulator/gmc_ih_model.h"
#include "drivers/am/emulator/vm_walker.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/discovery_reader.h"
#include "drivers/am/pci/driver_start_for_test.h"
#include "drivers/am/pci/gmc.h"
#include "drivers/am/pci/pci_bars.h"
#include "drivers/am/pci/vram_allocator.h"
#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

constexpr uint64_t kVram = 256 << 20;
constexpr uint64_t kPage = 4096;
constexpr uint64_t kMiB = 1 << 20;

struct Rig {
  EmulatedKernelIo io;
  std::shared_ptr<EmulatedPciGpu> gpu;
  std::unique_ptr<EmulatedGmcIh> model;
  std::unique_ptr<AmPciBars> bars;
  std::unique_ptr<AmRegisterIo> regs;
  AmVramArena arena{1 << 20, 16 << 20};
  std::unique_ptr<AmVramAllocator> vram;
  std::unique_ptr<AmGmc> gmc;

  EmulatedRegisterFile& file() { return gpu->registers(); }
  uint32_t Dword(const AmReg& r) { return regs->map().Dword(r); }
  bool HasViolation(const std::string& text) {
    for (const std::string& v : file().violations())
      if (v.find(text) != std::string::npos) return true;
    return false;
  }
  std::unique_ptr<AmVm> Vm(int vmid, uint64_t va_size = AmVm::kMaxVaSize) {
    absl::StatusOr<std::unique_ptr<AmVm>> vm =
        AmVm::Create(*regs, *gmc, *vram, bars->vram(), vmid, va_size);
    EXPECT_TRUE(vm.ok()) << vm.status();
    return vm.ok() ? std::move(*vm) : nullptr;
  }
  uint8_t* View(uint64_t pa) { return gpu->vram_view() + pa; }
};

std::unique_ptr<Rig> MakeRig() {
  auto rig = std::make_unique<Rig>();
  EmulatedPciGpuConfig c;
  c.device_id = 0x744c;  // Navi31
  c.vram_size = kVram;
  c.discovery = BuildDiscoveryBinary(Navi31Ips());
  rig->gpu = *EmulatedPciGpu::Install(rig->io, c);
  rig->model = *EmulatedGmcIh::Attach(*rig->gpu);
  absl::StatusOr<AmPciDriverStart> start = StartAmPciDriverForTest(rig->io);
  EXPECT_TRUE(start.ok()) << start.status();
  rig->bars = std::move(start->bars);
  rig->regs = std::move(start->regs);
  // Runtime allocations between the boot arena and the discovery/TMR top.
  rig->vram = *AmVramAllocator::Create(16 << 20, kVram - kMiB);
  rig->gmc = *AmGmc::Create(*rig->regs, rig->bars->vram(), kVram, rig->arena);
  EXPECT_TRUE(rig->gmc->Init().ok());
  return rig;
}

std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 12));
  return v;
}

constexpr const AmVmHubRegs* kHubs[] = {&kMmhub300Regs, &kGcHub1100Regs};

TEST(AmVm, ContextRegistersAreContextZerosAtLinuxsDistances) {
  const AmVmContextRegs gc = AmVmContextRegsOf(kGcHub1100Regs, 3);
  EXPECT_STREQ(gc.cntl.name, "regGCVM_CONTEXT3_CNTL");
  EXPECT_EQ(gc.cntl.offset, 0x1688u + 3);
  EXPECT_STREQ(gc.base_lo.name, "regGCVM_CONTEXT3_PAGE_TABLE_BASE_ADDR_LO32");
  EXPECT_EQ(gc.base_lo.offset, 0x16f3u + 6);  // CONTEXT1 is 0x16f5
  EXPECT_EQ(gc.start_hi.offset, 0x1714u + 6);
  EXPECT_EQ(gc.end_lo.offset, 0x1733u + 6);
  const AmVmContextRegs mm = AmVmContextRegsOf(kMmhub300Regs, 15);
  EXPECT_STREQ(mm.cntl.name, "regMMVM_CONTEXT15_CNTL");
  EXPECT_EQ(mm.cntl.offset, 0x74fu);
  EXPECT_EQ(mm.base_lo.offset, 0x7c9u);
  EXPECT_EQ(mm.start_lo.offset, 0x7e9u);
  EXPECT_EQ(mm.end_lo.offset, 0x809u);
}

TEST(AmVm, MapTranslatesByteExactOnBothHubs) {
  auto rig = MakeRig();
  std::unique_ptr<AmVm> vm = rig->Vm(1);
  ASSERT_NE(vm, nullptr);
  for (const AmVmHubRegs* hub : kHubs) {
    const AmVmContextRegs r = AmVmContextRegsOf(*hub, 1);
    // Enable, depth 3, block size 0, every protection fault on; no retry.
    EXPECT_EQ(rig->gpu->Register(rig->Dword(r.cntl)), 0x7FFE07u);
    EXPECT_EQ(rig->gpu->Register(rig->Dword(r.base_lo)), vm->root() | 1);
    EXPECT_EQ(rig->gpu->Register(rig->Dword(r.base_hi)), 0u);
    EXPECT_EQ(rig->gpu->Register(rig->Dword(r.end_lo)), 0xFFFFFFFFu);  // 2^36 - 1 pages
    EXPECT_EQ(rig->gpu->Register(rig->Dword(r.end_hi)), 0xFu);
    EXPECT_LT(rig->file().FirstWriteOf(rig->Dword(r.base_hi)),
              rig->file().FirstWriteOf(rig->Dword(r.cntl)));
  }
  const std::vector<uint8_t> bytes = Pattern(3 * kPage, 1);
  const uint64_t pa = *rig->vram->Allocate(bytes.size());
  const uint64_t va = *vm->AllocateVa(bytes.size());
  EXPECT_GE(va, AmVm::kVaFloor);
  ASSERT_TRUE(rig->bars->vram().WriteBlock(pa, bytes).ok());
  AmVmMapFlags flags;
  flags.executable = true;
  ASSERT_TRUE(vm->Map(va, pa, bytes.size(), flags).ok());
  const uint64_t pte = *vm->PteAt(va + kPage);
  EXPECT_EQ(pte & kPteAddressMask, pa + kPage);
  EXPECT_EQ(pte & 0x7F, kPteValid | kPteReadable | kPteWriteable | kPteExecutable);
  rig->model->FinishChecks();
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();

  for (const AmVmHubRegs* hub : kHubs) {
    EmulatedVmSpace space(*rig->model, *hub, 1);
    uint8_t* p = space.Translate(va, bytes.size());
    ASSERT_EQ(p, rig->View(pa)) << hub->hub;
    EXPECT_EQ(std::memcmp(p, bytes.data(), bytes.size()), 0);
    EXPECT_EQ(space.Translate(va + 100, 50), p + 100);
    EXPECT_EQ(space.Translate(va + 3 * kPage, 1), nullptr);
    EXPECT_EQ(space.Translate(va, bytes.size() + 1), nullptr);
    std::optional<GpuAddressSpace::Allocation> a = space.AllocationAt(va + 5000);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->va, va);
    EXPECT_EQ(a->id, pa);
    EXPECT_EQ(a->size, bytes.size());
    EXPECT_EQ(a->host, p);
    EXPECT_TRUE(a->executable);
  }
  // The engine's writes land in VRAM where the driver reads them.
  EmulatedVmSpace(*rig->model, kGcHub1100Regs, 1).Translate(va + 10, 1)[0] = 0xAB;
  uint8_t back = 0;
  ASSERT_TRUE(rig->bars->vram().ReadBlock(pa + 10, absl::MakeSpan(&back, 1)).ok());
  EXPECT_EQ(back, 0xAB);
}

TEST(AmVm, UnmappedAndDisabledDoNotTranslate) {
  auto rig = MakeRig();
  std::unique_ptr<AmVm> vm = rig->Vm(1);
  EmulatedVmSpace space(*rig->model, kGcHub1100Regs, 1);
  EXPECT_EQ(space.Translate(0x100000000, 4), nullptr);
  EXPECT_FALSE(space.AllocationAt(0x100000000).has_value());
  absl::StatusOr<EmulatedVmSpace::PageWalk> w = space.Walk(0x100000000);
  EXPECT_EQ(w.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(w.status().message().find("PDB1"), std::string::npos) << w.status();
  // VMID 2 was never set up.
  EmulatedVmSpace other(*rig->model, kGcHub1100Regs, 2);
  EXPECT_EQ(other.Walk(0x1000).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(other.Translate(0x1000, 4), nullptr);
}

TEST(AmVm, NonContiguousPagesTranslateOnlyOneByOne) {
  auto rig = MakeRig();
  std::unique_ptr<AmVm> vm = rig->Vm(1);
  const uint64_t pa = *rig->vram->Allocate(4 * kPage);
  const uint64_t va = *vm->AllocateVa(4 * kPage);
  ASSERT_TRUE(vm->Map(va, pa, kPage).ok());
  ASSERT_TRUE(vm->Map(va + kPage, pa + 2 * kPage, kPage).ok());
  AmVmMapFlags x;
  x.executable = true;
  ASSERT_TRUE(vm->Map(va + 2 * kPage, pa + 3 * kPage, kPage, x).ok());  // contiguous, other flags
  EmulatedVmSpace space(*rig->model, kGcHub1100Regs, 1);
  EXPECT_EQ(space.Translate(va, 2 * kPage), nullptr);
  EXPECT_EQ(space.Translate(va + kPage - 1, 2), nullptr);
  EXPECT_EQ(space.Translate(va, kPage), rig->View(pa));
  EXPECT_EQ(space.Translate(va + kPage, kPage), rig->View(pa + 2 * kPage));
  // Physically contiguous: one Translate works, but the flags split it into
  // two allocations.
  EXPECT_EQ(space.Translate(va + kPage, 2 * kPage), rig->View(pa + 2 * kPage));
  EXPECT_EQ(space.AllocationAt(va)->size, kPage);
  EXPECT_EQ(space.AllocationAt(va + kPage)->size, kPage);
  EXPECT_FALSE(space.AllocationAt(va + kPage)->executable);
  EXPECT_TRUE(space.AllocationAt(va + 2 * kPage)->executable);
}

TEST(AmVm, PteWithoutHdpFlushOrInvalidationIsNotSeen) {
  auto rig = MakeRig();
  std::unique_ptr<AmVm> vm = rig->Vm(1);
  const uint64_t pa = *rig->vram->Allocate(2 * kPage);
  const uint64_t va = *vm->AllocateVa(2 * kPage);
  ASSERT_TRUE(vm->Map(va, pa, kPage).ok());  // builds the PTB
  const uint64_t pte = (pa + kPage) | kPteValid | kPteReadable | kPteWriteable;
  ASSERT_TRUE(rig->bars->vram().Write64(*vm->PteAddress(va + kPage), pte).ok());
  EmulatedVmSpace gc(*rig->model, kGcHub1100Regs, 1), mm(*rig->model, kMmhub300Regs, 1);
  // Invalidated without an HDP flush: the GPU's view lacks the write.
  ASSERT_TRUE(rig->gmc->InvalidateTlb(kGcHub1100Regs, 1).ok());
  EXPECT_EQ(gc.Translate(va + kPage, 8), nullptr);
  // Flushed, not invalidated: the TLB still holds the old table.
  ASSERT_TRUE(rig->gmc->FlushHdp().ok());
  EXPECT_EQ(gc.Translate(va + kPage, 8), nullptr);
  ASSERT_TRUE(rig->gmc->InvalidateTlb(kGcHub1100Regs, 1).ok());
  EXPECT_EQ(gc.Translate(va + kPage, 8), rig->View(pa + kPage));
  // MMHUB: another VMID's invalidation does not reload VMID 1.
  EXPECT_EQ(mm.Translate(va + kPage, 8), nullptr);
  ASSERT_TRUE(rig->gmc->InvalidateTlb(kMmhub300Regs, 2).ok());
  EXPECT_EQ(mm.Translate(va + kPage, 8), nullptr);
  ASSERT_TRUE(rig->gmc->InvalidateTlb(kMmhub300Regs, 1).ok());
  EXPECT_EQ(mm.Translate(va, 2 * kPage), rig->View(pa));
  rig->model->FinishChecks();
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

int FragmentOf(uint64_t pte) { return static_cast<int>((pte & kPteFragmentMask) >> 7); }

TEST(AmVm, FragmentsFollowAlignmentAndTheWalkerTrustsThem) {
  auto rig = MakeRig();
  std::unique_ptr<AmVm> vm = rig->Vm(1);
  // 4 MiB, both sides 4 MiB-aligned: one 1024-page fragment.
  const uint64_t pa = *rig->vram->Allocate(4 * kMiB, 4 * kMiB);
  const uint64_t va = *vm->AllocateVa(4 * kMiB, 4 * kMiB);
  ASSERT_TRUE(vm->Map(va, pa, 4 * kMiB).ok());
  EXPECT_EQ(FragmentOf(*vm->PteAt(va)), 10);
  EXPECT_EQ(FragmentOf(*vm->PteAt(va + 4 * kMiB - kPage)), 10);
  EmulatedVmSpace space(*rig->model, kGcHub1100Regs, 1);
  EXPECT_EQ(space.Translate(va, 4 * kMiB), rig->View(pa));
  EXPECT_EQ(space.AllocationAt(va + kMiB)->size, 4 * kMiB);
  // 5 pages at a 4-page-aligned VA and PA: fragments 2,2,2,2,0. Shifted by
  // one page on the physical side: nothing is aligned, all 0.
  const uint64_t va2 = *vm->AllocateVa(8 * kPage, 4 * kPage);
  const uint64_t pa2 = *rig->vram->Allocate(8 * kPage, 4 * kPage);
  ASSERT_TRUE(vm->Map(va2, pa2, 5 * kPage).ok());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(FragmentOf(*vm->PteAt(va2 + i * kPage)), i < 4 ? 2 : 0);
  const uint64_t va3 = *vm->AllocateVa(4 * kPage, 4 * kPage);
  ASSERT_TRUE(vm->Map(va3, pa2 + 5 * kPage, 2 * kPage).ok());
  EXPECT_EQ(FragmentOf(*vm->PteAt(va3)), 0);
  EXPECT_EQ(FragmentOf(*vm->PteAt(va3 + kPage)), 0);

  // A driver that claims two non-contiguous pages are one fragment: the hub
  // translates the second page from the first's PTE.
  const uint64_t va4 = *vm->AllocateVa(2 * kPage, 2 * kPage);
  const uint64_t a = *rig->vram->Allocate(kPage), b = *rig->vram->Allocate(3 * kPage) + 2 * kPage;
  ASSERT_TRUE(vm->Map(va4, a, kPage).ok());
  ASSERT_TRUE(vm->Map(va4 + kPage, b, kPage).ok());
  EXPECT_EQ(space.Translate(va4 + kPage, 4), rig->View(b));
  for (int i = 0; i < 2; ++i) {
    const uint64_t p = *vm->PteAt(va4 + i * kPage) | (1ull << kPteFragmentShift);
    ASSERT_TRUE(rig->bars->vram().Write64(*vm->PteAddress(va4 + i * kPage), p).ok());
  }
  ASSERT_TRUE(rig->gmc->FlushAndInvalidate(1).ok());
  EXPECT_EQ(space.Translate(va4 + kPage, 4), rig->View(a + kPage));
  EXPECT_EQ(space.Walk(va4 + kPage)->pte & kPteAddressMask, a);
}

TEST(AmVm, AllocationAtSpansFragmentsAndStopsAtNeighbours) {
  auto rig = MakeRig();
  std::unique_ptr<AmVm> vm = rig->Vm(1);
  // 6 MiB + 3 pages, physically contiguous: fragments 2 MiB (x3) then
  // smaller; a page either side with other flags or another place.
  const uint64_t size = 6 * kMiB + 3 * kPage;
  const uint64_t pa = *rig->vram->Allocate(size + 2 * kMiB, 2 * kMiB);
  const uint64_t va = *vm->AllocateVa(size + 4 * kMiB, 2 * kMiB) + 2 * kMiB;
  ASSERT_TRUE(vm->Map(va, pa, size).ok());
  AmVmMapFlags x;
  x.executable = true;
  ASSERT_TRUE(vm->Map(va - kPage, pa + size + kPage, kPage).ok());  // not contiguous
  ASSERT_TRUE(vm->Map(va + size, pa + size, kPage, x).ok());        // other flags
  EmulatedVmSpace space(*rig->model, kGcHub1100Regs, 1);
  for (uint64_t at : {va, va + 3 * kMiB + 5, va + size - 1}) {
    std::optional<GpuAddressSpace::Allocation> a = space.AllocationAt(at);
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->va, va);
    EXPECT_EQ(a->size, size);
    EXPECT_EQ(a->id, pa);
    EXPECT_FALSE(a->executable);
  }
  EXPECT_EQ(space.AllocationAt(va + size)->size, kPage);
  EXPECT_TRUE(space.AllocationAt(va + size)->executable);
}

TEST(AmVm, TheWalkerAlsoReadsTheFlatGartOfVmidZero) {
  auto rig = MakeRig();
  const uint64_t pa = *rig->vram->Allocate(2 * kPage);
  ASSERT_TRUE(rig->gmc->MapGart(rig->gmc->gart_start() + 0x5000, pa, 2).ok());
  for (const AmVmHubRegs* hub : kHubs) {
    EmulatedVmSpace gart(*rig->model, *hub, 0);
    EXPECT_EQ(gart.Translate(rig->gmc->gart_start() + 0x5010, kPage), rig->View(pa + 0x10));
    EXPECT_EQ(gart.Translate(rig->gmc->gart_start() + 0x7000, 1), nullptr);
    EXPECT_EQ(gart.Walk(rig->gmc->gart_end() + 1).status().code(), absl::StatusCode::kOutOfRange);
  }
}

TEST(AmVm, UnmapClearsAndFreesEmptyTables) {
  auto rig = MakeRig();
  std::unique_ptr<AmVm> vm = rig->Vm(1);
  const uint64_t free_before = rig->vram->free_bytes();
  EXPECT_EQ(vm->table_pages(), 1u);
  const uint64_t pa = *rig->vram->Allocate(2 * kPage);
  const uint64_t va = uint64_t{5} << 39;  // a fresh PDB2 entry
  ASSERT_TRUE(vm->Map(va, pa, 2 * kPage).ok());
  EXPECT_EQ(vm->table_pages(), 4u);
  ASSERT_TRUE(vm->Unmap(va, kPage).ok());
  EmulatedVmSpace space(*rig->model, kGcHub1100Regs, 1);
  EXPECT_EQ(space.Translate(va, 1), nullptr);
  EXPECT_EQ(space.Translate(va + kPage, kPage), rig->View(pa + kPage));
  EXPECT_EQ(vm->table_pages(), 4u);
  absl::Status again = vm->Unmap(va, kPage);
  EXPECT_EQ(again.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(again.message().find("is not mapped"), std::string::npos) << again;
  ASSERT_TRUE(vm->Unmap(va + kPage, kPage).ok());
  for (const AmVmHubRegs* hub : kHubs) {
    EXPECT_EQ(EmulatedVmSpace(*rig->model, *hub, 1).Translate(va + kPage, 1), nullptr);
  }
  EXPECT_EQ(vm->table_pages(), 1u);
  ASSERT_TRUE(rig->vram->Free(pa).ok());
  EXPECT_EQ(rig->vram->free_bytes(), free_before);
  // The page tables were freed only after the invalidation.
  rig->model->FinishChecks();
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmVm, BadRequestsAreRefusedNamingWhatWasWrong) {
  auto rig = MakeRig();
  for (int vmid : {0, 16}) {
    absl::StatusOr<std::unique_ptr<AmVm>> bad =
        AmVm::Create(*rig->regs, *rig->gmc, *rig->vram, rig->bars->vram(), vmid);
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << vmid;
  }
  EXPECT_EQ(AmVm::Create(*rig->regs, *rig->gmc, *rig->vram, rig->bars->vram(), 1, 3 * kMiB)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  std::unique_ptr<AmVm> vm = rig->Vm(4, uint64_t{1} << 32);
  const uint64_t pa = *rig->vram->Allocate(4 * kPage);
  ASSERT_TRUE(vm->Map(0x10000, pa, 2 * kPage).ok());
  absl::Status overlap = vm->Map(0xF000, pa, 2 * kPage);
  EXPECT_EQ(overlap.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(overlap.message().find("VA 0x10000 is already mapped"), std::string::npos) << overlap;
  EXPECT_EQ(vm->Map(0x20010, pa, kPage).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(vm->Map(0x20000, pa + 8, kPage).code(), absl::StatusCode::kInvalidArgument);
  absl::Status past = vm->Map((uint64_t{1} << 32) - kPage, pa, 2 * kPage);
  EXPECT_EQ(past.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(past.message().find("leaves the context's VA range"), std::string::npos) << past;
  EXPECT_EQ(vm->Map(0x20000, kVram - kPage, 2 * kPage).code(), absl::StatusCode::kInvalidArgument);
  AmVmMapFlags bad_mtype;
  bad_mtype.mtype = 5;
  EXPECT_EQ(vm->Map(0x20000, pa, kPage, bad_mtype).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(vm->Unmap(0x30000, kPage).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(vm->FreeVa(0x1234000).code(), absl::StatusCode::kInvalidArgument);
  // The failed maps changed nothing.
  EXPECT_EQ(vm->PteAt(0xF000).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(vm->PteAt(0x20000).status().code(), absl::StatusCode::kNotFound);

  // Destroy: the context is off on both hubs, every table page is back.
  const uint64_t free_now = rig->vram->free_bytes();
  const size_t tables = vm->table_pages();
  ASSERT_TRUE(vm->Destroy().ok());
  EXPECT_EQ(rig->vram->free_bytes(), free_now + tables * kPage);
  EmulatedVmSpace space(*rig->model, kGcHub1100Regs, 4);
  EXPECT_EQ(space.Translate(0x10000, 1), nullptr);
  EXPECT_EQ(space.Walk(0x10000).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(vm->Map(0x40000, pa, kPage).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(AmVm, RandomMapUnmapMatchesAModel) {
  auto rig = MakeRig();
  std::unique_ptr<AmVm> vm = rig->Vm(7);
  const uint64_t free_before = rig->vram->free_bytes();
  constexpr uint64_t kPoolPages = 4096;  // 16 MiB of VRAM to point at
  const uint64_t pool = *rig->vram->Allocate(kPoolPages * kPage);
  // VA pages spread over 8 GiB: several PDB1 and PDB0 entries.
  constexpr uint64_t kVaPages = uint64_t{8} << 18;
  std::mt19937_64 rng(7);
  std::map<uint64_t, uint64_t> model;                   // VA page -> VRAM page
  std::vector<std::pair<uint64_t, uint64_t>> mappings;  // (VA page, pages)
  EmulatedVmSpace gc(*rig->model, kGcHub1100Regs, 7), mm(*rig->model, kMmhub300Regs, 7);
  auto check = [&](uint64_t page) {
    auto it = model.find(page);
    for (EmulatedVmSpace* s : {&gc, &mm}) {
      uint8_t* p = s->Translate(page * kPage + 8, 8);
      if (it == model.end()) {
        ASSERT_EQ(p, nullptr) << std::hex << page;
      } else {
        ASSERT_EQ(p, rig->View(it->second * kPage + 8)) << std::hex << page;
      }
    }
    if (it == model.end()) return;
    // The allocation around it: the model's run of VA pages that continue
    // physically (all maps here have the same flags).
    uint64_t lo = page, hi = page + 1;
    for (auto b = model.find(lo - 1);
         b != model.end() && b->second + (page - b->first) == it->second; b = model.find(lo - 1)) {
      --lo;
    }
    for (auto f = model.find(hi); f != model.end() && f->second == it->second + (hi - page);
         f = model.find(hi)) {
      ++hi;
    }
    std::optional<GpuAddressSpace::Allocation> a = gc.AllocationAt(page * kPage);
    ASSERT_TRUE(a.has_value()) << std::hex << page;
    ASSERT_EQ(a->va, lo * kPage) << std::hex << page;
    ASSERT_EQ(a->size, (hi - lo) * kPage) << std::hex << page;
    ASSERT_EQ(a->id, model[lo] * kPage) << std::hex << page;
  };
  for (int op = 0; op < 1500; ++op) {
    if (mappings.empty() || rng() % 3 != 0) {
      // Clustered VAs so maps share tables and neighbours.
      const uint64_t cluster = (rng() % 8) << 18;
      const uint64_t va_page = cluster + rng() % 4096;
      const uint64_t pages = 1 + rng() % (rng() % 4 == 0 ? 600 : 16);
      if (va_page + pages > kVaPages) continue;
      const uint64_t pa_page = pool / kPage + rng() % (kPoolPages - pages);
      bool overlaps = false;
      for (uint64_t i = 0; i < pages && !overlaps; ++i) overlaps = model.count(va_page + i) > 0;
      absl::Status s = vm->Map(va_page * kPage, pa_page * kPage, pages * kPage);
      if (overlaps) {
        ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << op;
      } else {
        ASSERT_TRUE(s.ok()) << s << " op " << op;
        for (uint64_t i = 0; i < pages; ++i) model[va_page + i] = pa_page + i;
        mappings.push_back({va_page, pages});
      }
      check(va_page);
      check(va_page + pages - 1);
      check(va_page + pages);
    } else {
      const size_t k = rng() % mappings.size();
      auto [va_page, pages] = mappings[k];
      mappings.erase(mappings.begin() + k);
      ASSERT_TRUE(vm->Unmap(va_page * kPage, pages * kPage).ok()) << op;
      for (uint64_t i = 0; i < pages; ++i) model.erase(va_page + i);
      check(va_page);
      check(va_page + pages / 2);
    }
    for (int i = 0; i < 4; ++i) check((rng() % 8) << 18 | rng() % 4700);
    if (::testing::Test::HasFatalFailure()) return;
  }
  // A whole mapping translates in one piece.
  if (!mappings.empty()) {
    auto [va_page, pages] = mappings.front();
    EXPECT_EQ(gc.Translate(va_page * kPage, pages * kPage), rig->View(model[va_page] * kPage));
  }
  for (auto [va_page, pages] : mappings)
    ASSERT_TRUE(vm->Unmap(va_page * kPage, pages * kPage).ok());
  EXPECT_EQ(vm->table_pages(), 1u);
  ASSERT_TRUE(rig->vram->Free(pool).ok());
  EXPECT_EQ(rig->vram->free_bytes(), free_before);
  rig->model->FinishChecks();
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmVm, ModelCatchesContextEnabledEarlyAndUnwaitedInvalidations) {
  auto rig = MakeRig();
  const AmVmContextRegs r = AmVmContextRegsOf(kGcHub1100Regs, 3);
  ASSERT_TRUE(rig->regs->Write(r.cntl, am_field::kCtxEnable | (3u << 1)).ok());
  EXPECT_TRUE(
      rig->HasViolation("GCHUB: CONTEXT3_CNTL enabled before the page table base (BASE_ADDR"));
  EXPECT_TRUE(rig->HasViolation("GCHUB: CONTEXT3_CNTL enabled before START/END_ADDR were set"));
  // Base without its valid bit.
  const AmVmContextRegs m = AmVmContextRegsOf(kMmhub300Regs, 9);
  ASSERT_TRUE(rig->regs->WritePair(m.start_lo, m.start_hi, 0).ok());
  ASSERT_TRUE(rig->regs->WritePair(m.end_lo, m.end_hi, 0xFFFF).ok());
  ASSERT_TRUE(rig->regs->WritePair(m.base_lo, m.base_hi, 0x100000).ok());
  ASSERT_TRUE(rig->regs->Write(m.cntl, am_field::kCtxEnable).ok());
  EXPECT_TRUE(rig->HasViolation("MMHUB: CONTEXT9_CNTL enabled before the page table base had"));
  // A VMID 5 request never waited for, then another.
  const uint32_t req = (1u << 5) | am_field::kInvAllLevels;
  ASSERT_TRUE(rig->regs->Write(kGcHub1100Regs.inv_req, req).ok());
  ASSERT_TRUE(rig->regs->Write(kGcHub1100Regs.inv_req, req).ok());
  EXPECT_TRUE(rig->HasViolation("GCHUB: invalidation requested while the previous one was never"));
}

TEST(AmVm, TheWalkerRunsWhileTheDriverMaps) {
  auto rig = MakeRig();
  std::unique_ptr<AmVm> vm = rig->Vm(2);
  const std::vector<uint8_t> bytes = Pattern(8 * kPage, 9);
  const uint64_t pa = *rig->vram->Allocate(bytes.size());
  ASSERT_TRUE(rig->bars->vram().WriteBlock(pa, bytes).ok());
  const uint64_t va = *vm->AllocateVa(bytes.size());
  ASSERT_TRUE(vm->Map(va, pa, bytes.size()).ok());
  const uint64_t scratch = *rig->vram->Allocate(64 * kPage);
  std::atomic<bool> stop{false};
  std::atomic<int> walks{0}, bad{0};
  std::thread engine([&] {
    EmulatedVmSpace space(*rig->model, kGcHub1100Regs, 2);
    while (!stop.load()) {
      uint8_t* p = space.Translate(va, bytes.size());
      if (p == nullptr || std::memcmp(p, bytes.data(), bytes.size()) != 0) ++bad;
      space.AllocationAt(va + 64 * kPage);  // maps come and go there
      ++walks;
    }
  });
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(vm->Map(va + (64 + i % 5) * kPage * 16, scratch, 16 * kPage).ok());
    ASSERT_TRUE(vm->Unmap(va + (64 + i % 5) * kPage * 16, 16 * kPage).ok());
  }
  while (walks.load() < 100) std::this_thread::yield();
  stop = true;
  engine.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace uop
