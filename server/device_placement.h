// Where a model's instances run: the GPUs uopd owns, Triton's instance_group
// placement over them, and a per-GPU memory budget the instances draw on.
//
//   GpuSet gpus{"CUDA", 2, {80 << 30, 80 << 30}};
//   ASSIGN_OR_RETURN(std::vector<InstancePlacement> p, PlaceInstances(config, "resnet", gpus));
//   // instance_group { kind: KIND_GPU count: 2 gpus: [0, 1] } -> CUDA:0, CUDA:0, CUDA:1, CUDA:1
//
//   GpuMemoryBudget budget(gpus, /*budget_bytes=*/0);       // 0: each GPU's total memory
//   ASSIGN_OR_RETURN(auto held, budget.Reserve("resnet", {{0, 100 << 20}, {1, 100 << 20}}));
//   // `held` gives the bytes back when the model version that holds it goes away.
//
// Triton's semantics: a KIND_GPU group runs `count` instances on EACH GPU it
// lists, and on every GPU uopd owns when it lists none; KIND_CPU (and
// KIND_AUTO, which uopd treats as CPU) runs `count` instances on the CPU. A
// group naming a GPU that does not exist, or KIND_GPU with no GPU, is
// InvalidArgument naming the model, the group and the GPU id.
#ifndef UOP_SERVER_DEVICE_PLACEMENT_H_
#define UOP_SERVER_DEVICE_PLACEMENT_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/model_config.pb.h"

namespace uop::server {

// The GPUs the daemon owns: devices "<prefix>:0" .. "<prefix>:<count-1>" of
// the device registry ("CUDA", "NV"; tests use "NULL").
struct GpuSet {
  std::string prefix = "CUDA";
  int count = 0;
  // Each GPU's memory in bytes (0 or missing: unknown).
  std::vector<int64_t> total_bytes;

  std::string Name(int gpu) const { return prefix + ":" + std::to_string(gpu); }
};

// The GPUs of `prefix` in the global device registry, at most `limit` (-1:
// all). Creates nothing: counts what the backend reports.
GpuSet DiscoverGpus(const std::string& prefix, int limit);

struct InstancePlacement {
  std::string device;  // "CPU" or e.g. "CUDA:1"
  int gpu = -1;        // GPU ordinal, -1 for the CPU
};

// Instances in group order; within a KIND_GPU group, GPU by GPU.
absl::StatusOr<std::vector<InstancePlacement>> PlaceInstances(const inference::ModelConfig& config,
                                                              const std::string& model,
                                                              const GpuSet& gpus);

// The distinct devices of `placement` in first-use order, and per instance
// the index into them (SchedulerOptions::devices / instance_device).
void DeviceIndex(const std::vector<InstancePlacement>& placement, std::vector<std::string>* devices,
                 std::vector<int>* instance_device);

// Per-GPU memory budgets. Thread-safe.
class GpuMemoryBudget {
 public:
  // `budget_bytes` per GPU; 0: each GPU's total_bytes (unlimited when unknown).
  GpuMemoryBudget(GpuSet gpus, int64_t budget_bytes);

  // Bytes held by a model version; returned to the budget when destroyed.
  class Reservation {
   public:
    ~Reservation();
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;

   private:
    friend class GpuMemoryBudget;
    Reservation(GpuMemoryBudget* owner, std::vector<int64_t> bytes)
        : owner_(owner), bytes_(std::move(bytes)) {}
    GpuMemoryBudget* owner_;
    std::vector<int64_t> bytes_;  // by GPU
  };

  // Takes `needs` (gpu, bytes) all at once, or nothing: ResourceExhausted
  // naming the model, the GPU, what it needs, the budget and what others hold.
  absl::StatusOr<std::unique_ptr<Reservation>> Reserve(
      const std::string& model, const std::vector<std::pair<int, int64_t>>& needs);

  int64_t budget(int gpu) const;  // -1: unlimited
  int64_t used(int gpu) const;
  const GpuSet& gpus() const { return gpus_; }

 private:
  void Release(const std::vector<int64_t>& bytes);

  const GpuSet gpus_;
  std::vector<int64_t> budget_;  // by GPU, -1 unlimited
  mutable std::mutex mu_;
  std::vector<int64_t> used_;  // guarded by mu_
};

}  // namespace uop::server

#endif  // UOP_SERVER_DEVICE_PLACEMENT_H_
