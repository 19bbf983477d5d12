// The interrupt handler ring of the AM path (OSSSYS 6.0, Linux ih_v6_0.c;
// tinygrad AM_IH): a ring in VRAM the IH block writes 32-byte interrupt
// vectors into, with its write pointer written back to VRAM as well. With
// no kernel there is no interrupt delivery: the driver polls the write
// pointer.
//
// Init, in Linux's order: ring off (RB_CNTL without RB_ENABLE/ENABLE_INTR);
// IH_RB_BASE/BASE_HI (MC address >> 8 / >> 40); RB_CNTL (size = log2 of the
// ring in dwords, write-pointer writeback and overflow on, overflow clear,
// MC_SPACE 4, snoop); IH_RB_WPTR_ADDR_LO/HI (writeback MC address);
// WPTR = RPTR = 0; doorbell rptr off; interrupt storm/flood control as
// ih_v6_0_irq_init (IH_STORM_CLIENT_LIST_CNTL.CLIENT18_IS_STORM_CLIENT: VMC
// page faults are storm clients; IH_INT_FLOOD_CNTL.FLOOD_CNTL_ENABLE;
// IH_MSI_STORM_CTRL.DELAY = 3: fewer MSIs for a run of faults), read-
// modify-written; then RB_ENABLE | ENABLE_INTR (RPTR_REARM is set, which
// Linux sets only with MSI: the IH re-sends the MSI when the read pointer
// is written while entries remain).
//
// With ENABLE_INTR the IH sends an MSI for each vector it writes; through
// VFIO that MSI reaches an eventfd (AmVfio::EnableMsi), which is how the
// AM path's waits sleep. Without VFIO nothing receives it and the driver
// polls the written-back write pointer.
//
// Poll reads the written-back write pointer, decodes every entry from the
// read pointer to it (soc15 IV layout, amdgpu_ih.c), and writes IH_RB_RPTR.
//
// Not done: NBIO's IH control (nbio_v4_3_ih_control: BIF_BX0_INTERRUPT_CNTL2
// = a dummy page's bus address >> 8, INTERRUPT_CNTL.IH_DUMMY_RD_OVERRIDE =
// 0 and IH_REQ_NONSNOOP_EN = 0): with OVERRIDE 0 the dummy read is off
// when MSI is used; its register offsets for NBIO 4.3 were not verified
// here, and whether the power-on value already has OVERRIDE 0 is unknown.
// An overflow (RB_OVERFLOW in the write pointer) skips to the newest entry
// and clears it with RB_CNTL.WPTR_OVERFLOW_CLEAR, as Linux does.
#ifndef UOP_DRIVERS_AM_PCI_IH_H_
#define UOP_DRIVERS_AM_PCI_IH_H_

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/vram_arena.h"
#include "drivers/common/mmio.h"

namespace uop {

inline constexpr size_t kIvEntryBytes = 32;

// One interrupt vector (SOC15_*_FROM_IH_ENTRY).
struct IvEntry {
  uint8_t client_id = 0;               // dw0[7:0]: SOC21_IH_CLIENTID_* (GRBM_CP 20, VMC 18, ...)
  uint8_t src_id = 0;                  // dw0[15:8]: e.g. GFX 11 CP_EOP_INTERRUPT 181
  uint8_t ring_id = 0;                 // dw0[23:16]
  uint8_t vmid = 0;                    // dw0[27:24]
  bool vmid_type = false;              // dw0[31]
  uint64_t timestamp = 0;              // dw1 | dw2[15:0] << 32
  bool timestamp_src = false;          // dw2[31]
  uint16_t pasid = 0;                  // dw3[15:0]
  uint8_t node_id = 0;                 // dw3[23:16]
  std::array<uint32_t, 4> src_data{};  // dw4..dw7
};

// IH vectors the AM path decodes (soc21 client ids, GFX 11 source
// ids; from Linux's soc21_ih_clientid.h / gfx_11_0_0 ivsrcid headers).
namespace am_iv {
inline constexpr uint8_t kClientVmc = 18;        // SOC21_IH_CLIENTID_VMC
inline constexpr uint8_t kClientUtcl2 = 27;      // SOC21_IH_CLIENTID_UTCL2
inline constexpr uint8_t kSrcCpEndOfPipe = 181;  // GFX_11_0_0__SRCID__CP_EOP_INTERRUPT
inline constexpr uint8_t kSrcSdmaTrap = 224;     // GFX_11_0_0__SRCID__SDMA_TRAP
}  // namespace am_iv

IvEntry DecodeIvEntry(const std::array<uint32_t, 8>& dw);

// OSSSYS 6.0 interrupt storm/flood control (osssys_6_0_0_offset.h /
// _sh_mask.h, BASE_IDX 0).
struct AmIhStormRegs {
  AmReg int_flood_cntl;          // regIH_INT_FLOOD_CNTL 0xD5
  AmReg storm_client_list_cntl;  // regIH_STORM_CLIENT_LIST_CNTL 0xDA
  AmReg msi_storm_ctrl;          // regIH_MSI_STORM_CTRL 0xF1
};
extern const AmIhStormRegs kOsssys600StormRegs;
namespace am_field {
inline constexpr uint32_t kIhFloodCntlEnable = 1u << 3;         // IH_INT_FLOOD_CNTL
inline constexpr uint32_t kIhClient18IsStormClient = 1u << 18;  // IH_STORM_CLIENT_LIST_CNTL
inline constexpr uint32_t kIhMsiStormDelayMask = 0xFFFu;        // IH_MSI_STORM_CTRL.DELAY
inline constexpr uint32_t kIhMsiStormDelay = 3;                 // ih_v6_0_irq_init's value
}  // namespace am_field

struct AmIhPoll {
  std::vector<IvEntry> entries;
  bool overflowed = false;  // entries were lost
};

class AmIh {
 public:
  // `fb_base`: the MC address of VRAM offset 0 (AmGmc::fb_base).
  static absl::StatusOr<std::unique_ptr<AmIh>> Create(const AmRegisterIo& regs,
                                                      const MmioRegion& vram, uint64_t fb_base,
                                                      AmVramArena& arena,
                                                      uint32_t ring_bytes = 256 << 10);
  absl::Status Init();
  absl::StatusOr<AmIhPoll> Poll();

  uint64_t ring() const { return ring_; }  // VRAM physical
  uint64_t wptr_writeback() const { return wptr_wb_; }
  uint32_t ring_bytes() const { return ring_bytes_; }

 private:
  AmIh(const AmRegisterIo& regs, const MmioRegion& vram) : regs_(regs), vram_(vram) {}
  uint32_t RbCntl() const;

  const AmRegisterIo& regs_;
  const MmioRegion& vram_;
  uint64_t fb_base_ = 0;
  uint64_t ring_ = 0, wptr_wb_ = 0;
  uint32_t ring_bytes_ = 0;
  uint32_t rptr_ = 0;  // bytes
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_IH_H_
