// Device model of NBIO 4.3's doorbell path on an emulated Navi31: the
// doorbell BAR decode (RCC_DEV0_EPF0_RCC_DOORBELL_APER_EN) and the S2A
// routing entries (S2A_DOORBELL_ENTRY_{0..5}_CTRL, past the register BAR,
// reached through NBIO's index/data pairs, which this file also serves on the
// register file's extended space: ServeNbio430IndexPairs).
//
// Route(dword) says where a host write to the doorbell BAR at that dword
// index goes now:
//  * nowhere while the aperture is off;
//  * to the engine of the first enabled entry with RANGE_SIZE > 0 whose
//    [RANGE_OFFSET, RANGE_OFFSET + RANGE_SIZE) holds it (port 2: SDMA,
//    port 1: IH, ports 4/5: VCN, ports 0/3: GC);
//  * else to the GC when port 0 is enabled (Linux programs the GC ports with
//    offset 0, size 0: modelled as "every doorbell no sized entry claims",
//    an assumption the hardware documentation would have to confirm).
// The engine models consult it (EmulatedNavi31 wires EmulatedMec /
// EmulatedSdma's doorbell_routed to it), so a bring-up that skips NBIO leaves
// every queue without doorbells, as real hardware would.
//
// Violations: an entry enabled with an AWID or AWADDR[31:28] other than the
// one Linux's nbio_v4_3 gives that port (0: 0x3/0x3, 1: 0x0/0x0, 2: 0xE/0x3,
// 3: 0x6/0x3, 4: 0x4/0x4, 5: 0x7/0x7), or with a range past the 10-bit
// offset field's reach (offset + size > 0x400).
//
// Thread safety: the state has its own mutex, taken inside register hooks
// (after the register file's lock) and by Route (callable from any thread,
// including inside other models' hooks).
#ifndef UOP_DRIVERS_AM_EMULATOR_NBIO_MODEL_H_
#define UOP_DRIVERS_AM_EMULATOR_NBIO_MODEL_H_

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>

#include "absl/status/statusor.h"
#include "drivers/am/emulator/emulated_pci_gpu.h"
#include "drivers/am/emulator/register_file.h"
#include "drivers/am/pci/am_regs.h"

namespace uop {

// Serves NBIO 4.3's RSMU_INDEX/DATA and PCIE_INDEX2/DATA2/INDEX2_HI pairs as
// windows onto the register file's extended space (idempotent: every model
// that needs an extended register calls it).
void ServeNbio430IndexPairs(EmulatedRegisterFile& regs, const AmRegisterMap& map);

class EmulatedNbio {
 public:
  enum class Target { kNone, kGc, kSdma, kIh, kVcn };
  static const char* TargetName(Target t);
  static constexpr int kEntries = 6;

  // The GPU must serve a discovery table AmRegisterMap accepts (Navi31Ips).
  static absl::StatusOr<std::unique_ptr<EmulatedNbio>> Attach(EmulatedPciGpu& gpu);

  bool aperture_enabled() const;
  // S2A_DOORBELL_ENTRY_n_CTRL as the driver last wrote it.
  uint32_t entry(int n) const;
  // Byte address (SMN) of S2A_DOORBELL_ENTRY_n_CTRL on this GPU.
  uint64_t entry_address(int n) const { return entry_address_[n]; }
  Target Route(uint32_t dword) const;
  // A MODE1 reset: aperture off, every entry 0.
  void ChipReset();

 private:
  EmulatedNbio(EmulatedPciGpu& gpu, AmRegisterMap map)
      : regs_(gpu.registers()), map_(std::move(map)) {}
  void OnEntryWrite(int n, uint32_t value);

  EmulatedRegisterFile& regs_;
  const AmRegisterMap map_;
  std::array<uint64_t, kEntries> entry_address_{};

  mutable std::mutex mu_;  // after the register file's lock, never before
  bool aperture_ = false;
  std::array<uint32_t, kEntries> entries_{};
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_EMULATOR_NBIO_MODEL_H_
