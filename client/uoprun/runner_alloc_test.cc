// The loop allocates nothing: every operator new while the loop runs is
// counted (this binary replaces the global allocation functions).
#include <atomic>
#include <cstdlib>
#include <new>

#include "client/uoprun/runner.h"
#include "client/uoprun/test_models.h"
#include "drivers/device_registry.h"
#include "gtest/gtest.h"

// GCC sees the replaced operator new inlined next to free() and warns about
// a mismatch that is not one: both sides here are malloc/free.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<bool> counting{false};
std::atomic<int64_t> allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  const size_t al = static_cast<size_t>(a);
  if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace uop::uoprun {
namespace {

TEST(RunnerAllocations, TheLoopAllocatesNothing) {
  Device* cpu = *DeviceRegistry::Global().Get("CPU");
  // Big enough that the CPU device splits kernels over its thread pool.
  TestModel m = MlpModel(32, 128, 256, 16);
  absl::StatusOr<Artifact> a = CompileFunction(m.fn, m.inputs, m.outputs, {});
  ASSERT_TRUE(a.ok()) << a.status();
  auto r = *Runner::Create(*a, *cpu);
  LoopOptions o{.hz = 2000, .iterations = 200};
  o.watchdog = absl::Seconds(10);
  int64_t steps = 0;
  // Count from the end of the first step to the end of the last: the steps,
  // the sleeps, the statistics and the watchdog in between.
  o.after_step = [&](int64_t step) {
    ++steps;
    if (step == 0) counting.store(true);
    if (step == o.iterations - 1) counting.store(false);
  };
  absl::StatusOr<LoopStats> s = r->Run(o);
  counting.store(false);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(steps, 200);
  EXPECT_EQ(allocations.load(), 0) << "allocations in 199 loop iterations";

  // The hook is live: an allocating step is seen.
  o.iterations = 3;
  o.after_step = [&](int64_t step) {
    if (step == 0) counting.store(true);
    // A direct call (a new-expression could be elided).
    if (step == 1) ::operator delete(::operator new(16));
    if (step == 2) counting.store(false);
  };
  ASSERT_TRUE(r->Run(o).ok());
  EXPECT_GE(allocations.load(), 1);
}

}  // namespace
}  // namespace uop::uoprun
