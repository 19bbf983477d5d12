// The safetensors file format, read and written here (no library):
//
//   [8 bytes: N, little-endian uint64][N bytes: JSON header][data]
//   header = {"<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]},
//             ..., "__metadata__": {"<key>": "<string>", ...}}
//
// Offsets are bytes into the data section; tensors are row-major,
// little-endian. Dtypes: BOOL, U8, I8, U16, I16, F16, BF16, U32, I32, F32,
// U64, I64, F64. The writer pads the header with spaces to a multiple of 8
// bytes and lays tensors out back to back in the order given.
//
//   RETURN_IF_ERROR(SaveSafetensors("/tmp/model.safetensors", {{"w", w}}));
//   ASSIGN_OR_RETURN(SafetensorsFile f, LoadSafetensors("/tmp/model.safetensors"));
//   Tensor w2 = f.tensors[0].ToTensor();
//
// The reader validates everything and fails with an InvalidArgument naming
// the problem (and the tensor): a file shorter than its header length, a
// header over 100 MB or that is not a JSON object, a missing or malformed
// dtype/shape/data_offsets, an unknown dtype, a negative dimension, a shape
// whose byte size overflows or differs from its offsets, offsets outside the
// data, overlapping tensors or holes in the data section (the format asks
// for a buffer indexed entirely), duplicate names, non-string metadata.
#ifndef UOP_RUNTIME_NN_SAFETENSORS_H_
#define UOP_RUNTIME_NN_SAFETENSORS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/tensor/tensor.h"

namespace uop::nn {

struct SafeTensor {
  std::string name;
  DType dtype;
  Shape shape;
  std::vector<uint8_t> data;  // row-major, little-endian

  // A realized host tensor of this data.
  Tensor ToTensor(const std::string& device = "CPU") const;
};

struct SafetensorsFile {
  std::vector<SafeTensor> tensors;  // in header order
  std::map<std::string, std::string> metadata;
};

// The safetensors name of a dtype ("F32"), or an error for dtypes the
// format has no name for.
absl::StatusOr<std::string> SafetensorsDType(DType dtype);

absl::StatusOr<SafetensorsFile> ParseSafetensors(absl::Span<const uint8_t> bytes);
// Realizes and reads back every tensor (names must be unique and non-empty).
absl::StatusOr<std::vector<uint8_t>> SerializeSafetensors(
    const std::vector<std::pair<std::string, Tensor>>& tensors,
    const std::map<std::string, std::string>& metadata = {});

absl::StatusOr<SafetensorsFile> LoadSafetensors(const std::string& path);
absl::Status SaveSafetensors(const std::string& path,
                             const std::vector<std::pair<std::string, Tensor>>& tensors,
                             const std::map<std::string, std::string>& metadata = {});

}  // namespace uop::nn

#endif  // UOP_RUNTIME_NN_SAFETENSORS_H_
