// FencedRing: byte space in a circular buffer (a command ring, kernel
// arguments) that is reused only once the GPU finished with it.
//
// An engine reserves space for the batch it builds, and when it submits the
// batch it commits the reserved pieces under the batch's fence. A later
// reservation that would overwrite a piece first waits, through `await`
// (bounded by the engine's wait timeout), for that piece's fence.
//
//   FencedRing ring(4 << 20, [&](uint64_t f, const char* why) { return AwaitFence(f, why); });
//   ASSIGN_OR_RETURN(size_t off, ring.Reserve(4096, 256));
//   ... write at base + off, submit the batch as fence 17 ...
//   ring.Commit(17);
//
// Thread safety: one thread at a time (the queue's executor).
#ifndef UOP_DRIVERS_COMMON_FENCED_RING_H_
#define UOP_DRIVERS_COMMON_FENCED_RING_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace uop {

class FencedRing {
 public:
  using Await = std::function<absl::Status(uint64_t fence, const char* why)>;
  FencedRing(std::string name, size_t size, Await await)
      : name_(std::move(name)), size_(size), await_(std::move(await)) {}

  // Offset of `bytes` of space aligned to `align` (a power of two), at most
  // half the ring (a batch must fit twice).
  absl::StatusOr<size_t> Reserve(size_t bytes, size_t align);
  // Bytes reserved since the last Commit.
  size_t pending_bytes() const { return pending_bytes_; }
  // The pieces reserved since the last Commit are free once `fence` is done.
  void Commit(uint64_t fence);
  size_t size() const { return size_; }

 private:
  struct Piece {
    size_t begin, end;
    uint64_t fence;
  };
  const std::string name_;
  const size_t size_;
  const Await await_;
  size_t head_ = 0;
  uint64_t awaited_ = 0;  // fences up to this one are known done
  size_t pending_bytes_ = 0;
  std::vector<std::pair<size_t, size_t>> pending_;
  std::deque<Piece> in_flight_;
};

}  // namespace uop

#endif  // UOP_DRIVERS_COMMON_FENCED_RING_H_
