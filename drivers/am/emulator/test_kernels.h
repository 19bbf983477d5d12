// Hand-written amdgcn LLVM IR kernels in the AmdRenderer's format
// (runtime/codegen/amd_renderer.h): a target-neutral body, the LLVM
// renderer's CPU entry (internal), and the amdgpu_kernel entry between the
// uop-amd-kernel markers. For driver and emulator tests without codegen.
#ifndef UOP_DRIVERS_AM_EMULATOR_TEST_KERNELS_H_
#define UOP_DRIVERS_AM_EMULATOR_TEST_KERNELS_H_

namespace uop::am_test {

// data0[i] = data1[i] + data2[i] * var_k, i = gidx0 * 4 + lidx0 (4 work-items a group).
inline constexpr char kAxpy[] = R"(; uop amd kernel axpy for gfx1100
; uop-amd-abi: globals=3 vars=1 order=k,uop_gidx0,uop_lidx0
target triple = "amdgcn-amd-amdhsa"
define internal void @axpy_h_body(ptr noalias align 4 %data0, ptr noalias align 4 %data1, ptr noalias align 4 %data2, i64 %var_k, i64 %var_uop_gidx0, i64 %var_uop_lidx0, i64 %core_id) nounwind {
entry:
  %g = mul i64 %var_uop_gidx0, 4
  %i = add i64 %g, %var_uop_lidx0
  %pa = getelementptr inbounds float, ptr %data1, i64 %i
  %a = load float, ptr %pa, align 4
  %pb = getelementptr inbounds float, ptr %data2, i64 %i
  %b = load float, ptr %pb, align 4
  %kf = sitofp i64 %var_k to float
  %m = fmul float %b, %kf
  %s = fadd float %a, %m
  %po = getelementptr inbounds float, ptr %data0, i64 %i
  store float %s, ptr %po, align 4
  ret void
}

define internal void @axpy_h(ptr noalias %bufs, ptr noalias %vars, i64 %core_id) nounwind {
entry:
  %p0 = getelementptr ptr, ptr %bufs, i64 0
  %b0 = load ptr, ptr %p0, align 8
  %p1 = getelementptr ptr, ptr %bufs, i64 1
  %b1 = load ptr, ptr %p1, align 8
  %p2 = getelementptr ptr, ptr %bufs, i64 2
  %b2 = load ptr, ptr %p2, align 8
  %q0 = getelementptr i64, ptr %vars, i64 0
  %var0 = load i64, ptr %q0, align 8
  %q1 = getelementptr i64, ptr %vars, i64 1
  %var1 = load i64, ptr %q1, align 8
  %q2 = getelementptr i64, ptr %vars, i64 2
  %var2 = load i64, ptr %q2, align 8
  call void @axpy_h_body(ptr %b0, ptr %b1, ptr %b2, i64 %var0, i64 %var1, i64 %var2, i64 %core_id)
  ret void
}
; uop-amd-kernel-begin
define amdgpu_kernel void @axpy(ptr addrspace(1) noalias align 16 %data0, ptr addrspace(1) noalias align 16 %data1, ptr addrspace(1) noalias align 16 %data2, i64 %var_k) #0 {
entry:
  %raw.gidx0 = call i32 @llvm.amdgcn.workgroup.id.x()
  %id.uop_gidx0 = zext i32 %raw.gidx0 to i64
  %raw.lidx0 = call i32 @llvm.amdgcn.workitem.id.x()
  %id.uop_lidx0 = zext i32 %raw.lidx0 to i64
  %g.data0 = addrspacecast ptr addrspace(1) %data0 to ptr
  %g.data1 = addrspacecast ptr addrspace(1) %data1 to ptr
  %g.data2 = addrspacecast ptr addrspace(1) %data2 to ptr
  call void @axpy_h_body(ptr %g.data0, ptr %g.data1, ptr %g.data2, i64 %var_k, i64 %id.uop_gidx0, i64 %id.uop_lidx0, i64 0)
  ret void
}
declare i32 @llvm.amdgcn.workgroup.id.x()
declare i32 @llvm.amdgcn.workitem.id.x()
attributes #0 = { nounwind "amdgpu-flat-work-group-size"="1,4" "amdgpu-no-implicitarg-ptr" "uniform-work-group-size"="true" }
; uop-amd-kernel-end
)";

// data0[0] += 1 (one work-item): counts launches.
inline constexpr char kCount[] = R"(; uop amd kernel count for gfx1100
; uop-amd-abi: globals=1 vars=0 order=
target triple = "amdgcn-amd-amdhsa"
define internal void @count_h_body(ptr noalias align 4 %data0, i64 %core_id) nounwind {
entry:
  %v = load i32, ptr %data0, align 4
  %w = add i32 %v, 1
  store i32 %w, ptr %data0, align 4
  ret void
}

define internal void @count_h(ptr noalias %bufs, ptr noalias %vars, i64 %core_id) nounwind {
entry:
  %p0 = getelementptr ptr, ptr %bufs, i64 0
  %b0 = load ptr, ptr %p0, align 8
  call void @count_h_body(ptr %b0, i64 %core_id)
  ret void
}
; uop-amd-kernel-begin
define amdgpu_kernel void @count(ptr addrspace(1) noalias align 16 %data0) #0 {
entry:
  %g.data0 = addrspacecast ptr addrspace(1) %data0 to ptr
  call void @count_h_body(ptr %g.data0, i64 0)
  ret void
}
attributes #0 = { nounwind "amdgpu-flat-work-group-size"="1,1" "amdgpu-no-implicitarg-ptr" "uniform-work-group-size"="true" }
; uop-amd-kernel-end
)";

// data0[i] = i-th lookup of a 512-float private array filled with 0..511 at
// index data1[i] & 511 (i = gidx0 * 4 + lidx0): the array is indexed by a
// loaded value and too large for registers or LDS (64 work-items a group
// may run), so it lives in scratch (the private segment).
inline constexpr char kScratch[] = R"(; uop amd kernel scratch for gfx1100
; uop-amd-abi: globals=2 vars=0 order=uop_gidx0,uop_lidx0
target triple = "amdgcn-amd-amdhsa"
define internal void @scratch_h_body(ptr noalias align 4 %data0, ptr noalias align 4 %data1, i64 %var_uop_gidx0, i64 %var_uop_lidx0, i64 %core_id) nounwind {
entry:
  %arr = alloca [512 x float], align 4
  %g = mul i64 %var_uop_gidx0, 4
  %i = add i64 %g, %var_uop_lidx0
  br label %fill
fill:
  %j = phi i64 [ 0, %entry ], [ %jn, %fill ]
  %jf = sitofp i64 %j to float
  %pj = getelementptr inbounds [512 x float], ptr %arr, i64 0, i64 %j
  store volatile float %jf, ptr %pj, align 4
  %jn = add i64 %j, 1
  %done = icmp eq i64 %jn, 512
  br i1 %done, label %read, label %fill
read:
  %pidx = getelementptr inbounds i32, ptr %data1, i64 %i
  %raw = load i32, ptr %pidx, align 4
  %idx = and i32 %raw, 511
  %idx64 = zext i32 %idx to i64
  %pv = getelementptr inbounds [512 x float], ptr %arr, i64 0, i64 %idx64
  %v = load volatile float, ptr %pv, align 4
  %po = getelementptr inbounds float, ptr %data0, i64 %i
  store float %v, ptr %po, align 4
  ret void
}

define internal void @scratch_h(ptr noalias %bufs, ptr noalias %vars, i64 %core_id) nounwind {
entry:
  %p0 = getelementptr ptr, ptr %bufs, i64 0
  %b0 = load ptr, ptr %p0, align 8
  %p1 = getelementptr ptr, ptr %bufs, i64 1
  %b1 = load ptr, ptr %p1, align 8
  %q0 = getelementptr i64, ptr %vars, i64 0
  %var0 = load i64, ptr %q0, align 8
  %q1 = getelementptr i64, ptr %vars, i64 1
  %var1 = load i64, ptr %q1, align 8
  call void @scratch_h_body(ptr %b0, ptr %b1, i64 %var0, i64 %var1, i64 %core_id)
  ret void
}
; uop-amd-kernel-begin
define amdgpu_kernel void @scratch(ptr addrspace(1) noalias align 16 %data0, ptr addrspace(1) noalias align 16 %data1) #0 {
entry:
  %raw.gidx0 = call i32 @llvm.amdgcn.workgroup.id.x()
  %id.uop_gidx0 = zext i32 %raw.gidx0 to i64
  %raw.lidx0 = call i32 @llvm.amdgcn.workitem.id.x()
  %id.uop_lidx0 = zext i32 %raw.lidx0 to i64
  %g.data0 = addrspacecast ptr addrspace(1) %data0 to ptr
  %g.data1 = addrspacecast ptr addrspace(1) %data1 to ptr
  call void @scratch_h_body(ptr %g.data0, ptr %g.data1, i64 %id.uop_gidx0, i64 %id.uop_lidx0, i64 0)
  ret void
}
declare i32 @llvm.amdgcn.workgroup.id.x()
declare i32 @llvm.amdgcn.workitem.id.x()
attributes #0 = { nounwind "amdgpu-flat-work-group-size"="1,64" "amdgpu-no-implicitarg-ptr" "uniform-work-group-size"="true" }
; uop-amd-kernel-end
)";

}  // namespace uop::am_test

#endif  // UOP_DRIVERS_AM_EMULATOR_TEST_KERNELS_H_
