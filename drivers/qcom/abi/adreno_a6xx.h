// Adreno 6xx command-processor facts: PM4 packet headers, the type-7 opcodes
// and the compute registers the QCOM driver writes.
//
// Sources (public facts, no code copied): mesa's freedreno register database
// as generated into the Linux kernel (drivers/gpu/drm/msm/adreno/a6xx.xml.h,
// adreno_pm4.xml.h) for register offsets, fields and opcodes, and tinygrad's
// ops_qcom.py for the order of a CP_RUN_OPENCL dispatch. Registers marked
// "unverified" have fields we could not confirm without hardware.
#ifndef UOP_DRIVERS_QCOM_ABI_ADRENO_A6XX_H_
#define UOP_DRIVERS_QCOM_ABI_ADRENO_A6XX_H_

#include <cstdint>

namespace uop::a6xx {

// --- PM4 headers ---
// type 4: write `count` consecutive registers starting at `reg`:
//   count[6:0] count_parity[7] reg[26:8] reg_parity[27] type=4[31:28]
// type 7: opcode with `count` payload dwords:
//   count[14:0] count_parity[15] opcode[22:16] opcode_parity[23] type=7[31:28]
// A parity bit makes the field plus the bit have odd parity.
inline constexpr uint32_t kType4 = 0x40000000;
inline constexpr uint32_t kType7 = 0x70000000;

constexpr uint32_t OddParity(uint32_t v) {
  for (int i = 4; i > 1; --i) v ^= v >> (1u << i);
  return (~0x6996u >> (v & 0xf)) & 1;
}
constexpr uint32_t Pkt4(uint32_t reg, uint32_t count) {
  return kType4 | (count & 0x7F) | (OddParity(count) << 7) | ((reg & 0x3FFFF) << 8) |
         (OddParity(reg) << 27);
}
constexpr uint32_t Pkt7(uint32_t opcode, uint32_t count) {
  return kType7 | (count & 0x3FFF) | (OddParity(count) << 15) | ((opcode & 0x7F) << 16) |
         (OddParity(opcode) << 23);
}
constexpr uint32_t PacketType(uint32_t header) { return header >> 28; }
constexpr uint32_t Pkt4Count(uint32_t h) { return h & 0x7F; }
constexpr uint32_t Pkt4Reg(uint32_t h) { return (h >> 8) & 0x7FFFF; }
constexpr uint32_t Pkt7Count(uint32_t h) { return h & 0x3FFF; }
constexpr uint32_t Pkt7Opcode(uint32_t h) { return (h >> 16) & 0x7F; }
// True when the header's parity bits are right.
constexpr bool Pkt4ParityOk(uint32_t h) {
  return ((h >> 7) & 1) == OddParity(Pkt4Count(h)) && ((h >> 27) & 1) == OddParity(Pkt4Reg(h));
}
constexpr bool Pkt7ParityOk(uint32_t h) {
  return ((h >> 15) & 1) == OddParity(Pkt7Count(h)) && ((h >> 23) & 1) == OddParity(Pkt7Opcode(h));
}

// --- type-7 opcodes ---
inline constexpr uint32_t kCpNop = 0x10;
inline constexpr uint32_t kCpWaitMemWrites = 0x12;
inline constexpr uint32_t kCpWaitForIdle = 0x26;
inline constexpr uint32_t kCpRunOpencl = 0x31;
inline constexpr uint32_t kCpLoadState6Frag = 0x34;
inline constexpr uint32_t kCpMemWrite = 0x3d;
inline constexpr uint32_t kCpEventWrite = 0x46;
inline constexpr uint32_t kCpSetMarker = 0x65;

// CP_EVENT_WRITE event: flush caches, then write the timestamp dword.
inline constexpr uint32_t kEventCacheFlushTs = 4;
// CP_SET_MARKER mode (bits 3:0).
inline constexpr uint32_t kRenderModeCompute = 8;

// CP_LOAD_STATE6 dword 0: dst_off[13:0] state_type[15:14] state_src[17:16]
// state_block[21:18] num_unit[31:22]; then the source address lo, hi.
inline constexpr uint32_t kStateTypeShader = 0;
inline constexpr uint32_t kStateTypeConstants = 1;
inline constexpr uint32_t kStateSrcIndirect = 2;
inline constexpr uint32_t kStateBlockCsShader = 13;
constexpr uint32_t LoadState6(uint32_t type, uint32_t src, uint32_t block, uint32_t units) {
  return (type << 14) | (src << 16) | (block << 18) | (units << 22);
}
constexpr uint32_t LoadState6Type(uint32_t d) { return (d >> 14) & 3; }
constexpr uint32_t LoadState6Src(uint32_t d) { return (d >> 16) & 3; }
constexpr uint32_t LoadState6Block(uint32_t d) { return (d >> 18) & 0xF; }
constexpr uint32_t LoadState6Units(uint32_t d) { return d >> 22; }
// Unit sizes: a constant unit is one vec4 (16 bytes), a shader unit 128 bytes.
inline constexpr uint32_t kConstUnitBytes = 16;
inline constexpr uint32_t kShaderUnitBytes = 128;

// --- registers (dword offsets) ---
inline constexpr uint32_t kSpCsCtrlReg0 = 0xa9b0;     // threadsize[20] branchstack[19:14]
                                                      // fullreg[12:7] halfreg[6:1]
inline constexpr uint32_t kSpCsUnknownA9b1 = 0xa9b1;  // shared size (unverified fields)
inline constexpr uint32_t kSpCsBranchCond = 0xa9b2;
inline constexpr uint32_t kSpCsObjFirstExecOffset = 0xa9b3;
inline constexpr uint32_t kSpCsObjStartLo = 0xa9b4;  // and _HI at 0xa9b5
inline constexpr uint32_t kSpCsPvtMemParam = 0xa9b6;
inline constexpr uint32_t kSpCsPvtMemAddrLo = 0xa9b7;  // and _HI at 0xa9b8
inline constexpr uint32_t kSpCsPvtMemSize = 0xa9b9;
inline constexpr uint32_t kSpCsConfig = 0xa9bb;    // enabled[8] ntex[16:9] nsamp[21:17] nibo[29:22]
inline constexpr uint32_t kSpCsInstrLen = 0xa9bc;  // image size in dwords
inline constexpr uint32_t kSpCsPvtMemHwStackOffset = 0xa9bd;  // unverified
inline constexpr uint32_t kHlsqControl2Reg = 0xb983;          // .. _5 at 0xb986
inline constexpr uint32_t kHlsqCsCntl = 0xb987;               // constlen[7:0] (vec4 / 4) enabled[8]
inline constexpr uint32_t kHlsqCsNdrange0 = 0xb990;           // kerneldim[1:0] localsize x-1 [11:2]
                                                              // y-1 [21:12] z-1 [31:22]
// 0xb991..0xb996: global size x (work-items), offset x, size y, offset y, size z, offset z.
inline constexpr uint32_t kHlsqCsCntl0 = 0xb997;
inline constexpr uint32_t kHlsqCsCntl1 = 0xb998;        // unverified fields
inline constexpr uint32_t kHlsqCsGroupX = 0xb999;       // workgroup counts x, y, z
inline constexpr uint32_t kHlsqInvalidateCmd = 0xbb08;  // cs_state[5] cs_ibo[6] (unverified)

inline constexpr uint32_t kSpCsConfigEnabled = 0x100;
inline constexpr uint32_t kHlsqCsCntlEnabled = 0x100;
inline constexpr uint32_t kThreadSize64 = 0;  // SP_CS_CTRL_REG0.threadsize

constexpr uint32_t Ndrange0(uint32_t dims, uint32_t lx, uint32_t ly, uint32_t lz) {
  return (dims & 3) | (((lx - 1) & 0x3FF) << 2) | (((ly - 1) & 0x3FF) << 12) |
         (((lz - 1) & 0x3FF) << 22);
}
constexpr uint32_t NdrangeLocalX(uint32_t v) { return ((v >> 2) & 0x3FF) + 1; }
constexpr uint32_t NdrangeLocalY(uint32_t v) { return ((v >> 12) & 0x3FF) + 1; }
constexpr uint32_t NdrangeLocalZ(uint32_t v) { return ((v >> 22) & 0x3FF) + 1; }

// chip_id (kgsl_devinfo): core[31:24] major[23:16] minor[15:8] patch[7:0];
// a6xx is core 6.
constexpr uint32_t ChipCore(uint32_t chip_id) { return chip_id >> 24; }
constexpr uint32_t ChipMajor(uint32_t chip_id) { return (chip_id >> 16) & 0xFF; }
constexpr uint32_t ChipMinor(uint32_t chip_id) { return (chip_id >> 8) & 0xFF; }

}  // namespace uop::a6xx

#endif  // UOP_DRIVERS_QCOM_ABI_ADRENO_A6XX_H_
