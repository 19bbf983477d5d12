// KernelIo: the one seam between a user-space driver and the kernel.
//
// Every direct driver (AM, QCOM, later NV) reaches the kernel only through
// this class: opening device nodes, ioctls, mmap/munmap and reading sysfs
// text. `KernelIo::Real()` makes the system calls; EmulatedKernelIo
// (emulated_kernel_io.h) routes them to device models and records the call
// sequence, so the drivers' logic runs in CI without the hardware.
//
// Errors name the call, the path and the errno, and map errno to a status
// code (ENOENT → NotFound, EACCES/EPERM → PermissionDenied, ENOMEM →
// ResourceExhausted, EINVAL → InvalidArgument, ETIMEDOUT → DeadlineExceeded,
// ENODEV/EIO/EDEADLK/ENXIO → Unavailable, else Internal). Callers that branch
// on the errno itself (a wait ioctl timing out) use IoctlErrno.
//
//   KernelIo& io = KernelIo::Real();
//   ASSIGN_OR_RETURN(int fd, io.Open("/dev/kgsl-3d0", O_RDWR | O_CLOEXEC));
//   kgsl_drawctxt_create req{...};
//   RETURN_IF_ERROR(io.Ioctl(fd, kIoctlDrawctxtCreate, &req, "IOCTL_KGSL_DRAWCTXT_CREATE"));
//
// Thread safety: every method may be called from any thread.
#ifndef UOP_DRIVERS_COMMON_KERNEL_IO_H_
#define UOP_DRIVERS_COMMON_KERNEL_IO_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace uop {

class KernelIo {
 public:
  virtual ~KernelIo() = default;

  // The process-wide implementation that makes real system calls.
  static KernelIo& Real();

  // True for an emulator (tests, UOP_ENABLE_EMULATED devices).
  virtual bool emulated() const { return false; }

  absl::StatusOr<int> Open(absl::string_view path, int flags);
  absl::Status Close(int fd);
  // `name` names the request in errors ("IOCTL_KGSL_GPU_COMMAND").
  absl::Status Ioctl(int fd, unsigned long request, void* arg, absl::string_view name);
  // 0 on success, else the errno (for callers that branch on it).
  int IoctlErrno(int fd, unsigned long request, void* arg);
  // An ioctl that answers through its non-negative result (VFIO's
  // GET_API_VERSION, CHECK_EXTENSION): the result.
  absl::StatusOr<int> IoctlValue(int fd, unsigned long request, void* arg, absl::string_view name);
  // An ioctl whose non-negative result is a new file descriptor (VFIO's
  // GROUP_GET_DEVICE_FD); errors and PathOf name the new fd `new_path`.
  absl::StatusOr<int> IoctlFd(int fd, unsigned long request, void* arg, absl::string_view name,
                              absl::string_view new_path);
  // pread/pwrite of exactly `out.size()` / `bytes.size()` bytes at `offset`
  // of an open fd (VFIO's device regions without mmap: PCI config space).
  // A short transfer is an error naming `what`.
  absl::Status Pread(int fd, uint64_t offset, void* out, size_t length, absl::string_view what);
  absl::Status Pwrite(int fd, uint64_t offset, const void* bytes, size_t length,
                      absl::string_view what);
  absl::StatusOr<void*> Mmap(void* addr, size_t length, int prot, int flags, int fd,
                             uint64_t offset, absl::string_view what);
  absl::Status Munmap(void* addr, size_t length);
  // Whole contents of a (small, sysfs) text file.
  absl::StatusOr<std::string> ReadFile(absl::string_view path);
  // Writes `bytes` at `offset` of an existing file (sysfs attributes that
  // take writes: a PCI function's `enable`, its `config` space).
  absl::Status WriteFile(absl::string_view path, uint64_t offset, absl::string_view bytes);
  // Entry names in a directory, sorted, without "." and "..".
  absl::StatusOr<std::vector<std::string>> ListDir(absl::string_view path);
  // Waits at most `timeout` (finite, >= 0) until `fd` has an event to read
  // (POLLIN/POLLPRI: an interrupt-driven notification such as an NV OS
  // event): true when it has, false on timeout. The wait sleeps in the
  // kernel (ppoll), never in a loop.
  absl::StatusOr<bool> Poll(int fd, absl::Duration timeout);
  // A new eventfd (counter 0, non-blocking, close-on-exec) for the kernel to
  // signal (VFIO's interrupt trigger); `what` names it in errors and PathOf.
  // Poll waits on it; close it with Close.
  absl::StatusOr<int> Eventfd(absl::string_view what);
  // Reads and clears an eventfd's counter: 0 when nothing was signalled.
  absl::StatusOr<uint64_t> ReadEventfd(int fd);

  // The path an open fd was opened with ("fd N" if unknown).
  std::string PathOf(int fd) const;

 protected:
  // The raw calls: a result >= 0, or -errno.
  virtual int DoOpen(const std::string& path, int flags) = 0;
  virtual int DoClose(int fd) = 0;
  virtual int DoIoctl(int fd, unsigned long request, void* arg) = 0;
  virtual int DoMmap(void* addr, size_t length, int prot, int flags, int fd, uint64_t offset,
                     void** out) = 0;
  virtual int DoMunmap(void* addr, size_t length) = 0;
  virtual int DoReadFile(const std::string& path, std::string* out) = 0;
  virtual int DoListDir(const std::string& path, std::vector<std::string>* out) = 0;
  // Optional: seams without writable files keep the default (ENOSYS).
  virtual int DoWriteFile(const std::string& path, uint64_t offset, const std::string& bytes);
  // 1 when readable, 0 on timeout, or -errno. Optional: seams without
  // pollable nodes keep the default (ENOSYS).
  virtual int DoPoll(int fd, int64_t timeout_ns);
  // A new eventfd or -errno; its counter (cleared) or -errno (0 when none,
  // not -EAGAIN). Optional: the defaults are -ENOSYS.
  virtual int DoEventfd();
  virtual int64_t DoReadEventfd(int fd);
  // Bytes transferred, or -errno. Optional: the default is -ENOSYS.
  virtual int64_t DoPread(int fd, uint64_t offset, void* out, size_t length);
  virtual int64_t DoPwrite(int fd, uint64_t offset, const void* bytes, size_t length);

 private:
  mutable std::mutex mu_;
  std::map<int, std::string> paths_;  // open fds, guarded by mu_
};

// The status for a failed call: `what` failed with errno `err`.
absl::Status ErrnoStatus(int err, absl::string_view what);

// "EINVAL (Invalid argument)".
std::string ErrnoName(int err);

}  // namespace uop

#endif  // UOP_DRIVERS_COMMON_KERNEL_IO_H_
