// SDMA 6.0 (GC 11.0.0, Navi31) registers the AM bring-up programs: Linux's
// names, dword offsets and BASE_IDX from gc_11_0_0_offset.h (checked against
// tinygrad's generated regs.py gc_11_0_0, which carries the same offsets and
// field layouts).
//
// Where they live (Linux sdma_v6_0_get_reg_offset): SDMA 6.0 has no register
// block of its own; its registers sit in GC's space.
//  * Almost all of them are BASE_IDX 0, i.e. GC segment 0
//    (adev->reg_offset[GC_HWIP][0][0]) + offset; instance 1 is at a fixed
//    distance of 0x600 dwords (SDMA1_REG_OFFSET).
//  * The "HYP_DEC" range 0x5880..0x589a, of which the bring-up uses
//    SDMA0_F32_CNTL (0x589a), is BASE_IDX 1 (GC segment 1); instance 1 is
//    0x20 dwords further (SDMA1_HYP_DEC_REG_OFFSET): SDMA1_F32_CNTL = 0x58ba.
// So the AmReg hw_id is GC for all of them; the SDMA0 discovery entry only
// tells the version.
//
// Each instance has queues QUEUE0..; only QUEUE0 is programmed directly by
// Linux (the kernel's ring) and tinygrad (which refuses others on SDMA >= 5):
// the others are user queues that MES maps. This table describes QUEUE0.
#ifndef UOP_DRIVERS_AM_PCI_SDMA_SDMA_REGS_H_
#define UOP_DRIVERS_AM_PCI_SDMA_SDMA_REGS_H_

#include <cstdint>

#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/ip_discovery.h"

namespace uop {

// One SDMA instance's engine registers and its QUEUE0 ring registers.
struct AmSdmaRegs {
  AmReg f32_cntl;    // GC segment 1: F32 microengine halt/reset
  AmReg cntl;        // TRAP_ENABLE, interrupt enables
  AmReg status_reg;  // IDLE
  AmReg sem_wait_fail_timer_cntl;
  AmReg watchdog_cntl;  // QUEUE_HANG_COUNT (100 ms units)
  AmReg utcl1_cntl;     // RESP_MODE, REDO_DELAY
  AmReg utcl1_page;     // L2 read/write policy, LLC_NOALLOC
  AmReg rb_cntl, rb_base, rb_base_hi;
  AmReg rb_rptr, rb_rptr_hi, rb_wptr, rb_wptr_hi;  // bytes
  AmReg rb_rptr_addr_hi, rb_rptr_addr_lo;          // read-pointer writeback
  AmReg ib_cntl;
  AmReg doorbell, doorbell_offset;
  AmReg rb_wptr_poll_addr_hi, rb_wptr_poll_addr_lo;
  AmReg minor_ptr_update;
};

inline constexpr int kSdma600Instances = 2;              // Navi31: SDMA0, SDMA1
inline constexpr uint32_t kSdma1RegOffset = 0x600;       // SDMA1_REG_OFFSET
inline constexpr uint32_t kSdma1HypDecRegOffset = 0x20;  // SDMA1_HYP_DEC_REG_OFFSET

#define UOP_SDMA_REG(inst, name, seg, off, inst_step) \
  AmReg { "regSDMA" #inst "_" #name, kHwIdGc, seg, (off) + (inst) * (inst_step) }
#define UOP_SDMA_INSTANCE(i)                                                    \
  AmSdmaRegs {                                                                  \
    UOP_SDMA_REG(i, F32_CNTL, 1, 0x589a, kSdma1HypDecRegOffset),                \
        UOP_SDMA_REG(i, CNTL, 0, 0x1c, kSdma1RegOffset),                        \
        UOP_SDMA_REG(i, STATUS_REG, 0, 0x25, kSdma1RegOffset),                  \
        UOP_SDMA_REG(i, SEM_WAIT_FAIL_TIMER_CNTL, 0, 0x22, kSdma1RegOffset),    \
        UOP_SDMA_REG(i, WATCHDOG_CNTL, 0, 0x2e, kSdma1RegOffset),               \
        UOP_SDMA_REG(i, UTCL1_CNTL, 0, 0x3c, kSdma1RegOffset),                  \
        UOP_SDMA_REG(i, UTCL1_PAGE, 0, 0x3f, kSdma1RegOffset),                  \
        UOP_SDMA_REG(i, QUEUE0_RB_CNTL, 0, 0x80, kSdma1RegOffset),              \
        UOP_SDMA_REG(i, QUEUE0_RB_BASE, 0, 0x81, kSdma1RegOffset),              \
        UOP_SDMA_REG(i, QUEUE0_RB_BASE_HI, 0, 0x82, kSdma1RegOffset),           \
        UOP_SDMA_REG(i, QUEUE0_RB_RPTR, 0, 0x83, kSdma1RegOffset),              \
        UOP_SDMA_REG(i, QUEUE0_RB_RPTR_HI, 0, 0x84, kSdma1RegOffset),           \
        UOP_SDMA_REG(i, QUEUE0_RB_WPTR, 0, 0x85, kSdma1RegOffset),              \
        UOP_SDMA_REG(i, QUEUE0_RB_WPTR_HI, 0, 0x86, kSdma1RegOffset),           \
        UOP_SDMA_REG(i, QUEUE0_RB_RPTR_ADDR_HI, 0, 0x88, kSdma1RegOffset),      \
        UOP_SDMA_REG(i, QUEUE0_RB_RPTR_ADDR_LO, 0, 0x89, kSdma1RegOffset),      \
        UOP_SDMA_REG(i, QUEUE0_IB_CNTL, 0, 0x8a, kSdma1RegOffset),              \
        UOP_SDMA_REG(i, QUEUE0_DOORBELL, 0, 0x92, kSdma1RegOffset),             \
        UOP_SDMA_REG(i, QUEUE0_DOORBELL_OFFSET, 0, 0xab, kSdma1RegOffset),      \
        UOP_SDMA_REG(i, QUEUE0_RB_WPTR_POLL_ADDR_HI, 0, 0xb2, kSdma1RegOffset), \
        UOP_SDMA_REG(i, QUEUE0_RB_WPTR_POLL_ADDR_LO, 0, 0xb3, kSdma1RegOffset), \
        UOP_SDMA_REG(i, QUEUE0_MINOR_PTR_UPDATE, 0, 0xb5, kSdma1RegOffset),     \
  }

inline constexpr AmSdmaRegs kSdma600Regs[kSdma600Instances] = {UOP_SDMA_INSTANCE(0),
                                                               UOP_SDMA_INSTANCE(1)};
#undef UOP_SDMA_INSTANCE
#undef UOP_SDMA_REG

// Fields (gc_11_0_0_sh_mask.h; tinygrad regs.py gc_11_0_0).
namespace sdma_field {
// SDMA0_F32_CNTL
inline constexpr uint32_t kF32Halt = 1u << 0;
inline constexpr uint32_t kF32Th1Reset = 1u << 13;
// SDMA0_CNTL
inline constexpr uint32_t kCntlTrapEnable = 1u << 0;
// SDMA0_STATUS_REG: IDLE is bit 0 in the SDMA 4/5/6 sh_mask headers (Linux's
// sdma_v6_0_is_idle tests SDMA0_STATUS_REG__IDLE_MASK); tinygrad's regs.py
// does not list the register, so this one is not cross-checked there.
inline constexpr uint32_t kStatusIdle = 1u << 0;
// SDMA0_WATCHDOG_CNTL
inline constexpr uint32_t kWatchdogQueueHangCountMask = 0xFFu;  // 100 ms units
// SDMA0_UTCL1_CNTL
inline constexpr uint32_t kUtcl1RedoDelayShift = 0;  // 5 bits
inline constexpr uint32_t kUtcl1RedoDelayMask = 0x1Fu;
inline constexpr uint32_t kUtcl1RespModeShift = 9;  // 2 bits
inline constexpr uint32_t kUtcl1RespModeMask = 0x3u << 9;
// SDMA0_UTCL1_PAGE
inline constexpr uint32_t kUtcl1PageRdL2PolicyShift = 12;  // 2 bits
inline constexpr uint32_t kUtcl1PageWrL2PolicyShift = 14;  // 2 bits
inline constexpr uint32_t kUtcl1PagePolicyMask = 0xFu << 12;
inline constexpr uint32_t kUtcl1PageLlcNoalloc = 1u << 24;
// SDMA0_QUEUE0_RB_CNTL
inline constexpr uint32_t kRbEnable = 1u << 0;
inline constexpr uint32_t kRbSizeShift = 1;  // 5 bits: log2(ring dwords)
inline constexpr uint32_t kRbSizeMask = 0x1Fu << 1;
inline constexpr uint32_t kRbWptrPollEnable = 1u << 8;
inline constexpr uint32_t kRbF32WptrPollEnable = 1u << 11;
inline constexpr uint32_t kRbRptrWritebackEnable = 1u << 12;
inline constexpr uint32_t kRbRptrWritebackTimerShift = 16;  // 5 bits
inline constexpr uint32_t kRbPriv = 1u << 23;
inline constexpr uint32_t kRbVmidShift = 24;  // 4 bits
inline constexpr uint32_t kRbVmidMask = 0xFu << 24;
// SDMA0_QUEUE0_IB_CNTL
inline constexpr uint32_t kIbEnable = 1u << 0;
// SDMA0_QUEUE0_DOORBELL
inline constexpr uint32_t kDoorbellEnable = 1u << 28;
// SDMA0_QUEUE0_DOORBELL_OFFSET: OFFSET (bits 2..27) is the doorbell's dword
// index in the doorbell BAR (Linux: ring->doorbell_index, already << 1 from
// the 64-bit doorbell index), so the register holds its byte offset.
inline constexpr uint32_t kDoorbellOffsetShift = 2;
inline constexpr uint32_t kDoorbellOffsetMask = 0x03FFFFFFu << 2;
// SDMA0_QUEUE0_MINOR_PTR_UPDATE
inline constexpr uint32_t kMinorPtrUpdateEnable = 1u << 0;
}  // namespace sdma_field

// Linux soc15 doorbell layout (AMDGPU_NAVI10_DOORBELL_sDMA_ENGINE0/1, in
// 64-bit doorbell units): the doorbells Linux and tinygrad give SDMA0/SDMA1's
// ring. As dword indexes (what DOORBELL_OFFSET takes): 0x200 and 0x214.
inline constexpr uint32_t kNavi10DoorbellSdmaEngine0 = 0x100;
inline constexpr uint32_t kNavi10DoorbellSdmaEngine1 = 0x10A;

// How the PSP delivers the SDMA 6.0 firmware (psp_gfx_if.h GFX_FW_TYPE_*;
// Linux psp_get_fw_type, tinygrad's AM_PSP): sdma_6_0_0.bin's context-switch
// thread (TH0) and control thread (TH1), one image for both instances.
inline constexpr uint32_t kGfxFwTypeSdmaUcodeTh0 = 71;
inline constexpr uint32_t kGfxFwTypeSdmaUcodeTh1 = 72;

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_SDMA_SDMA_REGS_H_
