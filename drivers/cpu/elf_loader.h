// ElfObject: an x86-64 ELF relocatable object (.o) mapped for execution.
//
// The CPU compiler emits an object file in memory; this maps its allocated
// sections (text, rodata incl. constant pools .rodata.cst*, data, bss) into
// fresh pages, applies the relocations LLVM emits for the small code model
// (R_X86_64_64, PC32, PLT32, 32, 32S, PC64, GOTPCREL, GOTPCRELX,
// REX_GOTPCRELX) and makes text read+execute, rodata read-only. .eh_frame is
// not loaded (kernels never unwind). No dlopen, no linker, no files.
//
// Kernels reference no external symbols (docs/compiler.md); the only ones
// resolved are memcpy, memmove and memset, which LLVM's code generator may
// call for its own intrinsics. Any other undefined symbol, an unsupported
// relocation or a malformed file is InvalidArgument naming it — never a crash,
// since the bytes may come from a damaged cache file.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<ElfObject> obj, ElfObject::Load(bytes));
//   ASSIGN_OR_RETURN(void* fn, obj->Symbol("E_4"));
//
// Thread safety: Load may run concurrently; a loaded object is immutable.
#ifndef UOP_DRIVERS_CPU_ELF_LOADER_H_
#define UOP_DRIVERS_CPU_ELF_LOADER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop {

class ElfObject {
 public:
  static absl::StatusOr<std::unique_ptr<ElfObject>> Load(absl::string_view elf);
  ~ElfObject();
  ElfObject(const ElfObject&) = delete;
  ElfObject& operator=(const ElfObject&) = delete;

  // Address of a defined global (or weak) symbol; NotFound listing the
  // object's symbols otherwise.
  absl::StatusOr<void*> Symbol(absl::string_view name) const;

  // Bytes mapped for this object (page granular).
  size_t mapped_bytes() const { return size_; }

 private:
  ElfObject() = default;

  uint8_t* base_ = nullptr;
  size_t size_ = 0;
  std::vector<std::pair<std::string, void*>> symbols_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_CPU_ELF_LOADER_H_
