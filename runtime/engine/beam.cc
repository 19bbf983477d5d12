#include "runtime/engine/beam.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "drivers/sha256.h"
#include "runtime/base/status_macros.h"
#include "runtime/codegen/heuristics.h"

namespace uop {
namespace {

constexpr int64_t kUpcastAmounts[] = {2, 3, 4, 8, 16};
constexpr int64_t kUnrollAmounts[] = {2, 4, 8};
constexpr int64_t kLocalAmounts[] = {2, 4, 8, 16, 32, 64, 128, 256};  // GPU threads per block
constexpr int64_t kGroupAmounts[] = {8, 16, 32, 64, 128, 256};        // GPU reduce threads
// Kernels past this many expanded values compile slowly for little gain.
constexpr int64_t kMaxExpanded = 256;

int64_t ExpandedSize(const Kernel& k) {
  int64_t n = 1;
  for (size_t a = 0; a < k.kinds().size(); ++a)
    if (k.kinds()[a] == AxisKind::kUpcast || k.kinds()[a] == AxisKind::kUnroll)
      n *= k.full_shape()[a];
  return n;
}

std::string CachePath(const std::string& dir, const UOpPtr& ast, Device& device) {
  Sha256 h;
  h.Update(ast->ToString());
  h.Update(device.name());
  h.Update(device.compiler().CacheKey());
  return absl::StrCat(dir, "/beam/", Sha256::Hex(h.Finish()), ".opts");
}

std::string Serialize(const std::vector<Opt>& opts) {
  std::string s = "uop-beam 1\n";
  for (const Opt& o : opts)
    absl::StrAppend(&s, static_cast<int>(o.op), " ", o.axis, " ", o.amount, "\n");
  return s;
}

// nullopt for a missing, foreign or corrupt file.
std::optional<std::vector<Opt>> Load(const std::string& path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  std::string header;
  if (!std::getline(f, header) || header != "uop-beam 1") return std::nullopt;
  std::vector<Opt> opts;
  int op, axis;
  int64_t amount;
  while (f >> op >> axis >> amount) {
    // kGemm is the last OptOp (kernel.h appends new ones after it: extend here).
    if (op < 0 || op > static_cast<int>(OptOp::kGemm)) return std::nullopt;
    opts.push_back({static_cast<OptOp>(op), axis, amount});
  }
  if (!f.eof()) return std::nullopt;
  return opts;
}

void Store(const std::string& path, const std::vector<Opt>& opts) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::string tmp = absl::StrCat(path, ".tmp", getpid(), "_", reinterpret_cast<uintptr_t>(&opts));
  {
    std::ofstream f(tmp);
    f << Serialize(opts);
    if (!f) return;
  }
  std::filesystem::rename(tmp, path, ec);  // atomic: readers see old or new
  if (ec) std::filesystem::remove(tmp, ec);
}

// Compiles and times one opts list; +inf when it does not build or run.
double Time(const UOpPtr& ast, Device& device, KernelCompiler& compiler,
            const std::vector<Opt>& opts, std::vector<DeviceBuffer*>& scratch) {
  absl::StatusOr<std::shared_ptr<CompiledKernel>> k = compiler.Get(ast, device, opts);
  if (!k.ok()) return INFINITY;
  const ProgramSpec& spec = (*k)->spec;
  std::vector<DeviceBuffer*> bufs;
  for (size_t i = 0; i < spec.buffers.size(); ++i) {
    size_t bytes = static_cast<size_t>(std::max<int64_t>(spec.buffers[i].size, 1)) *
                   spec.buffers[i].dtype.itemsize();
    if (scratch.size() <= i) scratch.push_back(nullptr);
    if (!scratch[i] || scratch[i]->size() < bytes) {
      if (scratch[i]) device.allocator().Free(scratch[i]);
      absl::StatusOr<DeviceBuffer*> b = device.allocator().Alloc(bytes);
      if (!b.ok()) return INFINITY;
      scratch[i] = *b;
    }
    bufs.push_back(scratch[i]);
  }
  LaunchDims global{spec.global_size[0], spec.global_size[1], spec.global_size[2]};
  LaunchDims local{spec.local_size[0], spec.local_size[1], spec.local_size[2]};
  double best = INFINITY;
  for (int r = 0; r < 3; ++r) {
    absl::Time t0 = absl::Now();
    RunTiming timing;
    if (!(*k)->program->Run(bufs, {}, global, local, &timing).ok()) return INFINITY;
    double t = timing.seconds > 0 ? timing.seconds : absl::ToDoubleSeconds(absl::Now() - t0);
    best = std::min(best, t);
  }
  return best;
}

}  // namespace

std::vector<Opt> BeamActions(const Kernel& k) {
  std::vector<Opt> actions;
  const auto& kinds = k.kinds();
  const auto& full = k.full_shape();
  for (int a = 0; a < static_cast<int>(kinds.size()); ++a) {
    if (kinds[a] == AxisKind::kLoop) {
      for (int64_t amt : kUpcastAmounts)
        if (full[a] % amt == 0) actions.push_back({OptOp::kUpcast, a, amt});
      if (k.caps().has_threads && k.CountOf(AxisKind::kThread) == 0 &&
          full[a] % k.caps().max_threads == 0)
        actions.push_back({OptOp::kThread, a, k.caps().max_threads});
      for (int b = a + 1; b < static_cast<int>(kinds.size()); ++b)
        if (kinds[b] == AxisKind::kLoop) actions.push_back({OptOp::kSwap, a, b});
      if (k.caps().has_local) {
        for (int64_t amt : kLocalAmounts)
          if (full[a] % amt == 0) actions.push_back({OptOp::kLocal, a, amt});
      }
    } else if (kinds[a] == AxisKind::kReduce) {
      for (int64_t amt : kUnrollAmounts)
        if (full[a] % amt == 0) actions.push_back({OptOp::kUnroll, a, amt});
      if (k.caps().has_shared) {
        for (int64_t amt : kGroupAmounts)
          if (full[a] % amt == 0) actions.push_back({OptOp::kGroup, a, amt});
      }
    }
  }
  return actions;
}

absl::StatusOr<BeamResult> BeamSearch(const UOpPtr& ast, Device& device, KernelCompiler& compiler,
                                      const BeamOptions& options) {
  std::string path = options.cache_dir.empty() ? "" : CachePath(options.cache_dir, ast, device);
  if (!path.empty()) {
    if (std::optional<std::vector<Opt>> cached = Load(path)) {
      BeamResult r;
      r.opts = *cached;
      r.from_cache = true;
      return r;
    }
  }
  ASSIGN_OR_RETURN(const Renderer* renderer, compiler.RendererFor(device));
  ASSIGN_OR_RETURN(Kernel base, Kernel::Create(ast, renderer->caps()));
  absl::Time deadline = absl::Now() + options.budget;
  std::vector<DeviceBuffer*> scratch;
  BeamResult result;

  Kernel heuristic = base;
  std::vector<Opt> heuristic_opts = ApplyHandCodedOpts(heuristic);
  result.baseline_seconds = Time(ast, device, compiler, heuristic_opts, scratch);
  result.opts = heuristic_opts;
  result.seconds = result.baseline_seconds;
  ++result.candidates_timed;

  struct Candidate {
    Kernel kernel;
    double seconds;
  };
  std::vector<Candidate> beam = {{base, Time(ast, device, compiler, {}, scratch)}};
  ++result.candidates_timed;
  if (beam[0].seconds < result.seconds) result.seconds = beam[0].seconds, result.opts = {};
  while (absl::Now() < deadline) {
    std::vector<Candidate> next;
    for (const Candidate& c : beam) {
      for (const Opt& action : BeamActions(c.kernel)) {
        if (absl::Now() >= deadline) break;
        Kernel k = c.kernel;
        if (!k.Apply(action).ok() || ExpandedSize(k) > kMaxExpanded) continue;
        double t = Time(ast, device, compiler, k.applied_opts(), scratch);
        ++result.candidates_timed;
        if (std::isfinite(t)) next.push_back({std::move(k), t});
      }
    }
    if (next.empty()) break;
    std::sort(next.begin(), next.end(),
              [](const Candidate& a, const Candidate& b) { return a.seconds < b.seconds; });
    if (static_cast<int>(next.size()) > options.width)
      next.erase(next.begin() + options.width, next.end());
    if (next[0].seconds >= beam[0].seconds) break;  // no improvement this round
    beam = std::move(next);
    if (beam[0].seconds < result.seconds) {
      result.seconds = beam[0].seconds;
      result.opts = beam[0].kernel.applied_opts();
    }
  }
  for (DeviceBuffer* b : scratch)
    if (b) device.allocator().Free(b);
  if (!path.empty()) Store(path, result.opts);
  return result;
}

}  // namespace uop
