// DeviceBuffer: an opaque handle to memory owned by one device's Allocator.
//
// Layers above the drivers never look inside a buffer; they pass handles to
// Allocator::CopyIn/CopyOut and Program::Run. A backend may derive from
// DeviceBuffer to keep its own bookkeeping (a GPU VA, a BO handle, ...).
//
//   ASSIGN_OR_RETURN(DeviceBuffer* buf, device->allocator().Alloc(4096));
//   RETURN_IF_ERROR(device->allocator().CopyIn(*buf, 0, AsBytes(absl::MakeConstSpan(host))));
//   device->allocator().Free(buf);
#ifndef UOP_DRIVERS_BUFFER_H_
#define UOP_DRIVERS_BUFFER_H_

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"

namespace uop {

class Allocator;

// Every allocation is aligned to at least this many bytes (one cache line,
// one AVX-512 register), so kernels may use aligned vector loads at offset 0.
inline constexpr size_t kMinBufferAlignment = 64;

struct BufferOptions {
  // The host can read and write the memory directly through host_ptr().
  // CPU memory is always host-visible; GPUs map it through the BAR/GTT.
  bool host_visible = false;
  // Page-locked host memory usable for DMA (staging buffers). On the CPU it
  // means nothing more than host_visible.
  bool pinned = false;
  // Power of two; values below kMinBufferAlignment are raised to it.
  size_t alignment = kMinBufferAlignment;
};

class DeviceBuffer {
 public:
  DeviceBuffer(Allocator* owner, uint64_t id, size_t size, const BufferOptions& options,
               void* host_ptr, uint64_t device_address)
      : owner_(owner),
        id_(id),
        size_(size),
        options_(options),
        host_ptr_(host_ptr),
        device_address_(device_address) {}
  virtual ~DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  // The allocator that made the buffer and must free it.
  Allocator* owner() const { return owner_; }
  // Unique per allocator for the process lifetime; used in logs and by the
  // null device's launch records.
  uint64_t id() const { return id_; }
  // Usable bytes (what was asked for; the backing block may be larger).
  size_t size() const { return size_; }
  const BufferOptions& options() const { return options_; }
  // Host address of the first byte, or nullptr when not host-visible.
  void* host_ptr() const { return host_ptr_; }
  // Address as the device sees it (the host address on the CPU; a fake
  // unique address on the null device).
  uint64_t device_address() const { return device_address_; }
  // For a view made by MakeSubBuffer (allocator.h): the allocation it lies
  // in and its byte offset there; nullptr and 0 for an allocation.
  const DeviceBuffer* parent() const { return parent_; }
  size_t offset() const { return offset_; }

 private:
  friend class SubBufferAccess;
  Allocator* owner_;
  uint64_t id_;
  size_t size_;
  BufferOptions options_;
  void* host_ptr_;
  uint64_t device_address_;
  const DeviceBuffer* parent_ = nullptr;
  size_t offset_ = 0;
};

// Views of typed host arrays as bytes, for CopyIn / CopyOut.
template <typename T>
absl::Span<const uint8_t> AsBytes(absl::Span<const T> s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()),
                                   s.size() * sizeof(T));
}
template <typename T>
absl::Span<uint8_t> AsWritableBytes(absl::Span<T> s) {
  return absl::Span<uint8_t>(reinterpret_cast<uint8_t*>(s.data()), s.size() * sizeof(T));
}

}  // namespace uop

#endif  // UOP_DRIVERS_BUFFER_H_
