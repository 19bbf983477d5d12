#include "client/lib/grpc_status.h"

#include "absl/strings/str_cat.h"

namespace uop::client {

absl::Status FromGrpcStatus(absl::string_view rpc, const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  // grpc::StatusCode and absl::StatusCode share their numbering (0..16).
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  std::string msg = status.error_message();
  if (msg.empty()) msg = absl::StatusCodeToString(code);
  return absl::Status(code, absl::StrCat(rpc, ": ", msg));
}

}  // namespace uop::client
