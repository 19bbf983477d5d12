// AmDeviceLock: exclusive ownership of one AMD PCI function across
// processes, for the AM path without a kernel driver. Nothing in the kernel
// stops two processes from mapping the same BARs and programming the same
// chip at once; this lock does, as tinygrad's AM driver does it: an
// exclusive, non-blocking flock on `<dir>/am_<bdf>.lock` (tinygrad's file
// name in the temp directory, so uop and tinygrad exclude each other on the
// same machine). The file is created 0666 when absent, so another user can
// take it later; it is opened without O_CREAT when it exists (tinygrad: no
// re-creation, no permission checks on a file someone else owns). The lock
// goes away with the file descriptor: when the holder closes it, exits or
// crashes — a crashed holder never leaves the chip locked.
//
// On an emulated seam (KernelIo::emulated(): tests, UOP_ENABLE_EMULATED) the
// lock is taken in a table per KernelIo instance instead of a file: each
// EmulatedKernelIo is its own machine, so tests running in parallel with the
// same emulated BDF do not see each other's chips as in use.
//
// Thread safety: Acquire may be called from any thread.
#ifndef UOP_DRIVERS_AM_PCI_DEVICE_LOCK_H_
#define UOP_DRIVERS_AM_PCI_DEVICE_LOCK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "drivers/common/kernel_io.h"

namespace uop {

class AmDeviceLock {
 public:
  // Takes the lock of `bdf` without waiting. Unavailable naming the BDF,
  // "in use" and the lock file when another holder has it; InvalidArgument
  // for a BDF that is not a plain name (empty, '/', ".."); other errors name
  // the file and the errno.
  static absl::StatusOr<std::unique_ptr<AmDeviceLock>> Acquire(KernelIo& io, const std::string& dir,
                                                               const std::string& bdf);
  ~AmDeviceLock();  // releases the lock
  AmDeviceLock(const AmDeviceLock&) = delete;
  AmDeviceLock& operator=(const AmDeviceLock&) = delete;

  const std::string& path() const { return path_; }

  static std::string PathFor(const std::string& dir, const std::string& bdf);

 private:
  AmDeviceLock(std::string path, int fd, const KernelIo* emulated)
      : path_(std::move(path)), fd_(fd), emulated_(emulated) {}

  const std::string path_;
  const int fd_;              // the flocked file; -1 on an emulated seam
  const KernelIo* emulated_;  // the emulated seam whose table holds the lock
};

}  // namespace uop

#endif  // UOP_DRIVERS_AM_PCI_DEVICE_LOCK_H_
