// OpRegistry: ONNX operator implementations keyed by (domain, op_type), each
// with the opset version it applies from.
//
// A node is run by the handler with the highest `since` not above the model's
// opset for the node's domain, so per-opset differences are either separate
// handlers (`Add(kOnnx, "Split", 13, SplitV13)`) or a check of ctx.opset()
// inside one handler. Every op family registers itself from one file
// (ops_elementwise.cc, ops_reduce.cc, ...); the list is in registry.cc.
//
//   const OpHandler* h = OpRegistry::Global().Find("", "Relu", 14);
//   RETURN_IF_ERROR(h->fn(ctx));
#ifndef UOP_RUNTIME_ONNX_REGISTRY_H_
#define UOP_RUNTIME_ONNX_REGISTRY_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace uop::onnx_import {

class OpContext;
using OpFn = absl::Status (*)(OpContext& ctx);

inline constexpr const char* kOnnxDomain = "";
inline constexpr const char* kMlDomain = "ai.onnx.ml";
inline constexpr const char* kTrainingDomain = "ai.onnx.preview.training";
inline constexpr const char* kMsDomain = "com.microsoft";

// Flags of a handler.
enum OpFlags : unsigned {
  kOpDefault = 0,
  // Results differ between runs (random ops): never folded to constants.
  kOpNondeterministic = 1u << 0,
};

class OpHandler {
 public:
  std::string domain;
  std::string op_type;
  int since = 1;
  OpFn fn = nullptr;
  unsigned flags = kOpDefault;

  bool deterministic() const { return (flags & kOpNondeterministic) == 0; }
};

class OpRegistry {
 public:
  // Every op family, registered once.
  static const OpRegistry& Global();

  void Add(absl::string_view domain, absl::string_view op_type, int since, OpFn fn,
           unsigned flags = kOpDefault);
  // The handler for `opset` of the node's domain, or nullptr. "ai.onnx" is "".
  const OpHandler* Find(absl::string_view domain, absl::string_view op_type, int opset) const;
  // Whether any version of the op exists (for messages).
  bool Knows(absl::string_view domain, absl::string_view op_type) const;
  // "domain:op_type" of every registered op, sorted.
  std::vector<std::string> List() const;

 private:
  absl::flat_hash_map<std::pair<std::string, std::string>, std::vector<OpHandler>> ops_;
};

// The canonical form of a domain name ("ai.onnx" -> "").
absl::string_view CanonicalDomain(absl::string_view domain);

// One registration function per op family (ops_*.cc).
void RegisterElementwiseOps(OpRegistry& r);
void RegisterMathOps(OpRegistry& r);
void RegisterReduceOps(OpRegistry& r);
void RegisterShapeOps(OpRegistry& r);
void RegisterIndexOps(OpRegistry& r);
void RegisterNnOps(OpRegistry& r);
void RegisterConvOps(OpRegistry& r);
void RegisterNormOps(OpRegistry& r);
void RegisterControlFlowOps(OpRegistry& r);
void RegisterSequenceOps(OpRegistry& r);
void RegisterQuantOps(OpRegistry& r);
void RegisterRnnOps(OpRegistry& r);
void RegisterRandomOps(OpRegistry& r);
void RegisterResizeOps(OpRegistry& r);
void RegisterDataDependentOps(OpRegistry& r);
void RegisterSignalOps(OpRegistry& r);
void RegisterStringOps(OpRegistry& r);
void RegisterTrainingOps(OpRegistry& r);
void RegisterLossOps(OpRegistry& r);
void RegisterVisionOps(OpRegistry& r);
void RegisterContribOps(OpRegistry& r);

}  // namespace uop::onnx_import

#endif  // UOP_RUNTIME_ONNX_REGISTRY_H_
