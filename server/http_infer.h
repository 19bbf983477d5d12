// The KServe v2 HTTP/REST inference body <-> ModelInferRequest/Response, so
// HTTP requests go through exactly the checks gRPC ones do (infer_codec.h).
//
//   HttpInferOptions opts;
//   RETURN_IF_ERROR(ParseHttpInfer(body, header_length, "add", "", &request, &opts));
//   ... ServingCore::Infer(request, ...) ...
//   RETURN_IF_ERROR(WriteHttpInfer(response, opts, &http_response));
//
// JSON tensors: "data" is a flat or nested array (row-major) of numbers, bools
// or strings (BYTES). The binary-data extension: the body is the JSON header
// (its length in the Inference-Header-Content-Length header) followed by the
// raw bytes of every input whose parameters carry "binary_data_size", in
// input order; outputs asked for with "binary_data": true (or the request
// parameter "binary_data_output") come back the same way.
#ifndef UOP_SERVER_HTTP_INFER_H_
#define UOP_SERVER_HTTP_INFER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "proto/grpc_service.pb.h"
#include "server/http_server.h"

namespace uop::server {

struct HttpInferOptions {
  bool binary_default = false;                       // request parameter binary_data_output
  std::vector<std::pair<std::string, bool>> binary;  // per requested output
};

// `header_length` < 0: the whole body is JSON.
absl::Status ParseHttpInfer(absl::string_view body, int64_t header_length, const std::string& model,
                            const std::string& version, inference::ModelInferRequest* request,
                            HttpInferOptions* options);

absl::Status WriteHttpInfer(inference::ModelInferResponse& response,
                            const HttpInferOptions& options, HttpResponse* http);

}  // namespace uop::server

#endif  // UOP_SERVER_HTTP_INFER_H_
