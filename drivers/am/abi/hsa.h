// HSA/AMD in-memory structures the GPU's command processor reads: AQL
// packets, AMD signals, the AMD queue descriptor, and the AMDGPU kernel
// descriptor. Layouts from the public HSA runtime headers (hsa.h,
// amd_hsa_signal.h, amd_hsa_queue.h) and LLVM's AMDGPUUsage documentation
// (kernel descriptor for code object v3+).
#ifndef UOP_DRIVERS_AM_ABI_HSA_H_
#define UOP_DRIVERS_AM_ABI_HSA_H_

#include <cstddef>
#include <cstdint>

namespace uop::hsa {

// --- AQL packets (64 bytes) ---
inline constexpr uint16_t kPacketVendor = 0;
inline constexpr uint16_t kPacketInvalid = 1;
inline constexpr uint16_t kPacketKernelDispatch = 2;
inline constexpr uint16_t kPacketBarrierAnd = 3;
inline constexpr uint16_t kHeaderTypeMask = 0xFF;
inline constexpr uint16_t kHeaderBarrier = 1u << 8;
inline constexpr uint16_t kAcquireScopeShift = 9;
inline constexpr uint16_t kReleaseScopeShift = 11;
inline constexpr uint16_t kScopeAgent = 1;
inline constexpr uint16_t kScopeSystem = 2;
inline constexpr uint16_t kDispatchDimsShift = 0;  // setup bits 1:0

struct kernel_dispatch_packet {
  uint16_t header;
  uint16_t setup;
  uint16_t workgroup_size_x;
  uint16_t workgroup_size_y;
  uint16_t workgroup_size_z;
  uint16_t reserved0;
  uint32_t grid_size_x;  // work-items
  uint32_t grid_size_y;
  uint32_t grid_size_z;
  uint32_t private_segment_size;
  uint32_t group_segment_size;
  uint64_t kernel_object;  // GPU address of the kernel descriptor
  uint64_t kernarg_address;
  uint64_t reserved2;
  uint64_t completion_signal;  // GPU address of an amd_signal, or 0
};
static_assert(sizeof(kernel_dispatch_packet) == 64);
static_assert(offsetof(kernel_dispatch_packet, kernel_object) == 32);

struct barrier_and_packet {
  uint16_t header;
  uint16_t reserved0;
  uint32_t reserved1;
  uint64_t dep_signal[5];
  uint64_t reserved2;
  uint64_t completion_signal;
};
static_assert(sizeof(barrier_and_packet) == 64);

// --- amd_signal_t (64 bytes, 64-byte aligned) ---
// The CP decrements `value` when the packet that names it completes; with a
// mailbox it then writes `event_id` there and raises an interrupt, which KFD
// turns into the event becoming signaled.
inline constexpr int64_t kSignalKindUser = 1;
struct amd_signal {
  int64_t kind;
  int64_t value;
  uint64_t event_mailbox_ptr;
  uint32_t event_id;
  uint32_t reserved1;
  uint64_t start_ts;
  uint64_t end_ts;
  uint64_t reserved2;
  uint32_t reserved3[2];
};
static_assert(sizeof(amd_signal) == 64);
static_assert(offsetof(amd_signal, event_mailbox_ptr) == 16);

// --- amd_queue_t (256 bytes): the AQL queue's descriptor; KFD is given the
// addresses of its write/read dispatch ids as the queue's pointers.
inline constexpr uint32_t kQueuePropertiesIsPtr64 = 1u << 1;
struct amd_queue {
  uint32_t hsa_type;
  uint32_t hsa_features;
  uint64_t hsa_base_address;
  uint64_t hsa_doorbell_signal;
  uint32_t hsa_size;
  uint32_t hsa_reserved1;
  uint64_t hsa_id;
  uint32_t reserved1[4];
  uint64_t write_dispatch_id;
  uint32_t group_segment_aperture_base_hi;
  uint32_t private_segment_aperture_base_hi;
  uint32_t max_cu_id;
  uint32_t max_wave_id;
  uint64_t max_legacy_doorbell_dispatch_id_plus_1;
  uint32_t legacy_doorbell_lock;
  uint32_t reserved2[9];
  uint64_t read_dispatch_id;
  uint32_t read_dispatch_id_field_base_byte_offset;
  uint32_t compute_tmpring_size;
  uint32_t scratch_resource_descriptor[4];
  uint64_t scratch_backing_memory_location;
  uint64_t scratch_backing_memory_byte_size;
  uint32_t scratch_workitem_byte_size;
  uint32_t queue_properties;
  uint32_t reserved3[2];
  uint64_t queue_inactive_signal;
  uint32_t reserved4[14];
};
static_assert(sizeof(amd_queue) == 256);
static_assert(offsetof(amd_queue, write_dispatch_id) == 56);
static_assert(offsetof(amd_queue, read_dispatch_id) == 128);

// --- AMDGPU kernel descriptor (64 bytes, the "<kernel>.kd" symbol) ---
struct kernel_descriptor {
  uint32_t group_segment_fixed_size;
  uint32_t private_segment_fixed_size;
  uint32_t kernarg_size;
  uint8_t reserved0[4];
  int64_t kernel_code_entry_byte_offset;  // from the descriptor to the code
  uint8_t reserved1[20];
  uint32_t compute_pgm_rsrc3;
  uint32_t compute_pgm_rsrc1;
  uint32_t compute_pgm_rsrc2;
  uint16_t kernel_code_properties;
  uint16_t kernarg_preload;
  uint8_t reserved2[4];
};
static_assert(sizeof(kernel_descriptor) == 64);
static_assert(offsetof(kernel_descriptor, kernel_code_entry_byte_offset) == 16);
static_assert(offsetof(kernel_descriptor, compute_pgm_rsrc3) == 44);
static_assert(offsetof(kernel_descriptor, kernel_code_properties) == 56);

}  // namespace uop::hsa

#endif  // UOP_DRIVERS_AM_ABI_HSA_H_
