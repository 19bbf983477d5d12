// Engine: realizes tensor graphs on devices. It is the Realizer the Tensor API
// uses outside of tests (Engine::Install()).
//
// Realize: schedule (runtime/schedule) -> memory plan -> compile every kernel
// not yet compiled (in parallel, through the in-memory and disk caches) ->
// upload inputs that live only on the host -> run the items in order ->
// the written storages are now valid on the device.
//
//   Engine::Install();                          // Tensor::Realize now runs kernels
//   Tensor y = (x * 2).Sum({1});
//   ASSIGN_OR_RETURN(std::vector<float> v, y.ToVector<float>());
//
// Every launch can be recorded (Recorder) for the JIT, which replays the same
// programs with new input buffers without scheduling again.
//
// Thread safety: Realize calls are serialized; CopyToHost may run any time.
#ifndef UOP_RUNTIME_ENGINE_ENGINE_H_
#define UOP_RUNTIME_ENGINE_ENGINE_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "drivers/device.h"
#include "runtime/engine/compiled_kernel.h"
#include "runtime/tensor/realizer.h"

namespace uop {

// One launch as it ran: the program and the device buffers by slot.
struct RecordedLaunch {
  std::shared_ptr<CompiledKernel> kernel;  // null for a copy
  std::vector<DeviceBuffer*> bufs;         // slot order (a copy: {dst, src})
  std::vector<int64_t> buffer_ids;         // BufferArg ids, slot order
  // Per slot, for intermediates: the realize-unique arena id and the byte
  // offset in it (-1: the slot is a storage's own buffer).
  std::vector<int64_t> arena_ids;
  std::vector<int64_t> arena_offsets;
  bool is_copy = false;
};

// Receives every launch of a Realize while installed (JIT capture).
class Recorder {
 public:
  virtual ~Recorder() = default;
  virtual void OnLaunch(const RecordedLaunch& launch) = 0;
  // The realize read tensor data back to the host (not replayable).
  virtual void OnHostRead(const Storage& storage) = 0;
  // Memory the recorded launches point into (intermediate arenas); the
  // recorder keeps it alive for replays.
  virtual void KeepAlive(std::shared_ptr<void> resource) = 0;
  // An intermediate arena the recorded launches point into: its id (as in
  // RecordedLaunch::arena_ids), device and size. Optional to handle.
  virtual void OnArena(int64_t arena_id, Device& device, int64_t bytes) {}
};

struct EngineOptions {
  // Directory for compiled kernels; empty: KernelCache::DefaultDir(), and
  // no disk cache when that fails. "-" disables the disk cache.
  std::string cache_dir;
  // Threads compiling kernels of one realize in parallel.
  int compile_threads = 2;
  // BEAM search width for every kernel (0: hand-coded heuristics). The
  // environment variable UOP_BEAM overrides it. Results persist in the cache
  // directory, so each kernel is searched once per machine.
  int beam = 0;
  absl::Duration beam_budget = absl::Seconds(10);
};

struct EngineStats {
  uint64_t realizes = 0;
  uint64_t kernels_run = 0;
  uint64_t copies = 0;
  KernelCompilerStats compiler;
};

class Engine : public Realizer {
 public:
  explicit Engine(EngineOptions options = {});
  ~Engine() override;

  // Creates an Engine and makes it the Tensor API's realizer; returns it.
  static std::shared_ptr<Engine> Install(EngineOptions options = {});

  absl::string_view name() const override { return "engine"; }
  absl::Status Realize(const UOpPtr& sink) override;
  absl::Status CopyToHost(Storage& storage) override;

  // The device buffer holding `storage` on its device, uploading host
  // contents first when the device copy is missing or stale.
  absl::StatusOr<DeviceBuffer*> DeviceBufferFor(Storage& storage);

  void SetRecorder(Recorder* recorder);
  KernelCompiler& compiler() { return compiler_; }
  EngineStats stats() const;

  // Runs recorded launches again (JIT replay): same programs, the given
  // buffers. No scheduling, no compilation.
  absl::Status Replay(const std::vector<RecordedLaunch>& launches);

 private:
  absl::Status RunLaunch(const RecordedLaunch& launch);

  EngineOptions options_;
  int beam_width_ = 0;
  KernelCompiler compiler_;
  // std::mutex, not absl::Mutex: Debian's abseil is not annotated for
  // ThreadSanitizer, which then reports races under correctly held locks.
  std::mutex realize_mu_;
  mutable std::mutex mu_;
  Recorder* recorder_ ABSL_GUARDED_BY(mu_) = nullptr;
  EngineStats stats_ ABSL_GUARDED_BY(mu_);
  // Scratch arenas for intermediates, per device, reused across realizes.
  struct Arena {
    DeviceBuffer* buffer = nullptr;
    std::vector<std::unique_ptr<DeviceBuffer>> views;  // sub-buffers of the last realize
  };
  absl::flat_hash_map<Device*, std::vector<Arena>> arenas_ ABSL_GUARDED_BY(realize_mu_);
  // Per-GPU queues for JIT replays (command buffers become device graphs).
  // Each has its own lock, so replays on different GPUs run at the same time
  // (and beside a realize); replays on one GPU take turns on its queue.
  struct ReplayQueue {
    std::mutex mu;
    std::unique_ptr<Queue> queue ABSL_GUARDED_BY(mu);
  };
  std::mutex queues_mu_;
  absl::node_hash_map<Device*, ReplayQueue> queues_ ABSL_GUARDED_BY(queues_mu_);
};

}  // namespace uop

#endif  // UOP_RUNTIME_ENGINE_ENGINE_H_
