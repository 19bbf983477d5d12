#include "runtime/profiler/trace_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "runtime/profiler/chrome_json_writer.h"
#include "runtime/profiler/perfetto_writer.h"

namespace uop::profiler {

namespace {

absl::Status ErrnoStatus(int err, const std::string& path, absl::string_view what) {
  const std::string message =
      absl::StrCat("writing trace to '", path, "': ", what, ": ", std::strerror(err));
  switch (err) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return absl::ResourceExhaustedError(message);
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(message);
    case EISDIR:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace

TraceFormat FormatForPath(absl::string_view path) {
  return absl::EndsWith(path, ".json") ? TraceFormat::kChromeJson : TraceFormat::kPerfetto;
}

std::string SerializeTrace(const TraceSnapshot& snapshot, TraceFormat format) {
  return format == TraceFormat::kChromeJson ? ToChromeJson(snapshot) : ToPerfetto(snapshot);
}

absl::Status WriteTraceFile(const std::string& path, const TraceSnapshot& snapshot) {
  if (path.empty()) return absl::InvalidArgumentError("writing trace: empty path");
  return WriteFileBytes(path, SerializeTrace(snapshot, FormatForPath(path)));
}

absl::Status WriteFileBytes(const std::string& path, absl::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, path, "open");
  struct stat st;
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  absl::Status status;
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      status = ErrnoStatus(n < 0 ? errno : ENOSPC, path,
                           absl::StrCat("write (", done, " of ", bytes.size(), " bytes written)"));
      break;
    }
    done += static_cast<size_t>(n);
  }
  // Delayed-allocation filesystems report a full disk only here.
  if (status.ok() && regular && ::fsync(fd) != 0) status = ErrnoStatus(errno, path, "fsync");
  if (::close(fd) != 0 && status.ok()) status = ErrnoStatus(errno, path, "close");
  if (!status.ok() && regular) ::unlink(path.c_str());
  return status;
}

}  // namespace uop::profiler
