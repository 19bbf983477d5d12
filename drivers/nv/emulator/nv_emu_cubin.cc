#include "drivers/nv/emulator/nv_emu_cubin.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "drivers/cuda/cuda_binary.h"

namespace uop {
namespace {

template <typename T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}

// One EIATTR record with a payload (format 0x04).
void Attr(std::string& out, uint8_t attr, const std::string& payload) {
  out.push_back(0x04);
  out.push_back(static_cast<char>(attr));
  Put<uint16_t>(out, static_cast<uint16_t>(payload.size()));
  out += payload;
}

struct Sec {
  std::string name;
  uint32_t type = 1, link = 0, info = 0;
  uint64_t flags = 0, entsize = 0, size_nobits = 0;
  std::string data;
};

}  // namespace

std::string BuildTwinElf(absl::string_view name, absl::string_view code, int globals, int vars,
                         const EmuCubinOptions& o) {
  const std::string n(name);
  const int params = globals + vars;
  // Section indices: 1 shstrtab, 2 strtab, 3 symtab, 4 .nv.info, 5 .nv.info.<n>, 6 .text.<n>,
  // 7 .nv.constant0.<n>, 8 .nv.shared.<n>.
  std::vector<Sec> secs(o.static_shared > 0 ? 9 : 8);
  secs[1] = {".shstrtab", 3};
  secs[2] = {".strtab", 3};
  secs[2].data = std::string("\0", 1) + n + std::string("\0", 1);
  secs[3] = {".symtab", 2, 2, 1};
  secs[3].entsize = 24;
  secs[3].data.assign(24, '\0');   // the null symbol
  Put<uint32_t>(secs[3].data, 1);  // name offset in .strtab
  secs[3].data.push_back(0x12);    // STB_GLOBAL, STT_FUNC
  secs[3].data.push_back(0);
  Put<uint16_t>(secs[3].data, 6);  // .text.<n>
  Put<uint64_t>(secs[3].data, 0);
  Put<uint64_t>(secs[3].data, code.size());
  std::string info;
  std::string v;
  Put<uint32_t>(v, 1);  // the kernel's symbol
  Put<uint32_t>(v, static_cast<uint32_t>(o.registers));
  Attr(info, 0x2f, v);  // EIATTR_REGCOUNT
  v.clear();
  Put<uint32_t>(v, 1);
  Put<uint32_t>(v, o.stack_bytes);
  Attr(info, 0x12, v);  // EIATTR_MIN_STACK_SIZE
  secs[4] = {".nv.info", 0x70000000, 3};
  secs[4].data = info;
  std::string kinfo;
  v.clear();
  Put<uint32_t>(v, 7);
  Put<uint16_t>(v, 0x210);
  Put<uint16_t>(v, static_cast<uint16_t>(8 * params));
  Attr(kinfo, 0x0a, v);  // EIATTR_PARAM_CBANK
  for (int i = params - 1; i >= 0; --i) {
    v.clear();
    Put<uint32_t>(v, 0);
    Put<uint16_t>(v, static_cast<uint16_t>(i));
    Put<uint16_t>(v, static_cast<uint16_t>(8 * i));
    Put<uint32_t>(v, (8u << 18) | 0x1f000u);
    Attr(kinfo, 0x17, v);  // EIATTR_KPARAM_INFO
  }
  secs[5] = {absl::StrCat(".nv.info.", n), 0x70000000, 3, 6};
  secs[5].data = kinfo;
  secs[6] = {absl::StrCat(".text.", n), 1, 3, 1};
  secs[6].flags = 6;
  secs[6].data = std::string(code);
  secs[7] = {absl::StrCat(".nv.constant0.", n), 1, 0, 6};
  secs[7].flags = 0x42;
  secs[7].data.assign(0x210 + 8 * params, '\0');
  if (o.static_shared > 0) {
    secs[8] = {absl::StrCat(".nv.shared.", n), 8, 0, 6};
    secs[8].flags = 0x43;
    secs[8].size_nobits = o.static_shared;
  }
  std::vector<uint32_t> name_off(secs.size(), 0);
  secs[1].data.assign(1, '\0');
  for (size_t i = 1; i < secs.size(); ++i) {
    name_off[i] = static_cast<uint32_t>(secs[1].data.size());
    secs[1].data += secs[i].name;
    secs[1].data.push_back('\0');
  }
  std::string out(64, '\0');
  std::vector<uint64_t> offsets(secs.size(), 0);
  for (size_t i = 1; i < secs.size(); ++i) {
    while (out.size() % 8 != 0) out.push_back('\0');
    offsets[i] = out.size();
    out += secs[i].data;
  }
  while (out.size() % 8 != 0) out.push_back('\0');
  const uint64_t shoff = out.size();
  for (size_t i = 0; i < secs.size(); ++i) {
    const Sec& s = secs[i];
    Put<uint32_t>(out, name_off[i]);
    Put<uint32_t>(out, i == 0 ? 0 : s.type);
    Put<uint64_t>(out, s.flags);
    Put<uint64_t>(out, 0);  // address
    Put<uint64_t>(out, offsets[i]);
    Put<uint64_t>(out, s.type == 8 ? s.size_nobits : s.data.size());
    Put<uint32_t>(out, s.link);
    Put<uint32_t>(out, s.info);
    Put<uint64_t>(out, 8);
    Put<uint64_t>(out, s.entsize);
  }
  // ELF header: 64-bit, little endian, CUDA machine (190).
  std::memcpy(&out[0],
              "\x7f"
              "ELF\x02\x01\x01\x33",
              8);
  const uint16_t type = 2, machine = 190;
  std::memcpy(&out[16], &type, 2);
  std::memcpy(&out[18], &machine, 2);
  const uint32_t flags = (static_cast<uint32_t>(o.sm) << 8) | 4;
  std::memcpy(&out[0x28], &shoff, 8);
  std::memcpy(&out[0x30], &flags, 4);
  const uint16_t ehsize = 64, shentsize = 64, shnum = static_cast<uint16_t>(secs.size()),
                 shstrndx = 1;
  std::memcpy(&out[0x34], &ehsize, 2);
  std::memcpy(&out[0x3a], &shentsize, 2);
  std::memcpy(&out[0x3c], &shnum, 2);
  std::memcpy(&out[0x3e], &shstrndx, 2);
  return out;
}

std::string BuildTwinCubin(absl::string_view name, absl::string_view code, int globals, int vars,
                           const EmuCubinOptions& o) {
  cuda::KernelAbi abi;
  abi.globals = globals;
  abi.vars = vars;
  abi.shared_bytes = static_cast<int>(o.dynamic_shared);
  return cuda::PackBinary(abi, BuildTwinElf(name, code, globals, vars, o));
}

}  // namespace uop
