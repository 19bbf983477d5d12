#include "drivers/nv/nv_qmd.h"

#include <algorithm>

namespace uop {
namespace {

uint32_t RoundUp(uint32_t v, uint32_t a) { return (v + a - 1) / a * a; }

// The SM shared memory carve-out for `bytes` per CTA: the smallest Hopper
// offers that holds it, encoded as KiB / 4 + 1.
uint32_t CarveoutFor(uint32_t bytes) {
  for (uint32_t kib : nvhw::kHopperSharedCarveoutsKib) {
    if (kib * 1024 >= bytes) return nvhw::SmConfigSharedMem(kib);
  }
  return nvhw::SmConfigSharedMem(228);
}

}  // namespace

void Qmd4::Set(nvhw::QmdField f, uint64_t value) {
  for (int bit = f.lo; bit <= f.hi; ++bit) {
    const uint32_t mask = 1u << (bit % 32);
    if ((value >> (bit - f.lo)) & 1) {
      words[bit / 32] |= mask;
    } else {
      words[bit / 32] &= ~mask;
    }
  }
}

uint64_t Qmd4::Get(nvhw::QmdField f) const {
  uint64_t v = 0;
  for (int bit = f.hi; bit >= f.lo; --bit) v = (v << 1) | ((words[bit / 32] >> (bit % 32)) & 1);
  return v;
}

Qmd4 MakeQmdTemplate(const QmdProgram& p) {
  namespace q = nvhw::qmd4;
  Qmd4 m;
  m.Set(q::kQmdMajorVersion, 4);
  m.Set(q::kQmdMinorVersion, 0);
  m.Set(q::kQmdType, q::kQmdTypeGridCta);
  m.Set(q::kQmdGroupId, 0x3f);
  m.Set(q::kApiVisibleCallLimit, 1);  // NO_CHECK
  m.Set(q::kSamplerIndex, 0);         // INDEPENDENTLY
  m.Set(q::kSassVersion, ((p.sm / 10) << 4) | (p.sm % 10));
  m.Set(q::kProgramAddressLower, p.code_va & 0xffffffffu);
  m.Set(q::kProgramAddressUpper, p.code_va >> 32);
  m.Set(q::kProgramPrefetchAddrLowerShifted, (p.code_va >> 8) & 0xffffffffu);
  m.Set(q::kProgramPrefetchAddrUpperShifted, p.code_va >> 40);
  m.Set(q::kProgramPrefetchSize, std::min<uint32_t>(p.code_bytes >> 8, 0x1ff));
  m.Set(q::kRegisterCount, std::max(p.registers, 1));
  m.Set(q::kBarrierCount, 1);  // __syncthreads uses barrier 0
  const uint32_t shared = RoundUp(p.shared_bytes, 256);
  m.Set(q::kSharedMemorySize, shared);
  m.Set(q::kMinSmConfigSharedMemSize, CarveoutFor(shared));
  m.Set(q::kTargetSmConfigSharedMemSize, CarveoutFor(shared));
  m.Set(q::kMaxSmConfigSharedMemSize, nvhw::SmConfigSharedMem(228));
  // CUDA's stack grows down from the top of the local memory window.
  m.Set(q::kShaderLocalMemoryHighSize, RoundUp(p.slm_bytes, 16));
  m.Set(q::kShaderLocalMemoryLowSize, 0);
  // Every launch sees what earlier launches and the host wrote: L1 and
  // constant caches are not coherent, and rings reuse their addresses.
  m.Set(q::kInvalidateTextureHeaderCache, 1);
  m.Set(q::kInvalidateTextureSamplerCache, 1);
  m.Set(q::kInvalidateTextureDataCache, 1);
  m.Set(q::kInvalidateShaderDataCache, 1);
  m.Set(q::kInvalidateShaderConstantCache, 1);
  m.Set(q::ConstantBufferInvalidate(0), 1);
  // Writes are visible system-wide (pinned host buffers) when the grid ends.
  m.Set(q::kCwdMembarType, q::kCwdMembarL1Sysmembar);
  return m;
}

void SetQmdConstantBuffer(Qmd4& m, int bank, uint64_t va, uint32_t bytes) {
  namespace q = nvhw::qmd4;
  m.Set(q::ConstantBufferAddrLowerShifted6(bank), (va >> 6) & 0xffffffffu);
  m.Set(q::ConstantBufferAddrUpperShifted6(bank), va >> 38);
  m.Set(q::ConstantBufferSizeShifted4(bank), RoundUp(bytes, 16) >> 4);
  m.Set(q::ConstantBufferValid(bank), 1);
}

void SetQmdLaunch(Qmd4& m, LaunchDims grid, LaunchDims block, uint64_t cbuf0_va,
                  uint32_t cbuf0_bytes) {
  namespace q = nvhw::qmd4;
  m.Set(q::kGridWidth, static_cast<uint64_t>(grid.x));
  m.Set(q::kGridHeight, static_cast<uint64_t>(grid.y));
  m.Set(q::kGridDepth, static_cast<uint64_t>(grid.z));
  m.Set(q::kCtaThreadDimension0, static_cast<uint64_t>(block.x));
  m.Set(q::kCtaThreadDimension1, static_cast<uint64_t>(block.y));
  m.Set(q::kCtaThreadDimension2, static_cast<uint64_t>(block.z));
  SetQmdConstantBuffer(m, 0, cbuf0_va, cbuf0_bytes);
}

void SetQmdDependent(Qmd4& m, uint64_t next_qmd_va) {
  namespace q = nvhw::qmd4;
  m.Set(q::DependentQmdPointer(0), (next_qmd_va >> 8) & 0xffffffffu);
  m.Set(q::DependentQmdAction(0), q::kDependentActionSchedule);
  m.Set(q::DependentQmdPrefetch(0), 1);
  m.Set(q::DependentQmdEnable(0), 1);
}

void SetQmdReleaseAdd(Qmd4& m, int i, uint64_t va, uint32_t add) {
  namespace q = nvhw::qmd4;
  m.Set(q::ReleaseSemaphoreAddrLower(i), va & 0xffffffffu);
  m.Set(q::ReleaseSemaphoreAddrUpper(i), va >> 32);
  m.Set(q::ReleaseSemaphorePayloadLower(i), add);
  m.Set(q::ReleaseSemaphorePayloadUpper(i), 0);
  m.Set(q::ReleaseStructureSize(i), q::kReleaseOneWord);
  m.Set(q::ReleasePayload64(i), 0);
  m.Set(q::ReleaseMembarType(i), q::kReleaseMembarSysmembar);
  m.Set(q::ReleaseReductionEnable(i), 1);
  m.Set(q::ReleaseReductionOp(i), q::kReductionAdd);
  m.Set(q::ReleaseReductionFormat(i), q::kReductionUnsigned32);
  m.Set(q::ReleaseEnable(i), 1);
}

}  // namespace uop
