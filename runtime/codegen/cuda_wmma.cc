#include "runtime/codegen/cuda_wmma.h"

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace uop {

size_t WmmaArg::Hash() const { return absl::HashOf(m_, n_, k_, in_); }

bool WmmaArg::Equals(const ArgObject& other) const {
  const auto* o = dynamic_cast<const WmmaArg*>(&other);
  return o != nullptr && o->m_ == m_ && o->n_ == n_ && o->k_ == k_ && o->in_ == in_;
}

std::string WmmaArg::ToString() const {
  return absl::StrCat("m", m_, "n", n_, "k", k_, ".", in_.ToString(), ".float32");
}

size_t LdMatrixArg::Hash() const { return absl::HashOf(count_, trans_, 0x1d6a); }

bool LdMatrixArg::Equals(const ArgObject& other) const {
  const auto* o = dynamic_cast<const LdMatrixArg*>(&other);
  return o != nullptr && o->count_ == count_ && o->trans_ == trans_;
}

std::string LdMatrixArg::ToString() const {
  return absl::StrCat("ldmatrix.x", count_, trans_ ? ".trans" : "");
}

std::vector<std::string> RenderLdMatrix(const LdMatrixArg& arg, const std::string& address,
                                        const std::vector<std::string>& regs) {
  std::vector<std::string> outs, places;
  for (size_t i = 0; i < regs.size(); ++i) {
    places.push_back(absl::StrCat("%", i));
    outs.push_back(absl::StrCat("\"=r\"(", regs[i], ")"));
  }
  // volatile: shared-memory reads must stay between the barriers around them.
  return {absl::StrCat("asm volatile(\"ldmatrix.sync.aligned.m8n8.x", arg.count(),
                       arg.trans() ? ".trans" : "", ".shared.b16 {", absl::StrJoin(places, ", "),
                       "}, [%", regs.size(), "];\" : ", absl::StrJoin(outs, ", "),
                       " : \"r\"((unsigned)__cvta_generic_to_shared(", address, ")));")};
}

size_t AsyncCopyArg::Hash() const { return absl::HashOf(static_cast<int>(kind_), pending_, 0xa5c); }

bool AsyncCopyArg::Equals(const ArgObject& other) const {
  const auto* o = dynamic_cast<const AsyncCopyArg*>(&other);
  return o != nullptr && o->kind_ == kind_ && o->pending_ == pending_;
}

std::string AsyncCopyArg::ToString() const {
  switch (kind_) {
    case kCopy16:
      return "cp.async.16";
    case kCommit:
      return "cp.async.commit";
    case kWait:
      return absl::StrCat("cp.async.wait ", pending_);
  }
  return "?";
}

std::string RenderAsyncCopy(const AsyncCopyArg& arg, const std::string& dst,
                            const std::string& src) {
  switch (arg.kind()) {
    case AsyncCopyArg::kCopy16:
      return absl::StrCat(
          "asm volatile(\"cp.async.cg.shared.global [%0], [%1], 16;\" :: "
          "\"r\"((unsigned)__cvta_generic_to_shared(",
          dst, ")), \"l\"(", src, "));");
    case AsyncCopyArg::kCommit:
      return "asm volatile(\"cp.async.commit_group;\");";
    case AsyncCopyArg::kWait:
      return absl::StrCat("asm volatile(\"cp.async.wait_group ", arg.pending(), ";\");");
  }
  return "";
}

absl::StatusOr<std::vector<std::string>> RenderMmaSync(const WmmaArg& arg,
                                                       const std::vector<std::string>& a_bits,
                                                       const std::vector<std::string>& b_bits,
                                                       const std::vector<std::string>& c,
                                                       const std::string& out) {
  const bool f16 = arg.in().scalar_type() == ScalarType::kFloat16;
  const bool bf16 = arg.in().scalar_type() == ScalarType::kBFloat16;
  if (arg.m() != 16 || arg.n() != 8 || arg.k() != 16 || !(f16 || bf16)) {
    return absl::InvalidArgumentError(
        absl::StrCat("CUDA renderer: no mma.sync for WMMA ", arg.ToString()));
  }
  if (a_bits.size() != 8 || b_bits.size() != 4 || c.size() != 4) {
    return absl::InvalidArgumentError(absl::StrCat("CUDA renderer: WMMA ", arg.ToString(),
                                                   " takes 8, 4 and 4 lanes, got ", a_bits.size(),
                                                   ", ", b_bits.size(), " and ", c.size()));
  }
  auto pack = [](const std::string& lo, const std::string& hi) {
    return absl::StrCat("((unsigned)(", lo, ") | ((unsigned)(", hi, ") << 16))");
  };
  std::vector<std::string> lines;
  lines.push_back("{");
  for (int i = 0; i < 4; ++i) {
    lines.push_back(
        absl::StrCat("  unsigned a", i, " = ", pack(a_bits[2 * i], a_bits[2 * i + 1]), ";"));
  }
  for (int i = 0; i < 2; ++i) {
    lines.push_back(
        absl::StrCat("  unsigned b", i, " = ", pack(b_bits[2 * i], b_bits[2 * i + 1]), ";"));
  }
  const char* type = f16 ? "f16" : "bf16";
  lines.push_back(absl::StrCat(
      "  asm(\"mma.sync.aligned.m16n8k16.row.col.f32.", type, ".", type,
      ".f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%10, %11, %12, %13};\" : \"=f\"(", out,
      "_0), \"=f\"(", out, "_1), \"=f\"(", out, "_2), \"=f\"(", out,
      "_3) : \"r\"(a0), \"r\"(a1), \"r\"(a2), \"r\"(a3), \"r\"(b0), \"r\"(b1), \"f\"(", c[0],
      "), \"f\"(", c[1], "), \"f\"(", c[2], "), \"f\"(", c[3], "));"));
  lines.push_back("}");
  return lines;
}

}  // namespace uop
