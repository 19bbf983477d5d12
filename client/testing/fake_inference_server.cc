#include "client/testing/fake_inference_server.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/lib/datatype.h"
#include "client/lib/infer_tensor.h"
#include "client/lib/shared_memory.h"

namespace uop::client::testing {

namespace {

using grpc::ServerContext;
using grpc::Status;
using grpc::StatusCode;

struct TensorSpec {
  std::string name;
  std::string datatype;
  std::vector<int64_t> dims;  // -1: any size
};

struct ModelSpec {
  std::vector<TensorSpec> inputs, outputs;
};

const std::map<std::string, ModelSpec>& Specs() {
  static const auto* specs = new std::map<std::string, ModelSpec>{
      {"add", {{{"A", "FP32", {4}}, {"B", "FP32", {4}}}, {{"C", "FP32", {4}}}}},
      {"add_sub",
       {{{"INPUT0", "INT32", {-1}}, {"INPUT1", "INT32", {-1}}},
        {{"OUTPUT0", "INT32", {-1}}, {"OUTPUT1", "INT32", {-1}}}}},
      {"slow", {{{"X", "FP32", {-1}}}, {{"Y", "FP32", {-1}}}}},
      {"broken", {{}, {}}},
  };
  return *specs;
}

struct Tensor {
  std::vector<int64_t> shape;
  std::string raw;
};

template <typename T>
std::vector<T> Elems(const std::string& raw) {
  std::vector<T> v(raw.size() / sizeof(T));
  if (!v.empty()) std::memcpy(v.data(), raw.data(), raw.size());
  return v;
}

template <typename T>
std::string Raw(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

Status Invalid(const std::string& msg) { return Status(StatusCode::INVALID_ARGUMENT, msg); }

}  // namespace

class FakeInferenceService final : public inference::GRPCInferenceService::Service {
 public:
  FakeInferenceService() {
    for (const auto& [name, spec] : Specs()) {
      Model& m = models_[name];
      if (name == "broken") {
        m.state = "UNAVAILABLE";
        m.reason = "not loaded";
      }
    }
  }

  // ---- test hooks
  void FailNextCalls(int n) {
    absl::MutexLock lock(&mu_);
    fail_next_ = n;
  }
  int Calls(const std::string& rpc) const {
    absl::MutexLock lock(&mu_);
    auto it = calls_.find(rpc);
    return it == calls_.end() ? 0 : it->second;
  }
  void set_slow_delay(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    slow_delay_ = d;
  }
  void set_load_step(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    load_step_ = d;
  }
  void set_ready(bool r) {
    absl::MutexLock lock(&mu_);
    ready_ = r;
  }
  std::map<std::string, std::string> trace_settings() const {
    absl::MutexLock lock(&mu_);
    return trace_;
  }

  // ---- health and metadata
  Status ServerLive(ServerContext*, const inference::ServerLiveRequest*,
                    inference::ServerLiveResponse* r) override {
    if (Status s = Enter("ServerLive"); !s.ok()) return s;
    r->set_live(true);
    return Status::OK;
  }
  Status ServerReady(ServerContext*, const inference::ServerReadyRequest*,
                     inference::ServerReadyResponse* r) override {
    if (Status s = Enter("ServerReady"); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    r->set_ready(ready_);
    return Status::OK;
  }
  Status ServerMetadata(ServerContext*, const inference::ServerMetadataRequest*,
                        inference::ServerMetadataResponse* r) override {
    if (Status s = Enter("ServerMetadata"); !s.ok()) return s;
    r->set_name("fake");
    r->set_version("0.0.1");
    for (const char* e : {"model_repository", "statistics", "system_shared_memory", "trace"}) {
      r->add_extensions(e);
    }
    return Status::OK;
  }
  Status ModelReady(ServerContext*, const inference::ModelReadyRequest* q,
                    inference::ModelReadyResponse* r) override {
    if (Status s = Enter("ModelReady"); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    auto it = models_.find(q->name());
    if (it == models_.end()) return NotFound(q->name());
    r->set_ready(it->second.state == "READY");
    return Status::OK;
  }
  Status ModelMetadata(ServerContext*, const inference::ModelMetadataRequest* q,
                       inference::ModelMetadataResponse* r) override {
    if (Status s = Enter("ModelMetadata"); !s.ok()) return s;
    if (Status s = CheckReady(q->name()); !s.ok()) return s;
    const ModelSpec& spec = Specs().at(q->name());
    r->set_name(q->name());
    r->add_versions("1");
    r->set_platform("fake");
    for (const TensorSpec& t : spec.inputs) AddMeta(t, r->add_inputs());
    for (const TensorSpec& t : spec.outputs) AddMeta(t, r->add_outputs());
    return Status::OK;
  }
  Status ModelConfig(ServerContext*, const inference::ModelConfigRequest* q,
                     inference::ModelConfigResponse* r) override {
    if (Status s = Enter("ModelConfig"); !s.ok()) return s;
    if (Status s = CheckReady(q->name()); !s.ok()) return s;
    const ModelSpec& spec = Specs().at(q->name());
    auto* c = r->mutable_config();
    c->set_name(q->name());
    c->set_backend("fake");
    c->set_max_batch_size(0);
    for (const TensorSpec& t : spec.inputs) {
      auto* in = c->add_input();
      in->set_name(t.name);
      in->set_data_type(t.datatype == "FP32" ? inference::TYPE_FP32 : inference::TYPE_INT32);
      for (int64_t d : t.dims) in->add_dims(d);
    }
    for (const TensorSpec& t : spec.outputs) {
      auto* out = c->add_output();
      out->set_name(t.name);
      out->set_data_type(t.datatype == "FP32" ? inference::TYPE_FP32 : inference::TYPE_INT32);
      for (int64_t d : t.dims) out->add_dims(d);
    }
    return Status::OK;
  }
  Status ModelStatistics(ServerContext*, const inference::ModelStatisticsRequest* q,
                         inference::ModelStatisticsResponse* r) override {
    if (Status s = Enter("ModelStatistics"); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    if (!q->name().empty() && !models_.count(q->name())) return NotFound(q->name());
    for (const auto& [name, m] : models_) {
      if (!q->name().empty() && name != q->name()) continue;
      if (m.state != "READY") continue;
      auto* st = r->add_model_stats();
      st->set_name(name);
      st->set_version("1");
      st->set_inference_count(m.success);
      st->set_execution_count(m.success);
      auto* is = st->mutable_inference_stats();
      is->mutable_success()->set_count(m.success);
      is->mutable_success()->set_ns(m.success_ns);
      is->mutable_fail()->set_count(m.fail);
      is->mutable_queue()->set_count(m.success);
      is->mutable_queue()->set_ns(m.success_ns / 10);
      is->mutable_compute_infer()->set_count(m.success);
      is->mutable_compute_infer()->set_ns(m.success_ns - m.success_ns / 10);
    }
    return Status::OK;
  }

  // ---- repository
  Status RepositoryIndex(ServerContext*, const inference::RepositoryIndexRequest* q,
                         inference::RepositoryIndexResponse* r) override {
    if (Status s = Enter("RepositoryIndex"); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    for (const auto& [name, m] : models_) {
      if (q->ready() && m.state != "READY") continue;
      auto* e = r->add_models();
      e->set_name(name);
      e->set_version("1");
      e->set_state(m.state);
      e->set_reason(m.reason);
    }
    return Status::OK;
  }
  Status RepositoryModelLoad(ServerContext* ctx, const inference::RepositoryModelLoadRequest* q,
                             inference::RepositoryModelLoadResponse*) override {
    if (Status s = Enter("RepositoryModelLoad"); !s.ok()) return s;
    absl::Duration step;
    {
      absl::MutexLock lock(&mu_);
      auto it = models_.find(q->model_name());
      if (it == models_.end()) return NotFound(q->model_name());
      it->second.state = "LOADING";
      step = load_step_;
    }
    constexpr int kSteps = 4;
    for (int i = 1; i <= kSteps; ++i) {
      {
        absl::MutexLock lock(&mu_);
        models_[q->model_name()].reason = absl::StrCat("compiling kernels ", i, "/", kSteps);
      }
      absl::SleepFor(step);
      if (ctx->IsCancelled()) return Status(StatusCode::CANCELLED, "load cancelled");
    }
    absl::MutexLock lock(&mu_);
    Model& m = models_[q->model_name()];
    if (q->model_name() == "broken") {
      m.state = "UNAVAILABLE";
      m.reason = "unsupported operator Foo (node foo_1)";
      return Status(StatusCode::INTERNAL, "failed to load 'broken': " + m.reason);
    }
    m.state = "READY";
    m.reason = "";
    return Status::OK;
  }
  Status RepositoryModelUnload(ServerContext*, const inference::RepositoryModelUnloadRequest* q,
                               inference::RepositoryModelUnloadResponse*) override {
    if (Status s = Enter("RepositoryModelUnload"); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    auto it = models_.find(q->model_name());
    if (it == models_.end()) return NotFound(q->model_name());
    it->second.state = "UNAVAILABLE";
    it->second.reason = "unloaded";
    return Status::OK;
  }

  // ---- system shared memory
  Status SystemSharedMemoryRegister(ServerContext*,
                                    const inference::SystemSharedMemoryRegisterRequest* q,
                                    inference::SystemSharedMemoryRegisterResponse*) override {
    if (Status s = Enter("SystemSharedMemoryRegister"); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    if (regions_.count(q->name())) {
      return Status(StatusCode::ALREADY_EXISTS, "region '" + q->name() + "' is registered");
    }
    auto map = SharedMemoryRegion::Open(q->key(), /*writable=*/true);
    if (!map.ok()) return Invalid(std::string(map.status().message()));
    if (q->offset() + q->byte_size() > (*map)->size()) {
      return Invalid(absl::StrCat("region '", q->name(), "': offset + byte_size exceed the ",
                                  (*map)->size(), " bytes of ", q->key()));
    }
    regions_[q->name()] = Region{q->key(), q->offset(), q->byte_size(), std::move(*map)};
    return Status::OK;
  }
  Status SystemSharedMemoryUnregister(ServerContext*,
                                      const inference::SystemSharedMemoryUnregisterRequest* q,
                                      inference::SystemSharedMemoryUnregisterResponse*) override {
    if (Status s = Enter("SystemSharedMemoryUnregister"); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    if (q->name().empty()) {
      regions_.clear();
    } else {
      regions_.erase(q->name());
    }
    return Status::OK;
  }
  Status SystemSharedMemoryStatus(ServerContext*,
                                  const inference::SystemSharedMemoryStatusRequest* q,
                                  inference::SystemSharedMemoryStatusResponse* r) override {
    if (Status s = Enter("SystemSharedMemoryStatus"); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    for (const auto& [name, reg] : regions_) {
      if (!q->name().empty() && q->name() != name) continue;
      auto& st = (*r->mutable_regions())[name];
      st.set_name(name);
      st.set_key(reg.key);
      st.set_offset(reg.offset);
      st.set_byte_size(reg.byte_size);
    }
    if (!q->name().empty() && r->regions().empty()) {
      return Status(StatusCode::NOT_FOUND, "no region '" + q->name() + "'");
    }
    return Status::OK;
  }

  // ---- trace settings
  Status TraceSetting(ServerContext*, const inference::TraceSettingRequest* q,
                      inference::TraceSettingResponse* r) override {
    if (Status s = Enter("TraceSetting"); !s.ok()) return s;
    absl::MutexLock lock(&mu_);
    for (const auto& [key, value] : q->settings()) {
      if (value.value().empty()) {
        trace_.erase(key);
      } else {
        trace_[key] = value.value(0);
      }
    }
    for (const auto& [key, value] : trace_) (*r->mutable_settings())[key].add_value(value);
    return Status::OK;
  }

  // ---- inference
  Status ModelInfer(ServerContext* ctx, const inference::ModelInferRequest* q,
                    inference::ModelInferResponse* r) override {
    if (Status s = Enter("ModelInfer"); !s.ok()) return s;
    const absl::Time start = absl::Now();
    Status s = InferOne(ctx, *q, r);
    absl::MutexLock lock(&mu_);
    auto it = models_.find(q->model_name());
    if (it != models_.end()) {
      if (s.ok()) {
        ++it->second.success;
        it->second.success_ns += absl::ToInt64Nanoseconds(absl::Now() - start);
      } else {
        ++it->second.fail;
      }
    }
    return s;
  }
  Status ModelStreamInfer(ServerContext* ctx,
                          grpc::ServerReaderWriter<inference::ModelStreamInferResponse,
                                                   inference::ModelInferRequest>* stream) override {
    if (Status s = Enter("ModelStreamInfer"); !s.ok()) return s;
    inference::ModelInferRequest q;
    while (stream->Read(&q)) {
      inference::ModelStreamInferResponse out;
      Status s = InferOne(ctx, q, out.mutable_infer_response());
      if (!s.ok()) {
        out.Clear();
        out.set_error_message(s.error_message());
      }
      if (!stream->Write(out)) break;
    }
    return Status::OK;
  }

 private:
  struct Model {
    std::string state = "READY";
    std::string reason;
    uint64_t success = 0, success_ns = 0, fail = 0;
  };
  struct Region {
    std::string key;
    uint64_t offset = 0, byte_size = 0;
    std::unique_ptr<SharedMemoryRegion> map;
  };

  Status Enter(const std::string& rpc) {
    absl::MutexLock lock(&mu_);
    ++calls_[rpc];
    if (fail_next_ > 0) {
      --fail_next_;
      return Status(StatusCode::UNAVAILABLE, "injected failure");
    }
    return Status::OK;
  }
  static Status NotFound(const std::string& model) {
    return Status(StatusCode::NOT_FOUND, "unknown model '" + model + "'");
  }
  Status CheckReady(const std::string& model) {
    absl::MutexLock lock(&mu_);
    auto it = models_.find(model);
    if (it == models_.end()) return NotFound(model);
    if (it->second.state != "READY") {
      return Status(StatusCode::UNAVAILABLE, "model '" + model + "' is not ready");
    }
    return Status::OK;
  }
  static void AddMeta(const TensorSpec& t, inference::ModelMetadataResponse::TensorMetadata* m) {
    m->set_name(t.name);
    m->set_datatype(t.datatype);
    for (int64_t d : t.dims) m->add_shape(d);
  }

  // The shared-memory reference in a tensor's parameters, mapped; null data if none.
  template <typename Params>
  Status ShmSpan(const Params& p, char** data, uint64_t* size) {
    *data = nullptr;
    auto region = p.find("shared_memory_region");
    if (region == p.end()) return Status::OK;
    const std::string& name = region->second.string_param();
    uint64_t offset = 0, bytes = 0;
    if (auto it = p.find("shared_memory_offset"); it != p.end()) offset = it->second.int64_param();
    if (auto it = p.find("shared_memory_byte_size"); it != p.end()) {
      bytes = it->second.int64_param();
    }
    absl::MutexLock lock(&mu_);
    auto it = regions_.find(name);
    if (it == regions_.end()) return Invalid("unregistered shared memory region '" + name + "'");
    if (offset + bytes > it->second.byte_size) {
      return Invalid("shared memory '" + name + "': offset + byte_size past the region");
    }
    *data = static_cast<char*>(it->second.map->data()) + it->second.offset + offset;
    *size = bytes;
    return Status::OK;
  }

  Status InferOne(ServerContext* ctx, const inference::ModelInferRequest& q,
                  inference::ModelInferResponse* r) {
    if (Status s = CheckReady(q.model_name()); !s.ok()) return s;
    const ModelSpec& spec = Specs().at(q.model_name());
    if (q.inputs_size() != static_cast<int>(spec.inputs.size())) {
      return Invalid(absl::StrCat("model '", q.model_name(), "' takes ", spec.inputs.size(),
                                  " inputs, got ", q.inputs_size()));
    }
    std::map<std::string, Tensor> in;
    for (int i = 0; i < q.inputs_size(); ++i) {
      const auto& t = q.inputs(i);
      const TensorSpec* want = nullptr;
      for (const TensorSpec& s : spec.inputs) want = s.name == t.name() ? &s : want;
      if (!want) return Invalid("unknown input '" + t.name() + "'");
      if (t.datatype() != want->datatype) {
        return Invalid("input '" + t.name() + "': expected " + want->datatype + ", got " +
                       t.datatype());
      }
      std::vector<int64_t> shape(t.shape().begin(), t.shape().end());
      bool shape_ok = shape.size() == want->dims.size();
      for (size_t d = 0; shape_ok && d < shape.size(); ++d) {
        shape_ok = want->dims[d] == -1 || want->dims[d] == shape[d];
      }
      if (!shape_ok) {
        return Invalid(absl::StrCat("input '", t.name(), "': expected shape ",
                                    ShapeString(want->dims), ", got ", ShapeString(shape)));
      }
      Tensor x{shape, ""};
      char* shm = nullptr;
      uint64_t shm_bytes = 0;
      if (Status s = ShmSpan(t.parameters(), &shm, &shm_bytes); !s.ok()) return s;
      if (shm) {
        x.raw.assign(shm, shm_bytes);
      } else if (i < q.raw_input_contents_size()) {
        x.raw = q.raw_input_contents(i);
      } else if (t.datatype() == "FP32") {
        x.raw = Raw(std::vector<float>(t.contents().fp32_contents().begin(),
                                       t.contents().fp32_contents().end()));
      } else {
        x.raw = Raw(std::vector<int32_t>(t.contents().int_contents().begin(),
                                         t.contents().int_contents().end()));
      }
      Datatype dt = *ParseDatatype(t.datatype());
      if (absl::Status st = CheckRawSize(t.name(), dt, shape, x.raw); !st.ok()) {
        return Invalid(std::string(st.message()));
      }
      in[t.name()] = std::move(x);
    }

    std::map<std::string, Tensor> out;
    if (q.model_name() == "add") {
      auto a = Elems<float>(in["A"].raw), b = Elems<float>(in["B"].raw);
      for (size_t k = 0; k < a.size(); ++k) a[k] += b[k];
      out["C"] = {{4}, Raw(a)};
    } else if (q.model_name() == "add_sub") {
      auto a = Elems<int32_t>(in["INPUT0"].raw), b = Elems<int32_t>(in["INPUT1"].raw);
      if (a.size() != b.size()) return Invalid("INPUT0 and INPUT1 differ in size");
      std::vector<int32_t> sum(a.size()), diff(a.size());
      for (size_t k = 0; k < a.size(); ++k) sum[k] = a[k] + b[k], diff[k] = a[k] - b[k];
      out["OUTPUT0"] = {in["INPUT0"].shape, Raw(sum)};
      out["OUTPUT1"] = {in["INPUT0"].shape, Raw(diff)};
    } else if (q.model_name() == "slow") {
      absl::Duration delay;
      {
        absl::MutexLock lock(&mu_);
        delay = slow_delay_;
      }
      const absl::Time until = absl::Now() + delay;
      while (absl::Now() < until) {
        if (ctx->IsCancelled()) return Status(StatusCode::CANCELLED, "cancelled");
        absl::SleepFor(absl::Milliseconds(2));
      }
      out["Y"] = in["X"];
    }

    r->set_model_name(q.model_name());
    r->set_model_version("1");
    r->set_id(q.id());
    std::vector<std::string> names;
    if (q.outputs_size() == 0) {
      for (const TensorSpec& t : spec.outputs) names.push_back(t.name);
    }
    for (const auto& o : q.outputs()) names.push_back(o.name());
    for (size_t i = 0; i < names.size(); ++i) {
      auto it = out.find(names[i]);
      if (it == out.end()) return Invalid("unknown output '" + names[i] + "'");
      auto* t = r->add_outputs();
      t->set_name(names[i]);
      for (const TensorSpec& s : spec.outputs) {
        if (s.name == names[i]) t->set_datatype(s.datatype);
      }
      for (int64_t d : it->second.shape) t->add_shape(d);
      char* shm = nullptr;
      uint64_t shm_bytes = 0;
      if (q.outputs_size() > 0) {
        const auto& params = q.outputs(static_cast<int>(i)).parameters();
        if (Status s = ShmSpan(params, &shm, &shm_bytes); !s.ok()) return s;
        if (shm) {
          if (shm_bytes < it->second.raw.size()) {
            return Invalid("output '" + names[i] + "': shared memory too small");
          }
          std::memcpy(shm, it->second.raw.data(), it->second.raw.size());
          // Like uopd: the region and the bytes written, not the offset.
          (*t->mutable_parameters())["shared_memory_region"] = params.at("shared_memory_region");
          (*t->mutable_parameters())["shared_memory_byte_size"].set_int64_param(
              static_cast<int64_t>(it->second.raw.size()));
        }
      }
      r->add_raw_output_contents(shm ? "" : it->second.raw);
    }
    return Status::OK;
  }

  mutable absl::Mutex mu_;
  int fail_next_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> calls_ ABSL_GUARDED_BY(mu_);
  absl::Duration slow_delay_ ABSL_GUARDED_BY(mu_) = absl::Milliseconds(200);
  absl::Duration load_step_ ABSL_GUARDED_BY(mu_) = absl::Milliseconds(30);
  bool ready_ ABSL_GUARDED_BY(mu_) = true;
  std::map<std::string, Model> models_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Region> regions_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> trace_ ABSL_GUARDED_BY(mu_);
};

class FakeProfilerService final : public uop::profiler::v1::Profiler::Service {
 public:
  Status GetTrace(ServerContext*, const uop::profiler::v1::GetTraceRequest* q,
                  grpc::ServerWriter<uop::profiler::v1::TraceChunk>* writer) override {
    absl::MutexLock lock(&mu_);
    if (!enabled_) return Status(StatusCode::FAILED_PRECONDITION, "recording is off");
    const std::string trace = q->format() == uop::profiler::v1::TRACE_FORMAT_CHROME_JSON
                                  ? kFakeJsonTrace
                                  : kFakePerfettoTrace;
    const size_t third = trace.size() / 3;
    for (int i = 0; i < 3; ++i) {
      uop::profiler::v1::TraceChunk c;
      c.set_data(trace.substr(i * third, i == 2 ? std::string::npos : third));
      if (i == 0) {
        c.set_format(q->format());
        c.set_total_bytes(trace.size());
        c.set_event_count(42);
        c.set_dropped_events(3);
      }
      writer->Write(c);
    }
    return Status::OK;
  }
  Status SetRecording(ServerContext*, const uop::profiler::v1::SetRecordingRequest* q,
                      uop::profiler::v1::RecordingState* r) override {
    absl::MutexLock lock(&mu_);
    enabled_ = q->enabled();
    r->set_enabled(enabled_);
    r->set_events_per_thread(65536);
    return Status::OK;
  }

 private:
  absl::Mutex mu_;
  bool enabled_ ABSL_GUARDED_BY(mu_) = true;
};

FakeInferenceServer::FakeInferenceServer(bool profiler)
    : service_(std::make_unique<FakeInferenceService>()) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  if (profiler) {
    profiler_ = std::make_unique<FakeProfilerService>();
    builder.RegisterService(profiler_.get());
  }
  server_ = builder.BuildAndStart();
}

FakeInferenceServer::~FakeInferenceServer() {
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

std::string FakeInferenceServer::target() const { return absl::StrCat("127.0.0.1:", port_); }
void FakeInferenceServer::FailNextCalls(int n) { service_->FailNextCalls(n); }
int FakeInferenceServer::Calls(const std::string& rpc) const { return service_->Calls(rpc); }
void FakeInferenceServer::set_slow_delay(absl::Duration d) { service_->set_slow_delay(d); }
void FakeInferenceServer::set_load_step(absl::Duration d) { service_->set_load_step(d); }
void FakeInferenceServer::set_ready(bool ready) { service_->set_ready(ready); }
std::map<std::string, std::string> FakeInferenceServer::trace_settings() const {
  return service_->trace_settings();
}

}  // namespace uop::client::testing
