#include "server/http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace uop::server {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A raw TCP client, so the test controls every byte on the wire.
class Client {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~Client() { close(fd_); }
  void Send(const std::string& s) { ASSERT_EQ(write(fd_, s.data(), s.size()), ssize_t(s.size())); }
  // Reads until `count` complete responses (by Content-Length) or EOF.
  std::string Read(int count = 1) {
    std::string got;
    char buf[4096];
    while (Complete(got) < count) {
      ssize_t n = read(fd_, buf, sizeof(buf));
      if (n <= 0) break;
      got.append(buf, n);
    }
    return got;
  }
  std::string ReadUntil(const std::string& end) {
    std::string got;
    char ch;
    while (got.find(end) == std::string::npos && read(fd_, &ch, 1) == 1) got.push_back(ch);
    return got;
  }
  bool Closed() {
    char c;
    return read(fd_, &c, 1) == 0;
  }

 private:
  static int Complete(const std::string& s) {
    int n = 0;
    size_t pos = 0;
    while (true) {
      size_t end = s.find("\r\n\r\n", pos);
      if (end == std::string::npos) return n;
      size_t cl = s.find("Content-Length: ", pos);
      size_t len = cl < end ? std::stoul(s.substr(cl + 16)) : 0;
      if (s.compare(pos, 12, "HTTP/1.1 100") == 0) {
        pos = end + 4;
        continue;
      }
      if (s.size() < end + 4 + len) return n;
      ++n;
      pos = end + 4 + len;
    }
  }
  int fd_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServerOptions o;
    o.threads = 2;
    o.max_body_bytes = 1000;
    auto s = HttpServer::Start("127.0.0.1", 0, o, [](const HttpRequest& req, HttpResponse* res) {
      res->content_type = "text/plain";
      res->body = absl::StrCat(req.method, " ", req.path, "?", req.query, " [", req.body, "] ",
                               req.Header("x-test"));
    });
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
  }
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, AnswersWithContentLengthAndDecodesThePath) {
  Client c(server_->port());
  c.Send("GET /v2/models/a%20b?x=1 HTTP/1.1\r\nHost: h\r\nX-Test: yes\r\n\r\n");
  std::string r = c.Read();
  EXPECT_THAT(r, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(r, HasSubstr("Content-Length: 29\r\n"));
  EXPECT_THAT(r, HasSubstr("\r\n\r\nGET /v2/models/a b?x=1 [] yes"));
}

TEST_F(HttpServerTest, KeepAliveAndPipelinedRequests) {
  Client c(server_->port());
  c.Send(
      "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcPOST /b HTTP/1.1\r\nContent-Length: "
      "1\r\n\r\nz");
  std::string r = c.Read(2);
  EXPECT_THAT(r, HasSubstr("POST /a? [abc]"));
  EXPECT_THAT(r, HasSubstr("POST /b? [z]"));
  c.Send("GET /c HTTP/1.1\r\n\r\n");
  EXPECT_THAT(c.Read(), HasSubstr("GET /c? []"));
}

TEST_F(HttpServerTest, ChunkedBodiesAndExpectContinue) {
  Client c(server_->port());
  c.Send("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
  // The server asks for the body before the client sends it.
  EXPECT_EQ(c.ReadUntil("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  c.Send("3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n");
  EXPECT_THAT(c.Read(), HasSubstr("POST /x? [abcde]"));
}

TEST_F(HttpServerTest, Http10ClosesAfterTheResponse) {
  Client c(server_->port());
  c.Send("GET /old HTTP/1.0\r\n\r\n");
  std::string r = c.Read();
  EXPECT_THAT(r, HasSubstr("Connection: close"));
  EXPECT_TRUE(c.Closed());
}

TEST_F(HttpServerTest, MalformedAndOversizedRequestsGetAnErrorAndTheServerGoesOn) {
  for (const char* bad :
       {"NONSENSE\r\n\r\n", "GET x HTTP/1.1\r\n\r\n", "GET / HTTP/2\r\n\r\n",
        "GET / HTTP/1.1\r\nno-colon\r\n\r\n", "POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    Client c(server_->port());
    c.Send(bad);
    EXPECT_THAT(c.Read(), StartsWith("HTTP/1.1 400")) << bad;
  }
  Client big(server_->port());
  big.Send("POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n");
  std::string r = big.Read();
  EXPECT_THAT(r, StartsWith("HTTP/1.1 413"));
  EXPECT_THAT(r, HasSubstr("larger than 1000 bytes"));
  Client huge_head(server_->port());
  huge_head.Send("GET / HTTP/1.1\r\nX: " + std::string(70000, 'a'));
  EXPECT_THAT(huge_head.Read(), StartsWith("HTTP/1.1 431"));
  Client ok(server_->port());
  ok.Send("GET /still-here HTTP/1.1\r\n\r\n");
  EXPECT_THAT(ok.Read(), HasSubstr("GET /still-here"));
}

TEST_F(HttpServerTest, ManyConnectionsThanThreads) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 10; ++i) clients.push_back(std::make_unique<Client>(server_->port()));
  for (int i = 0; i < 10; ++i) clients[i]->Send(absl::StrCat("GET /", i, " HTTP/1.1\r\n\r\n"));
  for (int i = 0; i < 10; ++i)
    EXPECT_THAT(clients[i]->Read(), HasSubstr(absl::StrCat("GET /", i, "?")));
}

TEST(HttpServer, PortInUseIsUnavailable) {
  auto a = HttpServer::Start("127.0.0.1", 0, {}, [](const HttpRequest&, HttpResponse*) {});
  ASSERT_TRUE(a.ok());
  auto b =
      HttpServer::Start("127.0.0.1", (*a)->port(), {}, [](const HttpRequest&, HttpResponse*) {});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(b.status().message(), HasSubstr("cannot listen for HTTP on 127.0.0.1:"));
}

}  // namespace
}  // namespace uop::server
