#include "drivers/cuda/cuda_binary.h"

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace uop::cuda {
namespace {

constexpr char kMagic[8] = {'U', 'O', 'P', 'C', 'U', 'B', 'I', 'N'};
constexpr size_t kHeaderBytes = sizeof(kMagic) + 4 * sizeof(uint32_t);
constexpr absl::string_view kAbiPrefix = "// uop-abi:";
constexpr int kMaxParams = 4096;

void PutU32(std::string& out, uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);
  out.append(b, 4);
}

uint32_t GetU32(absl::string_view in, size_t at) {
  uint32_t v;
  std::memcpy(&v, in.data() + at, 4);
  return v;
}

}  // namespace

absl::StatusOr<KernelAbi> ParseKernelAbi(absl::string_view source) {
  size_t at = source.find(kAbiPrefix);
  if (at == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "CUDA kernel source has no '// uop-abi: globals=G vars=V shared=S' line");
  }
  absl::string_view line = source.substr(at + kAbiPrefix.size());
  line = line.substr(0, line.find('\n'));
  KernelAbi abi;
  int seen = 0;
  for (absl::string_view field : absl::StrSplit(line, ' ', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(field, '=');
    int value;
    if (!absl::SimpleAtoi(kv.second, &value) || value < 0) {
      return absl::InvalidArgumentError(absl::StrCat("CUDA kernel source: bad uop-abi field '",
                                                     field, "' (want name=non-negative int)"));
    }
    if (kv.first == "globals") {
      abi.globals = value, seen |= 1;
    } else if (kv.first == "vars") {
      abi.vars = value, seen |= 2;
    } else if (kv.first == "shared") {
      abi.shared_bytes = value, seen |= 4;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("CUDA kernel source: unknown uop-abi field '", kv.first, "'"));
    }
  }
  if (seen != 7) {
    return absl::InvalidArgumentError(absl::StrCat("CUDA kernel source: uop-abi line '",
                                                   absl::StripAsciiWhitespace(line),
                                                   "' lacks one of globals, vars, shared"));
  }
  if (abi.globals > kMaxParams || abi.vars > kMaxParams) {
    return absl::InvalidArgumentError("CUDA kernel source: too many kernel parameters");
  }
  return abi;
}

std::string PackBinary(const KernelAbi& abi, absl::string_view cubin) {
  std::string out(kMagic, sizeof(kMagic));
  out.reserve(kHeaderBytes + cubin.size());
  PutU32(out, kBinaryFormatVersion);
  PutU32(out, static_cast<uint32_t>(abi.globals));
  PutU32(out, static_cast<uint32_t>(abi.vars));
  PutU32(out, static_cast<uint32_t>(abi.shared_bytes));
  out.append(cubin.data(), cubin.size());
  return out;
}

absl::StatusOr<UnpackedBinary> UnpackBinary(absl::string_view binary) {
  if (binary.size() < kHeaderBytes || std::memcmp(binary.data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::InvalidArgumentError("not a uop CUDA kernel binary (bad magic)");
  }
  if (GetU32(binary, 8) != kBinaryFormatVersion) {
    return absl::InvalidArgumentError(absl::StrCat("uop CUDA kernel binary has format version ",
                                                   GetU32(binary, 8), ", this build reads ",
                                                   kBinaryFormatVersion));
  }
  UnpackedBinary u;
  const uint32_t globals = GetU32(binary, 12), vars = GetU32(binary, 16),
                 shared = GetU32(binary, 20);
  if (globals > kMaxParams || vars > kMaxParams || shared > (1u << 24)) {
    return absl::InvalidArgumentError("uop CUDA kernel binary: implausible header values");
  }
  u.abi = KernelAbi{static_cast<int>(globals), static_cast<int>(vars), static_cast<int>(shared)};
  u.cubin = binary.substr(kHeaderBytes);
  if (u.cubin.size() < 4 || u.cubin.substr(0, 4) != absl::string_view("\x7f"
                                                                      "ELF",
                                                                      4)) {
    return absl::InvalidArgumentError("uop CUDA kernel binary: no ELF cubin after the header");
  }
  return u;
}

}  // namespace uop::cuda
