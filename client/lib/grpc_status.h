// gRPC status -> absl::Status for the client side: the same code, the
// message prefixed with the RPC that failed ("ModelInfer: unknown model 'x'").
// Every client error passes through here once.
#ifndef UOP_CLIENT_LIB_GRPC_STATUS_H_
#define UOP_CLIENT_LIB_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace uop::client {

absl::Status FromGrpcStatus(absl::string_view rpc, const grpc::Status& status);

}  // namespace uop::client

#endif  // UOP_CLIENT_LIB_GRPC_STATUS_H_
