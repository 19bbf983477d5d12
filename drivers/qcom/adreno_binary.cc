#include "drivers/qcom/adreno_binary.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

constexpr uint32_t kRegDescOffset = 0x34;
constexpr uint32_t kConstOffset = 0xac;
constexpr uint32_t kConstCount = 0xb0;
constexpr uint32_t kImageOffset = 0xc0;
constexpr uint32_t kImageSize = 0x100;
constexpr uint32_t kImageDescOffset = 0x110;
constexpr uint32_t kArgDescBytes = 32;
constexpr uint32_t kConstRecordBytes = 40;

uint64_t RoundUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

class Reader {
 public:
  Reader(absl::string_view b, absl::string_view name) : b_(b), name_(name) {}
  absl::StatusOr<uint32_t> U32(uint64_t off, const char* what) const {
    if (off > b_.size() || b_.size() - off < 4) {
      return absl::InvalidArgumentError(absl::StrCat("Adreno binary of kernel '", name_,
                                                     "': ", what, " at offset ", off,
                                                     " lies past its ", b_.size(), " bytes"));
    }
    uint32_t v;
    std::memcpy(&v, b_.data() + off, 4);
    return v;
  }
  absl::Status Bad(const std::string& why) const {
    return absl::InvalidArgumentError(absl::StrCat("Adreno binary of kernel '", name_, "': ", why));
  }
  size_t size() const { return b_.size(); }

 private:
  absl::string_view b_;
  absl::string_view name_;
};

void Put32(std::string* s, size_t off, uint32_t v) {
  if (s->size() < off + 4) s->resize(off + 4, '\0');
  std::memcpy(s->data() + off, &v, 4);
}

}  // namespace

absl::StatusOr<AdrenoProgramInfo> ParseAdrenoBinary(absl::string_view binary,
                                                    absl::string_view name) {
  Reader r(binary, name);
  AdrenoProgramInfo info;
  ASSIGN_OR_RETURN(uint32_t image_off, r.U32(kImageOffset, "image offset"));
  ASSIGN_OR_RETURN(uint32_t image_size, r.U32(kImageSize, "image size"));
  if (image_size == 0 || image_size % 4 != 0 || image_off > binary.size() ||
      binary.size() - image_off < image_size) {
    return r.Bad(absl::StrCat("instruction image of ", image_size, " bytes at offset ", image_off,
                              " does not fit its ", binary.size(),
                              " bytes (or is not whole dwords)"));
  }
  info.image = binary.substr(image_off, image_size);

  ASSIGN_OR_RETURN(uint32_t desc, r.U32(kImageDescOffset, "image descriptor offset"));
  ASSIGN_OR_RETURN(info.first_exec_offset, r.U32(uint64_t{desc} + 0xc4, "first exec offset"));
  ASSIGN_OR_RETURN(info.private_bytes, r.U32(uint64_t{desc} + 0xc8, "private memory size"));
  ASSIGN_OR_RETURN(info.shared_bytes, r.U32(uint64_t{desc} + 0xd8, "shared memory size"));
  ASSIGN_OR_RETURN(info.samplers, r.U32(uint64_t{desc} + 0xdc, "sampler count"));
  ASSIGN_OR_RETURN(uint32_t branch, r.U32(uint64_t{desc} + 0x108, "branch stack"));
  info.branch_stack = branch / 2;
  if (info.samplers > 1) return r.Bad(absl::StrCat(info.samplers, " samplers (at most 1)"));

  // Argument descriptors, in parameter order.
  uint64_t at = RoundUp(uint64_t{desc} + 0x158 + name.size(), 4) + 8 * uint64_t{info.samplers};
  while (at + kArgDescBytes <= binary.size()) {
    ASSIGN_OR_RETURN(uint32_t length, r.U32(at, "argument descriptor length"));
    if (length == 0) break;
    if (length < kArgDescBytes) {
      return r.Bad(absl::StrCat("argument descriptor at ", at, " claims ", length, " bytes"));
    }
    ASSIGN_OR_RETURN(uint32_t offset_words, r.U32(at + 12, "argument offset"));
    ASSIGN_OR_RETURN(uint32_t type, r.U32(at + 28, "argument type"));
    if (type == kAdrenoArgTexture) {
      ++info.textures;
    } else if (type == kAdrenoArgImage) {
      ++info.images;
    } else {
      info.arg_offsets.push_back(offset_words * 4);
    }
    at += length;
  }

  ASSIGN_OR_RETURN(uint32_t const_count, r.U32(kConstCount, "constant count"));
  if (const_count != 0) {
    ASSIGN_OR_RETURN(uint32_t cat, r.U32(kConstOffset, "constant table offset"));
    for (uint64_t c = cat; c + kConstRecordBytes <= image_off; c += kConstRecordBytes) {
      ASSIGN_OR_RETURN(uint32_t value, r.U32(c, "constant value"));
      ASSIGN_OR_RETURN(uint32_t offset, r.U32(c + 16, "constant offset"));
      ASSIGN_OR_RETURN(uint32_t is32, r.U32(c + 24, "constant width"));
      const uint32_t bytes = 2u << (is32 != 0 ? 1 : 0);
      info.constants.push_back({value, offset * bytes, bytes});
    }
  }

  ASSIGN_OR_RETURN(uint32_t regs, r.U32(kRegDescOffset, "register descriptor offset"));
  ASSIGN_OR_RETURN(info.full_regs, r.U32(uint64_t{regs} + 0x14, "full register count"));
  ASSIGN_OR_RETURN(info.half_regs, r.U32(uint64_t{regs} + 0x18, "half register count"));
  return info;
}

std::string BuildAdrenoBinary(absl::string_view image, absl::string_view name,
                              const std::vector<uint32_t>& arg_offsets, uint32_t full_regs,
                              uint32_t half_regs) {
  constexpr uint32_t kRegs = 0x200, kDesc = 0x300;
  std::string b(kDesc + 0x158, '\0');
  Put32(&b, kRegDescOffset, kRegs);
  Put32(&b, kRegs + 0x14, full_regs);
  Put32(&b, kRegs + 0x18, half_regs);
  Put32(&b, kImageDescOffset, kDesc);
  b.append(name.data(), name.size());
  b.resize(RoundUp(b.size(), 4), '\0');
  for (uint32_t off : arg_offsets) {
    const size_t at = b.size();
    Put32(&b, at, kArgDescBytes);
    Put32(&b, at + 12, off / 4);
    Put32(&b, at + 28, kAdrenoArgBuffer);
  }
  b.resize(b.size() + kArgDescBytes, '\0');  // terminator
  b.resize(RoundUp(b.size(), 256), '\0');
  const uint32_t image_off = static_cast<uint32_t>(b.size());
  const uint32_t image_size = static_cast<uint32_t>(RoundUp(image.size(), 128));
  b.append(image.data(), image.size());
  b.resize(image_off + image_size, '\0');
  Put32(&b, kImageOffset, image_off);
  Put32(&b, kImageSize, image_size);
  return b;
}

}  // namespace uop
