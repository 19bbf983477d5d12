// Test helper: evaluates integer/bool index expressions (the UOps that
// ToIndexed builds) for concrete values of their input nodes.
//
//   IndexEvaluator eval({idx, valid}, {i, j});   // roots, then inputs
//   ASSERT_TRUE(eval.status().ok());
//   auto out = eval.Run({2, 3});                  // {idx value, valid value}
//
// The DAG is flattened once, so evaluating many points is a tight loop.
// IDIV and MOD truncate toward zero (the IR's semantics).
#ifndef UOP_RUNTIME_SHAPE_INDEX_EVAL_FOR_TEST_H_
#define UOP_RUNTIME_SHAPE_INDEX_EVAL_FOR_TEST_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/uop/uop.h"

namespace uop {

class IndexEvaluator {
 public:
  IndexEvaluator(std::vector<UOpPtr> roots, std::vector<UOpPtr> inputs);
  // Not ok if the DAG has an op this evaluator does not know or an input
  // that was not listed.
  const absl::Status& status() const { return status_; }
  // Values of the roots; error on division by zero.
  absl::StatusOr<std::vector<int64_t>> Run(absl::Span<const int64_t> input_values);

 private:
  struct Step {
    Op op;
    int64_t constant;
    int src[3];
    int input;  // >= 0 for input nodes
  };
  std::vector<UOpPtr> roots_;
  std::vector<Step> steps_;
  std::vector<int> root_slots_;
  std::vector<int64_t> values_;
  absl::Status status_;
};

}  // namespace uop

#endif  // UOP_RUNTIME_SHAPE_INDEX_EVAL_FOR_TEST_H_
