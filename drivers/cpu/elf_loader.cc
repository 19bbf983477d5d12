#include "drivers/cpu/elf_loader.h"

#include <elf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

constexpr size_t kPage = 4096;

size_t AlignUp(size_t x, size_t a) { return (x + a - 1) & ~(a - 1); }

absl::Status Bad(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("ELF object: ", why));
}

// The libc functions code generation may call for llvm.memcpy/memmove/memset.
void* ResolveExternal(absl::string_view name) {
  if (name == "memcpy") return reinterpret_cast<void*>(&memcpy);
  if (name == "memmove") return reinterpret_cast<void*>(&memmove);
  if (name == "memset") return reinterpret_cast<void*>(&memset);
  return nullptr;
}

enum Region { kText = 0, kRodata = 1, kData = 2, kNumRegions = 3 };

// A far jump through an absolute address: `jmp *0(%rip); .quad target`, so a
// 32-bit PC-relative call can reach any address.
constexpr size_t kStubBytes = 16;
void WriteStub(uint8_t* at, uint64_t target) {
  static constexpr uint8_t kJmp[6] = {0xff, 0x25, 0, 0, 0, 0};
  std::memcpy(at, kJmp, sizeof(kJmp));
  std::memcpy(at + 6, &target, 8);
  at[14] = at[15] = 0xcc;  // int3 padding
}

// Parsed view of the file with every offset checked once.
struct Parsed {
  absl::string_view file;
  const Elf64_Ehdr* eh;
  std::vector<Elf64_Shdr> sh;  // copies: the file may be unaligned
  absl::string_view shstr;
  int symtab = -1;
  std::vector<Elf64_Sym> syms;
  absl::string_view strtab;
};

absl::StatusOr<absl::string_view> SectionBytes(const Parsed& p, int i) {
  const Elf64_Shdr& s = p.sh[i];
  if (s.sh_type == SHT_NOBITS) return absl::string_view();
  if (s.sh_offset > p.file.size() || s.sh_size > p.file.size() - s.sh_offset) {
    return Bad(absl::StrCat("section ", i, " lies outside the file"));
  }
  return p.file.substr(s.sh_offset, s.sh_size);
}

absl::StatusOr<absl::string_view> CString(absl::string_view table, uint32_t off) {
  if (off >= table.size()) return Bad("string offset out of range");
  const size_t end = table.find('\0', off);
  if (end == absl::string_view::npos) return Bad("unterminated string");
  return table.substr(off, end - off);
}

absl::StatusOr<Parsed> Parse(absl::string_view elf) {
  Parsed p;
  p.file = elf;
  if (elf.size() < sizeof(Elf64_Ehdr)) return Bad("file too short for an ELF header");
  p.eh = reinterpret_cast<const Elf64_Ehdr*>(elf.data());
  Elf64_Ehdr eh;
  std::memcpy(&eh, elf.data(), sizeof(eh));
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return Bad("bad magic (not ELF)");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    return Bad("not a little-endian 64-bit object");
  }
  if (eh.e_type != ET_REL)
    return Bad(absl::StrCat("not a relocatable object (e_type ", eh.e_type, ")"));
  if (eh.e_machine != EM_X86_64)
    return Bad(absl::StrCat("not x86-64 (e_machine ", eh.e_machine, ")"));
  if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shstrndx >= eh.e_shnum) {
    return Bad("bad section header table");
  }
  if (eh.e_shoff > elf.size() ||
      uint64_t{eh.e_shnum} * sizeof(Elf64_Shdr) > elf.size() - eh.e_shoff) {
    return Bad("section header table lies outside the file");
  }
  p.sh.resize(eh.e_shnum);
  std::memcpy(p.sh.data(), elf.data() + eh.e_shoff, eh.e_shnum * sizeof(Elf64_Shdr));
  ASSIGN_OR_RETURN(p.shstr, SectionBytes(p, eh.e_shstrndx));
  for (int i = 0; i < eh.e_shnum; ++i) {
    if (p.sh[i].sh_type != SHT_SYMTAB) continue;
    if (p.symtab >= 0) return Bad("more than one symbol table");
    p.symtab = i;
  }
  if (p.symtab < 0) return p;  // no symbols: nothing to relocate or find
  const Elf64_Shdr& st = p.sh[p.symtab];
  if (st.sh_entsize != sizeof(Elf64_Sym) || st.sh_link >= p.sh.size())
    return Bad("bad symbol table");
  ASSIGN_OR_RETURN(absl::string_view symbytes, SectionBytes(p, p.symtab));
  p.syms.resize(symbytes.size() / sizeof(Elf64_Sym));
  std::memcpy(p.syms.data(), symbytes.data(), p.syms.size() * sizeof(Elf64_Sym));
  ASSIGN_OR_RETURN(p.strtab, SectionBytes(p, st.sh_link));
  return p;
}

// Sections that take part in execution.
bool IsLoaded(const Parsed& p, int i) {
  const Elf64_Shdr& s = p.sh[i];
  if (!(s.sh_flags & SHF_ALLOC) || s.sh_size == 0) return false;
  if (s.sh_type == SHT_X86_64_UNWIND) return false;
  absl::StatusOr<absl::string_view> name = CString(p.shstr, s.sh_name);
  return !(name.ok() && *name == ".eh_frame");
}

Region RegionOf(const Elf64_Shdr& s) {
  if (s.sh_flags & SHF_EXECINSTR) return kText;
  if (s.sh_flags & SHF_WRITE) return kData;
  return kRodata;
}

bool IsGotReloc(uint32_t type) {
  return type == R_X86_64_GOTPCREL || type == R_X86_64_GOTPCRELX || type == R_X86_64_REX_GOTPCRELX;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ElfObject>> ElfObject::Load(absl::string_view elf) {
  ASSIGN_OR_RETURN(Parsed p, Parse(elf));
  const int nsec = static_cast<int>(p.sh.size());

  // Pass 1: which symbols need a GOT slot or a far-call stub.
  std::vector<int> got_slot(p.syms.size(), -1), stub_slot(p.syms.size(), -1);
  int num_got = 0, num_stubs = 0;
  for (int r = 0; r < nsec; ++r) {
    const Elf64_Shdr& rs = p.sh[r];
    if (rs.sh_type == SHT_REL) return Bad("SHT_REL relocations are not used on x86-64");
    if (rs.sh_type != SHT_RELA || rs.sh_info >= p.sh.size() || !IsLoaded(p, rs.sh_info)) continue;
    if (rs.sh_link != static_cast<uint32_t>(p.symtab) || rs.sh_entsize != sizeof(Elf64_Rela)) {
      return Bad(absl::StrCat("relocation section ", r, " is malformed"));
    }
    ASSIGN_OR_RETURN(absl::string_view bytes, SectionBytes(p, r));
    for (size_t k = 0; k + sizeof(Elf64_Rela) <= bytes.size(); k += sizeof(Elf64_Rela)) {
      Elf64_Rela rel;
      std::memcpy(&rel, bytes.data() + k, sizeof(rel));
      const uint32_t sym = ELF64_R_SYM(rel.r_info), type = ELF64_R_TYPE(rel.r_info);
      if (sym >= p.syms.size()) return Bad("relocation names a symbol past the symbol table");
      if (IsGotReloc(type) && got_slot[sym] < 0) got_slot[sym] = num_got++;
      if ((type == R_X86_64_PLT32 || type == R_X86_64_PC32) && sym != 0 &&
          p.syms[sym].st_shndx == SHN_UNDEF && stub_slot[sym] < 0) {
        stub_slot[sym] = num_stubs++;
      }
    }
  }

  // Layout: text + stubs | rodata + GOT | data, each region page aligned.
  std::vector<size_t> sec_off(nsec, 0);
  size_t region_size[kNumRegions] = {0, 0, 0};
  for (int i = 0; i < nsec; ++i) {
    if (!IsLoaded(p, i)) continue;
    const Elf64_Shdr& s = p.sh[i];
    const size_t align = s.sh_addralign == 0 ? 1 : s.sh_addralign;
    if ((align & (align - 1)) != 0 || align > kPage)
      return Bad(absl::StrCat("section ", i, " has bad alignment"));
    if (s.sh_size > (size_t{1} << 30))
      return Bad(absl::StrCat("section ", i, " is larger than 1 GiB"));
    if (s.sh_type != SHT_NOBITS) RETURN_IF_ERROR(SectionBytes(p, i).status());
    size_t& rs = region_size[RegionOf(s)];
    sec_off[i] = AlignUp(rs, align);
    rs = sec_off[i] + s.sh_size;
  }
  const size_t stubs_off = AlignUp(region_size[kText], 16);
  region_size[kText] = stubs_off + num_stubs * kStubBytes;
  const size_t got_off = AlignUp(region_size[kRodata], 8);
  region_size[kRodata] = got_off + num_got * 8;
  size_t region_base[kNumRegions];
  size_t total = 0;
  for (int r = 0; r < kNumRegions; ++r) {
    region_base[r] = total;
    total += AlignUp(region_size[r], kPage);
  }
  if (total == 0) return Bad("no loadable sections");

  void* mem = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    return absl::ResourceExhaustedError(
        absl::StrCat("ELF object: mmap of ", total, " bytes failed"));
  }
  std::unique_ptr<ElfObject> obj(new ElfObject());
  obj->base_ = static_cast<uint8_t*>(mem);
  obj->size_ = total;
  uint8_t* const base = obj->base_;
  std::vector<uint64_t> sec_addr(nsec, 0);
  for (int i = 0; i < nsec; ++i) {
    if (!IsLoaded(p, i)) continue;
    sec_addr[i] = reinterpret_cast<uint64_t>(base + region_base[RegionOf(p.sh[i])] + sec_off[i]);
    if (p.sh[i].sh_type != SHT_NOBITS) {  // NOBITS stays zero (fresh anonymous pages)
      std::memcpy(reinterpret_cast<void*>(sec_addr[i]), elf.data() + p.sh[i].sh_offset,
                  p.sh[i].sh_size);
    }
  }

  auto symbol_value = [&](uint32_t i) -> absl::StatusOr<uint64_t> {
    const Elf64_Sym& s = p.syms[i];
    if (s.st_shndx == SHN_UNDEF) {
      if (i == 0) return 0;
      ASSIGN_OR_RETURN(absl::string_view name, CString(p.strtab, s.st_name));
      if (void* f = ResolveExternal(name)) return reinterpret_cast<uint64_t>(f);
      return Bad(absl::StrCat("undefined symbol '", name,
                              "': kernels may not call external functions (only memcpy, "
                              "memmove and memset are provided)"));
    }
    if (s.st_shndx == SHN_ABS) return s.st_value;
    if (s.st_shndx == SHN_COMMON) return Bad("common symbols are not supported");
    if (s.st_shndx >= p.sh.size() || !IsLoaded(p, s.st_shndx)) {
      return Bad(
          absl::StrCat("symbol ", i, " lives in section ", s.st_shndx, " which is not loaded"));
    }
    if (s.st_value > p.sh[s.st_shndx].sh_size)
      return Bad(absl::StrCat("symbol ", i, " lies outside its section"));
    return sec_addr[s.st_shndx] + s.st_value;
  };

  // Pass 2: apply relocations.
  uint8_t* const stubs = base + region_base[kText] + stubs_off;
  uint8_t* const got = base + region_base[kRodata] + got_off;
  for (int r = 0; r < nsec; ++r) {
    const Elf64_Shdr& rs = p.sh[r];
    if (rs.sh_type != SHT_RELA || rs.sh_info >= p.sh.size() || !IsLoaded(p, rs.sh_info)) continue;
    const Elf64_Shdr& target = p.sh[rs.sh_info];
    if (target.sh_type == SHT_NOBITS) return Bad("relocations against a NOBITS section");
    ASSIGN_OR_RETURN(absl::string_view bytes, SectionBytes(p, r));
    for (size_t k = 0; k + sizeof(Elf64_Rela) <= bytes.size(); k += sizeof(Elf64_Rela)) {
      Elf64_Rela rel;
      std::memcpy(&rel, bytes.data() + k, sizeof(rel));
      const uint32_t sym = ELF64_R_SYM(rel.r_info), type = ELF64_R_TYPE(rel.r_info);
      if (type == R_X86_64_NONE) continue;
      const size_t width = (type == R_X86_64_64 || type == R_X86_64_PC64) ? 8 : 4;
      if (rel.r_offset > target.sh_size || width > target.sh_size - rel.r_offset) {
        return Bad(
            absl::StrCat("relocation at offset ", rel.r_offset, " lies outside its section"));
      }
      ASSIGN_OR_RETURN(const uint64_t s, symbol_value(sym));
      const uint64_t a = static_cast<uint64_t>(rel.r_addend);
      uint8_t* const at = reinterpret_cast<uint8_t*>(sec_addr[rs.sh_info] + rel.r_offset);
      const uint64_t pc = reinterpret_cast<uint64_t>(at);
      uint64_t value;  // computed in wrapping 64-bit arithmetic, then range-checked
      bool is_signed32 = false, is_unsigned32 = false;
      switch (type) {
        case R_X86_64_64:
          value = s + a;
          break;
        case R_X86_64_PC64:
          value = s + a - pc;
          break;
        case R_X86_64_PC32:
        case R_X86_64_PLT32: {
          uint64_t dest = s;
          if (stub_slot[sym] >= 0) {  // external function: call through a stub in reach
            uint8_t* stub = stubs + stub_slot[sym] * kStubBytes;
            WriteStub(stub, s);
            dest = reinterpret_cast<uint64_t>(stub);
          }
          value = dest + a - pc;
          is_signed32 = true;
          break;
        }
        case R_X86_64_32:
          value = s + a;
          is_unsigned32 = true;
          break;
        case R_X86_64_32S:
          value = s + a;
          is_signed32 = true;
          break;
        case R_X86_64_GOTPCREL:
        case R_X86_64_GOTPCRELX:
        case R_X86_64_REX_GOTPCRELX: {
          uint8_t* slot = got + got_slot[sym] * 8;
          std::memcpy(slot, &s, 8);
          value = reinterpret_cast<uint64_t>(slot) + a - pc;
          is_signed32 = true;
          break;
        }
        default:
          return Bad(absl::StrCat("unsupported relocation type ", type, " at offset ", rel.r_offset,
                                  " of section ", rs.sh_info));
      }
      if (is_signed32) {
        const int64_t v = static_cast<int64_t>(value);
        if (v < INT32_MIN || v > INT32_MAX) {
          return Bad(absl::StrCat("relocation type ", type, " at offset ", rel.r_offset,
                                  " does not fit in 32 bits (absolute address outside the small "
                                  "code model)"));
        }
        const int32_t v32 = static_cast<int32_t>(v);
        std::memcpy(at, &v32, 4);
      } else if (is_unsigned32) {
        if (value > UINT32_MAX) {
          return Bad(absl::StrCat("relocation type ", type, " at offset ", rel.r_offset,
                                  " does not fit in 32 bits (absolute address outside the small "
                                  "code model)"));
        }
        const uint32_t v32 = static_cast<uint32_t>(value);
        std::memcpy(at, &v32, 4);
      } else {
        std::memcpy(at, &value, 8);
      }
    }
  }

  // Exported symbols.
  for (uint32_t i = 1; i < p.syms.size(); ++i) {
    const Elf64_Sym& s = p.syms[i];
    const int bind = ELF64_ST_BIND(s.st_info), type = ELF64_ST_TYPE(s.st_info);
    if ((bind != STB_GLOBAL && bind != STB_WEAK) || s.st_shndx == SHN_UNDEF) continue;
    if (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE) continue;
    ASSIGN_OR_RETURN(absl::string_view name, CString(p.strtab, s.st_name));
    ASSIGN_OR_RETURN(const uint64_t addr, symbol_value(i));
    obj->symbols_.emplace_back(std::string(name), reinterpret_cast<void*>(addr));
  }

  for (int r = 0; r < kNumRegions; ++r) {
    const size_t bytes = AlignUp(region_size[r], kPage);
    if (bytes == 0) continue;
    const int prot = r == kText     ? PROT_READ | PROT_EXEC
                     : r == kRodata ? PROT_READ
                                    : PROT_READ | PROT_WRITE;
    if (mprotect(base + region_base[r], bytes, prot) != 0) {
      return absl::InternalError(absl::StrCat("ELF object: mprotect failed: ", strerror(errno)));
    }
  }
  return obj;
}

ElfObject::~ElfObject() {
  if (base_ != nullptr) munmap(base_, size_);
}

absl::StatusOr<void*> ElfObject::Symbol(absl::string_view name) const {
  for (const auto& [n, addr] : symbols_) {
    if (n == name) return addr;
  }
  std::vector<absl::string_view> names;
  for (const auto& [n, addr] : symbols_) names.push_back(n);
  return absl::NotFoundError(
      absl::StrCat("ELF object defines no symbol '", name,
                   "' (it has: ", names.empty() ? "none" : absl::StrJoin(names, ", "), ")"));
}

}  // namespace uop
