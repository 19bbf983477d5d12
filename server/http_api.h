// The KServe v2 HTTP/REST API (plus Triton's repository, statistics, config
// and shared-memory endpoints) on top of ServingCore:
//
//   GET  /v2/health/live | /v2/health/ready          200, or 503 when not ready
//   GET  /v2                                         server metadata
//   GET  /v2/models/M[/versions/V]                   model metadata
//   GET  /v2/models/M[/versions/V]/ready | /config | /stats
//   GET  /v2/models/stats                            every model's statistics
//   POST /v2/models/M[/versions/V]/infer             JSON or binary-data inference
//   POST /v2/repository/index
//   POST /v2/repository/models/M/load | /unload      load body: {"parameters": {"config": "...",
//                                                     "file:1/model.onnx": "<base64>"}}
//   GET  /v2/systemsharedmemory[/region/R]/status
//   POST /v2/systemsharedmemory/region/R/register    {"key": "/shm", "offset": 0, "byte_size": N}
//   POST /v2/systemsharedmemory[/region/R]/unregister
//
// Errors are {"error": "<message>"} with 400 (bad request), 404 (unknown
// model or path), 429 (queue full), 503 (not ready / shutting down), 504
// (deadline), 501 (not supported).
//
//   HttpApi api(&core);
//   HttpServer::Start(address, port, options, [&](auto& req, auto* res) { api.Handle(req, res); });
#ifndef UOP_SERVER_HTTP_API_H_
#define UOP_SERVER_HTTP_API_H_

#include "absl/status/status.h"
#include "server/http_server.h"
#include "server/serving_core.h"

namespace uop::server {

class HttpApi {
 public:
  explicit HttpApi(ServingCore* core) : core_(core) {}
  void Handle(const HttpRequest& request, HttpResponse* response);

 private:
  absl::Status Route(const HttpRequest& request, HttpResponse* response);
  ServingCore* core_;
};

// The HTTP status for an absl status code.
int HttpStatusFor(const absl::Status& status);

}  // namespace uop::server

#endif  // UOP_SERVER_HTTP_API_H_
