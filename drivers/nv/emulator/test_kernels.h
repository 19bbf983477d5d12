// Host-twin kernels for NV driver tests on the emulated GPU, in LLVM IR with
// the twin ABI of drivers/common/host_twin.h: uop_emu_entry(bufs, vars,
// unused), vars = the kernel's values, then group x/y/z, local x/y/z and
// local size x/y/z.
#ifndef UOP_DRIVERS_NV_EMULATOR_TEST_KERNELS_H_
#define UOP_DRIVERS_NV_EMULATOR_TEST_KERNELS_H_

namespace uop::nv_test {

// data0[i] = data1[i] + data2[i] (float), i = group.x * local_size.x + local.x.
inline constexpr char kAddIr[] = R"(
define void @uop_emu_entry(ptr noalias %bufs, ptr noalias %vars, i64 %unused) {
entry:
  %out = load ptr, ptr %bufs
  %p1 = getelementptr ptr, ptr %bufs, i64 1
  %a = load ptr, ptr %p1
  %p2 = getelementptr ptr, ptr %bufs, i64 2
  %b = load ptr, ptr %p2
  %g = load i64, ptr %vars
  %lp = getelementptr i64, ptr %vars, i64 3
  %l = load i64, ptr %lp
  %sp = getelementptr i64, ptr %vars, i64 6
  %s = load i64, ptr %sp
  %gs = mul i64 %g, %s
  %i = add i64 %gs, %l
  %ap = getelementptr float, ptr %a, i64 %i
  %av = load float, ptr %ap
  %bp = getelementptr float, ptr %b, i64 %i
  %bv = load float, ptr %bp
  %r = fadd float %av, %bv
  %op = getelementptr float, ptr %out, i64 %i
  store float %r, ptr %op
  ret void
}
)";

// data0[i] = data1[i] * var0, same indexing, one int64 value.
inline constexpr char kScaleIr[] = R"(
define void @uop_emu_entry(ptr noalias %bufs, ptr noalias %vars, i64 %unused) {
entry:
  %out = load ptr, ptr %bufs
  %p1 = getelementptr ptr, ptr %bufs, i64 1
  %in = load ptr, ptr %p1
  %k = load i64, ptr %vars
  %gp = getelementptr i64, ptr %vars, i64 1
  %g = load i64, ptr %gp
  %lp = getelementptr i64, ptr %vars, i64 4
  %l = load i64, ptr %lp
  %sp = getelementptr i64, ptr %vars, i64 7
  %s = load i64, ptr %sp
  %gs = mul i64 %g, %s
  %i = add i64 %gs, %l
  %ip = getelementptr float, ptr %in, i64 %i
  %v = load float, ptr %ip
  %kf = sitofp i64 %k to float
  %r = fmul float %v, %kf
  %op = getelementptr float, ptr %out, i64 %i
  store float %r, ptr %op
  ret void
}
)";

// data0[0] += 1 (int32): counts executions (launch with one work-item).
inline constexpr char kCountIr[] = R"(
define void @uop_emu_entry(ptr noalias %bufs, ptr noalias %vars, i64 %unused) {
entry:
  %out = load ptr, ptr %bufs
  %v = load i32, ptr %out
  %w = add i32 %v, 1
  store i32 %w, ptr %out
  ret void
}
)";

}  // namespace uop::nv_test

#endif  // UOP_DRIVERS_NV_EMULATOR_TEST_KERNELS_H_
