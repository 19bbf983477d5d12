// NumPy's .npy format (versions 1.0, 2.0 and 3.0): one array per file, a
// short Python-dict header (dtype, order, shape) and the raw elements.
// uopctl reads inference inputs from .npy files and writes outputs to them;
// uoprun reads its inputs and reference outputs from them.
//
//   ASSIGN_OR_RETURN(NpyArray a, ReadNpyFile("x.npy"));   // a.datatype == kFp32, a.shape {2, 3}
//   RETURN_IF_ERROR(WriteNpyFile("y.npy", {Datatype::kFp32, {2, 3}, bytes}));
//
// Reading accepts every numeric dtype NumPy writes for the KServe datatypes
// (b1, i1..i8, u1..u8, f2, f4, f8) in either byte order, and Fortran-ordered
// arrays (returned in C order). Anything else, a malformed header or data
// that does not match the shape is an InvalidArgument naming what is wrong.
// Writing always produces version 1.0, little endian, C order.
#ifndef UOP_CLIENT_LIB_NPY_H_
#define UOP_CLIENT_LIB_NPY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/lib/datatype.h"

namespace uop::client {

struct NpyArray {
  Datatype datatype = Datatype::kFp32;
  std::vector<int64_t> shape;
  std::string data;  // little-endian elements in C (row-major) order
};

absl::StatusOr<NpyArray> ParseNpy(absl::string_view bytes);
absl::StatusOr<NpyArray> ReadNpyFile(const std::string& path);

// InvalidArgument when data does not match shape and datatype, or for a
// datatype .npy cannot hold (BF16, BYTES).
absl::StatusOr<std::string> SerializeNpy(const NpyArray& array);
absl::Status WriteNpyFile(const std::string& path, const NpyArray& array);

// "NAME.npy" for a tensor name, path separators replaced ("a/b:0" -> "a_b_0.npy").
std::string NpyFileName(absl::string_view tensor_name);

// Reads a whole file; NotFound / PermissionDenied naming the path.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);
// Writes through a temporary file and rename, so readers never see half a file.
absl::Status WriteWholeFile(const std::string& path, absl::string_view bytes);

}  // namespace uop::client

#endif  // UOP_CLIENT_LIB_NPY_H_
