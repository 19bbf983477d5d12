#include "client/lib/shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace uop::client {
namespace {

absl::Status ErrnoError(absl::string_view what, const std::string& key, int err) {
  std::string msg = absl::StrCat(what, " '", key, "': ", std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case EEXIST:
      return absl::AlreadyExistsError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    case ENOMEM:
    case ENOSPC:
      return absl::ResourceExhaustedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

}  // namespace

absl::Status CheckShmKey(const std::string& key) {
  if (key.size() < 2 || key[0] != '/' || key.find('/', 1) != std::string::npos ||
      key.size() > 255) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shared memory key '", key, "' must be '/name' (one leading slash, no other, <= 255)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SharedMemoryRegion>> SharedMemoryRegion::MapFd(int fd,
                                                                              std::string key,
                                                                              bool writable,
                                                                              bool owns_key) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return ErrnoError("stat", key, err);
  }
  if (st.st_size <= 0) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat("'", key, "' is empty; nothing to map"));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  void* data =
      mmap(nullptr, size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
  const int err = errno;
  close(fd);  // the mapping keeps the object alive
  if (data == MAP_FAILED) return ErrnoError("mmap", key, err);
  return std::unique_ptr<SharedMemoryRegion>(
      new SharedMemoryRegion(std::move(key), data, size, owns_key));
}

absl::StatusOr<std::unique_ptr<SharedMemoryRegion>> SharedMemoryRegion::Create(
    const std::string& key, size_t bytes) {
  if (absl::Status st = CheckShmKey(key); !st.ok()) return st;
  if (bytes == 0) {
    return absl::InvalidArgumentError(absl::StrCat("shared memory '", key, "': size 0"));
  }
  const int fd = shm_open(key.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return ErrnoError("shm_open", key, errno);
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    const int err = errno;
    close(fd);
    shm_unlink(key.c_str());
    return ErrnoError("ftruncate", key, err);
  }
  absl::StatusOr<std::unique_ptr<SharedMemoryRegion>> r = MapFd(fd, key, true, true);
  if (!r.ok()) shm_unlink(key.c_str());
  return r;
}

absl::StatusOr<std::unique_ptr<SharedMemoryRegion>> SharedMemoryRegion::Open(const std::string& key,
                                                                             bool writable) {
  if (absl::Status st = CheckShmKey(key); !st.ok()) return st;
  const int fd = shm_open(key.c_str(), writable ? O_RDWR : O_RDONLY, 0);
  if (fd < 0) return ErrnoError("shm_open", key, errno);
  return MapFd(fd, key, writable, false);
}

absl::StatusOr<std::unique_ptr<SharedMemoryRegion>> SharedMemoryRegion::MapFile(
    const std::string& path, bool writable) {
  const int fd = open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return ErrnoError("open", path, errno);
  return MapFd(fd, path, writable, false);
}

SharedMemoryRegion::~SharedMemoryRegion() {
  munmap(data_, size_);
  if (owns_key_) shm_unlink(key_.c_str());
}

}  // namespace uop::client
