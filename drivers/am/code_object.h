// AmdCodeObject: an AMDGPU code object (the ELF relocatable LLVM's AMDGPU
// backend emits) laid out as the image the AM driver uploads to GPU memory.
//
// Allocated sections (.text, .rodata, .data, .bss, ...) are placed one after
// another at their alignment; the PC-relative relocations the backend emits
// (R_AMDGPU_REL32, REL64, REL32_LO/HI: the kernel descriptor's code offset,
// constant addresses from s_getpc) are resolved within the image, so it runs
// at any address. Absolute relocations are refused (the compiler is PIC).
// The kernel descriptor is the `<kernel>.kd` symbol.
//
//   ASSIGN_OR_RETURN(AmdCodeObject co, LoadAmdCodeObject(elf, "E_4"));
//   upload co.image at a GPU address A (executable);
//   dispatch kernel_object = A + co.kd_offset, kernarg size co.kd.kernarg_size
//
// Every offset is checked: a damaged or foreign file is InvalidArgument
// naming what is wrong, never a crash.
#ifndef UOP_DRIVERS_AM_CODE_OBJECT_H_
#define UOP_DRIVERS_AM_CODE_OBJECT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "drivers/am/abi/hsa.h"

namespace uop {

struct AmdCodeObject {
  std::string image;
  uint64_t kd_offset = 0;
  uint64_t code_offset = 0;  // where the kernel's first instruction is
  hsa::kernel_descriptor kd{};
};

absl::StatusOr<AmdCodeObject> LoadAmdCodeObject(absl::string_view elf, absl::string_view kernel);

}  // namespace uop

#endif  // UOP_DRIVERS_AM_CODE_OBJECT_H_
