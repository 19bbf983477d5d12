#include "drivers/allocator.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop {

// Sets the view fields DeviceBuffer keeps private.
class SubBufferAccess {
 public:
  static void SetParent(DeviceBuffer& view, const DeviceBuffer& parent, size_t offset) {
    view.parent_ = &parent;
    view.offset_ = offset;
  }
};

absl::StatusOr<std::unique_ptr<DeviceBuffer>> MakeSubBuffer(const DeviceBuffer& base, size_t offset,
                                                            size_t bytes) {
  RETURN_IF_ERROR(CheckBufferRange(base, offset, bytes, "sub-buffer", "MakeSubBuffer"));
  const DeviceBuffer& root = base.parent() != nullptr ? *base.parent() : base;
  void* host =
      base.host_ptr() != nullptr ? static_cast<uint8_t*>(base.host_ptr()) + offset : nullptr;
  const uint64_t address = base.device_address() != 0 ? base.device_address() + offset : 0;
  auto view =
      std::make_unique<DeviceBuffer>(base.owner(), base.id(), bytes, base.options(), host, address);
  SubBufferAccess::SetParent(*view, root, base.offset() + offset);
  return view;
}

void CheckFreeable(const DeviceBuffer& buffer, const Allocator* allocator,
                   absl::string_view device) {
  const char* problem = buffer.parent() != nullptr    ? "is a sub-buffer view"
                        : buffer.owner() != allocator ? "belongs to another allocator"
                                                      : nullptr;
  if (problem == nullptr) return;
  std::fprintf(stderr, "uop: %.*s: Free of buffer #%llu, which %s\n",
               static_cast<int>(device.size()), device.data(),
               static_cast<unsigned long long>(buffer.id()), problem);
  std::abort();
}

absl::Status Allocator::CopyBetween(DeviceBuffer&, size_t, const DeviceBuffer&, size_t, size_t) {
  return absl::UnimplementedError("CopyBetween is not supported by this allocator");
}

absl::Status CheckBufferRange(const DeviceBuffer& buffer, size_t offset, size_t bytes,
                              const char* op, absl::string_view device) {
  // Written so that offset + bytes cannot overflow.
  if (offset > buffer.size() || bytes > buffer.size() - offset) {
    return absl::OutOfRangeError(absl::StrCat(device, ": ", op, " of ", bytes, " bytes at offset ",
                                              offset, " is outside buffer #", buffer.id(), " of ",
                                              buffer.size(), " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> EffectiveAlignment(const BufferOptions& options, absl::string_view device) {
  const size_t a = options.alignment;
  if (a == 0 || (a & (a - 1)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(device, ": buffer alignment ", a, " is not a power of two"));
  }
  if (a > (size_t{1} << 30)) {
    return absl::InvalidArgumentError(
        absl::StrCat(device, ": buffer alignment ", a, " is larger than 1 GiB"));
  }
  return a < kMinBufferAlignment ? kMinBufferAlignment : a;
}

}  // namespace uop
