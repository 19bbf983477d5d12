// uop_model_ready: one gauge per model version uopd was asked to serve, 1
// while it is READY and 0 while it is not (loading, failed to load,
// unloading), read from the model manager at scrape time. Alerts fire on
// `uop_model_ready == 0` (deploy/prometheus/uopd.rules.yml).
//
//   uop_model_ready{model="add",version="1"} 1
//   uop_model_ready{model="broken",version=""} 0     // failed before a version was known
//
// Models that are only folders in the repository (explicit mode, never
// loaded) and models unloaded on request are absent: nobody expects them
// to serve, so they must not look like an outage.
//
//   metrics.AddCollectable(std::make_shared<ModelStateCollector>(models.get()));
#ifndef UOP_SERVER_MODEL_STATE_METRICS_H_
#define UOP_SERVER_MODEL_STATE_METRICS_H_

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

#include "server/model_manager.h"

namespace uop::server {

// The uop_model_ready family for `index` (ModelManager::Index(false) rows).
prometheus::MetricFamily ModelReadyFamily(const std::vector<ModelIndexEntry>& index);

class ModelStateCollector final : public prometheus::Collectable {
 public:
  // `models` must outlive every Collect() call (the metrics endpoint).
  explicit ModelStateCollector(const ModelManager* models) : models_(models) {}

  // Empty when the repository index cannot be read (the family is missing
  // from that scrape rather than reporting every model as down).
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const ModelManager* models_;
};

}  // namespace uop::server

#endif  // UOP_SERVER_MODEL_STATE_METRICS_H_
