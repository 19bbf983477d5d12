#include "drivers/cpu/elf_loader.h"

#include <elf.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "drivers/cpu/llvm_compiler.h"
#include "drivers/cpu/test_kernels.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

using KernelFn = void (*)(void* const*, const int64_t*, int64_t);

std::string CompileOrDie(const char* name, const char* ir) {
  static LlvmCompiler* cc = LlvmCompiler::Create()->release();
  absl::StatusOr<std::string> obj = cc->Compile(name, ir);
  EXPECT_TRUE(obj.ok()) << obj.status();
  return obj.ok() ? *obj : std::string();
}

KernelFn LoadKernel(const std::string& obj, const char* name, std::unique_ptr<ElfObject>* keep) {
  absl::StatusOr<std::unique_ptr<ElfObject>> o = ElfObject::Load(obj);
  EXPECT_TRUE(o.ok()) << o.status();
  if (!o.ok()) return nullptr;
  absl::StatusOr<void*> sym = (*o)->Symbol(name);
  EXPECT_TRUE(sym.ok()) << sym.status();
  *keep = *std::move(o);
  return sym.ok() ? reinterpret_cast<KernelFn>(*sym) : nullptr;
}

TEST(ElfObject, RunsConstantPoolKernel) {
  std::unique_ptr<ElfObject> keep;
  KernelFn f = LoadKernel(CompileOrDie("table", test_kernels::kTable), "table", &keep);
  ASSERT_NE(f, nullptr);
  std::vector<float> out(64), a(64);
  for (int i = 0; i < 64; ++i) a[i] = static_cast<float>(i);
  void* bufs[] = {out.data(), a.data()};
  f(bufs, nullptr, 0);
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(out[i], a[i] * static_cast<float>((i & 7) + 1) + (static_cast<float>(i & 7) + 0.5f))
        << i;
  }
}

TEST(ElfObject, GotAbsoluteRelocationsAndWritableDataWork) {
  std::unique_ptr<ElfObject> keep;
  KernelFn f = LoadKernel(CompileOrDie("relocs", test_kernels::kRelocs), "relocs", &keep);
  ASSERT_NE(f, nullptr);
  int64_t out[3] = {0, 0, 0};
  void* bufs[] = {out};
  f(bufs, nullptr, 0);
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[1], 11);
  EXPECT_EQ(out[2], 22);
  f(bufs, nullptr, 0);
  EXPECT_EQ(out[0], 2) << "state in .bss persists between calls";
  // The exported data symbols resolve too.
  absl::StatusOr<void*> counter = keep->Symbol("counter");
  ASSERT_TRUE(counter.ok());
  EXPECT_EQ(*static_cast<int64_t*>(*counter), 2);
}

TEST(ElfObject, ResolvesMemsetThroughAStub) {
  std::unique_ptr<ElfObject> keep;
  KernelFn f = LoadKernel(CompileOrDie("fill", test_kernels::kMemset), "fill", &keep);
  ASSERT_NE(f, nullptr);
  std::vector<uint8_t> out(300, 0);
  int64_t n = 257;
  void* bufs[] = {out.data()};
  f(bufs, &n, 0);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(out[i], i < 257 ? 0x7f : 0) << i;
}

TEST(ElfObject, RejectsUnknownExternalSymbolByName) {
  absl::StatusOr<std::unique_ptr<ElfObject>> o =
      ElfObject::Load(CompileOrDie("uses_expf", test_kernels::kCallsExpf));
  ASSERT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(o.status().message().find("undefined symbol 'expf'"), std::string::npos) << o.status();
}

TEST(ElfObject, MissingSymbolListsWhatExists) {
  absl::StatusOr<std::unique_ptr<ElfObject>> o =
      ElfObject::Load(CompileOrDie("add", test_kernels::kAdd));
  ASSERT_TRUE(o.ok());
  absl::Status st = (*o)->Symbol("sub").status();
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(st.message().find("'sub' (it has: add)"), std::string::npos) << st;
}

TEST(ElfObject, RejectsNonElfAndForeignObjects) {
  EXPECT_EQ(ElfObject::Load("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ElfObject::Load(std::string(100, 'x')).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string obj = CompileOrDie("add", test_kernels::kAdd);
  std::string arm = obj;
  const uint16_t aarch64 = EM_AARCH64;
  std::memcpy(&arm[offsetof(Elf64_Ehdr, e_machine)], &aarch64, 2);
  absl::Status st = ElfObject::Load(arm).status();
  EXPECT_NE(st.message().find("not x86-64"), std::string::npos) << st;
  std::string exe = obj;
  const uint16_t et_exec = ET_EXEC;
  std::memcpy(&exe[offsetof(Elf64_Ehdr, e_type)], &et_exec, 2);
  EXPECT_NE(ElfObject::Load(exe).status().message().find("not a relocatable"), std::string::npos);
}

// Every truncation and many random byte flips of a real object: loading
// either fails with InvalidArgument or succeeds; it never crashes.
TEST(ElfObject, FuzzTruncatedAndCorruptedObjectsFailCleanly) {
  const std::string obj = CompileOrDie("relocs", test_kernels::kRelocs);
  ASSERT_FALSE(obj.empty());
  for (size_t n = 0; n < obj.size(); ++n) {
    absl::Status st = ElfObject::Load(absl::string_view(obj).substr(0, n)).status();
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << "prefix " << n;
  }
  std::mt19937 rng(42);
  int failures = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string bad = obj;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 3); ++k) {
      bad[rng() % bad.size()] = static_cast<char>(rng());
    }
    absl::StatusOr<std::unique_ptr<ElfObject>> o = ElfObject::Load(bad);
    if (!o.ok()) {
      ++failures;
      EXPECT_TRUE(o.status().code() == absl::StatusCode::kInvalidArgument ||
                  o.status().code() == absl::StatusCode::kResourceExhausted)
          << o.status();
    }
  }
  EXPECT_GT(failures, 0);
}

// A tiny hand-made object to test each relocation type exactly:
// .text (64 bytes of int3), .rodata (16 bytes), one .rela.text.
class ObjectBuilder {
 public:
  struct Reloc {
    uint64_t offset;
    uint32_t type;
    uint32_t sym;
    int64_t addend;
  };
  // Symbols: 1 = .rodata section, 2 = "f" (.text, global func), 3 = "ext"
  // (undefined), 4 = "memcpy" (undefined), 5 = "abs" (SHN_ABS, 0x1000).
  static std::string Build(const std::vector<Reloc>& relocs) {
    std::string text(64, '\xcc'), rodata = "0123456789abcdef";
    const std::string strtab = std::string("\0f\0ext\0memcpy\0abs\0", 18);
    const std::string shstrtab =
        std::string("\0.text\0.rodata\0.rela.text\0.symtab\0.strtab\0.shstrtab\0", 52);
    std::vector<Elf64_Sym> syms(6);
    std::memset(syms.data(), 0, syms.size() * sizeof(Elf64_Sym));
    syms[1].st_info = ELF64_ST_INFO(STB_LOCAL, STT_SECTION);
    syms[1].st_shndx = 2;
    syms[2] = Elf64_Sym{1, ELF64_ST_INFO(STB_GLOBAL, STT_FUNC), 0, 1, 0, 64};
    syms[3] = Elf64_Sym{3, ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE), 0, SHN_UNDEF, 0, 0};
    syms[4] = Elf64_Sym{7, ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE), 0, SHN_UNDEF, 0, 0};
    syms[5] = Elf64_Sym{14, ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE), 0, SHN_ABS, 0x1000, 0};
    std::vector<Elf64_Rela> rela;
    for (const Reloc& r : relocs) {
      rela.push_back(Elf64_Rela{r.offset, ELF64_R_INFO(r.sym, r.type), r.addend});
    }
    std::string file(sizeof(Elf64_Ehdr), '\0');
    auto append = [&file](const void* p, size_t n) {
      while (file.size() % 8) file.push_back('\0');
      const size_t off = file.size();
      file.append(static_cast<const char*>(p), n);
      return off;
    };
    std::vector<Elf64_Shdr> sh(7);
    std::memset(sh.data(), 0, sh.size() * sizeof(Elf64_Shdr));
    sh[1] = {1,
             SHT_PROGBITS,
             SHF_ALLOC | SHF_EXECINSTR,
             0,
             append(text.data(), text.size()),
             text.size(),
             0,
             0,
             16,
             0};
    sh[2] = {7, SHT_PROGBITS, SHF_ALLOC, 0, append(rodata.data(), rodata.size()), rodata.size(), 0,
             0, 16,           0};
    sh[3] = {15,
             SHT_RELA,
             SHF_INFO_LINK,
             0,
             append(rela.data(), rela.size() * sizeof(Elf64_Rela)),
             rela.size() * sizeof(Elf64_Rela),
             4,
             1,
             8,
             sizeof(Elf64_Rela)};
    sh[4] = {26,
             SHT_SYMTAB,
             0,
             0,
             append(syms.data(), syms.size() * sizeof(Elf64_Sym)),
             syms.size() * sizeof(Elf64_Sym),
             5,
             2,
             8,
             sizeof(Elf64_Sym)};
    sh[5] = {34, SHT_STRTAB, 0, 0, append(strtab.data(), strtab.size()), strtab.size(), 0, 0, 1, 0};
    sh[6] = {42, SHT_STRTAB, 0, 0, append(shstrtab.data(), shstrtab.size()), shstrtab.size(),
             0,  0,          1, 0};
    const size_t shoff = append(sh.data(), sh.size() * sizeof(Elf64_Shdr));
    Elf64_Ehdr eh;
    std::memset(&eh, 0, sizeof(eh));
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_REL;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_shoff = shoff;
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 7;
    eh.e_shstrndx = 6;
    std::memcpy(file.data(), &eh, sizeof(eh));
    return file;
  }
};

template <typename T>
T ReadAt(const void* base, size_t off) {
  T v;
  std::memcpy(&v, static_cast<const char*>(base) + off, sizeof(T));
  return v;
}

TEST(ElfObject, AppliesAbsoluteAndPcRelativeRelocations) {
  absl::StatusOr<std::unique_ptr<ElfObject>> o = ElfObject::Load(ObjectBuilder::Build({
      {0, R_X86_64_64, 1, 4},         // &rodata[4]
      {8, R_X86_64_PC32, 1, 0},       // rodata - P
      {12, R_X86_64_PC64, 1, 2},      // rodata + 2 - P
      {20, R_X86_64_32S, 5, 8},       // 0x1008
      {24, R_X86_64_32, 5, 0},        // 0x1000
      {28, R_X86_64_GOTPCREL, 1, 0},  // slot - P; slot holds rodata
  }));
  ASSERT_TRUE(o.ok()) << o.status();
  const char* f = static_cast<const char*>(*(*o)->Symbol("f"));
  const char* rodata = reinterpret_cast<const char*>(ReadAt<uint64_t>(f, 0)) - 4;
  EXPECT_EQ(std::string(rodata, 16), "0123456789abcdef");
  EXPECT_EQ(f + 8 + ReadAt<int32_t>(f, 8), rodata);
  EXPECT_EQ(f + 12 + ReadAt<int64_t>(f, 12), rodata + 2);
  EXPECT_EQ(ReadAt<int32_t>(f, 20), 0x1008);
  EXPECT_EQ(ReadAt<uint32_t>(f, 24), 0x1000u);
  const char* slot = f + 28 + ReadAt<int32_t>(f, 28);
  EXPECT_EQ(ReadAt<uint64_t>(slot, 0), reinterpret_cast<uint64_t>(rodata));
  EXPECT_EQ(ReadAt<uint8_t>(f, 40), 0xcc) << "bytes without relocations are untouched";
}

TEST(ElfObject, CallsToMemcpyGoThroughAFarStub) {
  absl::StatusOr<std::unique_ptr<ElfObject>> o =
      ElfObject::Load(ObjectBuilder::Build({{4, R_X86_64_PLT32, 4, -4}}));
  ASSERT_TRUE(o.ok()) << o.status();
  const char* f = static_cast<const char*>(*(*o)->Symbol("f"));
  const char* stub = f + 8 + ReadAt<int32_t>(f, 4);
  EXPECT_EQ(ReadAt<uint16_t>(stub, 0), 0x25ff);  // jmp *0(%rip)
  EXPECT_EQ(ReadAt<uint64_t>(stub, 6), reinterpret_cast<uint64_t>(&memcpy));
}

TEST(ElfObject, RejectsBadRelocationsWithClearErrors) {
  struct Case {
    ObjectBuilder::Reloc reloc;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{0, R_X86_64_PLT32, 3, -4}, "undefined symbol 'ext'"},
      {{0, R_X86_64_TPOFF32, 1, 0}, "unsupported relocation type 23"},
      {{62, R_X86_64_64, 1, 0}, "lies outside its section"},
      {{0, R_X86_64_64, 99, 0}, "past the symbol table"},
      {{0, R_X86_64_32S, 1, 0}, "does not fit in 32 bits"},
  };
  for (const Case& c : cases) {
    absl::Status st = ElfObject::Load(ObjectBuilder::Build({c.reloc})).status();
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_NE(st.message().find(c.message), std::string::npos) << st;
  }
}

}  // namespace
}  // namespace uop
