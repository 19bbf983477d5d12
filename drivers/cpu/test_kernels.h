// Hand-written LLVM IR kernels following the CPU kernel ABI
// (void (ptr bufs, ptr vars, i64 core_id), docs/compiler.md), for the CPU
// backend's tests and benchmarks.
#ifndef UOP_DRIVERS_CPU_TEST_KERNELS_H_
#define UOP_DRIVERS_CPU_TEST_KERNELS_H_

namespace uop::test_kernels {

// out[i] = a[i] + b[i] for i < vars[0]; core c of 4 handles the c-th quarter.
// bufs: out, a, b (float).
inline constexpr char kAdd[] = R"(
define void @add(ptr noalias %bufs, ptr noalias %vars, i64 %core) {
entry:
  %out = load ptr, ptr %bufs
  %a.p = getelementptr ptr, ptr %bufs, i64 1
  %a = load ptr, ptr %a.p
  %b.p = getelementptr ptr, ptr %bufs, i64 2
  %b = load ptr, ptr %b.p
  %n = load i64, ptr %vars
  %chunk0 = add i64 %n, 3
  %chunk = sdiv i64 %chunk0, 4
  %start = mul i64 %core, %chunk
  %end0 = add i64 %start, %chunk
  %lt = icmp slt i64 %end0, %n
  %end = select i1 %lt, i64 %end0, i64 %n
  %empty = icmp sge i64 %start, %end
  br i1 %empty, label %exit, label %loop
loop:
  %i = phi i64 [ %start, %entry ], [ %i.next, %loop ]
  %pa = getelementptr float, ptr %a, i64 %i
  %va = load float, ptr %pa
  %pb = getelementptr float, ptr %b, i64 %i
  %vb = load float, ptr %pb
  %s = fadd float %va, %vb
  %po = getelementptr float, ptr %out, i64 %i
  store float %s, ptr %po
  %i.next = add i64 %i, 1
  %done = icmp eq i64 %i.next, %end
  br i1 %done, label %exit, label %loop
exit:
  ret void
}
)";

// Partial sums: out[core] = sum of in[core*1024 .. core*1024+1024).
// bufs: out (float[cores]), in (float[cores*1024]).
inline constexpr char kReduce[] = R"(
define void @reduce(ptr noalias %bufs, ptr noalias %vars, i64 %core) {
entry:
  %out = load ptr, ptr %bufs
  %in.p = getelementptr ptr, ptr %bufs, i64 1
  %in = load ptr, ptr %in.p
  %base = mul i64 %core, 1024
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %acc = phi float [ 0.0, %entry ], [ %acc.next, %loop ]
  %idx = add i64 %base, %i
  %p = getelementptr float, ptr %in, i64 %idx
  %v = load float, ptr %p
  %acc.next = fadd reassoc float %acc, %v
  %i.next = add i64 %i, 1
  %done = icmp eq i64 %i.next, 1024
  br i1 %done, label %exit, label %loop
exit:
  %po = getelementptr float, ptr %out, i64 %core
  store float %acc.next, ptr %po
  ret void
}
)";

// Explicit 512-bit vectors: out[i] = a[i] * 2 + 1 for i < 16 * vars[0],
// single core. bufs: out, a (float, 64-byte aligned).
inline constexpr char kVec16[] = R"(
define void @vec16(ptr noalias %bufs, ptr noalias %vars, i64 %core) {
entry:
  %out = load ptr, ptr %bufs
  %a.p = getelementptr ptr, ptr %bufs, i64 1
  %a = load ptr, ptr %a.p
  %n = load i64, ptr %vars
  %empty = icmp sle i64 %n, 0
  br i1 %empty, label %exit, label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %pa = getelementptr <16 x float>, ptr %a, i64 %i
  %va = load <16 x float>, ptr %pa, align 64
  %m = fmul <16 x float> %va, <float 2.0, float 2.0, float 2.0, float 2.0, float 2.0, float 2.0, float 2.0, float 2.0, float 2.0, float 2.0, float 2.0, float 2.0, float 2.0, float 2.0, float 2.0, float 2.0>
  %r = fadd <16 x float> %m, <float 1.0, float 1.0, float 1.0, float 1.0, float 1.0, float 1.0, float 1.0, float 1.0, float 1.0, float 1.0, float 1.0, float 1.0, float 1.0, float 1.0, float 1.0, float 1.0>
  %po = getelementptr <16 x float>, ptr %out, i64 %i
  store <16 x float> %r, ptr %po, align 64
  %i.next = add i64 %i, 1
  %done = icmp eq i64 %i.next, %n
  br i1 %done, label %exit, label %loop
exit:
  ret void
}
)";

// Constant pools: a float table in .rodata and a non-splat vector constant
// (.rodata.cst32). out[i] = a[i] * table[i & 7] + lane[i & 7], i < 64.
// bufs: out, a (float[64]).
inline constexpr char kTable[] = R"(
@weights = private unnamed_addr constant [8 x float] [float 1.0, float 2.0, float 3.0, float 4.0, float 5.0, float 6.0, float 7.0, float 8.0]

define void @table(ptr noalias %bufs, ptr noalias %vars, i64 %core) {
entry:
  %out = load ptr, ptr %bufs
  %a.p = getelementptr ptr, ptr %bufs, i64 1
  %a = load ptr, ptr %a.p
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %j = and i64 %i, 7
  %pt = getelementptr [8 x float], ptr @weights, i64 0, i64 %j
  %t = load float, ptr %pt
  %pa = getelementptr float, ptr %a, i64 %i
  %va = load float, ptr %pa
  %m = fmul float %va, %t
  %po = getelementptr float, ptr %out, i64 %i
  store float %m, ptr %po
  %i.next = add i64 %i, 1
  %done = icmp eq i64 %i.next, 64
  br i1 %done, label %lanes, label %loop
lanes:
  br label %vloop
vloop:
  %k = phi i64 [ 0, %lanes ], [ %k.next, %vloop ]
  %pv = getelementptr <8 x float>, ptr %out, i64 %k
  %v = load <8 x float>, ptr %pv, align 4
  %w = fadd <8 x float> %v, <float 0.5, float 1.5, float 2.5, float 3.5, float 4.5, float 5.5, float 6.5, float 7.5>
  store <8 x float> %w, ptr %pv, align 4
  %k.next = add i64 %k, 1
  %kdone = icmp eq i64 %k.next, 8
  br i1 %kdone, label %exit, label %vloop
exit:
  ret void
}
)";

// Writable module state reached through the GOT (a preemptible global under
// PIC) and a pointer table needing absolute 64-bit relocations. Each call
// adds 1 to @counter and writes out[0] = counter, out[1] = *ptrs[0],
// out[2] = *ptrs[1]. bufs: out (i64[3]).
inline constexpr char kRelocs[] = R"(
@counter = global i64 0
@x = internal global i64 11
@y = internal global i64 22
@ptrs = global [2 x ptr] [ptr @x, ptr @y]

define void @relocs(ptr noalias %bufs, ptr noalias %vars, i64 %core) {
entry:
  %out = load ptr, ptr %bufs
  %c = load i64, ptr @counter
  %c1 = add i64 %c, 1
  store i64 %c1, ptr @counter
  store i64 %c1, ptr %out
  %p0 = load ptr, ptr @ptrs
  %v0 = load i64, ptr %p0
  %o1 = getelementptr i64, ptr %out, i64 1
  store i64 %v0, ptr %o1
  %pp1 = getelementptr [2 x ptr], ptr @ptrs, i64 0, i64 1
  %p1 = load ptr, ptr %pp1
  %v1 = load i64, ptr %p1
  %o2 = getelementptr i64, ptr %out, i64 2
  store i64 %v1, ptr %o2
  ret void
}
)";

// llvm.memset with a run-time length: code generation calls memset, one of
// the few external symbols the loader provides. out[0 .. vars[0]) = 0x7f bytes.
inline constexpr char kMemset[] = R"(
declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)

define void @fill(ptr noalias %bufs, ptr noalias %vars, i64 %core) {
entry:
  %out = load ptr, ptr %bufs
  %n = load i64, ptr %vars
  call void @llvm.memset.p0.i64(ptr %out, i8 127, i64 %n, i1 false)
  ret void
}
)";

// Calls libm's expf: an external symbol kernels must not use.
inline constexpr char kCallsExpf[] = R"(
declare float @expf(float)

define void @uses_expf(ptr noalias %bufs, ptr noalias %vars, i64 %core) {
entry:
  %out = load ptr, ptr %bufs
  %v = load float, ptr %out
  %e = call float @expf(float %v)
  store float %e, ptr %out
  ret void
}
)";

}  // namespace uop::test_kernels

#endif  // UOP_DRIVERS_CPU_TEST_KERNELS_H_
