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
// WPTR = RPTR = 0; doorbell rptr off; then RB_ENABLE | ENABLE_INTR.
//
// Poll reads the written-back write pointer, decodes every entry from the
// read pointer to it (soc15 IV layout, amdgpu_ih.c), and writes IH_RB_RPTR.
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
