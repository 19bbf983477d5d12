// InferenceClient: a C++ client of the KServe v2 / Triton gRPC protocol
// (inference.GRPCInferenceService), for uopd or any Triton-compatible server.
//
//   ASSIGN_OR_RETURN(auto client, InferenceClient::Connect("localhost:8001"));
//   ASSIGN_OR_RETURN(InferInput a, InferInput::FromVector<float>("A", {4}, {1, 2, 3, 4}));
//   ASSIGN_OR_RETURN(InferInput b, InferInput::FromVector<float>("B", {4}, {4, 3, 2, 1}));
//   ASSIGN_OR_RETURN(InferResult r, client->Infer({.model_name = "add"}, {a, b}));
//   ASSIGN_OR_RETURN(std::vector<float> c, r.As<float>("C"));
//
// Every call has a deadline (ClientOptions::timeout, or InferOptions'
// own) and is retried with exponential backoff when the server answers
// UNAVAILABLE (retry.h), never past the deadline and never for another code.
// Errors are absl::Status with the gRPC code and the RPC's name
// ("ModelInfer: ...").
//
// Async inference (AsyncInfer) and streams (OpenStream) deliver results on
// gRPC's threads: callbacks must be quick and must not block on the client.
// The client must outlive its pending async calls and open streams.
//
// Thread safety: every method may be called from any thread concurrently.
#ifndef UOP_CLIENT_LIB_CLIENT_H_
#define UOP_CLIENT_LIB_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/lib/infer_stream.h"
#include "client/lib/infer_tensor.h"
#include "client/lib/retry.h"
#include "proto/grpc_service.grpc.pb.h"

namespace uop::client {

struct ClientOptions {
  // Deadline of each call, retries included.
  absl::Duration timeout = absl::Seconds(60);
  RetryPolicy retry;
  // Largest message the client sends or accepts.
  int max_message_bytes = 1 << 30;
};

// Per-inference settings beyond the request itself.
struct CallOptions {
  absl::Duration timeout = absl::ZeroDuration();  // zero: ClientOptions::timeout
};

class InferenceClient {
 public:
  // `url` is "host:port" (an optional "grpc://" prefix is accepted). The
  // connection is made lazily; a server that is not there shows up as
  // UNAVAILABLE on the first call, after the retries.
  static absl::StatusOr<std::unique_ptr<InferenceClient>> Connect(const std::string& url,
                                                                  ClientOptions options = {});
  InferenceClient(std::shared_ptr<grpc::Channel> channel, ClientOptions options);

  const ClientOptions& options() const { return options_; }

  // ---- health and metadata
  absl::StatusOr<bool> ServerLive();
  absl::StatusOr<bool> ServerReady();
  absl::StatusOr<bool> ModelReady(const std::string& model, const std::string& version = "");
  absl::StatusOr<inference::ServerMetadataResponse> ServerMetadata();
  absl::StatusOr<inference::ModelMetadataResponse> ModelMetadata(const std::string& model,
                                                                 const std::string& version = "");
  absl::StatusOr<inference::ModelConfig> ModelConfig(const std::string& model,
                                                     const std::string& version = "");
  // Empty model: every model.
  absl::StatusOr<inference::ModelStatisticsResponse> ModelStatistics(
      const std::string& model = "", const std::string& version = "");

  // ---- model repository
  absl::StatusOr<inference::RepositoryIndexResponse> RepositoryIndex(bool ready_only = false);
  // Loads (or reloads) `model`; returns when the server has finished. A
  // non-empty `config_json` overrides the repository's config (Triton's
  // "config" parameter). Use a longer `timeout` for models that compile.
  absl::Status LoadModel(const std::string& model, const std::string& config_json = "",
                         CallOptions call = {});
  absl::Status UnloadModel(const std::string& model, bool unload_dependents = false,
                           CallOptions call = {});

  // ---- system shared memory (the server maps `key`)
  absl::Status RegisterSystemSharedMemory(const std::string& name, const std::string& key,
                                          uint64_t byte_size, uint64_t offset = 0);
  // Empty name: every region.
  absl::Status UnregisterSystemSharedMemory(const std::string& name = "");
  absl::StatusOr<inference::SystemSharedMemoryStatusResponse> SystemSharedMemoryStatus(
      const std::string& name = "");

  // ---- trace settings (empty model: server-wide); values empty: reset
  absl::StatusOr<inference::TraceSettingResponse> TraceSetting(
      const std::map<std::string, std::vector<std::string>>& settings,
      const std::string& model = "");

  // ---- inference
  absl::StatusOr<InferResult> Infer(const InferOptions& options,
                                    const std::vector<InferInput>& inputs,
                                    const std::vector<RequestedOutput>& outputs = {},
                                    CallOptions call = {});
  using InferCallback = std::function<void(absl::StatusOr<InferResult>)>;
  // Returns at once; `done` runs exactly once, on a gRPC thread.
  void AsyncInfer(InferCallback done, const InferOptions& options,
                  const std::vector<InferInput>& inputs,
                  const std::vector<RequestedOutput>& outputs = {}, CallOptions call = {});
  // A bidirectional ModelStreamInfer stream (infer_stream.h); `call.timeout`
  // bounds the whole stream (zero: no deadline). Streams are not retried.
  absl::StatusOr<std::unique_ptr<InferStream>> OpenStream(InferStream::Callback on_response,
                                                          CallOptions call = {});

  // The generated stub and the channel, for RPCs and services this class
  // does not wrap (e.g. uop's profiler extension).
  inference::GRPCInferenceService::Stub& stub() { return *stub_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  // One unary RPC with deadline and retries.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(const char* rpc, const Request& request,
                                grpc::Status (inference::GRPCInferenceService::Stub::*method)(
                                    grpc::ClientContext*, const Request&, Response*),
                                absl::Duration timeout);
  absl::Duration TimeoutOr(CallOptions call) const;

  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

}  // namespace uop::client

#endif  // UOP_CLIENT_LIB_CLIENT_H_
