#include "server/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/options.h"

namespace uop::server {
namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;

enum class Parse { kDone, kNeedMore, kBad, kTooLarge };

struct ParsedHead {
  size_t header_end = 0;  // offset just past "\r\n\r\n"
  bool keep_alive = true;
  bool chunked = false;
  bool expect_continue = false;
  int64_t content_length = 0;
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

Parse ParseHead(absl::string_view buf, HttpRequest* req, ParsedHead* head, int64_t max_body) {
  const size_t end = buf.find("\r\n\r\n");
  if (end == absl::string_view::npos) {
    return buf.size() > kMaxHeaderBytes ? Parse::kTooLarge : Parse::kNeedMore;
  }
  if (end > kMaxHeaderBytes) return Parse::kTooLarge;
  head->header_end = end + 4;
  absl::string_view text = buf.substr(0, end);
  size_t line_end = text.find("\r\n");
  absl::string_view line = text.substr(0, line_end);
  // METHOD SP target SP HTTP/1.x
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == absl::string_view::npos || sp2 == sp1) return Parse::kBad;
  req->method = std::string(line.substr(0, sp1));
  absl::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  absl::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return Parse::kBad;
  if (req->method.empty() || target.empty() || target[0] != '/') return Parse::kBad;
  head->keep_alive = version == "HTTP/1.1";
  size_t q = target.find('?');
  req->path = PercentDecode(target.substr(0, q));
  req->query = q == absl::string_view::npos ? "" : std::string(target.substr(q + 1));
  req->headers.clear();
  bool have_length = false;
  while (line_end != absl::string_view::npos) {
    size_t start = line_end + 2;
    line_end = text.find("\r\n", start);
    line = text.substr(
        start, line_end == absl::string_view::npos ? absl::string_view::npos : line_end - start);
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos || colon == 0) return Parse::kBad;
    std::string name = absl::AsciiStrToLower(line.substr(0, colon));
    std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    if (name == "content-length") {
      if (have_length || value.empty() || value.size() > 18 ||
          !std::all_of(value.begin(), value.end(), absl::ascii_isdigit) ||
          !absl::SimpleAtoi(value, &head->content_length)) {
        return Parse::kBad;
      }
      have_length = true;
      if (head->content_length > max_body) return Parse::kTooLarge;
    } else if (name == "transfer-encoding") {
      if (!absl::EqualsIgnoreCase(value, "chunked")) return Parse::kBad;
      head->chunked = true;
    } else if (name == "connection") {
      if (absl::EqualsIgnoreCase(value, "close")) head->keep_alive = false;
      if (absl::EqualsIgnoreCase(value, "keep-alive")) head->keep_alive = true;
    } else if (name == "expect") {
      head->expect_continue = absl::EqualsIgnoreCase(value, "100-continue");
    }
    req->headers.emplace_back(std::move(name), std::move(value));
  }
  if (head->chunked && have_length) return Parse::kBad;
  return Parse::kDone;
}

// Decodes a chunked body starting at `pos`; on kDone `*consumed` is the end.
Parse ParseChunked(absl::string_view buf, size_t pos, int64_t max_body, std::string* body,
                   size_t* consumed) {
  body->clear();
  while (true) {
    size_t eol = buf.find("\r\n", pos);
    if (eol == absl::string_view::npos)
      return buf.size() - pos > 64 ? Parse::kBad : Parse::kNeedMore;
    absl::string_view size_text = buf.substr(pos, eol - pos);
    size_t semi = size_text.find(';');
    if (semi != absl::string_view::npos) size_text = size_text.substr(0, semi);
    if (size_text.empty() || size_text.size() > 15) return Parse::kBad;
    int64_t size = 0;
    for (char c : size_text) {
      int h = HexValue(c);
      if (h < 0) return Parse::kBad;
      size = size * 16 + h;
    }
    pos = eol + 2;
    if (size == 0) {
      // Trailers (ignored) end with an empty line.
      while (true) {
        size_t e = buf.find("\r\n", pos);
        if (e == absl::string_view::npos) return Parse::kNeedMore;
        if (e == pos) {
          *consumed = e + 2;
          return Parse::kDone;
        }
        pos = e + 2;
      }
    }
    if (static_cast<int64_t>(body->size()) + size > max_body) return Parse::kTooLarge;
    if (buf.size() - pos < static_cast<size_t>(size) + 2) return Parse::kNeedMore;
    body->append(buf.data() + pos, static_cast<size_t>(size));
    pos += static_cast<size_t>(size);
    if (buf.substr(pos, 2) != "\r\n") return Parse::kBad;
    pos += 2;
  }
}

bool WaitFd(int fd, short events, absl::Time deadline) {
  while (true) {
    int ms =
        static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now())));
    pollfd p{fd, events, 0};
    int r = poll(&p, 1, ms);
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

bool SendAll(int fd, iovec* iov, int count, absl::Time deadline) {
  while (count > 0) {
    ssize_t n = writev(fd, iov, count);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!WaitFd(fd, POLLOUT, deadline)) return false;
        continue;
      }
      return false;
    }
    while (count > 0 && static_cast<size_t>(n) >= iov->iov_len) {
      n -= static_cast<ssize_t>(iov->iov_len);
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + n;
      iov->iov_len -= static_cast<size_t>(n);
    }
  }
  return true;
}

bool SendResponse(int fd, const HttpResponse& res, bool keep_alive, bool head_only,
                  absl::Time deadline) {
  std::string head = absl::StrCat("HTTP/1.1 ", res.status, " ", HttpReason(res.status), "\r\n");
  if (!res.content_type.empty()) absl::StrAppend(&head, "Content-Type: ", res.content_type, "\r\n");
  absl::StrAppend(&head, "Content-Length: ", res.body.size(), "\r\n");
  if (!keep_alive) head.append("Connection: close\r\n");
  for (const auto& [k, v] : res.headers) absl::StrAppend(&head, k, ": ", v, "\r\n");
  head.append("\r\n");
  iovec iov[2] = {{head.data(), head.size()},
                  {const_cast<char*>(res.body.data()), head_only ? 0 : res.body.size()}};
  return SendAll(fd, iov, 2, deadline);
}

}  // namespace

absl::string_view HttpReason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 499:
      return "Client Closed Request";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

absl::string_view HttpRequest::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return "";
}

struct HttpServer::Conn {
  int fd = -1;
  std::string buf;
  absl::Time last_active;
  bool busy = false;
};

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& address, int port,
                                                              HttpServerOptions options,
                                                              HttpHandler handler) {
  std::unique_ptr<HttpServer> s(new HttpServer(std::move(options), std::move(handler)));
  const std::string where = HostPort(address, port);
  sockaddr_storage storage{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof(*v4);
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof(*v6);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("'", address, "' is not an IP address"));
  }
  s->listen_fd_ = socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(s->listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (s->listen_fd_ < 0 ||
      bind(s->listen_fd_, reinterpret_cast<sockaddr*>(&storage), length) != 0 ||
      listen(s->listen_fd_, 512) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for HTTP on ", where, ": ", std::strerror(errno)));
  }
  socklen_t len = sizeof(storage);
  getsockname(s->listen_fd_, reinterpret_cast<sockaddr*>(&storage), &len);
  s->port_ = ntohs(storage.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
  s->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  s->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the listener
  epoll_ctl(s->epoll_fd_, EPOLL_CTL_ADD, s->listen_fd_, &ev);
  ev.data.ptr = &s->wake_fd_;
  epoll_ctl(s->epoll_fd_, EPOLL_CTL_ADD, s->wake_fd_, &ev);
  s->loop_ = std::thread([p = s.get()] { p->EventLoop(); });
  for (int i = 0; i < std::max(1, s->options_.threads); ++i) {
    s->workers_.emplace_back([p = s.get()] { p->Worker(); });
  }
  return s;
}

HttpServer::~HttpServer() {
  Stop();
  if (loop_.joinable()) loop_.join();
  for (auto& w : workers_) w.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (Conn* c : conns_) {
    close(c->fd);
    delete c;
  }
  conns_.clear();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void HttpServer::Stop() {
  if (stopping_.exchange(true)) return;
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
  work_.notify_all();
}

void HttpServer::EventLoop() {
  epoll_event events[64];
  absl::Time last_sweep = absl::Now();
  while (!stopping_.load()) {
    int n = epoll_wait(epoll_fd_, events, 64, 1000);
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &wake_fd_) continue;
      if (tag == nullptr) {
        while (true) {
          int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          int one = 1;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          Conn* c = new Conn;
          c->fd = fd;
          c->last_active = absl::Now();
          {
            std::lock_guard<std::mutex> lock(mu_);
            conns_.push_back(c);
          }
          epoll_event ev{};
          ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
          ev.data.ptr = c;
          epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
        }
        continue;
      }
      Conn* c = static_cast<Conn*>(tag);
      std::lock_guard<std::mutex> lock(mu_);
      c->busy = true;
      ready_.push_back(c);
      work_.notify_one();
    }
    // Close keep-alive connections idle for too long.
    const absl::Time now = absl::Now();
    if (now - last_sweep > absl::Seconds(1)) {
      last_sweep = now;
      std::vector<Conn*> idle;
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (auto it = conns_.begin(); it != conns_.end();) {
          if (!(*it)->busy && now - (*it)->last_active > options_.idle_timeout) {
            idle.push_back(*it);
            it = conns_.erase(it);
          } else {
            ++it;
          }
        }
      }
      for (Conn* c : idle) {
        close(c->fd);
        delete c;
      }
    }
  }
}

void HttpServer::Worker() {
  while (true) {
    Conn* c = nullptr;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [this] { return stopped_ || !ready_.empty(); });
      if (ready_.empty()) return;  // stopped
      c = ready_.front();
      ready_.pop_front();
    }
    if (Serve(c)) {
      Rearm(c);
    } else {
      CloseConn(c);
    }
  }
}

void HttpServer::Rearm(Conn* c) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    c->busy = false;
    c->last_active = absl::Now();
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
  ev.data.ptr = c;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &ev);
}

void HttpServer::CloseConn(Conn* c) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    conns_.erase(std::remove(conns_.begin(), conns_.end(), c), conns_.end());
  }
  close(c->fd);  // also leaves the epoll set
  delete c;
}

bool HttpServer::Serve(Conn* c) {
  auto read_more = [&](absl::Time deadline) -> bool {
    char buf[64 * 1024];
    while (true) {
      ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
      if (n > 0) {
        c->buf.append(buf, static_cast<size_t>(n));
        return true;
      }
      if (n == 0) return false;  // peer closed
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
      if (!WaitFd(c->fd, POLLIN, deadline)) return false;
    }
  };
  auto fail = [&](int status, const std::string& message, absl::Time deadline) {
    HttpResponse res;
    res.status = status;
    res.body = absl::StrCat("{\"error\":\"", message, "\"}");
    SendResponse(c->fd, res, false, false, deadline);
    return false;
  };

  // Something arrived (or the peer hung up): read what is there.
  const absl::Time first_deadline = absl::Now() + options_.read_timeout;
  if (c->buf.empty() && !read_more(first_deadline)) return false;

  while (!c->buf.empty()) {
    const absl::Time deadline = absl::Now() + options_.read_timeout;
    HttpRequest req;
    ParsedHead head;
    Parse p;
    while ((p = ParseHead(c->buf, &req, &head, options_.max_body_bytes)) == Parse::kNeedMore) {
      if (!read_more(deadline)) return false;
    }
    if (p == Parse::kBad) return fail(400, "malformed HTTP request", deadline);
    if (p == Parse::kTooLarge) {
      return fail(head.header_end == 0 ? 431 : 413,
                  head.header_end == 0 ? "request headers too large"
                                       : absl::StrCat("request body larger than ",
                                                      options_.max_body_bytes, " bytes"),
                  deadline);
    }
    bool sent_continue = false;
    auto maybe_continue = [&] {
      if (head.expect_continue && !sent_continue) {
        sent_continue = true;
        iovec iov{const_cast<char*>("HTTP/1.1 100 Continue\r\n\r\n"), 25};
        SendAll(c->fd, &iov, 1, deadline);
      }
    };
    size_t consumed = 0;
    if (head.chunked) {
      while ((p = ParseChunked(c->buf, head.header_end, options_.max_body_bytes, &req.body,
                               &consumed)) == Parse::kNeedMore) {
        maybe_continue();
        if (!read_more(deadline)) return false;
      }
      if (p == Parse::kBad) return fail(400, "malformed chunked body", deadline);
      if (p == Parse::kTooLarge) {
        return fail(413,
                    absl::StrCat("request body larger than ", options_.max_body_bytes, " bytes"),
                    deadline);
      }
    } else {
      const size_t need = head.header_end + static_cast<size_t>(head.content_length);
      if (c->buf.size() < need) {
        maybe_continue();
        c->buf.reserve(need);
      }
      while (c->buf.size() < need) {
        if (!read_more(deadline)) return false;
      }
      req.body.assign(c->buf, head.header_end, static_cast<size_t>(head.content_length));
      consumed = need;
    }
    c->buf.erase(0, consumed);

    HttpResponse res;
    handler_(req, &res);
    const bool keep = head.keep_alive && !stopping_.load();
    if (!SendResponse(c->fd, res, keep, req.method == "HEAD",
                      absl::Now() + options_.read_timeout)) {
      return false;
    }
    if (!keep) return false;
  }
  return true;
}

}  // namespace uop::server
