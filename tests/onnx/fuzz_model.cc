// Fuzz target: ONNX model bytes -> loader -> (when it loads) a run with small
// synthesized inputs on the reference realizer. Anything but a crash, a hang
// or a sanitizer report is fine: bad models must come back as a Status.
//
// Built two ways:
// * with clang's libFuzzer (coverage-guided), e.g.
//     clang++ -fsanitize=fuzzer,address ... tests/onnx/fuzz_model.cc <importer sources>
//   where libFuzzer supplies main();
// * with fuzz_driver.cc, a deterministic mutation driver that needs no clang
//   (//tests/onnx:model_fuzz_test, ASan-instrumented, in the long test tier).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/onnx/model.h"
#include "runtime/onnx/onnx_model.h"
#include "runtime/onnx/onnx_types.h"
#include "runtime/tensor/reference_eval.h"
#include "runtime/tensor/tensor.h"

namespace uop::onnx_import {
namespace {

constexpr int64_t kMaxInputElements = 4096;

// Zero inputs of the declared types (symbolic dims as 1), or false when the
// model's inputs are too big or of a kind this target does not synthesize.
bool MakeInputs(const OnnxModel& model, std::vector<std::pair<std::string, HostValue>>* feed) {
  for (size_t i = 0; i < model.inputs().size(); ++i) {
    if (model.InputHasDefault(i)) continue;
    const ValueInfo& in = model.inputs()[i];
    if (in.type.kind == ValueType::Kind::kSequence) {
      feed->emplace_back(in.name, HostValue::Sequence({}));
      continue;
    }
    if (in.type.kind != ValueType::Kind::kTensor) return false;
    absl::StatusOr<DType> d = DTypeFromOnnx(in.type.elem_type);
    if (!d.ok()) return false;
    HostTensor t;
    t.dtype = *d;
    int64_t n = 1;
    for (const Dim& dim : in.type.dims) {
      const int64_t v = dim.value >= 0 ? dim.value : 1;
      if (v > kMaxInputElements) return false;
      t.shape.push_back(v);
      n *= v;
      if (n > kMaxInputElements) return false;
    }
    t.bytes.assign(n * d->itemsize(), 0);
    feed->emplace_back(in.name, HostValue::Tensor(std::move(t)));
  }
  return true;
}

}  // namespace

void FuzzOneModel(const uint8_t* data, size_t size) {
  static const bool installed = [] {
    Tensor::SetRealizer(std::make_shared<ReferenceRealizer>());
    return true;
  }();
  (void)installed;
  LoadOptions options;
  options.max_model_bytes = 1 << 20;
  options.max_tensor_bytes = 1 << 20;
  options.max_depth = 8;
  options.max_tensor_elements = 1 << 14;
  absl::StatusOr<std::unique_ptr<OnnxModel>> model =
      OnnxModel::FromBytes(absl::string_view(reinterpret_cast<const char*>(data), size), options);
  if (!model.ok()) return;
  std::vector<std::pair<std::string, HostValue>> feed;
  if (!MakeInputs(**model, &feed)) return;
  (void)(*model)->Run(feed);
}

}  // namespace uop::onnx_import

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uop::onnx_import::FuzzOneModel(data, size);
  return 0;
}
