#include "drivers/am/amdgpu_compiler.h"

#include <cstring>

#include "drivers/am/code_object.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

// out[i] = in[i] * 2 with a stack array the compiler must move to the
// private address space; the body is target-neutral like AmdRenderer's.
constexpr char kScale[] = R"(target triple = "amdgcn-amd-amdhsa"
define internal void @scale_body(ptr noalias %out, ptr noalias %in, i64 %i) nounwind {
entry:
  %acc = alloca float, align 64
  %p = getelementptr inbounds float, ptr %in, i64 %i
  %v = load float, ptr %p, align 4
  store float %v, ptr %acc, align 4
  %a = load float, ptr %acc, align 4
  %w = fmul float %a, 2.0
  %q = getelementptr inbounds float, ptr %out, i64 %i
  store float %w, ptr %q, align 4
  ret void
}
define amdgpu_kernel void @scale(ptr addrspace(1) %out, ptr addrspace(1) %in) #0 {
entry:
  %g = call i32 @llvm.amdgcn.workgroup.id.x()
  %l = call i32 @llvm.amdgcn.workitem.id.x()
  %g64 = zext i32 %g to i64
  %l64 = zext i32 %l to i64
  %gs = mul i64 %g64, 64
  %i = add i64 %gs, %l64
  %o = addrspacecast ptr addrspace(1) %out to ptr
  %n = addrspacecast ptr addrspace(1) %in to ptr
  call void @scale_body(ptr %o, ptr %n, i64 %i)
  ret void
}
declare i32 @llvm.amdgcn.workgroup.id.x()
declare i32 @llvm.amdgcn.workitem.id.x()
attributes #0 = { nounwind "amdgpu-flat-work-group-size"="1,64" "amdgpu-no-implicitarg-ptr" }
)";

TEST(AmdgpuCompiler, EmitsACodeObjectTheLoaderLaysOut) {
  absl::StatusOr<std::unique_ptr<AmdgpuCompiler>> cc = AmdgpuCompiler::Create({.arch = "gfx1100"});
  ASSERT_TRUE(cc.ok()) << cc.status();
  EXPECT_NE((*cc)->CacheKey().find("gfx1100"), std::string::npos);
  absl::StatusOr<std::string> obj = (*cc)->Compile("scale", kScale);
  ASSERT_TRUE(obj.ok()) << obj.status();
  absl::StatusOr<AmdCodeObject> co = LoadAmdCodeObject(*obj, "scale");
  ASSERT_TRUE(co.ok()) << co.status();
  EXPECT_EQ(co->kd.kernarg_size, 16u);  // two pointers, no implicit arguments
  EXPECT_EQ(co->kd.group_segment_fixed_size, 0u);
  EXPECT_EQ(co->kd.private_segment_fixed_size, 0u);  // the alloca was promoted
  EXPECT_EQ(co->code_offset % 256, 0u);
  EXPECT_LT(co->code_offset, co->image.size());
}

TEST(AmdgpuCompiler, RejectsOtherTargetsAndMissingKernels) {
  absl::StatusOr<std::unique_ptr<AmdgpuCompiler>> cc = AmdgpuCompiler::Create({.arch = "gfx90a"});
  ASSERT_TRUE(cc.ok()) << cc.status();
  EXPECT_EQ((*cc)->Compile("scale", "target triple = \"x86_64-pc-linux-gnu\"\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::string> none = (*cc)->Compile("other", kScale);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(none.status().message().find("amdgpu_kernel 'other'"), absl::string_view::npos);
  EXPECT_EQ((*cc)->Compile("scale", "this is not IR").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AmdgpuCompiler::Create({.arch = "gfx9999"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AmdCodeObject, RejectsDamagedFiles) {
  absl::StatusOr<std::unique_ptr<AmdgpuCompiler>> cc = AmdgpuCompiler::Create({.arch = "gfx1100"});
  ASSERT_TRUE(cc.ok());
  std::string obj = *(*cc)->Compile("scale", kScale);
  EXPECT_EQ(LoadAmdCodeObject(obj, "missing").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadAmdCodeObject(obj.substr(0, 100), "scale").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadAmdCodeObject("not an elf file at all, clearly", "scale").status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string x86 = obj;
  x86[18] = 62;  // e_machine = x86-64
  x86[19] = 0;
  absl::StatusOr<AmdCodeObject> co = LoadAmdCodeObject(x86, "scale");
  EXPECT_EQ(co.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(co.status().message().find("not AMDGPU"), absl::string_view::npos);
}

}  // namespace
}  // namespace uop
