// NVRTC compiles CUDA C to cubin without a GPU; these tests need only the
// CUDA toolkit's libnvrtc and skip without it.
#include "drivers/cuda/nvrtc_compiler.h"

#include "drivers/cuda/cuda_binary.h"
#include "gtest/gtest.h"

namespace uop::cuda {
namespace {

constexpr char kAdd[] = R"(// uop-abi: globals=3 vars=0 shared=0
extern "C" __global__ void __launch_bounds__(64) E_64(float* out, const float* a, const float* b) {
  int i = blockIdx.x * 64 + threadIdx.x;
  out[i] = a[i] + b[i];
}
)";

class NvrtcCompilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<NvrtcCompiler>> cc = NvrtcCompiler::Create({.arch = "sm_90"});
    if (!cc.ok()) GTEST_SKIP() << "NVRTC not available: " << cc.status();
    cc_ = *std::move(cc);
  }
  std::unique_ptr<NvrtcCompiler> cc_;
};

TEST_F(NvrtcCompilerTest, CompilesToAPackedCubin) {
  absl::StatusOr<std::string> bin = cc_->Compile("E_64", kAdd);
  ASSERT_TRUE(bin.ok()) << bin.status();
  absl::StatusOr<UnpackedBinary> u = UnpackBinary(*bin);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->abi, (KernelAbi{3, 0, 0}));
  EXPECT_GT(u->cubin.size(), 256u);
}

TEST_F(NvrtcCompilerTest, PtxNamesTheEntryAndTarget) {
  absl::StatusOr<std::string> ptx = cc_->CompileToPtx("E_64", kAdd);
  ASSERT_TRUE(ptx.ok()) << ptx.status();
  EXPECT_NE(ptx->find(".entry E_64"), std::string::npos) << *ptx;
  EXPECT_NE(ptx->find(".target sm_90"), std::string::npos);
}

TEST_F(NvrtcCompilerTest, RejectedSourceCarriesTheLog) {
  absl::StatusOr<std::string> bin =
      cc_->Compile("bad", "// uop-abi: globals=0 vars=0 shared=0\n__global__ void bad() { x; }");
  ASSERT_FALSE(bin.ok());
  EXPECT_EQ(bin.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bin.status().message().find("identifier \"x\" is undefined"), std::string::npos)
      << bin.status();
}

TEST_F(NvrtcCompilerTest, SourceWithoutAbiLineIsRejected) {
  EXPECT_EQ(cc_->Compile("k", "extern \"C\" __global__ void k() {}").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(NvrtcCompilerTest, CacheKeyNamesVersionArchAndFlags) {
  EXPECT_NE(cc_->CacheKey().find("nvrtc-"), std::string::npos);
  EXPECT_NE(cc_->CacheKey().find("sm_90"), std::string::npos);
  auto other = NvrtcCompiler::Create({.arch = "sm_90a", .flags = {"-lineinfo"}});
  ASSERT_TRUE(other.ok());
  EXPECT_NE((*other)->CacheKey(), cc_->CacheKey());
  EXPECT_NE((*other)->CacheKey().find("-lineinfo"), std::string::npos);
}

TEST(NvrtcCompiler, BadArchIsInvalidArgument) {
  EXPECT_EQ(NvrtcCompiler::Create({.arch = "compute_90"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(NvrtcCompiler::Create({.arch = "sm_"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace uop::cuda
