// KernelCache: compiled kernels on disk, keyed by what produced them.
//
// Key = SHA-256 of (Compiler::CacheKey(), kernel name, source): a binary is
// only reused by a compiler configuration that would have produced the same
// bytes. Entries live in one directory, `$UOP_CACHE_DIR/kernels` or else
// `$HOME/.cache/uop/kernels`, one file per key:
//
//   magic "UOPKCACH" | u32 format version | u32 header bytes | u64 payload bytes
//   | key digest[32] | SHA-256(payload)[32] | payload
//
// Writers write a private temporary file and rename it over the entry, so
// concurrent writers (threads or processes) never expose a partial file, and
// readers see either no entry or a complete one. A truncated, corrupt or
// foreign entry (bad magic, version, length, key or checksum) is a miss:
// never loaded, counted in stats().corrupt, and replaced by the next Store.
// No fsync: after a crash an entry may be truncated, which the checksum
// catches.
//
//   ASSIGN_OR_RETURN(std::string dir, KernelCache::DefaultDir());
//   KernelCache cache(dir);
//   ASSIGN_OR_RETURN(std::string bin, CompileCached(device->compiler(), &cache, name, src));
//
// Thread safety: every method may be called from any thread.
#ifndef UOP_DRIVERS_KERNEL_CACHE_H_
#define UOP_DRIVERS_KERNEL_CACHE_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "drivers/compiler.h"
#include "drivers/sha256.h"

namespace uop {

struct KernelCacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;   // no entry, or a bad one
  uint64_t corrupt = 0;  // bad entries seen (also counted as misses)
  uint64_t stores = 0;
  uint64_t store_errors = 0;
};

class KernelCache {
 public:
  using Key = Sha256::Digest;
  static constexpr uint32_t kFormatVersion = 1;

  // Entries go to `dir`, created on the first Store.
  explicit KernelCache(std::string dir);

  // $UOP_CACHE_DIR/kernels, else $HOME/.cache/uop/kernels; FailedPrecondition
  // when neither variable is set.
  static absl::StatusOr<std::string> DefaultDir();

  static Key MakeKey(absl::string_view compiler_key, absl::string_view name,
                     absl::string_view source);

  // The cached binary, or nullopt on a miss (including a bad entry).
  std::optional<std::string> Lookup(const Key& key);

  // Writes (or replaces) the entry atomically. Errors name the path and the
  // failing system call.
  absl::Status Store(const Key& key, absl::string_view binary);

  // Path of the entry for `key` (whether or not it exists).
  std::string EntryPath(const Key& key) const;
  const std::string& dir() const { return dir_; }
  KernelCacheStats stats() const;

 private:
  const std::string dir_;
  std::atomic<uint64_t> hits_{0}, misses_{0}, corrupt_{0}, stores_{0}, store_errors_{0};
};

// Compiles `source` unless the cache has it; stores fresh results. A failed
// Store does not fail the compile (it is counted in stats().store_errors).
// `cache` may be null (always compiles). `hit`, when given, says which
// happened.
absl::StatusOr<std::string> CompileCached(Compiler& compiler, KernelCache* cache,
                                          absl::string_view name, absl::string_view source,
                                          bool* hit = nullptr);

}  // namespace uop

#endif  // UOP_DRIVERS_KERNEL_CACHE_H_
