#include "drivers/kernel_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

constexpr char kMagic[8] = {'U', 'O', 'P', 'K', 'C', 'A', 'C', 'H'};

// On-disk header; all integers little-endian (x86-64 and arm64 hosts).
struct EntryHeader {
  char magic[8];
  uint32_t version;
  uint32_t header_bytes;
  uint64_t payload_bytes;
  uint8_t key[32];
  uint8_t checksum[32];
};
static_assert(sizeof(EntryHeader) == 88, "the on-disk header layout is fixed");

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat("kernel cache: ", what, " '", path, "': ", strerror(errno)));
}

// mkdir -p.
absl::Status MakeDirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') continue;
    const std::string prefix = dir.substr(0, i);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) return ErrnoError("mkdir", prefix);
  }
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, const void* data, size_t size, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoError("write", path);
    p += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Reads the whole file; nullopt if it cannot be opened or read.
std::optional<std::string> ReadFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<std::string> out;
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_size >= 0) {
    std::string data(static_cast<size_t>(st.st_size), '\0');
    size_t got = 0;
    while (got < data.size()) {
      const ssize_t n = read(fd, data.data() + got, data.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    data.resize(got);
    out = std::move(data);
  }
  close(fd);
  return out;
}

}  // namespace

KernelCache::KernelCache(std::string dir) : dir_(std::move(dir)) {}

absl::StatusOr<std::string> KernelCache::DefaultDir() {
  if (const char* d = std::getenv("UOP_CACHE_DIR"); d != nullptr && *d != '\0') {
    return absl::StrCat(d, "/kernels");
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') {
    return absl::StrCat(h, "/.cache/uop/kernels");
  }
  return absl::FailedPreconditionError(
      "kernel cache: neither UOP_CACHE_DIR nor HOME is set; pass a directory");
}

KernelCache::Key KernelCache::MakeKey(absl::string_view compiler_key, absl::string_view name,
                                      absl::string_view source) {
  // Length-prefixed fields, so no two different triples hash the same bytes.
  Sha256 h;
  for (absl::string_view field : {compiler_key, name, source}) {
    const uint64_t n = field.size();
    h.Update(&n, sizeof(n));
    h.Update(field);
  }
  return h.Finish();
}

std::string KernelCache::EntryPath(const Key& key) const {
  return absl::StrCat(dir_, "/", Sha256::Hex(key), ".uopk");
}

std::optional<std::string> KernelCache::Lookup(const Key& key) {
  std::optional<std::string> file = ReadFile(EntryPath(key));
  if (!file.has_value()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  auto bad = [&]() -> std::optional<std::string> {
    corrupt_.fetch_add(1, std::memory_order_relaxed);
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  };
  if (file->size() < sizeof(EntryHeader)) return bad();
  EntryHeader h;
  std::memcpy(&h, file->data(), sizeof(h));
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0 || h.version != kFormatVersion ||
      h.header_bytes != sizeof(EntryHeader) ||
      h.payload_bytes != file->size() - sizeof(EntryHeader) ||
      std::memcmp(h.key, key.data(), key.size()) != 0) {
    return bad();
  }
  absl::string_view payload = absl::string_view(*file).substr(sizeof(EntryHeader));
  const Sha256::Digest sum = Sha256::Of(payload);
  if (std::memcmp(h.checksum, sum.data(), sum.size()) != 0) return bad();
  hits_.fetch_add(1, std::memory_order_relaxed);
  file->erase(0, sizeof(EntryHeader));
  return file;
}

absl::Status KernelCache::Store(const Key& key, absl::string_view binary) {
  auto count = [this](absl::Status st) {
    (st.ok() ? stores_ : store_errors_).fetch_add(1, std::memory_order_relaxed);
    return st;
  };
  if (absl::Status st = MakeDirs(dir_); !st.ok()) return count(st);
  EntryHeader h;
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.version = kFormatVersion;
  h.header_bytes = sizeof(EntryHeader);
  h.payload_bytes = binary.size();
  std::memcpy(h.key, key.data(), key.size());
  const Sha256::Digest sum = Sha256::Of(binary);
  std::memcpy(h.checksum, sum.data(), sum.size());

  // A name no other writer uses: pid, thread and a process-wide counter.
  static std::atomic<uint64_t> counter{0};
  const std::string path = EntryPath(key);
  const std::string tmp =
      absl::StrCat(dir_, "/.", Sha256::Hex(key).substr(0, 16), ".", getpid(), ".",
                   std::hash<std::thread::id>()(std::this_thread::get_id()) % 1000000007, ".",
                   counter.fetch_add(1, std::memory_order_relaxed), ".tmp");
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return count(ErrnoError("create", tmp));
  absl::Status st = WriteAll(fd, &h, sizeof(h), tmp);
  if (st.ok()) st = WriteAll(fd, binary.data(), binary.size(), tmp);
  if (close(fd) != 0 && st.ok()) st = ErrnoError("close", tmp);
  if (st.ok() && rename(tmp.c_str(), path.c_str()) != 0) st = ErrnoError("rename to", path);
  if (!st.ok()) unlink(tmp.c_str());
  return count(st);
}

KernelCacheStats KernelCache::stats() const {
  return KernelCacheStats{hits_.load(), misses_.load(), corrupt_.load(), stores_.load(),
                          store_errors_.load()};
}

absl::StatusOr<std::string> CompileCached(Compiler& compiler, KernelCache* cache,
                                          absl::string_view name, absl::string_view source,
                                          bool* hit) {
  if (hit != nullptr) *hit = false;
  if (cache == nullptr) return compiler.Compile(name, source);
  const KernelCache::Key key = KernelCache::MakeKey(compiler.CacheKey(), name, source);
  if (std::optional<std::string> bin = cache->Lookup(key)) {
    if (hit != nullptr) *hit = true;
    return *std::move(bin);
  }
  ASSIGN_OR_RETURN(std::string bin, compiler.Compile(name, source));
  (void)cache->Store(key, bin);  // counted in stats(); the compile itself succeeded
  return bin;
}

}  // namespace uop
