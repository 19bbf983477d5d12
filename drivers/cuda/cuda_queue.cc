#include "drivers/cuda/cuda_queue.h"

#include <cstring>
#include <variant>

#include "absl/strings/str_cat.h"
#include "drivers/cuda/cuda_device.h"
#include "runtime/base/status_macros.h"

namespace uop::cuda {
namespace {

// [Wait...] [Exec...] [SignalValue...] with at least one Exec: the shape a
// CUDA graph replays. Returns the Exec range.
bool GraphShape(const CommandBuffer& cb, size_t* first, size_t* end) {
  const std::vector<Command>& c = cb.commands();
  size_t i = 0;
  while (i < c.size() && std::holds_alternative<WaitCommand>(c[i])) ++i;
  *first = i;
  while (i < c.size() && std::holds_alternative<ExecCommand>(c[i])) ++i;
  *end = i;
  while (i < c.size() && std::holds_alternative<SignalCommand>(c[i])) ++i;
  return i == c.size() && *end > *first;
}

CudaKernelNodeParams NodeParams(const CudaProgram& p, const ExecCommand& e, LaunchParams& params) {
  CudaKernelNodeParams n{};
  n.func = p.function();
  n.grid_x = static_cast<unsigned>(e.global.x);
  n.grid_y = static_cast<unsigned>(e.global.y);
  n.grid_z = static_cast<unsigned>(e.global.z);
  n.block_x = static_cast<unsigned>(e.local.x);
  n.block_y = static_cast<unsigned>(e.local.y);
  n.block_z = static_cast<unsigned>(e.local.z);
  n.shared_bytes = static_cast<unsigned>(p.abi().shared_bytes);
  n.kernel_params = params.pointers.data();
  return n;
}

}  // namespace

struct CudaQueue::Graph {
  int submissions = 0;
  uint64_t last_use = 0;
  CUgraph graph = nullptr;
  CUgraphExec exec = nullptr;
  std::vector<CUgraphNode> nodes;
  std::vector<absl::InlinedVector<uint64_t, 12>> values;  // arguments as last launched
};

namespace {

// The structure a graph replays: programs and launch dims, in order.
std::string StructureKey(const CommandBuffer& cb, size_t first, size_t end) {
  std::string key;
  key.reserve((end - first) * 56);
  for (size_t i = first; i < end; ++i) {
    const auto& e = std::get<ExecCommand>(cb.commands()[i]);
    const auto* p = dynamic_cast<const CudaProgram*>(e.program);
    const int64_t item[] = {p != nullptr ? static_cast<int64_t>(p->serial()) : -1,
                            e.global.x,
                            e.global.y,
                            e.global.z,
                            e.local.x,
                            e.local.y,
                            e.local.z};
    key.append(reinterpret_cast<const char*>(item), sizeof(item));
  }
  return key;
}

}  // namespace

CudaQueue::CudaQueue(CudaDevice* device, std::string name, const QueueOptions& options)
    : device_(device),
      name_(std::move(name)),
      options_(options),
      done_(device->name(), name_ + "/done", 0) {
  done_.set_expected_signaler(name_);
}

absl::StatusOr<std::unique_ptr<CudaQueue>> CudaQueue::Create(CudaDevice* device, std::string name,
                                                             const QueueOptions& options) {
  RETURN_IF_ERROR(ValidateWaitTimeout(options.wait_timeout, absl::StrCat("queue '", name, "'")));
  std::unique_ptr<CudaQueue> q(new CudaQueue(device, std::move(name), options));
  q->stream_ = std::make_unique<CudaStream>(device->context(), q->name_);
  RETURN_IF_ERROR(q->stream_->Init());
  CudaQueue* raw = q.get();
  q->thread_ = std::thread([raw] { raw->Loop(); });
  return q;
}

CudaQueue::~CudaQueue() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_.notify_one();
  thread_.join();
  (void)stream_->Synchronize(options_.wait_timeout, "queue destructor");
  (void)device_->context().MakeCurrent();
  for (auto& [key, g] : graphs_) DestroyGraph(*g);
}

absl::Status CudaQueue::Submit(std::shared_ptr<const CommandBuffer> commands) {
  if (commands == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("queue '", name_, "': null command buffer"));
  }
  RETURN_IF_ERROR(commands->Validate(name_));
  std::unique_lock<std::mutex> lock(mu_);
  if (!error_.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("queue '", name_, "' failed earlier: ", error_.message()));
  }
  if (stop_) return absl::FailedPreconditionError(absl::StrCat("queue '", name_, "' is stopping"));
  for (const Command& c : commands->commands()) {
    if (const auto* s = std::get_if<SignalCommand>(&c)) s->signal->set_expected_signaler(name_);
  }
  pending_.push_back(std::move(commands));
  ++submitted_;
  lock.unlock();
  work_.notify_one();
  return absl::OkStatus();
}

absl::Status CudaQueue::Wait(absl::Duration timeout) {
  uint64_t target;
  {
    std::lock_guard<std::mutex> lock(mu_);
    target = submitted_;
  }
  absl::Status st =
      done_.Wait(target, timeout, absl::StrCat("host waiting on queue '", name_, "'"));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
  }
  RETURN_IF_ERROR(stream_->Query());  // a faulting kernel, rather than the timeout it caused
  return st;
}

CudaQueueStats CudaQueue::stats() const {
  return CudaQueueStats{graphs_built_.load(), graph_launches_.load(), nodes_updated_.load(),
                        direct_launches_.load()};
}

void CudaQueue::Loop() {
  (void)device_->context().MakeCurrent();
  for (;;) {
    std::shared_ptr<const CommandBuffer> cb;
    bool failed;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [this] { return !pending_.empty() || stop_; });
      if (pending_.empty()) return;  // stop_ and drained
      cb = std::move(pending_.front());
      pending_.pop_front();
      failed = !error_.ok();
    }
    if (!failed) {
      absl::Status st = Execute(cb);
      if (!st.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        if (error_.ok()) error_ = st;
      }
    }
    // `done` advances once the GPU has finished this buffer's work.
    ++taken_;
    absl::Status st = stream_->EnqueueSet(&done_, taken_);
    if (!st.ok()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (error_.ok()) error_ = st;
      }
      (void)done_.Set(taken_);
    }
  }
}

absl::Status CudaQueue::Execute(const std::shared_ptr<const CommandBuffer>& cb) {
  const std::string waiter = absl::StrCat("queue '", name_, "'");
  ASSIGN_OR_RETURN(Graph * g, GraphFor(*cb));
  if (g == nullptr) {
    for (const Command& c : cb->commands()) RETURN_IF_ERROR(ExecuteCommand(c, waiter));
    return absl::OkStatus();
  }
  size_t first, end;
  GraphShape(*cb, &first, &end);
  for (size_t i = 0; i < first; ++i) RETURN_IF_ERROR(ExecuteCommand(cb->commands()[i], waiter));
  RETURN_IF_ERROR(LaunchGraph(*g, *cb));
  for (size_t i = end; i < cb->commands().size(); ++i) {
    RETURN_IF_ERROR(ExecuteCommand(cb->commands()[i], waiter));
  }
  return absl::OkStatus();
}

absl::Status CudaQueue::ExecuteCommand(const Command& c, const std::string& waiter) {
  if (const auto* e = std::get_if<ExecCommand>(&c)) {
    auto* p = dynamic_cast<CudaProgram*>(e->program);
    if (p == nullptr || p->device() != device_) {
      return absl::InvalidArgumentError(absl::StrCat(waiter, ": program '", e->program->desc().name,
                                                     "' was not loaded by ", device_->name()));
    }
    ++direct_launches_;
    return p->Enqueue(stream_->get(), e->bufs, e->vars, e->global, e->local);
  }
  if (const auto* cp = std::get_if<CopyCommand>(&c)) return Copy(*cp);
  if (const auto* w = std::get_if<WaitCommand>(&c)) {
    return w->signal->Wait(w->value, w->timeout.value_or(options_.wait_timeout), waiter);
  }
  const auto& s = std::get<SignalCommand>(c);
  return stream_->EnqueueSet(s.signal, s.value);
}

absl::Status CudaQueue::Copy(const CopyCommand& c) {
  if (c.bytes == 0) return absl::OkStatus();
  const CudaContext& ctx = device_->context();
  const Allocator* mine = &device_->allocator();
  const bool dst_mine = c.dst->owner() == mine, src_mine = c.src->owner() == mine;
  CUstream s = stream_->get();
  if (dst_mine && src_mine) {
    return ctx.Check(ctx.api->cuMemcpyDtoDAsync(c.dst->device_address() + c.dst_offset,
                                                c.src->device_address() + c.src_offset, c.bytes, s),
                     "cuMemcpyDtoDAsync");
  }
  // Host memory of another device (Validate made sure it is host-visible).
  if (dst_mine) {
    return ctx.Check(ctx.api->cuMemcpyHtoDAsync(
                         c.dst->device_address() + c.dst_offset,
                         static_cast<const uint8_t*>(c.src->host_ptr()) + c.src_offset, c.bytes, s),
                     "cuMemcpyHtoDAsync");
  }
  if (src_mine) {
    return ctx.Check(
        ctx.api->cuMemcpyDtoHAsync(static_cast<uint8_t*>(c.dst->host_ptr()) + c.dst_offset,
                                   c.src->device_address() + c.src_offset, c.bytes, s),
        "cuMemcpyDtoHAsync");
  }
  // Neither is ours: a host copy once the work before it is done.
  RETURN_IF_ERROR(stream_->Synchronize(options_.wait_timeout, absl::StrCat("queue '", name_, "'")));
  std::memmove(static_cast<uint8_t*>(c.dst->host_ptr()) + c.dst_offset,
               static_cast<const uint8_t*>(c.src->host_ptr()) + c.src_offset, c.bytes);
  return absl::OkStatus();
}

absl::StatusOr<CudaQueue::Graph*> CudaQueue::GraphFor(const CommandBuffer& cb) {
  size_t first, end;
  if (!GraphShape(cb, &first, &end)) return nullptr;
  std::string key = StructureKey(cb, first, end);
  auto it = graphs_.find(key);
  if (it == graphs_.end()) {
    if (graphs_.size() >= kMaxGraphs) {
      auto oldest = graphs_.begin();
      for (auto g = graphs_.begin(); g != graphs_.end(); ++g)
        if (g->second->last_use < oldest->second->last_use) oldest = g;
      DestroyGraph(*oldest->second);
      graphs_.erase(oldest);
    }
    it = graphs_.emplace(std::move(key), std::make_unique<Graph>()).first;
  }
  Graph& g = *it->second;
  g.last_use = ++clock_;
  if (++g.submissions < 2) return nullptr;  // once is not a pattern: launch directly
  if (g.exec != nullptr) return &g;
  const CudaContext& ctx = device_->context();
  RETURN_IF_ERROR(ctx.Check(ctx.api->cuGraphCreate(&g.graph, 0), "cuGraphCreate"));
  for (size_t i = first; i < end; ++i) {
    const auto& e = std::get<ExecCommand>(cb.commands()[i]);
    auto* p = dynamic_cast<CudaProgram*>(e.program);
    if (p == nullptr || p->device() != device_) {
      DestroyGraph(g);
      return absl::InvalidArgumentError(absl::StrCat("queue '", name_, "': program '",
                                                     e.program->desc().name, "' was not loaded by ",
                                                     device_->name()));
    }
    LaunchParams params;
    absl::Status st = p->Prepare(e.bufs, e.vars, e.global, e.local, &params);
    CudaKernelNodeParams node_params = NodeParams(*p, e, params);
    CUgraphNode node = nullptr;
    const CUgraphNode* dep = g.nodes.empty() ? nullptr : &g.nodes.back();
    if (st.ok()) {
      st = ctx.Check(ctx.api->cuGraphAddKernelNode(&node, g.graph, dep, dep ? 1 : 0, &node_params),
                     "cuGraphAddKernelNode");
    }
    if (!st.ok()) {
      DestroyGraph(g);
      return st;
    }
    g.nodes.push_back(node);
    g.values.push_back(params.values);
  }
  absl::Status st = ctx.Check(ctx.api->cuGraphInstantiateWithFlags(&g.exec, g.graph, 0),
                              "cuGraphInstantiateWithFlags");
  if (!st.ok()) {
    DestroyGraph(g);
    return st;
  }
  ++graphs_built_;
  return &g;
}

absl::Status CudaQueue::LaunchGraph(Graph& g, const CommandBuffer& cb) {
  const CudaContext& ctx = device_->context();
  size_t first, end;
  GraphShape(cb, &first, &end);
  for (size_t i = first; i < end; ++i) {
    const auto& e = std::get<ExecCommand>(cb.commands()[i]);
    const size_t n = i - first;
    auto* p = static_cast<CudaProgram*>(e.program);
    LaunchParams params;
    RETURN_IF_ERROR(p->Prepare(e.bufs, e.vars, e.global, e.local, &params));
    if (params.values == g.values[n]) continue;  // dims are part of the key
    CudaKernelNodeParams node_params = NodeParams(*p, e, params);
    RETURN_IF_ERROR(
        ctx.Check(ctx.api->cuGraphExecKernelNodeSetParams(g.exec, g.nodes[n], &node_params),
                  "cuGraphExecKernelNodeSetParams"));
    g.values[n] = params.values;
    ++nodes_updated_;
  }
  ++graph_launches_;
  return ctx.Check(ctx.api->cuGraphLaunch(g.exec, stream_->get()), "cuGraphLaunch");
}

void CudaQueue::DestroyGraph(Graph& g) {
  const CudaContext& ctx = device_->context();
  if (g.exec != nullptr) ctx.api->cuGraphExecDestroy(g.exec);
  if (g.graph != nullptr) ctx.api->cuGraphDestroy(g.graph);
  g.exec = nullptr;
  g.graph = nullptr;
  g.nodes.clear();
  g.values.clear();
}

}  // namespace uop::cuda
