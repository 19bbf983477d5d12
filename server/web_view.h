// uopd's built-in web view, served on the HTTP port under /ui: what an
// operator needs to see inside the daemon without other tools.
//
//   GET  /ui                       the page (server/web/index.html + app.js + app.css)
//   GET  /ui/api/summary           server, engine and recorder state
//   GET  /ui/api/models            every model version: state, reason, config, statistics
//   GET  /ui/api/devices           devices with memory in use, peak, cached, total
//   GET  /ui/api/kernels           compiled kernels: name, device, launch dims, opts,
//                                  cache hit, render/compile time, launches in the
//                                  last 10 s (count, mean, max) while recording
//   GET  /ui/api/kernel?id=N       one kernel with its generated source and its codegen
//                                  pipeline step by step (kernel_inspector.h)
//   GET  /ui/api/recent?seconds=S  the flight recorder's last spans (requests, batches,
//                                  kernels) on device and subsystem tracks
//   GET  /ui/api/trace?seconds=S[&format=json|perfetto][&download=1]
//                                  the last S seconds as Chrome JSON (rendered by the
//                                  page) or Perfetto protobuf (for ui.perfetto.dev)
//   POST /ui/api/recording?on=1|0  turns the flight recorder on or off
//
// Everything is read when asked for (nothing on the request path). The page
// is plain HTML/JS compiled into the binary; it loads nothing from outside.
//
//   WebView ui({.core = core, .engine = engine, .devices = {"CPU:0"}});
//   if (!ui.Handle(request, &response)) api.Handle(request, &response);
#ifndef UOP_SERVER_WEB_VIEW_H_
#define UOP_SERVER_WEB_VIEW_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "runtime/engine/engine.h"
#include "server/http_server.h"
#include "server/serving_core.h"

namespace uop::server {

struct WebViewSources {
  ServingCore* core = nullptr;     // models and statistics; required
  std::shared_ptr<Engine> engine;  // compiled kernels; may be null
  std::vector<std::string> devices;
};

class WebView {
 public:
  explicit WebView(WebViewSources sources) : s_(std::move(sources)) {}

  // True when `request` is for /ui (answered into `response`, errors as
  // {"error": "..."} with the HTTP status for them); false for other paths.
  bool Handle(const HttpRequest& request, HttpResponse* response);

 private:
  absl::Status Route(const HttpRequest& request, HttpResponse* response);
  void Summary(std::string* out) const;
  absl::Status Models(std::string* out) const;
  void Devices(std::string* out) const;
  void Kernels(std::string* out) const;
  absl::Status Kernel(absl::string_view id, std::string* out) const;
  absl::Status Recent(absl::string_view seconds, std::string* out) const;
  absl::Status Trace(const HttpRequest& request, HttpResponse* response) const;

  WebViewSources s_;
};

// The value of `key` in a URL query ("a=1&b=2"), percent-decoded; "" when
// absent.
std::string QueryParam(absl::string_view query, absl::string_view key);

}  // namespace uop::server

#endif  // UOP_SERVER_WEB_VIEW_H_
