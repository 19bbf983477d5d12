// The KFD kernel interface (/dev/kfd), the subset the AM driver uses.
//
// Written from the facts of the public UAPI header include/uapi/linux/kfd_ioctl.h
// (ioctl type 'K'): struct layouts for 64-bit user space and request
// numbers. drivers/am/abi_test.cc checks every size, offset and number
// against the system's <linux/kfd_ioctl.h> where one is installed.
#ifndef UOP_DRIVERS_AM_ABI_KFD_H_
#define UOP_DRIVERS_AM_ABI_KFD_H_

#include <cstddef>
#include <cstdint>

#include "drivers/common/ioctl.h"

namespace uop::kfd {

inline constexpr uint32_t kQueueTypeCompute = 0;
inline constexpr uint32_t kQueueTypeSdma = 1;
inline constexpr uint32_t kQueueTypeComputeAql = 2;
inline constexpr uint32_t kMaxQueuePercentage = 100;
inline constexpr uint32_t kMaxQueuePriority = 15;

inline constexpr uint32_t kEventSignal = 0;
inline constexpr uint32_t kEventHwException = 3;
inline constexpr uint32_t kEventMemory = 8;
inline constexpr uint32_t kWaitComplete = 0;
inline constexpr uint32_t kWaitTimeout = 1;
inline constexpr uint32_t kWaitFail = 2;

inline constexpr uint32_t kAllocVram = 1u << 0;
inline constexpr uint32_t kAllocGtt = 1u << 1;
inline constexpr uint32_t kAllocUserptr = 1u << 2;
inline constexpr uint32_t kAllocDoorbell = 1u << 3;
inline constexpr uint32_t kAllocWritable = 1u << 31;
inline constexpr uint32_t kAllocExecutable = 1u << 30;
inline constexpr uint32_t kAllocPublic = 1u << 29;
inline constexpr uint32_t kAllocNoSubstitute = 1u << 28;
inline constexpr uint32_t kAllocAqlQueueMem = 1u << 27;
inline constexpr uint32_t kAllocCoherent = 1u << 26;
inline constexpr uint32_t kAllocUncached = 1u << 25;

struct get_version_args {
  uint32_t major_version;
  uint32_t minor_version;
};
static_assert(sizeof(get_version_args) == 8);

struct create_queue_args {
  uint64_t ring_base_address;
  uint64_t write_pointer_address;
  uint64_t read_pointer_address;
  uint64_t doorbell_offset;  // out
  uint32_t ring_size;
  uint32_t gpu_id;
  uint32_t queue_type;
  uint32_t queue_percentage;
  uint32_t queue_priority;
  uint32_t queue_id;  // out
  uint64_t eop_buffer_address;
  uint64_t eop_buffer_size;
  uint64_t ctx_save_restore_address;
  uint32_t ctx_save_restore_size;
  uint32_t ctl_stack_size;
};
static_assert(sizeof(create_queue_args) == 88);

struct destroy_queue_args {
  uint32_t queue_id;
  uint32_t pad;
};

struct create_event_args {
  uint64_t event_page_offset;  // in: a GTT allocation's handle for the first event
  uint32_t event_trigger_data;
  uint32_t event_type;
  uint32_t auto_reset;
  uint32_t node_id;
  uint32_t event_id;          // out
  uint32_t event_slot_index;  // out
};
static_assert(sizeof(create_event_args) == 32);

struct destroy_event_args {
  uint32_t event_id;
  uint32_t pad;
};

struct memory_exception_failure {
  uint32_t not_present;
  uint32_t read_only;
  uint32_t no_execute;
  uint32_t imprecise;
};

struct event_data {
  union {
    struct {
      memory_exception_failure failure;
      uint64_t va;
      uint32_t gpu_id;
      uint32_t pad;
    } memory_exception;
    struct {
      uint32_t reset_type;
      uint32_t reset_cause;
      uint32_t memory_lost;
      uint32_t gpu_id;
    } hw_exception;
  };
  uint64_t event_data_ext;
  uint32_t event_id;
  uint32_t pad;
};
static_assert(sizeof(event_data) == 48);
static_assert(offsetof(event_data, event_id) == 40);

struct wait_events_args {
  uint64_t events_ptr;  // -> event_data[num_events]
  uint32_t num_events;
  uint32_t wait_for_all;
  uint32_t timeout;      // milliseconds
  uint32_t wait_result;  // out
};
static_assert(sizeof(wait_events_args) == 24);

struct acquire_vm_args {
  uint32_t drm_fd;
  uint32_t gpu_id;
};

struct alloc_memory_of_gpu_args {
  uint64_t va_addr;
  uint64_t size;
  uint64_t handle;       // out
  uint64_t mmap_offset;  // out (in: the CPU address for userptr)
  uint32_t gpu_id;
  uint32_t flags;
};
static_assert(sizeof(alloc_memory_of_gpu_args) == 40);

struct free_memory_of_gpu_args {
  uint64_t handle;
};

struct map_memory_to_gpu_args {
  uint64_t handle;
  uint64_t device_ids_array_ptr;  // -> uint32_t gpu_id[n_devices]
  uint32_t n_devices;
  uint32_t n_success;
};
static_assert(sizeof(map_memory_to_gpu_args) == 24);

struct runtime_enable_args {
  uint64_t r_debug;
  uint32_t mode_mask;
  uint32_t capabilities_mask;
};
static_assert(sizeof(runtime_enable_args) == 16);

inline constexpr unsigned kType = 'K';
inline constexpr unsigned long kIoctlGetVersion = IoR<get_version_args>(kType, 0x01);
inline constexpr unsigned long kIoctlCreateQueue = IoWR<create_queue_args>(kType, 0x02);
inline constexpr unsigned long kIoctlDestroyQueue = IoWR<destroy_queue_args>(kType, 0x03);
inline constexpr unsigned long kIoctlCreateEvent = IoWR<create_event_args>(kType, 0x08);
inline constexpr unsigned long kIoctlDestroyEvent = IoW<destroy_event_args>(kType, 0x09);
inline constexpr unsigned long kIoctlSetEvent = IoW<destroy_event_args>(kType, 0x0A);
inline constexpr unsigned long kIoctlResetEvent = IoW<destroy_event_args>(kType, 0x0B);
inline constexpr unsigned long kIoctlWaitEvents = IoWR<wait_events_args>(kType, 0x0C);
inline constexpr unsigned long kIoctlAcquireVm = IoW<acquire_vm_args>(kType, 0x15);
inline constexpr unsigned long kIoctlAllocMemoryOfGpu = IoWR<alloc_memory_of_gpu_args>(kType, 0x16);
inline constexpr unsigned long kIoctlFreeMemoryOfGpu = IoW<free_memory_of_gpu_args>(kType, 0x17);
inline constexpr unsigned long kIoctlMapMemoryToGpu = IoWR<map_memory_to_gpu_args>(kType, 0x18);
inline constexpr unsigned long kIoctlUnmapMemoryFromGpu = IoWR<map_memory_to_gpu_args>(kType, 0x19);
inline constexpr unsigned long kIoctlRuntimeEnable = IoWR<runtime_enable_args>(kType, 0x25);

}  // namespace uop::kfd

#endif  // UOP_DRIVERS_AM_ABI_KFD_H_
