#include "server/model_state_metrics.h"

#include <prometheus/client_metric.h>

namespace uop::server {

prometheus::MetricFamily ModelReadyFamily(const std::vector<ModelIndexEntry>& index) {
  prometheus::MetricFamily family;
  family.name = "uop_model_ready";
  family.help =
      "1 while a model version uopd serves is READY, 0 while it is loading, failed or unloading";
  family.type = prometheus::MetricType::Gauge;
  for (const ModelIndexEntry& e : index) {
    // No state: a repository folder nobody asked to load. "unloaded": the
    // operator took it away on purpose (ModelManager::Unload's reason).
    if (e.state.empty() || (e.state == "UNAVAILABLE" && e.reason == "unloaded")) continue;
    prometheus::ClientMetric m;
    m.label = {{"model", e.name}, {"version", e.version}};
    m.gauge.value = e.state == "READY" ? 1 : 0;
    family.metric.push_back(std::move(m));
  }
  return family;
}

std::vector<prometheus::MetricFamily> ModelStateCollector::Collect() const {
  absl::StatusOr<std::vector<ModelIndexEntry>> index = models_->Index(/*ready_only=*/false);
  if (!index.ok()) return {};
  return {ModelReadyFamily(*index)};
}

}  // namespace uop::server
