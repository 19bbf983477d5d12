#include "drivers/cpu/thread_pool.h"

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

TEST(ThreadPool, RunsEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.num_threads(), threads);
    for (int64_t n : {0, 1, 2, 3, 7, 64, 1000}) {
      std::vector<std::atomic<int>> hits(n);
      pool.ParallelFor(n, [&](int64_t i) { hits[i].fetch_add(1); });
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(hits[i].load(), 1) << threads << " " << n << " " << i;
    }
  }
}

TEST(ThreadPool, UsesSeveralThreads) {
  ThreadPool pool(2, absl::Milliseconds(10));
  std::mutex mu;
  std::set<std::thread::id> ids;
  // Each item waits for the other, so both must run at once on two threads.
  std::atomic<int> arrived{0};
  pool.ParallelFor(2, [&](int64_t) {
    arrived.fetch_add(1);
    while (arrived.load() < 2) std::this_thread::yield();
    std::lock_guard<std::mutex> lock(mu);
    ids.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(ids.size(), 2u);
}

// Writes made by workers are visible to the caller after ParallelFor, in
// many back-to-back jobs (the spin path) and after workers fell asleep.
TEST(ThreadPool, ResultsVisibleAfterEachJobSpinningAndSleeping) {
  ThreadPool pool(3, absl::Microseconds(20));
  std::vector<int64_t> out(48);
  for (int round = 0; round < 2000; ++round) {
    pool.ParallelFor(48, [&](int64_t i) { out[i] = round * 100 + i; });
    for (int64_t i = 0; i < 48; ++i) ASSERT_EQ(out[i], round * 100 + i) << round;
    if (round % 500 == 0) absl::SleepFor(absl::Milliseconds(2));  // let workers sleep
  }
}

TEST(ThreadPool, ConcurrentCallersAreSerializedSafely) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c) {
    callers.emplace_back([&] {
      for (int r = 0; r < 300; ++r) pool.ParallelFor(5, [&](int64_t i) { total.fetch_add(i + 1); });
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(total.load(), 3 * 300 * 15);
}

TEST(ThreadPool, LongItemsLetTheCallerSleepAndStillComplete) {
  ThreadPool pool(2, absl::Microseconds(1));
  std::atomic<int> done{0};
  pool.ParallelFor(2, [&](int64_t i) {
    if (i == 1) absl::SleepFor(absl::Milliseconds(20));
    done.fetch_add(1);
  });
  EXPECT_EQ(done.load(), 2);
}

TEST(ThreadPool, AvailableCoresIsPositive) { EXPECT_GE(ThreadPool::AvailableCores(), 1); }

}  // namespace
}  // namespace uop
