// CudaQueue: a Queue (drivers/queue.h) on one CUDA stream.
//
// A host thread takes submitted command buffers in order and enqueues their
// work on the stream without waiting for the GPU: Exec → cuLaunchKernel,
// Copy → an async memcpy, SignalValue → a host function that sets the signal
// when the GPU reaches it, Wait → a bounded host wait on the signal before
// anything after it is enqueued (a timeout fails the queue with the signal's
// DeadlineExceeded, naming device, queue, signal and values). After each
// buffer a host function advances the queue's `done` timeline, which
// Queue::Wait waits on with its (finite) timeout.
//
// CUDA graphs: command buffers whose body is only Exec commands (leading
// Waits and trailing SignalValues allowed) are keyed by their structure (the
// programs and launch dims, in order). The second time a structure is
// submitted (e.g. a JIT replay) it becomes a CUDA graph, and from then on it
// is replayed with one cuGraphLaunch; buffers or variables that differ from
// the last launch (new inputs bound) are patched into the instantiated graph
// (cuGraphExecKernelNodeSetParams) first. At most kMaxGraphs structures are
// kept (least recently used goes first).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Queue> q, gpu->CreateQueue("compute"));
//   RETURN_IF_ERROR(q->Submit(cmds));   // first: direct launches
//   RETURN_IF_ERROR(q->Submit(cmds));   // again: built into a graph, launched
//   RETURN_IF_ERROR(q->Wait(absl::Seconds(5)));
#ifndef UOP_DRIVERS_CUDA_CUDA_QUEUE_H_
#define UOP_DRIVERS_CUDA_CUDA_QUEUE_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "drivers/cuda/cuda_program.h"
#include "drivers/cuda/cuda_stream.h"
#include "drivers/host_signal.h"
#include "drivers/queue.h"

namespace uop::cuda {

struct CudaQueueStats {
  uint64_t graphs_built = 0;
  uint64_t graph_launches = 0;
  uint64_t nodes_updated = 0;  // kernel nodes re-pointed at new arguments
  uint64_t direct_launches = 0;
};

class CudaQueue final : public Queue {
 public:
  static absl::StatusOr<std::unique_ptr<CudaQueue>> Create(CudaDevice* device, std::string name,
                                                           const QueueOptions& options);
  // Finishes the work already submitted (bounded by the queue's wait
  // timeout), then stops the thread.
  ~CudaQueue() override;

  const std::string& name() const override { return name_; }
  absl::Status Submit(std::shared_ptr<const CommandBuffer> commands) override;
  absl::Status Wait(absl::Duration timeout) override;

  CudaQueueStats stats() const;

 private:
  static constexpr size_t kMaxGraphs = 32;
  struct Graph;
  CudaQueue(CudaDevice* device, std::string name, const QueueOptions& options);
  void Loop();
  absl::Status Execute(const std::shared_ptr<const CommandBuffer>& cb);
  absl::Status ExecuteCommand(const Command& c, const std::string& waiter);
  absl::Status Copy(const CopyCommand& c);
  // The graph for `cb` when it qualifies and was seen before; nullptr to run
  // it directly.
  absl::StatusOr<Graph*> GraphFor(const CommandBuffer& cb);
  absl::Status LaunchGraph(Graph& g, const CommandBuffer& cb);
  void DestroyGraph(Graph& g);

  CudaDevice* const device_;
  const std::string name_;
  const QueueOptions options_;
  std::unique_ptr<CudaStream> stream_;
  HostSignal done_;  // command buffers completed (or skipped after a failure)

  std::mutex mu_;
  std::condition_variable work_;
  std::deque<std::shared_ptr<const CommandBuffer>> pending_;  // guarded by mu_
  uint64_t submitted_ = 0;                                    // guarded by mu_
  uint64_t taken_ = 0;                                        // worker thread only
  absl::Status error_;                                        // guarded by mu_
  bool stop_ = false;                                         // guarded by mu_

  // Worker thread only: graphs by structure key, and a use clock for LRU.
  absl::flat_hash_map<std::string, std::unique_ptr<Graph>> graphs_;
  uint64_t clock_ = 0;

  std::atomic<uint64_t> graphs_built_{0}, graph_launches_{0}, nodes_updated_{0},
      direct_launches_{0};
  std::thread thread_;
};

}  // namespace uop::cuda

#endif  // UOP_DRIVERS_CUDA_CUDA_QUEUE_H_
