#include "drivers/common/host_mapped_copy.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "drivers/allocator.h"
#include "runtime/base/status_macros.h"

namespace uop {

absl::Status HostMappedCopier::CopyIn(DeviceBuffer& dst, size_t dst_offset,
                                      absl::Span<const uint8_t> src) const {
  RETURN_IF_ERROR(CheckBufferRange(dst, dst_offset, src.size(), "CopyIn", device_));
  if (!src.empty()) {
    std::memcpy(static_cast<uint8_t*>(dst.host_ptr()) + dst_offset, src.data(), src.size());
  }
  return absl::OkStatus();
}

absl::Status HostMappedCopier::CopyOut(const DeviceBuffer& src, size_t src_offset,
                                       absl::Span<uint8_t> dst) const {
  RETURN_IF_ERROR(CheckBufferRange(src, src_offset, dst.size(), "CopyOut", device_));
  if (dst.empty()) return absl::OkStatus();
  std::memcpy(dst.data(), static_cast<const uint8_t*>(src.host_ptr()) + src_offset, dst.size());
  return CheckRead(src, src_offset, dst);
}

absl::Status HostMappedCopier::CopyBetween(DeviceBuffer& dst, size_t dst_offset,
                                           const DeviceBuffer& src, size_t src_offset,
                                           size_t bytes) const {
  RETURN_IF_ERROR(CheckBufferRange(dst, dst_offset, bytes, "CopyBetween (dst)", device_));
  RETURN_IF_ERROR(CheckBufferRange(src, src_offset, bytes, "CopyBetween (src)", device_));
  if (bytes == 0) return absl::OkStatus();
  uint8_t* d = static_cast<uint8_t*>(dst.host_ptr()) + dst_offset;
  std::memmove(d, static_cast<const uint8_t*>(src.host_ptr()) + src_offset, bytes);
  // What landed in dst was read from src: an all-0xFF result may mean src is gone.
  return CheckRead(src, src_offset, absl::MakeConstSpan(d, bytes));
}

absl::Status HostMappedCopier::CheckRead(const DeviceBuffer& src, size_t offset,
                                         absl::Span<const uint8_t> bytes) const {
  if (!probe_) return absl::OkStatus();
  return CheckBarRead(device_, absl::StrCat("buffer #", src.id(), " (", memory_, ")"), offset,
                      bytes, probe_);
}

}  // namespace uop
