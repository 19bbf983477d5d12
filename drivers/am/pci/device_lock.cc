#include "drivers/am/pci/device_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mutex>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace uop {
namespace {

// Locks held on emulated seams: (seam, lock path).
std::mutex emulated_mu;
std::set<std::pair<const KernelIo*, std::string>>& EmulatedLocks() {
  static auto* locks = new std::set<std::pair<const KernelIo*, std::string>>();
  return *locks;
}

absl::Status InUse(const std::string& bdf, const std::string& path) {
  return absl::UnavailableError(absl::StrFormat(
      "AM %s is in use by another process (lock %s is held); close it there first", bdf, path));
}

int OpenLockFile(const std::string& path) {
  for (;;) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd >= 0 || errno != ENOENT) return fd >= 0 ? fd : -errno;
    // O_EXCL: two processes creating it at once both end up opening one file.
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      (void)::fchmod(fd, 0666);  // whatever the umask: another user may lock it later
      return fd;
    }
    if (errno != EEXIST) return -errno;
  }
}

}  // namespace

std::string AmDeviceLock::PathFor(const std::string& dir, const std::string& bdf) {
  return absl::StrCat(dir, "/am_", bdf, ".lock");
}

absl::StatusOr<std::unique_ptr<AmDeviceLock>> AmDeviceLock::Acquire(KernelIo& io,
                                                                    const std::string& dir,
                                                                    const std::string& bdf) {
  if (bdf.empty() || bdf.find('/') != std::string::npos || bdf.find("..") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrFormat("AM lock: \"%s\" is not a PCI address (domain:bus:device.function)", bdf));
  }
  if (dir.empty()) return absl::InvalidArgumentError("AM lock: no lock directory given");
  std::string path = PathFor(dir, bdf);
  if (io.emulated()) {
    std::lock_guard<std::mutex> lock(emulated_mu);
    if (!EmulatedLocks().insert({&io, path}).second) return InUse(bdf, path);
    return std::unique_ptr<AmDeviceLock>(new AmDeviceLock(std::move(path), -1, &io));
  }
  const int fd = OpenLockFile(path);
  if (fd < 0) {
    return ErrnoStatus(-fd, absl::StrCat("AM ", bdf, ": open lock file ", path));
  }
  int r;
  do {
    r = ::flock(fd, LOCK_EX | LOCK_NB);
  } while (r != 0 && errno == EINTR);
  if (r != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return InUse(bdf, path);
    return ErrnoStatus(err, absl::StrCat("AM ", bdf, ": flock ", path));
  }
  return std::unique_ptr<AmDeviceLock>(new AmDeviceLock(std::move(path), fd, nullptr));
}

AmDeviceLock::~AmDeviceLock() {
  if (emulated_ != nullptr) {
    std::lock_guard<std::mutex> lock(emulated_mu);
    EmulatedLocks().erase({emulated_, path_});
    return;
  }
  ::close(fd_);  // drops the flock
}

}  // namespace uop
