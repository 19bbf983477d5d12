// Scratch (the AMDGPU private segment) for an AQL compute queue.
//
// A kernel whose descriptor asks for private_segment_fixed_size bytes per
// work-item (spilled registers, private arrays LLVM did not promote) reads
// and writes them through the queue's scratch: GPU memory the driver
// allocates and describes in the queue's amd_queue_t, where the command
// processor reads it at each dispatch (flat scratch from
// scratch_backing_memory_location on gfx9+, buffer instructions through
// scratch_resource_descriptor, and the per-wave slot size and wave count in
// compute_tmpring_size). The CP runs at most `waves` scratch-using waves at
// once, each in its own slot of wave_bytes.
//
// The layout follows the HSA runtime's queue scratch set-up (ROCr
// AqlQueue::InitScratchSRD / FillComputeTmpRingSize): per-item bytes aligned
// to 1024 / lanes, a slot per wave of lanes * that, max_slots_scratch_cu
// slots per CU, the tmpring's WAVESIZE in 1 KiB units before gfx11 and
// 256-byte units from gfx11 on, where WAVES also counts per shader engine.
// Only the emulator has checked these fields (docs/am_qcom.md).
//
//   ASSIGN_OR_RETURN(ScratchLayout s, PlanScratch(node, 452, /*wave32=*/true, 256 << 20));
//   FillScratchFields(node, s, scratch_va, amd_queue);
#ifndef UOP_DRIVERS_AM_AM_SCRATCH_H_
#define UOP_DRIVERS_AM_AM_SCRATCH_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "drivers/am/abi/hsa.h"
#include "drivers/am/am_topology.h"

namespace uop {

// kernel_code_properties bit: the kernel runs in 32-lane waves.
inline constexpr uint16_t kKernelCodeWave32 = 1u << 10;

struct ScratchLayout {
  uint32_t item_bytes = 0;  // per work-item (aligned)
  uint32_t lanes = 0;       // 32 or 64
  uint32_t wave_bytes = 0;  // one wave's slot
  uint32_t waves = 0;       // slots (scratch-using waves in flight)
  uint64_t total_bytes = 0;
};

// The GPU's shader engines (KFD topology: array_count / simd_arrays_per_engine).
uint32_t ShaderEngines(const AmGpuNode& gpu);

// The scratch for kernels of `item_bytes` per work-item on `gpu`: one slot
// per wave the GPU can run with scratch (CUs * max_slots_scratch_cu), fewer
// (a multiple of the shader engines) when that would exceed `max_bytes`.
// InvalidArgument for 0 bytes; ResourceExhausted when not even one wave per
// shader engine fits in `max_bytes` or the slot overflows the tmpring field.
absl::StatusOr<ScratchLayout> PlanScratch(const AmGpuNode& gpu, uint32_t item_bytes, bool wave32,
                                          uint64_t max_bytes);

// The tmpring's WAVESIZE unit on this GPU (1024 before gfx11, 256 after).
uint32_t TmpringWaveUnit(const AmGpuNode& gpu);

// compute_tmpring_size for `s` (WAVES, WAVESIZE by generation).
uint32_t ComputeTmpringSize(const AmGpuNode& gpu, const ScratchLayout& s);

// Writes the queue's scratch fields for `s` at GPU address `va`
// (resource descriptor, backing location and size, per-lane size, tmpring).
void FillScratchFields(const AmGpuNode& gpu, const ScratchLayout& s, uint64_t va,
                       hsa::amd_queue* q);

}  // namespace uop

#endif  // UOP_DRIVERS_AM_AM_SCRATCH_H_
