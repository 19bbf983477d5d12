// InferStream: one bidirectional ModelStreamInfer call. Requests go out with
// Write; every response (or per-request error, which on a stream does not end
// the call) arrives in the callback, on the stream's own reader thread, in
// the order the server sends them.
//
//   ASSIGN_OR_RETURN(auto stream, client->OpenStream([](absl::StatusOr<InferResult> r) {...}));
//   for (...) RETURN_IF_ERROR(stream->Write({.model_name = "add"}, {a, b}));
//   RETURN_IF_ERROR(stream->Finish());   // waits for the remaining responses
#ifndef UOP_CLIENT_LIB_INFER_STREAM_H_
#define UOP_CLIENT_LIB_INFER_STREAM_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "client/lib/infer_tensor.h"
#include "proto/grpc_service.grpc.pb.h"

namespace uop::client {

class InferStream {
 public:
  using Callback = std::function<void(absl::StatusOr<InferResult>)>;

  // Opens the stream (deadline: absl::InfiniteFuture() for none).
  static std::unique_ptr<InferStream> Open(inference::GRPCInferenceService::Stub& stub,
                                           Callback on_response, absl::Time deadline);
  // Cancels a stream that was not finished.
  ~InferStream();
  InferStream(const InferStream&) = delete;
  InferStream& operator=(const InferStream&) = delete;

  // Sends one request. After the stream broke: Unavailable; Finish() says why.
  // A request with shared-memory outputs needs a request id: responses on a
  // stream are matched to their request by it.
  absl::Status Write(const InferOptions& options, const std::vector<InferInput>& inputs,
                     const std::vector<RequestedOutput>& outputs = {});
  // Half-closes, waits until the server has answered everything and ended
  // the call, and returns the call's final status. Idempotent.
  absl::Status Finish();

 private:
  explicit InferStream(Callback on_response) : on_response_(std::move(on_response)) {}
  void ReadLoop();

  Callback on_response_;
  grpc::ClientContext context_;
  std::unique_ptr<
      grpc::ClientReaderWriter<inference::ModelInferRequest, inference::ModelStreamInferResponse>>
      stream_;
  std::thread reader_;
  absl::Mutex finish_mu_;
  absl::Mutex mu_;  // Write and WritesDone never overlap
  bool writes_done_ ABSL_GUARDED_BY(mu_) = false;
  // Shared-memory outputs of requests in flight, by request id.
  absl::flat_hash_map<std::string, std::vector<RequestedOutput>> shm_outputs_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status final_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace uop::client

#endif  // UOP_CLIENT_LIB_INFER_STREAM_H_
