// The ONNX conformance runner: runs test cases in ONNX's backend-test layout
//
//   <case>/model.onnx
//   <case>/test_data_set_<k>/input_<i>.pb    (TensorProto, SequenceProto or
//   <case>/test_data_set_<k>/output_<i>.pb    OptionalProto, by the graph's type)
//
// and compares outputs like onnx's own runner: dtype and shape must match,
// floats within |got - want| <= atol + rtol * |want| (NaN equals NaN),
// integers, bools and strings exactly. Tolerances default to rtol 1e-3, atol
// 1e-7; an index.json next to the cases ({"<case>": {"rtol": .., "atol": ..,
// "op": ..}}) overrides them per case and names each case's operator.
//
//   std::vector<ConformanceCase> cases = FindCases({"/data/onnx-node-tests"});
//   CaseResult r = RunCase(cases[0]);
//   r.pass, r.reason
#ifndef UOP_TESTS_ONNX_CONFORMANCE_RUNNER_H_
#define UOP_TESTS_ONNX_CONFORMANCE_RUNNER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/onnx/host_value.h"

namespace uop::onnx_import {

struct ConformanceCase {
  std::string name;  // the case folder's name
  std::string dir;
  std::string op;  // from index.json, or "" when unknown
  double rtol = 1e-3;
  double atol = 1e-7;
};

struct CaseResult {
  std::string name;
  std::string op;
  bool pass = false;
  std::string reason;  // why it failed ("" when it passed)
  double seconds = 0;
};

// Every case under `roots` (a root may itself be a case), sorted by name.
absl::StatusOr<std::vector<ConformanceCase>> FindCases(const std::vector<std::string>& roots);

// Loads, runs and checks one case; never fails hard: errors become reasons.
// `device` places the model ("" : the CPU; "CUDA:0", "NV", ...).
CaseResult RunCase(const ConformanceCase& c, const std::string& device = "");

// Compares one output; an error names the first mismatch.
absl::Status CompareValues(const HostValue& got, const HostValue& want, double rtol, double atol);

}  // namespace uop::onnx_import

#endif  // UOP_TESTS_ONNX_CONFORMANCE_RUNNER_H_
