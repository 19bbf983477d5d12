// AmDeviceLock: real flocks on files in the test's temporary directory (the
// path production takes), a child process seeing the parent's lock, the
// emulated per-seam table, and bad names.
#include "drivers/am/pci/device_lock.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "drivers/common/emulated_kernel_io.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

std::string TempDir() {
  const char* d = std::getenv("TEST_TMPDIR");
  return d != nullptr ? d : "/tmp";
}

TEST(AmDeviceLock, SecondHolderIsRefusedUntilTheFirstReleases) {
  KernelIo& io = KernelIo::Real();
  const std::string dir = TempDir();
  absl::StatusOr<std::unique_ptr<AmDeviceLock>> first =
      AmDeviceLock::Acquire(io, dir, "0000:0a:00.0");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)->path(), dir + "/am_0000:0a:00.0.lock");
  // tinygrad's name; created world-writable so another user can lock it.
  struct stat st;
  ASSERT_EQ(::stat((*first)->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0666u);

  // Another open file description (as another process has) is refused.
  absl::StatusOr<std::unique_ptr<AmDeviceLock>> second =
      AmDeviceLock::Acquire(io, dir, "0000:0a:00.0");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("0000:0a:00.0 is in use"), std::string::npos)
      << second.status();
  // Another GPU is not.
  absl::StatusOr<std::unique_ptr<AmDeviceLock>> other =
      AmDeviceLock::Acquire(io, dir, "0000:0b:00.0");
  EXPECT_TRUE(other.ok()) << other.status();

  first->reset();  // released: the existing file is opened and locked again
  second = AmDeviceLock::Acquire(io, dir, "0000:0a:00.0");
  EXPECT_TRUE(second.ok()) << second.status();
}

TEST(AmDeviceLock, AnotherProcessSeesTheLockAndTakesItAfterExit) {
  KernelIo& io = KernelIo::Real();
  const std::string dir = TempDir();
  absl::StatusOr<std::unique_ptr<AmDeviceLock>> held =
      AmDeviceLock::Acquire(io, dir, "0000:0c:00.0");
  ASSERT_TRUE(held.ok()) << held.status();
  auto child = [&]() -> int {
    const pid_t pid = ::fork();
    if (pid == 0) {
      absl::StatusOr<std::unique_ptr<AmDeviceLock>> l =
          AmDeviceLock::Acquire(io, dir, "0000:0c:00.0");
      ::_exit(l.ok() ? 0 : l.status().code() == absl::StatusCode::kUnavailable ? 1 : 2);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(child(), 1);  // in use
  held->reset();
  EXPECT_EQ(child(), 0);  // free; the child's exit released it again
  EXPECT_TRUE(AmDeviceLock::Acquire(io, dir, "0000:0c:00.0").ok());
}

TEST(AmDeviceLock, EmulatedSeamsAreSeparateMachines) {
  EmulatedKernelIo a, b;
  absl::StatusOr<std::unique_ptr<AmDeviceLock>> la =
      AmDeviceLock::Acquire(a, "/tmp", "0000:03:00.0");
  ASSERT_TRUE(la.ok()) << la.status();
  // The same BDF on another emulated machine is free; on the same one not.
  EXPECT_TRUE(AmDeviceLock::Acquire(b, "/tmp", "0000:03:00.0").ok());
  absl::StatusOr<std::unique_ptr<AmDeviceLock>> again =
      AmDeviceLock::Acquire(a, "/tmp", "0000:03:00.0");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(again.status().message().find("in use"), std::string::npos);
  la->reset();
  EXPECT_TRUE(AmDeviceLock::Acquire(a, "/tmp", "0000:03:00.0").ok());
  // Nothing touched the file system or the seam.
  EXPECT_EQ(a.Trace().size(), 0u);
}

TEST(AmDeviceLock, RefusesNamesThatAreNotAPciAddress) {
  KernelIo& io = KernelIo::Real();
  for (const char* bad : {"", "../../etc/passwd", "0000:03:00.0/x"}) {
    absl::StatusOr<std::unique_ptr<AmDeviceLock>> l = AmDeviceLock::Acquire(io, TempDir(), bad);
    ASSERT_FALSE(l.ok()) << bad;
    EXPECT_EQ(l.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(AmDeviceLock::Acquire(io, "", "0000:03:00.0").status().code(),
            absl::StatusCode::kInvalidArgument);
  // A directory that does not exist: the open's error names the file.
  absl::StatusOr<std::unique_ptr<AmDeviceLock>> l =
      AmDeviceLock::Acquire(io, TempDir() + "/no/such/dir", "0000:03:00.0");
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(l.status().message().find("am_0000:03:00.0.lock"), std::string::npos) << l.status();
}

}  // namespace
}  // namespace uop
