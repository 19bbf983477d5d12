// Where gRPC's own log lines (gpr_log) go.
//
// Until ReleaseGrpcLog() gRPC's messages are held back, not printed: a failed
// start must print exactly one error line, and gRPC's reason (e.g. "Address
// already in use") is folded into it via HeldGrpcErrors(). After the start,
// each gRPC message is printed to stderr as ONE line, "uopd: grpc: ...".
// GRPC_VERBOSITY still selects which severities gRPC produces.
#ifndef UOP_SERVER_GRPC_LOG_H_
#define UOP_SERVER_GRPC_LOG_H_

#include <string>

namespace uop::server {

// Call once, before any other gRPC call.
void InstallGrpcLog();

// The error messages held back so far, joined by "; ".
std::string HeldGrpcErrors();

// From now on print gRPC's messages instead of holding them.
void ReleaseGrpcLog();

// Replaces newlines and other control characters so `text` prints as one line.
std::string OneLine(std::string text);

}  // namespace uop::server

#endif  // UOP_SERVER_GRPC_LOG_H_
