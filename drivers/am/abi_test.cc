// Our KFD ABI (abi/kfd.h, written from the public header's facts) against
// the system's <linux/kfd_ioctl.h>: every request number, size and offset.
#include <linux/kfd_ioctl.h>

#include <cstddef>

#include "drivers/am/abi/kfd.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

TEST(KfdAbi, RequestNumbersMatchTheSystemHeader) {
  EXPECT_EQ(kfd::kIoctlGetVersion, AMDKFD_IOC_GET_VERSION);
  EXPECT_EQ(kfd::kIoctlCreateQueue, AMDKFD_IOC_CREATE_QUEUE);
  EXPECT_EQ(kfd::kIoctlDestroyQueue, AMDKFD_IOC_DESTROY_QUEUE);
  EXPECT_EQ(kfd::kIoctlCreateEvent, AMDKFD_IOC_CREATE_EVENT);
  EXPECT_EQ(kfd::kIoctlDestroyEvent, AMDKFD_IOC_DESTROY_EVENT);
  EXPECT_EQ(kfd::kIoctlSetEvent, AMDKFD_IOC_SET_EVENT);
  EXPECT_EQ(kfd::kIoctlResetEvent, AMDKFD_IOC_RESET_EVENT);
  EXPECT_EQ(kfd::kIoctlWaitEvents, AMDKFD_IOC_WAIT_EVENTS);
  EXPECT_EQ(kfd::kIoctlAcquireVm, AMDKFD_IOC_ACQUIRE_VM);
  EXPECT_EQ(kfd::kIoctlAllocMemoryOfGpu, AMDKFD_IOC_ALLOC_MEMORY_OF_GPU);
  EXPECT_EQ(kfd::kIoctlFreeMemoryOfGpu, AMDKFD_IOC_FREE_MEMORY_OF_GPU);
  EXPECT_EQ(kfd::kIoctlMapMemoryToGpu, AMDKFD_IOC_MAP_MEMORY_TO_GPU);
  EXPECT_EQ(kfd::kIoctlUnmapMemoryFromGpu, AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU);
}

TEST(KfdAbi, LayoutsMatchTheSystemHeader) {
  EXPECT_EQ(sizeof(kfd::create_queue_args), sizeof(kfd_ioctl_create_queue_args));
  EXPECT_EQ(offsetof(kfd::create_queue_args, doorbell_offset),
            offsetof(kfd_ioctl_create_queue_args, doorbell_offset));
  EXPECT_EQ(offsetof(kfd::create_queue_args, queue_id),
            offsetof(kfd_ioctl_create_queue_args, queue_id));
  EXPECT_EQ(offsetof(kfd::create_queue_args, ctl_stack_size),
            offsetof(kfd_ioctl_create_queue_args, ctl_stack_size));
  EXPECT_EQ(sizeof(kfd::create_event_args), sizeof(kfd_ioctl_create_event_args));
  EXPECT_EQ(offsetof(kfd::create_event_args, event_slot_index),
            offsetof(kfd_ioctl_create_event_args, event_slot_index));
  EXPECT_EQ(sizeof(kfd::event_data), sizeof(kfd_event_data));
  EXPECT_EQ(offsetof(kfd::event_data, event_id), offsetof(kfd_event_data, event_id));
  EXPECT_EQ(offsetof(kfd::event_data, memory_exception.va),
            offsetof(kfd_event_data, memory_exception_data.va));
  EXPECT_EQ(sizeof(kfd::wait_events_args), sizeof(kfd_ioctl_wait_events_args));
  EXPECT_EQ(sizeof(kfd::alloc_memory_of_gpu_args), sizeof(kfd_ioctl_alloc_memory_of_gpu_args));
  EXPECT_EQ(offsetof(kfd::alloc_memory_of_gpu_args, flags),
            offsetof(kfd_ioctl_alloc_memory_of_gpu_args, flags));
  EXPECT_EQ(sizeof(kfd::map_memory_to_gpu_args), sizeof(kfd_ioctl_map_memory_to_gpu_args));
  EXPECT_EQ(kfd::kAllocVram, KFD_IOC_ALLOC_MEM_FLAGS_VRAM);
  EXPECT_EQ(kfd::kAllocGtt, KFD_IOC_ALLOC_MEM_FLAGS_GTT);
  EXPECT_EQ(kfd::kAllocPublic, KFD_IOC_ALLOC_MEM_FLAGS_PUBLIC);
  EXPECT_EQ(kfd::kAllocExecutable, KFD_IOC_ALLOC_MEM_FLAGS_EXECUTABLE);
  EXPECT_EQ(kfd::kAllocUncached, KFD_IOC_ALLOC_MEM_FLAGS_UNCACHED);
  EXPECT_EQ(kfd::kQueueTypeComputeAql, KFD_IOC_QUEUE_TYPE_COMPUTE_AQL);
  EXPECT_EQ(kfd::kQueueTypeSdma, KFD_IOC_QUEUE_TYPE_SDMA);
  EXPECT_EQ(kfd::kEventMemory, KFD_IOC_EVENT_MEMORY);
  EXPECT_EQ(kfd::kWaitTimeout, KFD_IOC_WAIT_RESULT_TIMEOUT);
}

}  // namespace
}  // namespace uop
