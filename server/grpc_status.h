// The one conversion from absl::Status to grpc::Status.
//
// Everything in uopd returns absl::Status; gRPC handlers end with
//   return ToGrpcStatus(DoTheWork(request, response));
// absl's canonical codes are gRPC's codes, so the mapping is one to one and the
// message passes through unchanged.
#ifndef UOP_SERVER_GRPC_STATUS_H_
#define UOP_SERVER_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace uop::server {

grpc::Status ToGrpcStatus(const absl::Status& status);

// The code's canonical upper-case name ("OK", "NOT_FOUND", ...), as used in
// metric labels; "UNKNOWN" for a value outside the enum.
absl::string_view GrpcCodeName(grpc::StatusCode code);

}  // namespace uop::server

#endif  // UOP_SERVER_GRPC_STATUS_H_
