// Compiling kernel ASTs into loaded programs, with two caches: in memory
// (per AST node and device: hash-consing makes equal ASTs the same node) and
// on disk (drivers/kernel_cache.h, keyed by the rendered source), so a fresh
// process with a warm disk cache only renders and loads.
#ifndef UOP_RUNTIME_ENGINE_COMPILED_KERNEL_H_
#define UOP_RUNTIME_ENGINE_COMPILED_KERNEL_H_

#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "drivers/device.h"
#include "drivers/kernel_cache.h"
#include "runtime/codegen/kernel.h"
#include "runtime/codegen/program_spec.h"
#include "runtime/codegen/renderer.h"

namespace uop {

struct CompiledKernel {
  ProgramSpec spec;
  std::vector<Opt> opts;
  Device* device = nullptr;
  std::unique_ptr<Program> program;
  std::string binary;  // what `program` was loaded from (for artifacts)
  bool disk_cache_hit = false;
  double render_seconds = 0;
  double compile_seconds = 0;  // 0 on a disk-cache hit (load time only)
  uint64_t trace_id = 0;       // profiler flow id linking each launch to this compile
  // What it was built from, for tools that replay codegen step by step
  // (uopd's /ui): the kernel AST and the opts asked for (nullopt: the
  // hand-coded heuristics). Unset for kernels loaded from artifacts.
  UOpPtr ast;
  std::optional<std::vector<Opt>> requested_opts;
};

struct KernelCompilerStats {
  uint64_t memory_hits = 0;
  // Requests that found the same kernel being built by another thread and
  // waited for it instead of building it again.
  uint64_t joined_builds = 0;
  uint64_t compiled = 0;
  uint64_t disk_hits = 0;
};

class KernelCompiler {
 public:
  // `cache_dir`: where compiled binaries persist; empty disables the disk cache.
  explicit KernelCompiler(std::string cache_dir);

  // The renderer codegen uses for `device` (by its DeviceInfo::language).
  absl::StatusOr<const Renderer*> RendererFor(Device& device);

  // Renders (hand-coded opts, or `opts` when given), compiles and loads.
  absl::StatusOr<std::shared_ptr<CompiledKernel>> Get(
      const UOpPtr& ast, Device& device,
      const std::optional<std::vector<Opt>>& opts = std::nullopt);

  KernelCompilerStats stats() const;

  // Every kernel in the in-memory cache (compiled or loaded from disk), in no
  // particular order: what tools list (uopd's /ui web view).
  std::vector<std::shared_ptr<CompiledKernel>> Kernels() const;

 private:
  absl::StatusOr<std::shared_ptr<CompiledKernel>> Build(
      const UOpPtr& ast, Device& device, const std::optional<std::vector<Opt>>& opts);

  std::optional<KernelCache> disk_;
  // std::mutex: Debian's abseil is not annotated for ThreadSanitizer.
  mutable std::mutex mu_;
  struct Key {
    const UOp* ast;
    Device* device;
    std::string opts;  // "h" for the heuristics, else the opts list
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.ast, k.device, k.opts);
    }
    friend bool operator==(const Key& a, const Key& b) {
      return a.ast == b.ast && a.device == b.device && a.opts == b.opts;
    }
  };
  static std::string OptsKey(const std::optional<std::vector<Opt>>& opts);
  struct Entry {
    UOpPtr ast;  // keeps the key alive
    std::shared_ptr<CompiledKernel> kernel;
  };
  absl::flat_hash_map<Key, Entry> memory_ ABSL_GUARDED_BY(mu_);
  // Kernels being built now: identical kernels requested at the same time
  // (parallel compiles of one schedule, two models sharing layers) build once.
  struct Building {
    UOpPtr ast;  // keeps the key alive
    std::shared_future<absl::StatusOr<std::shared_ptr<CompiledKernel>>> result;
  };
  absl::flat_hash_map<Key, Building> building_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<Device*, std::unique_ptr<Renderer>> renderers_ ABSL_GUARDED_BY(mu_);
  KernelCompilerStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace uop

#endif  // UOP_RUNTIME_ENGINE_COMPILED_KERNEL_H_
