#include "drivers/am/am_scratch.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace uop {
namespace {

uint32_t GfxMajor(const AmGpuNode& gpu) {
  return static_cast<uint32_t>(gpu.property("gfx_target_version") / 10000);
}

uint32_t AlignUp(uint32_t v, uint32_t a) { return (v + a - 1) / a * a; }

// WAVESIZE's width in COMPUTE_TMPRING_SIZE (bits 12 and up).
uint32_t WaveSizeBits(uint32_t major) { return major < 11 ? 13 : major == 11 ? 15 : 18; }

}  // namespace

uint32_t ShaderEngines(const AmGpuNode& gpu) {
  const uint64_t arrays = gpu.property("array_count", 1);
  const uint64_t per_engine = std::max<uint64_t>(1, gpu.property("simd_arrays_per_engine", 1));
  return static_cast<uint32_t>(std::max<uint64_t>(1, arrays / per_engine));
}

uint32_t TmpringWaveUnit(const AmGpuNode& gpu) { return GfxMajor(gpu) < 11 ? 1024 : 256; }

absl::StatusOr<ScratchLayout> PlanScratch(const AmGpuNode& gpu, uint32_t item_bytes, bool wave32,
                                          uint64_t max_bytes) {
  if (item_bytes == 0) {
    return absl::InvalidArgumentError("scratch of 0 bytes per work-item");
  }
  ScratchLayout s;
  s.lanes = wave32 ? 32 : 64;
  s.item_bytes = AlignUp(item_bytes, 1024 / s.lanes);
  const uint64_t wave = uint64_t{s.item_bytes} * s.lanes;
  const uint32_t unit = TmpringWaveUnit(gpu);
  const uint64_t units = (wave + unit - 1) / unit;
  if (units >= (uint64_t{1} << WaveSizeBits(GfxMajor(gpu)))) {
    return absl::ResourceExhaustedError(
        absl::StrCat("scratch of ", item_bytes, " bytes per work-item (", wave,
                     " bytes a wave) exceeds what COMPUTE_TMPRING_SIZE can describe"));
  }
  s.wave_bytes = static_cast<uint32_t>(units * unit);
  const uint32_t engines = ShaderEngines(gpu);
  const uint64_t slots_per_cu = gpu.property("max_slots_scratch_cu", 32);
  uint64_t waves = static_cast<uint64_t>(gpu.compute_units()) * slots_per_cu;
  waves = std::min<uint64_t>(waves, max_bytes / s.wave_bytes);
  // WAVES is a 12-bit field, per shader engine from gfx11 on.
  const uint64_t field_max = GfxMajor(gpu) < 11 ? 4095 : uint64_t{4095} * engines;
  waves = std::min(waves, field_max);
  waves -= waves % engines;
  if (waves == 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("scratch of ", item_bytes, " bytes per work-item: one ", s.wave_bytes,
                     "-byte wave slot per shader engine (", engines, ") exceeds the limit of ",
                     max_bytes, " bytes"));
  }
  s.waves = static_cast<uint32_t>(waves);
  s.total_bytes = waves * s.wave_bytes;
  return s;
}

uint32_t ComputeTmpringSize(const AmGpuNode& gpu, const ScratchLayout& s) {
  const uint32_t major = GfxMajor(gpu);
  const uint32_t waves = major < 11 ? s.waves : s.waves / ShaderEngines(gpu);
  const uint32_t size = s.wave_bytes / TmpringWaveUnit(gpu);
  return (waves & 0xFFF) | (size << 12);
}

void FillScratchFields(const AmGpuNode& gpu, const ScratchLayout& s, uint64_t va,
                       hsa::amd_queue* q) {
  const uint32_t major = GfxMajor(gpu);
  // SQ_BUF_RSRC_WORD0..3: a swizzled buffer over the backing memory, 32-bit
  // unsigned elements, the lane id added to the index (the CP fills in the
  // index stride for the wave size from gfx10 on).
  q->scratch_resource_descriptor[0] = static_cast<uint32_t>(va);
  q->scratch_resource_descriptor[1] = static_cast<uint32_t>((va >> 32) & 0xFFFF) |
                                      (major < 11 ? (1u << 31) : (1u << 30));  // SWIZZLE_ENABLE
  q->scratch_resource_descriptor[2] = static_cast<uint32_t>(s.total_bytes);    // NUM_RECORDS
  const uint32_t dst_sel = 4u | (5u << 3) | (6u << 6) | (7u << 9);             // X Y Z W
  if (major < 10) {
    // NUM_FORMAT UINT, DATA_FORMAT 32, ELEMENT_SIZE 4, INDEX_STRIDE 64, ADD_TID.
    q->scratch_resource_descriptor[3] =
        dst_sel | (4u << 12) | (4u << 15) | (1u << 19) | (3u << 21) | (1u << 23);
  } else {
    // FORMAT 32_UINT, ADD_TID, (gfx10: RESOURCE_LEVEL), OOB_SELECT 2 (no
    // bounds check in swizzle mode).
    q->scratch_resource_descriptor[3] =
        dst_sel | (20u << 12) | (1u << 23) | (major == 10 ? (1u << 24) : 0u) | (2u << 28);
  }
  q->scratch_backing_memory_location = va;
  q->scratch_backing_memory_byte_size = s.total_bytes;
  // Per lane of a 64-lane wave (the field's historical meaning).
  q->scratch_workitem_byte_size = s.wave_bytes / 64;
  q->compute_tmpring_size = ComputeTmpringSize(gpu, s);
}

}  // namespace uop
