#include "runtime/profiler/event_ring.h"

#include <algorithm>

namespace uop::profiler {

struct EventRing::Chunk {
  Event events[kChunkEvents];
};

namespace {

constexpr size_t kWords = sizeof(Event) / sizeof(uint64_t);

// Word-wise relaxed copies: the writer and a concurrent reader never race in
// the C++ sense; the head re-check discards what a reader saw torn.
void StoreWords(Event* dst, const Event& src) {
  const auto* s = reinterpret_cast<const uint64_t*>(&src);
  auto* d = reinterpret_cast<uint64_t*>(dst);
  for (size_t i = 0; i < kWords; ++i)
    std::atomic_ref<uint64_t>(d[i]).store(s[i], std::memory_order_relaxed);
}

void LoadWords(Event* dst, Event* src) {
  auto* s = reinterpret_cast<uint64_t*>(src);
  auto* d = reinterpret_cast<uint64_t*>(dst);
  for (size_t i = 0; i < kWords; ++i)
    d[i] = std::atomic_ref<uint64_t>(s[i]).load(std::memory_order_relaxed);
}

}  // namespace

EventRing::EventRing(size_t capacity)
    : num_chunks_(RoundedCapacity(capacity) / kChunkEvents),
      capacity_(RoundedCapacity(capacity)),
      chunks_(new std::atomic<Chunk*>[num_chunks_]) {
  for (size_t i = 0; i < num_chunks_; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

EventRing::~EventRing() {
  for (size_t i = 0; i < num_chunks_; ++i) delete chunks_[i].load(std::memory_order_relaxed);
}

Event* EventRing::SlotForWrite(uint64_t index) {
  std::atomic<Chunk*>& c = chunks_[(index / kChunkEvents) % num_chunks_];
  Chunk* chunk = c.load(std::memory_order_relaxed);  // only this thread stores it
  if (chunk == nullptr) {
    chunk = new Chunk;
    c.store(chunk, std::memory_order_release);
  }
  return &chunk->events[index % kChunkEvents];
}

void EventRing::Push(const Event& event) {
  const uint64_t index = head_.load(std::memory_order_relaxed);
  Event* slot = SlotForWrite(index);
  // Orders the previous head store before these slot stores for a reader
  // that sees one of them (seqlock writer side).
  std::atomic_thread_fence(std::memory_order_release);
  StoreWords(slot, event);
  head_.store(index + 1, std::memory_order_release);
}

uint64_t EventRing::CopyTo(std::vector<Event>* out, int64_t min_ts) const {
  const uint64_t h1 = head_.load(std::memory_order_acquire);
  const uint64_t begin = h1 > capacity_ ? h1 - capacity_ : 0;
  const size_t first_out = out->size();
  out->resize(first_out + (h1 - begin));
  for (uint64_t i = begin; i < h1; ++i) {
    Chunk* chunk = chunks_[(i / kChunkEvents) % num_chunks_].load(std::memory_order_acquire);
    LoadWords(&(*out)[first_out + (i - begin)], &chunk->events[i % kChunkEvents]);
  }
  std::atomic_thread_fence(std::memory_order_acquire);
  const uint64_t h2 = head_.load(std::memory_order_relaxed);
  // The writer may be writing index h2 right now, which overwrites h2 - capacity.
  const uint64_t valid_from = h2 >= capacity_ ? h2 - capacity_ + 1 : 0;
  size_t kept = first_out;
  for (uint64_t i = begin; i < h1; ++i) {
    const Event& e = (*out)[first_out + (i - begin)];
    if (i >= valid_from && e.ts >= min_ts) (*out)[kept++] = e;
  }
  out->resize(kept);
  return valid_from;
}

}  // namespace uop::profiler
