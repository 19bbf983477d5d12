// Reads what a launch needs out of a cubin (the ELF NVRTC and ptxas write):
// the kernel's code, register count, stack, static shared memory, the
// constant bank 0 layout (driver area, then the parameters) and any other
// constant banks, without libcuda.
//
// Facts used (from cubins built for sm_90): `.text.<name>` holds the code;
// `.nv.info` carries per-function EIATTR records keyed by the function's
// symbol (REGCOUNT 0x2f, FRAME_SIZE 0x11, MIN_STACK_SIZE 0x12);
// `.nv.info.<name>` carries PARAM_CBANK (0x0a: bank-0 offset and size of
// the parameters, 0x210 on sm_90) and KPARAM_INFO (0x17: ordinal, offset
// and size of each parameter); `.nv.shared.<name>` is the static shared
// memory (including the 1 KiB the system reserves per CTA on sm_90);
// `.nv.constant<N>[.<name>]` are constant banks; e_flags bits 15:8 hold the
// SM version. Relocations against the code (R_CUDA_64 and the 32-bit
// halves) are applied by the loader once it knows the upload address.
//
//   ASSIGN_OR_RETURN(CubinKernel k, ParseCubin(cubin_bytes, "E_4"));
//   k.registers; k.params[1].offset;  // bytes into the parameter area
#ifndef UOP_DRIVERS_NV_NV_CUBIN_H_
#define UOP_DRIVERS_NV_NV_CUBIN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop {

struct CubinParam {
  uint32_t ordinal = 0;
  uint32_t offset = 0;  // bytes from the start of the parameter area
  uint32_t size = 0;
};

struct CubinConstBank {
  int index = 0;
  std::string bytes;  // the initial contents
};

struct CubinReloc {
  enum Type { kAbs64, kAbs32Lo, kAbs32Hi };  // R_CUDA_64, R_CUDA_ABS32_LO_32/HI_32
  Type type;
  uint64_t offset;  // into the code
  int target_bank;  // constant bank whose upload address is added (-1: the code)
  uint64_t addend;
};

struct CubinKernel {
  std::string name;
  int sm = 0;                         // e_flags SM version (90 for sm_90)
  std::string code;                   // .text.<name>
  int registers = 0;                  // per thread
  uint32_t stack_bytes = 0;           // per thread (local memory)
  uint32_t shared_bytes = 0;          // static shared memory per CTA
  uint32_t param_base = 0;            // bank-0 offset of the parameters (0x210 on sm_90)
  uint32_t param_bytes = 0;           // bytes of parameters
  uint32_t cbank0_bytes = 0;          // size of constant bank 0 (driver area + parameters)
  std::vector<CubinParam> params;     // by ordinal
  std::vector<CubinConstBank> banks;  // banks other than 0
  std::vector<CubinReloc> relocs;
};

// InvalidArgument naming what is wrong for bytes that are not a cubin or
// lack the kernel (listing the kernels it has).
absl::StatusOr<CubinKernel> ParseCubin(absl::string_view elf, absl::string_view name);

}  // namespace uop

#endif  // UOP_DRIVERS_NV_NV_CUBIN_H_
