#include "drivers/common/mmio.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {

bool AllOnes(absl::Span<const uint8_t> bytes) {
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    if (w != ~uint64_t{0}) return false;
  }
  for (; i < bytes.size(); ++i)
    if (bytes[i] != 0xFF) return false;
  return !bytes.empty();
}

LivenessProbe CanaryProbe(const volatile uint64_t* canary, uint64_t expected, std::string where) {
  return [canary, expected, where = std::move(where)]() -> absl::Status {
    const uint64_t seen = *canary;
    if (seen == expected) return absl::OkStatus();
    return absl::UnavailableError(absl::StrFormat(
        "the canary at %s reads 0x%016x (expected 0x%016x)", where, seen, expected));
  };
}

uint64_t MmioBackend::Load64(uint64_t offset) {
  const uint64_t lo = Load32(offset);
  return lo | (static_cast<uint64_t>(Load32(offset + 4)) << 32);
}

void MmioBackend::Store64(uint64_t offset, uint64_t value) {
  Store32(offset, static_cast<uint32_t>(value));
  Store32(offset + 4, static_cast<uint32_t>(value >> 32));
}

void MmioBackend::LoadBlock(uint64_t offset, absl::Span<uint8_t> out) {
  size_t i = 0;
  while (i < out.size()) {
    const uint64_t at = offset + i;
    const uint64_t dword = at & ~uint64_t{3};
    const uint32_t v = Load32(dword);
    const size_t skip = at - dword;
    const size_t n = std::min<size_t>(4 - skip, out.size() - i);
    std::memcpy(out.data() + i, reinterpret_cast<const uint8_t*>(&v) + skip, n);
    i += n;
  }
}

void MmioBackend::StoreBlock(uint64_t offset, absl::Span<const uint8_t> in) {
  size_t i = 0;
  while (i < in.size()) {
    const uint64_t at = offset + i;
    const uint64_t dword = at & ~uint64_t{3};
    const size_t skip = at - dword;
    const size_t n = std::min<size_t>(4 - skip, in.size() - i);
    uint32_t v = n == 4 ? 0 : Load32(dword);
    std::memcpy(reinterpret_cast<uint8_t*>(&v) + skip, in.data() + i, n);
    Store32(dword, v);
    i += n;
  }
}

namespace {

struct TrapEntry {
  size_t size;
  std::shared_ptr<MmioBackend> backend;
};

// Registered traps by start address. Looked up once per region
// construction, never per access.
std::mutex& TrapMutex() {
  static std::mutex* mu = new std::mutex;
  return *mu;
}
std::map<uintptr_t, TrapEntry>& Traps() {
  static auto* traps = new std::map<uintptr_t, TrapEntry>;
  return *traps;
}

}  // namespace

MmioTrap::MmioTrap(const volatile void* base, size_t size, std::shared_ptr<MmioBackend> backend)
    : base_(reinterpret_cast<uintptr_t>(base)) {
  std::lock_guard<std::mutex> lock(TrapMutex());
  Traps()[base_] = TrapEntry{size, std::move(backend)};
}

MmioTrap::~MmioTrap() {
  std::lock_guard<std::mutex> lock(TrapMutex());
  Traps().erase(base_);
}

std::shared_ptr<MmioBackend> MmioTrap::Find(const volatile void* base, size_t size,
                                            uint64_t* offset_in_trap) {
  const uintptr_t at = reinterpret_cast<uintptr_t>(base);
  std::lock_guard<std::mutex> lock(TrapMutex());
  auto it = Traps().upper_bound(at);
  if (it == Traps().begin()) return nullptr;
  --it;
  const uintptr_t off = at - it->first;
  if (off > it->second.size || size > it->second.size - off) return nullptr;
  *offset_in_trap = off;
  return it->second.backend;
}

MmioRegion::MmioRegion(std::string device, std::string what, volatile uint8_t* base, size_t size,
                       LivenessProbe probe)
    : device_(std::move(device)),
      what_(std::move(what)),
      base_(base),
      size_(size),
      probe_(std::move(probe)) {
  backend_ = MmioTrap::Find(base, size, &backend_offset_);
}

MmioRegion::MmioRegion(std::string device, std::string what, std::shared_ptr<MmioBackend> backend,
                       size_t size, LivenessProbe probe)
    : device_(std::move(device)),
      what_(std::move(what)),
      base_(nullptr),
      size_(size),
      probe_(std::move(probe)),
      backend_(std::move(backend)) {}

absl::Status MmioRegion::CheckRange(uint64_t offset, size_t bytes, size_t align,
                                    const char* op) const {
  if (offset % align != 0 || offset > size_ || bytes > size_ - offset) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: %s of %u bytes at offset 0x%x of %s (0x%x bytes, %u-byte aligned access)", device_, op,
        bytes, offset, what_, size_, align));
  }
  return absl::OkStatus();
}

namespace {

absl::Status GoneError(absl::string_view device, absl::string_view what, uint64_t offset,
                       size_t bytes, const absl::Status& probe) {
  return absl::UnavailableError(absl::StrFormat(
      "%s: reading %u bytes at offset 0x%x of %s returned all 0xFF and the device does not "
      "answer (%s): it is gone (removed, in reset) or its BAR is unmapped",
      std::string(device), bytes, offset, std::string(what), std::string(probe.message())));
}

}  // namespace

absl::Status CheckBarRead(absl::string_view device, absl::string_view what, uint64_t offset,
                          absl::Span<const uint8_t> bytes, const LivenessProbe& probe) {
  // One probe at most: a live device answers once for the whole block.
  for (size_t at = 0; at < bytes.size(); at += MmioRegion::kCheckBytes) {
    const size_t n = std::min(MmioRegion::kCheckBytes, bytes.size() - at);
    if (!AllOnes(bytes.subspan(at, n))) continue;
    if (absl::Status p = probe(); !p.ok()) return GoneError(device, what, offset + at, n, p);
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status MmioRegion::Gone(uint64_t offset, size_t bytes, const absl::Status& probe) const {
  return GoneError(device_, what_, offset, bytes, probe);
}

absl::StatusOr<uint32_t> MmioRegion::Read32(uint64_t offset) const {
  RETURN_IF_ERROR(CheckRange(offset, 4, 4, "read"));
  const uint32_t v =
      backend_ != nullptr
          ? backend_->Load32(backend_offset_ + offset)
          : __atomic_load_n(reinterpret_cast<const volatile uint32_t*>(base_ + offset),
                            __ATOMIC_ACQUIRE);
  if (v == 0xFFFFFFFFu) {
    if (absl::Status p = probe_(); !p.ok()) return Gone(offset, 4, p);
  }
  return v;
}

absl::StatusOr<uint64_t> MmioRegion::Read64(uint64_t offset) const {
  RETURN_IF_ERROR(CheckRange(offset, 8, 8, "read"));
  const uint64_t v =
      backend_ != nullptr
          ? backend_->Load64(backend_offset_ + offset)
          : __atomic_load_n(reinterpret_cast<const volatile uint64_t*>(base_ + offset),
                            __ATOMIC_ACQUIRE);
  if (v == ~uint64_t{0}) {
    if (absl::Status p = probe_(); !p.ok()) return Gone(offset, 8, p);
  }
  return v;
}

absl::Status MmioRegion::Write32(uint64_t offset, uint32_t value) const {
  RETURN_IF_ERROR(CheckRange(offset, 4, 4, "write"));
  if (backend_ != nullptr) {
    backend_->Store32(backend_offset_ + offset, value);
  } else {
    // Release/acquire: on x86 the same plain moves as a volatile access,
    // and they order the memory a doorbell publishes for whoever reads it
    // (an engine, or an emulator's engine thread ThreadSanitizer watches).
    __atomic_store_n(reinterpret_cast<volatile uint32_t*>(base_ + offset), value, __ATOMIC_RELEASE);
  }
  return absl::OkStatus();
}

absl::Status MmioRegion::Write64(uint64_t offset, uint64_t value) const {
  RETURN_IF_ERROR(CheckRange(offset, 8, 8, "write"));
  if (backend_ != nullptr) {
    backend_->Store64(backend_offset_ + offset, value);
  } else {
    __atomic_store_n(reinterpret_cast<volatile uint64_t*>(base_ + offset), value, __ATOMIC_RELEASE);
  }
  return absl::OkStatus();
}

absl::Status MmioRegion::ReadBlock(uint64_t offset, absl::Span<uint8_t> out) const {
  RETURN_IF_ERROR(CheckRange(offset, out.size(), 1, "read"));
  if (backend_ != nullptr) {
    backend_->LoadBlock(backend_offset_ + offset, out);
    return CheckRead(offset, out);
  }
  // BAR memory is not ordinary memory: copy without compiler tricks.
  std::memcpy(out.data(), const_cast<const uint8_t*>(base_ + offset), out.size());
  return CheckRead(offset, out);
}

absl::Status MmioRegion::WriteBlock(uint64_t offset, absl::Span<const uint8_t> in) const {
  RETURN_IF_ERROR(CheckRange(offset, in.size(), 1, "write"));
  if (backend_ != nullptr) {
    backend_->StoreBlock(backend_offset_ + offset, in);
    return absl::OkStatus();
  }
  std::memcpy(const_cast<uint8_t*>(base_ + offset), in.data(), in.size());
  return absl::OkStatus();
}

absl::Status MmioRegion::CheckRead(uint64_t offset, absl::Span<const uint8_t> bytes) const {
  return CheckBarRead(device_, what_, offset, bytes, probe_);
}

}  // namespace uop
