// TestBackend: a ModelBackend for tests of everything above the backend seam
// (scheduler, codec, model manager, services) without compiling anything.
//
//   auto b = std::make_unique<TestBackend>(TestBackend::AddSpec());  // C = A + B, FP32
//   b->set_delay(absl::Milliseconds(5));
//   b->runs();            // executions so far
//   b->batch_sizes();     // dim 0 of input 0 at each execution
//
// Math: every output i is the elementwise sum of all FP32 inputs (other
// dtypes: a copy of input 0's bytes), shaped like input 0. A model whose
// specs have a leading -1 batches along it.
#ifndef UOP_SERVER_TEST_BACKEND_H_
#define UOP_SERVER_TEST_BACKEND_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/time/time.h"
#include "server/backend.h"

namespace uop::server {

struct TestSpec {
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
};

class TestBackend final : public ModelBackend {
 public:
  explicit TestBackend(TestSpec spec) : spec_(std::move(spec)) {}

  // A, B -> C, FP32 [4] (like examples/models/add).
  static TestSpec AddSpec();
  // A, B -> C, FP32 [-1, 4] (batching).
  static TestSpec BatchedAddSpec();

  const std::vector<TensorSpec>& inputs() const override { return spec_.inputs; }
  const std::vector<TensorSpec>& outputs() const override { return spec_.outputs; }
  absl::Status Run(absl::Span<const InputTensor> inputs,
                   std::vector<OutputTensor>* outputs) override;

  void set_delay(absl::Duration d) { delay_ = d; }
  void set_fail(bool fail) { fail_ = fail; }
  int runs() const { return runs_.load(); }
  std::vector<int64_t> batch_sizes() const;
  // Largest number of Run calls ever in progress at once.
  int max_concurrent() const { return max_concurrent_.load(); }

 private:
  TestSpec spec_;
  absl::Duration delay_ = absl::ZeroDuration();
  std::atomic<bool> fail_{false};
  std::atomic<int> runs_{0};
  std::atomic<int> running_{0};
  std::atomic<int> max_concurrent_{0};
  mutable std::mutex mu_;  // guards batch_sizes_
  std::vector<int64_t> batch_sizes_;
};

// A BackendLoader for BackendRegistry that makes TestBackends from `spec`
// and keeps the latest one reachable through `*last` (may be null).
BackendLoader TestLoader(TestSpec spec, TestBackend** last = nullptr);

}  // namespace uop::server

#endif  // UOP_SERVER_TEST_BACKEND_H_
