// A small HTTP/1.1 server for the KServe v2 REST API: one epoll thread
// watches the listener and idle keep-alive connections, a fixed pool of
// worker threads reads, handles and answers one request at a time.
//
//   ASSIGN_OR_RETURN(auto http, HttpServer::Start("127.0.0.1", 0, options,
//       [](const HttpRequest& req, HttpResponse* res) { res->body = "hi"; }));
//   http->port();   // the real port
//   http.reset();   // stops: closes the listener and every connection
//
// Supported: Content-Length and chunked request bodies (with a size limit,
// 413 past it), `Expect: 100-continue`, keep-alive and pipelining, HTTP/1.0
// clients. A connection that sends nothing for `idle_timeout` is closed; a
// request must arrive completely within `read_timeout` (no slow-loris hold
// on a worker). Malformed requests get 400 and the connection is closed.
#ifndef UOP_SERVER_HTTP_SERVER_H_
#define UOP_SERVER_HTTP_SERVER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace uop::server {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // percent-decoded, without the query
  std::string query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  // The value of header `name` (lower case), or "" when absent.
  absl::string_view Header(absl::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpServerOptions {
  int threads = 8;
  int64_t max_body_bytes = int64_t{256} << 20;
  absl::Duration read_timeout = absl::Seconds(30);
  absl::Duration idle_timeout = absl::Seconds(120);
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponse*)>;

class HttpServer {
 public:
  // Binds `address`:`port` (0: a free port). Unavailable naming the address
  // when it cannot listen.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const std::string& address, int port,
                                                           HttpServerOptions options,
                                                           HttpHandler handler);
  ~HttpServer();

  int port() const { return port_; }

  // Stops accepting new connections; requests being handled finish.
  void Stop();

 private:
  struct Conn;
  HttpServer(HttpServerOptions options, HttpHandler handler)
      : options_(std::move(options)), handler_(std::move(handler)) {}
  void EventLoop();
  void Worker();
  // Serves the requests buffered or arriving on `conn`; false: close it.
  bool Serve(Conn* conn);
  void Rearm(Conn* conn);
  void CloseConn(Conn* conn);

  const HttpServerOptions options_;
  const HttpHandler handler_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread loop_;
  std::vector<std::thread> workers_;

  std::mutex mu_;  // guards ready_, conns_, stopped_ (std: visible to ThreadSanitizer)
  std::condition_variable work_;
  std::deque<Conn*> ready_;
  std::vector<Conn*> conns_;  // every open connection
  bool stopped_ = false;
};

// "Not Found" for 404, ... ("Unknown" for others).
absl::string_view HttpReason(int status);

}  // namespace uop::server

#endif  // UOP_SERVER_HTTP_SERVER_H_
