// Benchmark of the CPU backend (prints figures; not a test): compile time per
// kernel, object load time, kernel-cache hit load time, and thread-pool
// dispatch overhead per launch.
//
//   bazel run //drivers/cpu:cpu_bench
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "drivers/cpu/cpu_device.h"
#include "drivers/cpu/elf_loader.h"
#include "drivers/cpu/test_kernels.h"
#include "drivers/kernel_cache.h"

namespace uop {
namespace {

// A 64x64x64 float matmul tile (i / j / k loops, j innermost): the biggest
// of the measured kernels. bufs: out, a, b.
constexpr char kMatmul[] = R"(
define void @matmul(ptr noalias %bufs, ptr noalias %vars, i64 %core) {
entry:
  %out = load ptr, ptr %bufs
  %a.p = getelementptr ptr, ptr %bufs, i64 1
  %a = load ptr, ptr %a.p
  %b.p = getelementptr ptr, ptr %bufs, i64 2
  %b = load ptr, ptr %b.p
  br label %li
li:
  %i = phi i64 [ 0, %entry ], [ %i.next, %li.end ]
  br label %lk
lk:
  %k = phi i64 [ 0, %li ], [ %k.next, %lk.end ]
  %aik.i = mul i64 %i, 64
  %aik.j = add i64 %aik.i, %k
  %aik.p = getelementptr float, ptr %a, i64 %aik.j
  %aik = load float, ptr %aik.p
  br label %lj
lj:
  %j = phi i64 [ 0, %lk ], [ %j.next, %lj ]
  %bkj.i = mul i64 %k, 64
  %bkj.j = add i64 %bkj.i, %j
  %bkj.p = getelementptr float, ptr %b, i64 %bkj.j
  %bkj = load float, ptr %bkj.p
  %o.j = add i64 %aik.i, %j
  %o.p = getelementptr float, ptr %out, i64 %o.j
  %o = load float, ptr %o.p
  %m = fmul float %aik, %bkj
  %s = fadd float %o, %m
  store float %s, ptr %o.p
  %j.next = add i64 %j, 1
  %j.done = icmp eq i64 %j.next, 64
  br i1 %j.done, label %lk.end, label %lj
lk.end:
  %k.next = add i64 %k, 1
  %k.done = icmp eq i64 %k.next, 64
  br i1 %k.done, label %li.end, label %lk
li.end:
  %i.next = add i64 %i, 1
  %i.done = icmp eq i64 %i.next, 64
  br i1 %i.done, label %exit, label %li
exit:
  ret void
}
)";

constexpr char kEmpty[] = R"(
define void @empty(ptr noalias %bufs, ptr noalias %vars, i64 %core) {
  ret void
}
)";

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Stats {
  double median, min, max;
};

Stats Measure(int reps, const std::function<void()>& f) {
  for (int i = 0; i < 2; ++i) f();  // warm-up
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const double s = NowSeconds();
    f();
    t.push_back(NowSeconds() - s);
  }
  std::sort(t.begin(), t.end());
  return {t[t.size() / 2], t.front(), t.back()};
}

void Print(const std::string& what, Stats s, double scale, const char* unit) {
  std::printf("%-44s %9.3f %s  (min %.3f, max %.3f)\n", what.c_str(), s.median * scale, unit,
              s.min * scale, s.max * scale);
}

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(s.message()).c_str());
    std::exit(1);
  }
}

int Main() {
  const double t0 = NowSeconds();
  absl::StatusOr<std::unique_ptr<CpuDevice>> dev = CpuDevice::Create({.threads = 2});
  Check(dev.status());
  std::printf("device: %s (%s)\n", (*dev)->info().description.c_str(),
              (*dev)->compiler().CacheKey().substr(0, 60).c_str());
  std::printf("%-44s %9.3f ms\n", "device create (LLVM init, target machine)",
              (NowSeconds() - t0) * 1e3);

  struct K {
    const char* name;
    const char* ir;
  };
  const std::vector<K> kernels = {{"add", test_kernels::kAdd},
                                  {"reduce", test_kernels::kReduce},
                                  {"table", test_kernels::kTable},
                                  {"vec16", test_kernels::kVec16},
                                  {"matmul", kMatmul}};
  Compiler& cc = (*dev)->compiler();
  {
    const double s = NowSeconds();
    Check(cc.Compile("add", test_kernels::kAdd).status());
    std::printf("%-44s %9.3f ms\n", "first compile in process (add)", (NowSeconds() - s) * 1e3);
  }
  std::vector<std::string> objects;
  for (const K& k : kernels) {
    std::string obj;
    Stats s = Measure(20, [&] {
      absl::StatusOr<std::string> o = cc.Compile(k.name, k.ir);
      Check(o.status());
      obj = *o;
    });
    Print(absl::StrCat("compile ", k.name, " (", obj.size(), " B object)"), s, 1e3, "ms");
    objects.push_back(obj);
  }
  for (size_t i = 0; i < kernels.size(); ++i) {
    Stats s = Measure(200, [&] {
      absl::StatusOr<std::unique_ptr<ElfObject>> o = ElfObject::Load(objects[i]);
      Check(o.status());
      Check((*o)->Symbol(kernels[i].name).status());
    });
    Print(absl::StrCat("object load ", kernels[i].name), s, 1e3, "ms");
  }

  const std::string dir = absl::StrCat("/tmp/uop_cpu_bench_cache_", getpid());
  {
    KernelCache cache(dir);
    for (const K& k : kernels) Check(CompileCached(cc, &cache, k.name, k.ir).status());
    for (size_t i = 0; i < kernels.size(); ++i) {
      const K& k = kernels[i];
      Stats s = Measure(200, [&] {
        bool hit = false;
        absl::StatusOr<std::string> bin = CompileCached(cc, &cache, k.name, k.ir, &hit);
        Check(bin.status());
        if (!hit) Check(absl::InternalError("expected a cache hit"));
        Check((*dev)->LoadProgram({k.name, {}, 0}, *bin).status());
      });
      Print(absl::StrCat("cache hit + load ", k.name), s, 1e3, "ms");
    }
    std::filesystem::remove_all(dir);
  }

  // Kernel run times (is the code vectorized?): matmul 64^3, add of 2^16.
  {
    Allocator& a = (*dev)->allocator();
    ScopedBuffer out(*a.Alloc(1 << 18)), x(*a.Alloc(1 << 18)), y(*a.Alloc(1 << 18));
    std::vector<float> ones(1 << 16, 1.0f);
    Check(a.CopyIn(*x, 0, AsBytes(absl::MakeConstSpan(ones))));
    Check(a.CopyIn(*y, 0, AsBytes(absl::MakeConstSpan(ones))));
    DeviceBuffer* bufs[] = {out.get(), x.get(), y.get()};
    absl::StatusOr<std::unique_ptr<Program>> mm =
        (*dev)->LoadProgram({"matmul", {1 << 14, 1 << 14, 1 << 14}, 0}, objects[4]);
    Check(mm.status());
    absl::StatusOr<std::unique_ptr<Program>> add =
        (*dev)->LoadProgram({"add", {1 << 18, 1 << 18, 1 << 18}, 1}, objects[0]);
    Check(add.status());
    const int64_t n = 1 << 16;
    Print("run matmul 64x64x64, global 1",
          Measure(200, [&] { Check((*mm)->Run(bufs, {}, LaunchDims{1}, {})); }), 1e6, "us");
    for (int64_t g : {4}) {  // the kernel splits its range in 4
      Print(absl::StrCat("run add 65536 floats, global ", g),
            Measure(200,
                    [&] {
                      Check((*add)->Run(bufs, {&n, 1}, LaunchDims{g}, {}));
                    }),
            1e6, "us");
    }
  }

  // Dispatch overhead: an empty kernel, so the time is the launch itself.
  absl::StatusOr<std::string> empty_obj = cc.Compile("empty", kEmpty);
  Check(empty_obj.status());
  absl::StatusOr<std::unique_ptr<Program>> empty =
      (*dev)->LoadProgram({"empty", {}, 0}, *empty_obj);
  Check(empty.status());
  for (int64_t cores : {1, 2, 4}) {
    Stats hot = Measure(5000, [&] { Check((*empty)->Run({}, {}, LaunchDims{cores}, {})); });
    Print(absl::StrCat("launch empty kernel, global ", cores, ", back to back"), hot, 1e6, "us");
  }
  {
    std::vector<double> t;
    for (int i = 0; i < 200; ++i) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
      const double s = NowSeconds();
      Check((*empty)->Run({}, {}, LaunchDims{2}, {}));
      t.push_back(NowSeconds() - s);
    }
    std::sort(t.begin(), t.end());
    std::printf("%-44s %9.3f us  (min %.3f, max %.3f)\n", "launch empty, global 2, worker asleep",
                t[t.size() / 2] * 1e6, t.front() * 1e6, t.back() * 1e6);
  }
  Stats six = Measure(2000, [&] {
    for (int i = 0; i < 6; ++i) Check((*empty)->Run({}, {}, LaunchDims{2}, {}));
  });
  Print("6 empty launches back to back, global 2", six, 1e6, "us");
  return 0;
}

}  // namespace
}  // namespace uop

int main() { return uop::Main(); }
