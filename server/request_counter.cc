#include "server/request_counter.h"

#include <google/protobuf/descriptor.h>

#include "absl/strings/string_view.h"
#include "server/grpc_status.h"

namespace uop::server {
namespace {

using MethodCounters = RequestCounterFactory::MethodCounters;

class RequestCounter final : public grpc::experimental::Interceptor {
 public:
  RequestCounter(ServerMetrics* metrics, MethodCounters* method)
      : metrics_(metrics), method_(method) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    // PRE_SEND_STATUS happens once per RPC, with the final status.
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      Count(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Count(grpc::StatusCode code) {
    const auto index = static_cast<size_t>(code);
    if (index >= method_->by_code.size()) {
      metrics_->CountRequest(method_->label, GrpcCodeName(code));
      return;
    }
    std::atomic<prometheus::Counter*>& slot = method_->by_code[index];
    prometheus::Counter* counter = slot.load(std::memory_order_acquire);
    if (counter == nullptr) {
      // Racing threads get the same series from the family; either store wins.
      counter = &metrics_->RequestSeries(method_->label, GrpcCodeName(code));
      slot.store(counter, std::memory_order_release);
    }
    counter->Increment();
  }

  ServerMetrics* metrics_;
  MethodCounters* method_;  // owned by the factory
};

}  // namespace

std::string MethodLabel(const char* grpc_method) {
  if (grpc_method == nullptr) return "unknown";
  absl::string_view path(grpc_method);
  if (path.size() < 2 || path[0] != '/') return "unknown";
  path.remove_prefix(1);
  size_t slash = path.find('/');
  if (slash == absl::string_view::npos) return "unknown";
  // The descriptor pool knows "pkg.Service.Method" for every linked service.
  std::string full_name(path);
  full_name[slash] = '.';
  if (google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full_name) == nullptr) {
    return "unknown";
  }
  return std::string(path);
}

MethodCounters* RequestCounterFactory::CountersFor(const char* grpc_method) {
  if (grpc_method == nullptr) return &unknown_;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = methods_.find(absl::string_view(grpc_method));
  if (it != methods_.end()) return it->second.get();
  std::string label = MethodLabel(grpc_method);
  if (label == unknown_.label) return &unknown_;
  auto counters = std::make_unique<MethodCounters>();
  counters->label = std::move(label);
  MethodCounters* raw = counters.get();
  methods_.emplace(grpc_method, std::move(counters));
  return raw;
}

grpc::experimental::Interceptor* RequestCounterFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RequestCounter(metrics_, CountersFor(info->method()));
}

}  // namespace uop::server
