#include "drivers/nv/emulator/nv_emu_compiler.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "drivers/common/host_tool.h"
#include "drivers/common/host_twin.h"
#include "drivers/nv/emulator/nv_emu_cubin.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

// Bump when the prelude, the flags or the cubin layout change (CacheKey).
constexpr int kTwinVersion = 1;

// CUDA C's vocabulary as host C++. The half conversions round to nearest
// even as the PTX cvt.rn instructions do; the twin may reference no library,
// so math is builtins that compile to instructions.
constexpr char kPrelude[] = R"(// uop: emulated-NV host twin prelude
#define __device__
#define __global__
#define __forceinline__ inline __attribute__((always_inline))
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define sqrtf(x) __builtin_sqrtf(x)
#define sqrt(x) __builtin_sqrt(x)
#define truncf(x) __builtin_truncf(x)
#define trunc(x) __builtin_trunc(x)
struct uop_dim3 { unsigned x, y, z; };
static uop_dim3 blockIdx, threadIdx, blockDim;
static inline float __int_as_float(int v) { return __builtin_bit_cast(float, v); }
static inline float __uint_as_float(unsigned v) { return __builtin_bit_cast(float, v); }
static inline unsigned __float_as_uint(float v) { return __builtin_bit_cast(unsigned, v); }
static inline int __float_as_int(float v) { return __builtin_bit_cast(int, v); }
static inline double __longlong_as_double(long long v) { return __builtin_bit_cast(double, v); }
static inline long long __double_as_longlong(double v) { return __builtin_bit_cast(long long, v); }
static inline float uop_h2f(unsigned short h) {
  const unsigned s = (unsigned)(h >> 15) << 31, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e == 0) { float v = (float)m * 5.9604644775390625e-8f; return s ? -v : v; }
  if (e == 31) return __uint_as_float(s | 0x7f800000u | (m << 13));
  return __uint_as_float(s | ((e + 112) << 23) | (m << 13));
}
static inline unsigned short uop_f2h(float f) {
  unsigned x = __float_as_uint(f);
  const unsigned sign = (x >> 16) & 0x8000;
  x &= 0x7fffffffu;
  if (x >= (143u << 23)) return (unsigned short)(sign | (x > 0x7f800000u ? 0x7e00 : 0x7c00));
  if (x < (113u << 23)) {  // half subnormal: let the float adder round
    const float magic = __uint_as_float(126u << 23);
    return (unsigned short)(sign | (__float_as_uint(__uint_as_float(x) + magic) - (126u << 23)));
  }
  const unsigned odd = (x >> 13) & 1;
  x += 0xc8000fffu + odd;  // rebias (15 - 127) << 23, round half to even
  return (unsigned short)(sign | (x >> 13));
}
static inline unsigned short uop_f2bf(float f) {
  const unsigned x = __float_as_uint(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((x >> 16) | 0x40);
  return (unsigned short)((x + 0x7fffu + ((x >> 16) & 1)) >> 16);
}
)";

// The renderer's own definitions of these use PTX; the prelude has them.
constexpr const char* kReplaced[] = {" uop_h2f(", " uop_f2h(", " uop_f2bf("};

std::vector<std::string> Flags() {
  return {"-x",
          "c++",
          "-std=c++20",
          "-target",
          "x86_64-unknown-linux-gnu",
          "-march=x86-64-v2",
          "-O2",
          "-fPIC",
          "-fno-exceptions",
          "-fno-rtti",
          "-fno-math-errno",
          "-fno-asynchronous-unwind-tables",
          "-Wno-unused-value",
          "-c"};
}

absl::Status Unsupported(absl::string_view name, absl::string_view what) {
  return absl::UnimplementedError(absl::StrCat("NV emulator: kernel '", name, "' uses ", what,
                                               ", which the emulated GPU cannot run"));
}

}  // namespace

absl::StatusOr<std::string> NvEmuCompiler::TwinSource(absl::string_view name,
                                                      absl::string_view source, int* globals,
                                                      int* vars) {
  if (absl::StrContains(source, "__syncthreads")) {
    return Unsupported(name, "__syncthreads (the emulator runs threads one after another)");
  }
  if (absl::StrContains(source, "uop_smem")) return Unsupported(name, "dynamic shared memory");
  // "// uop-abi: globals=G vars=V shared=S" and the kernel's parameter list.
  const size_t abi = source.find("// uop-abi: globals=");
  const size_t sig = source.find(absl::StrCat(") ", name, "("));
  if (abi == absl::string_view::npos || sig == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NV emulator: kernel '", name,
        "' is not CUDA C from the CUDA renderer (no uop-abi line or no kernel '", name, "')"));
  }
  int g = 0, v = 0;
  {
    const absl::string_view line = source.substr(abi, source.find('\n', abi) - abi);
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
    for (absl::string_view p : parts) {
      if (absl::ConsumePrefix(&p, "globals=")) (void)absl::SimpleAtoi(p, &g);
      if (absl::ConsumePrefix(&p, "vars=")) (void)absl::SimpleAtoi(p, &v);
    }
  }
  const size_t open = sig + name.size() + 3, close = source.find(") {", open);
  std::vector<std::string> params;
  if (close != absl::string_view::npos && close > open) {
    params = absl::StrSplit(source.substr(open, close - open), ", ");
  }
  if (static_cast<int>(params.size()) != g + v) {
    return absl::InvalidArgumentError(absl::StrCat("NV emulator: kernel '", name, "' declares ",
                                                   params.size(), " parameters, its uop-abi line ",
                                                   g, " buffers and ", v, " values"));
  }
  std::vector<std::string> args;
  for (int i = 0; i < g + v; ++i) {
    std::string type = params[i].substr(0, params[i].rfind(' '));
    type = absl::StrReplaceAll(type, {{" __restrict__", ""}});
    args.push_back(absl::StrCat("(", type, ")", i < g ? "bufs[" : "vars[", i < g ? i : i - g, "]"));
  }
  // The renderer's source without its PTX helpers.
  std::string body;
  for (absl::string_view l : absl::StrSplit(source, '\n')) {
    if (absl::StrContains(l, "asm(") || absl::StrContains(l, "asm volatile")) {
      bool known = false;
      for (const char* r : kReplaced) known |= absl::StrContains(l, r);
      if (!known) return Unsupported(name, "PTX inline assembly (tensor-core mma)");
      continue;
    }
    absl::StrAppend(&body, l, "\n");
  }
  *globals = g;
  *vars = v;
  return absl::StrCat(
      kPrelude, body,
      "\nextern \"C\" void uop_emu_entry(void* const* bufs, const long long* vars, ",
      "long long unused) {\n  blockIdx = {(unsigned)vars[", v, "], (unsigned)vars[", v + 1,
      "], (unsigned)vars[", v + 2, "]};\n  threadIdx = {(unsigned)vars[", v + 3,
      "], (unsigned)vars[", v + 4, "], (unsigned)vars[", v + 5,
      "]};\n  blockDim = {(unsigned)vars[", v + 6, "], (unsigned)vars[", v + 7,
      "], (unsigned)vars[", v + 8, "]};\n  ", name, "(", absl::StrJoin(args, ", "), ");\n}\n");
}

absl::StatusOr<std::unique_ptr<NvEmuCompiler>> NvEmuCompiler::Create() {
  std::unique_ptr<NvEmuCompiler> c(new NvEmuCompiler());
  const char* env = std::getenv("UOP_NV_EMU_CLANG");
  c->clang_ = env != nullptr && *env != '\0' ? env : "clang++";
  std::string tmp = std::filesystem::temp_directory_path() / "uop_nv_clang_XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) return absl::InternalError(absl::StrCat("mkstemp: ", std::strerror(errno)));
  close(fd);
  absl::StatusOr<int> rc = RunHostTool({c->clang_, "--version"}, tmp);
  std::string version = ReadWholeFile(tmp);
  std::filesystem::remove(tmp);
  if (!rc.ok() || *rc != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("NV emulator: no clang++ to compile CUDA C for the host ('", c->clang_,
                     " --version' failed; set UOP_NV_EMU_CLANG)", rc.ok() ? "" : ": ",
                     rc.ok() ? "" : rc.status().message()));
  }
  version = std::string(absl::StripAsciiWhitespace(version.substr(0, version.find('\n'))));
  c->cache_key_ =
      absl::StrCat("nv-emu;", version, ";", absl::StrJoin(Flags(), " "), ";twin=", kTwinVersion);
  return c;
}

absl::StatusOr<std::string> NvEmuCompiler::Compile(absl::string_view name,
                                                   absl::string_view source) {
  int globals = 0, vars = 0;
  ASSIGN_OR_RETURN(std::string twin_source, TwinSource(name, source, &globals, &vars));
  std::string dir = std::filesystem::temp_directory_path() / "uop_nv_emu_XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp '", dir, "': ", std::strerror(errno)));
  }
  const std::string src = dir + "/kernel.cc", obj = dir + "/kernel.o", log = dir + "/clang.log";
  {
    std::ofstream f(src, std::ios::binary);
    f << twin_source;
  }
  std::vector<std::string> argv = {clang_};
  for (const std::string& f : Flags()) argv.push_back(f);
  argv.insert(argv.end(), {src, "-o", obj});
  absl::StatusOr<int> rc = RunHostTool(argv, log);
  const std::string diagnostics = ReadWholeFile(log);
  const std::string object = rc.ok() && *rc == 0 ? ReadWholeFile(obj) : std::string();
  std::filesystem::remove_all(dir);
  RETURN_IF_ERROR(rc.status());
  if (*rc != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CUDA C of kernel '", name, "' does not compile for the host (clang):\n", diagnostics));
  }
  return BuildTwinCubin(name, MakeTwinBlob(object, globals, vars), globals, vars);
}

}  // namespace uop
