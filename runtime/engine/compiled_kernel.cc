#include "runtime/engine/compiled_kernel.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "runtime/base/status_macros.h"
#include "runtime/codegen/amd_renderer.h"
#include "runtime/codegen/c_renderer.h"
#include "runtime/codegen/compile.h"
#include "runtime/codegen/cuda_renderer.h"
#include "runtime/codegen/llvm_renderer.h"
#include "runtime/codegen/opencl_renderer.h"
#include "runtime/profiler/profiler.h"

namespace uop {

KernelCompiler::KernelCompiler(std::string cache_dir) {
  if (!cache_dir.empty()) disk_.emplace(std::move(cache_dir));
}

absl::StatusOr<const Renderer*> KernelCompiler::RendererFor(Device& device) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = renderers_.find(&device);
  if (it != renderers_.end()) return it->second.get();
  const DeviceInfo& info = device.info();
  std::unique_ptr<Renderer> r;
  if (info.language == "llvm-ir") {
    r = std::make_unique<LlvmRenderer>(info.compute_units, info.max_vector_bytes);
  } else if (info.language == "cuda") {
    CudaTarget target;
    target.sm = ParseSmArch(info.description);
    target.sms = info.compute_units;
    r = std::make_unique<CudaRenderer>(target);
  } else if (info.language == "amdgcn") {
    r = std::make_unique<AmdRenderer>(
        AmdTarget{.arch = ParseGfxArch(info.description), .compute_units = info.compute_units});
  } else if (info.language == "c") {
    r = std::make_unique<CRenderer>(info.compute_units, info.max_vector_bytes);
  } else if (info.language == "opencl") {
    r = std::make_unique<OpenClRenderer>(OpenClTarget{.compute_units = info.compute_units});
  } else {
    return absl::UnimplementedError(
        absl::StrCat("no renderer for language '", info.language, "' of device ", info.name));
  }
  const Renderer* out = r.get();
  renderers_[&device] = std::move(r);
  return out;
}

std::string KernelCompiler::OptsKey(const std::optional<std::vector<Opt>>& opts) {
  if (!opts) return "h";
  std::string key = "o";
  for (const Opt& o : *opts) absl::StrAppend(&key, o.ToString(), ";");
  return key;
}

absl::StatusOr<std::shared_ptr<CompiledKernel>> KernelCompiler::Get(
    const UOpPtr& ast, Device& device, const std::optional<std::vector<Opt>>& opts) {
  Key key{ast.get(), &device, OptsKey(opts)};
  std::promise<absl::StatusOr<std::shared_ptr<CompiledKernel>>> mine;
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto it = memory_.find(key);
    if (it != memory_.end()) {
      ++stats_.memory_hits;
      profiler::RecordKernelCacheHit(it->second.kernel->spec.name, it->second.kernel->trace_id);
      return it->second.kernel;
    }
    auto b = building_.find(key);
    if (b != building_.end()) {
      ++stats_.joined_builds;
      auto result = b->second.result;
      lock.unlock();
      return result.get();
    }
    building_.emplace(key, Building{ast, mine.get_future().share()});
  }
  absl::StatusOr<std::shared_ptr<CompiledKernel>> built = Build(ast, device, opts);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (built.ok()) memory_.try_emplace(key, Entry{ast, *built});
    building_.erase(key);
  }
  mine.set_value(built);
  return built;
}

absl::StatusOr<std::shared_ptr<CompiledKernel>> KernelCompiler::Build(
    const UOpPtr& ast, Device& device, const std::optional<std::vector<Opt>>& opts) {
  ASSIGN_OR_RETURN(const Renderer* renderer, RendererFor(device));
  profiler::CompileSpan prof_compile;
  auto k = std::make_shared<CompiledKernel>();
  k->device = &device;
  k->ast = ast;
  k->requested_opts = opts;
  absl::Time t0 = absl::Now();
  ASSIGN_OR_RETURN(k->spec, RenderKernel(ast, *renderer, opts));
  absl::Time t1 = absl::Now();
  k->render_seconds = absl::ToDoubleSeconds(t1 - t0);
  bool hit = false;
  std::string binary;
  if (disk_) {
    ASSIGN_OR_RETURN(binary,
                     CompileCached(device.compiler(), &*disk_, k->spec.name, k->spec.source, &hit));
  } else {
    ASSIGN_OR_RETURN(binary, device.compiler().Compile(k->spec.name, k->spec.source));
  }
  k->disk_cache_hit = hit;
  ProgramDesc desc;
  desc.name = k->spec.name;
  for (const ProgramBuffer& b : k->spec.buffers) {
    desc.buffer_bytes.push_back(static_cast<uint64_t>(b.size) * b.dtype.itemsize());
  }
  desc.num_vars = static_cast<int>(k->spec.vars.size());
  ASSIGN_OR_RETURN(k->program, device.LoadProgram(desc, binary));
  k->binary = std::move(binary);
  k->compile_seconds = absl::ToDoubleSeconds(absl::Now() - t1);
  k->trace_id = profiler::NewFlowId();
  prof_compile.Done(k->spec.name, k->trace_id, hit);
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.compiled;
  if (hit) ++stats_.disk_hits;
  return k;
}

KernelCompilerStats KernelCompiler::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

std::vector<std::shared_ptr<CompiledKernel>> KernelCompiler::Kernels() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<CompiledKernel>> out;
  out.reserve(memory_.size());
  for (const auto& [key, entry] : memory_) out.push_back(entry.kernel);
  return out;
}

}  // namespace uop
