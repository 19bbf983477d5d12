// The Adreno 6xx command stream for compute: a PM4 writer and the packets of
// one CP_RUN_OPENCL kernel launch.
//
// A launch (the order tinygrad's QCOM backend uses on a6xx): compute mode
// marker, state invalidate, wait for idle, the ND-range and workgroup counts
// (HLSQ_CS_NDRANGE_0..KERNEL_GROUP_Z), the shader registers (SP_CS_CTRL_REG0
// ..SP_CS_PVT_MEM_SIZE: register footprint, branch stack, instruction start,
// private memory), CP_LOAD_STATE6 of the argument block (constants) and of
// the instructions, the constant length, stack offset, instruction length,
// SP_CS_CONFIG, CP_RUN_OPENCL, and a cache-flush event so the next launch and
// the host see the results.
//
//   Pm4Writer w;
//   RETURN_IF_ERROR(WriteLaunchArgs(kernel, bufs, vars, args_cpu, kArgsBytes));
//   EmitLaunch(w, kernel, args_gpu, stack_gpu, flush_gpu, groups, local);
//   ... copy w.dwords() into an indirect buffer and submit it ...
#ifndef UOP_DRIVERS_QCOM_QCOM_PM4_H_
#define UOP_DRIVERS_QCOM_QCOM_PM4_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "drivers/buffer.h"
#include "drivers/program.h"
#include "drivers/qcom/adreno_binary.h"

namespace uop {

class Pm4Writer {
 public:
  // A type-4 write of consecutive registers from `reg`.
  void Reg(uint32_t reg, std::initializer_list<uint32_t> values);
  // A type-7 packet.
  void Cmd(uint32_t opcode, std::initializer_list<uint32_t> payload);
  const std::vector<uint32_t>& dwords() const { return dwords_; }
  size_t bytes() const { return dwords_.size() * 4; }
  void clear() { dwords_.clear(); }

 private:
  std::vector<uint32_t> dwords_;
};

// What a launch needs from a loaded program.
struct QcomKernel {
  std::string name;
  uint64_t image_gpu = 0;
  uint32_t image_bytes = 0;  // a multiple of 128
  uint32_t first_exec_offset = 0;
  uint32_t branch_stack = 0;
  uint32_t full_regs = 0;
  uint32_t half_regs = 0;
  uint32_t shared_bytes = 0;
  uint32_t private_bytes = 0;
  std::vector<uint32_t> arg_offsets;
  std::vector<AdrenoConstant> constants;
  uint32_t max_threads = 1024;  // per workgroup, from the register footprint
};

// Bytes of the argument (constant) block each launch gets.
inline constexpr size_t kQcomArgsBytes = 4096;

// Fills the kernel's QcomKernel fields that follow from the binary.
QcomKernel KernelFromBinary(const std::string& name, const AdrenoProgramInfo& info);

// Private memory each work-item's stack needs, as the hardware wants it laid
// out (bytes of stack buffer for the whole device).
uint32_t StackBytesFor(const QcomKernel& k);

// Writes buffer addresses (64-bit), variables (64-bit) and the compiler's
// constants into `block` at the binary's offsets. InvalidArgument when an
// offset lies outside the block.
absl::Status WriteLaunchArgs(const QcomKernel& k, absl::Span<DeviceBuffer* const> bufs,
                             absl::Span<const int64_t> vars, uint8_t* block, size_t block_bytes);

// Appends one launch of `groups` workgroups of `local` work-items.
void EmitLaunch(Pm4Writer& w, const QcomKernel& k, uint64_t args_gpu, uint64_t stack_gpu,
                uint64_t flush_gpu, LaunchDims groups, LaunchDims local);

}  // namespace uop

#endif  // UOP_DRIVERS_QCOM_QCOM_PM4_H_
