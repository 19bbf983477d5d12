#include "drivers/common/kernel_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "drivers/common/emulated_kernel_io.h"
#include "drivers/common/ioctl.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

struct Args {
  uint32_t in;
  uint32_t out;
};
constexpr unsigned long kDouble = IoWR<Args>('T', 1);
constexpr unsigned long kFails = IoW<Args>('T', 2);

// Doubles `in` into `out`; maps 4 KiB of a private page at any offset.
class DoublerNode : public EmulatedNode {
 public:
  int OnIoctl(int, unsigned long request, void* arg) override {
    if (request == kFails) return -EINVAL;
    if (request != kDouble) return -ENOTTY;
    auto* a = static_cast<Args*>(arg);
    a->out = a->in * 2;
    return 0;
  }
  int OnMmap(int, void* addr, size_t length, int prot, int flags, uint64_t, void** out) override {
    void* p = ::mmap(addr, length, prot, MAP_PRIVATE | MAP_ANONYMOUS | (flags & MAP_FIXED), -1, 0);
    if (p == MAP_FAILED) return -errno;
    *out = p;
    return 0;
  }
};

TEST(IoctlNumbers, MatchTheKernelEncoding) {
  // _IOWR('K', 0x16, 40-byte struct) as the kernel computes it.
  struct Forty {
    char b[40];
  };
  EXPECT_EQ(IoWR<Forty>('K', 0x16), 0xC0284B16ul);
  EXPECT_EQ(IoW<Forty>('K', 0x17), 0x40284B17ul);
  EXPECT_EQ(IoR<Args>('K', 0x01), 0x80084B01ul);
  EXPECT_EQ(IocNr(kDouble), 1u);
  EXPECT_EQ(IocType(kDouble), unsigned{'T'});
  EXPECT_EQ(IocSize(kDouble), sizeof(Args));
  EXPECT_EQ(IocDir(kDouble), kIocRead | kIocWrite);
}

TEST(RealKernelIo, OpensReadsListsAndMaps) {
  KernelIo& io = KernelIo::Real();
  EXPECT_FALSE(io.emulated());
  absl::StatusOr<int> fd = io.Open("/dev/null", O_RDWR);
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(io.PathOf(*fd), "/dev/null");
  Args a{};
  absl::Status st = io.Ioctl(*fd, kDouble, &a, "TEST_DOUBLE");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);  // ENOTTY
  EXPECT_NE(st.message().find("TEST_DOUBLE"), absl::string_view::npos) << st;
  EXPECT_NE(st.message().find("/dev/null"), absl::string_view::npos) << st;
  EXPECT_EQ(io.IoctlErrno(*fd, kDouble, &a), ENOTTY);
  EXPECT_TRUE(io.Close(*fd).ok());

  absl::StatusOr<std::string> status = io.ReadFile("/proc/self/status");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_NE(status->find("Pid:"), std::string::npos);
  absl::StatusOr<std::vector<std::string>> entries = io.ListDir("/proc/self");
  ASSERT_TRUE(entries.ok());
  EXPECT_NE(std::find(entries->begin(), entries->end(), "status"), entries->end());

  absl::StatusOr<void*> p =
      io.Mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, "scratch");
  ASSERT_TRUE(p.ok()) << p.status();
  static_cast<char*>(*p)[8191] = 1;
  EXPECT_TRUE(io.Munmap(*p, 8192).ok());
}

TEST(RealKernelIo, ErrorsNameTheCallAndMapErrno) {
  KernelIo& io = KernelIo::Real();
  absl::StatusOr<int> fd = io.Open("/nonexistent/kgsl-3d0", O_RDWR);
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(fd.status().message().find("/nonexistent/kgsl-3d0"), absl::string_view::npos);
  EXPECT_NE(fd.status().message().find("ENOENT"), absl::string_view::npos);
  EXPECT_EQ(ErrnoStatus(ENOMEM, "x").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoStatus(ETIMEDOUT, "x").code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ErrnoStatus(ENODEV, "x").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrnoStatus(EACCES, "x").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(io.Close(12345).code(), absl::StatusCode::kInvalidArgument);  // EBADF
}

TEST(EmulatedKernelIo, RoutesCallsToNodesAndRecordsThem) {
  EmulatedKernelIo io;
  EXPECT_TRUE(io.emulated());
  io.AddNode("/dev/test0", std::make_shared<DoublerNode>());
  io.AddFile("/sys/class/test/test0/model", "T1000\n");
  absl::StatusOr<int> fd = io.Open("/dev/test0", O_RDWR);
  ASSERT_TRUE(fd.ok()) << fd.status();
  Args a{21, 0};
  ASSERT_TRUE(io.Ioctl(*fd, kDouble, &a, "TEST_DOUBLE").ok());
  EXPECT_EQ(a.out, 42u);
  EXPECT_EQ(io.Ioctl(*fd, kFails, &a, "TEST_FAILS").code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<void*> p = io.Mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0, "x");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*io.ReadFile("/sys/class/test/test0/model"), "T1000\n");
  EXPECT_EQ(*io.ListDir("/sys/class/test"), std::vector<std::string>{"test0"});
  EXPECT_EQ(io.ListDir("/sys/class/none").status().code(), absl::StatusCode::kNotFound);

  EXPECT_EQ(io.CountOf(IoCall::kIoctl, kDouble), 1u);
  EXPECT_EQ(io.CountOf(IoCall::kIoctl), 2u);
  std::vector<IoCall> trace = io.Trace();
  ASSERT_GE(trace.size(), 4u);
  EXPECT_EQ(trace[0].kind, IoCall::kOpen);
  EXPECT_EQ(trace[1].request, kDouble);
  EXPECT_EQ(trace[2].result, -EINVAL);

  // Leaks are reported by name, then cleaned.
  absl::Status leaks = io.CheckClean();
  EXPECT_EQ(leaks.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(leaks.message().find("/dev/test0"), absl::string_view::npos) << leaks;
  EXPECT_EQ(io.Munmap(*p, 2048).code(), absl::StatusCode::kInvalidArgument);  // partial
  EXPECT_TRUE(io.Munmap(*p, 4096).ok());
  EXPECT_TRUE(io.Close(*fd).ok());
  EXPECT_TRUE(io.CheckClean().ok()) << io.CheckClean();
}

TEST(EmulatedKernelIo, InjectedFailuresHitTheNextMatchingCall) {
  EmulatedKernelIo io;
  io.AddNode("/dev/test0", std::make_shared<DoublerNode>());
  io.FailNext(IoCall::kOpen, 0, EACCES);
  EXPECT_EQ(io.Open("/dev/test0", O_RDWR).status().code(), absl::StatusCode::kPermissionDenied);
  absl::StatusOr<int> fd = io.Open("/dev/test0", O_RDWR);
  ASSERT_TRUE(fd.ok());
  io.FailNext(IoCall::kIoctl, kDouble, ENOMEM);
  Args a{1, 0};
  EXPECT_EQ(io.Ioctl(*fd, kDouble, &a, "TEST_DOUBLE").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(a.out, 0u);  // never reached the node
  EXPECT_TRUE(io.Ioctl(*fd, kDouble, &a, "TEST_DOUBLE").ok());
  EXPECT_EQ(a.out, 2u);
  EXPECT_EQ(io.Ioctl(999, kDouble, &a, "TEST_DOUBLE").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(io.Open("/dev/absent", O_RDWR).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(io.Close(*fd).ok());
}

TEST(RealKernelIo, PollWaitsForReadableAndRejectsUnboundedWaits) {
  KernelIo& io = KernelIo::Real();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  absl::StatusOr<bool> r = io.Poll(fds[0], absl::ZeroDuration());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(*r);
  const absl::Time t0 = absl::Now();
  r = io.Poll(fds[0], absl::Milliseconds(5));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(*r);
  EXPECT_GE(absl::Now() - t0, absl::Milliseconds(4));
  ASSERT_EQ(write(fds[1], "x", 1), 1);
  r = io.Poll(fds[0], absl::Seconds(5));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(*r);
  EXPECT_EQ(io.Poll(fds[0], absl::InfiniteDuration()).status().code(),
            absl::StatusCode::kInvalidArgument);
  close(fds[0]);
  close(fds[1]);
  EXPECT_FALSE(io.Poll(fds[0], absl::ZeroDuration()).ok());
}

TEST(EmulatedKernelIo, PollOfANodeWithoutEventsIsUnsupported) {
  EmulatedKernelIo io;
  class Plain : public EmulatedNode {
   public:
    int OnIoctl(int, unsigned long, void*) override { return 0; }
  };
  io.AddNode("/dev/plain", std::make_shared<Plain>());
  absl::StatusOr<int> fd = io.Open("/dev/plain", O_RDWR);
  ASSERT_TRUE(fd.ok());
  EXPECT_FALSE(io.Poll(*fd, absl::Milliseconds(1)).ok());
  EXPECT_EQ(io.CountOf(IoCall::kPoll), 1u);
  ASSERT_TRUE(io.Close(*fd).ok());
}

TEST(RealKernelIo, EventfdIsPolledAndReadAndCleared) {
  KernelIo& io = KernelIo::Real();
  absl::StatusOr<int> fd = io.Eventfd("test interrupt");
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(io.PathOf(*fd), "test interrupt");
  absl::StatusOr<uint64_t> n = io.ReadEventfd(*fd);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 0u);  // nothing signalled: 0, not EAGAIN
  absl::StatusOr<bool> ready = io.Poll(*fd, absl::Milliseconds(1));
  ASSERT_TRUE(ready.ok());
  EXPECT_FALSE(*ready);
  const uint64_t two = 2;
  ASSERT_EQ(write(*fd, &two, sizeof(two)), 8);
  ready = io.Poll(*fd, absl::Seconds(5));
  ASSERT_TRUE(ready.ok());
  EXPECT_TRUE(*ready);
  n = io.ReadEventfd(*fd);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  n = io.ReadEventfd(*fd);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  ASSERT_TRUE(io.Close(*fd).ok());
  EXPECT_FALSE(io.ReadEventfd(*fd).ok());
}

TEST(EmulatedKernelIo, EventfdIsAModelSignalledNode) {
  EmulatedKernelIo io;
  absl::StatusOr<int> fd = io.Eventfd("test interrupt");
  ASSERT_TRUE(fd.ok()) << fd.status();
  std::shared_ptr<EmulatedEventfd> e = io.EventfdOf(*fd);
  ASSERT_NE(e, nullptr);
  absl::StatusOr<bool> ready = io.Poll(*fd, absl::Milliseconds(1));
  ASSERT_TRUE(ready.ok()) << ready.status();
  EXPECT_FALSE(*ready);
  e->Signal();
  e->Signal();
  ready = io.Poll(*fd, absl::Seconds(5));
  ASSERT_TRUE(ready.ok());
  EXPECT_TRUE(*ready);
  absl::StatusOr<uint64_t> n = io.ReadEventfd(*fd);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(*io.ReadEventfd(*fd), 0u);
  EXPECT_EQ(e->signals(), 2u);
  ASSERT_TRUE(io.Close(*fd).ok());
  EXPECT_EQ(io.EventfdOf(*fd), nullptr);
  EXPECT_FALSE(io.ReadEventfd(*fd).ok());
  EXPECT_TRUE(io.CheckClean().ok());
}

TEST(RealKernelIo, WriteFileWritesAtAnOffsetOfAnExistingFile) {
  const std::string path = ::testing::TempDir() + "/write_file_test";
  KernelIo& io = KernelIo::Real();
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "abcdef", 6), 6);
  ::close(fd);
  ASSERT_TRUE(io.WriteFile(path, 2, "XY").ok());
  EXPECT_EQ(*io.ReadFile(path), "abXYef");
  absl::Status missing = io.WriteFile(path + ".absent", 0, "1");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("write_file_test.absent"), absl::string_view::npos);
  ::unlink(path.c_str());
}

TEST(EmulatedKernelIo, WriteFileChangesAnExistingFileAndIsRecorded) {
  EmulatedKernelIo io;
  io.AddFile("/sys/x/enable", "0\n");
  ASSERT_TRUE(io.WriteFile("/sys/x/enable", 0, "1").ok());
  EXPECT_EQ(io.FileContents("/sys/x/enable"), "1\n");
  ASSERT_TRUE(io.WriteFile("/sys/x/enable", 3, "zz").ok());  // grows
  EXPECT_EQ(io.FileContents("/sys/x/enable"), std::string("1\n\0zz", 5));
  EXPECT_EQ(io.WriteFile("/sys/x/absent", 0, "1").code(), absl::StatusCode::kNotFound);
  io.FailNext(IoCall::kWriteFile, 0, EACCES);
  EXPECT_EQ(io.WriteFile("/sys/x/enable", 0, "1").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(io.CountOf(IoCall::kWriteFile), 4u);
  EXPECT_FALSE(io.FileContents("/sys/x/absent").has_value());
}

TEST(RealKernelIo, PreadAndPwriteTransferExactlyAndNameShortReads) {
  const std::string path = ::testing::TempDir() + "/pread_test";
  KernelIo& io = KernelIo::Real();
  const int raw = ::open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR, 0600);
  ASSERT_GE(raw, 0);
  ::close(raw);
  absl::StatusOr<int> fd = io.Open(path, O_RDWR);
  ASSERT_TRUE(fd.ok()) << fd.status();
  ASSERT_TRUE(io.Pwrite(*fd, 4, "wxyz", 4, "a word").ok());
  char out[4] = {};
  ASSERT_TRUE(io.Pread(*fd, 5, out, 3, "three bytes").ok());
  EXPECT_EQ(std::string(out, 3), "xyz");
  absl::Status past = io.Pread(*fd, 6, out, 4, "four bytes");
  EXPECT_EQ(past.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(past.message().find("short read of 2 bytes"), absl::string_view::npos) << past;
  EXPECT_NE(past.message().find("pread_test"), absl::string_view::npos) << past;
  ASSERT_TRUE(io.Close(*fd).ok());
  ::unlink(path.c_str());
}

// Answers a value through the ioctl's result; its "open" ioctl makes a new
// fd served by a second node, as VFIO's GROUP_GET_DEVICE_FD does.
class FactoryNode : public EmulatedNode {
 public:
  explicit FactoryNode(EmulatedKernelIo* io) : io_(io) {}
  int OnIoctl(int, unsigned long request, void*) override {
    if (request == kFails) return 7;  // a value
    return io_->AdoptFd("child", std::make_shared<DoublerNode>());
  }
  int64_t OnPread(int, uint64_t offset, void* out, size_t length) override {
    std::memset(out, static_cast<int>(offset), length);
    return static_cast<int64_t>(length);
  }

 private:
  EmulatedKernelIo* io_;
};

TEST(EmulatedKernelIo, IoctlResultsNewFdsAndPreads) {
  EmulatedKernelIo io;
  io.AddNode("/dev/factory", std::make_shared<FactoryNode>(&io));
  const int fd = *io.Open("/dev/factory", O_RDWR);
  EXPECT_EQ(*io.IoctlValue(fd, kFails, nullptr, "VALUE"), 7);
  absl::StatusOr<int> child = io.IoctlFd(fd, kDouble, nullptr, "MAKE", "child of factory");
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(io.PathOf(*child), "child of factory");
  Args a{21, 0};
  ASSERT_TRUE(io.Ioctl(*child, kDouble, &a, "DOUBLE").ok());
  EXPECT_EQ(a.out, 42u);
  EXPECT_FALSE(io.CheckClean().ok());  // the child is open
  uint8_t b[3];
  ASSERT_TRUE(io.Pread(fd, 9, b, 3, "bytes").ok());
  EXPECT_EQ(b[2], 9);
  absl::Status no = io.Pwrite(fd, 0, b, 3, "bytes");  // the node takes no writes
  EXPECT_EQ(no.code(), absl::StatusCode::kInvalidArgument);
  io.FailNext(IoCall::kPread, 0, EIO);
  EXPECT_EQ(io.Pread(fd, 0, b, 1, "bytes").code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(io.CountOf(IoCall::kPread), 2u);
  ASSERT_TRUE(io.Close(*child).ok());
  ASSERT_TRUE(io.Close(fd).ok());
  EXPECT_TRUE(io.CheckClean().ok()) << io.CheckClean();
}

}  // namespace
}  // namespace uop
