#include "client/lib/infer_stream.h"

#include "absl/time/clock.h"
#include "client/lib/grpc_status.h"

namespace uop::client {

std::unique_ptr<InferStream> InferStream::Open(inference::GRPCInferenceService::Stub& stub,
                                               Callback on_response, absl::Time deadline) {
  std::unique_ptr<InferStream> s(new InferStream(std::move(on_response)));
  if (deadline != absl::InfiniteFuture()) s->context_.set_deadline(absl::ToChronoTime(deadline));
  s->stream_ = stub.ModelStreamInfer(&s->context_);
  s->reader_ = std::thread([raw = s.get()] { raw->ReadLoop(); });
  return s;
}

void InferStream::ReadLoop() {
  inference::ModelStreamInferResponse response;
  while (stream_->Read(&response)) {
    if (!response.error_message().empty()) {
      // A per-request error carries no code on the wire.
      on_response_(
          absl::UnknownError(absl::StrCat("ModelStreamInfer: ", response.error_message())));
    } else {
      std::vector<RequestedOutput> requested;
      {
        absl::MutexLock lock(&mu_);
        auto it = shm_outputs_.find(response.infer_response().id());
        if (it != shm_outputs_.end()) {
          requested = std::move(it->second);
          shm_outputs_.erase(it);
        }
      }
      on_response_(
          InferResult::FromResponse(std::move(*response.mutable_infer_response()), requested));
    }
    response.Clear();
  }
}

absl::Status InferStream::Write(const InferOptions& options, const std::vector<InferInput>& inputs,
                                const std::vector<RequestedOutput>& outputs) {
  bool shm = false;
  for (const RequestedOutput& o : outputs) shm |= o.shared_memory.has_value();
  if (shm && options.request_id.empty()) {
    return absl::InvalidArgumentError(
        "ModelStreamInfer: a request with shared-memory outputs needs a request_id");
  }
  inference::ModelInferRequest request = BuildInferRequest(options, inputs, outputs);
  absl::MutexLock lock(&mu_);
  if (writes_done_) {
    return absl::FailedPreconditionError("ModelStreamInfer: Write after Finish");
  }
  if (shm) shm_outputs_[options.request_id] = outputs;
  if (!stream_->Write(request)) {
    return absl::UnavailableError(
        "ModelStreamInfer: the stream is closed (Finish() returns the reason)");
  }
  return absl::OkStatus();
}

absl::Status InferStream::Finish() {
  absl::MutexLock finishing(&finish_mu_);  // one Finish at a time: it joins the reader
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return final_status_;
    if (!writes_done_) {
      writes_done_ = true;
      stream_->WritesDone();
    }
  }
  // The reader ends when the server closes its side.
  reader_.join();
  absl::Status status = FromGrpcStatus("ModelStreamInfer", stream_->Finish());
  absl::MutexLock lock(&mu_);
  final_status_ = status;
  finished_ = true;
  return final_status_;
}

InferStream::~InferStream() {
  bool finished;
  {
    absl::MutexLock lock(&mu_);
    finished = finished_;
  }
  if (!finished) {
    context_.TryCancel();
    Finish().IgnoreError();
  }
}

}  // namespace uop::client
