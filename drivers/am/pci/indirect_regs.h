// Registers the register BAR (BAR5, 1 MiB on Navi3x) does not reach, read
// and written through one of NBIO's index/data pairs, as Linux's
// amdgpu_device_indirect_rreg_ext / _wreg_ext (amdgpu_device.c) and
// tinygrad's AM indirect_rreg / indirect_wreg (amdev.py) do. The address is a
// byte address in the SMN space the register BAR is a window onto: a
// register's is 4 * (base[BASE_IDX] + offset) (AmRegisterMap::ByteOffset),
// an SMU/MP1 location's is its smn* constant.
//
// Protocol (Linux's, with its posting reads):
//   write INDEX = address[31:0], read INDEX back;
//   [pair with INDEX_HI and address >= 4 GiB: write INDEX_HI = address[39:32],
//    read it back]
//   read DATA | write DATA and read DATA back;
//   [write INDEX_HI = 0, read it back: later 32-bit users see a clean index]
// One mutex serializes whole sequences (Linux's pcie_idx_lock): every user of
// the pair on a device must share one AmIndirectRegs.
//
// Pairs on NBIO 4.3 (nbio_4_3_0_offset.h, read through tinygrad's regs.py):
//  * kNbio430RsmuPair: regBIF_BX_PF0_RSMU_INDEX / _DATA (dwords 0x0 / 0x1 of
//    NBIO segment 1): nbio_v4_3_get_pcie_index_offset / _data_offset, i.e.
//    what RREG32_PCIE and every register past the BAR use on Navi3x, and
//    tinygrad's indirect_rreg. nbio_v4_3 defines no get_pcie_index_hi_offset,
//    so this pair is 32-bit: larger addresses are refused, not truncated.
//  * kNbio430PcieIndex2Pair: regBIF_BX0_PCIE_INDEX2 / _DATA2 / _INDEX2_HI
//    (dwords 0xE / 0xF / 0x11 of segment 0): Linux's fallback before the NBIO
//    functions exist (AMDGPU_PCIE_INDEX_FALLBACK 0x38 >> 2 etc.) and
//    tinygrad's indirect_wreg_pcie; the only pair here with an index-hi.
#ifndef UOP_DRIVERS_AM_PCI_INDIRECT_REGS_H_
#define UOP_DRIVERS_AM_PCI_INDIRECT_REGS_H_

#include <cstdint>
#include <mutex>
#include <optional>

#include "absl/status/statusor.h"
#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/ip_discovery.h"

namespace uop {

struct AmIndexDataPair {
  AmReg index;                    // address bits 31:0
  AmReg data;                     // the addressed register's value
  std::optional<AmReg> index_hi;  // address bits 39:32; none: 32-bit addresses only
};

inline constexpr AmIndexDataPair kNbio430RsmuPair = {
    {"regBIF_BX_PF0_RSMU_INDEX", kHwIdNbif, 1, 0x0},
    {"regBIF_BX_PF0_RSMU_DATA", kHwIdNbif, 1, 0x1},
    std::nullopt,
};
inline constexpr AmIndexDataPair kNbio430PcieIndex2Pair = {
    {"regBIF_BX0_PCIE_INDEX2", kHwIdNbif, 0, 0xE},
    {"regBIF_BX0_PCIE_DATA2", kHwIdNbif, 0, 0xF},
    AmReg{"regBIF_BX0_PCIE_INDEX2_HI", kHwIdNbif, 0, 0x11},
};

class AmIndirectRegs {
 public:
  explicit AmIndirectRegs(const AmRegisterIo& regs, const AmIndexDataPair& pair = kNbio430RsmuPair)
      : regs_(regs), pair_(pair) {}
  AmIndirectRegs(const AmIndirectRegs&) = delete;
  AmIndirectRegs& operator=(const AmIndirectRegs&) = delete;

  // One register at a byte address, through the pair. An address the pair
  // cannot express (>= 4 GiB without an index-hi, >= 1 TiB with one) or not
  // 4-byte aligned is InvalidArgument; a removed device is Unavailable naming
  // the pair's register. Errors name the address.
  absl::StatusOr<uint32_t> Read(uint64_t address);
  absl::Status Write(uint64_t address, uint32_t value);

  // A register from the tables: through BAR5 when it lies inside the BAR,
  // else through the pair (amdgpu_device_rreg's rule). Errors name it.
  absl::StatusOr<uint32_t> ReadReg(const AmReg& reg);
  absl::Status WriteReg(const AmReg& reg, uint32_t value);
  // Read-modify-write (clears `clear`, then sets `set`) as one sequence.
  absl::Status UpdateReg(const AmReg& reg, uint32_t clear, uint32_t set);

  // Whether `reg` is past the BAR (reached through the pair).
  bool IsIndirect(const AmReg& reg) const;
  const AmRegisterIo& regs() const { return regs_; }
  const AmIndexDataPair& pair() const { return pair_; }

 private:
  absl::Status CheckAddress(uint64_t address, const char* what) const;
  absl::Status SelectLocked(uint64_t address);
  absl::Status DeselectLocked(uint64_t address);
  absl::StatusOr<uint32_t> ReadLocked(uint64_t address);
  absl::Status WriteLocked(uint64_t address, uint32_t value);
  absl::StatusOr<uint32_t> ReadRegLocked(const AmReg& reg);
  absl::Status WriteRegLocked(const AmReg& reg, uint32_t value);

  const AmRegisterIo& regs_;
  const AmIndexDataPair pair_;
  std::mutex mu_;  // one index/data sequence at a time
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_INDIRECT_REGS_H_
