#include "drivers/am/emulator/psp_firmware_file.h"

#include <cstring>

namespace uop {
namespace {

void Put32(std::vector<uint8_t>& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }
void Put16(std::vector<uint8_t>& b, size_t at, uint16_t v) { std::memcpy(b.data() + at, &v, 2); }

}  // namespace

std::vector<uint8_t> PatternBytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> out(n);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    out[i] = static_cast<uint8_t>(x >> 24);
  }
  return out;
}

std::vector<uint8_t> BuildPspFirmwareFile(const std::vector<EmuPspComponent>& components,
                                          uint16_t header_minor) {
  const size_t table = header_minor == 0 ? 36 : 40;
  const size_t header = table + 16 * components.size();
  const size_t payload = (header + 255) & ~size_t{255};
  std::vector<size_t> offsets;
  size_t at = 0;
  for (const EmuPspComponent& c : components) {
    offsets.push_back(at);
    at = (at + c.bytes.size() + 255) & ~size_t{255};
  }
  std::vector<uint8_t> b(payload + at, 0);
  Put32(b, 0, static_cast<uint32_t>(b.size()));
  Put32(b, 4, static_cast<uint32_t>(header));
  Put16(b, 8, 2);
  Put16(b, 10, header_minor);
  Put16(b, 12, 13);  // MP0 13.0
  Put16(b, 14, 0);
  Put32(b, 16, 0x003a0000);
  Put32(b, 20, static_cast<uint32_t>(at));
  Put32(b, 24, static_cast<uint32_t>(payload));
  Put32(b, 32, static_cast<uint32_t>(components.size()));
  if (header_minor == 1) Put32(b, 36, 0);  // psp_aux_fw_bin_index
  for (size_t i = 0; i < components.size(); ++i) {
    const EmuPspComponent& c = components[i];
    Put32(b, table + 16 * i, static_cast<uint32_t>(c.type));
    Put32(b, table + 16 * i + 4, c.version);
    Put32(b, table + 16 * i + 8, static_cast<uint32_t>(offsets[i]));
    Put32(b, table + 16 * i + 12, static_cast<uint32_t>(c.bytes.size()));
    std::memcpy(b.data() + payload + offsets[i], c.bytes.data(), c.bytes.size());
  }
  return b;
}

std::vector<EmuPspComponent> Navi31SosComponents(size_t bytes, bool with_toc) {
  std::vector<EmuPspComponent> out;
  const PspFwType order[] = {PspFwType::kKdb,    PspFwType::kSpl,     PspFwType::kSysDrv,
                             PspFwType::kSocDrv, PspFwType::kIntfDrv, PspFwType::kDbgDrv,
                             PspFwType::kRasDrv, PspFwType::kSos};
  for (PspFwType t : order) {
    const uint32_t v = static_cast<uint32_t>(t);
    out.push_back({t, 0x00300000 + v, PatternBytes(bytes + 16 * v, v)});
  }
  if (with_toc) out.push_back({PspFwType::kToc, 0x00300004, PatternBytes(bytes / 4 + 12, 4)});
  return out;
}

}  // namespace uop
