#include "server/test_backend.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/time/clock.h"

namespace uop::server {

TestSpec TestBackend::AddSpec() {
  return {{{"A", inference::TYPE_FP32, {4}}, {"B", inference::TYPE_FP32, {4}}},
          {{"C", inference::TYPE_FP32, {4}}}};
}

TestSpec TestBackend::BatchedAddSpec() {
  return {{{"A", inference::TYPE_FP32, {-1, 4}}, {"B", inference::TYPE_FP32, {-1, 4}}},
          {{"C", inference::TYPE_FP32, {-1, 4}}}};
}

absl::Status TestBackend::Run(absl::Span<const InputTensor> inputs,
                              std::vector<OutputTensor>* outputs) {
  const int now = running_.fetch_add(1) + 1;
  int prev = max_concurrent_.load();
  while (now > prev && !max_concurrent_.compare_exchange_weak(prev, now)) {
  }
  runs_.fetch_add(1);
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch_sizes_.push_back(inputs.empty() || inputs[0].shape.empty() ? 0 : inputs[0].shape[0]);
  }
  if (delay_ > absl::ZeroDuration()) absl::SleepFor(delay_);
  running_.fetch_sub(1);
  if (fail_.load()) return absl::InternalError("test backend failure");
  if (inputs.empty()) return absl::InvalidArgumentError("no inputs");
  outputs->clear();
  for (const TensorSpec& spec : spec_.outputs) {
    OutputTensor out;
    out.name = spec.name;
    out.dtype = spec.dtype;
    out.shape = inputs[0].shape;
    out.data.assign(inputs[0].data.data(), inputs[0].data.size());
    if (spec.dtype == inference::TYPE_FP32) {
      const size_t n = out.data.size() / 4;
      for (size_t k = 1; k < inputs.size(); ++k) {
        if (inputs[k].data.size() != out.data.size()) continue;
        for (size_t i = 0; i < n; ++i) {
          float a, b;
          std::memcpy(&a, out.data.data() + 4 * i, 4);
          std::memcpy(&b, inputs[k].data.data() + 4 * i, 4);
          a += b;
          std::memcpy(out.data.data() + 4 * i, &a, 4);
        }
      }
    }
    outputs->push_back(std::move(out));
  }
  return absl::OkStatus();
}

std::vector<int64_t> TestBackend::batch_sizes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batch_sizes_;
}

BackendLoader TestLoader(TestSpec spec, TestBackend** last) {
  return
      [spec, last](const ModelFiles& files,
                   const inference::ModelConfig&) -> absl::StatusOr<std::unique_ptr<ModelBackend>> {
        if (files.bytes == "not a model") {
          return absl::InvalidArgumentError("the test model does not import");
        }
        auto b = std::make_unique<TestBackend>(spec);
        if (last != nullptr) *last = b.get();
        return b;
      };
}

}  // namespace uop::server
