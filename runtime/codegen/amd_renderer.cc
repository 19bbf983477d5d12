#include "runtime/codegen/amd_renderer.h"

#include <map>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "runtime/codegen/llvm_renderer.h"

namespace uop {
namespace {

constexpr char kIdPrefix[] = "uop_";

// SPECIALs become variables the body takes as arguments: "gidx0" ->
// DEFINE_VAR "uop_gidx0". Returns the rewritten program.
absl::StatusOr<std::vector<UOpPtr>> SpecialsToVars(absl::Span<const UOpPtr> program,
                                                   std::map<std::string, int64_t>* specials) {
  absl::flat_hash_map<const UOp*, UOpPtr> map;
  std::vector<UOpPtr> out;
  out.reserve(program.size());
  for (const UOpPtr& u : program) {
    UOpPtr n = u;
    if (u->op() == Op::kSpecial) {
      const std::string& s = u->arg().get<std::string>();
      if (s.size() != 5 || (s.rfind("gidx", 0) != 0 && s.rfind("lidx", 0) != 0) || s[4] < '0' ||
          s[4] > '2') {
        return absl::InvalidArgumentError(
            absl::StrCat("AMD renderer: SPECIAL '", s, "' has no AMD GPU meaning"));
      }
      const int64_t end = u->src(0)->const_int();
      (*specials)[s] = end;
      n = UOp::Create(Op::kDefineVar, DType::Index(), {},
                      Arg(VarArg{absl::StrCat(kIdPrefix, s), 0, end - 1}));
    } else if (u->op() == Op::kDefineVar &&
               absl::StartsWith(u->arg().get<VarArg>().name, kIdPrefix)) {
      return absl::InvalidArgumentError(absl::StrCat("AMD renderer: variable name '",
                                                     u->arg().get<VarArg>().name,
                                                     "' uses the reserved prefix 'uop_'"));
    } else {
      std::vector<UOpPtr> srcs;
      bool changed = false;
      for (const UOpPtr& s : u->src()) {
        auto it = map.find(s.get());
        srcs.push_back(it == map.end() ? s : it->second);
        changed |= srcs.back() != s;
      }
      if (changed) n = u->Replace(srcs);
    }
    map[u.get()] = n;
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace

AmdRenderer::AmdRenderer(AmdTarget target) : target_(std::move(target)) {
  caps_.language = "amdgcn";
  caps_.has_local = true;
  caps_.has_shared = false;
  caps_.has_threads = false;
  caps_.max_threads = 1;
  caps_.max_vector_bytes = 16;
  caps_.global_max = {(int64_t{1} << 31) - 1, 65535, 65535};
  caps_.local_max = {target_.max_workgroup, target_.max_workgroup, target_.max_workgroup};
  caps_.native_transcendentals = false;
}

absl::StatusOr<std::string> AmdRenderer::Render(const std::string& name,
                                                absl::Span<const UOpPtr> program) const {
  std::map<std::string, int64_t> specials;
  absl::StatusOr<std::vector<UOpPtr>> rewritten = SpecialsToVars(program, &specials);
  if (!rewritten.ok()) return rewritten.status();
  const std::string host = absl::StrCat(name, "_h");
  absl::StatusOr<std::string> body =
      LlvmRenderer(1, caps_.max_vector_bytes).Render(host, *rewritten);
  if (!body.ok()) return body.status();
  std::string text = std::move(*body);

  // The LLVM renderer's CPU entry stays for the host twin, internal here.
  const std::string entry = absl::StrCat("define void @", host, "(");
  const size_t at = text.find(entry);
  if (at == std::string::npos) {
    return absl::InternalError(absl::StrCat("AMD renderer: the LLVM renderer emitted no '", entry,
                                            "' for kernel '", name, "'"));
  }
  text.replace(at, entry.size(), absl::StrCat("define internal void @", host, "("));

  // The body's parameters, in order.
  const std::string head = absl::StrCat("define internal void @", host, "_body(");
  const size_t b = text.find(head);
  const size_t e = b == std::string::npos ? b : text.find(')', b);
  if (e == std::string::npos) {
    return absl::InternalError(
        absl::StrCat("AMD renderer: no body '", head, "' for kernel '", name, "'"));
  }
  std::vector<std::string> body_params =
      absl::StrSplit(text.substr(b + head.size(), e - b - head.size()), ", ", absl::SkipEmpty());
  int64_t globals = 0;
  std::vector<std::string> order, user_vars;
  for (const std::string& p : body_params) {
    const size_t pct = p.rfind('%');
    if (pct == std::string::npos) return absl::InternalError("AMD renderer: unnamed parameter");
    const std::string id = p.substr(pct + 1);
    if (absl::StartsWith(id, "data")) {
      int64_t slot = std::stoll(id.substr(4));
      globals = std::max(globals, slot + 1);
    } else if (absl::StartsWith(id, "var_")) {
      order.push_back(id.substr(4));
      if (!absl::StartsWith(id.substr(4), kIdPrefix)) user_vars.push_back(id.substr(4));
    }
  }

  std::string k;
  absl::StrAppend(&k, "; uop-amd-kernel-begin\ndefine amdgpu_kernel void @", name, "(");
  std::vector<std::string> kparams;
  for (int64_t s = 0; s < globals; ++s)
    kparams.push_back(absl::StrCat("ptr addrspace(1) noalias align 16 %data", s));
  for (const std::string& v : user_vars) kparams.push_back(absl::StrCat("i64 %var_", v));
  absl::StrAppend(&k, absl::StrJoin(kparams, ", "), ") #0 {\nentry:\n");
  const char* dims = "xyz";
  int64_t threads = 1;
  std::vector<std::string> declares;
  for (const auto& [s, end] : specials) {
    const bool group = s[0] == 'g';
    const char dim = dims[s[4] - '0'];
    const std::string fn = absl::StrCat("@llvm.amdgcn.", group ? "workgroup" : "workitem", ".id.",
                                        std::string(1, dim));
    absl::StrAppend(&k, "  %raw.", s, " = call i32 ", fn, "()\n  %id.", kIdPrefix, s,
                    " = zext i32 %raw.", s, " to i64\n");
    declares.push_back(absl::StrCat("declare i32 ", fn, "()"));
    if (!group) threads *= end;
  }
  std::vector<std::string> args;
  for (const std::string& p : body_params) {
    const std::string id = p.substr(p.rfind('%') + 1);
    if (absl::StartsWith(id, "data")) {
      absl::StrAppend(&k, "  %g.", id, " = addrspacecast ptr addrspace(1) %", id, " to ptr\n");
      args.push_back(absl::StrCat("ptr %g.", id));
    } else if (absl::StartsWith(id, absl::StrCat("var_", kIdPrefix))) {
      args.push_back(absl::StrCat("i64 %id.", id.substr(4)));
    } else if (absl::StartsWith(id, "var_")) {
      args.push_back(absl::StrCat("i64 %", id));
    } else {
      args.push_back("i64 0");  // core_id
    }
  }
  absl::StrAppend(&k, "  call void @", host, "_body(", absl::StrJoin(args, ", "),
                  ")\n  ret void\n}\n", absl::StrJoin(declares, "\n"), declares.empty() ? "" : "\n",
                  "attributes #0 = { nounwind \"amdgpu-flat-work-group-size\"=\"1,", threads,
                  "\" \"amdgpu-no-implicitarg-ptr\" \"uniform-work-group-size\"=\"true\" }\n",
                  "; uop-amd-kernel-end\n");
  return absl::StrCat("; uop amd kernel ", name, " for ", target_.arch,
                      "\n; uop-amd-abi: globals=", globals, " vars=", user_vars.size(),
                      " order=", absl::StrJoin(order, ","),
                      "\ntarget triple = \"amdgcn-amd-amdhsa\"\n", text, k);
}

std::string ParseGfxArch(absl::string_view description) {
  const size_t at = description.find("gfx");
  if (at == absl::string_view::npos) return "";
  size_t end = at + 3;
  while (end < description.size() && absl::ascii_isalnum(description[end])) ++end;
  return end > at + 3 ? std::string(description.substr(at, end - at)) : "";
}

}  // namespace uop
