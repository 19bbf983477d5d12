#include "drivers/nv/nv_cubin.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace uop {
namespace {

constexpr uint8_t kEiattrParamCbank = 0x0a;
constexpr uint8_t kEiattrFrameSize = 0x11;
constexpr uint8_t kEiattrMinStackSize = 0x12;
constexpr uint8_t kEiattrKparamInfo = 0x17;
constexpr uint8_t kEiattrRegcount = 0x2f;
constexpr uint8_t kEiattrFormatSval = 0x04;  // a record with a size and data
constexpr uint32_t kShtRela = 4, kShtRel = 9, kShtSymtab = 2;
constexpr uint32_t kRCuda64 = 2, kRCudaAbs32Lo = 0x38, kRCudaAbs32Hi = 0x39;

struct Section {
  std::string name;
  uint32_t type = 0, link = 0, info = 0;
  uint64_t offset = 0, size = 0, entsize = 0;
};

template <typename T>
T Get(absl::string_view d, size_t at) {
  T v;
  std::memcpy(&v, d.data() + at, sizeof(T));
  return v;
}

absl::Status Bad(absl::string_view name, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("cubin of kernel '", name, "': ", why));
}

}  // namespace

absl::StatusOr<CubinKernel> ParseCubin(absl::string_view elf, absl::string_view name) {
  if (elf.size() < 64 ||
      elf.substr(0, 4) != absl::string_view("\x7f"
                                            "ELF",
                                            4) ||
      elf[4] != 2) {
    return Bad(name, "not a 64-bit ELF file");
  }
  CubinKernel k;
  k.name = std::string(name);
  k.sm = static_cast<int>((Get<uint32_t>(elf, 0x30) >> 8) & 0xff);
  const uint64_t shoff = Get<uint64_t>(elf, 0x28);
  const uint16_t shentsize = Get<uint16_t>(elf, 0x3a), shnum = Get<uint16_t>(elf, 0x3c),
                 shstrndx = Get<uint16_t>(elf, 0x3e);
  if (shentsize != 64 || shnum == 0 || shstrndx >= shnum || shoff > elf.size() ||
      uint64_t{shnum} * 64 > elf.size() - shoff) {
    return Bad(name, "malformed section header table");
  }
  std::vector<Section> secs(shnum);
  for (size_t i = 0; i < shnum; ++i) {
    const size_t at = shoff + 64 * i;
    Section& s = secs[i];
    s.type = Get<uint32_t>(elf, at + 4);
    s.offset = Get<uint64_t>(elf, at + 0x18);
    s.size = Get<uint64_t>(elf, at + 0x20);
    s.link = Get<uint32_t>(elf, at + 0x28);
    s.info = Get<uint32_t>(elf, at + 0x2c);
    s.entsize = Get<uint64_t>(elf, at + 0x38);
    const bool nobits = s.type == 8;
    if (!nobits && (s.offset > elf.size() || s.size > elf.size() - s.offset)) {
      return Bad(name, absl::StrCat("section ", i, " lies outside the file"));
    }
  }
  const Section& strtab = secs[shstrndx];
  for (size_t i = 0; i < shnum; ++i) {
    const uint32_t off = Get<uint32_t>(elf, shoff + 64 * i);
    if (off >= strtab.size) return Bad(name, "section name outside the string table");
    const char* p = elf.data() + strtab.offset + off;
    secs[i].name = std::string(p, strnlen(p, strtab.size - off));
  }
  auto contents = [&](const Section& s) { return elf.substr(s.offset, s.size); };
  const std::string text_name = absl::StrCat(".text.", name);
  int text = -1, symtab = -1;
  std::vector<std::string> kernels;
  for (size_t i = 0; i < shnum; ++i) {
    const Section& s = secs[i];
    if (s.type == kShtSymtab) symtab = static_cast<int>(i);
    if (absl::StartsWith(s.name, ".text.")) kernels.push_back(s.name.substr(6));
    if (s.name == text_name) text = static_cast<int>(i);
  }
  if (text < 0) {
    return Bad(name, absl::StrCat("no code for it (the cubin has: ",
                                  kernels.empty() ? "none" : absl::StrJoin(kernels, ", "), ")"));
  }
  k.code = std::string(contents(secs[text]));
  if (k.code.empty()) return Bad(name, "its code section is empty");
  // The kernel's symbol index: the .text section's sh_info (low byte) names
  // it in newer cubins; find it by name in the symbol table to be sure.
  int symbol = -1;
  std::vector<std::pair<std::string, int>> syms;  // name, section index
  if (symtab >= 0) {
    const Section& st = secs[symtab];
    const Section& names = secs[st.link < shnum ? st.link : 0];
    for (uint64_t at = 0; at + 24 <= st.size; at += 24) {
      const uint32_t noff = Get<uint32_t>(elf, st.offset + at);
      const uint16_t shndx = Get<uint16_t>(elf, st.offset + at + 6);
      std::string n;
      if (noff < names.size) {
        const char* p = elf.data() + names.offset + noff;
        n = std::string(p, strnlen(p, names.size - noff));
      }
      if (n == name && shndx == text) symbol = static_cast<int>(at / 24);
      syms.emplace_back(std::move(n), shndx);
    }
  }
  // EIATTR records: the global .nv.info (by symbol) and .nv.info.<name>.
  bool have_param_cbank = false;
  for (const Section& s : secs) {
    const bool global = s.name == ".nv.info";
    const bool mine = s.name == absl::StrCat(".nv.info.", name);
    if (!global && !mine) continue;
    absl::string_view d = contents(s);
    for (size_t at = 0; at + 4 <= d.size();) {
      const uint8_t fmt = static_cast<uint8_t>(d[at]), attr = static_cast<uint8_t>(d[at + 1]);
      const uint16_t size = Get<uint16_t>(d, at + 2);
      if (fmt != kEiattrFormatSval) {
        at += 4;
        continue;
      }
      if (at + 4 + size > d.size()) return Bad(name, absl::StrCat(s.name, " is truncated"));
      absl::string_view v = d.substr(at + 4, size);
      at += 4 + size;
      if (global && size >= 8 && static_cast<int>(Get<uint32_t>(v, 0)) == symbol) {
        const uint32_t value = Get<uint32_t>(v, 4);
        if (attr == kEiattrRegcount) k.registers = static_cast<int>(value);
        if (attr == kEiattrFrameSize || attr == kEiattrMinStackSize) {
          k.stack_bytes = std::max(k.stack_bytes, value);
        }
      }
      if (mine && attr == kEiattrParamCbank && size >= 8) {
        k.param_base = Get<uint16_t>(v, 4);
        k.param_bytes = Get<uint16_t>(v, 6);
        have_param_cbank = true;
      }
      if (mine && attr == kEiattrKparamInfo && size >= 12) {
        CubinParam p;
        p.ordinal = Get<uint16_t>(v, 4);
        p.offset = Get<uint16_t>(v, 6);
        p.size = (Get<uint32_t>(v, 8) >> 18) & 0x3fff;
        k.params.push_back(p);
      }
    }
  }
  std::sort(k.params.begin(), k.params.end(),
            [](const CubinParam& a, const CubinParam& b) { return a.ordinal < b.ordinal; });
  for (size_t i = 0; i < k.params.size(); ++i) {
    if (k.params[i].ordinal != i) return Bad(name, "its parameter ordinals are not 0..n-1");
  }
  for (size_t i = 0; i < shnum; ++i) {
    const Section& s = secs[i];
    if (s.name == absl::StrCat(".nv.shared.", name)) k.shared_bytes = s.size;
    if (!absl::StartsWith(s.name, ".nv.constant")) continue;
    absl::string_view rest = absl::string_view(s.name).substr(12);
    const size_t dot = rest.find('.');
    int bank;
    if (!absl::SimpleAtoi(rest.substr(0, dot), &bank) || bank < 0 || bank > 17) continue;
    if (dot != absl::string_view::npos && rest.substr(dot + 1) != name)
      continue;  // another kernel's
    if (bank == 0) {
      k.cbank0_bytes = s.size;
    } else {
      k.banks.push_back({bank, std::string(contents(s))});
    }
  }
  if (!have_param_cbank) {
    // A kernel without parameters: they would start after the driver area.
    k.param_base = k.cbank0_bytes;
    k.param_bytes = 0;
  }
  if (k.cbank0_bytes < k.param_base + k.param_bytes) {
    return Bad(name, "constant bank 0 is smaller than its parameters");
  }
  // Relocations of the code.
  for (const Section& s : secs) {
    if ((s.type != kShtRela && s.type != kShtRel) || s.info != static_cast<uint32_t>(text)) {
      continue;
    }
    const size_t entry = s.type == kShtRela ? 24 : 16;
    for (uint64_t at = 0; at + entry <= s.size; at += entry) {
      const uint64_t off = Get<uint64_t>(elf, s.offset + at);
      const uint64_t info = Get<uint64_t>(elf, s.offset + at + 8);
      const uint64_t addend = s.type == kShtRela ? Get<uint64_t>(elf, s.offset + at + 16) : 0;
      const uint32_t type = static_cast<uint32_t>(info), sym = static_cast<uint32_t>(info >> 32);
      CubinReloc r;
      if (type == kRCuda64) {
        r.type = CubinReloc::kAbs64;
      } else if (type == kRCudaAbs32Lo) {
        r.type = CubinReloc::kAbs32Lo;
      } else if (type == kRCudaAbs32Hi) {
        r.type = CubinReloc::kAbs32Hi;
      } else {
        return Bad(name, absl::StrCat("unsupported relocation type 0x", absl::Hex(type)));
      }
      if (sym >= syms.size() || syms[sym].second >= shnum) {
        return Bad(name, "relocation against an unknown symbol");
      }
      const std::string& target = secs[syms[sym].second].name;
      int bank = -1;
      if (absl::StartsWith(target, ".nv.constant")) {
        absl::string_view rest = absl::string_view(target).substr(12);
        if (!absl::SimpleAtoi(rest.substr(0, rest.find('.')), &bank)) bank = -2;
      } else if (target != text_name) {
        bank = -2;
      }
      if (bank == -2 || bank == 0) {
        return Bad(name, absl::StrCat("relocation against section '", target,
                                      "', which this loader does not place"));
      }
      const size_t width = r.type == CubinReloc::kAbs64 ? 8 : 4;
      const size_t patch = r.type == CubinReloc::kAbs64 ? off : off + 4;
      if (patch + width > k.code.size()) return Bad(name, "relocation outside the code");
      r.offset = off;
      r.target_bank = bank;
      r.addend = addend;
      k.relocs.push_back(r);
    }
  }
  return k;
}

}  // namespace uop
