#include "server/request_counter.h"

#include <google/protobuf/descriptor.h>

#include "absl/strings/string_view.h"
#include "server/grpc_status.h"

namespace uop::server {
namespace {

class RequestCounter final : public grpc::experimental::Interceptor {
 public:
  RequestCounter(ServerMetrics* metrics, std::string method)
      : metrics_(metrics), method_(std::move(method)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    // PRE_SEND_STATUS happens once per RPC, with the final status.
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_->CountRequest(method_, GrpcCodeName(methods->GetSendStatus().error_code()));
    }
    methods->Proceed();
  }

 private:
  ServerMetrics* metrics_;
  std::string method_;
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

grpc::experimental::Interceptor* RequestCounterFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RequestCounter(metrics_, MethodLabel(info->method()));
}

}  // namespace uop::server
