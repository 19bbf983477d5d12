#include "server/model_manager.h"

#include <google/protobuf/text_format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "runtime/base/status_macros.h"
#include "server/batching.h"
#include "server/config_file.h"
#include "server/data_type.h"
#include "server/model_config.h"
#include "server/model_repository.h"

namespace uop::server {
namespace fs = std::filesystem;
namespace {

constexpr char kReady[] = "READY";
constexpr char kLoading[] = "LOADING";
constexpr char kUnavailable[] = "UNAVAILABLE";

std::string ModelDir(const std::string& repo, const std::string& name) {
  return (fs::path(repo) / name).string();
}

// Zero-filled inputs of `bucket` rows (or the plain dims when bucket is 0).
// False when a dim is variable (-1): that shape cannot be warmed ahead.
bool ZeroInputs(const inference::ModelConfig& config, int bucket, std::vector<std::string>* storage,
                InferJob* job) {
  storage->clear();
  storage->reserve(config.input_size());
  for (const auto& in : config.input()) {
    InputTensor t;
    t.name = in.name();
    t.dtype = in.data_type();
    if (bucket > 0) t.shape.push_back(bucket);
    for (int64_t d : in.dims()) {
      if (d < 0) return false;
      t.shape.push_back(d);
    }
    absl::StatusOr<int64_t> n = ElementCount(t.shape);
    if (!n.ok()) return false;
    // BYTES: n empty strings, each a 4-byte zero length.
    const int64_t size = t.dtype == inference::TYPE_STRING ? *n * 4 : *n * ElementSize(t.dtype);
    storage->emplace_back(static_cast<size_t>(size), '\0');
    t.data = storage->back();
    job->inputs.push_back(std::move(t));
  }
  job->batch = bucket;
  return true;
}

}  // namespace

absl::Status CheckModelName(absl::string_view name) {
  if (name.empty() || name == "." || name == ".." || name[0] == '.' || name.size() > 255) {
    return absl::InvalidArgumentError(absl::StrCat("'", name, "' is not a valid model name"));
  }
  for (char c : name) {
    if (c == '/' || c == '\\' || absl::ascii_iscntrl(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("model name '", name, "' may not contain '/', '\\' or control characters"));
    }
  }
  return absl::OkStatus();
}

ModelManager::ModelManager(ModelManagerOptions options, const BackendRegistry* backends,
                           ServerMetrics* metrics)
    : options_(std::move(options)),
      backends_(backends),
      metrics_(metrics),
      gpu_memory_(
          std::make_unique<GpuMemoryBudget>(options_.gpus, options_.gpu_memory_budget_bytes)) {}

ModelManager::~ModelManager() { Stop(); }

void ModelManager::Say(const std::string& line) const {
  if (!options_.verbose) return;
  std::fprintf(stdout, "uopd: %s\n", line.c_str());
  std::fflush(stdout);
}

absl::Status ModelManager::LoadStartupModels() {
  ASSIGN_OR_RETURN(std::vector<std::string> all, ListModelFolders(options_.repository));
  std::vector<std::string> wanted;
  if (options_.mode == ControlMode::kExplicit) {
    for (const std::string& m : options_.startup_models) {
      if (m == "*") {
        wanted = all;
        break;
      }
      wanted.push_back(m);
    }
  } else {
    wanted = all;
  }
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    for (const std::string& name : wanted) {
      Entry& e = models_[name];
      e.wanted = true;
      e.state = kLoading;
    }
  }
  std::vector<std::string> errors;
  for (const std::string& name : wanted) {
    std::lock_guard<std::mutex> load(load_mu_);
    absl::Status s = LoadFromRepository(name);
    if (!s.ok()) errors.push_back(std::string(s.message()));
  }
  if (!errors.empty()) return absl::UnavailableError(absl::StrJoin(errors, "; "));
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<ModelVersion>> ModelManager::Get(absl::string_view name,
                                                                absl::string_view version) const {
  int64_t wanted = -1;
  if (!version.empty() && version != "-1") {
    if (!absl::SimpleAtoi(version, &wanted) || wanted <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", name, "': '", version, "' is not a version number"));
    }
  }
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto it = models_.find(std::string(name));
  if (it == models_.end()) {
    return absl::NotFoundError(absl::StrCat("unknown model '", name, "'"));
  }
  const Entry& e = it->second;
  if (wanted > 0) {
    auto v = e.versions.find(wanted);
    if (v == e.versions.end()) {
      return absl::NotFoundError(absl::StrCat("model '", name, "' has no version ", wanted));
    }
    if (!v->second.ready) {
      return absl::UnavailableError(
          absl::StrCat("model '", name, "' version ", wanted, " is ", v->second.state,
                       v->second.reason.empty() ? "" : ": ", v->second.reason));
    }
    return v->second.ready;
  }
  for (auto v = e.versions.rbegin(); v != e.versions.rend(); ++v) {
    if (v->second.ready) return v->second.ready;
  }
  return absl::UnavailableError(absl::StrCat("model '", name, "' is not ready (",
                                             e.state.empty() ? kUnavailable : e.state,
                                             e.reason.empty() ? "" : ": ", e.reason, ")"));
}

std::vector<std::shared_ptr<ModelVersion>> ModelManager::Ready(absl::string_view name) const {
  std::vector<std::shared_ptr<ModelVersion>> out;
  std::shared_lock<std::shared_mutex> lock(mu_);
  for (const auto& [model, entry] : models_) {
    if (!name.empty() && model != name) continue;
    for (const auto& [v, slot] : entry.versions) {
      if (slot.ready) out.push_back(slot.ready);
    }
  }
  return out;
}

absl::StatusOr<std::shared_ptr<ModelVersion>> ModelManager::BuildVersion(
    const std::string& name, int64_t version, const std::string& version_dir,
    const inference::ModelConfig& given, const std::map<std::string, std::string>* files) {
  const absl::Time start = absl::Now();
  ASSIGN_OR_RETURN(const BackendLoader* loader, backends_->Find(given));
  ModelFiles mf;
  mf.version_dir = version_dir;
  mf.file_name =
      given.default_model_filename().empty() ? "model.onnx" : given.default_model_filename();
  mf.max_bytes = options_.max_model_bytes;
  if (files != nullptr) {
    auto it = files->find(absl::StrCat(version, "/", mf.file_name));
    if (it != files->end()) mf.bytes = it->second;
  }
  if (mf.bytes.empty() && !fs::exists(fs::path(version_dir) / mf.file_name)) {
    return absl::NotFoundError(absl::StrCat("model '", name, "' version ", version, ": no file '",
                                            mf.file_name, "' in ", version_dir));
  }
  inference::ModelConfig config = given;
  ASSIGN_OR_RETURN(std::vector<InstancePlacement> placement,
                   PlaceInstances(config, name, options_.gpus));
  std::vector<std::unique_ptr<ModelBackend>> instances;
  std::vector<std::pair<int, int64_t>> gpu_bytes;
  int64_t file_bytes = static_cast<int64_t>(mf.bytes.size());
  if (file_bytes == 0) {
    std::error_code ec;
    const auto size = fs::file_size(fs::path(version_dir) / mf.file_name, ec);
    if (!ec) file_bytes = static_cast<int64_t>(size);
  }
  for (size_t i = 0; i < placement.size(); ++i) {
    mf.device = placement[i].device;
    absl::StatusOr<std::unique_ptr<ModelBackend>> backend = (*loader)(mf, config);
    if (!backend.ok()) {
      return absl::Status(backend.status().code(),
                          absl::StrCat("model '", name, "' version ", version, " instance ", i,
                                       " on ", mf.device, ": ", backend.status().message()));
    }
    if (i == 0) RETURN_IF_ERROR(CompleteConfig(**backend, name, &config));
    if (placement[i].gpu >= 0) {
      const int64_t bytes = (*backend)->DeviceBytes();
      gpu_bytes.emplace_back(placement[i].gpu, bytes > 0 ? bytes : file_bytes);
    }
    instances.push_back(std::move(*backend));
  }
  // Charged before anything is compiled or warmed on the GPUs.
  ASSIGN_OR_RETURN(std::unique_ptr<GpuMemoryBudget::Reservation> gpu_memory,
                   gpu_memory_->Reserve(absl::StrCat(name, "' version '", version), gpu_bytes));

  auto v = std::make_shared<ModelVersion>();
  v->name = name;
  v->version = version;
  v->version_string = absl::StrCat(version);
  v->config = config;
  v->placement = placement;
  v->gpu_memory = std::move(gpu_memory);
  v->stats = std::make_unique<ModelStats>(
      name, v->version_string,
      metrics_ != nullptr ? metrics_->ForModel(name, v->version_string) : nullptr);
  if (options_.device_busy) v->stats->SetBusyHook(options_.device_busy);
  SchedulerOptions so;
  so.model_name = name;
  so.max_batch_size = config.max_batch_size();
  so.buckets = BatchBuckets(config);
  so.max_queue_size = options_.max_queue_size;
  so.max_queue_bytes = options_.max_queue_bytes;
  DeviceIndex(placement, &so.devices, &so.instance_device);
  so.max_retries = options_.max_retries;
  if (so.devices.size() > 1) so.probe_interval = options_.health_probe_interval;
  if (config.has_dynamic_batching()) {
    const auto& db = config.dynamic_batching();
    so.dynamic_batching = true;
    so.max_queue_delay = absl::Microseconds(db.max_queue_delay_microseconds());
    for (int p : db.preferred_batch_size()) so.preferred_batch = std::max(so.preferred_batch, p);
    if (db.default_queue_policy().max_queue_size() > 0) {
      so.max_queue_size = db.default_queue_policy().max_queue_size();
    }
    so.priority_levels = std::max<int>(1, static_cast<int>(db.priority_levels()));
    so.default_priority = db.default_priority_level() > 0
                              ? static_cast<int>(db.default_priority_level())
                              : so.priority_levels;
  }
  v->scheduler = std::make_unique<Scheduler>(std::move(so), std::move(instances), v->stats.get());
  // A failed GPU comes back once a smallest-bucket run of zeros succeeds on
  // each of its instances (models with variable dims: any run, no inputs
  // known, so the probe reports the device as still failed).
  v->scheduler->SetProbe([config, bucket = BatchBuckets(config).front()](ModelBackend& instance) {
    InferJob job;
    std::vector<std::string> storage;
    if (!ZeroInputs(config, bucket, &storage, &job)) {
      return absl::FailedPreconditionError("no probe input for variable dims");
    }
    InferJob* jobs[] = {&job};
    return RunBatch(instance, jobs, bucket);
  });
  RETURN_IF_ERROR(Warm(*v, fs::path(version_dir).parent_path().string()));
  v->load_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (metrics_ != nullptr)
    metrics_->ForModel(name, v->version_string)->SetLoadSeconds(v->load_seconds);
  return v;
}

absl::Status ModelManager::Warm(ModelVersion& v, const std::string& model_dir) {
  const inference::ModelConfig& config = v.config;
  auto fail = [&](const absl::Status& s, const std::string& what) {
    return absl::Status(s.code(), absl::StrCat("model '", v.name, "' version ", v.version,
                                               ": warm-up ", what, " failed: ", s.message()));
  };
  int warmed = 0;
  // Each bucket runs three times: compile and capture, then two timed
  // replays whose faster one is the bucket's cost (see BestBucket).
  const std::vector<int> buckets = BatchBuckets(config);
  std::vector<int64_t> costs(buckets.size(), 0);
  for (size_t b = 0; b < buckets.size(); ++b) {
    InferJob job;
    std::vector<std::string> storage;
    if (!ZeroInputs(config, buckets[b], &storage, &job)) break;  // variable dims
    for (int run = 0; run < 3; ++run) {
      const absl::Time start = absl::Now();
      absl::Status s = v.scheduler->RunDirect(&job, buckets[b]);
      if (!s.ok()) return fail(s, absl::StrCat("of batch size ", buckets[b]));
      const int64_t ns = absl::ToInt64Nanoseconds(absl::Now() - start);
      if (run > 0 && (costs[b] == 0 || ns < costs[b])) costs[b] = std::max<int64_t>(ns, 1);
    }
    ++warmed;
  }
  if (config.max_batch_size() > 0) v.scheduler->SetBucketCosts(std::move(costs));
  // model_warmup entries: zero_data or input_data_file (raw bytes, relative
  // to <model>/warmup/, as in Triton).
  for (const auto& w : config.model_warmup()) {
    InferJob job;
    std::vector<std::string> storage;
    storage.reserve(w.inputs_size());
    const int bucket = config.max_batch_size() > 0 ? std::max<int>(w.batch_size(), 1) : 0;
    for (const auto& [name, in] : w.inputs()) {
      InputTensor t;
      t.name = name;
      t.dtype = in.data_type();
      if (bucket > 0) t.shape.push_back(bucket);
      t.shape.insert(t.shape.end(), in.dims().begin(), in.dims().end());
      ASSIGN_OR_RETURN(int64_t n, ElementCount(t.shape));
      const int64_t bytes = n * ElementSize(t.dtype);
      if (in.input_data_type_case() == inference::ModelWarmup::Input::kInputDataFile) {
        ASSIGN_OR_RETURN(
            std::string data,
            ReadTextFile((fs::path(model_dir) / "warmup" / in.input_data_file()).string()));
        if (static_cast<int64_t>(data.size()) != bytes) {
          return fail(absl::InvalidArgumentError(absl::StrCat(
                          "input '", name, "' file has ", data.size(), " bytes, expected ", bytes)),
                      w.name());
        }
        storage.push_back(std::move(data));
      } else {
        storage.emplace_back(static_cast<size_t>(bytes), '\0');
      }
      t.data = storage.back();
      job.inputs.push_back(std::move(t));
    }
    // Config input order.
    std::vector<InputTensor> ordered;
    for (const auto& ci : config.input()) {
      for (auto& t : job.inputs) {
        if (t.name == ci.name()) ordered.push_back(t);
      }
    }
    job.inputs = std::move(ordered);
    job.batch = bucket;
    for (uint32_t i = 0; i < std::max<uint32_t>(w.count(), 1); ++i) {
      absl::Status s = v.scheduler->RunDirect(&job, bucket);
      if (!s.ok()) return fail(s, w.name());
    }
    ++warmed;
  }
  if (warmed == 0) {
    Say(absl::StrCat("model ", v.name, " version ", v.version,
                     ": variable input dims and no model_warmup; each new shape compiles on its "
                     "first request"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::shared_ptr<ModelVersion>>> ModelManager::BuildVersions(
    const std::string& name, const std::string& model_dir, inference::ModelConfig config,
    const std::map<std::string, std::string>* files) {
  RETURN_IF_ERROR(ValidateConfig(config, name));
  std::set<int64_t> available;
  if (fs::exists(model_dir)) {
    absl::StatusOr<std::vector<int64_t>> on_disk = ListVersions(model_dir);
    if (on_disk.ok()) available.insert(on_disk->begin(), on_disk->end());
  }
  if (files != nullptr) {
    for (const auto& [path, bytes] : *files) {
      int64_t v = 0;
      if (absl::SimpleAtoi(path.substr(0, path.find('/')), &v) && v > 0) available.insert(v);
    }
  }
  std::vector<int64_t> selected = SelectVersions(
      config.version_policy(), std::vector<int64_t>(available.begin(), available.end()));
  if (selected.empty()) {
    return absl::NotFoundError(absl::StrCat("model '", name,
                                            "' has no version folder the version policy selects",
                                            " (expected <model>/<number>/model.onnx)"));
  }
  std::vector<std::shared_ptr<ModelVersion>> out;
  for (int64_t v : selected) {
    ASSIGN_OR_RETURN(
        std::shared_ptr<ModelVersion> built,
        BuildVersion(name, v, (fs::path(model_dir) / std::to_string(v)).string(), config, files));
    Say(absl::StrCat("model ", name, " version ", v, " READY in ",
                     static_cast<int64_t>(built->load_seconds * 1000), " ms"));
    out.push_back(std::move(built));
  }
  return out;
}

void ModelManager::Publish(const std::string& name,
                           std::vector<std::shared_ptr<ModelVersion>> versions,
                           std::string fingerprint) {
  std::vector<std::shared_ptr<ModelVersion>> old;
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    Entry& e = models_[name];
    for (auto& [v, slot] : e.versions) {
      if (slot.ready) old.push_back(std::move(slot.ready));
    }
    e.versions.clear();
    for (auto& v : versions) {
      const int64_t number = v->version;
      e.versions[number] = VersionSlot{kReady, "", std::move(v)};
    }
    e.state = kReady;
    e.reason.clear();
    e.fingerprint = std::move(fingerprint);
  }
  // Outside the lock: the old versions finish their in-flight requests.
  for (auto& v : old) v->scheduler->Close();
}

void ModelManager::SetFailed(const std::string& name, const absl::Status& status) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  Entry& e = models_[name];
  // A failed reload keeps serving the versions that were READY.
  bool serving = false;
  for (const auto& [v, slot] : e.versions) serving |= slot.ready != nullptr;
  if (!serving) {
    e.state = kUnavailable;
    e.versions.clear();
  }
  e.reason = std::string(status.message());
}

absl::Status ModelManager::LoadFromRepository(const std::string& name) {
  RETURN_IF_ERROR(CheckModelName(name));
  const std::string dir = ModelDir(options_.repository, name);
  const std::string fingerprint = Fingerprint(dir);
  absl::StatusOr<std::vector<std::shared_ptr<ModelVersion>>> versions =
      [&]() -> absl::StatusOr<std::vector<std::shared_ptr<ModelVersion>>> {
    if (!fs::is_directory(dir)) {
      return absl::NotFoundError(
          absl::StrCat("model '", name, "' is not in the repository ", options_.repository));
    }
    inference::ModelConfig config;
    const std::string config_path = (fs::path(dir) / "config.pbtxt").string();
    if (fs::exists(config_path)) {
      ASSIGN_OR_RETURN(config, ReadConfigFile(config_path));
    }
    return BuildVersions(name, dir, std::move(config), nullptr);
  }();
  if (!versions.ok()) {
    Say(absl::StrCat("model ", name, " failed to load: ", versions.status().message()));
    SetFailed(name, versions.status());
    return versions.status();
  }
  Publish(name, std::move(*versions), fingerprint);
  return absl::OkStatus();
}

absl::Status ModelManager::Load(const std::string& name, const std::string& config_json,
                                const std::map<std::string, std::string>& files) {
  if (options_.mode == ControlMode::kNone) {
    return absl::FailedPreconditionError(
        "explicit model load/unload is not allowed in model control mode 'none' (start uopd with "
        "--model-control-mode=explicit or poll)");
  }
  RETURN_IF_ERROR(CheckModelName(name));
  if (!files.empty() && config_json.empty()) {
    return absl::InvalidArgumentError(
        "a load with 'file:' parameters needs the 'config' parameter too (as Triton requires)");
  }
  int64_t total = 0;
  for (const auto& [path, bytes] : files) total += static_cast<int64_t>(bytes.size());
  if (total > options_.max_model_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("model '", name, "': the files hold ", total,
                                                     " bytes, more than the limit of ",
                                                     options_.max_model_bytes));
  }
  std::lock_guard<std::mutex> load(load_mu_);
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    Entry& e = models_[name];
    e.wanted = true;
    if (e.versions.empty()) e.state = kLoading;
  }
  if (config_json.empty()) return LoadFromRepository(name);

  absl::StatusOr<inference::ModelConfig> config = ParseConfigJson(config_json);
  if (!config.ok()) {
    SetFailed(name, config.status());
    return config.status();
  }
  const std::string dir = ModelDir(options_.repository, name);
  absl::StatusOr<std::vector<std::shared_ptr<ModelVersion>>> versions =
      BuildVersions(name, dir, *config, files.empty() ? nullptr : &files);
  if (!versions.ok()) {
    SetFailed(name, versions.status());
    return versions.status();
  }
  // The new model works: store it, replacing the old folder in one rename.
  if (!files.empty()) {
    const std::string suffix = absl::StrCat(getpid(), "-", absl::GetCurrentTimeNanos());
    const std::string staging =
        ModelDir(options_.repository, absl::StrCat(".staging-", name, "-", suffix));
    absl::Status written = WriteFiles(staging, files);
    if (written.ok()) {
      std::string text;
      google::protobuf::TextFormat::PrintToString((*versions)[0]->config, &text);
      written = WriteFiles(staging, {{"config.pbtxt", text}});
    }
    std::error_code ec;
    const std::string old = ModelDir(options_.repository, absl::StrCat(".old-", name, "-", suffix));
    if (written.ok() && fs::exists(dir)) fs::rename(dir, old, ec);
    if (written.ok() && !ec) fs::rename(staging, dir, ec);
    if (!written.ok() || ec) {
      fs::remove_all(staging, ec);
      absl::Status s = absl::FailedPreconditionError(
          absl::StrCat("model '", name, "' loaded but cannot be stored in the repository ",
                       options_.repository, ": ", written.ok() ? ec.message() : written.message()));
      SetFailed(name, s);
      return s;
    }
    fs::remove_all(old, ec);
  }
  Publish(name, std::move(*versions), Fingerprint(dir));
  return absl::OkStatus();
}

absl::Status ModelManager::Unload(const std::string& name) {
  if (options_.mode == ControlMode::kNone) {
    return absl::FailedPreconditionError(
        "explicit model load/unload is not allowed in model control mode 'none'");
  }
  std::lock_guard<std::mutex> load(load_mu_);
  std::vector<std::shared_ptr<ModelVersion>> old;
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    auto it = models_.find(name);
    if (it == models_.end()) return absl::NotFoundError(absl::StrCat("unknown model '", name, "'"));
    for (auto& [v, slot] : it->second.versions) {
      if (slot.ready) old.push_back(std::move(slot.ready));
    }
    it->second.versions.clear();
    it->second.state = kUnavailable;
    it->second.reason = "unloaded";
    it->second.wanted = false;
  }
  for (auto& v : old) v->scheduler->Close();
  Say(absl::StrCat("model ", name, " unloaded"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ModelIndexEntry>> ModelManager::Index(bool ready_only) const {
  std::vector<std::string> on_disk;
  absl::StatusOr<std::vector<std::string>> listed = ListModelFolders(options_.repository);
  if (listed.ok()) on_disk = *listed;
  std::vector<ModelIndexEntry> out;
  std::shared_lock<std::shared_mutex> lock(mu_);
  std::set<std::string> names(on_disk.begin(), on_disk.end());
  for (const auto& [name, e] : models_) names.insert(name);
  for (const std::string& name : names) {
    auto it = models_.find(name);
    if (it == models_.end()) {
      if (!ready_only) out.push_back({name, "", "", ""});
      continue;
    }
    const Entry& e = it->second;
    if (e.versions.empty()) {
      if (!ready_only) out.push_back({name, "", e.state, e.reason});
      continue;
    }
    for (const auto& [v, slot] : e.versions) {
      if (ready_only && !slot.ready) continue;
      out.push_back({name, absl::StrCat(v), slot.state, slot.reason});
    }
  }
  return out;
}

bool ModelManager::AllReady() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  for (const auto& [name, e] : models_) {
    if (!e.wanted) continue;
    bool ready = false;
    for (const auto& [v, slot] : e.versions) ready |= slot.ready != nullptr;
    if (!ready) return false;
  }
  return true;
}

absl::Status ModelManager::PollOnce() {
  ASSIGN_OR_RETURN(std::vector<std::string> names, ListModelFolders(options_.repository));
  std::set<std::string> present(names.begin(), names.end());
  std::vector<std::string> to_load, to_unload;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    for (const std::string& name : names) {
      auto it = models_.find(name);
      if (it == models_.end() ||
          it->second.fingerprint != Fingerprint(ModelDir(options_.repository, name))) {
        to_load.push_back(name);
      }
    }
    for (const auto& [name, e] : models_) {
      if (!present.count(name) && !e.versions.empty()) to_unload.push_back(name);
    }
  }
  std::vector<std::string> errors;
  for (const std::string& name : to_load) {
    {
      std::unique_lock<std::shared_mutex> lock(mu_);
      models_[name].wanted = true;
    }
    std::lock_guard<std::mutex> load(load_mu_);
    absl::Status s = LoadFromRepository(name);
    if (!s.ok()) {
      // Remember the files so a broken model is not retried every poll.
      std::unique_lock<std::shared_mutex> lock(mu_);
      models_[name].fingerprint = Fingerprint(ModelDir(options_.repository, name));
      errors.push_back(std::string(s.message()));
    }
  }
  for (const std::string& name : to_unload) {
    std::vector<std::shared_ptr<ModelVersion>> old;
    {
      std::unique_lock<std::shared_mutex> lock(mu_);
      for (auto& [v, slot] : models_[name].versions) {
        if (slot.ready) old.push_back(std::move(slot.ready));
      }
      models_.erase(name);
    }
    for (auto& v : old) v->scheduler->Close();
    Say(absl::StrCat("model ", name, " left the repository; unloaded"));
  }
  if (!errors.empty()) return absl::UnavailableError(absl::StrJoin(errors, "; "));
  return absl::OkStatus();
}

void ModelManager::StartPolling() {
  if (options_.mode != ControlMode::kPoll || poller_.joinable()) return;
  poller_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(poll_mu_);
    while (!stop_) {
      poll_cv_.wait_for(lock, std::chrono::seconds(options_.poll_secs), [this] { return stop_; });
      if (stop_) break;
      lock.unlock();
      (void)PollOnce();  // failures are in the index and were printed
      lock.lock();
    }
  });
}

void ModelManager::Stop() {
  {
    std::lock_guard<std::mutex> lock(poll_mu_);
    stop_ = true;
    poll_cv_.notify_all();
  }
  if (poller_.joinable()) poller_.join();
  std::vector<std::shared_ptr<ModelVersion>> all;
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    for (auto& [name, e] : models_) {
      for (auto& [v, slot] : e.versions) {
        if (slot.ready) all.push_back(slot.ready);
      }
    }
  }
  for (auto& v : all) v->scheduler->Close();
}

}  // namespace uop::server
