#include "drivers/cpu/thread_pool.h"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <climits>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace uop {
namespace {

inline void CpuRelax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

// Blocks while *word == expected (or until a spurious wakeup).
void FutexWait(std::atomic<uint32_t>* word, uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected, nullptr,
          nullptr, 0);
}

void FutexWakeAll(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
          nullptr, 0);
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ThreadPool::ThreadPool(int num_threads, absl::Duration spin)
    : spin_ns_(absl::ToInt64Nanoseconds(spin)) {
  for (int i = 1; i < num_threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(dispatch_mu_);
    stop_.store(true, std::memory_order_seq_cst);
    epoch_.fetch_add(2, std::memory_order_seq_cst);
  }
  FutexWakeAll(&epoch_);
  for (std::thread& t : workers_) t.join();
}

int ThreadPool::AvailableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

void ThreadPool::RunItems() {
  int64_t ran = 0;
  for (int64_t i; (i = next_.fetch_add(1, std::memory_order_relaxed)) < n_; ++ran) fn_(ctx_, i);
  if (ran == 0) return;
  // acq_rel: the last finisher's release of finished_ carries every
  // participant's writes to the caller.
  if (done_.fetch_add(ran, std::memory_order_acq_rel) + ran == n_) {
    finished_.store(1, std::memory_order_seq_cst);
    if (caller_waiting_.load(std::memory_order_seq_cst)) FutexWakeAll(&finished_);
  }
}

void ThreadPool::ParallelFor(int64_t n, Fn fn, void* ctx) {
  if (n <= 0) return;
  if (n == 1 || workers_.empty()) {
    for (int64_t i = 0; i < n; ++i) fn(ctx, i);
    return;
  }
  std::lock_guard<std::mutex> lock(dispatch_mu_);
  // Close the previous job: odd epoch first, then wait out workers still
  // inside it. A worker that enters after this point sees the odd epoch (both
  // sides are seq_cst) and backs off without touching the job fields.
  const uint32_t e = epoch_.load(std::memory_order_relaxed);
  epoch_.store(e + 1, std::memory_order_seq_cst);
  while (active_.load(std::memory_order_seq_cst) != 0) CpuRelax();
  fn_ = fn;
  ctx_ = ctx;
  n_ = n;
  next_.store(0, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  finished_.store(0, std::memory_order_relaxed);
  epoch_.store(e + 2, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) FutexWakeAll(&epoch_);

  RunItems();

  // Wait for items still running on workers: spin, then sleep.
  if (finished_.load(std::memory_order_acquire) == 0) {
    const int64_t deadline = NowNs() + spin_ns_;
    for (int k = 0; finished_.load(std::memory_order_acquire) == 0; ++k) {
      CpuRelax();
      if ((k & 63) == 63 && NowNs() > deadline) {
        caller_waiting_.store(true, std::memory_order_seq_cst);
        while (finished_.load(std::memory_order_seq_cst) == 0) FutexWait(&finished_, 0);
        caller_waiting_.store(false, std::memory_order_relaxed);
        break;
      }
    }
  }
}

void ThreadPool::WorkerLoop() {
  // Not the current epoch: a thread that starts late must still see the jobs
  // (or the stop) published since construction, where the epoch was 0.
  uint32_t seen = 0;
  for (;;) {
    if (stop_.load(std::memory_order_acquire)) return;
    // Wait for a published epoch newer than the last job we took part in.
    uint32_t e = epoch_.load(std::memory_order_acquire);
    if (e == seen || (e & 1)) {
      const int64_t deadline = NowNs() + spin_ns_;
      for (int k = 0;; ++k) {
        e = epoch_.load(std::memory_order_acquire);
        if (e != seen && !(e & 1)) break;
        CpuRelax();
        if ((k & 63) == 63 && NowNs() > deadline) {
          sleepers_.fetch_add(1, std::memory_order_seq_cst);
          e = epoch_.load(std::memory_order_seq_cst);
          if (e == seen || (e & 1)) FutexWait(&epoch_, e);
          sleepers_.fetch_sub(1, std::memory_order_relaxed);
          break;  // re-check from the top
        }
      }
      continue;
    }
    active_.fetch_add(1, std::memory_order_seq_cst);
    e = epoch_.load(std::memory_order_seq_cst);
    if (e & 1) {  // a new job is being written; wait for it to be published
      active_.fetch_sub(1, std::memory_order_release);
      continue;
    }
    seen = e;
    RunItems();
    active_.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace uop
