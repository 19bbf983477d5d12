#include "drivers/am/pci/indirect_regs.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

// Keeps the code of a register access error and says which indirect access
// it was part of.
absl::Status Annotate(const absl::Status& s, const std::string& what) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
}

std::string Describe(const char* op, uint64_t address) {
  return absl::StrFormat("indirect %s of 0x%X", op, address);
}

}  // namespace

absl::Status AmIndirectRegs::CheckAddress(uint64_t address, const char* op) const {
  if (address % 4 != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: not a 4-byte-aligned register address", Describe(op, address)));
  }
  if (address >> 32 != 0 && !pair_.index_hi.has_value()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %s/%s carry 32-bit addresses only (NBIO 4.3 has no index-hi for this pair in "
        "Linux's nbio_v4_3)",
        Describe(op, address), pair_.index.name, pair_.data.name));
  }
  if (address >> 40 != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: past the 40 address bits %s/%s can express", Describe(op, address),
                        pair_.index.name, pair_.index_hi->name));
  }
  return absl::OkStatus();
}

absl::Status AmIndirectRegs::SelectLocked(uint64_t address) {
  RETURN_IF_ERROR(regs_.Write(pair_.index, static_cast<uint32_t>(address)));
  // The read-back posts the index write before the data access
  // (amdgpu_device_indirect_rreg_ext's readl of the index).
  RETURN_IF_ERROR(regs_.Read(pair_.index).status());
  if (address >> 32 != 0) {
    RETURN_IF_ERROR(regs_.Write(*pair_.index_hi, static_cast<uint32_t>(address >> 32) & 0xFF));
    RETURN_IF_ERROR(regs_.Read(*pair_.index_hi).status());
  }
  return absl::OkStatus();
}

absl::Status AmIndirectRegs::DeselectLocked(uint64_t address) {
  if (address >> 32 == 0) return absl::OkStatus();
  // Linux clears the high bits so the next 32-bit user does not inherit them.
  RETURN_IF_ERROR(regs_.Write(*pair_.index_hi, 0));
  return regs_.Read(*pair_.index_hi).status();
}

absl::StatusOr<uint32_t> AmIndirectRegs::ReadLocked(uint64_t address) {
  const std::string what = Describe("read", address);
  RETURN_IF_ERROR(Annotate(CheckAddress(address, "read"), "AM"));
  RETURN_IF_ERROR(Annotate(SelectLocked(address), what));
  absl::StatusOr<uint32_t> v = regs_.Read(pair_.data);
  if (!v.ok()) return Annotate(v.status(), what);
  RETURN_IF_ERROR(Annotate(DeselectLocked(address), what));
  return *v;
}

absl::Status AmIndirectRegs::WriteLocked(uint64_t address, uint32_t value) {
  const std::string what = absl::StrFormat("%s (0x%X)", Describe("write", address), value);
  RETURN_IF_ERROR(Annotate(CheckAddress(address, "write"), "AM"));
  RETURN_IF_ERROR(Annotate(SelectLocked(address), what));
  RETURN_IF_ERROR(Annotate(regs_.Write(pair_.data, value), what));
  // amdgpu_device_indirect_wreg_ext reads the data back: the write has
  // reached the register before the pair is reused.
  RETURN_IF_ERROR(Annotate(regs_.Read(pair_.data).status(), what));
  return Annotate(DeselectLocked(address), what);
}

absl::StatusOr<uint32_t> AmIndirectRegs::Read(uint64_t address) {
  std::lock_guard<std::mutex> lock(mu_);
  return ReadLocked(address);
}

absl::Status AmIndirectRegs::Write(uint64_t address, uint32_t value) {
  std::lock_guard<std::mutex> lock(mu_);
  return WriteLocked(address, value);
}

bool AmIndirectRegs::IsIndirect(const AmReg& reg) const {
  return regs_.map().ByteOffset(reg) + 4 > regs_.bar().size();
}

absl::StatusOr<uint32_t> AmIndirectRegs::ReadRegLocked(const AmReg& reg) {
  if (!IsIndirect(reg)) return regs_.Read(reg);
  absl::StatusOr<uint32_t> v = ReadLocked(regs_.map().ByteOffset(reg));
  if (!v.ok()) return Annotate(v.status(), reg.name);
  return *v;
}

absl::Status AmIndirectRegs::WriteRegLocked(const AmReg& reg, uint32_t value) {
  if (!IsIndirect(reg)) return regs_.Write(reg, value);
  return Annotate(WriteLocked(regs_.map().ByteOffset(reg), value), reg.name);
}

absl::StatusOr<uint32_t> AmIndirectRegs::ReadReg(const AmReg& reg) {
  std::lock_guard<std::mutex> lock(mu_);
  return ReadRegLocked(reg);
}

absl::Status AmIndirectRegs::WriteReg(const AmReg& reg, uint32_t value) {
  std::lock_guard<std::mutex> lock(mu_);
  return WriteRegLocked(reg, value);
}

absl::Status AmIndirectRegs::UpdateReg(const AmReg& reg, uint32_t clear, uint32_t set) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(uint32_t v, ReadRegLocked(reg));
  return WriteRegLocked(reg, (v & ~clear) | set);
}

}  // namespace uop
