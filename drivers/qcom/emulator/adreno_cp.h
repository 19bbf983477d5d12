// AdrenoCp: the emulated Adreno 6xx command processor. It executes an
// indirect buffer the way the hardware would, from GPU memory only:
//
// * every packet header must carry correct parity, every payload must lie
//   inside the buffer, every address must be inside a GPU-mapped object
//   (otherwise: a fault, like an IOMMU page fault);
// * type-4 packets write the register file; the type-7 packets the QCOM
//   driver emits run (CP_SET_MARKER, CP_WAIT_FOR_IDLE, CP_WAIT_MEM_WRITES,
//   CP_NOP, CP_LOAD_STATE6_FRAG, CP_MEM_WRITE, CP_EVENT_WRITE with
//   CACHE_FLUSH_TS, CP_RUN_OPENCL); any other opcode faults;
// * CP_RUN_OPENCL checks the dispatch state (compute mode, SP_CS_CONFIG and
//   HLSQ_CS_CNTL enabled, the shader loaded by CP_LOAD_STATE6 is the one at
//   SP_CS_OBJ_START and covers SP_CS_INSTRLEN, the constants loaded cover the
//   arguments, the ND-range equals workgroups x workgroup size), then finds
//   the host twin (drivers/common/host_twin.h) that is the instruction image,
//   reads each argument from the constant block (argument i at byte 8 * i, the
//   layout the emulated compiler gives its binaries), translates buffer
//   addresses and runs the twin over the grid.
//
// What it cannot check: real Adreno ISA, register footprints, the private
// stack, cache behaviour, and register fields the driver sets but nothing
// here reads (docs/qcom.md lists them).
//
//   AdrenoCp cp(&memory, &twins);
//   absl::Status fault = cp.Execute(ib_gpu_address, ib_bytes);
//
// Thread safety: one Execute at a time (the emulator's GPU thread).
#ifndef UOP_DRIVERS_QCOM_EMULATOR_ADRENO_CP_H_
#define UOP_DRIVERS_QCOM_EMULATOR_ADRENO_CP_H_

#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "drivers/common/emu_memory.h"
#include "drivers/common/host_twin.h"

namespace uop {

struct AdrenoCpStats {
  uint64_t packets = 0;
  uint64_t dispatches = 0;
  uint64_t work_items = 0;
};

class AdrenoCp {
 public:
  AdrenoCp(EmuMemory* memory, HostTwinCache* twins) : memory_(memory), twins_(twins) {}

  // Runs the indirect buffer; a non-OK status is the GPU fault it hit.
  absl::Status Execute(uint64_t ib, uint64_t bytes);
  const AdrenoCpStats& stats() const { return stats_; }
  uint32_t reg(uint32_t r) const;

 private:
  absl::Status Type7(uint32_t opcode, const uint32_t* payload, uint32_t count, uint64_t at);
  absl::Status RunOpencl(uint64_t at);
  uint64_t Reg64(uint32_t lo) const;

  EmuMemory* const memory_;
  HostTwinCache* const twins_;
  absl::flat_hash_map<uint32_t, uint32_t> regs_;
  uint32_t mode_ = 0;
  uint64_t consts_va_ = 0, shader_va_ = 0;
  uint32_t consts_units_ = 0, shader_units_ = 0;
  AdrenoCpStats stats_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_QCOM_EMULATOR_ADRENO_CP_H_
