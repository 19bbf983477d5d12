#include "drivers/allocator.h"

#include "absl/strings/str_cat.h"

namespace uop {

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
