// Conversions between ONNX protobuf values and host values: TensorProto
// (raw or typed data of every dtype, external data files), SequenceProto and
// OptionalProto, and the test-data files of ONNX's backend test layout.
//
//   ExternalDataDir ext{.dir = "/models/resnet"};   // where model.onnx lives
//   ASSIGN_OR_RETURN(HostTensor t, TensorFromProto(proto, &ext));
//   onnx::TensorProto back = TensorToProto(t, "name");
//
// Bad data is an InvalidArgument naming the tensor: element counts that do not
// match the dims, negative or overflowing dims, unknown types, external data
// outside the model's folder or past the end of its file.
#ifndef UOP_RUNTIME_ONNX_TENSOR_PROTO_H_
#define UOP_RUNTIME_ONNX_TENSOR_PROTO_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "onnx/onnx-data_pb.h"
#include "onnx/onnx_pb.h"
#include "runtime/onnx/host_value.h"

namespace uop::onnx_import {

// Where external data files may be read from. An empty `dir` refuses every
// external reference (models loaded from bytes).
struct ExternalDataDir {
  std::string dir;
  // Refuses a single tensor larger than this (bytes).
  int64_t max_tensor_bytes = int64_t{16} << 30;
};

// Checked product of dims: InvalidArgument for negative dims or overflow.
absl::StatusOr<int64_t> NumelOf(const Shape& dims, absl::string_view what);

absl::StatusOr<HostTensor> TensorFromProto(const onnx::TensorProto& proto,
                                           const ExternalDataDir* external);
absl::StatusOr<HostValue> ValueFromSequenceProto(const onnx::SequenceProto& proto,
                                                 const ExternalDataDir* external);
absl::StatusOr<HostValue> ValueFromOptionalProto(const onnx::OptionalProto& proto,
                                                 const ExternalDataDir* external);

onnx::TensorProto TensorToProto(const HostTensor& t, const std::string& name = "");

// The kind of protobuf a test data file holds, from the graph's type of it.
enum class ValueFileKind : uint8_t { kTensor, kSequence, kOptional };

// Parses `bytes` of a test data file (input_N.pb / output_N.pb).
absl::StatusOr<HostValue> ParseValueFile(const std::string& bytes, ValueFileKind kind);
// The kind matching an ONNX TypeProto.
ValueFileKind ValueFileKindOf(const onnx::TypeProto& type);

// Reads a whole file (InvalidArgument past `max_bytes`, NotFound if missing).
absl::StatusOr<std::string> ReadFileBytes(const std::string& path,
                                          int64_t max_bytes = int64_t{4} << 30);

}  // namespace uop::onnx_import

#endif  // UOP_RUNTIME_ONNX_TENSOR_PROTO_H_
