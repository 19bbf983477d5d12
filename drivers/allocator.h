// Allocator: device memory for one device, with copies to and from the host.
//
// Every backend implements Alloc/Free/CopyIn/CopyOut/stats; CopyBetween and
// ReleaseCached are optional (marked below). Bytes in use and the peak are
// tracked for metrics (uop_device_memory_bytes) and for the memory planner's
// tests.
//
//   Allocator& a = device->allocator();
//   ASSIGN_OR_RETURN(DeviceBuffer* buf, a.Alloc(n * sizeof(float)));
//   RETURN_IF_ERROR(a.CopyIn(*buf, 0, AsBytes(absl::MakeConstSpan(x))));
//   ... run kernels ...
//   RETURN_IF_ERROR(a.CopyOut(*buf, 0, AsWritableBytes(absl::MakeSpan(y))));
//   a.Free(buf);
//
// Thread safety: every method may be called from any thread.
#ifndef UOP_DRIVERS_ALLOCATOR_H_
#define UOP_DRIVERS_ALLOCATOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "drivers/buffer.h"

namespace uop {

struct AllocatorStats {
  uint64_t bytes_in_use = 0;       // sum of size() of live buffers
  uint64_t peak_bytes_in_use = 0;  // maximum of bytes_in_use so far
  uint64_t cached_bytes = 0;       // freed blocks kept for reuse (not in use)
  uint64_t num_allocs = 0;         // Alloc calls that succeeded
  uint64_t num_frees = 0;
  uint64_t cache_hits = 0;  // Allocs served from cached blocks
};

class Allocator {
 public:
  virtual ~Allocator() = default;

  // Allocates `bytes` (0 is allowed and gives a valid empty buffer).
  // Errors: InvalidArgument for a bad alignment, ResourceExhausted when the
  // device is out of memory (naming the device and the size).
  virtual absl::StatusOr<DeviceBuffer*> Alloc(size_t bytes, const BufferOptions& options = {}) = 0;

  // Releases a buffer from this allocator. nullptr is a no-op. The caller
  // guarantees no queued work still uses it (wait on its queue first).
  virtual void Free(DeviceBuffer* buffer) = 0;

  // Host → device: writes src into dst at dst_offset. Synchronous.
  // OutOfRange when [dst_offset, dst_offset + src.size()) is outside dst.
  virtual absl::Status CopyIn(DeviceBuffer& dst, size_t dst_offset,
                              absl::Span<const uint8_t> src) = 0;

  // Device → host: reads dst.size() bytes of src from src_offset. Synchronous.
  virtual absl::Status CopyOut(const DeviceBuffer& src, size_t src_offset,
                               absl::Span<uint8_t> dst) = 0;

  // OPTIONAL. Device → device within this allocator, where that is cheap.
  // Default: Unimplemented (callers fall back to CopyOut + CopyIn).
  virtual absl::Status CopyBetween(DeviceBuffer& dst, size_t dst_offset, const DeviceBuffer& src,
                                   size_t src_offset, size_t bytes);

  virtual AllocatorStats stats() const = 0;

  // OPTIONAL. Returns cached (freed but pooled) memory to the system.
  virtual void ReleaseCached() {}
};

// Frees the buffer through its owner when it goes out of scope.
struct BufferDeleter {
  void operator()(DeviceBuffer* b) const {
    if (b != nullptr) b->owner()->Free(b);
  }
};
using ScopedBuffer = std::unique_ptr<DeviceBuffer, BufferDeleter>;

// A view of bytes [offset, offset + bytes) of `base` (an allocation or a
// view), sharing its memory and id: how the memory planner hands out parts of
// one arena. A view is never passed to Free (allocators abort on it) and must
// not outlive its allocation. OutOfRange when the range is outside `base`.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<DeviceBuffer> v, MakeSubBuffer(*arena, 4096, 1024));
absl::StatusOr<std::unique_ptr<DeviceBuffer>> MakeSubBuffer(const DeviceBuffer& base, size_t offset,
                                                            size_t bytes);

// Aborts with a clear message if `buffer` is a view or belongs to another
// allocator: freeing either would corrupt the allocator (a programmer error).
void CheckFreeable(const DeviceBuffer& buffer, const Allocator* allocator,
                   absl::string_view device);

// Checks that [offset, offset + bytes) lies inside `buffer`; the error names
// the operation, the buffer and the device.
absl::Status CheckBufferRange(const DeviceBuffer& buffer, size_t offset, size_t bytes,
                              const char* op, absl::string_view device);

// Checks an alignment request: a power of two. Returns the effective
// alignment (at least kMinBufferAlignment).
absl::StatusOr<size_t> EffectiveAlignment(const BufferOptions& options, absl::string_view device);

}  // namespace uop

#endif  // UOP_DRIVERS_ALLOCATOR_H_
