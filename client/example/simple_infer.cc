// A small program using the client library: C = A + B on uopd's example
// model "add" (examples/models/add), once synchronously, a few times
// asynchronously and over a stream.
//
//   bazel run //client/example:simple_infer -- localhost:8001
#include <cstdio>
#include <future>
#include <vector>

#include "absl/strings/str_join.h"
#include "client/lib/client.h"
#include "runtime/base/status_macros.h"

namespace {

using uop::client::InferenceClient;
using uop::client::InferInput;
using uop::client::InferResult;

absl::Status Run(const std::string& url) {
  ASSIGN_OR_RETURN(std::unique_ptr<InferenceClient> client, InferenceClient::Connect(url));
  ASSIGN_OR_RETURN(bool ready, client->ModelReady("add"));
  if (!ready) return absl::FailedPreconditionError("model 'add' is not ready");

  ASSIGN_OR_RETURN(InferInput a, InferInput::FromVector<float>("A", {4}, {1, 2, 3, 4}));
  ASSIGN_OR_RETURN(InferInput b, InferInput::FromVector<float>("B", {4}, {10, 20, 30, 40}));

  // Synchronous.
  ASSIGN_OR_RETURN(InferResult r, client->Infer({.model_name = "add"}, {a, b}));
  ASSIGN_OR_RETURN(std::vector<float> c, r.As<float>("C"));
  std::printf("sync:   C = [%s]\n", absl::StrJoin(c, ", ").c_str());

  // Asynchronous: four requests in flight at once.
  std::vector<std::promise<absl::StatusOr<InferResult>>> done(4);
  for (auto& d : done) {
    client->AsyncInfer([&d](absl::StatusOr<InferResult> res) { d.set_value(std::move(res)); },
                       {.model_name = "add"}, {a, b});
  }
  for (auto& d : done) {
    ASSIGN_OR_RETURN(InferResult res, d.get_future().get());
    ASSIGN_OR_RETURN(c, res.As<float>("C"));
  }
  std::printf("async:  4 results, last C = [%s]\n", absl::StrJoin(c, ", ").c_str());

  // Streaming: responses arrive on the stream's thread.
  int received = 0;  // written on the stream's thread, read after Finish
  ASSIGN_OR_RETURN(auto stream, client->OpenStream([&](absl::StatusOr<InferResult> res) {
    if (!res.ok()) std::fprintf(stderr, "stream: %s\n", res.status().ToString().c_str());
    ++received;
  }));
  for (int i = 0; i < 3; ++i) RETURN_IF_ERROR(stream->Write({.model_name = "add"}, {a, b}));
  RETURN_IF_ERROR(stream->Finish());
  std::printf("stream: %d responses\n", received);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string url = argc > 1 ? argv[1] : "localhost:8001";
  absl::Status st = Run(url);
  if (!st.ok()) {
    std::fprintf(stderr, "simple_infer: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
