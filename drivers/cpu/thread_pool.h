// ThreadPool: runs fn(i) for i in [0, n) on a persistent set of threads.
//
// The CPU device calls a kernel once per core_id through it. The calling
// thread takes part, so a pool of N threads has N-1 workers. Dispatch is
// built for tiny kernels called back to back (JIT replay): after each job,
// workers spin for `spin` (default 50 µs) watching for the next one, and
// only then block in a futex; a caller wakes sleepers only when there are
// any. Items are claimed dynamically, so n may exceed the thread count.
//
//   ThreadPool pool(/*num_threads=*/4);
//   pool.ParallelFor(16, [&](int64_t i) { out[i] = f(i); });  // returns when all 16 ran
//
// Thread safety: ParallelFor may be called from several threads; jobs run
// one at a time. It must not be called from inside a job (not reentrant).
#ifndef UOP_DRIVERS_CPU_THREAD_POOL_H_
#define UOP_DRIVERS_CPU_THREAD_POOL_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/time/time.h"

namespace uop {

class ThreadPool {
 public:
  using Fn = void (*)(void* ctx, int64_t i);

  // num_threads counts the caller: 1 means no workers (everything runs on
  // the calling thread). Values < 1 are treated as 1.
  explicit ThreadPool(int num_threads, absl::Duration spin = absl::Microseconds(50));
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs fn(ctx, i) for every i in [0, n), spread over the pool, and returns
  // when all have finished (their writes visible to the caller).
  void ParallelFor(int64_t n, Fn fn, void* ctx);

  template <typename F>
  void ParallelFor(int64_t n, F&& f) {
    using Callable = std::remove_reference_t<F>;
    ParallelFor(
        n, [](void* ctx, int64_t i) { (*static_cast<Callable*>(ctx))(i); },
        const_cast<void*>(static_cast<const void*>(&f)));
  }

  // The number of processors this process may run on (sched_getaffinity).
  static int AvailableCores();

 private:
  void WorkerLoop();
  // Claims and runs items of the current job until none are left.
  void RunItems();

  std::mutex dispatch_mu_;  // one job at a time
  const int64_t spin_ns_;

  // The current job; written only while epoch_ is odd and no worker is active.
  Fn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0;

  alignas(64) std::atomic<uint32_t> epoch_{0};  // odd: job being written; even: published
  alignas(64) std::atomic<int64_t> next_{0};    // next unclaimed item
  alignas(64) std::atomic<int64_t> done_{0};    // finished items
  std::atomic<uint32_t> finished_{0};           // futex word: 1 once done_ == n_
  std::atomic<int> active_{0};                  // workers inside the current job
  std::atomic<int> sleepers_{0};                // workers blocked on epoch_
  std::atomic<bool> caller_waiting_{false};     // caller blocked on finished_
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_CPU_THREAD_POOL_H_
