// End-to-end serving through the real uopd binary: inference over the C++
// stub, HTTP (curl), shared memory and streams; the bad-input matrix while
// other clients keep being served; model submission over gRPC; drain on
// SIGTERM; a real Prometheus server scraping uopd.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "proto/grpc_service.grpc.pb.h"
#include "proto/tensor_service.grpc.pb.h"
#include "tests/e2e/subprocess.h"
#include "tests/e2e/uopd_process.h"

namespace uop::e2e {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kUopd[] = "server/uopd";
constexpr char kModels[] = "examples/models";

std::string Floats(std::vector<float> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

std::vector<float> ToFloats(const std::string& s) {
  std::vector<float> v(s.size() / 4);
  std::memcpy(v.data(), s.data(), v.size() * 4);
  return v;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string CacheDir() { return absl::StrCat(testing::TempDir(), "/kernels"); }

// uopd on the examples in explicit mode with the small models loaded.
UopdProcess StartServing(std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {absl::StrCat("--model-repository=", kModels),
                                   "--model-control-mode=explicit",
                                   "--load-model=add,mlp,image_mean", "--exit-timeout-secs=5",
                                   absl::StrCat("--kernel-cache-dir=", CacheDir())};
  args.insert(args.end(), extra.begin(), extra.end());
  UopdProcess u = UopdProcess::Start(kUopd, args);
  if (u.started() && !u.WaitReady(absl::Seconds(120))) u.grpc_port = 0;
  return u;
}

#define ASSERT_SERVING(u) ASSERT_TRUE((u).started()) << (u).Output()

std::unique_ptr<inference::GRPCInferenceService::Stub> Stub(const UopdProcess& u) {
  return inference::GRPCInferenceService::NewStub(
      grpc::CreateChannel(u.GrpcTarget(), grpc::InsecureChannelCredentials()));
}

inference::ModelInferRequest AddRequest(float a, float b) {
  inference::ModelInferRequest r;
  r.set_model_name("add");
  for (const char* name : {"A", "B"}) {
    auto* in = r.add_inputs();
    in->set_name(name);
    in->set_datatype("FP32");
    in->add_shape(4);
  }
  r.add_raw_input_contents(Floats({a, a + 1, a + 2, a + 3}));
  r.add_raw_input_contents(Floats({b, b, b, b}));
  return r;
}

inference::ModelInferRequest MlpRequest(int rows, float seed) {
  inference::ModelInferRequest r;
  r.set_model_name("mlp");
  auto* in = r.add_inputs();
  in->set_name("x");
  in->set_datatype("FP32");
  in->add_shape(rows);
  in->add_shape(64);
  std::vector<float> x(rows * 64);
  for (size_t i = 0; i < x.size(); ++i) x[i] = seed + 0.01f * static_cast<float>(i % 64);
  r.add_raw_input_contents(Floats(x));
  return r;
}

grpc::Status Infer(inference::GRPCInferenceService::Stub& stub,
                   const inference::ModelInferRequest& r, inference::ModelInferResponse* out,
                   absl::Duration timeout = absl::Seconds(30)) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return stub.ModelInfer(&ctx, r, out);
}

TEST(Serving, InferMetadataAndBatchedRowsThroughTheCppStub) {
  UopdProcess u = StartServing();
  ASSERT_SERVING(u);
  auto stub = Stub(u);
  inference::ModelInferResponse add;
  ASSERT_TRUE(Infer(*stub, AddRequest(1, 10), &add).ok());
  EXPECT_EQ(ToFloats(add.raw_output_contents(0)), (std::vector<float>{11, 12, 13, 14}));

  // Rows of a batch are independent: row 1 of a 3-row request equals a
  // 1-row request with the same data.
  inference::ModelInferResponse three, one;
  ASSERT_TRUE(Infer(*stub, MlpRequest(3, 0.5f), &three).ok());
  ASSERT_EQ(three.outputs(0).shape_size(), 2);
  EXPECT_EQ(three.outputs(0).shape(0), 3);
  EXPECT_EQ(three.outputs(0).shape(1), 16);
  ASSERT_TRUE(Infer(*stub, MlpRequest(1, 0.5f), &one).ok());
  EXPECT_EQ(three.raw_output_contents(0).substr(64, 64), one.raw_output_contents(0));

  grpc::ClientContext ctx;
  inference::ModelMetadataRequest mr;
  mr.set_name("mlp");
  inference::ModelMetadataResponse meta;
  ASSERT_TRUE(stub->ModelMetadata(&ctx, mr, &meta).ok());
  ASSERT_EQ(meta.inputs(0).shape_size(), 2);
  EXPECT_EQ(meta.inputs(0).shape(0), -1);
  EXPECT_EQ(meta.inputs(0).shape(1), 64);
}

// Every kind of bad request gets its status and a message naming what was
// wrong, while four clients keep getting correct answers from the same model.
TEST(Serving, BadInputMatrixWhileOtherClientsAreServed) {
  UopdProcess u = StartServing({"--max-request-mib=4"});
  ASSERT_SERVING(u);
  auto stub = Stub(u);
  inference::ModelInferResponse reference;
  ASSERT_TRUE(Infer(*stub, MlpRequest(2, 1.0f), &reference).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> good{0}, bad{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      auto s = Stub(u);
      while (!stop.load()) {
        inference::ModelInferResponse r;
        grpc::Status st = Infer(*s, MlpRequest(2, 1.0f), &r);
        if (st.ok() && r.raw_output_contents(0) == reference.raw_output_contents(0)) {
          ++good;
        } else {
          ++bad;
        }
      }
    });
  }

  struct Case {
    std::string what;
    std::function<void(inference::ModelInferRequest&)> mutate;
    grpc::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases = {
      {"unknown model", [](auto& r) { r.set_model_name("nope"); }, grpc::StatusCode::NOT_FOUND,
       "unknown model 'nope'"},
      {"unknown version", [](auto& r) { r.set_model_version("7"); }, grpc::StatusCode::NOT_FOUND,
       "model 'add' has no version 7"},
      {"wrong dtype", [](auto& r) { r.mutable_inputs(1)->set_datatype("INT32"); },
       grpc::StatusCode::INVALID_ARGUMENT,
       "input 'B': datatype INT32 given, model 'add' expects FP32"},
      {"wrong shape", [](auto& r) { r.mutable_inputs(0)->set_shape(0, 5); },
       grpc::StatusCode::INVALID_ARGUMENT, "input 'A': shape [5] given, model 'add' expects [4]"},
      {"byte size", [](auto& r) { r.mutable_raw_input_contents(0)->resize(15); },
       grpc::StatusCode::INVALID_ARGUMENT,
       "input 'A': data holds 15 bytes, shape [4] of FP32 needs 16"},
      {"missing input",
       [](auto& r) {
         r.mutable_inputs()->RemoveLast();
         r.mutable_raw_input_contents()->RemoveLast();
       },
       grpc::StatusCode::INVALID_ARGUMENT, "model 'add' needs input 'B'"},
      {"duplicate input", [](auto& r) { r.mutable_inputs(1)->set_name("A"); },
       grpc::StatusCode::INVALID_ARGUMENT, "input 'A' is given more than once"},
      {"huge declared size",
       [](auto& r) {
         r.set_model_name("mlp");
         r.mutable_inputs()->RemoveLast();
         r.mutable_raw_input_contents()->RemoveLast();
         auto* in = r.mutable_inputs(0);
         in->set_name("x");
         in->clear_shape();
         in->add_shape(int64_t{1} << 40);
         in->add_shape(64);
       },
       grpc::StatusCode::INVALID_ARGUMENT,
       "batch size 1099511627776 is not in [1, max_batch_size=32]"},
      {"unregistered shm",
       [](auto& r) {
         r.clear_raw_input_contents();
         for (auto& in : *r.mutable_inputs()) {
           (*in.mutable_parameters())["shared_memory_region"].set_string_param("nowhere");
           (*in.mutable_parameters())["shared_memory_byte_size"].set_int64_param(16);
         }
       },
       grpc::StatusCode::INVALID_ARGUMENT, "shared memory region 'nowhere' is not registered"},
      {"message too large", [](auto& r) { r.mutable_raw_input_contents(0)->resize(5 << 20); },
       grpc::StatusCode::RESOURCE_EXHAUSTED, ""},
  };
  for (const Case& c : cases) {
    inference::ModelInferRequest r = AddRequest(1, 2);
    c.mutate(r);
    inference::ModelInferResponse out;
    grpc::Status s = Infer(*stub, r, &out);
    EXPECT_EQ(s.error_code(), c.code) << c.what << ": " << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(c.message)) << c.what;
  }
  // Bytes that are not a ModelInferRequest at all.
  {
    grpc::GenericStub generic(
        grpc::CreateChannel(u.GrpcTarget(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    grpc::Slice junk(std::string("\xff\xff\xff\xff\x0f garbage", 12));
    grpc::ByteBuffer request(&junk, 1), response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&ctx, "/inference.GRPCInferenceService/ModelInfer", grpc::StubOptions(),
                      &request, &response, [&](grpc::Status s) { done.set_value(s); });
    grpc::Status s = done.get_future().get();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INTERNAL);  // gRPC: "Error parsing request"
  }
  stop.store(true);
  for (auto& t : clients) t.join();
  EXPECT_GT(good.load(), 0);
  EXPECT_EQ(bad.load(), 0) << "a bad request disturbed another client";
  grpc::ClientContext ctx;
  inference::ServerLiveResponse live;
  ASSERT_TRUE(stub->ServerLive(&ctx, {}, &live).ok());
  EXPECT_TRUE(live.live());
}

TEST(Serving, StreamPipelinesRequestsOverTcp) {
  UopdProcess u = StartServing();
  ASSERT_SERVING(u);
  auto stub = Stub(u);
  grpc::ClientContext ctx;
  auto stream = stub->ModelStreamInfer(&ctx);
  constexpr int kN = 20;
  for (int i = 0; i < kN; ++i) {
    inference::ModelInferRequest r = AddRequest(i, 0);
    r.set_id(absl::StrCat(i));
    if (i == 7) r.set_model_name("nope");
    ASSERT_TRUE(stream->Write(r));
  }
  stream->WritesDone();
  for (int i = 0; i < kN; ++i) {
    inference::ModelStreamInferResponse out;
    ASSERT_TRUE(stream->Read(&out)) << i;
    EXPECT_EQ(out.infer_response().id(), absl::StrCat(i));
    if (i == 7) {
      EXPECT_EQ(out.error_message(), "unknown model 'nope'");
    } else {
      EXPECT_EQ(ToFloats(out.infer_response().raw_output_contents(0))[0], i);
    }
  }
  EXPECT_TRUE(stream->Finish().ok());
}

TEST(Serving, HttpJsonBinaryAndErrorsThroughCurl) {
  UopdProcess u = StartServing();
  ASSERT_SERVING(u);
  const std::string base = absl::StrCat("http://127.0.0.1:", u.http_port);
  RunResult ready =
      RunToExit({"/usr/bin/curl", "-sf", base + "/v2/health/ready"}, absl::Seconds(30));
  EXPECT_EQ(ready.exit_status, 0) << ready.err;
  RunResult infer = RunToExit(
      {"/usr/bin/curl", "-s", "-X", "POST", base + "/v2/models/add/infer", "-d",
       R"({"id":"c1","inputs":[{"name":"A","shape":[4],"datatype":"FP32","data":[1,2,3,4]},)"
       R"({"name":"B","shape":[4],"datatype":"FP32","data":[10,20,30,40]}]})"},
      absl::Seconds(30));
  EXPECT_EQ(infer.out,
            R"({"model_name":"add","model_version":"1","id":"c1","outputs":[{"name":"C",)"
            R"("datatype":"FP32","shape":[4],"data":[11,22,33,44]}]})");
  RunResult bad = RunToExit({"/usr/bin/curl", "-s", "-w", "%{http_code}", "-X", "POST",
                             base + "/v2/models/add/infer", "-d", "{not json"},
                            absl::Seconds(30));
  EXPECT_THAT(bad.out, StartsWith(R"({"error":"malformed JSON at byte 1)"));
  EXPECT_THAT(bad.out, HasSubstr("400"));

  // Binary data extension: the JSON header then the raw bytes of A and B.
  const std::string header =
      R"({"inputs":[{"name":"A","shape":[4],"datatype":"FP32","parameters":{"binary_data_size":16}},)"
      R"({"name":"B","shape":[4],"datatype":"FP32","parameters":{"binary_data_size":16}}],)"
      R"("outputs":[{"name":"C","parameters":{"binary_data":true}}]})";
  HttpResult binary = Http(u.http_port, "POST", "/v2/models/add/infer",
                           header + Floats({1, 2, 3, 4}) + Floats({1, 1, 1, 1}),
                           {absl::StrCat("Inference-Header-Content-Length: ", header.size())});
  ASSERT_EQ(binary.status, 200) << binary.body;
  EXPECT_THAT(binary.headers, HasSubstr("Inference-Header-Content-Length: "));
  EXPECT_EQ(binary.body.substr(binary.body.size() - 16), Floats({2, 3, 4, 5}));

  HttpResult stats = Http(u.http_port, "GET", "/v2/models/add/stats");
  EXPECT_THAT(stats.body, HasSubstr(R"("inference_count":2)"));
  EXPECT_EQ(Http(u.http_port, "GET", "/v2/models/nope").status, 404);
}

class ShmObject {
 public:
  explicit ShmObject(size_t size) : key_(absl::StrCat("/uop_e2e_", getpid())), size_(size) {
    int fd = shm_open(key_.c_str(), O_CREAT | O_RDWR, 0600);
    EXPECT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
    base_ = static_cast<char*>(mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    close(fd);
  }
  ~ShmObject() {
    munmap(base_, size_);
    shm_unlink(key_.c_str());
  }
  std::string key_;
  size_t size_;
  char* base_;
};

TEST(Serving, SharedMemoryInputAndOutput) {
  UopdProcess u = StartServing();
  ASSERT_SERVING(u);
  auto stub = Stub(u);
  constexpr size_t kImage = 3 * 224 * 224 * 4;
  ShmObject shm(kImage + 4096);
  std::vector<float> image(3 * 224 * 224);
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<float>(i / (224 * 224)) + 0.5f;
  std::memcpy(shm.base_, image.data(), kImage);
  {
    grpc::ClientContext ctx;
    inference::SystemSharedMemoryRegisterRequest reg;
    reg.set_name("region");
    reg.set_key(shm.key_);
    reg.set_byte_size(shm.size_);
    inference::SystemSharedMemoryRegisterResponse out;
    grpc::Status s = stub->SystemSharedMemoryRegister(&ctx, reg, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  inference::ModelInferRequest r;
  r.set_model_name("image_mean");
  auto* in = r.add_inputs();
  in->set_name("image");
  in->set_datatype("FP32");
  for (int d : {1, 3, 224, 224}) in->add_shape(d);
  (*in->mutable_parameters())["shared_memory_region"].set_string_param("region");
  (*in->mutable_parameters())["shared_memory_byte_size"].set_int64_param(kImage);
  auto* o = r.add_outputs();
  o->set_name("mean");
  (*o->mutable_parameters())["shared_memory_region"].set_string_param("region");
  (*o->mutable_parameters())["shared_memory_offset"].set_int64_param(kImage);
  (*o->mutable_parameters())["shared_memory_byte_size"].set_int64_param(12);
  inference::ModelInferResponse out;
  grpc::Status s = Infer(*stub, r, &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(out.raw_output_contents(0), "");  // the result is in shared memory
  float mean[3];
  std::memcpy(mean, shm.base_ + kImage, 12);
  EXPECT_FLOAT_EQ(mean[0], 0.5f);
  EXPECT_FLOAT_EQ(mean[2], 2.5f);

  // Out of bounds: the region ends before offset + size.
  (*r.mutable_inputs(0)->mutable_parameters())["shared_memory_offset"].set_int64_param(4097);
  s = Infer(*stub, r, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              HasSubstr("input 'image': shared memory region 'region': offset 4097"));
  grpc::ClientContext ctx;
  inference::SystemSharedMemoryStatusResponse status;
  ASSERT_TRUE(stub->SystemSharedMemoryStatus(&ctx, {}, &status).ok());
  EXPECT_EQ(status.regions().at("region").key(), shm.key_);
}

TEST(Serving, ModelsSubmittedOverGrpcAreValidatedStoredAndUnloaded) {
  // A writable copy of the repository: submitted models are stored in it.
  fs::path repo = fs::path(testing::TempDir()) / "submit_repo";
  fs::remove_all(repo);
  fs::create_directories(repo);
  fs::copy(fs::path(kModels) / "add", repo / "add", fs::copy_options::recursive);
  UopdProcess u = UopdProcess::Start(
      kUopd, {absl::StrCat("--model-repository=", repo.string()), "--model-control-mode=explicit",
              "--load-model=add", absl::StrCat("--kernel-cache-dir=", CacheDir())});
  ASSERT_TRUE(u.started() && u.WaitReady(absl::Seconds(60))) << u.Output();
  auto stub = Stub(u);
  const std::string bytes = ReadFile(fs::path(kModels) / "add" / "1" / "model.onnx");
  {
    grpc::ClientContext ctx;
    inference::RepositoryModelLoadRequest load;
    load.set_model_name("plus");
    (*load.mutable_parameters())["config"].set_string_param(R"({"backend": "onnxruntime"})");
    (*load.mutable_parameters())["file:3/model.onnx"].set_bytes_param(bytes);
    inference::RepositoryModelLoadResponse out;
    grpc::Status s = stub->RepositoryModelLoad(&ctx, load, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_TRUE(fs::exists(repo / "plus" / "3" / "model.onnx"));
  inference::ModelInferRequest r = AddRequest(1, 1);
  r.set_model_name("plus");
  inference::ModelInferResponse out;
  ASSERT_TRUE(Infer(*stub, r, &out).ok());
  EXPECT_EQ(out.model_version(), "3");
  {
    grpc::ClientContext ctx;
    inference::RepositoryModelLoadRequest load;
    load.set_model_name("plus");
    (*load.mutable_parameters())["config"].set_string_param("{}");
    (*load.mutable_parameters())["file:3/model.onnx"].set_bytes_param("this is not onnx");
    inference::RepositoryModelLoadResponse ignored;
    grpc::Status s = stub->RepositoryModelLoad(&ctx, load, &ignored);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("the ONNX model does not import"));
  }
  EXPECT_EQ(ReadFile(repo / "plus" / "3" / "model.onnx"), bytes);  // nothing replaced
  ASSERT_TRUE(Infer(*stub, r, &out).ok());                         // still serving
  {
    grpc::ClientContext ctx;
    inference::RepositoryModelUnloadRequest unload;
    unload.set_model_name("plus");
    inference::RepositoryModelUnloadResponse ignored;
    ASSERT_TRUE(stub->RepositoryModelUnload(&ctx, unload, &ignored).ok());
  }
  EXPECT_EQ(Infer(*stub, r, &out).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(Serving, SigtermFinishesInFlightRequestsThenExits) {
  UopdProcess u = StartServing({"--exit-timeout-secs=10"});
  ASSERT_SERVING(u);
  std::atomic<int> ok{0}, refused{0}, wrong{0};
  std::vector<std::thread> clients;
  std::atomic<bool> go{false};
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      auto stub = Stub(u);
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < 100000; ++i) {
        inference::ModelInferResponse out;
        grpc::Status s = Infer(*stub, MlpRequest(1, 0.25f), &out, absl::Seconds(15));
        if (s.ok()) {
          ++ok;
        } else if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
                   s.error_code() == grpc::StatusCode::CANCELLED) {
          // After the drain began: refused by uopd (UNAVAILABLE) or by gRPC
          // for a call that had not started (CANCELLED); never half-done.
          ++refused;
          return;
        } else {
          ++wrong;
          ADD_FAILURE() << "status " << s.error_code() << ": " << s.error_message();
          return;
        }
      }
    });
  }
  go.store(true);
  while (ok.load() < 20) absl::SleepFor(absl::Milliseconds(1));
  u.process->Signal(SIGTERM);
  for (auto& t : clients) t.join();
  EXPECT_EQ(u.process->WaitForExit(absl::Seconds(30)), 0) << u.Output();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(refused.load(), 4);
  EXPECT_THAT(u.process->Stdout(), HasSubstr("uopd: stopped"));
}

// uop.v1.TensorService: the program travels in the request; the second
// submission runs warm, and the hash alone is then enough.
TEST(Serving, TensorProgramsRunWithoutARepository) {
  UopdProcess u = StartServing();
  ASSERT_SERVING(u);
  auto stub = uop::v1::TensorService::NewStub(
      grpc::CreateChannel(u.GrpcTarget(), grpc::InsecureChannelCredentials()));
  uop::v1::ExecuteRequest r;
  r.set_onnx_model(ReadFile(fs::path(kModels) / "add" / "1" / "model.onnx"));
  for (const char* name : {"A", "B"}) {
    auto* in = r.add_inputs();
    in->set_name(name);
    in->set_datatype("FP32");
    in->add_shape(4);
    r.add_raw_input_contents(Floats({1, 2, 3, 4}));
  }
  std::string hash;
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext ctx;
    uop::v1::ExecuteResponse out;
    grpc::Status s = stub->Execute(&ctx, r, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(out.cached(), i == 1);
    EXPECT_EQ(out.raw_output_contents(0), Floats({2, 4, 6, 8}));
    hash = out.program_sha256();
  }
  r.clear_onnx_model();
  r.set_program_sha256(hash);
  r.mutable_inputs(1)->set_datatype("INT32");
  grpc::ClientContext ctx;
  uop::v1::ExecuteResponse out;
  grpc::Status s = stub->Execute(&ctx, r, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("input 'B': datatype INT32 given"));
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// A real Prometheus (Debian's) scrapes uopd; its query API returns our
// series, and promtool accepts the exposition format.
TEST(Serving, PrometheusScrapesUopdAndPromtoolAcceptsTheMetrics) {
  if (!fs::exists("/usr/bin/prometheus") || !fs::exists("/usr/bin/promtool")) {
    GTEST_SKIP() << "Debian's prometheus package is not installed (./uop deps installs it)";
  }
  UopdProcess u = StartServing();
  ASSERT_SERVING(u);
  auto stub = Stub(u);
  inference::ModelInferResponse out;
  ASSERT_TRUE(Infer(*stub, AddRequest(1, 2), &out).ok());

  const std::string metrics = Http(u.metrics_port, "GET", "/metrics").body;
  const fs::path dir = fs::path(testing::TempDir()) / "prometheus";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "metrics.txt") << metrics;
  // Triton's nv_inference_* names predate Prometheus' naming lint (no _total,
  // "_us" units), so promtool flags exactly those; everything of ours must
  // pass. Check both: the full text fails only on nv_ names, ours alone passes.
  std::string ours;
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (absl::StartsWith(line, "nv_") || absl::StartsWith(line, "# HELP nv_") ||
        absl::StartsWith(line, "# TYPE nv_")) {
      continue;
    }
    absl::StrAppend(&ours, line, "\n");
  }
  std::ofstream(dir / "ours.txt") << ours;
  auto promtool = [&](const char* file) {
    return RunToExit({"/bin/sh", "-c",
                      absl::StrCat("/usr/bin/promtool check metrics < ", (dir / file).string())},
                     absl::Seconds(60));
  };
  RunResult check = promtool("ours.txt");
  EXPECT_EQ(check.exit_status, 0) << check.out << check.err;
  RunResult all = promtool("metrics.txt");
  for (absl::string_view line : absl::StrSplit(all.out + all.err, '\n', absl::SkipEmpty())) {
    EXPECT_THAT(std::string(line), StartsWith("nv_inference_"));
  }

  const int port = FreePort();
  std::ofstream(dir / "prometheus.yml")
      << "global:\n  scrape_interval: 1s\n"
      << "scrape_configs:\n  - job_name: uopd\n    static_configs:\n"
      << "      - targets: ['127.0.0.1:" << u.metrics_port << "']\n";
  Subprocess prometheus({"/usr/bin/prometheus",
                         absl::StrCat("--config.file=", (dir / "prometheus.yml").string()),
                         absl::StrCat("--storage.tsdb.path=", (dir / "data").string()),
                         absl::StrCat("--web.listen-address=127.0.0.1:", port)});
  std::string answer;
  const absl::Time until = absl::Now() + absl::Seconds(60);
  while (absl::Now() < until) {
    answer = Http(port, "GET", "/api/v1/query?query=nv_inference_count").body;
    if (answer.find("\"model\":\"add\"") != std::string::npos) break;
    absl::SleepFor(absl::Milliseconds(250));
  }
  EXPECT_THAT(answer, HasSubstr(R"("__name__":"nv_inference_count")"));
  EXPECT_THAT(answer, HasSubstr(R"("job":"uopd")"));
  EXPECT_THAT(answer, HasSubstr(R"("model":"add")"));
  std::string histogram =
      Http(port, "GET", "/api/v1/query?query=uop_inference_request_duration_seconds_count").body;
  EXPECT_THAT(histogram, HasSubstr(R"("version":"1")"));
}

}  // namespace
}  // namespace uop::e2e
