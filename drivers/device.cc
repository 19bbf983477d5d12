#include "drivers/device.h"

namespace uop {

MemoryInfo Device::memory_info() {
  const AllocatorStats s = allocator().stats();
  return MemoryInfo{info().total_memory, s.bytes_in_use, s.peak_bytes_in_use, s.cached_bytes};
}

}  // namespace uop
