// ModelManager: the models uopd serves, from a Triton-layout repository.
//
//   <repo>/<model>/config.pbtxt          (optional; completed from the model)
//   <repo>/<model>/<version>/model.onnx  (numeric version folders)
//
//   ModelManager models(options, &backends, &metrics);
//   models.LoadStartupModels();                        // all, or --load-model ones
//   ASSIGN_OR_RETURN(auto m, models.Get("add", ""));   // latest READY version
//   RETURN_IF_ERROR(m->scheduler->Infer(&job));
//
// A version becomes READY only after its model imported, its config checked
// against it, every batch-size bucket compiled (JIT-captured by the backend)
// and a warm-up run done; until then requests get UNAVAILABLE. A (re)load
// builds the new version completely before it replaces the old one, so a bad
// model never takes a working one down. Unload stops new requests at once
// and waits for the queued and running ones to finish.
//
// Control modes (Triton's): kNone loads everything at start and never
// changes; kExplicit loads the --load-model list and then only what
// RepositoryModelLoad/Unload ask; kPoll also rescans the repository every
// poll interval and loads, reloads or unloads what changed.
#ifndef UOP_SERVER_MODEL_MANAGER_H_
#define UOP_SERVER_MODEL_MANAGER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "proto/model_config.pb.h"
#include "server/backend.h"
#include "server/device_placement.h"
#include "server/metrics.h"
#include "server/model_stats.h"
#include "server/scheduler.h"

namespace uop::server {

enum class ControlMode { kNone, kExplicit, kPoll };

struct ModelManagerOptions {
  std::string repository;
  ControlMode mode = ControlMode::kNone;
  // kExplicit: models to load at start ("*" loads all).
  std::vector<std::string> startup_models;
  int poll_secs = 15;
  // Largest model submitted through RepositoryModelLoad (all files).
  int64_t max_model_bytes = int64_t{1} << 30;
  // Defaults for every model's queue (a config's max_queue_size overrides).
  int64_t max_queue_size = 1024;
  int64_t max_queue_bytes = int64_t{1} << 30;
  // Print progress lines ("uopd: model add version 1 READY in 12 ms").
  bool verbose = false;
  // Called with the run time of every execution (device busy metrics).
  std::function<void(int64_t)> device_busy;
  // The GPUs KIND_GPU instance groups are placed on (device_placement.h).
  GpuSet gpus;
  // Each GPU's memory budget for model instances (0: its total memory).
  int64_t gpu_memory_budget_bytes = 0;
  // Multi-device models: re-queues per request after a device fault, and
  // how often a failed device is probed to bring it back (0: never).
  int max_retries = 2;
  absl::Duration health_probe_interval = absl::Seconds(5);
};

// One loaded version of a model; shared with in-flight requests.
struct ModelVersion {
  std::string name;
  int64_t version = 0;
  std::string version_string;
  inference::ModelConfig config;
  // Where each instance runs (the scheduler's instance order).
  std::vector<InstancePlacement> placement;
  // GPU memory its instances hold; released after the scheduler is gone.
  std::unique_ptr<GpuMemoryBudget::Reservation> gpu_memory;
  std::unique_ptr<ModelStats> stats;
  std::unique_ptr<Scheduler> scheduler;
  double load_seconds = 0;
};

// A row of RepositoryIndex.
struct ModelIndexEntry {
  std::string name;
  std::string version;  // "" when no version is known
  std::string state;    // "READY", "LOADING", "UNAVAILABLE", "UNLOADING"
  std::string reason;
};

class ModelManager {
 public:
  ModelManager(ModelManagerOptions options, const BackendRegistry* backends,
               ServerMetrics* metrics);
  ~ModelManager();

  // Loads what the control mode asks for at start. Every failure is reported
  // in the index (state UNAVAILABLE with the reason) and returned joined.
  absl::Status LoadStartupModels();

  // The READY version `version` ("" or "-1": the highest READY one).
  // NotFound for an unknown model or version, Unavailable while it loads.
  absl::StatusOr<std::shared_ptr<ModelVersion>> Get(absl::string_view name,
                                                    absl::string_view version) const;

  // Every READY version (of `name` only, when given).
  std::vector<std::shared_ptr<ModelVersion>> Ready(absl::string_view name = "") const;

  // (Re)loads `name` from the repository; with `config_json` the config comes
  // from it instead of config.pbtxt, and `files` (path relative to the model
  // folder -> bytes, e.g. "1/model.onnx") replace the model's files once the
  // new model has loaded. FailedPrecondition in kNone mode.
  absl::Status Load(const std::string& name, const std::string& config_json,
                    const std::map<std::string, std::string>& files);

  // Unloads every version of `name`; returns when in-flight requests are done.
  absl::Status Unload(const std::string& name);

  // Models in the repository and loaded ones, sorted by name then version.
  absl::StatusOr<std::vector<ModelIndexEntry>> Index(bool ready_only) const;

  // True when every model the control mode asked for is READY.
  bool AllReady() const;

  // kPoll: rescans the repository every poll_secs on a thread until Stop().
  void StartPolling();
  // Stops polling and unloads everything (waiting for in-flight requests).
  void Stop();

  // One rescan (kPoll's work), exposed for tests.
  absl::Status PollOnce();

  const ModelManagerOptions& options() const { return options_; }
  const GpuMemoryBudget& gpu_memory() const { return *gpu_memory_; }

 private:
  struct VersionSlot {
    std::string state;
    std::string reason;
    std::shared_ptr<ModelVersion> ready;
  };
  struct Entry {
    std::map<int64_t, VersionSlot> versions;
    std::string state;  // for a model with no version slots yet
    std::string reason;
    std::string fingerprint;  // kPoll: what the files looked like at load
    bool wanted = false;      // the control mode asked for it (readiness)
  };

  // Loads every selected version of `name` from `model_dir` with `config`.
  absl::StatusOr<std::vector<std::shared_ptr<ModelVersion>>> BuildVersions(
      const std::string& name, const std::string& model_dir, inference::ModelConfig config,
      const std::map<std::string, std::string>* files);
  absl::StatusOr<std::shared_ptr<ModelVersion>> BuildVersion(
      const std::string& name, int64_t version, const std::string& version_dir,
      const inference::ModelConfig& config, const std::map<std::string, std::string>* files);
  absl::Status Warm(ModelVersion& version, const std::string& model_dir);
  absl::Status LoadFromRepository(const std::string& name);
  void Publish(const std::string& name, std::vector<std::shared_ptr<ModelVersion>> versions,
               std::string fingerprint);
  void SetFailed(const std::string& name, const absl::Status& status);
  void Say(const std::string& line) const;

  const ModelManagerOptions options_;
  const BackendRegistry* backends_;
  ServerMetrics* metrics_;
  std::unique_ptr<GpuMemoryBudget> gpu_memory_;

  // std mutexes: visible to ThreadSanitizer (Debian's abseil is not).
  std::mutex load_mu_;            // one load/unload at a time
  mutable std::shared_mutex mu_;  // guards models_
  std::map<std::string, Entry> models_;

  std::mutex poll_mu_;  // guards stop_
  std::condition_variable poll_cv_;
  bool stop_ = false;
  std::thread poller_;
};

// "add" -> ok; "", ".", "..", names with '/' or control characters -> InvalidArgument.
absl::Status CheckModelName(absl::string_view name);

}  // namespace uop::server

#endif  // UOP_SERVER_MODEL_MANAGER_H_
