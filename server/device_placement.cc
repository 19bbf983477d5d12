#include "server/device_placement.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "drivers/device_registry.h"

namespace uop::server {
namespace {

std::string Megabytes(int64_t bytes) { return absl::StrCat(bytes / (1 << 20), " MiB"); }

}  // namespace

GpuSet DiscoverGpus(const std::string& prefix, int limit) {
  GpuSet gpus;
  gpus.prefix = prefix;
  const std::string head = prefix + ":";
  for (const std::string& name : DeviceRegistry::Global().AvailableDevices()) {
    if (name.rfind(head, 0) == 0) ++gpus.count;
  }
  if (limit >= 0) gpus.count = std::min(gpus.count, limit);
  gpus.total_bytes.assign(gpus.count, 0);
  return gpus;
}

absl::StatusOr<std::vector<InstancePlacement>> PlaceInstances(const inference::ModelConfig& config,
                                                              const std::string& model,
                                                              const GpuSet& gpus) {
  std::vector<InstancePlacement> out;
  for (int g = 0; g < config.instance_group_size(); ++g) {
    const inference::ModelInstanceGroup& group = config.instance_group(g);
    const int count = group.count() > 0 ? group.count() : 1;
    const std::string what =
        absl::StrCat("model '", model, "' instance_group ",
                     group.name().empty() ? absl::StrCat(g) : absl::StrCat("'", group.name(), "'"));
    if (group.kind() != inference::ModelInstanceGroup::KIND_GPU) {
      if (!group.gpus().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(what, " lists gpus but is not KIND_GPU"));
      }
      for (int i = 0; i < count; ++i) out.push_back({"CPU", -1});
      continue;
    }
    if (gpus.count == 0) {
      return absl::InvalidArgumentError(absl::StrCat(what, " is KIND_GPU but uopd owns no GPU (no ",
                                                     gpus.prefix, " device on this machine)"));
    }
    std::vector<int> ids(group.gpus().begin(), group.gpus().end());
    if (ids.empty()) {
      for (int i = 0; i < gpus.count; ++i) ids.push_back(i);
    }
    for (size_t a = 0; a < ids.size(); ++a) {
      if (ids[a] < 0 || ids[a] >= gpus.count) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, " names GPU ", ids[a], ", which does not exist: uopd owns ",
                         gpus.count, " GPU(s), ids 0..", gpus.count - 1));
      }
      for (size_t b = 0; b < a; ++b) {
        if (ids[a] == ids[b]) {
          return absl::InvalidArgumentError(absl::StrCat(what, " lists GPU ", ids[a], " twice"));
        }
      }
      for (int i = 0; i < count; ++i) out.push_back({gpus.Name(ids[a]), ids[a]});
    }
  }
  if (out.empty()) out.push_back({"CPU", -1});
  return out;
}

void DeviceIndex(const std::vector<InstancePlacement>& placement, std::vector<std::string>* devices,
                 std::vector<int>* instance_device) {
  devices->clear();
  instance_device->clear();
  for (const InstancePlacement& p : placement) {
    auto it = std::find(devices->begin(), devices->end(), p.device);
    if (it == devices->end()) it = devices->insert(devices->end(), p.device);
    instance_device->push_back(static_cast<int>(it - devices->begin()));
  }
}

GpuMemoryBudget::GpuMemoryBudget(GpuSet gpus, int64_t budget_bytes)
    : gpus_(std::move(gpus)), budget_(gpus_.count, -1), used_(gpus_.count, 0) {
  for (int g = 0; g < gpus_.count; ++g) {
    const int64_t total = g < static_cast<int>(gpus_.total_bytes.size()) ? gpus_.total_bytes[g] : 0;
    if (budget_bytes > 0) {
      budget_[g] = total > 0 ? std::min(budget_bytes, total) : budget_bytes;
    } else if (total > 0) {
      budget_[g] = total;
    }
  }
}

GpuMemoryBudget::Reservation::~Reservation() { owner_->Release(bytes_); }

absl::StatusOr<std::unique_ptr<GpuMemoryBudget::Reservation>> GpuMemoryBudget::Reserve(
    const std::string& model, const std::vector<std::pair<int, int64_t>>& needs) {
  std::vector<int64_t> want(gpus_.count, 0);
  for (const auto& [gpu, bytes] : needs) {
    if (gpu < 0 || gpu >= gpus_.count) {
      return absl::InvalidArgumentError(
          absl::StrCat("model '", model, "': GPU ", gpu, " does not exist"));
    }
    want[gpu] += std::max<int64_t>(bytes, 0);
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (int g = 0; g < gpus_.count; ++g) {
    if (want[g] == 0 || budget_[g] < 0) continue;
    if (used_[g] + want[g] > budget_[g]) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "model '", model, "' needs ", Megabytes(want[g]), " (", want[g], " bytes) on GPU ", g,
          " (", gpus_.Name(g), "), whose memory budget is ", Megabytes(budget_[g]), " and ",
          Megabytes(used_[g]),
          " of it is held by other model instances; raise --gpu-memory-budget-mb, place fewer "
          "instances on GPU ",
          g, " or unload a model"));
    }
  }
  for (int g = 0; g < gpus_.count; ++g) used_[g] += want[g];
  return std::unique_ptr<Reservation>(new Reservation(this, std::move(want)));
}

void GpuMemoryBudget::Release(const std::vector<int64_t>& bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t g = 0; g < bytes.size() && g < used_.size(); ++g) used_[g] -= bytes[g];
}

int64_t GpuMemoryBudget::budget(int gpu) const {
  return gpu >= 0 && gpu < gpus_.count ? budget_[gpu] : -1;
}

int64_t GpuMemoryBudget::used(int gpu) const {
  std::lock_guard<std::mutex> lock(mu_);
  return gpu >= 0 && gpu < gpus_.count ? used_[gpu] : 0;
}

}  // namespace uop::server
