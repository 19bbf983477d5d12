// NvEmuCompiler: what it refuses (and says why) and the twin it writes. Its
// output running correctly is tested by //tests/ops:differential_nv_emulated_test.
#include "drivers/nv/emulator/nv_emu_compiler.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

constexpr char kAdd[] = R"(// uop kernel E_4
// uop-abi: globals=2 vars=1 shared=0
__device__ __forceinline__ float uop_h2f(unsigned short h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
extern "C" __global__ void __launch_bounds__(4) E_4(float* __restrict__ data0, const float* __restrict__ data1, long long var_n) {
  data0[threadIdx.x] = data1[threadIdx.x] + (float)var_n;
}
)";

TEST(NvEmuCompiler, TwinCallsTheKernelWithItsParametersAndIds) {
  int g = -1, v = -1;
  absl::StatusOr<std::string> src = NvEmuCompiler::TwinSource("E_4", kAdd, &g, &v);
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_EQ(g, 2);
  EXPECT_EQ(v, 1);
  EXPECT_TRUE(
      absl::StrContains(*src, "E_4((float*)bufs[0], (const float*)bufs[1], (long long)vars[0])"))
      << *src;
  EXPECT_TRUE(absl::StrContains(*src, "threadIdx = {(unsigned)vars[4]")) << *src;
  EXPECT_FALSE(absl::StrContains(*src, "asm(")) << "the PTX helper is replaced";
}

TEST(NvEmuCompiler, RefusesWhatTheEmulatorCannotRun) {
  int g, v;
  std::string barrier = kAdd;
  barrier.insert(barrier.rfind('}'), "  __syncthreads();\n");
  absl::Status st = NvEmuCompiler::TwinSource("E_4", barrier, &g, &v).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnimplemented);
  EXPECT_TRUE(absl::StrContains(st.message(), "'E_4' uses __syncthreads")) << st;
  std::string mma = kAdd;
  mma.insert(mma.rfind('}'), "  asm(\"mma.sync.aligned.m16n8k16\");\n");
  st = NvEmuCompiler::TwinSource("E_4", mma, &g, &v).status();
  EXPECT_TRUE(absl::StrContains(st.message(), "PTX inline assembly")) << st;
  st = NvEmuCompiler::TwinSource("E_5", kAdd, &g, &v).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(st.message(), "no kernel 'E_5'")) << st;
}

TEST(NvEmuCompiler, CompilesToACubinOrNamesTheClangError) {
  absl::StatusOr<std::unique_ptr<NvEmuCompiler>> cc = NvEmuCompiler::Create();
  if (!cc.ok()) GTEST_SKIP() << cc.status();
  absl::StatusOr<std::string> bin = (*cc)->Compile("E_4", kAdd);
  ASSERT_TRUE(bin.ok()) << bin.status();
  EXPECT_GT(bin->size(), 100u);
  std::string broken = kAdd;
  broken.insert(broken.rfind('}'), "  undefined_thing();\n");
  absl::Status st = (*cc)->Compile("E_4", broken).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(st.message(), "undefined_thing")) << st;
}

}  // namespace
}  // namespace uop
