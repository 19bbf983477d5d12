// AmIndirectRegs on the emulated Navi31's register file: the exact index /
// read-back / data sequence of amdgpu_device_indirect_{r,w}reg_ext, the
// 40-bit path through PCIE_INDEX2_HI, registers inside the BAR going direct,
// addresses a pair cannot carry refused before any access, whole sequences
// serialized between threads, and a removed device named.
#include "drivers/am/pci/indirect_regs.h"

#include <memory>
#include <thread>
#include <vector>

#include "drivers/am/emulator/discovery_table.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/emulator/nbio_model.h"
#include "drivers/am/pci/discovery_reader.h"
#include "drivers/am/pci/driver_start_for_test.h"
#include "drivers/am/pci/nbio.h"
#include "drivers/am/pci/pci_bars.h"
#include "drivers/am/pci/pci_sysfs.h"
#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

using Access = EmulatedRegisterFile::Access;

struct Rig {
  EmulatedKernelIo io;
  std::shared_ptr<EmulatedPciGpu> gpu;
  std::unique_ptr<EmulatedNbio> nbio;  // serves both pairs and the S2A registers
  std::unique_ptr<AmPciBars> bars;
  std::unique_ptr<AmRegisterIo> regs;

  EmulatedRegisterFile& file() { return gpu->registers(); }
  uint32_t Dword(const AmReg& r) { return regs->map().Dword(r); }
  bool HasViolation(const std::string& text) {
    for (const std::string& v : file().violations())
      if (v.find(text) != std::string::npos) return true;
    return false;
  }
  // The driver's accesses from log index `from` on.
  std::vector<Access> LogFrom(size_t from) {
    std::vector<Access> log = file().log();
    return std::vector<Access>(log.begin() + static_cast<long>(from), log.end());
  }
};

std::unique_ptr<Rig> MakeRig() {
  auto rig = std::make_unique<Rig>();
  EmulatedPciGpuConfig c;
  c.device_id = 0x744c;
  c.vram_size = 64 << 20;
  c.discovery = BuildDiscoveryBinary(Navi31Ips());
  absl::StatusOr<std::shared_ptr<EmulatedPciGpu>> gpu = EmulatedPciGpu::Install(rig->io, c);
  EXPECT_TRUE(gpu.ok()) << gpu.status();
  rig->gpu = *gpu;
  absl::StatusOr<std::unique_ptr<EmulatedNbio>> nbio = EmulatedNbio::Attach(*rig->gpu);
  EXPECT_TRUE(nbio.ok()) << nbio.status();
  rig->nbio = std::move(*nbio);
  absl::StatusOr<AmPciDriverStart> start = StartAmPciDriverForTest(rig->io);
  EXPECT_TRUE(start.ok()) << start.status();
  rig->bars = std::move(start->bars);
  rig->regs = std::move(start->regs);
  return rig;
}

bool Contains(const absl::Status& s, const std::string& text) {
  return s.message().find(text) != std::string::npos;
}

TEST(AmIndirectRegs, PairsComeFromTheDiscoveryBases) {
  std::unique_ptr<Rig> rig = MakeRig();
  // Navi31Ips: NBIO segments 0/1/3 at 0x0 / 0x14 / 0x10400.
  EXPECT_EQ(rig->Dword(kNbio430RsmuPair.index), 0x14u);
  EXPECT_EQ(rig->Dword(kNbio430RsmuPair.data), 0x15u);
  EXPECT_EQ(rig->Dword(kNbio430PcieIndex2Pair.index), 0xEu);
  EXPECT_EQ(rig->Dword(kNbio430PcieIndex2Pair.data), 0xFu);
  EXPECT_EQ(rig->Dword(*kNbio430PcieIndex2Pair.index_hi), 0x11u);
  // S2A_DOORBELL_ENTRY_2_CTRL: 4 * (0x10400 + 0x4F7642), past the 1 MiB BAR.
  EXPECT_EQ(rig->regs->map().ByteOffset(kNbio430Regs.s2a_entry[2]), 0x141E908u);
  AmIndirectRegs ind(*rig->regs);
  EXPECT_TRUE(ind.IsIndirect(kNbio430Regs.s2a_entry[2]));
  EXPECT_FALSE(ind.IsIndirect(kNbio430Regs.doorbell_aper_en));
}

TEST(AmIndirectRegs, WriteAndReadFollowLinuxsSequenceWithTheIndexReadBack) {
  std::unique_ptr<Rig> rig = MakeRig();
  AmIndirectRegs ind(*rig->regs);
  const uint64_t a = rig->nbio->entry_address(2);
  const uint32_t index = rig->Dword(kNbio430RsmuPair.index);
  const uint32_t data = rig->Dword(kNbio430RsmuPair.data);

  size_t mark = rig->file().log().size();
  ASSERT_TRUE(ind.Write(a, 0x3051001D).ok());
  std::vector<Access> w = rig->LogFrom(mark);
  ASSERT_EQ(w.size(), 4u);
  EXPECT_TRUE(w[0].write && w[0].dword == index && w[0].value == a);
  EXPECT_TRUE(!w[1].write && w[1].dword == index);  // posts the index
  EXPECT_TRUE(w[2].write && w[2].dword == data && w[2].value == 0x3051001Du);
  EXPECT_TRUE(!w[3].write && w[3].dword == data && w[3].value == 0x3051001Du);  // read back
  EXPECT_EQ(rig->file().GetExtended(a), 0x3051001Du);
  EXPECT_EQ(rig->nbio->entry(2), 0x3051001Du);

  rig->file().SetExtended(a, 0x1234);
  mark = rig->file().log().size();
  absl::StatusOr<uint32_t> v = ind.Read(a);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 0x1234u);
  std::vector<Access> r = rig->LogFrom(mark);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_TRUE(r[0].write && r[0].dword == index && r[0].value == a);
  EXPECT_TRUE(!r[1].write && r[1].dword == index && r[1].value == a);
  EXPECT_TRUE(!r[2].write && r[2].dword == data && r[2].value == 0x1234u);
  // The model saw one extended write and two reads (the write's read-back).
  EXPECT_EQ(rig->file().ExtendedWritesOf(a), std::vector<uint32_t>{0x3051001D});
  EXPECT_EQ(rig->file().extended_log().size(), 3u);
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmIndirectRegs, RegistersInsideTheBarGoDirectOthersThroughThePair) {
  std::unique_ptr<Rig> rig = MakeRig();
  AmIndirectRegs ind(*rig->regs);
  const uint32_t index = rig->Dword(kNbio430RsmuPair.index);
  const AmReg& aper = kNbio430Regs.doorbell_aper_en;
  ASSERT_TRUE(ind.WriteReg(aper, 1).ok());
  EXPECT_EQ(rig->file().WritesOf(rig->Dword(aper)), std::vector<uint32_t>{1});
  EXPECT_TRUE(rig->file().WritesOf(index).empty());
  EXPECT_TRUE(rig->nbio->aperture_enabled());

  // Read-modify-write of an S2A entry keeps the bits it does not touch.
  const AmReg& e0 = kNbio430Regs.s2a_entry[0];
  rig->file().SetExtended(rig->nbio->entry_address(0), nbio::kS2aFenceEnable);
  ASSERT_TRUE(ind.UpdateReg(e0, 0, nbio::kGcEntry0).ok());
  EXPECT_EQ(rig->nbio->entry(0), nbio::kGcEntry0 | nbio::kS2aFenceEnable);
  absl::StatusOr<uint32_t> v = ind.ReadReg(e0);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, nbio::kGcEntry0 | nbio::kS2aFenceEnable);
  EXPECT_EQ(rig->file().WritesOf(index).size(), 3u);  // read, write, read: all indirect
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmIndirectRegs, FortyBitAddressesUseIndexHiAndClearItAfterwards) {
  std::unique_ptr<Rig> rig = MakeRig();
  AmIndirectRegs ind(*rig->regs, kNbio430PcieIndex2Pair);
  const uint64_t far = 0x12'3456'7000ull;  // a register the test adds past 4 GiB
  rig->file().AddExtended(far, 0);
  const uint32_t index = rig->Dword(kNbio430PcieIndex2Pair.index);
  const uint32_t hi = rig->Dword(*kNbio430PcieIndex2Pair.index_hi);
  const uint32_t data = rig->Dword(kNbio430PcieIndex2Pair.data);

  size_t mark = rig->file().log().size();
  ASSERT_TRUE(ind.Write(far, 0xCAFE).ok());
  std::vector<Access> w = rig->LogFrom(mark);
  ASSERT_EQ(w.size(), 8u);
  EXPECT_TRUE(w[0].write && w[0].dword == index && w[0].value == 0x34567000u);
  EXPECT_TRUE(!w[1].write && w[1].dword == index);
  EXPECT_TRUE(w[2].write && w[2].dword == hi && w[2].value == 0x12u);
  EXPECT_TRUE(!w[3].write && w[3].dword == hi);
  EXPECT_TRUE(w[4].write && w[4].dword == data && w[4].value == 0xCAFEu);
  EXPECT_TRUE(!w[5].write && w[5].dword == data);
  EXPECT_TRUE(w[6].write && w[6].dword == hi && w[6].value == 0u);  // cleared
  EXPECT_TRUE(!w[7].write && w[7].dword == hi);
  EXPECT_EQ(rig->file().GetExtended(far), 0xCAFEu);
  absl::StatusOr<uint32_t> v = ind.Read(far);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, 0xCAFEu);
  // A 32-bit address on the same pair leaves INDEX2_HI alone.
  mark = rig->file().log().size();
  ASSERT_TRUE(ind.Read(rig->nbio->entry_address(3)).ok());
  EXPECT_EQ(rig->LogFrom(mark).size(), 3u);
  EXPECT_TRUE(rig->file().CheckNoViolations().ok()) << rig->file().CheckNoViolations();
}

TEST(AmIndirectRegs, AddressesThePairCannotCarryAreRefusedBeforeAnyAccess) {
  std::unique_ptr<Rig> rig = MakeRig();
  AmIndirectRegs rsmu(*rig->regs);
  AmIndirectRegs pcie(*rig->regs, kNbio430PcieIndex2Pair);
  const size_t mark = rig->file().log().size();
  absl::StatusOr<uint32_t> r = rsmu.Read(0x1'0000'0000ull);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_TRUE(Contains(r.status(), "0x100000000")) << r.status();
  EXPECT_TRUE(Contains(r.status(), "regBIF_BX_PF0_RSMU_INDEX")) << r.status();
  absl::Status w = rsmu.Write(0x1002, 1);
  EXPECT_EQ(w.code(), absl::StatusCode::kInvalidArgument) << w;
  EXPECT_TRUE(Contains(w, "4-byte-aligned")) << w;
  w = pcie.Write(1ull << 40, 1);
  EXPECT_EQ(w.code(), absl::StatusCode::kInvalidArgument) << w;
  EXPECT_TRUE(Contains(w, "40 address bits")) << w;
  EXPECT_EQ(rig->file().log().size(), mark);  // nothing reached the device
}

TEST(AmIndirectRegs, AnAddressNoModelServesIsAViolationOfTheModel) {
  std::unique_ptr<Rig> rig = MakeRig();
  AmIndirectRegs ind(*rig->regs);
  ASSERT_TRUE(ind.Read(0x11140288).ok());
  EXPECT_TRUE(rig->HasViolation("SMN read of 0x11140288")) << rig->file().CheckNoViolations();
  ASSERT_TRUE(ind.Write(0x11140288, 5).ok());
  EXPECT_TRUE(rig->HasViolation("SMN write of 0x5 to 0x11140288"));
  // Data touched before any index write: a driver that skipped the index.
  std::unique_ptr<Rig> r2 = MakeRig();
  ASSERT_TRUE(r2->regs->Read(kNbio430PcieIndex2Pair.data).ok());
  EXPECT_TRUE(r2->HasViolation("PCIE_DATA2 read with no SMN address written to PCIE_INDEX2"));
}

TEST(AmIndirectRegs, ConcurrentUsersNeverInterleaveTheirSequences) {
  std::unique_ptr<Rig> rig = MakeRig();
  AmIndirectRegs ind(*rig->regs);
  // Two registers, two threads each writing and reading back its own: with
  // the index of one thread between another's index and data, a value
  // would land in (or come from) the wrong register.
  const uint64_t a = rig->nbio->entry_address(4), b = rig->nbio->entry_address(5);
  std::vector<std::string> errors[2];
  auto run = [&](int t, uint64_t address) {
    for (uint32_t i = 0; i < 2000; ++i) {
      const uint32_t want = (i << 1) | static_cast<uint32_t>(t) | 0x80000000u;
      if (!ind.Write(address, want).ok()) errors[t].push_back("write failed");
      absl::StatusOr<uint32_t> v = ind.Read(address);
      if (!v.ok() || *v != want) errors[t].push_back("read back another value");
    }
  };
  std::thread t0(run, 0, a), t1(run, 1, b);
  t0.join();
  t1.join();
  EXPECT_TRUE(errors[0].empty()) << errors[0].size() << " " << errors[0][0];
  EXPECT_TRUE(errors[1].empty()) << errors[1].size() << " " << errors[1][0];
  for (uint32_t v : rig->file().ExtendedWritesOf(a)) EXPECT_EQ(v & 1, 0u);
  for (uint32_t v : rig->file().ExtendedWritesOf(b)) EXPECT_EQ(v & 1, 1u);
}

TEST(AmIndirectRegs, ARemovedDeviceIsUnavailableNamingThePairAndTheAddress) {
  std::unique_ptr<Rig> rig = MakeRig();
  AmIndirectRegs ind(*rig->regs);
  rig->gpu->Remove();
  absl::StatusOr<uint32_t> r = ind.ReadReg(kNbio430Regs.s2a_entry[2]);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_TRUE(Contains(r.status(), "regS2A_DOORBELL_ENTRY_2_CTRL")) << r.status();
  EXPECT_TRUE(Contains(r.status(), "regBIF_BX_PF0_RSMU_INDEX")) << r.status();
  EXPECT_TRUE(Contains(r.status(), "0x141E908")) << r.status();
  absl::Status w = ind.Write(0x141E908, 1);
  EXPECT_EQ(w.code(), absl::StatusCode::kUnavailable) << w;
}

}  // namespace
}  // namespace uop
