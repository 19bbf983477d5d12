#include "tests/load/loadgen.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "proto/grpc_service.grpc.pb.h"

namespace uop::load {
namespace {

int ElementSize(const std::string& datatype) {
  if (datatype == "FP64" || datatype == "INT64" || datatype == "UINT64") return 8;
  if (datatype == "FP32" || datatype == "INT32" || datatype == "UINT32") return 4;
  if (datatype == "FP16" || datatype == "BF16" || datatype == "INT16" || datatype == "UINT16") {
    return 2;
  }
  return 1;
}

struct Tensor {
  std::string name, datatype;
  std::vector<int64_t> shape;
  std::string data;
};

void Fill(Tensor& t, double value) {
  const int size = ElementSize(t.datatype);
  for (size_t i = 0; i + size <= t.data.size(); i += size) {
    if (t.datatype == "FP32") {
      float f = static_cast<float>(value);
      std::memcpy(&t.data[i], &f, 4);
    } else if (t.datatype == "FP64") {
      std::memcpy(&t.data[i], &value, 8);
    } else if (t.datatype == "INT64") {
      int64_t v = static_cast<int64_t>(value);
      std::memcpy(&t.data[i], &v, 8);
    } else if (t.datatype == "INT32") {
      int32_t v = static_cast<int32_t>(value);
      std::memcpy(&t.data[i], &v, 4);
    }
  }
}

std::shared_ptr<grpc::Channel> Channel(const std::string& target, int client) {
  grpc::ChannelArguments args;
  args.SetInt("uop.loadgen.client", client);  // distinct args: a connection per client
  args.SetMaxReceiveMessageSize(-1);
  args.SetMaxSendMessageSize(-1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

absl::StatusOr<std::vector<Tensor>> Inputs(const LoadOptions& o) {
  std::vector<Tensor> inputs;
  if (o.echo_bytes > 0) {
    Tensor t{"INPUT0", "FP32", {o.echo_bytes / 4}, std::string(o.echo_bytes / 4 * 4, '\0')};
    inputs.push_back(std::move(t));
    return inputs;
  }
  auto stub = inference::GRPCInferenceService::NewStub(Channel(o.target, -1));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  inference::ModelMetadataRequest request;
  request.set_name(o.model);
  inference::ModelMetadataResponse meta;
  grpc::Status s = stub->ModelMetadata(&ctx, request, &meta);
  if (!s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("ModelMetadata(", o.model, ") at ", o.target, ": ", s.error_message()));
  }
  for (const auto& in : meta.inputs()) {
    Tensor t;
    t.name = in.name();
    t.datatype = in.datatype();
    int64_t n = 1;
    for (int i = 0; i < in.shape_size(); ++i) {
      int64_t d = in.shape(i);
      if (d < 0) d = i == 0 ? o.batch : 1;
      t.shape.push_back(d);
      n *= d;
    }
    t.data.assign(static_cast<size_t>(n * ElementSize(t.datatype)), '\0');
    auto v = o.values.find(t.name);
    if (v != o.values.end()) Fill(t, v->second);
    inputs.push_back(std::move(t));
  }
  return inputs;
}

// One client's shared-memory region holding its inputs back to back.
class ShmInputs {
 public:
  ShmInputs(inference::GRPCInferenceService::Stub& stub, const std::vector<Tensor>& inputs,
            int client)
      : stub_(stub) {
    name_ = absl::StrCat("loadgen_", getpid(), "_", client);
    key_ = "/" + name_;
    for (const Tensor& t : inputs) size_ += t.data.size();
    int fd = shm_open(key_.c_str(), O_CREAT | O_RDWR, 0600);
    if (fd < 0 || ftruncate(fd, static_cast<off_t>(std::max<size_t>(size_, 1))) != 0) {
      status_ = absl::InternalError("cannot create a shm region");
      return;
    }
    base_ = static_cast<char*>(
        mmap(nullptr, std::max<size_t>(size_, 1), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    close(fd);
    size_t offset = 0;
    for (const Tensor& t : inputs) {
      std::memcpy(base_ + offset, t.data.data(), t.data.size());
      offset += t.data.size();
    }
    grpc::ClientContext ctx;
    inference::SystemSharedMemoryRegisterRequest r;
    r.set_name(name_);
    r.set_key(key_);
    r.set_byte_size(std::max<size_t>(size_, 1));
    inference::SystemSharedMemoryRegisterResponse out;
    grpc::Status s = stub_.SystemSharedMemoryRegister(&ctx, r, &out);
    if (!s.ok()) status_ = absl::UnavailableError("register: " + s.error_message());
  }
  ~ShmInputs() {
    grpc::ClientContext ctx;
    inference::SystemSharedMemoryUnregisterRequest r;
    r.set_name(name_);
    inference::SystemSharedMemoryUnregisterResponse out;
    (void)stub_.SystemSharedMemoryUnregister(&ctx, r, &out);
    if (base_ != nullptr) munmap(base_, std::max<size_t>(size_, 1));
    shm_unlink(key_.c_str());
  }
  const absl::Status& status() const { return status_; }
  const std::string& name() const { return name_; }

 private:
  inference::GRPCInferenceService::Stub& stub_;
  std::string name_, key_;
  size_t size_ = 0;
  char* base_ = nullptr;
  absl::Status status_;
};

}  // namespace

int64_t LoadResult::Percentile(double p) const {
  if (latencies_ns.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(latencies_ns.size() - 1) + 0.5);
  return latencies_ns[std::min(i, latencies_ns.size() - 1)];
}

std::string LoadResult::Summary() const {
  return absl::StrFormat(
      "requests=%d errors=%d seconds=%.2f throughput=%.0f/s p50_us=%.1f p90_us=%.1f p99_us=%.1f",
      requests, errors, seconds, throughput(), Percentile(0.5) / 1e3, Percentile(0.9) / 1e3,
      Percentile(0.99) / 1e3);
}

absl::StatusOr<LoadResult> RunLoad(const LoadOptions& o) {
  absl::StatusOr<std::vector<Tensor>> inputs = Inputs(o);
  if (!inputs.ok()) return inputs.status();
  LoadResult result;
  for (const Tensor& t : *inputs) result.request_bytes += static_cast<int64_t>(t.data.size());

  std::mutex mu;
  std::atomic<int> setup_failed{0};
  std::string setup_error;
  const absl::Time start = absl::Now() + o.warmup;
  const absl::Time end = start + o.duration;
  std::vector<std::thread> clients;
  for (int c = 0; c < o.concurrency; ++c) {
    clients.emplace_back([&, c] {
      auto stub = inference::GRPCInferenceService::NewStub(Channel(o.target, c));
      std::unique_ptr<ShmInputs> shm;
      if (o.shm) {
        shm = std::make_unique<ShmInputs>(*stub, *inputs, c);
        if (!shm->status().ok()) {
          std::lock_guard<std::mutex> lock(mu);
          ++setup_failed;
          setup_error = std::string(shm->status().message());
          return;
        }
      }
      inference::ModelInferRequest request;
      request.set_model_name(o.echo_bytes > 0 ? "echo" : o.model);
      int64_t offset = 0;
      for (const Tensor& t : *inputs) {
        auto* in = request.add_inputs();
        in->set_name(t.name);
        in->set_datatype(t.datatype);
        for (int64_t d : t.shape) in->add_shape(d);
        if (shm) {
          auto& p = *in->mutable_parameters();
          p["shared_memory_region"].set_string_param(shm->name());
          p["shared_memory_offset"].set_int64_param(offset);
          p["shared_memory_byte_size"].set_int64_param(static_cast<int64_t>(t.data.size()));
          offset += static_cast<int64_t>(t.data.size());
        } else {
          request.add_raw_input_contents(t.data);
        }
      }
      std::vector<int64_t> latencies;
      latencies.reserve(1 << 16);
      int64_t errors = 0, all_ok = 0;
      std::map<std::string, int64_t> codes;
      inference::ModelInferResponse response;
      while (true) {
        const absl::Time t0 = absl::Now();
        if (t0 >= end) break;
        grpc::ClientContext ctx;
        ctx.set_deadline(absl::ToChronoTime(t0 + absl::Seconds(30)));
        response.Clear();
        grpc::Status s = stub->ModelInfer(&ctx, request, &response);
        const absl::Time t1 = absl::Now();
        all_ok += s.ok();
        if (t0 < start) continue;  // warm-up
        if (s.ok()) {
          latencies.push_back(absl::ToInt64Nanoseconds(t1 - t0));
        } else {
          ++errors;
          ++codes[absl::StrCat(s.error_code(), ": ", s.error_message())];
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      result.latencies_ns.insert(result.latencies_ns.end(), latencies.begin(), latencies.end());
      result.errors += errors;
      result.all_ok += all_ok;
      for (const auto& [k, v] : codes) result.error_codes[k] += v;
    });
  }
  for (auto& t : clients) t.join();
  if (setup_failed > 0) return absl::UnavailableError("shared memory setup: " + setup_error);
  result.seconds = absl::ToDoubleSeconds(o.duration);
  result.requests = static_cast<int64_t>(result.latencies_ns.size());
  std::sort(result.latencies_ns.begin(), result.latencies_ns.end());
  return result;
}

}  // namespace uop::load
