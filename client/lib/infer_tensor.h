// Typed tensors for KServe v2 inference: the inputs a request carries, the
// outputs it asks for, and the result it gets back.
//
//   ASSIGN_OR_RETURN(InferInput a, InferInput::FromVector<float>("A", {4}, {1, 2, 3, 4}));
//   ... result = client->Infer({.model_name = "add"}, {a, b});
//   ASSIGN_OR_RETURN(std::vector<float> c, result.As<float>("C"));   // checks FP32
//
// Data travels as raw little-endian bytes (raw_input_contents /
// raw_output_contents), or through a registered shared-memory region when a
// tensor names one (SharedMemoryRef): then the message carries only the
// region's name, offset and size (Triton's "shared_memory_*" parameters).
// Sizes are checked on both sides: a tensor whose bytes do not match its
// shape and datatype is an InvalidArgument naming the tensor.
#ifndef UOP_CLIENT_LIB_INFER_TENSOR_H_
#define UOP_CLIENT_LIB_INFER_TENSOR_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "client/lib/datatype.h"
#include "proto/grpc_service.pb.h"

namespace uop::client {

// Where a tensor lives in a registered system shared-memory region.
struct SharedMemoryRef {
  std::string region;  // the name it was registered under
  uint64_t offset = 0;
  uint64_t byte_size = 0;
};

class InferInput {
 public:
  template <typename T>
  static absl::StatusOr<InferInput> FromVector(std::string name, std::vector<int64_t> shape,
                                               absl::Span<const T> values) {
    std::string raw(values.size() * sizeof(T), '\0');
    if (!values.empty()) std::memcpy(raw.data(), values.data(), raw.size());
    return FromRaw(std::move(name), DatatypeOf<T>(), std::move(shape), std::move(raw));
  }
  // Raw little-endian bytes; their size must match shape and datatype (for
  // BYTES: well-formed length-prefixed elements, one per element).
  static absl::StatusOr<InferInput> FromRaw(std::string name, Datatype datatype,
                                            std::vector<int64_t> shape, std::string raw);
  static absl::StatusOr<InferInput> FromStrings(std::string name, std::vector<int64_t> shape,
                                                const std::vector<std::string>& values);
  // The data is already in a registered region; byte_size must match.
  static absl::StatusOr<InferInput> FromSharedMemory(std::string name, Datatype datatype,
                                                     std::vector<int64_t> shape,
                                                     SharedMemoryRef where);

  const std::string& name() const { return name_; }
  Datatype datatype() const { return datatype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  const std::string& raw() const { return raw_; }  // empty when in shared memory
  const std::optional<SharedMemoryRef>& shared_memory() const { return shm_; }

 private:
  std::string name_;
  Datatype datatype_ = Datatype::kFp32;
  std::vector<int64_t> shape_;
  std::string raw_;
  std::optional<SharedMemoryRef> shm_;
};

// An output to return; with `shared_memory` the server writes it there.
struct RequestedOutput {
  std::string name;
  std::optional<SharedMemoryRef> shared_memory;
};

struct InferOptions {
  std::string model_name;
  std::string model_version;  // empty: the server's choice
  std::string request_id;
  // Request parameters (e.g. "priority"); int64 values.
  std::vector<std::pair<std::string, int64_t>> int_parameters;
};

struct OutputTensor {
  std::string name;
  Datatype datatype = Datatype::kFp32;
  std::vector<int64_t> shape;
  std::string raw;  // empty when the server wrote it to shared memory
  std::optional<SharedMemoryRef> shared_memory;
};

class InferResult {
 public:
  // Takes the response apart: typed `contents` become raw bytes, and every
  // output's size is checked against its shape and datatype. Outputs that
  // `requested` placed in shared memory carry no bytes (the server marks them
  // with shared_memory_* parameters or an empty raw entry).
  static absl::StatusOr<InferResult> FromResponse(
      inference::ModelInferResponse response, const std::vector<RequestedOutput>& requested = {});

  const std::string& model_name() const { return model_name_; }
  const std::string& model_version() const { return model_version_; }
  const std::string& id() const { return id_; }
  const std::vector<OutputTensor>& outputs() const { return outputs_; }

  // NotFound naming the output and the ones present.
  absl::StatusOr<const OutputTensor*> Output(absl::string_view name) const;

  // The output's elements; InvalidArgument when its datatype is not T's, or
  // when it was written to shared memory (read the region instead).
  template <typename T>
  absl::StatusOr<std::vector<T>> As(absl::string_view name) const {
    absl::StatusOr<const OutputTensor*> o = Output(name);
    if (!o.ok()) return o.status();
    absl::Status st = CheckType(**o, DatatypeOf<T>());
    if (!st.ok()) return st;
    std::vector<T> v((*o)->raw.size() / sizeof(T));
    if (!v.empty()) std::memcpy(v.data(), (*o)->raw.data(), v.size() * sizeof(T));
    return v;
  }
  absl::StatusOr<std::vector<std::string>> AsStrings(absl::string_view name) const;

 private:
  static absl::Status CheckType(const OutputTensor& o, Datatype want);

  std::string model_name_, model_version_, id_;
  std::vector<OutputTensor> outputs_;
};

// The wire request for `inputs` and `outputs` (empty: every output).
inference::ModelInferRequest BuildInferRequest(const InferOptions& options,
                                               const std::vector<InferInput>& inputs,
                                               const std::vector<RequestedOutput>& outputs);

// Checks that `raw` holds exactly the elements of `shape` in `datatype`.
absl::Status CheckRawSize(absl::string_view tensor, Datatype datatype,
                          absl::Span<const int64_t> shape, absl::string_view raw);

// BYTES elements <-> the raw encoding (4-byte little-endian length + bytes each).
std::string EncodeBytesElements(const std::vector<std::string>& values);
absl::StatusOr<std::vector<std::string>> DecodeBytesElements(absl::string_view raw);

}  // namespace uop::client

#endif  // UOP_CLIENT_LIB_INFER_TENSOR_H_
