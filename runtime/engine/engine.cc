#include "runtime/engine/engine.h"

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "drivers/command_buffer.h"
#include "drivers/device_registry.h"
#include "runtime/base/status_macros.h"
#include "runtime/engine/beam.h"
#include "runtime/profiler/profiler.h"
#include "runtime/schedule/memory_planner.h"
#include "runtime/schedule/pack_panels.h"
#include "runtime/schedule/schedule.h"
#include "runtime/tensor/tensor.h"

namespace uop {
namespace {

std::string CacheDirFor(const EngineOptions& options) {
  if (options.cache_dir == "-") return "";
  if (!options.cache_dir.empty()) return options.cache_dir;
  absl::StatusOr<std::string> dir = KernelCache::DefaultDir();
  return dir.ok() ? *dir : "";
}

const std::string& DeviceOf(const UOp& buffer) {
  static const std::string kCpu = "CPU";
  if (buffer.num_srcs() > 0 && buffer.src(0)->op() == Op::kDevice)
    if (const auto* s = buffer.src(0)->arg().get_if<std::string>()) return *s;
  return kCpu;
}

int64_t BufferId(const UOp& buffer) { return buffer.arg().get<BufferArg>().id; }

// Frees an allocation when the last owner lets go (storages, JIT arenas).
std::shared_ptr<DeviceBuffer> Owned(DeviceBuffer* b) {
  return std::shared_ptr<DeviceBuffer>(b, [](DeviceBuffer* p) { p->owner()->Free(p); });
}

}  // namespace

Engine::Engine(EngineOptions options) : options_(options), compiler_(CacheDirFor(options)) {
  beam_width_ = options_.beam;
  if (const char* e = std::getenv("UOP_BEAM")) beam_width_ = std::atoi(e);
}

Engine::~Engine() {
  for (auto& [device, arenas] : arenas_)
    for (Arena& a : arenas)
      if (a.buffer) device->allocator().Free(a.buffer);
}

std::shared_ptr<Engine> Engine::Install(EngineOptions options) {
  auto engine = std::make_shared<Engine>(std::move(options));
  Tensor::SetRealizer(engine);
  return engine;
}

void Engine::SetRecorder(Recorder* recorder) {
  std::lock_guard<std::mutex> lock(mu_);
  recorder_ = recorder;
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  EngineStats s = stats_;
  s.compiler = compiler_.stats();
  return s;
}

absl::StatusOr<DeviceBuffer*> Engine::DeviceBufferFor(Storage& storage) {
  ASSIGN_OR_RETURN(Device * device, DeviceRegistry::Global().Get(storage.device()));
  if (!storage.device_handle) {
    ASSIGN_OR_RETURN(DeviceBuffer * b,
                     device->allocator().Alloc(std::max<int64_t>(storage.nbytes(), 1)));
    storage.device_handle = Owned(b);
    storage.device_valid = false;
  }
  auto* buf = static_cast<DeviceBuffer*>(storage.device_handle.get());
  if (!storage.device_valid && storage.host_valid) {
    RETURN_IF_ERROR(device->allocator().CopyIn(*buf, 0, storage.host));
    storage.device_valid = true;
  }
  return buf;
}

absl::Status Engine::CopyToHost(Storage& storage) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (recorder_) recorder_->OnHostRead(storage);
  }
  if (storage.host_valid) return absl::OkStatus();
  if (!storage.device_valid || !storage.device_handle) {
    return absl::FailedPreconditionError(
        absl::StrCat("CopyToHost: storage ", storage.id(), " is not realized"));
  }
  ASSIGN_OR_RETURN(Device * device, DeviceRegistry::Global().Get(storage.device()));
  storage.host.resize(storage.nbytes());
  auto* buf = static_cast<DeviceBuffer*>(storage.device_handle.get());
  RETURN_IF_ERROR(device->allocator().CopyOut(*buf, 0, absl::MakeSpan(storage.host)));
  storage.host_valid = true;
  return absl::OkStatus();
}

namespace {
int DebugLevel() {
  static const int level = [] {
    const char* e = std::getenv("UOP_DEBUG");
    return e ? std::atoi(e) : 0;
  }();
  return level;
}
}  // namespace

absl::Status Engine::RunLaunch(const RecordedLaunch& launch) {
  if (launch.is_copy) {
    DeviceBuffer& dst = *launch.bufs[0];
    const DeviceBuffer& src = *launch.bufs[1];
    size_t bytes = std::min(dst.size(), src.size());
    if (dst.owner() == src.owner()) {
      absl::Status st = dst.owner()->CopyBetween(dst, 0, src, 0, bytes);
      if (st.code() != absl::StatusCode::kUnimplemented) return st;
    }
    std::vector<uint8_t> staging(bytes);
    RETURN_IF_ERROR(src.owner()->CopyOut(src, 0, absl::MakeSpan(staging)));
    return dst.owner()->CopyIn(dst, 0, staging);
  }
  profiler::FlowScope prof_compile(launch.kernel->trace_id);  // launch -> its compile
  const ProgramSpec& spec = launch.kernel->spec;
  LaunchDims global{spec.global_size[0], spec.global_size[1], spec.global_size[2]};
  LaunchDims local{spec.local_size[0], spec.local_size[1], spec.local_size[2]};
  if (DebugLevel() < 2) return launch.kernel->program->Run(launch.bufs, {}, global, local);
  RunTiming timing;
  absl::Status st = launch.kernel->program->Run(launch.bufs, {}, global, local, &timing);
  const CompiledKernel& k = *launch.kernel;
  fprintf(stderr, "uop: %-32s run %8.3f ms  render %7.2f ms  %s %7.2f ms  %5zu source lines\n",
          k.spec.name.c_str(), timing.seconds * 1e3, k.render_seconds * 1e3,
          k.disk_cache_hit ? "load   " : "compile", k.compile_seconds * 1e3,
          static_cast<size_t>(std::count(k.spec.source.begin(), k.spec.source.end(), '\n')));
  if (DebugLevel() >= 3) {
    std::string path = absl::StrCat("/tmp/", k.spec.name, ".ll");
    if (FILE* f = fopen(path.c_str(), "w")) fputs(k.spec.source.c_str(), f), fclose(f);
  }
  return st;
}

absl::Status Engine::Replay(const std::vector<RecordedLaunch>& launches) {
  // On a GPU, one command buffer per replay: the queue turns a repeated
  // recording into a device graph (one launch instead of one per kernel).
  // The CPU runs kernels directly: a queue thread would only add latency.
  Device* gpu = nullptr;
  bool one_gpu = !launches.empty();
  for (const RecordedLaunch& l : launches) {
    if (l.is_copy || !l.kernel || l.kernel->device->info().language == "llvm-ir") {
      one_gpu = false;
      break;
    }
    if (gpu && gpu != l.kernel->device) one_gpu = false;
    gpu = l.kernel->device;
  }
  if (one_gpu && gpu) {
    ReplayQueue* rq;
    {
      std::lock_guard<std::mutex> lock(queues_mu_);
      rq = &queues_[gpu];
    }
    std::lock_guard<std::mutex> lock(rq->mu);
    if (!rq->queue) {
      ASSIGN_OR_RETURN(rq->queue, gpu->CreateQueue("jit"));
    }
    auto cmds = std::make_shared<CommandBuffer>();
    for (const RecordedLaunch& l : launches) {
      const ProgramSpec& spec = l.kernel->spec;
      cmds->Exec(l.kernel->program.get(), l.bufs, {},
                 LaunchDims{spec.global_size[0], spec.global_size[1], spec.global_size[2]},
                 LaunchDims{spec.local_size[0], spec.local_size[1], spec.local_size[2]});
    }
    RETURN_IF_ERROR(rq->queue->Submit(cmds));
    RETURN_IF_ERROR(rq->queue->Wait(absl::Seconds(60)));
  } else {
    std::lock_guard<std::mutex> lock(realize_mu_);
    for (const RecordedLaunch& l : launches) RETURN_IF_ERROR(RunLaunch(l));
  }
  std::lock_guard<std::mutex> s(mu_);
  stats_.kernels_run += launches.size();
  return absl::OkStatus();
}

absl::Status Engine::Realize(const UOpPtr& sink) {
  std::lock_guard<std::mutex> lock(realize_mu_);
  profiler::RequestSpan prof_realize("realize");
  Recorder* recorder;
  {
    std::lock_guard<std::mutex> s(mu_);
    recorder = recorder_;
    ++stats_.realizes;
  }
  profiler::Span prof_schedule("schedule");
  // Work that reads no buffer (aranges, constants) runs where the results
  // go: the device of the first target, not always the CPU.
  ScheduleOptions schedule_options;
  for (const UOp* u : sink->Toposort()) {
    if (u->op() == Op::kBuffer) {
      schedule_options.default_device = DeviceOf(*u);
      break;
    }
  }
  ASSIGN_OR_RETURN(Schedule schedule, CreateSchedule(sink, schedule_options));
  // CPU layout pass: large matmuls read their right-hand side in panels.
  PackPanelsOptions pack;
  pack.device_filter = [](absl::string_view name) {
    absl::StatusOr<Device*> d = DeviceRegistry::Global().Get(name);
    return d.ok() && (*d)->info().language == "llvm-ir";
  };
  RETURN_IF_ERROR(PackPanels(schedule, pack).status());
  ASSIGN_OR_RETURN(MemoryPlan plan, PlanMemory(schedule));
  prof_schedule.End();

  // Devices of the arenas, and of every item.
  std::vector<Device*> arena_devices;
  for (const MemoryArena& a : plan.arenas) {
    ASSIGN_OR_RETURN(Device * d, DeviceRegistry::Global().Get(a.device));
    arena_devices.push_back(d);
  }

  // Compile every kernel first, in parallel.
  std::vector<std::shared_ptr<CompiledKernel>> kernels(schedule.items.size());
  std::vector<absl::Status> errors(schedule.items.size());
  {
    std::vector<int> todo;
    for (size_t i = 0; i < schedule.items.size(); ++i)
      if (schedule.items[i].kind == ScheduleItem::Kind::kKernel)
        todo.push_back(static_cast<int>(i));
    std::atomic<size_t> next{0};
    const uint64_t prof_request = profiler::CurrentFlow();
    auto work = [&] {
      profiler::FlowScope prof_flow(prof_request);  // compiles on pool threads -> the request
      for (size_t j; (j = next.fetch_add(1)) < todo.size();) {
        const ScheduleItem& item = schedule.items[todo[j]];
        absl::StatusOr<Device*> device = DeviceRegistry::Global().Get(DeviceOf(*item.bufs[0]));
        if (!device.ok()) {
          errors[todo[j]] = device.status();
          continue;
        }
        std::optional<std::vector<Opt>> opts;
        if (beam_width_ > 0) {
          BeamOptions bo{beam_width_, options_.beam_budget, CacheDirFor(options_)};
          absl::StatusOr<BeamResult> found = BeamSearch(item.ast, **device, compiler_, bo);
          if (found.ok()) opts = found->opts;  // else fall back to the heuristics
        }
        absl::StatusOr<std::shared_ptr<CompiledKernel>> k = compiler_.Get(item.ast, **device, opts);
        if (k.ok()) {
          kernels[todo[j]] = *std::move(k);
        } else {
          errors[todo[j]] = k.status();
        }
      }
    };
    int threads =
        std::min<int>(std::max(1, options_.compile_threads), static_cast<int>(todo.size()));
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();
    for (size_t i = 0; i < errors.size(); ++i) {
      if (!errors[i].ok()) {
        return absl::Status(
            errors[i].code(),
            absl::StrCat("compiling kernel for ",
                         schedule.items[i].root ? schedule.items[i].root->ShortString() : "?", ": ",
                         errors[i].message()));
      }
    }
  }

  // Intermediate memory: the engine's reusable arenas, or fresh ones owned by
  // the recorder so recorded launches stay valid.
  absl::flat_hash_map<int64_t, DeviceBuffer*> buffers;
  // Arena of each intermediate, with a process-unique id per arena of this realize.
  static std::atomic<int64_t> next_arena_uid{1};
  std::vector<int64_t> arena_uids(plan.arenas.size());
  for (int64_t& uid : arena_uids) uid = next_arena_uid.fetch_add(1);
  std::vector<std::unique_ptr<DeviceBuffer>> views;
  std::vector<DeviceBuffer*> arena_bufs(plan.arenas.size(), nullptr);
  for (size_t a = 0; a < plan.arenas.size(); ++a) {
    Device* device = arena_devices[a];
    int64_t size = std::max<int64_t>(plan.arenas[a].size, 1);
    if (recorder) {
      ASSIGN_OR_RETURN(DeviceBuffer * b, device->allocator().Alloc(size));
      recorder->KeepAlive(Owned(b));
      recorder->OnArena(arena_uids[a], *device, size);
      arena_bufs[a] = b;
      continue;
    }
    std::vector<Arena>& list = arenas_[device];
    // One engine arena per (device, arena index within the device).
    int index = 0;
    for (size_t p = 0; p < a; ++p) index += arena_devices[p] == device;
    if (static_cast<int>(list.size()) <= index) list.resize(index + 1);
    Arena& arena = list[index];
    if (!arena.buffer || static_cast<int64_t>(arena.buffer->size()) < size) {
      if (arena.buffer) device->allocator().Free(arena.buffer);
      arena.buffer = nullptr;
      ASSIGN_OR_RETURN(arena.buffer, device->allocator().Alloc(size));
    }
    arena_bufs[a] = arena.buffer;
  }
  for (const auto& [id, place] : plan.placements) {
    ASSIGN_OR_RETURN(std::unique_ptr<DeviceBuffer> view,
                     MakeSubBuffer(*arena_bufs[place.arena], place.offset, place.nbytes));
    views.push_back(std::move(view));
    buffers[id] = views.back().get();
  }
  if (recorder) {
    auto keep = std::make_shared<std::vector<std::unique_ptr<DeviceBuffer>>>(std::move(views));
    recorder->KeepAlive(keep);
  }

  // External buffers (inputs, ASSIGN targets): their storages.
  std::vector<std::shared_ptr<Storage>> written;
  for (const ScheduleBuffer& b : schedule.buffers) {
    int64_t id = BufferId(*b.buffer);
    if (buffers.count(id)) continue;
    std::shared_ptr<Storage> storage = LookupStorage(id);
    if (!storage) {
      return absl::InternalError(
          absl::StrCat("Realize: buffer ", id, " (", b.buffer->ShortString(), ") has no storage"));
    }
    ASSIGN_OR_RETURN(DeviceBuffer * dbuf, DeviceBufferFor(*storage));
    buffers[id] = dbuf;
    // A capture replays against this buffer later: keep it alive even if
    // the tensor that owned it (a temporary of the captured function) dies.
    if (recorder) recorder->KeepAlive(storage);
    written.push_back(storage);
  }

  // Run.
  absl::flat_hash_set<int64_t> written_ids;
  for (size_t i = 0; i < schedule.items.size(); ++i) {
    const ScheduleItem& item = schedule.items[i];
    RecordedLaunch launch;
    launch.kernel = kernels[i];
    launch.is_copy = item.kind == ScheduleItem::Kind::kCopy;
    for (const UOpPtr& b : item.bufs) {
      launch.bufs.push_back(buffers.at(BufferId(*b)));
      launch.buffer_ids.push_back(BufferId(*b));
      auto place = plan.placements.find(BufferId(*b));
      launch.arena_ids.push_back(place == plan.placements.end() ? -1
                                                                : arena_uids[place->second.arena]);
      launch.arena_offsets.push_back(place == plan.placements.end() ? -1 : place->second.offset);
    }
    for (int o = 0; o < item.num_outputs; ++o) written_ids.insert(BufferId(*item.bufs[o]));
    RETURN_IF_ERROR(RunLaunch(launch));
    if (recorder) recorder->OnLaunch(launch);
  }
  for (const std::shared_ptr<Storage>& s : written) {
    if (written_ids.count(s->id())) {
      s->device_valid = true;
      s->host_valid = false;
    }
  }
  std::lock_guard<std::mutex> s(mu_);
  for (const ScheduleItem& item : schedule.items)
    (item.kind == ScheduleItem::Kind::kCopy ? stats_.copies : stats_.kernels_run)++;
  return absl::OkStatus();
}

}  // namespace uop
