// AdrenoBinary: the program binary Qualcomm's OpenCL compiler produces for a
// kernel (clGetProgramInfo(CL_PROGRAM_BINARIES) on the device), parsed for
// what a direct driver needs to launch it: the instruction image and its
// register/stack needs, and where each kernel argument goes in the constant
// block.
//
// Layout facts (from tinygrad's QCOM backend, which loads these binaries on
// Adreno 6xx; unverified here), all little-endian u32 at byte offsets:
//   0x34  register descriptor offset R:  R+0x14 full regs, R+0x18 half regs
//   0xb0  constant count (non-zero: constants present), 0xac their offset
//   0xc0  image offset, 0x100 image size, 0x110 image descriptor offset D
//   D+0xc4 first-exec offset, D+0xc8 private memory per item,
//   D+0xd8 shared memory, D+0xdc sampler count, D+0x108 branch stack * 2,
//   D+0x158 the kernel name; then, 4-aligned (+8 per sampler), 32-byte
//   argument descriptors {length, _, _, offset in dwords, _, _, _, type}
//   in parameter order, ending at a zero length.
//   Argument type 0 is a buffer/scalar in the constant block, 1 a texture,
//   2 an image (IBO); constants are 40-byte records {value, ..., offset in
//   units at +16, ..., 32-bit flag at +24}.
//
//   ASSIGN_OR_RETURN(AdrenoProgramInfo info, ParseAdrenoBinary(binary, "E_4"));
//   info.image            // bytes to upload and point SP_CS_OBJ_START at
//   info.arg_offsets[i]   // byte offset of argument i in the constant block
//
// BuildAdrenoBinary writes the same layout (used by the emulated compiler,
// whose "instructions" are a host twin, so the driver's parser runs unchanged).
#ifndef UOP_DRIVERS_QCOM_ADRENO_BINARY_H_
#define UOP_DRIVERS_QCOM_ADRENO_BINARY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop {

struct AdrenoConstant {
  uint32_t value;
  uint32_t offset_bytes;
  uint32_t size_bytes;  // 2 or 4
};

struct AdrenoProgramInfo {
  absl::string_view image;  // points into the binary
  uint32_t first_exec_offset = 0;
  uint32_t branch_stack = 0;
  uint32_t private_bytes = 0;  // per work-item
  uint32_t shared_bytes = 0;
  uint32_t samplers = 0;
  uint32_t full_regs = 0;
  uint32_t half_regs = 0;
  std::vector<uint32_t> arg_offsets;  // constant-block byte offset per plain argument
  uint32_t textures = 0;
  uint32_t images = 0;
  std::vector<AdrenoConstant> constants;
};

inline constexpr uint32_t kAdrenoArgBuffer = 0, kAdrenoArgTexture = 1, kAdrenoArgImage = 2;

// InvalidArgument naming the field when `binary` is truncated or malformed.
absl::StatusOr<AdrenoProgramInfo> ParseAdrenoBinary(absl::string_view binary,
                                                    absl::string_view name);

// A binary with this image, name and plain arguments at `arg_offsets`.
std::string BuildAdrenoBinary(absl::string_view image, absl::string_view name,
                              const std::vector<uint32_t>& arg_offsets, uint32_t full_regs,
                              uint32_t half_regs);

}  // namespace uop

#endif  // UOP_DRIVERS_QCOM_ADRENO_BINARY_H_
