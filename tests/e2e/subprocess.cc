#include "tests/e2e/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

extern char** environ;

namespace uop::e2e {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string TempPath(const std::string& suffix) {
  static std::atomic<int> counter{0};
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/child", getpid(), "_", counter++, suffix);
}

}  // namespace

Subprocess::Subprocess(const std::vector<std::string>& argv)
    : stdout_path_(TempPath(".out")), stderr_path_(TempPath(".err")) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
}

Subprocess::~Subprocess() {
  if (started() && !exited_) {
    kill(pid_, SIGKILL);
    Reap(/*block=*/true);
  }
}

bool Subprocess::Reap(bool block) {
  if (exited_) return true;
  int status = 0;
  pid_t r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r != pid_) return false;
  exited_ = true;
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return true;
}

std::string Subprocess::WaitForStdoutLine(const std::string& prefix, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (started()) {
    bool gone = Reap(/*block=*/false);  // read once more after the child exits
    for (absl::string_view line : absl::StrSplit(Stdout(), '\n')) {
      if (absl::StartsWith(line, prefix)) return std::string(line);
    }
    if (gone || absl::Now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "";
}

void Subprocess::Signal(int signal_number) {
  if (started() && !exited_) kill(pid_, signal_number);
}

int Subprocess::WaitForExit(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (started() && !Reap(/*block=*/false)) {
    if (absl::Now() > deadline) {
      kill(pid_, SIGKILL);
      Reap(/*block=*/true);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return exit_status_;
}

std::string Subprocess::Stdout() const { return ReadAll(stdout_path_); }
std::string Subprocess::Stderr() const { return ReadAll(stderr_path_); }

RunResult RunToExit(const std::vector<std::string>& argv, absl::Duration timeout) {
  Subprocess p(argv);
  int status = p.WaitForExit(timeout);
  return {status, p.Stdout(), p.Stderr()};
}

}  // namespace uop::e2e
