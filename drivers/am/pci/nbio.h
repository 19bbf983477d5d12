// NBIO 4.3 (Navi3x) doorbell set-up for the AM path: without it the GPU
// drops every doorbell the host writes, so no MEC queue or SDMA ring ever
// sees work. What Linux's soc21.c / nbio_v4_3.c (and tinygrad's AM_SOC and
// doorbell_enable) do for doorbells, in their order:
//
//   1. the doorbell BAR decode: RCC_DEV0_EPF0_RCC_DOORBELL_APER_EN
//      .BIF_DOORBELL_APER_EN = 1 (read-modify-write, WREG32_FIELD15_PREREG;
//      soc21_common_hw_init -> nbio_v4_3_enable_doorbell_aperture);
//   2. the S2A (system-to-AXI) routing of doorbells to the GC:
//      S2A_DOORBELL_ENTRY_0_CTRL = 0x30000007 (port 0: enable, AWID 3,
//      AWADDR[31:28] 3) and S2A_DOORBELL_ENTRY_3_CTRL = 0x3000000D (port 3:
//      enable, AWID 6, AWADDR[31:28] 3), written whole
//      (nbio_v4_3_gc_doorbell_init, called from gfx_v11_0_hw_init; tinygrad
//      writes the same fields). Range offset and size are 0 in both: what a
//      zero-size GC entry matches is not documented (this driver assumes
//      "every doorbell no sized entry claims"; the emulator models it so);
//   3. the SDMA routing: S2A_DOORBELL_ENTRY_2_CTRL read-modify-written with
//      ENABLE 1, AWID 0xE, RANGE_OFFSET = SDMA0's doorbell (dword index),
//      RANGE_SIZE = 20 dwords (soc21 sdma_doorbell_range) * engines,
//      AWADDR[31:28] 3 (nbio_v4_3_sdma_doorbell_range, called for instance 0
//      only by sdma_v6_0: one entry covers both engines; tinygrad programs
//      size 4, its one queue).
//
// The S2A registers are NBIO segment 3 dwords 0x4F7640 + n: far past the
// 1 MiB register BAR, so they go through AmIndirectRegs (RSMU index/data).
//
// Not done (no doorbell the AM path rings needs them): the self-ring
// aperture (BIF_BX_PF0_DOORBELL_SELFRING_GPA_APER_*: the doorbell BAR's bus
// address, for doorbells the GPU itself writes; Linux's late_init, not in
// tinygrad), the IH doorbell (ENTRY_1: AmIh does not use a doorbell), VCN
// (ENTRY_4/5), ASPM and clock gating.
#ifndef UOP_DRIVERS_AM_PCI_NBIO_H_
#define UOP_DRIVERS_AM_PCI_NBIO_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/indirect_regs.h"

namespace uop {

// nbio_4_3_0_offset.h / _sh_mask.h (through tinygrad's regs.py nbio_4_3_0).
struct AmNbioRegs {
  AmReg doorbell_aper_en;  // regRCC_DEV0_EPF0_RCC_DOORBELL_APER_EN (segment 2, 0xC0)
  AmReg s2a_entry[6];      // regS2A_DOORBELL_ENTRY_{0..5}_CTRL (segment 3, 0x4F7640 + n)
};
extern const AmNbioRegs kNbio430Regs;

namespace nbio {
// RCC_DEV0_EPF0_RCC_DOORBELL_APER_EN
inline constexpr uint32_t kDoorbellAperEn = 1u << 0;
// S2A_DOORBELL_ENTRY_n_CTRL (the same layout for every n)
inline constexpr uint32_t kS2aEnable = 1u << 0;
inline constexpr uint32_t kS2aAwidShift = 1, kS2aAwidMask = 0x1Fu << 1;
inline constexpr uint32_t kS2aFenceEnable = 1u << 6;
inline constexpr uint32_t kS2aRangeOffsetShift = 7, kS2aRangeOffsetMask = 0x3FFu << 7;
inline constexpr uint32_t kS2aRangeSizeShift = 17, kS2aRangeSizeMask = 0xFFu << 17;
inline constexpr uint32_t kS2a64BitSupportDis = 1u << 25;
inline constexpr uint32_t kS2aNeedDeductRangeOffset = 1u << 26;
inline constexpr uint32_t kS2aAwaddrShift = 28, kS2aAwaddrMask = 0xFu << 28;

// The ports and values Linux's nbio_v4_3 programs.
inline constexpr int kGcPort = 0, kIhPort = 1, kSdmaPort = 2, kGcPort3 = 3;
inline constexpr uint32_t kGcAwid = 0x3, kGcPort3Awid = 0x6, kSdmaAwid = 0xE;
inline constexpr uint32_t kAwaddr31To28 = 0x3;  // GC and SDMA
inline constexpr uint32_t kGcEntry0 = 0x30000007u;
inline constexpr uint32_t kGcEntry3 = 0x3000000Du;
// soc21_init_doorbell_index: dwords of doorbell range per SDMA engine.
inline constexpr uint32_t kSdmaDwordsPerEngine = 20;

// An enabled entry with these fields (the others 0).
constexpr uint32_t S2aEntry(uint32_t awid, uint32_t awaddr_31_28, uint32_t offset = 0,
                            uint32_t size = 0) {
  return kS2aEnable | (awid << kS2aAwidShift & kS2aAwidMask) |
         (offset << kS2aRangeOffsetShift & kS2aRangeOffsetMask) |
         (size << kS2aRangeSizeShift & kS2aRangeSizeMask) |
         (awaddr_31_28 << kS2aAwaddrShift & kS2aAwaddrMask);
}
}  // namespace nbio

// IH interrupt control in NBIO (nbio_4_3_0_offset.h: BIF_BX0 block,
// segment 2). Field positions are INTERRUPT_CNTL's layout in bif_4_0's
// sh_mask (stable across NBIO generations as far as read; not checked
// against nbio_4_3_0_sh_mask.h).
struct AmNbioIhRegs {
  AmReg interrupt_cntl;   // regBIF_BX0_INTERRUPT_CNTL 0xF1
  AmReg interrupt_cntl2;  // regBIF_BX0_INTERRUPT_CNTL2 0xF2: dummy-read address >> 8
};
extern const AmNbioIhRegs kNbio430IhRegs;
namespace nbio {
inline constexpr uint32_t kIhDummyRdOverride = 1u << 0;  // 0: no dummy read with MSI
inline constexpr uint32_t kIhDummyRdEn = 1u << 1;
inline constexpr uint32_t kIhReqNonsnoopEn = 1u << 3;  // 0: the ring is in snooped memory
}  // namespace nbio

// Where the doorbells of the queues the driver will create are (dword
// indices of the doorbell BAR).
struct AmDoorbellLayout {
  uint32_t mec_first_dword = 0;  // CP_MEC_DOORBELL_RANGE_LOWER/UPPER, in dwords
  uint32_t mec_last_dword = 0;
  std::vector<uint32_t> sdma_dwords;  // each SDMA engine's QUEUE0 doorbell, engine 0 first
  uint32_t sdma_dwords_per_engine = nbio::kSdmaDwordsPerEngine;
};

class AmNbio {
 public:
  // `indirect` must reach the S2A registers (segment 3): a pair without an
  // index-hi refuses them if their addresses need more than 32 bits.
  static absl::StatusOr<std::unique_ptr<AmNbio>> Create(const AmRegisterIo& regs,
                                                        AmIndirectRegs& indirect);

  // Checks the layout, then steps 1-3 of the header. An SDMA range that does
  // not fit the entry's fields, an engine's doorbell outside it, or a MEC
  // range overlapping it (those doorbells would go to SDMA) is
  // InvalidArgument naming the values, before anything is written.
  absl::Status Init(const AmDoorbellLayout& layout);

  absl::Status EnableDoorbellAperture(bool enable);
  absl::Status InitGcDoorbells();
  // enable = false clears RANGE_SIZE only (Linux's !use_doorbell).
  absl::Status SetSdmaDoorbellRange(bool enable, uint32_t first_dword, uint32_t size_dwords);

  // nbio_v4_3_ih_control: INTERRUPT_CNTL2 = the dummy page's bus address
  // >> 8 (the IH reads it before an interrupt it does not send as an MSI),
  // then INTERRUPT_CNTL.IH_DUMMY_RD_OVERRIDE = 0 (hardware decides: no
  // dummy read with MSI) and IH_REQ_NONSNOOP_EN = 0, read-modify-written.
  // The address must be 256-byte aligned and non-zero (InvalidArgument).
  absl::Status ConfigureIhInterrupts(uint64_t dummy_page_bus_address);

  // The SDMA entry programmed by Init (for the caller's checks).
  uint32_t sdma_range_first() const { return sdma_first_; }
  uint32_t sdma_range_dwords() const { return sdma_size_; }

 private:
  AmNbio(const AmRegisterIo& regs, AmIndirectRegs& indirect) : regs_(regs), indirect_(indirect) {}

  const AmRegisterIo& regs_;
  AmIndirectRegs& indirect_;
  uint32_t sdma_first_ = 0, sdma_size_ = 0;
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_NBIO_H_
