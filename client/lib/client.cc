#include "client/lib/client.h"

#include <grpcpp/alarm.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/lib/grpc_status.h"
#include "runtime/base/status_macros.h"

namespace uop::client {
namespace {

using Stub = inference::GRPCInferenceService::Stub;

void SetDeadline(grpc::ClientContext& ctx, absl::Time deadline) {
  if (deadline != absl::InfiniteFuture()) ctx.set_deadline(absl::ToChronoTime(deadline));
}

absl::Status WithAttempts(absl::Status st, int attempts) {
  if (attempts <= 1) return st;
  return absl::Status(st.code(), absl::StrCat(st.message(), " (after ", attempts, " attempts)"));
}

// One AsyncInfer: re-issued from its own completion (after a grpc::Alarm
// wait) while the server answers UNAVAILABLE and the deadline allows. Owned
// by the pending RPC or alarm callback, so it lives exactly as long as needed.
class AsyncInferCall : public std::enable_shared_from_this<AsyncInferCall> {
 public:
  AsyncInferCall(Stub& stub, RetryPolicy policy, absl::Time deadline,
                 inference::ModelInferRequest request, std::vector<RequestedOutput> outputs,
                 InferenceClient::InferCallback done)
      : stub_(stub),
        policy_(policy),
        deadline_(deadline),
        request_(std::move(request)),
        outputs_(std::move(outputs)),
        done_(std::move(done)) {}

  void Start() {
    ++attempt_;
    context_ = std::make_unique<grpc::ClientContext>();
    SetDeadline(*context_, deadline_);
    response_.Clear();
    stub_.async()->ModelInfer(context_.get(), &request_, &response_,
                              [self = shared_from_this()](grpc::Status st) { self->OnDone(st); });
  }

 private:
  void OnDone(const grpc::Status& st) {
    if (st.ok()) {
      done_(InferResult::FromResponse(std::move(response_), outputs_));
      return;
    }
    const absl::Duration wait = BackoffBefore(policy_, attempt_ + 1, UnitRandom());
    const auto code = static_cast<absl::StatusCode>(st.error_code());
    if (!ShouldRetry(policy_, code, attempt_, absl::Now(), wait, deadline_)) {
      done_(WithAttempts(FromGrpcStatus("ModelInfer", st), attempt_));
      return;
    }
    alarms_.push_back(std::make_unique<grpc::Alarm>());
    alarms_.back()->Set(absl::ToChronoTime(absl::Now() + wait),
                        [self = shared_from_this()](bool fired) {
                          if (fired) {
                            self->Start();
                          } else {
                            self->done_(absl::CancelledError("ModelInfer: retry cancelled"));
                          }
                        });
  }

  Stub& stub_;
  const RetryPolicy policy_;
  const absl::Time deadline_;
  const inference::ModelInferRequest request_;
  const std::vector<RequestedOutput> outputs_;
  const InferenceClient::InferCallback done_;
  int attempt_ = 0;
  std::unique_ptr<grpc::ClientContext> context_;
  inference::ModelInferResponse response_;
  // One per retry; kept until the call ends (an alarm must outlive its callback).
  std::vector<std::unique_ptr<grpc::Alarm>> alarms_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<InferenceClient>> InferenceClient::Connect(const std::string& url,
                                                                          ClientOptions options) {
  std::string target = url;
  if (absl::StartsWith(target, "grpc://")) target = target.substr(7);
  if (target.empty() || target.find("://") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("server url '", url, "': expected host:port (e.g. localhost:8001)"));
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_message_bytes);
  args.SetMaxSendMessageSize(options.max_message_bytes);
  auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  return std::make_unique<InferenceClient>(std::move(channel), options);
}

InferenceClient::InferenceClient(std::shared_ptr<grpc::Channel> channel, ClientOptions options)
    : options_(options),
      channel_(std::move(channel)),
      stub_(inference::GRPCInferenceService::NewStub(channel_)) {}

absl::Duration InferenceClient::TimeoutOr(CallOptions call) const {
  return call.timeout > absl::ZeroDuration() ? call.timeout : options_.timeout;
}

template <typename Request, typename Response>
absl::StatusOr<Response> InferenceClient::Call(const char* rpc, const Request& request,
                                               grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                                            const Request&,
                                                                            Response*),
                                               absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext ctx;
    SetDeadline(ctx, deadline);
    Response response;
    const grpc::Status st = (stub_.get()->*method)(&ctx, request, &response);
    if (st.ok()) return response;
    const absl::Duration wait = BackoffBefore(options_.retry, attempt + 1, UnitRandom());
    const auto code = static_cast<absl::StatusCode>(st.error_code());
    if (!ShouldRetry(options_.retry, code, attempt, absl::Now(), wait, deadline)) {
      return WithAttempts(FromGrpcStatus(rpc, st), attempt);
    }
    absl::SleepFor(wait);
  }
}

absl::StatusOr<bool> InferenceClient::ServerLive() {
  ASSIGN_OR_RETURN(auto r, Call("ServerLive", inference::ServerLiveRequest(), &Stub::ServerLive,
                                options_.timeout));
  return r.live();
}

absl::StatusOr<bool> InferenceClient::ServerReady() {
  ASSIGN_OR_RETURN(auto r, Call("ServerReady", inference::ServerReadyRequest(), &Stub::ServerReady,
                                options_.timeout));
  return r.ready();
}

absl::StatusOr<bool> InferenceClient::ModelReady(const std::string& model,
                                                 const std::string& version) {
  inference::ModelReadyRequest req;
  req.set_name(model);
  req.set_version(version);
  ASSIGN_OR_RETURN(auto r, Call("ModelReady", req, &Stub::ModelReady, options_.timeout));
  return r.ready();
}

absl::StatusOr<inference::ServerMetadataResponse> InferenceClient::ServerMetadata() {
  return Call("ServerMetadata", inference::ServerMetadataRequest(), &Stub::ServerMetadata,
              options_.timeout);
}

absl::StatusOr<inference::ModelMetadataResponse> InferenceClient::ModelMetadata(
    const std::string& model, const std::string& version) {
  inference::ModelMetadataRequest req;
  req.set_name(model);
  req.set_version(version);
  return Call("ModelMetadata", req, &Stub::ModelMetadata, options_.timeout);
}

absl::StatusOr<inference::ModelConfig> InferenceClient::ModelConfig(const std::string& model,
                                                                    const std::string& version) {
  inference::ModelConfigRequest req;
  req.set_name(model);
  req.set_version(version);
  ASSIGN_OR_RETURN(auto r, Call("ModelConfig", req, &Stub::ModelConfig, options_.timeout));
  return std::move(*r.mutable_config());
}

absl::StatusOr<inference::ModelStatisticsResponse> InferenceClient::ModelStatistics(
    const std::string& model, const std::string& version) {
  inference::ModelStatisticsRequest req;
  req.set_name(model);
  req.set_version(version);
  return Call("ModelStatistics", req, &Stub::ModelStatistics, options_.timeout);
}

absl::StatusOr<inference::RepositoryIndexResponse> InferenceClient::RepositoryIndex(
    bool ready_only) {
  inference::RepositoryIndexRequest req;
  req.set_ready(ready_only);
  return Call("RepositoryIndex", req, &Stub::RepositoryIndex, options_.timeout);
}

absl::Status InferenceClient::LoadModel(const std::string& model, const std::string& config_json,
                                        CallOptions call) {
  inference::RepositoryModelLoadRequest req;
  req.set_model_name(model);
  if (!config_json.empty()) (*req.mutable_parameters())["config"].set_string_param(config_json);
  return Call("RepositoryModelLoad", req, &Stub::RepositoryModelLoad, TimeoutOr(call)).status();
}

absl::Status InferenceClient::UnloadModel(const std::string& model, bool unload_dependents,
                                          CallOptions call) {
  inference::RepositoryModelUnloadRequest req;
  req.set_model_name(model);
  if (unload_dependents) (*req.mutable_parameters())["unload_dependents"].set_bool_param(true);
  return Call("RepositoryModelUnload", req, &Stub::RepositoryModelUnload, TimeoutOr(call)).status();
}

absl::Status InferenceClient::RegisterSystemSharedMemory(const std::string& name,
                                                         const std::string& key, uint64_t byte_size,
                                                         uint64_t offset) {
  inference::SystemSharedMemoryRegisterRequest req;
  req.set_name(name);
  req.set_key(key);
  req.set_byte_size(byte_size);
  req.set_offset(offset);
  return Call("SystemSharedMemoryRegister", req, &Stub::SystemSharedMemoryRegister,
              options_.timeout)
      .status();
}

absl::Status InferenceClient::UnregisterSystemSharedMemory(const std::string& name) {
  inference::SystemSharedMemoryUnregisterRequest req;
  req.set_name(name);
  return Call("SystemSharedMemoryUnregister", req, &Stub::SystemSharedMemoryUnregister,
              options_.timeout)
      .status();
}

absl::StatusOr<inference::SystemSharedMemoryStatusResponse>
InferenceClient::SystemSharedMemoryStatus(const std::string& name) {
  inference::SystemSharedMemoryStatusRequest req;
  req.set_name(name);
  return Call("SystemSharedMemoryStatus", req, &Stub::SystemSharedMemoryStatus, options_.timeout);
}

absl::StatusOr<inference::TraceSettingResponse> InferenceClient::TraceSetting(
    const std::map<std::string, std::vector<std::string>>& settings, const std::string& model) {
  inference::TraceSettingRequest req;
  req.set_model_name(model);
  for (const auto& [key, values] : settings) {
    auto& v = (*req.mutable_settings())[key];
    for (const std::string& s : values) v.add_value(s);
  }
  return Call("TraceSetting", req, &Stub::TraceSetting, options_.timeout);
}

absl::StatusOr<InferResult> InferenceClient::Infer(const InferOptions& options,
                                                   const std::vector<InferInput>& inputs,
                                                   const std::vector<RequestedOutput>& outputs,
                                                   CallOptions call) {
  inference::ModelInferRequest req = BuildInferRequest(options, inputs, outputs);
  ASSIGN_OR_RETURN(inference::ModelInferResponse r,
                   Call("ModelInfer", req, &Stub::ModelInfer, TimeoutOr(call)));
  return InferResult::FromResponse(std::move(r), outputs);
}

void InferenceClient::AsyncInfer(InferCallback done, const InferOptions& options,
                                 const std::vector<InferInput>& inputs,
                                 const std::vector<RequestedOutput>& outputs, CallOptions call) {
  auto c = std::make_shared<AsyncInferCall>(*stub_, options_.retry, absl::Now() + TimeoutOr(call),
                                            BuildInferRequest(options, inputs, outputs), outputs,
                                            std::move(done));
  c->Start();
}

absl::StatusOr<std::unique_ptr<InferStream>> InferenceClient::OpenStream(
    InferStream::Callback on_response, CallOptions call) {
  const absl::Time deadline =
      call.timeout > absl::ZeroDuration() ? absl::Now() + call.timeout : absl::InfiniteFuture();
  return InferStream::Open(*stub_, std::move(on_response), deadline);
}

}  // namespace uop::client
