// Hopper (GH100) engine facts the NV driver emits: pushbuffer method
// headers, the host (HOPPER_CHANNEL_GPFIFO_A), compute (HOPPER_COMPUTE_A)
// and copy (HOPPER_DMA_COPY_A) methods it uses, GPFIFO entries, USERD and
// the doorbell, and the version 4.0 launch descriptor (QMD) layout.
//
// Written from the facts of the public class headers: open-gpu-kernel-
// modules src/common/sdk/nvidia/inc/class/{clc86f,clc56f,clc661,clc8b5}.h
// and NVIDIA's open-gpu-doc classes/compute/{clcbc0,clcbc0qmd}.h. Hopper
// differs from Ampere/Ada where this driver cares: the compute class
// (0xcbc0), QMD version 4 (a 384-byte layout with the grid at bit 1024,
// 64-byte-aligned constant buffer addresses and the release semaphores
// moved, dependent QMDs at bits 368/448), the copy class (0xc8b5) and the usermode class (0xc661).
#ifndef UOP_DRIVERS_NV_INCLUDE_NV_HOPPER_H_
#define UOP_DRIVERS_NV_INCLUDE_NV_HOPPER_H_

#include <cstdint>

namespace uop::nvhw {

// --- pushbuffer method headers (NVC56F_DMA_*) ---
// An incrementing method: `count` data words go to mthd, mthd+4, ...
constexpr uint32_t MethodInc(uint32_t subchannel, uint32_t method, uint32_t count) {
  return (1u << 29) | (count << 16) | (subchannel << 13) | (method >> 2);
}
// A non-incrementing method: `count` data words all go to `method`.
constexpr uint32_t MethodNonInc(uint32_t subchannel, uint32_t method, uint32_t count) {
  return (3u << 29) | (count << 16) | (subchannel << 13) | (method >> 2);
}
// One method with 13 bits of data in the header itself.
constexpr uint32_t MethodImmediate(uint32_t subchannel, uint32_t method, uint32_t data) {
  return (4u << 29) | (data << 16) | (subchannel << 13) | (method >> 2);
}
inline constexpr uint32_t kSecOpShift = 29;
inline constexpr uint32_t kSecOpIncMethod = 1;
inline constexpr uint32_t kSecOpNonIncMethod = 3;
inline constexpr uint32_t kSecOpImmediate = 4;
inline constexpr uint32_t kSecOpOneInc = 5;

// Subchannels this driver binds (SET_OBJECT) on its channels.
inline constexpr uint32_t kSubchannelCompute = 1;
inline constexpr uint32_t kSubchannelCopy = 4;

// --- host methods (any subchannel; HOPPER_CHANNEL_GPFIFO_A) ---
inline constexpr uint32_t kHostSetObject = 0x0000;
inline constexpr uint32_t kHostNonStallInterrupt = 0x0020;
inline constexpr uint32_t kHostSemAddrLo = 0x005c;
inline constexpr uint32_t kHostSemAddrHi = 0x0060;
inline constexpr uint32_t kHostSemPayloadLo = 0x0064;
inline constexpr uint32_t kHostSemPayloadHi = 0x0068;
inline constexpr uint32_t kHostSemExecute = 0x006c;
inline constexpr uint32_t kHostWfi = 0x0078;
inline constexpr uint32_t kHostMethodLimit = 0x0100;  // methods below go to the host
// SEM_EXECUTE fields.
inline constexpr uint32_t kSemOpAcquire = 0;
inline constexpr uint32_t kSemOpRelease = 1;
inline constexpr uint32_t kSemOpAcqCircGeq = 3;
inline constexpr uint32_t kSemOpMask = 7;
inline constexpr uint32_t kSemAcquireSwitchTsg = 1u << 12;
inline constexpr uint32_t kSemReleaseWfi = 1u << 20;
inline constexpr uint32_t kSemPayload64 = 1u << 24;
inline constexpr uint32_t kSemReleaseTimestamp = 1u << 25;

// --- compute methods (HOPPER_COMPUTE_A, subchannel 1) ---
inline constexpr uint32_t kComputeWaitForIdle = 0x0110;
inline constexpr uint32_t kComputeInvalidateShaderCaches = 0x021c;
inline constexpr uint32_t kInvalidateInstruction = 1u << 0;
inline constexpr uint32_t kInvalidateData = 1u << 4;
inline constexpr uint32_t kInvalidateConstant = 1u << 12;
inline constexpr uint32_t kComputeSetSharedMemoryWindowA = 0x02a0;  // upper, then B: lower
inline constexpr uint32_t kComputeSendPcasA = 0x02b4;               // QMD address >> 8
inline constexpr uint32_t kComputeSendSignalingPcas2B = 0x02c0;
inline constexpr uint32_t kPcasActionInvalidateCopySchedule = 3;
inline constexpr uint32_t kComputeSetLocalMemoryNonThrottledA =
    0x02e4;                                                        // size upper, lower, max SMs
inline constexpr uint32_t kComputeSetLocalMemoryA = 0x0790;        // address upper, then lower
inline constexpr uint32_t kComputeSetLocalMemoryWindowA = 0x07b0;  // upper, then B: lower

// --- copy methods (HOPPER_DMA_COPY_A, subchannel 4) ---
inline constexpr uint32_t kCopySetSemaphoreA =
    0x0240;  // address upper, lower, payload, payload upper
inline constexpr uint32_t kCopyLaunchDma = 0x0300;
inline constexpr uint32_t kCopyOffsetInUpper = 0x0400;  // in upper, in lower, out upper, out lower
inline constexpr uint32_t kCopyLineLengthIn = 0x0418;
// LAUNCH_DMA fields.
inline constexpr uint32_t kDmaTransferNonPipelined = 2u << 0;  // DATA_TRANSFER_TYPE
inline constexpr uint32_t kDmaFlushEnable = 1u << 2;
inline constexpr uint32_t kDmaSemaphoreReleaseOneWord = 1u << 3;   // SEMAPHORE_TYPE 4:3
inline constexpr uint32_t kDmaSemaphoreReleaseFourWord = 2u << 3;  // payload + timestamp
inline constexpr uint32_t kDmaSrcPitch = 1u << 7;                  // SRC_MEMORY_LAYOUT
inline constexpr uint32_t kDmaDstPitch = 1u << 8;                  // DST_MEMORY_LAYOUT
inline constexpr uint32_t kDmaSemaphorePayload64 = 1u << 27;       // SEMAPHORE_PAYLOAD_SIZE
inline constexpr uint64_t kDmaMaxLine = uint64_t{1} << 31;         // bytes per LINE_LENGTH_IN

// --- GPFIFO entries, USERD, doorbell ---
// Entry for a pushbuffer segment at `va` (4-byte aligned, below 2^40) of
// `dwords` words.
constexpr uint64_t GpfifoEntry(uint64_t va, uint32_t dwords) {
  return (va & 0xFFFFFFFFFCull) | (uint64_t{1} << 41) | (uint64_t{dwords} << 42);
}
inline constexpr uint32_t kUserdGpGet = 0x88;  // GPGet in HopperAControlGPFifo
inline constexpr uint32_t kUserdGpPut = 0x8c;  // GPPut
inline constexpr uint32_t kUserdBytes = 0x200;
inline constexpr uint32_t kUsermodeDoorbell = 0x90;  // NVC361_NOTIFY_CHANNEL_PENDING
inline constexpr uint64_t kUsermodeBytes = 0x10000;

// --- QMD version 4.0 (clcbc0qmd.h): bit ranges [lo, hi] of a 3072-bit descriptor ---
struct QmdField {
  uint16_t lo, hi;
};
inline constexpr int kQmdBytes = 384;
namespace qmd4 {
inline constexpr QmdField kQmdGroupId{16, 21};
inline constexpr QmdField kQmdType{23, 25};
inline constexpr uint32_t kQmdTypeGridCta = 2;
// Release semaphore i (0, 1): enable, structure size, payload width.
constexpr QmdField ReleaseEnable(int i) { return {uint16_t(320 + 16 * i), uint16_t(320 + 16 * i)}; }
constexpr QmdField ReleaseStructureSize(int i) {
  return {uint16_t(321 + 16 * i), uint16_t(322 + 16 * i)};
}
inline constexpr uint32_t kReleaseOneWord = 1;
constexpr QmdField ReleaseMembarType(int i) {
  return {uint16_t(323 + 16 * i), uint16_t(323 + 16 * i)};
}
constexpr QmdField ReleasePayload64(int i) {
  return {uint16_t(332 + 16 * i), uint16_t(332 + 16 * i)};
}
constexpr QmdField ReleaseReductionEnable(int i) {
  return {uint16_t(324 + 16 * i), uint16_t(324 + 16 * i)};
}
constexpr QmdField ReleaseReductionOp(int i) {
  return {uint16_t(325 + 16 * i), uint16_t(327 + 16 * i)};
}
inline constexpr uint32_t kReductionAdd = 0;
constexpr QmdField ReleaseReductionFormat(int i) {
  return {uint16_t(328 + 16 * i), uint16_t(329 + 16 * i)};
}
inline constexpr uint32_t kReductionUnsigned32 = 0;
inline constexpr uint32_t kReleaseMembarSysmembar = 1;  // FE_SYSMEMBAR
// Dependent QMD i (0, 1): scheduled by the GPU when this grid completes.
constexpr QmdField DependentQmdEnable(int i) {
  return {uint16_t(368 + 5 * i), uint16_t(368 + 5 * i)};
}
constexpr QmdField DependentQmdAction(int i) {
  return {uint16_t(369 + 5 * i), uint16_t(371 + 5 * i)};
}
inline constexpr uint32_t kDependentActionSchedule = 1;  // QMD_SCHEDULE
constexpr QmdField DependentQmdPrefetch(int i) {
  return {uint16_t(372 + 5 * i), uint16_t(372 + 5 * i)};
}
// The dependent QMD's address >> 8 (QMDs are 256-byte aligned).
constexpr QmdField DependentQmdPointer(int i) {
  return {uint16_t(448 + 32 * i), uint16_t(479 + 32 * i)};
}
constexpr QmdField ConstantBufferValid(int i) {
  return {uint16_t(416 + 4 * i), uint16_t(416 + 4 * i)};
}
constexpr QmdField ConstantBufferInvalidate(int i) {
  return {uint16_t(419 + 4 * i), uint16_t(419 + 4 * i)};
}
inline constexpr QmdField kShaderLocalMemoryLowSize{512, 535};
inline constexpr QmdField kSassVersion{536, 543};
inline constexpr QmdField kShaderLocalMemoryHighSize{544, 567};
inline constexpr QmdField kApiVisibleCallLimit{568, 568};  // 1: NO_CHECK
inline constexpr QmdField kSamplerIndex{569, 569};         // 0: INDEPENDENTLY
inline constexpr QmdField kQmdMinorVersion{576, 579};
inline constexpr QmdField kQmdMajorVersion{580, 583};
inline constexpr QmdField kSharedMemorySize{584, 601};
inline constexpr QmdField kInvalidateTextureHeaderCache{602, 602};
inline constexpr QmdField kInvalidateTextureSamplerCache{603, 603};
inline constexpr QmdField kInvalidateTextureDataCache{604, 604};
inline constexpr QmdField kInvalidateShaderDataCache{605, 605};
inline constexpr QmdField kInvalidateInstructionCache{606, 606};
inline constexpr QmdField kInvalidateShaderConstantCache{607, 607};
inline constexpr QmdField kMinSmConfigSharedMemSize{608, 613};
inline constexpr QmdField kMaxSmConfigSharedMemSize{614, 619};
inline constexpr QmdField kTargetSmConfigSharedMemSize{620, 625};
constexpr QmdField ReleaseSemaphoreAddrLower(int i) {
  return {uint16_t(640 + 128 * i), uint16_t(671 + 128 * i)};
}
constexpr QmdField ReleaseSemaphoreAddrUpper(int i) {
  return {uint16_t(672 + 128 * i), uint16_t(696 + 128 * i)};
}
constexpr QmdField ReleaseSemaphorePayloadLower(int i) {
  return {uint16_t(704 + 128 * i), uint16_t(735 + 128 * i)};
}
constexpr QmdField ReleaseSemaphorePayloadUpper(int i) {
  return {uint16_t(736 + 128 * i), uint16_t(767 + 128 * i)};
}
inline constexpr QmdField kGridWidth{1024, 1055};
inline constexpr QmdField kGridHeight{1056, 1071};
inline constexpr QmdField kGridDepth{1088, 1103};
inline constexpr QmdField kCwdMembarType{1136, 1137};
inline constexpr uint32_t kCwdMembarL1Sysmembar = 1;
inline constexpr QmdField kCtaThreadDimension0{1152, 1167};
inline constexpr QmdField kCtaThreadDimension1{1168, 1183};
inline constexpr QmdField kCtaThreadDimension2{1184, 1199};
inline constexpr QmdField kRegisterCount{1200, 1208};
inline constexpr QmdField kBarrierCount{1211, 1215};
inline constexpr QmdField kProgramAddressLower{1216, 1247};
inline constexpr QmdField kProgramAddressUpper{1248, 1272};
inline constexpr QmdField kProgramPrefetchAddrLowerShifted{1344, 1375};
inline constexpr QmdField kProgramPrefetchAddrUpperShifted{1376, 1392};
inline constexpr QmdField kProgramPrefetchSize{1393, 1401};
constexpr QmdField ConstantBufferAddrLowerShifted6(int i) {
  return {uint16_t(1536 + 64 * i), uint16_t(1567 + 64 * i)};
}
constexpr QmdField ConstantBufferAddrUpperShifted6(int i) {
  return {uint16_t(1568 + 64 * i), uint16_t(1586 + 64 * i)};
}
constexpr QmdField ConstantBufferSizeShifted4(int i) {
  return {uint16_t(1587 + 64 * i), uint16_t(1599 + 64 * i)};
}
}  // namespace qmd4

// Shared memory carve-out encoding of the SM config fields: KiB / 4 + 1.
constexpr uint32_t SmConfigSharedMem(uint32_t kib) { return kib / 4 + 1; }
// The carve-outs Hopper offers per SM, in KiB, ascending.
inline constexpr uint32_t kHopperSharedCarveoutsKib[] = {8, 16, 32, 64, 100, 132, 164, 196, 228};

}  // namespace uop::nvhw

#endif  // UOP_DRIVERS_NV_INCLUDE_NV_HOPPER_H_
