// EmulatedKernelIo: the KernelIo seam routed to device models instead of the
// kernel, recording and checking the call sequence.
//
// A device model registers as an EmulatedNode under its path ("/dev/kgsl-3d0");
// sysfs text files are plain strings (AddFile). Anonymous mmaps are real
// anonymous mappings. Every call is recorded (the most recent kTraceLimit in
// order, and a count per call kind and request for all of them), so tests
// check what a driver asked of the kernel; CheckClean() says whether the
// driver closed every fd and unmapped every mapping it made. FailNext makes
// the next matching call fail with an errno (fault injection).
//
//   auto io = std::make_shared<EmulatedKernelIo>();
//   io->AddNode("/dev/kgsl-3d0", kgsl_model);
//   io->AddFile("/sys/class/kgsl/kgsl-3d0/gpu_model", "Adreno630v2\n");
//   ... run the driver on *io ...
//   EXPECT_EQ(io->CountOf(IoCall::kIoctl, kIoctlGpuCommand), 3);
//   EXPECT_TRUE(io->CheckClean().ok());
//
// Thread safety: every method may be called from any thread. Nodes receive
// calls concurrently and do their own locking.
#ifndef UOP_DRIVERS_COMMON_EMULATED_KERNEL_IO_H_
#define UOP_DRIVERS_COMMON_EMULATED_KERNEL_IO_H_

#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "drivers/common/kernel_io.h"

namespace uop {

// A device node's model. Results are >= 0 or -errno, as the kernel returns.
class EmulatedNode {
 public:
  virtual ~EmulatedNode() = default;
  // A file description was opened as `fd` (per-open state is keyed by it).
  virtual int OnOpen(int fd, int flags) { return 0; }
  virtual void OnClose(int fd) {}
  virtual int OnIoctl(int fd, unsigned long request, void* arg) = 0;
  // Maps `length` bytes of the object at `offset` (addr/flags as mmap's).
  virtual int OnMmap(int fd, void* addr, size_t length, int prot, int flags, uint64_t offset,
                     void** out);
  // Unmaps a mapping OnMmap made (the default munmaps it).
  virtual int OnMunmap(void* addr, size_t length);
  // Waits up to timeout_ns for an event on `fd`: 1 when one is pending, 0
  // on timeout, or -errno (the default: -ENOSYS, not pollable).
  virtual int OnPoll(int fd, int64_t timeout_ns) { return -ENOSYS; }
  // pread/pwrite on `fd`: bytes transferred or -errno (default -EINVAL, as
  // for a node that does not take reads or writes).
  virtual int64_t OnPread(int fd, uint64_t offset, void* out, size_t length) { return -EINVAL; }
  virtual int64_t OnPwrite(int fd, uint64_t offset, const void* bytes, size_t length) {
    return -EINVAL;
  }
};

// An eventfd made through the emulated seam (KernelIo::Eventfd): a counter
// a model signals (as the kernel's eventfd_signal) and the driver polls and
// reads. Signal is safe from any thread; OnPoll sleeps on a condition
// variable until the counter is non-zero or the timeout passes.
class EmulatedEventfd final : public EmulatedNode {
 public:
  void Signal();
  // The counter, cleared (eventfd's read without EFD_SEMAPHORE).
  uint64_t Take();
  uint64_t signals() const;
  int OnIoctl(int, unsigned long, void*) override { return -ENOTTY; }
  int OnPoll(int fd, int64_t timeout_ns) override;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t count_ = 0;    // guarded by mu_
  uint64_t signals_ = 0;  // guarded by mu_
};

struct IoCall {
  enum Kind {
    kOpen,
    kClose,
    kIoctl,
    kMmap,
    kMunmap,
    kReadFile,
    kListDir,
    kPoll,
    kWriteFile,
    kPread,
    kPwrite
  };
  Kind kind;
  std::string path;           // node or file path ("anonymous" for anonymous mmaps)
  unsigned long request = 0;  // ioctl request
  int result = 0;             // >= 0, or -errno
};

class EmulatedKernelIo final : public KernelIo {
 public:
  static constexpr size_t kTraceLimit = 4096;

  EmulatedKernelIo() = default;
  ~EmulatedKernelIo() override;

  bool emulated() const override { return true; }

  void AddNode(const std::string& path, std::shared_ptr<EmulatedNode> node);
  void AddFile(const std::string& path, std::string contents);
  // A new fd served by `node`, for a model whose ioctl returns one (an
  // anonymous inode, as VFIO's GROUP_GET_DEVICE_FD): recorded as an open of
  // `path`; the driver closes it like any other.
  int AdoptFd(const std::string& path, std::shared_ptr<EmulatedNode> node);
  // The eventfd open as `fd` (made by KernelIo::Eventfd), or nullptr.
  std::shared_ptr<EmulatedEventfd> EventfdOf(int fd) const;
  void RemoveFile(const std::string& path);
  // A file's current contents without recording a call (for device models
  // that react to what a driver wrote): nullopt when absent.
  std::optional<std::string> FileContents(const std::string& path) const;
  // The next call of `kind` (and `request`, for ioctls; 0 matches any) fails
  // with `err` without reaching the node.
  void FailNext(IoCall::Kind kind, unsigned long request, int err);

  std::vector<IoCall> Trace() const;
  uint64_t CountOf(IoCall::Kind kind, unsigned long request = 0) const;
  // OK when every fd this seam opened is closed and every mapping unmapped;
  // else FailedPrecondition listing them.
  absl::Status CheckClean() const;

 protected:
  int DoOpen(const std::string& path, int flags) override;
  int DoClose(int fd) override;
  int DoIoctl(int fd, unsigned long request, void* arg) override;
  int DoMmap(void* addr, size_t length, int prot, int flags, int fd, uint64_t offset,
             void** out) override;
  int DoMunmap(void* addr, size_t length) override;
  int DoReadFile(const std::string& path, std::string* out) override;
  int DoListDir(const std::string& path, std::vector<std::string>* out) override;
  // Writes into an existing file (-ENOENT otherwise), growing it as needed.
  int DoWriteFile(const std::string& path, uint64_t offset, const std::string& bytes) override;
  int DoPoll(int fd, int64_t timeout_ns) override;
  int DoEventfd() override;
  int64_t DoReadEventfd(int fd) override;
  int64_t DoPread(int fd, uint64_t offset, void* out, size_t length) override;
  int64_t DoPwrite(int fd, uint64_t offset, const void* bytes, size_t length) override;

 private:
  struct Mapping {
    size_t length;
    std::shared_ptr<EmulatedNode> node;  // nullptr: anonymous
    std::string path;
  };
  struct Injection {
    IoCall::Kind kind;
    unsigned long request;
    int err;
  };
  // The node behind `fd` and its path (node nullptr when not open).
  std::pair<std::shared_ptr<EmulatedNode>, std::string> NodeOf(int fd) const;
  void Record(IoCall::Kind kind, const std::string& path, unsigned long request, int result);
  // Pops a matching injected failure: its errno, else 0. Caller holds mu_.
  int TakeInjection(IoCall::Kind kind, unsigned long request);

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<EmulatedNode>> nodes_;
  std::map<std::string, std::string> files_;
  std::map<int, std::pair<std::string, std::shared_ptr<EmulatedNode>>> fds_;
  std::map<uintptr_t, Mapping> mappings_;
  std::vector<Injection> injections_;
  std::deque<IoCall> trace_;
  std::map<std::pair<int, unsigned long>, uint64_t> counts_;
  int next_fd_ = 1000;
};

}  // namespace uop

#endif  // UOP_DRIVERS_COMMON_EMULATED_KERNEL_IO_H_
