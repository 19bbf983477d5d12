// GC 11.0 (Navi3x) registers of the compute bring-up without a kernel
// driver: the RLC autoload status, the RS64 MEC control, GRBM selection,
// per-VMID shader memory apertures, the MEC doorbell range and the hardware
// queue descriptor (HQD) registers of one compute queue.
//
// Names, dword offsets and BASE_IDX are Linux's gc_11_0_0_offset.h, fields
// its gc_11_0_0_sh_mask.h (both read through tinygrad's generated
// autogen/am/regs.py, `gc_11_0_0`, which carries the same offsets and field
// bit ranges). BAR5 byte offset = 4 * (GC base[BASE_IDX] + offset), resolved by
// AmRegisterMap.
//
// The CP_HQD_* / CP_MQD_* registers are banked: a read or write reaches the
// queue GRBM_GFX_CNTL selects (ME, pipe, queue), and SH_MEM_CONFIG/BASES the
// VMID it selects, as soc21_grbm_select does it.
#ifndef UOP_DRIVERS_AM_PCI_GFX_GFX_REGS_H_
#define UOP_DRIVERS_AM_PCI_GFX_GFX_REGS_H_

#include <cstdint>

#include "drivers/am/pci/am_regs.h"
#include "drivers/am/pci/ip_discovery.h"

namespace uop {

struct AmGfxRegs {
  AmReg grbm_gfx_cntl;         // ME/pipe/queue/VMID selection
  AmReg cp_stat;               // 0 once the CP is idle
  AmReg rlc_bootload_status;   // BOOTLOAD_COMPLETE once the RLC autoload ran
  AmReg mec_rs64_cntl;         // halt, per-pipe reset/active
  AmReg mec_rs64_pc_start;     // CP_MEC_RS64_PRGRM_CNTR_START (per pipe)
  AmReg mec_rs64_pc_start_hi;  // CP_MEC_RS64_PRGRM_CNTR_START_HI
  AmReg sh_mem_config;         // per VMID
  AmReg sh_mem_bases;          // per VMID
  AmReg mec_doorbell_lower;    // byte offset into the doorbell BAR
  AmReg mec_doorbell_upper;
  // HQD (banked per ME/pipe/queue), in register order.
  AmReg mqd_base_addr, mqd_base_addr_hi, hqd_active, hqd_vmid, persistent_state, pipe_priority,
      queue_priority, quantum, pq_base, pq_base_hi, pq_rptr, pq_rptr_report_addr,
      pq_rptr_report_addr_hi, pq_wptr_poll_addr, pq_wptr_poll_addr_hi, pq_doorbell_control,
      pq_control, ib_control, dequeue_request, mqd_control, eop_base_addr, eop_base_addr_hi,
      eop_control, eop_rptr, aql_control, pq_wptr_lo, pq_wptr_hi;
};

#define UOP_GC_REG(name, seg, off) \
  AmReg { "reg" #name, kHwIdGc, seg, off }
inline constexpr AmGfxRegs kGc1100GfxRegs = {
    UOP_GC_REG(GRBM_GFX_CNTL, 1, 0x900),
    UOP_GC_REG(CP_STAT, 0, 0xf40),
    UOP_GC_REG(RLC_RLCS_BOOTLOAD_STATUS, 1, 0x4e82),
    UOP_GC_REG(CP_MEC_RS64_CNTL, 1, 0x2904),
    UOP_GC_REG(CP_MEC_RS64_PRGRM_CNTR_START, 1, 0x2900),
    UOP_GC_REG(CP_MEC_RS64_PRGRM_CNTR_START_HI, 1, 0x2938),
    UOP_GC_REG(SH_MEM_CONFIG, 1, 0x9e4),
    UOP_GC_REG(SH_MEM_BASES, 1, 0x9e3),
    UOP_GC_REG(CP_MEC_DOORBELL_RANGE_LOWER, 0, 0x1dfc),
    UOP_GC_REG(CP_MEC_DOORBELL_RANGE_UPPER, 0, 0x1dfd),
    UOP_GC_REG(CP_MQD_BASE_ADDR, 0, 0x1fa9),
    UOP_GC_REG(CP_MQD_BASE_ADDR_HI, 0, 0x1faa),
    UOP_GC_REG(CP_HQD_ACTIVE, 0, 0x1fab),
    UOP_GC_REG(CP_HQD_VMID, 0, 0x1fac),
    UOP_GC_REG(CP_HQD_PERSISTENT_STATE, 0, 0x1fad),
    UOP_GC_REG(CP_HQD_PIPE_PRIORITY, 0, 0x1fae),
    UOP_GC_REG(CP_HQD_QUEUE_PRIORITY, 0, 0x1faf),
    UOP_GC_REG(CP_HQD_QUANTUM, 0, 0x1fb0),
    UOP_GC_REG(CP_HQD_PQ_BASE, 0, 0x1fb1),
    UOP_GC_REG(CP_HQD_PQ_BASE_HI, 0, 0x1fb2),
    UOP_GC_REG(CP_HQD_PQ_RPTR, 0, 0x1fb3),
    UOP_GC_REG(CP_HQD_PQ_RPTR_REPORT_ADDR, 0, 0x1fb4),
    UOP_GC_REG(CP_HQD_PQ_RPTR_REPORT_ADDR_HI, 0, 0x1fb5),
    UOP_GC_REG(CP_HQD_PQ_WPTR_POLL_ADDR, 0, 0x1fb6),
    UOP_GC_REG(CP_HQD_PQ_WPTR_POLL_ADDR_HI, 0, 0x1fb7),
    UOP_GC_REG(CP_HQD_PQ_DOORBELL_CONTROL, 0, 0x1fb8),
    UOP_GC_REG(CP_HQD_PQ_CONTROL, 0, 0x1fba),
    UOP_GC_REG(CP_HQD_IB_CONTROL, 0, 0x1fbe),
    UOP_GC_REG(CP_HQD_DEQUEUE_REQUEST, 0, 0x1fc1),
    UOP_GC_REG(CP_MQD_CONTROL, 0, 0x1fcb),
    UOP_GC_REG(CP_HQD_EOP_BASE_ADDR, 0, 0x1fce),
    UOP_GC_REG(CP_HQD_EOP_BASE_ADDR_HI, 0, 0x1fcf),
    UOP_GC_REG(CP_HQD_EOP_CONTROL, 0, 0x1fd0),
    UOP_GC_REG(CP_HQD_EOP_RPTR, 0, 0x1fd1),
    UOP_GC_REG(CP_HQD_AQL_CONTROL, 0, 0x1fde),
    UOP_GC_REG(CP_HQD_PQ_WPTR_LO, 0, 0x1fdf),
    UOP_GC_REG(CP_HQD_PQ_WPTR_HI, 0, 0x1fe0),
};
#undef UOP_GC_REG

// The banked HQD block: CP_MQD_BASE_ADDR .. CP_HQD_PQ_WPTR_HI (segment 0),
// the range kgd_gfx_v11_hqd_load writes from the MQD.
inline constexpr uint32_t kHqdFirstOffset = 0x1fa9;
inline constexpr uint32_t kHqdLastOffset = 0x1fe0;

// Topology of GC 11.0's compute (gfx_v11_0_sw_init): one MEC (ME 1) of 4
// pipes with 8 queues each; 16 VMIDs.
inline constexpr uint32_t kGfx11MecMe = 1;
inline constexpr uint32_t kGfx11MecPipes = 4;
inline constexpr uint32_t kGfx11QueuesPerPipe = 8;
inline constexpr uint32_t kGfx11Vmids = 16;

namespace gfx11 {
// GRBM_GFX_CNTL
inline constexpr uint32_t kGrbmPipeIdShift = 0;   // 2 bits
inline constexpr uint32_t kGrbmMeIdShift = 2;     // 2 bits
inline constexpr uint32_t kGrbmVmidShift = 4;     // 4 bits
inline constexpr uint32_t kGrbmQueueIdShift = 8;  // 3 bits
inline constexpr uint32_t GrbmGfxCntl(uint32_t me, uint32_t pipe, uint32_t queue, uint32_t vmid) {
  return (pipe & 3) << kGrbmPipeIdShift | (me & 3) << kGrbmMeIdShift |
         (vmid & 15) << kGrbmVmidShift | (queue & 7) << kGrbmQueueIdShift;
}
// RLC_RLCS_BOOTLOAD_STATUS
inline constexpr uint32_t kBootloadComplete = 1u << 31;
// CP_MEC_RS64_CNTL
inline constexpr uint32_t kMecInvalidateIcache = 1u << 4;
inline constexpr uint32_t kMecPipe0Reset = 1u << 16;  // pipe n: << n
inline constexpr uint32_t kMecPipe0Active = 1u << 26;
inline constexpr uint32_t kMecHalt = 1u << 30;
inline constexpr uint32_t kMecAllPipesReset = 0xFu << 16;
inline constexpr uint32_t kMecAllPipesActive = 0xFu << 26;
// SH_MEM_CONFIG (DEFAULT_SH_MEM_CONFIG of gfx_v11_0.c)
inline constexpr uint32_t kShMemAddressMode64 = 0;             // ADDRESS_MODE, bit 0
inline constexpr uint32_t kShMemAlignmentUnaligned = 3u << 2;  // ALIGNMENT_MODE, bits 2-3
inline constexpr uint32_t kShMemInitialInstPrefetch3 = 3u << 14;
inline constexpr uint32_t kDefaultShMemConfig =
    kShMemAddressMode64 | kShMemAlignmentUnaligned | kShMemInitialInstPrefetch3;
// SH_MEM_BASES: PRIVATE_BASE bits 0-15, SHARED_BASE bits 16-31 (address bits
// 63:48). DEFAULT_SH_MEM_BASES 0x6000: LDS and scratch apertures at
// 0x6000'0000'0000'0000 (gfx_v11_0_init_compute_vmid).
inline constexpr uint32_t kDefaultShMemBases = 0x6000u | 0x6000u << 16;
// CP_MEC_DOORBELL_RANGE_LOWER/UPPER: bits 2-11, a byte offset (dword index << 2).
inline constexpr uint32_t kDoorbellRangeMask = 0xFFCu;
// CP_HQD_PQ_CONTROL
inline constexpr uint32_t kPqQueueSizeMask = 0x3F;  // log2(ring dwords) - 1
inline constexpr uint32_t kPqRptrBlockSizeShift = 8;
inline constexpr uint32_t kPqQueueFullEn = 1u << 14;
inline constexpr uint32_t kPqSlotBasedWptrShift = 18;  // 2 bits; 2 for AQL
inline constexpr uint32_t kPqNoUpdateRptr = 1u << 27;
inline constexpr uint32_t kPqUnordDispatch = 1u << 28;
// CP_HQD_PQ_DOORBELL_CONTROL
inline constexpr uint32_t kDoorbellOffsetShift = 2;  // 26 bits: dword index
inline constexpr uint32_t kDoorbellOffsetMask = 0x3FFFFFFu << 2;
inline constexpr uint32_t kDoorbellBifDrop = 1u << 1;
inline constexpr uint32_t kDoorbellEn = 1u << 30;
// CP_HQD_PERSISTENT_STATE: PRELOAD_REQ | PRELOAD_SIZE 0x55 (init_mqd)
inline constexpr uint32_t kPersistentStatePreload = 1u | 0x55u << 8;
// CP_HQD_QUANTUM: QUANTUM_EN, QUANTUM_SCALE 1, QUANTUM_DURATION 1
inline constexpr uint32_t kQuantumDefault = 1u | 1u << 4 | 1u << 8;
// CP_HQD_IB_CONTROL: MIN_IB_AVAIL_SIZE 3 (bits 20-21)
inline constexpr uint32_t kIbMinAvailSize3 = 3u << 20;
// CP_MQD_CONTROL: PRIV_STATE
inline constexpr uint32_t kMqdPrivState = 1u << 8;
// CP_HQD_EOP_CONTROL: EOP_SIZE bits 0-5 (log2(dwords) - 1, at most 0xA)
inline constexpr uint32_t kEopSizeMask = 0x3F;
inline constexpr uint32_t kEopSizeMax = 0xA;
// CP_HQD_EOP_RPTR
inline constexpr uint32_t kEopInitFetcher = 1u << 31;
// CP_HQD_AQL_CONTROL: CONTROL0 = 1 (AQL)
inline constexpr uint32_t kAqlControl0 = 1;
// CP_HQD_ACTIVE
inline constexpr uint32_t kHqdActive = 1;
// CP_HQD_DEQUEUE_REQUEST: 1 DRAIN_PIPE, 2 RESET_WAVES (enum hqd_dequeue_request_type)
inline constexpr uint32_t kDequeueDrainPipe = 1;
inline constexpr uint32_t kDequeueResetWaves = 2;
}  // namespace gfx11

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_GFX_GFX_REGS_H_
