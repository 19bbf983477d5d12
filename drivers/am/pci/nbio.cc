#include "drivers/am/pci/nbio.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

#define S2A(n) \
  AmReg { "regS2A_DOORBELL_ENTRY_" #n "_CTRL", kHwIdNbif, 3, 0x4F7640 + n }

absl::Status Annotate(const absl::Status& s, const std::string& what) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat("NBIO: ", what, ": ", s.message()));
}

}  // namespace

const AmNbioRegs kNbio430Regs = {
    {"regRCC_DEV0_EPF0_RCC_DOORBELL_APER_EN", kHwIdNbif, 2, 0xC0},
    {S2A(0), S2A(1), S2A(2), S2A(3), S2A(4), S2A(5)},
};
#undef S2A

const AmNbioIhRegs kNbio430IhRegs = {
    {"regBIF_BX0_INTERRUPT_CNTL", kHwIdNbif, 2, 0xF1},
    {"regBIF_BX0_INTERRUPT_CNTL2", kHwIdNbif, 2, 0xF2},
};

absl::Status AmNbio::ConfigureIhInterrupts(uint64_t dummy_page_bus_address) {
  if (dummy_page_bus_address == 0 || dummy_page_bus_address % 256 != 0 ||
      (dummy_page_bus_address >> 8) > 0xFFFFFFFFu) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "NBIO: IH dummy-read address 0x%x must be non-zero, 256-byte aligned and below 2^40",
        dummy_page_bus_address));
  }
  RETURN_IF_ERROR(Annotate(regs_.Write(kNbio430IhRegs.interrupt_cntl2,
                                       static_cast<uint32_t>(dummy_page_bus_address >> 8)),
                           "IH dummy-read address"));
  return Annotate(regs_.Update(kNbio430IhRegs.interrupt_cntl,
                               nbio::kIhDummyRdOverride | nbio::kIhReqNonsnoopEn, 0),
                  "IH interrupt control");
}

absl::StatusOr<std::unique_ptr<AmNbio>> AmNbio::Create(const AmRegisterIo& regs,
                                                       AmIndirectRegs& indirect) {
  for (const AmReg& r : kNbio430Regs.s2a_entry) {
    const uint64_t address = regs.map().ByteOffset(r);
    if (indirect.IsIndirect(r) && address >> 32 != 0 && !indirect.pair().index_hi.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrFormat("NBIO: %s is at SMN 0x%X, which %s/%s (32-bit addresses) cannot reach",
                          r.name, address, indirect.pair().index.name, indirect.pair().data.name));
    }
  }
  return std::unique_ptr<AmNbio>(new AmNbio(regs, indirect));
}

absl::Status AmNbio::EnableDoorbellAperture(bool enable) {
  return Annotate(regs_.Update(kNbio430Regs.doorbell_aper_en, nbio::kDoorbellAperEn,
                               enable ? nbio::kDoorbellAperEn : 0),
                  enable ? "doorbell aperture enable" : "doorbell aperture disable");
}

absl::Status AmNbio::InitGcDoorbells() {
  RETURN_IF_ERROR(Annotate(
      indirect_.WriteReg(kNbio430Regs.s2a_entry[nbio::kGcPort], nbio::kGcEntry0), "GC doorbells"));
  return Annotate(indirect_.WriteReg(kNbio430Regs.s2a_entry[nbio::kGcPort3], nbio::kGcEntry3),
                  "GC doorbells");
}

absl::Status AmNbio::SetSdmaDoorbellRange(bool enable, uint32_t first_dword, uint32_t size_dwords) {
  using namespace nbio;  // NOLINT: the field names
  if (enable && (first_dword > (kS2aRangeOffsetMask >> kS2aRangeOffsetShift) || size_dwords == 0 ||
                 size_dwords > (kS2aRangeSizeMask >> kS2aRangeSizeShift))) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "NBIO: SDMA doorbell range at dword 0x%X, %u dwords: %s takes an offset below 0x400 and "
        "a size of 1-255",
        first_dword, size_dwords, kNbio430Regs.s2a_entry[kSdmaPort].name));
  }
  const uint32_t set = enable ? S2aEntry(kSdmaAwid, kAwaddr31To28, first_dword, size_dwords) : 0;
  const uint32_t clear =
      enable ? kS2aEnable | kS2aAwidMask | kS2aRangeOffsetMask | kS2aRangeSizeMask | kS2aAwaddrMask
             : kS2aRangeSizeMask;
  RETURN_IF_ERROR(Annotate(indirect_.UpdateReg(kNbio430Regs.s2a_entry[kSdmaPort], clear, set),
                           "SDMA doorbell range"));
  sdma_first_ = enable ? first_dword : 0;
  sdma_size_ = enable ? size_dwords : 0;
  return absl::OkStatus();
}

absl::Status AmNbio::Init(const AmDoorbellLayout& layout) {
  if (layout.sdma_dwords.empty()) {
    return absl::InvalidArgumentError("NBIO: the doorbell layout names no SDMA engine");
  }
  const uint64_t first = layout.sdma_dwords[0];
  const uint64_t size = uint64_t{layout.sdma_dwords_per_engine} * layout.sdma_dwords.size();
  if (first > (nbio::kS2aRangeOffsetMask >> nbio::kS2aRangeOffsetShift) || size == 0 ||
      size > (nbio::kS2aRangeSizeMask >> nbio::kS2aRangeSizeShift)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "NBIO: SDMA doorbells from dword 0x%X, %u dwords: S2A_DOORBELL_ENTRY_2_CTRL takes an "
        "offset below 0x400 and a size of 1-255",
        first, size));
  }
  for (size_t i = 0; i < layout.sdma_dwords.size(); ++i) {
    const uint32_t d = layout.sdma_dwords[i];
    if (d < first || d + 2 > first + size) {  // a 64-bit doorbell: two dwords
      return absl::InvalidArgumentError(absl::StrFormat(
          "NBIO: SDMA%u's doorbell (dword 0x%X) is outside the SDMA range [0x%X, 0x%X) that "
          "S2A_DOORBELL_ENTRY_2 routes",
          i, d, first, first + size));
    }
  }
  if (layout.mec_first_dword > layout.mec_last_dword) {
    return absl::InvalidArgumentError(absl::StrFormat("NBIO: MEC doorbell range 0x%X-0x%X is empty",
                                                      layout.mec_first_dword,
                                                      layout.mec_last_dword));
  }
  if (layout.mec_first_dword < first + size && layout.mec_last_dword >= first) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "NBIO: the MEC doorbell range 0x%X-0x%X overlaps the SDMA range [0x%X, 0x%X): NBIO would "
        "route those MEC doorbells to SDMA",
        layout.mec_first_dword, layout.mec_last_dword, first, first + size));
  }
  RETURN_IF_ERROR(EnableDoorbellAperture(true));
  RETURN_IF_ERROR(InitGcDoorbells());
  return SetSdmaDoorbellRange(true, static_cast<uint32_t>(first), static_cast<uint32_t>(size));
}

}  // namespace uop
