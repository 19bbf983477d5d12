#include "drivers/am/code_object.h"

#include <elf.h>

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

constexpr uint16_t kEmAmdgpu = 224;
// R_AMDGPU_* (LLVM's ELFRelocs/AMDGPU.def).
constexpr uint32_t kRelNone = 0, kRel32 = 4, kRel64 = 5, kRel32Lo = 10, kRel32Hi = 11;

class Elf {
 public:
  Elf(absl::string_view b, absl::string_view kernel) : b_(b), kernel_(kernel) {}
  absl::Status Bad(const std::string& why) const {
    return absl::InvalidArgumentError(
        absl::StrCat("AMDGPU code object of kernel '", kernel_, "': ", why));
  }
  template <typename T>
  absl::StatusOr<T> Read(uint64_t off, const char* what) const {
    if (off > b_.size() || b_.size() - off < sizeof(T)) {
      return Bad(absl::StrCat(what, " at offset ", off, " lies past the ", b_.size(), " bytes"));
    }
    T v;
    std::memcpy(&v, b_.data() + off, sizeof(T));
    return v;
  }
  absl::string_view bytes() const { return b_; }

 private:
  absl::string_view b_;
  absl::string_view kernel_;
};

}  // namespace

absl::StatusOr<AmdCodeObject> LoadAmdCodeObject(absl::string_view bytes, absl::string_view kernel) {
  Elf elf(bytes, kernel);
  ASSIGN_OR_RETURN(Elf64_Ehdr eh, elf.Read<Elf64_Ehdr>(0, "ELF header"));
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    return elf.Bad("not a 64-bit little-endian ELF file");
  }
  if (eh.e_machine != kEmAmdgpu)
    return elf.Bad(absl::StrCat("machine ", eh.e_machine, ", not AMDGPU"));
  if (eh.e_type != ET_REL)
    return elf.Bad(absl::StrCat("ELF type ", eh.e_type, ", expected a relocatable object"));
  if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shnum > 4096) {
    return elf.Bad("malformed section header table");
  }
  std::vector<Elf64_Shdr> sh(eh.e_shnum);
  for (int i = 0; i < eh.e_shnum; ++i) {
    ASSIGN_OR_RETURN(sh[i], elf.Read<Elf64_Shdr>(eh.e_shoff + uint64_t{i} * sizeof(Elf64_Shdr),
                                                 "section header"));
    if (sh[i].sh_type != SHT_NOBITS && sh[i].sh_type != SHT_NULL &&
        (sh[i].sh_offset > bytes.size() || bytes.size() - sh[i].sh_offset < sh[i].sh_size)) {
      return elf.Bad(absl::StrCat("section ", i, " lies outside the file"));
    }
  }

  // Lay out the allocated sections.
  AmdCodeObject co;
  std::vector<int64_t> place(sh.size(), -1);
  for (size_t i = 0; i < sh.size(); ++i) {
    if ((sh[i].sh_flags & SHF_ALLOC) == 0 || sh[i].sh_size == 0) continue;
    const uint64_t align = std::max<uint64_t>(sh[i].sh_addralign, 1);
    if ((align & (align - 1)) != 0 || align > 65536) return elf.Bad("bad section alignment");
    const uint64_t at = (co.image.size() + align - 1) / align * align;
    if (at + sh[i].sh_size > (uint64_t{1} << 30)) return elf.Bad("image larger than 1 GiB");
    co.image.resize(at, '\0');
    if (sh[i].sh_type == SHT_NOBITS) {
      co.image.resize(at + sh[i].sh_size, '\0');
    } else {
      co.image.append(bytes.data() + sh[i].sh_offset, sh[i].sh_size);
    }
    place[i] = static_cast<int64_t>(at);
  }

  // The symbol table.
  int symtab = -1;
  for (size_t i = 0; i < sh.size(); ++i)
    if (sh[i].sh_type == SHT_SYMTAB) symtab = static_cast<int>(i);
  if (symtab < 0 || sh[symtab].sh_entsize != sizeof(Elf64_Sym) || sh[symtab].sh_link >= sh.size()) {
    return elf.Bad("no usable symbol table");
  }
  const Elf64_Shdr& strtab = sh[sh[symtab].sh_link];
  const uint64_t nsyms = sh[symtab].sh_size / sizeof(Elf64_Sym);
  auto symbol = [&](uint64_t i) {
    return elf.Read<Elf64_Sym>(sh[symtab].sh_offset + i * sizeof(Elf64_Sym), "symbol");
  };
  auto name_of = [&](const Elf64_Sym& s) -> absl::string_view {
    if (s.st_name >= strtab.sh_size) return "";
    absl::string_view rest = bytes.substr(strtab.sh_offset + s.st_name, strtab.sh_size - s.st_name);
    return rest.substr(0, rest.find('\0'));
  };
  // Where a defined symbol lies in the image.
  auto address_of = [&](const Elf64_Sym& s) -> absl::StatusOr<uint64_t> {
    if (s.st_shndx == SHN_UNDEF || s.st_shndx >= sh.size() || place[s.st_shndx] < 0) {
      return elf.Bad(absl::StrCat("symbol '", name_of(s), "' is not defined in a loaded section"));
    }
    return static_cast<uint64_t>(place[s.st_shndx]) + s.st_value;
  };

  const std::string kd_name = absl::StrCat(kernel, ".kd");
  bool found = false;
  for (uint64_t i = 1; i < nsyms; ++i) {
    ASSIGN_OR_RETURN(Elf64_Sym s, symbol(i));
    if (name_of(s) != kd_name) continue;
    ASSIGN_OR_RETURN(co.kd_offset, address_of(s));
    found = true;
  }
  if (!found) return elf.Bad(absl::StrCat("no kernel descriptor symbol '", kd_name, "'"));

  // Relocations (all PC-relative: the image runs at any address).
  for (size_t r = 0; r < sh.size(); ++r) {
    if (sh[r].sh_type == SHT_REL) return elf.Bad("SHT_REL relocations are not expected");
    if (sh[r].sh_type != SHT_RELA || sh[r].sh_info >= sh.size() || place[sh[r].sh_info] < 0)
      continue;
    if (sh[r].sh_entsize != sizeof(Elf64_Rela) || sh[r].sh_link != static_cast<uint32_t>(symtab)) {
      return elf.Bad("malformed relocation section");
    }
    const uint64_t target = static_cast<uint64_t>(place[sh[r].sh_info]);
    for (uint64_t k = 0; k < sh[r].sh_size / sizeof(Elf64_Rela); ++k) {
      ASSIGN_OR_RETURN(Elf64_Rela rel, elf.Read<Elf64_Rela>(
                                           sh[r].sh_offset + k * sizeof(Elf64_Rela), "relocation"));
      const uint32_t type = ELF64_R_TYPE(rel.r_info);
      if (type == kRelNone) continue;
      if (ELF64_R_SYM(rel.r_info) >= nsyms) return elf.Bad("relocation names no symbol");
      ASSIGN_OR_RETURN(Elf64_Sym s, symbol(ELF64_R_SYM(rel.r_info)));
      ASSIGN_OR_RETURN(uint64_t sym, address_of(s));
      const uint64_t p = target + rel.r_offset;
      const int64_t value = static_cast<int64_t>(sym) + rel.r_addend - static_cast<int64_t>(p);
      const size_t width = type == kRel64 ? 8 : 4;
      if (p > co.image.size() || co.image.size() - p < width)
        return elf.Bad("relocation outside its section");
      if (type == kRel64) {
        std::memcpy(co.image.data() + p, &value, 8);
      } else if (type == kRel32 || type == kRel32Lo) {
        const uint32_t lo = static_cast<uint32_t>(value);
        std::memcpy(co.image.data() + p, &lo, 4);
      } else if (type == kRel32Hi) {
        const uint32_t hi = static_cast<uint32_t>(static_cast<uint64_t>(value) >> 32);
        std::memcpy(co.image.data() + p, &hi, 4);
      } else {
        return elf.Bad(absl::StrCat("relocation type ", type,
                                    " is not PC-relative (the code object must be PIC)"));
      }
    }
  }

  if (co.kd_offset + sizeof(hsa::kernel_descriptor) > co.image.size()) {
    return elf.Bad("the kernel descriptor runs past the image");
  }
  std::memcpy(&co.kd, co.image.data() + co.kd_offset, sizeof(co.kd));
  const int64_t code = static_cast<int64_t>(co.kd_offset) + co.kd.kernel_code_entry_byte_offset;
  if (code < 0 || static_cast<uint64_t>(code) >= co.image.size() || code % 256 != 0) {
    return elf.Bad(absl::StrCat("the kernel entry (descriptor offset ",
                                co.kd.kernel_code_entry_byte_offset,
                                ") is not a 256-byte aligned address in the image"));
  }
  co.code_offset = static_cast<uint64_t>(code);
  return co;
}

}  // namespace uop
