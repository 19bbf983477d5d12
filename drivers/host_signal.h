// HostSignal: a Signal in host memory, woken through a condition variable.
//
// Used by the CPU and null devices, and by any driver whose completions the
// host observes itself (an interrupt thread calling Set). value() and an
// already-satisfied Wait are lock-free; a blocking Wait sleeps on a
// std::condition_variable and is woken by the Set that satisfies it — no
// polling. (std, not absl::Mutex: ThreadSanitizer sees through pthreads but
// not through the uninstrumented system abseil.)
//
//   HostSignal s("CPU:0", "done", 0);
//   std::thread t([&] { (void)s.Set(1); });
//   absl::Status st = s.Wait(1, absl::Seconds(1));  // OK, or DeadlineExceeded
#ifndef UOP_DRIVERS_HOST_SIGNAL_H_
#define UOP_DRIVERS_HOST_SIGNAL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "drivers/signal.h"

namespace uop {

class HostSignal final : public Signal {
 public:
  HostSignal(std::string device, std::string name, uint64_t initial);

  uint64_t value() const override { return value_.load(std::memory_order_acquire); }
  absl::Status Set(uint64_t value) override;
  absl::Status Wait(uint64_t value, absl::Duration timeout,
                    absl::string_view waiter = "host") override;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiters_ = 0;              // guarded by mu_
  std::atomic<uint64_t> value_;  // written only under mu_
};

}  // namespace uop

#endif  // UOP_DRIVERS_HOST_SIGNAL_H_
