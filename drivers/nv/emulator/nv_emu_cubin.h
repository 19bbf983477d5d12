// Builds cubins for the emulated GPU: the ELF layout NVRTC writes for sm_90
// (the sections and EIATTR records nv_cubin.h reads) around a host twin
// (drivers/common/host_twin.h) as the kernel's code, packed in the CUDA
// backend's binary format (drivers/cuda/cuda_binary.h). The NV driver loads
// and launches it exactly like a real cubin; the emulator runs the twin.
// Parameters are 8 bytes each from constant bank offset 0x210: the buffers,
// then the int64 values.
//
//   ASSIGN_OR_RETURN(std::string bin, BuildTwinCubin("add", twin_blob, 3, 0));
//   ASSIGN_OR_RETURN(auto p, device->LoadProgram({"add", {64, 64, 64}, 0}, bin));
#ifndef UOP_DRIVERS_NV_EMULATOR_NV_EMU_CUBIN_H_
#define UOP_DRIVERS_NV_EMULATOR_NV_EMU_CUBIN_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace uop {

struct EmuCubinOptions {
  int sm = 90;
  int registers = 16;
  uint32_t static_shared = 0;   // .nv.shared.<name> size (0: no section)
  uint32_t dynamic_shared = 0;  // the ABI's dynamic shared memory
  uint32_t stack_bytes = 0;     // EIATTR_MIN_STACK_SIZE
};

// The ELF alone.
std::string BuildTwinElf(absl::string_view name, absl::string_view code, int globals, int vars,
                         const EmuCubinOptions& options = {});
// The packed binary LoadProgram takes.
std::string BuildTwinCubin(absl::string_view name, absl::string_view code, int globals, int vars,
                           const EmuCubinOptions& options = {});

}  // namespace uop

#endif  // UOP_DRIVERS_NV_EMULATOR_NV_EMU_CUBIN_H_
