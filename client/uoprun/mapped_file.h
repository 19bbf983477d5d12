// MappedFile: a whole file mapped read-only into memory, for loading
// artifacts without reading them into a buffer first (no copy, no zero-fill:
// the pages are the page cache's own, populated up front).
//
//   ASSIGN_OR_RETURN(std::shared_ptr<const MappedFile> f, MappedFile::Open("model.uop"));
//   absl::string_view bytes = f->bytes();  // valid while f lives
//
// The mapping is private and read-only: nothing the process does can change
// the file. A file replaced by rename (how `uoprun compile` writes) keeps the
// old contents mapped. A file truncated in place while mapped (`cp` over it)
// makes reading the lost pages raise SIGBUS, a limit of any mapping: uoprun's
// Runner reads the mapping only while it opens (about a millisecond) and
// keeps no reference to it afterwards. Errors name the path: a missing file is NotFound,
// no permission PermissionDenied, anything but a regular file (directory,
// FIFO, device) or a failed mmap InvalidArgument. An empty file maps to empty
// bytes (the artifact parser then rejects it as too short).
#ifndef UOP_CLIENT_UOPRUN_MAPPED_FILE_H_
#define UOP_CLIENT_UOPRUN_MAPPED_FILE_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace uop::uoprun {

class MappedFile {
 public:
  static absl::StatusOr<std::shared_ptr<const MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  absl::string_view bytes() const { return {static_cast<const char*>(data_), size_}; }

 private:
  MappedFile() = default;
  void* data_ = nullptr;  // nullptr for an empty file
  size_t size_ = 0;
};

}  // namespace uop::uoprun

#endif  // UOP_CLIENT_UOPRUN_MAPPED_FILE_H_
