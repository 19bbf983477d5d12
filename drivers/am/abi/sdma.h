// SDMA (system DMA engine) packets, the subset the AM driver's copy queue
// writes. Facts from the public SDMA packet headers in the Linux amdgpu
// driver (sdma_v5_0 / v6_0 packet definitions, as tinygrad's AM backend
// uses them): a header dword with the opcode in bits 7:0 and the sub-opcode
// in bits 15:8, then the packet's payload. The SDMA ring's read and write
// pointers count bytes.
#ifndef UOP_DRIVERS_AM_ABI_SDMA_H_
#define UOP_DRIVERS_AM_ABI_SDMA_H_

#include <cstdint>

namespace uop::sdma {

inline constexpr uint32_t kOpNop = 0;
inline constexpr uint32_t kOpCopy = 1;
inline constexpr uint32_t kOpFence = 5;
inline constexpr uint32_t kOpTrap = 6;
inline constexpr uint32_t kOpPollRegmem = 8;
inline constexpr uint32_t kSubOpCopyLinear = 0;

constexpr uint32_t Header(uint32_t op, uint32_t sub_op = 0) {
  return (op & 0xFF) | ((sub_op & 0xFF) << 8);
}
constexpr uint32_t HeaderOp(uint32_t h) { return h & 0xFF; }
constexpr uint32_t HeaderSubOp(uint32_t h) { return (h >> 8) & 0xFF; }

// COPY_LINEAR: header, count - 1 (bytes), parameters (0), src lo, src hi, dst lo, dst hi.
inline constexpr uint32_t kCopyLinearDwords = 7;
// Largest byte count one COPY_LINEAR moves (the count field is 22 bits on
// SDMA 5.0 and older; later ones allow more).
inline constexpr uint64_t kMaxCopyBytes = uint64_t{1} << 22;
// FENCE: header, addr lo, addr hi, 32-bit data: written once all before it is done.
inline constexpr uint32_t kFenceDwords = 4;
// TRAP: header, int_context (the KFD event id to signal).
inline constexpr uint32_t kTrapDwords = 2;
// POLL_REGMEM (memory form): header | function << 28 | mem_poll << 31, addr lo,
// addr hi, reference, mask, interval[15:0] | retry count[27:16].
inline constexpr uint32_t kPollRegmemDwords = 6;
inline constexpr uint32_t kPollFunctionGreaterEqual = 5;
constexpr uint32_t PollHeader(uint32_t function) {
  return Header(kOpPollRegmem) | ((function & 7) << 28) | (1u << 31);
}

}  // namespace uop::sdma

#endif  // UOP_DRIVERS_AM_ABI_SDMA_H_
