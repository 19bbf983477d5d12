#include "client/lib/npy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/base/status_macros.h"

namespace uop::client {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

absl::Status Bad(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(".npy: ", what));
}

// A cursor over the header's Python dict literal.
class HeaderParser {
 public:
  explicit HeaderParser(absl::string_view s) : s_(s) {}

  void SkipSpace() {
    while (at_ < s_.size() && absl::ascii_isspace(s_[at_])) ++at_;
  }
  bool Consume(char c) {
    SkipSpace();
    if (at_ < s_.size() && s_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  absl::StatusOr<std::string> QuotedString() {
    SkipSpace();
    if (at_ >= s_.size() || (s_[at_] != '\'' && s_[at_] != '"')) {
      return Bad(absl::StrCat("header: expected a quoted string at offset ", at_));
    }
    const char quote = s_[at_++];
    const size_t end = s_.find(quote, at_);
    if (end == absl::string_view::npos) return Bad("header: unterminated string");
    std::string out(s_.substr(at_, end - at_));
    at_ = end + 1;
    return out;
  }
  absl::StatusOr<bool> Boolean() {
    SkipSpace();
    for (auto [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      if (s_.substr(at_, std::strlen(word)) == word) {
        at_ += std::strlen(word);
        return value;
      }
    }
    return Bad("header: fortran_order must be True or False");
  }
  absl::StatusOr<std::vector<int64_t>> Tuple() {
    if (!Consume('(')) return Bad("header: shape must be a tuple");
    std::vector<int64_t> dims;
    while (!Consume(')')) {
      SkipSpace();
      size_t end = at_;
      while (end < s_.size() && absl::ascii_isdigit(s_[end])) ++end;
      int64_t d;
      if (end == at_ || !absl::SimpleAtoi(s_.substr(at_, end - at_), &d)) {
        return Bad(absl::StrCat("header: bad dimension in shape at offset ", at_));
      }
      dims.push_back(d);
      at_ = end;
      if (Consume(',')) continue;
      SkipSpace();
      if (at_ >= s_.size() || s_[at_] != ')') return Bad("header: expected ',' or ')' in shape");
    }
    return dims;
  }
  bool AtEnd() {
    SkipSpace();
    return at_ == s_.size();
  }

 private:
  absl::string_view s_;
  size_t at_ = 0;
};

struct Descr {
  Datatype datatype;
  bool swap;  // big endian on disk
};

absl::StatusOr<Descr> ParseDescr(const std::string& d) {
  if (d.size() < 3) return Bad(absl::StrCat("unsupported dtype '", d, "'"));
  const char order = d[0], kind = d[1];
  int size;
  if ((order != '<' && order != '>' && order != '|' && order != '=') ||
      !absl::SimpleAtoi(d.substr(2), &size)) {
    return Bad(absl::StrCat("unsupported dtype '", d, "'"));
  }
  struct Map {
    char kind;
    int size;
    Datatype type;
  };
  static constexpr Map kMap[] = {
      {'b', 1, Datatype::kBool},   {'i', 1, Datatype::kInt8},   {'i', 2, Datatype::kInt16},
      {'i', 4, Datatype::kInt32},  {'i', 8, Datatype::kInt64},  {'u', 1, Datatype::kUint8},
      {'u', 2, Datatype::kUint16}, {'u', 4, Datatype::kUint32}, {'u', 8, Datatype::kUint64},
      {'f', 2, Datatype::kFp16},   {'f', 4, Datatype::kFp32},   {'f', 8, Datatype::kFp64},
  };
  for (const Map& m : kMap) {
    if (m.kind == kind && m.size == size) return Descr{m.type, order == '>' && size > 1};
  }
  return Bad(absl::StrCat("unsupported dtype '", d,
                          "' (supported: bool, int8..int64, uint8..uint64, float16/32/64)"));
}

std::string DescrOf(Datatype d) {
  switch (d) {
    case Datatype::kBool:
      return "|b1";
    case Datatype::kInt8:
      return "|i1";
    case Datatype::kUint8:
      return "|u1";
    case Datatype::kInt16:
      return "<i2";
    case Datatype::kInt32:
      return "<i4";
    case Datatype::kInt64:
      return "<i8";
    case Datatype::kUint16:
      return "<u2";
    case Datatype::kUint32:
      return "<u4";
    case Datatype::kUint64:
      return "<u8";
    case Datatype::kFp16:
      return "<f2";
    case Datatype::kFp32:
      return "<f4";
    case Datatype::kFp64:
      return "<f8";
    case Datatype::kBf16:
    case Datatype::kBytes:
      return "";
  }
  return "";
}

// Fortran (column-major) order -> C (row-major) order.
std::string FortranToC(absl::string_view f, const std::vector<int64_t>& shape, size_t elem) {
  std::string c(f.size(), '\0');
  const size_t rank = shape.size();
  std::vector<int64_t> idx(rank, 0), fstride(rank, 1);
  for (size_t k = 1; k < rank; ++k) fstride[k] = fstride[k - 1] * shape[k - 1];
  const size_t n = elem ? f.size() / elem : 0;
  int64_t foff = 0;
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(c.data() + i * elem, f.data() + foff * elem, elem);
    // Advance the C-order index (last axis fastest) and its F offset.
    for (size_t k = rank; k-- > 0;) {
      if (++idx[k] < shape[k]) {
        foff += fstride[k];
        break;
      }
      foff -= (shape[k] - 1) * fstride[k];
      idx[k] = 0;
    }
  }
  return c;
}

}  // namespace

absl::StatusOr<NpyArray> ParseNpy(absl::string_view bytes) {
  if (bytes.size() < 10 || bytes.substr(0, kMagicLen) != absl::string_view(kMagic, kMagicLen)) {
    return Bad("not a .npy file (no \\x93NUMPY magic)");
  }
  const uint8_t major = static_cast<uint8_t>(bytes[6]);
  size_t header_len, header_at;
  const auto* u = reinterpret_cast<const uint8_t*>(bytes.data());
  if (major == 1) {
    header_len = u[8] | (u[9] << 8);
    header_at = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return Bad("truncated header");
    header_len = u[8] | (u[9] << 8) | (u[10] << 16) | (size_t{u[11]} << 24);
    header_at = 12;
  } else {
    return Bad(absl::StrCat("unsupported format version ", major, ".", int{u[7]}));
  }
  if (bytes.size() - header_at < header_len) return Bad("truncated header");
  HeaderParser p(bytes.substr(header_at, header_len));
  if (!p.Consume('{')) return Bad("header is not a dict");
  std::string descr;
  bool fortran = false, have_descr = false, have_order = false, have_shape = false;
  std::vector<int64_t> shape;
  bool closed = p.Consume('}');
  while (!closed) {
    ASSIGN_OR_RETURN(std::string key, p.QuotedString());
    if (!p.Consume(':')) return Bad(absl::StrCat("header: expected ':' after '", key, "'"));
    if (key == "descr") {
      ASSIGN_OR_RETURN(descr, p.QuotedString());
      have_descr = true;
    } else if (key == "fortran_order") {
      ASSIGN_OR_RETURN(fortran, p.Boolean());
      have_order = true;
    } else if (key == "shape") {
      ASSIGN_OR_RETURN(shape, p.Tuple());
      have_shape = true;
    } else {
      return Bad(absl::StrCat("header: unknown key '", key, "'"));
    }
    // A comma may also stand before the closing brace.
    const bool comma = p.Consume(',');
    closed = p.Consume('}');
    if (!comma && !closed) return Bad("header: expected ',' or '}'");
  }
  if (!p.AtEnd()) return Bad("header: text after the dict");
  if (!have_descr || !have_order || !have_shape) {
    return Bad("header lacks one of 'descr', 'fortran_order', 'shape'");
  }
  ASSIGN_OR_RETURN(Descr d, ParseDescr(descr));
  NpyArray a;
  a.datatype = d.datatype;
  a.shape = shape;
  ASSIGN_OR_RETURN(int64_t n, ElementCount(shape));
  const size_t elem = DatatypeSize(d.datatype);
  const absl::string_view data = bytes.substr(header_at + header_len);
  if (static_cast<uint64_t>(n) > data.size() / elem || data.size() != n * elem) {
    return Bad(absl::StrCat("shape ", ShapeString(shape), " of ", descr, " needs ", n * elem,
                            " data bytes, the file has ", data.size()));
  }
  a.data = fortran ? FortranToC(data, shape, elem) : std::string(data);
  if (d.swap) {
    for (size_t i = 0; i + elem <= a.data.size(); i += elem) {
      std::reverse(a.data.begin() + i, a.data.begin() + i + elem);
    }
  }
  return a;
}

absl::StatusOr<std::string> SerializeNpy(const NpyArray& a) {
  const std::string descr = DescrOf(a.datatype);
  if (descr.empty()) {
    return Bad(absl::StrCat(DatatypeName(a.datatype), " has no .npy dtype"));
  }
  ASSIGN_OR_RETURN(int64_t n, ElementCount(a.shape));
  if (a.data.size() != static_cast<uint64_t>(n) * DatatypeSize(a.datatype)) {
    return Bad(absl::StrCat(DatatypeName(a.datatype), ShapeString(a.shape), " takes ",
                            n * DatatypeSize(a.datatype), " bytes, given ", a.data.size()));
  }
  std::string shape = absl::StrJoin(a.shape, ", ");
  if (a.shape.size() == 1) shape += ",";
  std::string header =
      absl::StrCat("{'descr': '", descr, "', 'fortran_order': False, 'shape': (", shape, "), }");
  // Pad with spaces and end with '\n' so the data starts on a 64-byte boundary.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  if (header.size() > 65535) return Bad("shape too long for a version 1.0 header");
  std::string out(kMagic, kMagicLen);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  out += a.data;
  return out;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string msg = absl::StrCat("cannot read '", path, "': ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(msg);
    if (err == EACCES) return absl::PermissionDeniedError(msg);
    return absl::InvalidArgumentError(msg);
  }
  // One read of the size fstat reports (artifacts are megabytes; a stream
  // reading char by char costs milliseconds), then to EOF for files that grew.
  struct stat st;
  std::string bytes;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) bytes.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (true) {
    if (done == bytes.size()) bytes.resize(std::max<size_t>(2 * bytes.size(), 4096));
    const ssize_t n = read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat("error reading '", path, "': ", std::strerror(err)));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  close(fd);
  bytes.resize(done);
  return bytes;
}

absl::Status WriteWholeFile(const std::string& path, absl::string_view bytes) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot write '", path, "': ", std::strerror(errno)));
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return absl::InternalError(absl::StrCat("writing '", path, "': ", std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (close(fd) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("writing '", path, "': ", std::strerror(err)));
  }
  return absl::OkStatus();
}

std::string NpyFileName(absl::string_view tensor_name) {
  std::string name(tensor_name);
  for (char& c : name) {
    if (c == '/' || c == '\\' || c == ':') c = '_';
  }
  return name + ".npy";
}

absl::StatusOr<NpyArray> ReadNpyFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path));
  absl::StatusOr<NpyArray> a = ParseNpy(bytes);
  if (!a.ok())
    return absl::Status(a.status().code(), absl::StrCat(path, ": ", a.status().message()));
  return a;
}

absl::Status WriteNpyFile(const std::string& path, const NpyArray& array) {
  ASSIGN_OR_RETURN(std::string bytes, SerializeNpy(array));
  return WriteWholeFile(path, bytes);
}

}  // namespace uop::client
