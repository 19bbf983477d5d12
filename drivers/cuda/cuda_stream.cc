#include "drivers/cuda/cuda_stream.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop::cuda {
namespace {

// How long Synchronize polls cuStreamQuery before blocking on the timeline:
// about the cost of a host-function round trip.
constexpr auto kSpin = std::chrono::microseconds(40);

struct SetArg {
  Signal* signal;
  uint64_t value;
};

void SetSignal(void* user_data) {
  auto* arg = static_cast<SetArg*>(user_data);
  // Host functions of one stream run in order; a value below the current
  // one (another queue got further) is refused by the signal and ignored.
  (void)arg->signal->Set(arg->value);
  delete arg;
}

}  // namespace

CudaStream::CudaStream(const CudaContext& ctx, std::string name)
    : ctx_(ctx),
      name_(std::move(name)),
      timeline_(std::make_unique<HostSignal>(ctx.name, name_ + "/timeline", 0)) {
  timeline_->set_expected_signaler(name_);
}

CudaStream::~CudaStream() {
  if (stream_ == nullptr) return;
  // cuStreamDestroy returns at once; the driver releases the stream after its
  // work (and pending host functions, which reference timeline_) finishes.
  // Wait for those (bounded) so the callbacks never outlive the signal.
  absl::Status st = Synchronize(absl::Seconds(10), "stream destructor");
  if (st.code() == absl::StatusCode::kDeadlineExceeded) {
    // A kernel that never finishes: leak the stream and its timeline rather
    // than let a late callback write freed memory.
    (void)timeline_.release();
    return;
  }
  (void)ctx_.MakeCurrent();
  ctx_.api->cuStreamDestroy(stream_);
}

absl::Status CudaStream::Init() {
  RETURN_IF_ERROR(ctx_.MakeCurrent());
  return ctx_.Check(ctx_.api->cuStreamCreate(&stream_, kStreamNonBlocking), "cuStreamCreate");
}

absl::Status CudaStream::EnqueueSet(Signal* signal, uint64_t value) {
  auto* arg = new SetArg{signal, value};
  CUresult r = ctx_.api->cuLaunchHostFunc(stream_, SetSignal, arg);
  if (r != kCudaSuccess) {
    delete arg;
    return ctx_.Check(r, "cuLaunchHostFunc");
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> CudaStream::Mark() {
  // Values are enqueued in the order they are taken, so the timeline only
  // grows.
  std::lock_guard<std::mutex> lock(mark_mu_);
  const uint64_t value = next_ + 1;
  RETURN_IF_ERROR(EnqueueSet(timeline_.get(), value));
  next_ = value;
  return value;
}

absl::Status CudaStream::Query() const {
  CUresult r = ctx_.api->cuStreamQuery(stream_);
  if (r == kCudaSuccess || r == kCudaErrorNotReady) return absl::OkStatus();
  return ctx_.api->Check(r, "cuStreamQuery", absl::StrCat(ctx_.name, " stream '", name_, "'"));
}

absl::Status CudaStream::Wait(uint64_t value, absl::Duration timeout, absl::string_view waiter) {
  absl::Status st = timeline_->Wait(value, timeout, waiter);
  if (!st.ok()) {
    // A faulted context never runs the host function: report the fault.
    RETURN_IF_ERROR(Query());
    return st;
  }
  return Query();
}

absl::Status CudaStream::Synchronize(absl::Duration timeout, absl::string_view waiter) {
  RETURN_IF_ERROR(ctx_.MakeCurrent());
  const auto spin_end = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    CUresult r = ctx_.api->cuStreamQuery(stream_);
    if (r == kCudaSuccess) return absl::OkStatus();
    if (r != kCudaErrorNotReady) return Query();
    if (std::chrono::steady_clock::now() >= spin_end) break;
  }
  ASSIGN_OR_RETURN(uint64_t value, Mark());
  return Wait(value, timeout, waiter);
}

}  // namespace uop::cuda
