#include "drivers/am/pci/discovery_reader.h"

#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {

absl::StatusOr<AmDiscovery> ReadAmDiscovery(const MmioRegion& regs, const MmioRegion& vram,
                                            absl::Duration ifwi_timeout) {
  // 1. The IFWI publishes its completion; there is no interrupt for it, so
  //    this is a bounded 1 ms poll, as in Linux.
  const absl::Time deadline = absl::Now() + ifwi_timeout;
  for (;;) {
    ASSIGN_OR_RETURN(uint32_t msg, regs.Read32(4 * uint64_t{kRegMp0SmnC2pMsg33}));
    if ((msg & kIfwiInitDone) != 0) break;
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "the GPU's boot firmware did not finish within %s (MP0_SMN_C2PMSG_33 = 0x%08x, bit 31 "
          "clear)",
          absl::FormatDuration(ifwi_timeout), msg));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  // 2. VRAM size.
  ASSIGN_OR_RETURN(uint32_t mib, regs.Read32(4 * uint64_t{kRegRccConfigMemsize}));
  AmDiscovery out;
  out.vram_size = uint64_t{mib} << 20;
  if (out.vram_size < kDiscoveryTmrOffset || out.vram_size > kMaxPlausibleVram) {
    return absl::DataLossError(absl::StrFormat(
        "RCC_CONFIG_MEMSIZE reads %u MiB: not a plausible VRAM size (64 KiB to 1 TiB)", mib));
  }

  // 3. The binary, through the VRAM BAR.
  const uint64_t at = out.vram_size - kDiscoveryTmrOffset;
  if (at + kDiscoveryTmrSize > vram.size()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the IP discovery table is at VRAM offset 0x%x but %s maps only 0x%x bytes: enlarge the "
        "BAR (resizable BAR, sysfs resource0_resize); reading through MM_INDEX/MM_DATA is not "
        "implemented",
        at, vram.what(), vram.size()));
  }
  std::vector<uint8_t> bin(kDiscoveryTmrSize);
  RETURN_IF_ERROR(vram.ReadBlock(at, absl::MakeSpan(bin)));
  ASSIGN_OR_RETURN(out.ip, ParseIpDiscovery(bin));
  return out;
}

}  // namespace uop
