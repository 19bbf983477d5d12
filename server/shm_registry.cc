#include "server/shm_registry.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace uop::server {

char* ShmRegion::data() const {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return base + (offset % page);
}

ShmRegion::~ShmRegion() {
  if (base != nullptr) munmap(base, map_size);
}

absl::Status ShmRegistry::Register(const std::string& name, const std::string& key, uint64_t offset,
                                   uint64_t byte_size) {
  if (name.empty()) return absl::InvalidArgumentError("the region name is empty");
  if (byte_size == 0) {
    return absl::InvalidArgumentError(absl::StrCat("region '", name, "': byte_size is 0"));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (regions_.count(name)) {
      return absl::AlreadyExistsError(
          absl::StrCat("shared memory region '", name, "' is already registered"));
    }
  }
  std::string shm_key = key;
  if (shm_key.empty() || shm_key.find('/', 1) != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "region '", name, "': '", key, "' is not a POSIX shared memory key like '/name'"));
  }
  int fd = shm_open(shm_key.c_str(), O_RDWR, 0);
  if (fd < 0) {
    return absl::InvalidArgumentError(absl::StrCat("region '", name, "': cannot open shm key '",
                                                   key, "': ", std::strerror(errno)));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat("region '", name, "': cannot stat '", key, "': ", std::strerror(err)));
  }
  const uint64_t object_size = static_cast<uint64_t>(st.st_size);
  if (offset > object_size || byte_size > object_size - offset) {
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat("region '", name, "': offset ", offset, " + byte_size ", byte_size,
                     " is past the end of '", key, "' (", object_size, " bytes)"));
  }
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t map_offset = offset - offset % page;
  const size_t map_size = static_cast<size_t>(byte_size + offset % page);
  void* base = mmap(nullptr, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                    static_cast<off_t>(map_offset));
  const int err = errno;
  close(fd);
  if (base == MAP_FAILED) {
    return absl::InvalidArgumentError(
        absl::StrCat("region '", name, "': cannot map '", key, "': ", std::strerror(err)));
  }
  auto region = std::make_shared<ShmRegion>();
  region->name = name;
  region->key = key;
  region->offset = offset;
  region->byte_size = byte_size;
  region->base = static_cast<char*>(base);
  region->map_size = map_size;
  std::lock_guard<std::mutex> lock(mu_);
  if (!regions_.emplace(name, std::move(region)).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("shared memory region '", name, "' is already registered"));
  }
  return absl::OkStatus();
}

absl::Status ShmRegistry::Unregister(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (name.empty()) {
    regions_.clear();
    return absl::OkStatus();
  }
  if (regions_.erase(name) == 0) {
    return absl::NotFoundError(absl::StrCat("no shared memory region named '", name, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ShmRegionStatus>> ShmRegistry::Status(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ShmRegionStatus> out;
  for (const auto& [n, r] : regions_) {
    if (!name.empty() && n != name) continue;
    out.push_back({r->name, r->key, r->offset, r->byte_size});
  }
  if (!name.empty() && out.empty()) {
    return absl::NotFoundError(absl::StrCat("no shared memory region named '", name, "'"));
  }
  return out;
}

absl::StatusOr<ShmView> ShmRegistry::View(absl::string_view name, uint64_t offset,
                                          uint64_t size) const {
  std::shared_ptr<ShmRegion> region;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = regions_.find(name);
    if (it == regions_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("shared memory region '", name, "' is not registered"));
    }
    region = it->second;
  }
  if (offset > region->byte_size || size > region->byte_size - offset) {
    return absl::InvalidArgumentError(
        absl::StrCat("shared memory region '", name, "': offset ", offset, " + byte size ", size,
                     " is past its end (", region->byte_size, " bytes)"));
  }
  ShmView view;
  view.data = region->data() + offset;
  view.size = size;
  view.region = std::move(region);
  return view;
}

}  // namespace uop::server
