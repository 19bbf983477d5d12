// CudaContext and CudaStream: the pieces every part of the CUDA backend
// shares — the device's (primary) context, and streams whose completion the
// host can wait for with a bound.
//
// A CudaStream is a CUstream plus a host timeline signal (drivers/signal.h):
// Mark() enqueues a host function that raises the timeline to the next value
// once everything before it on the stream has finished, and Wait(value)
// blocks on that signal with a finite timeout. So no wait on the GPU is ever
// unbounded (cuStreamSynchronize/cuEventSynchronize are never called), and a
// timeout is a DeadlineExceeded naming the device, the stream, the value
// expected and the value seen. Synchronize() first spins briefly on
// cuStreamQuery (short kernels finish within microseconds; a host function
// round trip costs more), then falls back to Mark + Wait. Nothing sleeps in
// a polling loop.
//
//   CudaStream s(ctx, "CUDA:0/sync");
//   RETURN_IF_ERROR(s.Init());
//   RETURN_IF_ERROR(ctx.Check(ctx.api->cuLaunchKernel(..., s.get(), ...), "cuLaunchKernel"));
//   RETURN_IF_ERROR(s.Synchronize(absl::Seconds(30), "host"));
#ifndef UOP_DRIVERS_CUDA_CUDA_STREAM_H_
#define UOP_DRIVERS_CUDA_CUDA_STREAM_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "drivers/cuda/cuda_api.h"
#include "drivers/host_signal.h"

namespace uop::cuda {

// The device's primary context; MakeCurrent before driver calls on a thread.
struct CudaContext {
  const CudaApi* api = nullptr;
  CUcontext ctx = nullptr;
  CUdevice device = 0;
  std::string name;  // "CUDA:0"

  absl::Status MakeCurrent() const { return Check(api->cuCtxSetCurrent(ctx), "cuCtxSetCurrent"); }
  absl::Status Check(CUresult r, const char* call) const { return api->Check(r, call, name); }
};

class CudaStream {
 public:
  CudaStream(const CudaContext& ctx, std::string name);
  ~CudaStream();
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;

  // Creates the (non-blocking) stream.
  absl::Status Init();

  CUstream get() const { return stream_; }
  const std::string& name() const { return name_; }
  const CudaContext& context() const { return ctx_; }

  // Enqueues a timeline increment; returns the value the timeline reaches
  // once all work enqueued before it has finished.
  absl::StatusOr<uint64_t> Mark();
  // Blocks until the timeline reaches `value` (bounded), then reports any
  // error the stream ran into.
  absl::Status Wait(uint64_t value, absl::Duration timeout, absl::string_view waiter);
  // Enqueues a host function that sets `signal` to `value` once everything
  // enqueued before it has finished (how queues signal their timelines).
  absl::Status EnqueueSet(Signal* signal, uint64_t value);
  // Waits for everything enqueued so far (bounded).
  absl::Status Synchronize(absl::Duration timeout, absl::string_view waiter);

  // The stream's first asynchronous error (a faulting kernel), or OK.
  absl::Status Query() const;

  HostSignal& timeline() { return *timeline_; }

 private:
  const CudaContext ctx_;
  const std::string name_;
  CUstream stream_ = nullptr;
  // Heap-allocated: leaked, not freed, if the stream is destroyed with work
  // that never finishes (its host functions still point at it).
  std::unique_ptr<HostSignal> timeline_;
  std::mutex mark_mu_;  // values are enqueued in the order they are taken
  uint64_t next_ = 0;   // guarded by mark_mu_
};

}  // namespace uop::cuda

#endif  // UOP_DRIVERS_CUDA_CUDA_STREAM_H_
