#include "drivers/am/emulator/register_file.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace uop {

EmulatedRegisterFile::EmulatedRegisterFile(size_t bytes) : words_(bytes / 4, 0) {}

void EmulatedRegisterFile::SetDecoding(std::function<bool()> decoding) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  decoding_ = std::move(decoding);
}

void EmulatedRegisterFile::Remove() {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  removed_ = true;
}

uint32_t EmulatedRegisterFile::Get(uint32_t dword) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return dword < words_.size() ? words_[dword] : 0;
}

void EmulatedRegisterFile::Set(uint32_t dword, uint32_t value) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  if (dword < words_.size()) words_[dword] = value;
}

void EmulatedRegisterFile::OnRead(uint32_t dword, ReadHook hook) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  read_hooks_[dword] = std::move(hook);
}

void EmulatedRegisterFile::OnWrite(uint32_t dword, WriteHook hook) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  write_hooks_[dword] = std::move(hook);
}

void EmulatedRegisterFile::Violation(std::string what) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  violations_.push_back(std::move(what));
}

std::vector<std::string> EmulatedRegisterFile::violations() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return violations_;
}

absl::Status EmulatedRegisterFile::CheckNoViolations() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  if (violations_.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("the emulated GPU saw ", violations_.size(),
                   " register sequence violation(s): ", absl::StrJoin(violations_, "; ")));
}

std::vector<EmulatedRegisterFile::Access> EmulatedRegisterFile::log() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return log_;
}

std::vector<uint32_t> EmulatedRegisterFile::WritesOf(uint32_t dword) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::vector<uint32_t> out;
  for (const Access& a : log_)
    if (a.write && a.dword == dword) out.push_back(a.value);
  return out;
}

int EmulatedRegisterFile::FirstWriteOf(uint32_t dword) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  for (size_t i = 0; i < log_.size(); ++i)
    if (log_[i].write && log_[i].dword == dword) return static_cast<int>(i);
  return -1;
}

bool EmulatedRegisterFile::LiveLocked() const { return !removed_ && (!decoding_ || decoding_()); }

uint32_t EmulatedRegisterFile::Load32(uint64_t offset) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const uint32_t dword = static_cast<uint32_t>(offset / 4);
  uint32_t v = 0xFFFFFFFFu;  // master abort: nobody answers
  if (LiveLocked() && dword < words_.size()) {
    v = words_[dword];
    if (auto it = read_hooks_.find(dword); it != read_hooks_.end()) v = it->second(v);
  }
  log_.push_back({false, dword, v});
  return v;
}

void EmulatedRegisterFile::Store32(uint64_t offset, uint32_t value) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  const uint32_t dword = static_cast<uint32_t>(offset / 4);
  log_.push_back({true, dword, value});
  if (!LiveLocked() || dword >= words_.size()) return;  // dropped
  words_[dword] = value;
  if (auto it = write_hooks_.find(dword); it != write_hooks_.end()) it->second(value);
}

}  // namespace uop
