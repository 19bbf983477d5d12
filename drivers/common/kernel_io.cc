#include "drivers/common/kernel_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace uop {
namespace {

const char* ErrnoSymbol(int err) {
  switch (err) {
    case EPERM:
      return "EPERM";
    case ENOENT:
      return "ENOENT";
    case EINTR:
      return "EINTR";
    case EIO:
      return "EIO";
    case ENXIO:
      return "ENXIO";
    case EBADF:
      return "EBADF";
    case EAGAIN:
      return "EAGAIN";
    case ENOMEM:
      return "ENOMEM";
    case EACCES:
      return "EACCES";
    case EFAULT:
      return "EFAULT";
    case EBUSY:
      return "EBUSY";
    case EEXIST:
      return "EEXIST";
    case ENODEV:
      return "ENODEV";
    case ENOTDIR:
      return "ENOTDIR";
    case EINVAL:
      return "EINVAL";
    case ENOSPC:
      return "ENOSPC";
    case ENOTTY:
      return "ENOTTY";
    case EDEADLK:
      return "EDEADLK";
    case ENOSYS:
      return "ENOSYS";
    case ETIMEDOUT:
      return "ETIMEDOUT";
    case EPROTO:
      return "EPROTO";
    case ECANCELED:
      return "ECANCELED";
    default:
      return "errno";
  }
}

// Real system calls. EINTR is retried: every call here is restartable.
class RealKernelIo final : public KernelIo {
 protected:
  int DoOpen(const std::string& path, int flags) override {
    int fd;
    do {
      fd = ::open(path.c_str(), flags | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    return fd >= 0 ? fd : -errno;
  }
  int DoClose(int fd) override { return ::close(fd) == 0 ? 0 : -errno; }
  int DoIoctl(int fd, unsigned long request, void* arg) override {
    int r;
    do {
      r = ::ioctl(fd, request, arg);
    } while (r < 0 && errno == EINTR);
    return r >= 0 ? r : -errno;
  }
  int DoMmap(void* addr, size_t length, int prot, int flags, int fd, uint64_t offset,
             void** out) override {
    void* p = ::mmap(addr, length, prot, flags, fd, static_cast<off_t>(offset));
    if (p == MAP_FAILED) return -errno;
    *out = p;
    return 0;
  }
  int DoMunmap(void* addr, size_t length) override {
    return ::munmap(addr, length) == 0 ? 0 : -errno;
  }
  int DoReadFile(const std::string& path, std::string* out) override {
    const int fd = DoOpen(path, O_RDONLY);
    if (fd < 0) return fd;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        ::close(fd);
        return -err;
      }
      if (n == 0) break;
      out->append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return 0;
  }
  int DoWriteFile(const std::string& path, uint64_t offset, const std::string& bytes) override {
    const int fd = DoOpen(path, O_WRONLY);
    if (fd < 0) return fd;
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n =
          ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int err = n < 0 ? errno : EIO;
        ::close(fd);
        return -err;
      }
      done += static_cast<size_t>(n);
    }
    ::close(fd);
    return 0;
  }
  int DoPoll(int fd, int64_t timeout_ns) override {
    pollfd p{fd, POLLIN | POLLPRI, 0};
    timespec ts{static_cast<time_t>(timeout_ns / 1000000000),
                static_cast<long>(timeout_ns % 1000000000)};
    int r;
    do {
      r = ::ppoll(&p, 1, &ts, nullptr);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
    if (r > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0 &&
        (p.revents & (POLLIN | POLLPRI)) == 0) {
      return (p.revents & POLLNVAL) != 0 ? -EBADF : -EIO;
    }
    return r > 0 ? 1 : 0;
  }
  int DoEventfd() override {
    const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return fd >= 0 ? fd : -errno;
  }
  int64_t DoReadEventfd(int fd) override {
    uint64_t count = 0;
    ssize_t n;
    do {
      n = ::read(fd, &count, sizeof(count));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return errno == EAGAIN ? 0 : -errno;
    return n == sizeof(count) ? static_cast<int64_t>(count) : -EIO;
  }
  int64_t DoPread(int fd, uint64_t offset, void* out, size_t length) override {
    ssize_t n;
    do {
      n = ::pread(fd, out, length, static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    return n >= 0 ? n : -errno;
  }
  int64_t DoPwrite(int fd, uint64_t offset, const void* bytes, size_t length) override {
    ssize_t n;
    do {
      n = ::pwrite(fd, bytes, length, static_cast<off_t>(offset));
    } while (n < 0 && errno == EINTR);
    return n >= 0 ? n : -errno;
  }
  int DoListDir(const std::string& path, std::vector<std::string>* out) override {
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) return -errno;
    while (dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
        out->push_back(e->d_name);
    }
    ::closedir(d);
    return 0;
  }
};

}  // namespace

std::string ErrnoName(int err) {
  return absl::StrCat(ErrnoSymbol(err), err == 0 ? "" : absl::StrCat(" ", err), " (",
                      std::strerror(err), ")");
}

absl::Status ErrnoStatus(int err, absl::string_view what) {
  const std::string msg = absl::StrCat(what, " failed: ", ErrnoName(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    case ENOMEM:
    case ENOSPC:
      return absl::ResourceExhaustedError(msg);
    case EINVAL:
    case ENOTTY:
    case EFAULT:
    case EBADF:
      return absl::InvalidArgumentError(msg);
    case ETIMEDOUT:
      return absl::DeadlineExceededError(msg);
    case ENODEV:
    case ENXIO:
    case EIO:
    case EDEADLK:
    case EPROTO:
      return absl::UnavailableError(msg);
    default:
      return absl::InternalError(msg);
  }
}

KernelIo& KernelIo::Real() {
  static KernelIo* const io = new RealKernelIo();
  return *io;
}

absl::StatusOr<int> KernelIo::Open(absl::string_view path, int flags) {
  const std::string p(path);
  const int fd = DoOpen(p, flags);
  if (fd < 0) return ErrnoStatus(-fd, absl::StrCat("open ", path));
  std::lock_guard<std::mutex> lock(mu_);
  paths_[fd] = p;
  return fd;
}

absl::Status KernelIo::Close(int fd) {
  const std::string path = PathOf(fd);
  {
    std::lock_guard<std::mutex> lock(mu_);
    paths_.erase(fd);
  }
  const int r = DoClose(fd);
  if (r < 0) return ErrnoStatus(-r, absl::StrCat("close ", path));
  return absl::OkStatus();
}

absl::Status KernelIo::Ioctl(int fd, unsigned long request, void* arg, absl::string_view name) {
  const int r = DoIoctl(fd, request, arg);
  if (r >= 0) return absl::OkStatus();
  return ErrnoStatus(
      -r, absl::StrFormat("ioctl %s (0x%x) on %s", std::string(name), request, PathOf(fd)));
}

int KernelIo::IoctlErrno(int fd, unsigned long request, void* arg) {
  const int r = DoIoctl(fd, request, arg);
  return r >= 0 ? 0 : -r;
}

absl::StatusOr<int> KernelIo::IoctlValue(int fd, unsigned long request, void* arg,
                                         absl::string_view name) {
  const int r = DoIoctl(fd, request, arg);
  if (r < 0) {
    return ErrnoStatus(
        -r, absl::StrFormat("ioctl %s (0x%x) on %s", std::string(name), request, PathOf(fd)));
  }
  return r;
}

absl::StatusOr<int> KernelIo::IoctlFd(int fd, unsigned long request, void* arg,
                                      absl::string_view name, absl::string_view new_path) {
  absl::StatusOr<int> r = IoctlValue(fd, request, arg, name);
  if (!r.ok()) return r.status();
  std::lock_guard<std::mutex> lock(mu_);
  paths_[*r] = std::string(new_path);
  return *r;
}

absl::Status KernelIo::Pread(int fd, uint64_t offset, void* out, size_t length,
                             absl::string_view what) {
  const int64_t r = DoPread(fd, offset, out, length);
  const std::string call = absl::StrFormat("pread of %s (%u bytes at offset 0x%x of %s)",
                                           std::string(what), length, offset, PathOf(fd));
  if (r < 0) return ErrnoStatus(static_cast<int>(-r), call);
  if (static_cast<uint64_t>(r) != length) {
    return absl::DataLossError(absl::StrFormat("%s: short read of %d bytes", call, r));
  }
  return absl::OkStatus();
}

absl::Status KernelIo::Pwrite(int fd, uint64_t offset, const void* bytes, size_t length,
                              absl::string_view what) {
  const int64_t r = DoPwrite(fd, offset, bytes, length);
  const std::string call = absl::StrFormat("pwrite of %s (%u bytes at offset 0x%x of %s)",
                                           std::string(what), length, offset, PathOf(fd));
  if (r < 0) return ErrnoStatus(static_cast<int>(-r), call);
  if (static_cast<uint64_t>(r) != length) {
    return absl::DataLossError(absl::StrFormat("%s: short write of %d bytes", call, r));
  }
  return absl::OkStatus();
}

absl::StatusOr<void*> KernelIo::Mmap(void* addr, size_t length, int prot, int flags, int fd,
                                     uint64_t offset, absl::string_view what) {
  void* out = nullptr;
  const int r = DoMmap(addr, length, prot, flags, fd, offset, &out);
  if (r < 0) {
    return ErrnoStatus(
        -r, absl::StrFormat("mmap of %s (%u bytes at offset 0x%x of %s)", std::string(what), length,
                            offset, fd >= 0 ? PathOf(fd) : std::string("anonymous")));
  }
  return out;
}

absl::Status KernelIo::Munmap(void* addr, size_t length) {
  const int r = DoMunmap(addr, length);
  if (r < 0) return ErrnoStatus(-r, absl::StrFormat("munmap of %u bytes at %p", length, addr));
  return absl::OkStatus();
}

absl::StatusOr<std::string> KernelIo::ReadFile(absl::string_view path) {
  std::string out;
  const int r = DoReadFile(std::string(path), &out);
  if (r < 0) return ErrnoStatus(-r, absl::StrCat("reading ", path));
  return out;
}

absl::StatusOr<std::vector<std::string>> KernelIo::ListDir(absl::string_view path) {
  std::vector<std::string> out;
  const int r = DoListDir(std::string(path), &out);
  if (r < 0) return ErrnoStatus(-r, absl::StrCat("listing ", path));
  std::sort(out.begin(), out.end());
  return out;
}

int KernelIo::DoPoll(int, int64_t) { return -ENOSYS; }

int KernelIo::DoEventfd() { return -ENOSYS; }

int64_t KernelIo::DoReadEventfd(int) { return -ENOSYS; }

absl::StatusOr<int> KernelIo::Eventfd(absl::string_view what) {
  const int fd = DoEventfd();
  if (fd < 0) return ErrnoStatus(-fd, absl::StrCat("eventfd for ", what));
  std::lock_guard<std::mutex> lock(mu_);
  paths_[fd] = std::string(what);
  return fd;
}

absl::StatusOr<uint64_t> KernelIo::ReadEventfd(int fd) {
  const int64_t r = DoReadEventfd(fd);
  if (r < 0) return ErrnoStatus(static_cast<int>(-r), absl::StrCat("reading eventfd ", PathOf(fd)));
  return static_cast<uint64_t>(r);
}

int64_t KernelIo::DoPread(int, uint64_t, void*, size_t) { return -ENOSYS; }

int64_t KernelIo::DoPwrite(int, uint64_t, const void*, size_t) { return -ENOSYS; }

int KernelIo::DoWriteFile(const std::string&, uint64_t, const std::string&) { return -ENOSYS; }

absl::Status KernelIo::WriteFile(absl::string_view path, uint64_t offset, absl::string_view bytes) {
  const int r = DoWriteFile(std::string(path), offset, std::string(bytes));
  if (r < 0) {
    return ErrnoStatus(-r, absl::StrFormat("writing %u bytes at offset %u of %s", bytes.size(),
                                           offset, std::string(path)));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> KernelIo::Poll(int fd, absl::Duration timeout) {
  if (timeout < absl::ZeroDuration() || timeout == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("poll of ", PathOf(fd), ": the timeout must be finite and >= 0"));
  }
  const int r = DoPoll(fd, absl::ToInt64Nanoseconds(timeout));
  if (r < 0) return ErrnoStatus(-r, absl::StrCat("poll of ", PathOf(fd)));
  return r > 0;
}

std::string KernelIo::PathOf(int fd) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = paths_.find(fd);
  return it == paths_.end() ? absl::StrCat("fd ", fd) : it->second;
}

}  // namespace uop
