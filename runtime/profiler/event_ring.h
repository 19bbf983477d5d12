// EventRing: one thread's bounded, overwrite-oldest event buffer (the flight
// recorder's storage).
//
// One writer (the owning thread) appends with Push: a few plain stores and one
// release store, no lock, no allocation except the first time each 128 KiB
// chunk is touched (memory grows with use up to the capacity, so an idle
// thread costs nothing). Any thread may copy the ring at any time with
// CopyTo, like a seqlock reader: it copies, then re-reads the head and drops
// the events the writer may have overwritten meanwhile, so a snapshot never
// contains a torn event and never blocks the writer.
//
//   EventRing ring(/*capacity=*/1 << 16);
//   ring.Push(Event::Instant(track, name, NowNs()));   // owning thread
//   std::vector<Event> copy;
//   ring.CopyTo(&copy, /*min_ts=*/0);                   // any thread
//
// Words are accessed through std::atomic_ref (relaxed), so concurrent Push
// and CopyTo are data-race free (ThreadSanitizer-clean), at the cost of
// nothing on x86.
#ifndef UOP_RUNTIME_PROFILER_EVENT_RING_H_
#define UOP_RUNTIME_PROFILER_EVENT_RING_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/profiler/event.h"

namespace uop::profiler {

class EventRing {
 public:
  static constexpr size_t kChunkEvents = 1024;  // 128 KiB

  // `capacity` events, rounded up to a whole number of chunks (at least one).
  explicit EventRing(size_t capacity);
  ~EventRing();
  EventRing(const EventRing&) = delete;
  EventRing& operator=(const EventRing&) = delete;

  // Owning thread only.
  void Push(const Event& event);

  // Appends the events still in the ring with ts >= min_ts, oldest first.
  // Returns how many events were overwritten since the ring was created
  // (dropped by the bound, or during this copy).
  uint64_t CopyTo(std::vector<Event>* out, int64_t min_ts) const;

  size_t capacity() const { return capacity_; }
  // The capacity a ring constructed with `capacity` has.
  static size_t RoundedCapacity(size_t capacity) {
    return (capacity == 0 ? 1 : (capacity + kChunkEvents - 1) / kChunkEvents) * kChunkEvents;
  }
  // Events pushed since creation.
  uint64_t pushed() const { return head_.load(std::memory_order_acquire); }

 private:
  struct Chunk;
  Event* SlotForWrite(uint64_t index);

  const size_t num_chunks_;
  const size_t capacity_;
  std::unique_ptr<std::atomic<Chunk*>[]> chunks_;
  std::atomic<uint64_t> head_{0};
};

}  // namespace uop::profiler

#endif  // UOP_RUNTIME_PROFILER_EVENT_RING_H_
