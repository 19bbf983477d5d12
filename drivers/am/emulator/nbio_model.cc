#include "drivers/am/emulator/nbio_model.h"

#include "absl/strings/str_format.h"
#include "drivers/am/pci/indirect_regs.h"
#include "drivers/am/pci/ip_discovery.h"
#include "drivers/am/pci/nbio.h"

namespace uop {
namespace {

// The AWID and AWADDR[31:28] nbio_v4_3.c gives each port, and where the
// port's doorbells go.
struct Port {
  uint32_t awid, awaddr;
  EmulatedNbio::Target target;
};
constexpr Port kPorts[EmulatedNbio::kEntries] = {
    {nbio::kGcAwid, nbio::kAwaddr31To28, EmulatedNbio::Target::kGc},       // gc_doorbell_init
    {0x0, 0x0, EmulatedNbio::Target::kIh},                                 // ih_doorbell_range
    {nbio::kSdmaAwid, nbio::kAwaddr31To28, EmulatedNbio::Target::kSdma},   // sdma_doorbell_range
    {nbio::kGcPort3Awid, nbio::kAwaddr31To28, EmulatedNbio::Target::kGc},  // gc_doorbell_init
    {0x4, 0x4, EmulatedNbio::Target::kVcn},                                // vcn_doorbell_range 0
    {0x7, 0x7, EmulatedNbio::Target::kVcn},                                // vcn_doorbell_range 1
};

uint32_t Field(uint32_t v, uint32_t mask, uint32_t shift) { return (v & mask) >> shift; }

}  // namespace

void ServeNbio430IndexPairs(EmulatedRegisterFile& regs, const AmRegisterMap& map) {
  const AmIndexDataPair& rsmu = kNbio430RsmuPair;
  regs.ServeIndexPair({"RSMU_INDEX", "RSMU_DATA", "SMN", map.Dword(rsmu.index),
                       map.Dword(rsmu.data), std::nullopt});
  const AmIndexDataPair& pcie = kNbio430PcieIndex2Pair;
  regs.ServeIndexPair({"PCIE_INDEX2", "PCIE_DATA2", "SMN", map.Dword(pcie.index),
                       map.Dword(pcie.data), map.Dword(*pcie.index_hi)});
}

const char* EmulatedNbio::TargetName(Target t) {
  switch (t) {
    case Target::kNone:
      return "nowhere";
    case Target::kGc:
      return "the GC";
    case Target::kSdma:
      return "SDMA";
    case Target::kIh:
      return "the IH";
    case Target::kVcn:
      return "VCN";
  }
  return "?";
}

absl::StatusOr<std::unique_ptr<EmulatedNbio>> EmulatedNbio::Attach(EmulatedPciGpu& gpu) {
  absl::StatusOr<IpDiscoveryTable> table = ParseIpDiscovery(gpu.config().discovery);
  if (!table.ok()) return table.status();
  absl::StatusOr<AmRegisterMap> map = AmRegisterMap::Create(*table);
  if (!map.ok()) return map.status();
  std::unique_ptr<EmulatedNbio> m(new EmulatedNbio(gpu, std::move(*map)));
  EmulatedNbio* self = m.get();
  EmulatedRegisterFile& rf = m->regs_;
  ServeNbio430IndexPairs(rf, m->map_);
  rf.OnWrite(m->map_.Dword(kNbio430Regs.doorbell_aper_en), [self](uint32_t v) {
    std::lock_guard<std::mutex> lock(self->mu_);
    self->aperture_ = (v & nbio::kDoorbellAperEn) != 0;
  });
  for (int n = 0; n < kEntries; ++n) {
    m->entry_address_[n] = m->map_.ByteOffset(kNbio430Regs.s2a_entry[n]);
    rf.AddExtended(m->entry_address_[n], 0);
    rf.OnExtendedWrite(m->entry_address_[n], [self, n](uint32_t v) { self->OnEntryWrite(n, v); });
  }
  return m;
}

void EmulatedNbio::OnEntryWrite(int n, uint32_t v) {
  using namespace nbio;  // NOLINT: the field names
  {
    std::lock_guard<std::mutex> lock(mu_);
    entries_[n] = v;
  }
  if ((v & kS2aEnable) == 0) return;
  const char* name = kNbio430Regs.s2a_entry[n].name;
  const uint32_t awid = Field(v, kS2aAwidMask, kS2aAwidShift);
  const uint32_t awaddr = Field(v, kS2aAwaddrMask, kS2aAwaddrShift);
  if (awid != kPorts[n].awid || awaddr != kPorts[n].awaddr) {
    regs_.Violation(absl::StrFormat(
        "%s = 0x%08X: AWID 0x%X, AWADDR[31:28] 0x%X; %s's port takes AWID 0x%X, AWADDR[31:28] "
        "0x%X (nbio_v4_3.c)",
        name, v, awid, awaddr, TargetName(kPorts[n].target), kPorts[n].awid, kPorts[n].awaddr));
  }
  const uint32_t offset = Field(v, kS2aRangeOffsetMask, kS2aRangeOffsetShift);
  const uint32_t size = Field(v, kS2aRangeSizeMask, kS2aRangeSizeShift);
  if (offset + size > 0x400) {
    regs_.Violation(absl::StrFormat(
        "%s = 0x%08X: range [0x%X, 0x%X) runs past the 0x400 dwords the offset field reaches", name,
        v, offset, offset + size));
  }
}

bool EmulatedNbio::aperture_enabled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return aperture_;
}

uint32_t EmulatedNbio::entry(int n) const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_[n];
}

EmulatedNbio::Target EmulatedNbio::Route(uint32_t dword) const {
  using namespace nbio;  // NOLINT: the field names
  std::lock_guard<std::mutex> lock(mu_);
  if (!aperture_) return Target::kNone;
  for (int n = 0; n < kEntries; ++n) {
    const uint32_t e = entries_[n];
    const uint32_t size = Field(e, kS2aRangeSizeMask, kS2aRangeSizeShift);
    if ((e & kS2aEnable) == 0 || size == 0) continue;
    const uint32_t offset = Field(e, kS2aRangeOffsetMask, kS2aRangeOffsetShift);
    if (dword >= offset && dword < offset + size) return kPorts[n].target;
  }
  return (entries_[kGcPort] & kS2aEnable) != 0 ? Target::kGc : Target::kNone;
}

void EmulatedNbio::ChipReset() {
  for (int n = 0; n < kEntries; ++n) regs_.SetExtended(entry_address_[n], 0);
  std::lock_guard<std::mutex> lock(mu_);
  aperture_ = false;
  entries_.fill(0);
}

}  // namespace uop
