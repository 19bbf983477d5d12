// The KGSL kernel interface (/dev/kgsl-3d0), the subset the QCOM driver uses.
//
// Written from the facts of the public UAPI header include/uapi/linux/msm_kgsl.h
// (Qualcomm's KGSL driver, e.g. github.com/qualcomm-linux/kgsl): struct
// layouts for 64-bit user space (unsigned long and size_t are 8 bytes) and
// request numbers. The static_asserts pin every size the request numbers
// encode, so a layout slip shows at compile time.
#ifndef UOP_DRIVERS_QCOM_ABI_KGSL_H_
#define UOP_DRIVERS_QCOM_ABI_KGSL_H_

#include <cstddef>
#include <cstdint>

#include "drivers/common/ioctl.h"

namespace uop::kgsl {

// --- context flags (kgsl_drawctxt_create.flags) ---
inline constexpr uint32_t kContextNoGmemAlloc = 0x00000002;
inline constexpr uint32_t kContextPreamble = 0x00000010;
inline constexpr uint32_t kContextNoFaultTolerance = 0x00000200;
inline constexpr uint32_t kContextPwrConstraint = 0x00000800;
inline constexpr uint32_t kContextPriorityShift = 12;  // mask 0x0000F000
inline constexpr uint32_t kContextPriorityMask = 0x0000F000;
inline constexpr uint32_t kContextTypeShift = 20;  // mask 0x01F00000
inline constexpr uint32_t kContextTypeCl = 2;
inline constexpr uint32_t kContextPreemptStyleShift = 25;  // mask 0x0E000000
inline constexpr uint32_t kContextPreemptStyleFinegrain = 2;
inline constexpr uint32_t kContextInvalidateOnFault = 0x10000000;

// --- gpu_command_object flags ---
inline constexpr uint32_t kCmdlistIb = 0x00000001;

// --- memory flags (kgsl_gpuobj_alloc.flags) ---
inline constexpr uint64_t kMemflagsGpuReadOnly = uint64_t{1} << 24;
inline constexpr uint64_t kCacheModeShift = 26;  // mask 0x0C000000
inline constexpr uint64_t kCacheModeWriteCombine = 0;
inline constexpr uint64_t kCacheModeUncached = 1;
inline constexpr uint64_t kCacheModeWriteBack = 3;
inline constexpr uint64_t kMemflagsUseCpuMap = uint64_t{1} << 28;
inline constexpr uint64_t kMemAlignShift = 16;  // mask 0x00FF0000, log2 of the alignment
inline constexpr uint64_t kMemTypeShift = 8;    // mask 0x0000FF00
inline constexpr uint64_t kMemTypeCl = 10;
inline constexpr uint64_t kMemTypeCommand = 16;

// --- properties ---
inline constexpr uint32_t kPropDeviceInfo = 0x1;
inline constexpr uint32_t kPropPwrConstraint = 0x12;

// --- timestamp types ---
inline constexpr uint32_t kTimestampConsumed = 1;
inline constexpr uint32_t kTimestampRetired = 2;
inline constexpr uint32_t kTimestampQueued = 3;

struct kgsl_devinfo {
  uint32_t device_id;
  uint32_t chip_id;  // core:8 major:8 minor:8 patch:8
  uint32_t mmu_enabled;
  uint64_t gmem_gpubaseaddr;
  uint32_t gpu_id;  // 630 for an Adreno 630
  uint64_t gmem_sizebytes;
};
static_assert(sizeof(kgsl_devinfo) == 40);
static_assert(offsetof(kgsl_devinfo, gmem_gpubaseaddr) == 16);
static_assert(offsetof(kgsl_devinfo, gpu_id) == 24);

struct kgsl_device_getproperty {
  uint32_t type;
  void* value;
  uint64_t sizebytes;
};
static_assert(sizeof(kgsl_device_getproperty) == 24);

// The payload of KGSL_PROP_PWR_CONSTRAINT (struct kgsl_device_constraint).
struct kgsl_device_constraint {
  uint32_t type;  // 1: KGSL_CONSTRAINT_PWRLEVEL
  uint32_t context_id;
  void* data;  // -> uint32_t level (1: KGSL_CONSTRAINT_PWR_MAX)
  uint64_t size;
};
static_assert(sizeof(kgsl_device_constraint) == 24);
inline constexpr uint32_t kConstraintPwrLevel = 1;
inline constexpr uint32_t kConstraintPwrMax = 1;

struct kgsl_device_waittimestamp_ctxtid {
  uint32_t context_id;
  uint32_t timestamp;
  uint32_t timeout;  // milliseconds
};
static_assert(sizeof(kgsl_device_waittimestamp_ctxtid) == 12);

struct kgsl_cmdstream_readtimestamp_ctxtid {
  uint32_t context_id;
  uint32_t type;
  uint32_t timestamp;  // out
};
static_assert(sizeof(kgsl_cmdstream_readtimestamp_ctxtid) == 12);

struct kgsl_drawctxt_create {
  uint32_t flags;
  uint32_t drawctxt_id;  // out
};
static_assert(sizeof(kgsl_drawctxt_create) == 8);

struct kgsl_drawctxt_destroy {
  uint32_t drawctxt_id;
};
static_assert(sizeof(kgsl_drawctxt_destroy) == 4);

struct kgsl_gpuobj_alloc {
  uint64_t size;
  uint64_t flags;
  uint64_t va_len;
  uint64_t mmapsize;  // out
  uint32_t id;        // out
  uint32_t metadata_len;
  uint64_t metadata;
};
static_assert(sizeof(kgsl_gpuobj_alloc) == 48);

struct kgsl_gpuobj_free {
  uint64_t flags;
  uint64_t priv;
  uint32_t id;
  uint32_t type;
  uint32_t len;
};
static_assert(sizeof(kgsl_gpuobj_free) == 32);

struct kgsl_gpuobj_info {
  uint64_t gpuaddr;
  uint64_t flags;
  uint64_t size;
  uint64_t va_len;
  uint64_t va_addr;
  uint32_t id;
};
static_assert(sizeof(kgsl_gpuobj_info) == 48);

struct kgsl_command_object {
  uint64_t offset;
  uint64_t gpuaddr;
  uint64_t size;
  uint32_t flags;
  uint32_t id;
};
static_assert(sizeof(kgsl_command_object) == 32);

struct kgsl_gpu_command {
  uint64_t flags;
  uint64_t cmdlist;  // -> kgsl_command_object[numcmds]
  uint32_t cmdsize;
  uint32_t numcmds;
  uint64_t objlist;
  uint32_t objsize;
  uint32_t numobjs;
  uint64_t synclist;
  uint32_t syncsize;
  uint32_t numsyncs;
  uint32_t context_id;
  uint32_t timestamp;  // out
};
static_assert(sizeof(kgsl_gpu_command) == 64);
static_assert(offsetof(kgsl_gpu_command, context_id) == 56);

inline constexpr unsigned kIocType = 0x09;
inline constexpr unsigned long kIoctlDeviceGetProperty =
    IoWR<kgsl_device_getproperty>(kIocType, 0x2);
inline constexpr unsigned long kIoctlWaitTimestampCtxtid =
    IoW<kgsl_device_waittimestamp_ctxtid>(kIocType, 0x7);
inline constexpr unsigned long kIoctlDrawctxtCreate = IoWR<kgsl_drawctxt_create>(kIocType, 0x13);
inline constexpr unsigned long kIoctlDrawctxtDestroy = IoW<kgsl_drawctxt_destroy>(kIocType, 0x14);
inline constexpr unsigned long kIoctlReadTimestampCtxtid =
    IoWR<kgsl_cmdstream_readtimestamp_ctxtid>(kIocType, 0x16);
inline constexpr unsigned long kIoctlSetProperty = IoW<kgsl_device_getproperty>(kIocType, 0x32);
inline constexpr unsigned long kIoctlGpuobjAlloc = IoWR<kgsl_gpuobj_alloc>(kIocType, 0x45);
inline constexpr unsigned long kIoctlGpuobjFree = IoW<kgsl_gpuobj_free>(kIocType, 0x46);
inline constexpr unsigned long kIoctlGpuobjInfo = IoWR<kgsl_gpuobj_info>(kIocType, 0x47);
inline constexpr unsigned long kIoctlGpuCommand = IoWR<kgsl_gpu_command>(kIocType, 0x4A);

// mmap offset of a GPU object: its id in pages.
inline constexpr uint64_t MmapOffset(uint32_t id) { return uint64_t{id} << 12; }

}  // namespace uop::kgsl

#endif  // UOP_DRIVERS_QCOM_ABI_KGSL_H_
