#include "drivers/am/emulator/register_file.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

void EmulatedRegisterFile::ServeIndexPair(const IndexPair& pair) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  auto [it, added] = pairs_.try_emplace(pair.data, PairState{pair});
  if (!added) return;  // already served (several models share the pair)
  const uint32_t data = pair.data;
  write_hooks_[pair.index] = [this, data](uint32_t) { pairs_.at(data).index_written = true; };
  read_hooks_[data] = [this, data](uint32_t) { return ReadExtendedLocked(data); };
  write_hooks_[data] = [this, data](uint32_t v) { WriteExtendedLocked(data, v); };
}

void EmulatedRegisterFile::AddExtended(uint64_t address, uint32_t initial) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  auto [it, added] = extended_.try_emplace(address);
  if (added) it->second.value = initial;
}

void EmulatedRegisterFile::OnExtendedRead(uint64_t address, ReadHook hook) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  extended_[address].read = std::move(hook);
}

void EmulatedRegisterFile::OnExtendedWrite(uint64_t address, WriteHook hook) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  extended_[address].write = std::move(hook);
}

uint32_t EmulatedRegisterFile::GetExtended(uint64_t address) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  auto it = extended_.find(address);
  return it == extended_.end() ? 0 : it->second.value;
}

void EmulatedRegisterFile::SetExtended(uint64_t address, uint32_t value) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  extended_[address].value = value;
}

std::vector<EmulatedRegisterFile::ExtendedAccess> EmulatedRegisterFile::extended_log() const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  return extended_log_;
}

std::vector<uint32_t> EmulatedRegisterFile::ExtendedWritesOf(uint64_t address) const {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  std::vector<uint32_t> out;
  for (const ExtendedAccess& a : extended_log_)
    if (a.write && a.address == address) out.push_back(a.value);
  return out;
}

uint64_t EmulatedRegisterFile::PairAddressLocked(const PairState& p) const {
  uint64_t address = Get(p.pair.index);
  if (p.pair.index_hi.has_value()) address |= uint64_t{Get(*p.pair.index_hi) & 0xFF} << 32;
  return address;
}

uint32_t EmulatedRegisterFile::ReadExtendedLocked(uint32_t data_dword) {
  const PairState& p = pairs_.at(data_dword);
  if (!p.index_written) {
    Violation(absl::StrFormat("%s read with no %s address written to %s", p.pair.data_name,
                              p.pair.space, p.pair.index_name));
    return 0;
  }
  const uint64_t address = PairAddressLocked(p);
  auto it = extended_.find(address);
  if (it == extended_.end()) {
    Violation(
        absl::StrFormat("%s read of 0x%08X (through %s/%s): not an address any device "
                        "model serves",
                        p.pair.space, address, p.pair.index_name, p.pair.data_name));
    extended_log_.push_back({false, address, 0});
    return 0;
  }
  uint32_t v = it->second.value;
  if (it->second.read) v = it->second.read(v);
  extended_log_.push_back({false, address, v});
  return v;
}

void EmulatedRegisterFile::WriteExtendedLocked(uint32_t data_dword, uint32_t value) {
  const PairState& p = pairs_.at(data_dword);
  if (!p.index_written) {
    Violation(absl::StrFormat("%s written (0x%X) with no %s address written to %s",
                              p.pair.data_name, value, p.pair.space, p.pair.index_name));
    return;
  }
  const uint64_t address = PairAddressLocked(p);
  extended_log_.push_back({true, address, value});
  auto it = extended_.find(address);
  if (it == extended_.end()) {
    Violation(
        absl::StrFormat("%s write of 0x%X to 0x%08X (through %s/%s): not an address any "
                        "device model serves",
                        p.pair.space, value, address, p.pair.index_name, p.pair.data_name));
    return;
  }
  it->second.value = value;
  if (it->second.write) it->second.write(value);
}

}  // namespace uop
