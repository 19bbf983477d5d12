#include "drivers/common/emulated_kernel_io.h"

#include <sys/mman.h>

#include <cerrno>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace uop {

int EmulatedNode::OnMmap(int, void*, size_t, int, int, uint64_t, void**) { return -ENODEV; }

int EmulatedNode::OnMunmap(void* addr, size_t length) {
  return ::munmap(addr, length) == 0 ? 0 : -errno;
}

EmulatedKernelIo::~EmulatedKernelIo() {
  // Unmap what a driver leaked, so a failing test does not leak address space.
  for (auto& [addr, m] : mappings_) {
    if (m.node != nullptr) {
      m.node->OnMunmap(reinterpret_cast<void*>(addr), m.length);
    } else {
      ::munmap(reinterpret_cast<void*>(addr), m.length);
    }
  }
}

void EmulatedKernelIo::AddNode(const std::string& path, std::shared_ptr<EmulatedNode> node) {
  std::lock_guard<std::mutex> lock(mu_);
  nodes_[path] = std::move(node);
}

void EmulatedKernelIo::AddFile(const std::string& path, std::string contents) {
  std::lock_guard<std::mutex> lock(mu_);
  files_[path] = std::move(contents);
}

void EmulatedKernelIo::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(path);
}

std::optional<std::string> EmulatedKernelIo::FileContents(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  if (it == files_.end()) return std::nullopt;
  return it->second;
}

void EmulatedKernelIo::FailNext(IoCall::Kind kind, unsigned long request, int err) {
  std::lock_guard<std::mutex> lock(mu_);
  injections_.push_back({kind, request, err});
}

int EmulatedKernelIo::TakeInjection(IoCall::Kind kind, unsigned long request) {
  for (auto it = injections_.begin(); it != injections_.end(); ++it) {
    if (it->kind == kind && (it->request == 0 || it->request == request)) {
      const int err = it->err;
      injections_.erase(it);
      return err;
    }
  }
  return 0;
}

void EmulatedKernelIo::Record(IoCall::Kind kind, const std::string& path, unsigned long request,
                              int result) {
  std::lock_guard<std::mutex> lock(mu_);
  trace_.push_back({kind, path, request, result});
  if (trace_.size() > kTraceLimit) trace_.pop_front();
  ++counts_[{static_cast<int>(kind), request}];
  if (request != 0) ++counts_[{static_cast<int>(kind), 0}];
}

std::vector<IoCall> EmulatedKernelIo::Trace() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::vector<IoCall>(trace_.begin(), trace_.end());
}

uint64_t EmulatedKernelIo::CountOf(IoCall::Kind kind, unsigned long request) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counts_.find({static_cast<int>(kind), request});
  return it == counts_.end() ? 0 : it->second;
}

absl::Status EmulatedKernelIo::CheckClean() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> leaks;
  for (const auto& [fd, f] : fds_) leaks.push_back(absl::StrCat("fd ", fd, " (", f.first, ")"));
  for (const auto& [addr, m] : mappings_) {
    leaks.push_back(absl::StrFormat("mapping of %u bytes at 0x%x (%s)", m.length, addr, m.path));
  }
  if (leaks.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("emulated kernel: still open: ", absl::StrJoin(leaks, ", ")));
}

int EmulatedKernelIo::DoOpen(const std::string& path, int flags) {
  std::shared_ptr<EmulatedNode> node;
  int fd = -ENOENT;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (int err = TakeInjection(IoCall::kOpen, 0); err != 0) {
      fd = -err;
    } else if (auto it = nodes_.find(path); it != nodes_.end()) {
      node = it->second;
      fd = next_fd_++;
    }
  }
  if (node != nullptr) {
    const int r = node->OnOpen(fd, flags);
    if (r < 0) {
      fd = r;
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      fds_[fd] = {path, node};
    }
  }
  Record(IoCall::kOpen, path, 0, fd);
  return fd;
}

int EmulatedKernelIo::AdoptFd(const std::string& path, std::shared_ptr<EmulatedNode> node) {
  int fd;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fd = next_fd_++;
    fds_[fd] = {path, std::move(node)};
  }
  Record(IoCall::kOpen, path, 0, fd);
  return fd;
}

void EmulatedEventfd::Signal() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++count_;
    ++signals_;
  }
  cv_.notify_all();
}

uint64_t EmulatedEventfd::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t c = count_;
  count_ = 0;
  return c;
}

uint64_t EmulatedEventfd::signals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return signals_;
}

int EmulatedEventfd::OnPoll(int, int64_t timeout_ns) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns), [&] { return count_ > 0; }) ? 1
                                                                                              : 0;
}

int EmulatedKernelIo::DoEventfd() {
  return AdoptFd("eventfd", std::make_shared<EmulatedEventfd>());
}

int64_t EmulatedKernelIo::DoReadEventfd(int fd) {
  std::shared_ptr<EmulatedEventfd> e = EventfdOf(fd);
  return e == nullptr ? -EINVAL : static_cast<int64_t>(e->Take());
}

std::shared_ptr<EmulatedEventfd> EmulatedKernelIo::EventfdOf(int fd) const {
  return std::dynamic_pointer_cast<EmulatedEventfd>(NodeOf(fd).first);
}

std::pair<std::shared_ptr<EmulatedNode>, std::string> EmulatedKernelIo::NodeOf(int fd) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = fds_.find(fd);
  if (it == fds_.end()) return {nullptr, absl::StrCat("fd ", fd)};
  return {it->second.second, it->second.first};
}

int64_t EmulatedKernelIo::DoPread(int fd, uint64_t offset, void* out, size_t length) {
  auto [node, path] = NodeOf(fd);
  int64_t r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    r = -static_cast<int64_t>(TakeInjection(IoCall::kPread, 0));
  }
  if (r == 0) r = node == nullptr ? -EBADF : node->OnPread(fd, offset, out, length);
  Record(IoCall::kPread, path, 0, static_cast<int>(r));
  return r;
}

int64_t EmulatedKernelIo::DoPwrite(int fd, uint64_t offset, const void* bytes, size_t length) {
  auto [node, path] = NodeOf(fd);
  int64_t r;
  {
    std::lock_guard<std::mutex> lock(mu_);
    r = -static_cast<int64_t>(TakeInjection(IoCall::kPwrite, 0));
  }
  if (r == 0) r = node == nullptr ? -EBADF : node->OnPwrite(fd, offset, bytes, length);
  Record(IoCall::kPwrite, path, 0, static_cast<int>(r));
  return r;
}

int EmulatedKernelIo::DoClose(int fd) {
  std::shared_ptr<EmulatedNode> node;
  std::string path;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = fds_.find(fd);
    if (it != fds_.end()) {
      path = it->second.first;
      node = it->second.second;
      fds_.erase(it);
    }
  }
  if (node == nullptr) {
    Record(IoCall::kClose, absl::StrCat("fd ", fd), 0, -EBADF);
    return -EBADF;
  }
  node->OnClose(fd);
  Record(IoCall::kClose, path, 0, 0);
  return 0;
}

int EmulatedKernelIo::DoIoctl(int fd, unsigned long request, void* arg) {
  std::shared_ptr<EmulatedNode> node;
  std::string path;
  int injected = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = fds_.find(fd);
    if (it != fds_.end()) {
      path = it->second.first;
      node = it->second.second;
    }
    injected = TakeInjection(IoCall::kIoctl, request);
  }
  int r;
  if (node == nullptr) {
    r = -EBADF;
  } else if (injected != 0) {
    r = -injected;
  } else {
    r = node->OnIoctl(fd, request, arg);
  }
  Record(IoCall::kIoctl, node == nullptr ? absl::StrCat("fd ", fd) : path, request, r);
  return r;
}

int EmulatedKernelIo::DoPoll(int fd, int64_t timeout_ns) {
  std::shared_ptr<EmulatedNode> node;
  std::string path;
  int injected = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = fds_.find(fd);
    if (it != fds_.end()) {
      path = it->second.first;
      node = it->second.second;
    }
    injected = TakeInjection(IoCall::kPoll, 0);
  }
  int r;
  if (node == nullptr) {
    r = -EBADF;
  } else if (injected != 0) {
    r = -injected;
  } else {
    r = node->OnPoll(fd, timeout_ns);
  }
  Record(IoCall::kPoll, node == nullptr ? absl::StrCat("fd ", fd) : path, 0, r);
  return r;
}

int EmulatedKernelIo::DoMmap(void* addr, size_t length, int prot, int flags, int fd,
                             uint64_t offset, void** out) {
  std::shared_ptr<EmulatedNode> node;
  std::string path = "anonymous";
  int injected = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    injected = TakeInjection(IoCall::kMmap, 0);
    if (fd >= 0) {
      auto it = fds_.find(fd);
      if (it != fds_.end()) {
        path = it->second.first;
        node = it->second.second;
      } else {
        path = absl::StrCat("fd ", fd);
      }
    }
  }
  int r = 0;
  if (injected != 0) {
    r = -injected;
  } else if (fd >= 0 && node == nullptr) {
    r = -EBADF;
  } else if (node != nullptr) {
    r = node->OnMmap(fd, addr, length, prot, flags, offset, out);
  } else {
    void* p = ::mmap(addr, length, prot, flags | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      r = -errno;
    } else {
      *out = p;
    }
  }
  if (r >= 0) {
    std::lock_guard<std::mutex> lock(mu_);
    // A fixed mapping over an earlier one (a reserved range) replaces it.
    mappings_[reinterpret_cast<uintptr_t>(*out)] = {length, node, path};
  }
  Record(IoCall::kMmap, path, 0, r);
  return r;
}

int EmulatedKernelIo::DoMunmap(void* addr, size_t length) {
  Mapping m;
  bool found = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = mappings_.find(reinterpret_cast<uintptr_t>(addr));
    if (it != mappings_.end() && it->second.length == length) {
      m = it->second;
      mappings_.erase(it);
      found = true;
    }
  }
  // The emulator supports unmapping whole mappings only: anything else is a
  // driver bug worth failing loudly on.
  int r = -EINVAL;
  if (found)
    r = m.node != nullptr ? m.node->OnMunmap(addr, length)
                          : (::munmap(addr, length) == 0 ? 0 : -errno);
  Record(IoCall::kMunmap, found ? m.path : "unknown mapping", 0, r);
  return r;
}

int EmulatedKernelIo::DoReadFile(const std::string& path, std::string* out) {
  int r = -ENOENT;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (int err = TakeInjection(IoCall::kReadFile, 0); err != 0) {
      r = -err;
    } else if (auto it = files_.find(path); it != files_.end()) {
      *out = it->second;
      r = 0;
    }
  }
  Record(IoCall::kReadFile, path, 0, r);
  return r;
}

int EmulatedKernelIo::DoWriteFile(const std::string& path, uint64_t offset,
                                  const std::string& bytes) {
  int r = -ENOENT;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (int err = TakeInjection(IoCall::kWriteFile, 0); err != 0) {
      r = -err;
    } else if (auto it = files_.find(path); it != files_.end()) {
      std::string& f = it->second;
      if (f.size() < offset + bytes.size()) f.resize(offset + bytes.size(), '\0');
      f.replace(offset, bytes.size(), bytes);
      r = 0;
    }
  }
  Record(IoCall::kWriteFile, path, 0, r);
  return r;
}

int EmulatedKernelIo::DoListDir(const std::string& path, std::vector<std::string>* out) {
  std::string prefix = path;
  if (prefix.empty() || prefix.back() != '/') prefix += '/';
  bool any = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto add = [&](const std::string& p) {
      absl::string_view rest = p;
      if (!absl::ConsumePrefix(&rest, prefix) || rest.empty()) return;
      std::string child(rest.substr(0, rest.find('/')));
      any = true;
      if (out->empty() || out->back() != child) {
        bool seen = false;
        for (const std::string& c : *out) seen |= c == child;
        if (!seen) out->push_back(child);
      }
    };
    for (const auto& [p, contents] : files_) add(p);
    for (const auto& [p, node] : nodes_) add(p);
  }
  const int r = any ? 0 : -ENOENT;
  Record(IoCall::kListDir, path, 0, r);
  return r;
}

}  // namespace uop
