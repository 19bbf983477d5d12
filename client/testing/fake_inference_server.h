// An in-process fake of inference.GRPCInferenceService for client tests: a
// few tiny models computed in C++, a repository with load/unload state
// changes, statistics, system shared memory, streams, trace settings, and
// hooks to inject failures. It speaks the protocol exactly like a server
// would; uopctl and the client library are tested against it for RPCs that
// uopd does not serve yet, and against the real uopd where it does.
//
//   FakeInferenceServer server;                 // 127.0.0.1, a free port
//   auto client = InferenceClient::Connect(server.target());
//
// Models:
//   add       A, B: FP32[4] -> C = A + B
//   add_sub   INPUT0, INPUT1: INT32[-1] -> OUTPUT0 = a + b, OUTPUT1 = a - b
//   slow      X: FP32[-1] -> Y = X, after sleeping slow_delay()
// "broken" is in the repository but fails to load (state UNAVAILABLE).
//
// With `profiler` it also serves uop.profiler.v1.Profiler: GetTrace streams
// a made-up trace in three chunks (kFakeTrace*), SetRecording turns it off
// (GetTrace then answers FAILED_PRECONDITION).
#ifndef UOP_CLIENT_TESTING_FAKE_INFERENCE_SERVER_H_
#define UOP_CLIENT_TESTING_FAKE_INFERENCE_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/grpc_service.grpc.pb.h"
#include "proto/profiler.grpc.pb.h"

namespace uop::client::testing {

class FakeInferenceService;
class FakeProfilerService;

// What GetTrace returns: the three chunks concatenated, per format.
inline constexpr char kFakePerfettoTrace[] = "PERFETTO:chunk-one|chunk-two|chunk-three";
inline constexpr char kFakeJsonTrace[] = "{\"traceEvents\": [{\"name\": \"x\"}]}";

class FakeInferenceServer {
 public:
  explicit FakeInferenceServer(bool profiler = true);
  ~FakeInferenceServer();

  std::string target() const;  // "127.0.0.1:PORT"
  int port() const { return port_; }

  // The next `n` calls of any RPC answer UNAVAILABLE.
  void FailNextCalls(int n);
  // Calls of `rpc` (e.g. "ModelInfer") so far, failed ones included.
  int Calls(const std::string& rpc) const;
  // How long the model "slow" sleeps, and how long each of the LOADING steps of a load takes.
  void set_slow_delay(absl::Duration d);
  void set_load_step(absl::Duration d);
  // Marks the server as not ready (ServerReady false).
  void set_ready(bool ready);
  // The trace settings last set (server-wide).
  std::map<std::string, std::string> trace_settings() const;

 private:
  std::unique_ptr<FakeInferenceService> service_;
  std::unique_ptr<FakeProfilerService> profiler_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace uop::client::testing

#endif  // UOP_CLIENT_TESTING_FAKE_INFERENCE_SERVER_H_
