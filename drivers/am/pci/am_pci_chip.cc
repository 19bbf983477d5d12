#include "drivers/am/pci/am_pci_chip.h"

#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

constexpr int kSimdsPerCu = 2;  // gfx10+: a CU has 2 SIMD32s (a WGP 4)

std::string Version(const IpBlock& b) {
  return absl::StrFormat("%d.%d.%d", b.major, b.minor, b.revision);
}

}  // namespace

absl::StatusOr<AmGfx11Chip> IdentifyAmGfx11Chip(const IpDiscoveryTable& table) {
  const IpBlock* gc = table.Find(kHwIdGc);
  if (gc == nullptr) return absl::NotFoundError("the discovery table has no GC block");
  if (gc->major == 11 && gc->minor == 0) {
    switch (gc->revision) {
      case 0:
        return AmGfx11Chip{"Navi31", 110000, true};
      case 2:
        return AmGfx11Chip{"Navi33", 110002, false};
      case 3:
        // KFD: "Compiler version is 11.0.1 while HW version is 11.0.3".
        return AmGfx11Chip{"Navi32", 110001, false};
      default:
        break;
    }
  }
  return absl::UnimplementedError(
      absl::StrFormat("GC %s: the AM path knows GC 11.0.0 (Navi31), 11.0.2 (Navi33) and 11.0.3 "
                      "(Navi32) only",
                      Version(*gc)));
}

absl::Status CheckAmPciBringUpSupported(const IpDiscoveryTable& table) {
  ASSIGN_OR_RETURN(AmGfx11Chip chip, IdentifyAmGfx11Chip(table));
  if (chip.bring_up_supported) return absl::OkStatus();
  auto version = [&](uint16_t hw_id) {
    const IpBlock* b = table.Find(hw_id);
    return b == nullptr ? std::string("none") : Version(*b);
  };
  return absl::UnimplementedError(absl::StrFormat(
      "%s (GC %s, MP1 %s, SDMA %s): the AM bring-up follows Navi31 (GC 11.0.0, MP1 13.0.0, "
      "SDMA 6.0.0) only; this chip's SMU driver-interface version, SDMA instance count and "
      "firmware are not verified",
      chip.name, version(kHwIdGc), version(kHwIdMp1), version(kHwIdSdma0)));
}

absl::StatusOr<AmGpuNode> AmPciGpuNode(const IpDiscoveryTable& table, uint16_t device_id,
                                       uint64_t vram_size) {
  ASSIGN_OR_RETURN(AmGfx11Chip chip, IdentifyAmGfx11Chip(table));
  if (!table.gc_info.has_value()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: the discovery binary has no GC info table, so the shader topology is unknown",
        chip.name));
  }
  const GcInfo& g = *table.gc_info;
  AmGpuNode n;
  n.gpu_id = 0;
  n.properties = {{"gfx_target_version", chip.gfx_target_version},
                  {"simd_count", uint64_t{kSimdsPerCu} * g.cu_count()},
                  {"simd_per_cu", kSimdsPerCu},
                  {"max_waves_per_simd", g.max_waves_per_simd},
                  {"array_count", uint64_t{g.num_se} * g.sa_per_se()},
                  {"simd_arrays_per_engine", g.sa_per_se()},
                  {"num_xcc", 1},
                  {"lds_size_in_kb", g.lds_size},
                  {"max_slots_scratch_cu", g.max_scratch_slots_per_cu},
                  {"wave_front_size", g.wave_size},
                  {"vendor_id", 0x1002},
                  {"device_id", device_id},
                  {"local_mem_size", vram_size}};
  n.arch = GfxArchFromTargetVersion(chip.gfx_target_version);
  return n;
}

}  // namespace uop
