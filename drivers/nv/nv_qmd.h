// QMD (queue meta data): the launch descriptor the Hopper compute engine
// reads for SEND_PCAS, version 4.0 (include/nv_hopper.h has the layout).
//
// A program builds its template once (code address, registers, shared and
// local memory, cache invalidation, memory barrier at the end); each launch
// copies it and fills the grid, the block and constant buffer 0.
//
//   Qmd4 q = MakeQmdTemplate({.code_va = va, .code_bytes = n, .registers = 32, ...});
//   SetQmdLaunch(q, {64, 1, 1}, {256, 1, 1}, cbuf_va, cbuf_bytes);
//   std::memcpy(ring + off, q.words, sizeof(q.words));
//
// Thread safety: a plain value type.
#ifndef UOP_DRIVERS_NV_NV_QMD_H_
#define UOP_DRIVERS_NV_NV_QMD_H_

#include <cstdint>

#include "drivers/nv/include/nv_hopper.h"
#include "drivers/program.h"

namespace uop {

struct Qmd4 {
  uint32_t words[nvhw::kQmdBytes / 4] = {};
  void Set(nvhw::QmdField f, uint64_t value);
  uint64_t Get(nvhw::QmdField f) const;
};

struct QmdProgram {
  uint64_t code_va = 0;  // 256-byte aligned
  uint32_t code_bytes = 0;
  int registers = 0;
  uint32_t shared_bytes = 0;  // static + dynamic per CTA
  uint32_t slm_bytes = 0;     // local memory per thread the device provides
  int sm = 90;
};

// The largest shared memory a CTA may ask for on Hopper (227 KiB).
inline constexpr uint32_t kMaxSharedPerCta = 227 * 1024;

Qmd4 MakeQmdTemplate(const QmdProgram& p);
// Grid (CTAs), block (threads) and constant buffer 0 of one launch.
void SetQmdLaunch(Qmd4& q, LaunchDims grid, LaunchDims block, uint64_t cbuf0_va,
                  uint32_t cbuf0_bytes);
// Constant buffer `bank` (1..) at `va` (64-byte aligned) of `bytes`.
void SetQmdConstantBuffer(Qmd4& q, int bank, uint64_t va, uint32_t bytes);

// Makes the GPU schedule the QMD at `next_qmd_va` (256-byte aligned) when
// this grid has completed: the next launch of a chain, with no host
// wait-for-idle between them.
void SetQmdDependent(Qmd4& q, uint64_t next_qmd_va);
// When this grid completes, release semaphore `i` (0, 1) adds `add` to the
// 32-bit word at `va` (4-byte aligned), after a system memory barrier.
void SetQmdReleaseAdd(Qmd4& q, int i, uint64_t va, uint32_t add);

}  // namespace uop

#endif  // UOP_DRIVERS_NV_NV_QMD_H_
