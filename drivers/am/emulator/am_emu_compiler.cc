#include "drivers/am/emulator/am_emu_compiler.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "drivers/common/host_twin.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

constexpr int kTwinVersion = 1;

// The blob as an LLVM IR string constant.
std::string IrBytes(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size() * 3);
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "\\%02X", c);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AmEmuCompiler>> AmEmuCompiler::Create(const std::string& arch) {
  std::unique_ptr<AmEmuCompiler> c(new AmEmuCompiler());
  ASSIGN_OR_RETURN(c->gpu_, AmdgpuCompiler::Create({.arch = arch}));
  ASSIGN_OR_RETURN(c->host_, LlvmCompiler::Create());
  c->cache_key_ = absl::StrCat("am-emu;", c->gpu_->CacheKey(), ";host:", c->host_->CacheKey(),
                               ";twin=", kTwinVersion);
  return c;
}

absl::StatusOr<std::string> AmEmuCompiler::TwinIr(absl::string_view name, absl::string_view source,
                                                  int* globals, int* vars) {
  const size_t abi = source.find("; uop-amd-abi: ");
  if (abi == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("amdgcn IR of kernel '", name, "' has no '; uop-amd-abi:' line"));
  }
  absl::string_view line = source.substr(abi + 15);
  line = line.substr(0, line.find('\n'));
  std::vector<std::string> order;
  *globals = *vars = -1;
  for (absl::string_view field : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(field, absl::MaxSplits('=', 1));
    if (kv.first == "globals" && !absl::SimpleAtoi(kv.second, globals)) *globals = -1;
    if (kv.first == "vars" && !absl::SimpleAtoi(kv.second, vars)) *vars = -1;
    if (kv.first == "order") order = absl::StrSplit(kv.second, ',', absl::SkipEmpty());
  }
  if (*globals < 0 || *vars < 0) {
    return absl::InvalidArgumentError(absl::StrCat("kernel '", name, "': bad uop-amd-abi line"));
  }
  const size_t begin = source.find("; uop-amd-kernel-begin");
  const size_t end = source.find("; uop-amd-kernel-end");
  if (begin == absl::string_view::npos || end == absl::string_view::npos || end < begin) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel '", name, "': no uop-amd-kernel section"));
  }
  std::string ir;
  for (absl::string_view l : absl::StrSplit(source.substr(0, begin), '\n')) {
    if (absl::StartsWith(l, "target triple") || absl::StartsWith(l, "target datalayout")) continue;
    absl::StrAppend(&ir, l, "\n");
  }
  const std::string internal = absl::StrCat("define internal void @", name, "_h(");
  const size_t at = ir.find(internal);
  if (at == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("kernel '", name, "': no host entry @", name, "_h"));
  }
  ir.replace(at, internal.size(), absl::StrCat("define void @", name, "_h("));
  // The twin entry: the body's variables from the kernel's and the ids.
  absl::StrAppend(&ir,
                  "\ndefine void @uop_emu_entry(ptr noalias %bufs, ptr noalias %vars, i64 %unused) "
                  "{\nentry:\n");
  const size_t n = std::max<size_t>(order.size(), 1);
  absl::StrAppend(&ir, "  %all = alloca [", n, " x i64], align 8\n");
  int user = 0;
  for (size_t j = 0; j < order.size(); ++j) {
    int from;
    const std::string& v = order[j];
    if (absl::StartsWith(v, "uop_gidx") && v.size() == 9) {
      from = *vars + (v[8] - '0');
    } else if (absl::StartsWith(v, "uop_lidx") && v.size() == 9) {
      from = *vars + 3 + (v[8] - '0');
    } else {
      from = user++;
    }
    absl::StrAppend(&ir, "  %p", j, " = getelementptr i64, ptr %vars, i64 ", from, "\n  %v", j,
                    " = load i64, ptr %p", j, ", align 8\n  %q", j,
                    " = getelementptr i64, ptr %all, i64 ", j, "\n  store i64 %v", j, ", ptr %q", j,
                    ", align 8\n");
  }
  if (user != *vars) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kernel '", name, "': ", user, " variables in the order, ", *vars, " declared"));
  }
  absl::StrAppend(&ir, "  call void @", name, "_h(ptr %bufs, ptr %all, i64 0)\n  ret void\n}\n");
  return ir;
}

absl::StatusOr<std::string> AmEmuCompiler::Compile(absl::string_view name,
                                                   absl::string_view source) {
  int globals, vars;
  ASSIGN_OR_RETURN(std::string twin_ir, TwinIr(name, source, &globals, &vars));
  ASSIGN_OR_RETURN(std::string object, host_->Compile("uop_emu_entry", twin_ir));
  const std::string blob = MakeTwinBlob(object, globals, vars);
  const std::string extra = absl::StrFormat(
      "@__uop_emu_twin = internal addrspace(4) constant [%u x i8] c\"%s\", align 16\n"
      "@llvm.used = appending global [1 x ptr] [ptr addrspacecast (ptr addrspace(4) "
      "@__uop_emu_twin to ptr)], section \"llvm.metadata\"\n",
      blob.size(), IrBytes(blob));
  return gpu_->CompileWith(name, source, extra);
}

}  // namespace uop
