#include "drivers/common/emu_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace uop {
namespace {

constexpr size_t kPage = 4096;

}  // namespace

EmuMemory::Bo::~Bo() {
  if (view != nullptr) ::munmap(view, size);
  if (memfd >= 0) ::close(memfd);
}

absl::StatusOr<std::shared_ptr<EmuMemory::Bo>> EmuMemory::Create(size_t size, uint32_t flags) {
  const size_t rounded = (std::max<size_t>(size, 1) + kPage - 1) / kPage * kPage;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (in_use_ + rounded > budget_) {
      return absl::ResourceExhaustedError(absl::StrCat("emulated GPU memory: ", rounded,
                                                       " bytes requested, ", budget_ - in_use_,
                                                       " of ", budget_, " free"));
    }
    in_use_ += rounded;
  }
  auto bo = std::make_shared<Bo>();
  bo->size = rounded;
  bo->flags = flags;
  bo->memfd = ::memfd_create("uop-emu-bo", MFD_CLOEXEC);
  if (bo->memfd < 0 || ::ftruncate(bo->memfd, static_cast<off_t>(rounded)) != 0) {
    std::lock_guard<std::mutex> lock(mu_);
    in_use_ -= rounded;
    return absl::ResourceExhaustedError(
        absl::StrCat("emulated GPU memory: memfd of ", rounded, " bytes: errno ", errno));
  }
  void* v = ::mmap(nullptr, rounded, PROT_READ | PROT_WRITE, MAP_SHARED, bo->memfd, 0);
  if (v == MAP_FAILED) {
    std::lock_guard<std::mutex> lock(mu_);
    in_use_ -= rounded;
    return absl::ResourceExhaustedError(
        absl::StrCat("emulated GPU memory: mapping ", rounded, " bytes: errno ", errno));
  }
  bo->view = static_cast<uint8_t*>(v);
  std::lock_guard<std::mutex> lock(mu_);
  bo->id = next_id_++;
  bos_[bo->id] = bo;
  return bo;
}

int EmuMemory::Destroy(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = bos_.find(id);
  if (it == bos_.end()) return -ENOENT;
  if (it->second->gpu_va != 0) by_va_.erase(it->second->gpu_va);
  in_use_ -= it->second->size;
  bos_.erase(it);
  return 0;
}

std::shared_ptr<EmuMemory::Bo> EmuMemory::Find(uint64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = bos_.find(id);
  return it == bos_.end() ? nullptr : it->second;
}

int EmuMemory::MapUser(const Bo& bo, uint64_t offset, void* addr, size_t length, int prot,
                       int flags, void** out) const {
  if (offset % kPage != 0 || offset > bo.size || length > bo.size - offset) return -EINVAL;
  void* p = ::mmap(addr, length, prot, (flags & MAP_FIXED) | MAP_SHARED, bo.memfd,
                   static_cast<off_t>(offset));
  if (p == MAP_FAILED) return -errno;
  *out = p;
  return 0;
}

int EmuMemory::Bind(const std::shared_ptr<Bo>& bo, uint64_t va) {
  std::lock_guard<std::mutex> lock(mu_);
  if (va == 0 || bo->gpu_va != 0) return -EINVAL;
  auto next = by_va_.lower_bound(va);
  if (next != by_va_.end() && next->first < va + bo->size) return -EINVAL;
  if (next != by_va_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second->size > va) return -EINVAL;
  }
  bo->gpu_va = va;
  by_va_[va] = bo;
  return 0;
}

int EmuMemory::Unbind(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = bos_.find(id);
  if (it == bos_.end() || it->second->gpu_va == 0) return -EINVAL;
  by_va_.erase(it->second->gpu_va);
  it->second->gpu_va = 0;
  return 0;
}

std::shared_ptr<EmuMemory::Bo> EmuMemory::BoAt(uint64_t va) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_va_.upper_bound(va);
  if (it == by_va_.begin()) return nullptr;
  --it;
  if (va - it->first >= it->second->size) return nullptr;
  return it->second;
}

uint8_t* EmuMemory::Translate(uint64_t va, size_t length, std::shared_ptr<Bo>* hold) const {
  std::shared_ptr<Bo> bo = BoAt(va);
  if (bo == nullptr) return nullptr;
  const uint64_t off = va - bo->gpu_va;
  if (length > bo->size - off) return nullptr;
  uint8_t* p = bo->view + off;
  if (hold != nullptr) *hold = std::move(bo);
  return p;
}

uint64_t EmuMemory::bytes_in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return in_use_;
}

}  // namespace uop
