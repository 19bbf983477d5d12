#include "drivers/cpu/cc_compiler.h"

#include <vector>

#include "drivers/cpu/cpu_device.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

// A C kernel with the CPU ABI, a constant table and a writable global.
constexpr char kScaleC[] = R"(
static const float kScale[4] = {1.0f, 10.0f, 100.0f, 1000.0f};
long calls;
void scale(void* const* bufs, const long* vars, long core_id) {
  float* out = (float*)bufs[0];
  const float* in = (const float*)bufs[1];
  for (long i = core_id * 8; i < core_id * 8 + 8; ++i) out[i] = in[i] * kScale[i & 3];
  __atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
}
)";

std::unique_ptr<CcCompiler> MakeOrSkip() {
  absl::StatusOr<std::unique_ptr<CcCompiler>> cc = CcCompiler::Create();
  return cc.ok() ? *std::move(cc) : nullptr;
}

TEST(CcCompiler, CompilesCThatTheCpuDeviceLoadsAndRuns) {
  std::unique_ptr<CcCompiler> cc = MakeOrSkip();
  if (cc == nullptr) GTEST_SKIP() << "no system C compiler";
  EXPECT_EQ(cc->CacheKey().rfind("cc;", 0), 0u) << cc->CacheKey();
  absl::StatusOr<std::string> obj = cc->Compile("scale", kScaleC);
  ASSERT_TRUE(obj.ok()) << obj.status();
  absl::StatusOr<std::unique_ptr<CpuDevice>> dev = CpuDevice::Create({.threads = 2});
  ASSERT_TRUE(dev.ok());
  absl::StatusOr<std::unique_ptr<Program>> p = (*dev)->LoadProgram({"scale", {64, 64}, 0}, *obj);
  ASSERT_TRUE(p.ok()) << p.status();
  Allocator& a = (*dev)->allocator();
  ScopedBuffer out(*a.Alloc(64)), in(*a.Alloc(64));
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i) x[i] = static_cast<float>(i);
  ASSERT_TRUE(a.CopyIn(*in, 0, AsBytes(absl::MakeConstSpan(x))).ok());
  DeviceBuffer* bufs[] = {out.get(), in.get()};
  ASSERT_TRUE((*p)->Run(bufs, {}, LaunchDims{2}, {}).ok());
  std::vector<float> y(16);
  ASSERT_TRUE(a.CopyOut(*out, 0, AsWritableBytes(absl::MakeSpan(y))).ok());
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(y[i], x[i] * (i % 4 == 0 ? 1 : i % 4 == 1 ? 10 : i % 4 == 2 ? 100 : 1000)) << i;
}

TEST(CcCompiler, SyntaxErrorsAreInvalidArgumentWithDiagnostics) {
  std::unique_ptr<CcCompiler> cc = MakeOrSkip();
  if (cc == nullptr) GTEST_SKIP() << "no system C compiler";
  absl::Status st = cc->Compile("bad", "void bad(void) { return 1 }").status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("kernel 'bad' does not compile"), std::string::npos) << st;
  EXPECT_NE(st.message().find("error"), std::string::npos) << st;
}

TEST(CcCompiler, MissingCompilerIsFailedPrecondition) {
  absl::StatusOr<std::unique_ptr<CcCompiler>> cc =
      CcCompiler::Create({.cc = "uop-no-such-compiler"});
  EXPECT_EQ(cc.status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace uop
