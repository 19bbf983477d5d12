#include "runtime/engine/artifact.h"

#include <cstring>
#include <deque>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "drivers/sha256.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

constexpr char kMagic[8] = {'U', 'O', 'P', 'A', 'O', 'T', 0, 1};
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 32 + 8;
// Guards against absurd counts in a corrupt file before allocating.
constexpr uint64_t kMaxCount = 1u << 24;

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) { Raw(&v, 4); }
  void U64(uint64_t v) { Raw(&v, 8); }
  void I64(int64_t v) { Raw(&v, 8); }
  void Str(absl::string_view s) {
    U64(s.size());
    out_.append(s.data(), s.size());
  }
  void Bytes(absl::Span<const uint8_t> b) {
    U64(b.size());
    out_.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  void Raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(absl::string_view in) : in_(in) {}
  absl::StatusOr<uint8_t> U8(const char* what) {
    uint8_t v;
    RETURN_IF_ERROR(Raw(&v, 1, what));
    return v;
  }
  absl::StatusOr<uint32_t> U32(const char* what) {
    uint32_t v;
    RETURN_IF_ERROR(Raw(&v, 4, what));
    return v;
  }
  absl::StatusOr<uint64_t> U64(const char* what) {
    uint64_t v;
    RETURN_IF_ERROR(Raw(&v, 8, what));
    return v;
  }
  absl::StatusOr<int64_t> I64(const char* what) {
    int64_t v;
    RETURN_IF_ERROR(Raw(&v, 8, what));
    return v;
  }
  absl::StatusOr<uint64_t> Count(const char* what) {
    ASSIGN_OR_RETURN(uint64_t n, U64(what));
    if (n > kMaxCount) return Bad(absl::StrCat(what, " count ", n, " is implausible"));
    return n;
  }
  // A view into the input: no copy.
  absl::StatusOr<absl::string_view> View(const char* what) {
    ASSIGN_OR_RETURN(uint64_t n, U64(what));
    if (n > in_.size() - pos_)
      return Bad(absl::StrCat(what, " of ", n, " bytes runs past the end"));
    absl::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  absl::StatusOr<std::string> Str(const char* what) {
    ASSIGN_OR_RETURN(absl::string_view s, View(what));
    return std::string(s);
  }
  absl::StatusOr<absl::Span<const uint8_t>> Bytes(const char* what) {
    ASSIGN_OR_RETURN(absl::string_view s, View(what));
    return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  absl::Status Raw(void* p, size_t n, const char* what) {
    if (n > in_.size() - pos_) return Bad(absl::StrCat("truncated while reading ", what));
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
    return absl::OkStatus();
  }
  absl::Status Bad(const std::string& why) const {
    return absl::InvalidArgumentError(
        absl::StrCat("artifact: ", why, " (payload offset ", pos_, ")"));
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  absl::string_view in_;
  size_t pos_ = 0;
};

void WriteTensor(Writer& w, const ArtifactTensor& t) {
  w.Str(t.name);
  w.U8(static_cast<uint8_t>(t.dtype.scalar_type()));
  w.U64(t.shape.size());
  for (int64_t d : t.shape) w.I64(d);
  w.U32(static_cast<uint32_t>(t.buffer));
}

absl::StatusOr<ArtifactTensor> ReadTensor(Reader& r, size_t num_buffers) {
  ArtifactTensor t;
  ASSIGN_OR_RETURN(t.name, r.Str("tensor name"));
  ASSIGN_OR_RETURN(uint8_t dt, r.U8("tensor dtype"));
  if (dt == 0 || dt >= kNumScalarTypes)
    return r.Bad(absl::StrCat("tensor '", t.name, "' has dtype code ", dt));
  t.dtype = DType(static_cast<ScalarType>(dt));
  ASSIGN_OR_RETURN(uint64_t rank, r.Count("tensor rank"));
  for (uint64_t i = 0; i < rank; ++i) {
    ASSIGN_OR_RETURN(int64_t d, r.I64("tensor dim"));
    if (d < 0) return r.Bad(absl::StrCat("tensor '", t.name, "' has a negative dim"));
    t.shape.push_back(d);
  }
  ASSIGN_OR_RETURN(uint32_t b, r.U32("tensor buffer"));
  if (b >= num_buffers) return r.Bad(absl::StrCat("tensor '", t.name, "' names buffer ", b));
  t.buffer = static_cast<int>(b);
  return t;
}

// The storage behind a realized tensor (RESHAPEs of one BUFFER).
std::shared_ptr<Storage> StorageOfTensor(const Tensor& t) {
  const UOp* u = t.uop().get();
  while (u->op() == Op::kReshape) u = u->src(0).get();
  return u->op() == Op::kBuffer ? LookupStorage(u->arg().get<BufferArg>().id) : nullptr;
}

}  // namespace

absl::StatusOr<Artifact> Artifact::FromJit(const Jit& jit, Engine& engine,
                                           std::vector<std::string> input_names,
                                           std::vector<std::string> output_names) {
  if (!jit.captured())
    return absl::FailedPreconditionError("artifact: the Jit has not captured yet (call it twice)");
  Artifact a;
  // Weights and binaries are copied here once; the artifact's views point
  // into it (deque: elements never move).
  auto owned = std::make_shared<std::deque<std::string>>();
  auto keep = [&owned](absl::string_view bytes) -> absl::string_view {
    return owned->emplace_back(bytes);
  };
  absl::flat_hash_map<int64_t, int> by_storage;  // storage id -> buffer index
  absl::flat_hash_map<int64_t, int> arena_index;
  absl::flat_hash_map<std::pair<int64_t, int64_t>, int> scratch;  // (arena, offset) -> buffer
  Device* device = nullptr;
  for (const auto& [id, info] : jit.arenas()) {
    arena_index[id] = static_cast<int>(a.arenas.size());
    a.arenas.push_back(info.bytes);
  }
  const std::vector<int64_t>& input_ids = jit.input_storage_ids();
  for (size_t i = 0; i < input_ids.size(); ++i) {
    std::shared_ptr<Storage> s = LookupStorage(input_ids[i]);
    if (!s) return absl::InternalError("artifact: an input storage is gone");
    by_storage[input_ids[i]] = static_cast<int>(a.buffers.size());
    a.buffers.push_back({ArtifactBuffer::Kind::kInput, s->nbytes()});
  }
  for (size_t i = 0; i < jit.outputs().size(); ++i) {
    std::shared_ptr<Storage> s = StorageOfTensor(jit.outputs()[i]);
    if (!s)
      return absl::FailedPreconditionError(
          absl::StrCat("artifact: output ", i, " is not a whole buffer"));
    if (!by_storage.count(s->id())) {
      by_storage[s->id()] = static_cast<int>(a.buffers.size());
      a.buffers.push_back({ArtifactBuffer::Kind::kOutput, s->nbytes()});
    }
    ArtifactTensor t{
        i < output_names.size() ? output_names[i] : absl::StrCat("output_", i), s->dtype(),
        std::vector<int64_t>(jit.outputs()[i].shape().begin(), jit.outputs()[i].shape().end()),
        by_storage[s->id()]};
    a.outputs.push_back(std::move(t));
  }
  std::vector<std::shared_ptr<CompiledKernel>> kernels;
  absl::flat_hash_map<const CompiledKernel*, int> kernel_index;
  for (const RecordedLaunch& l : jit.launches()) {
    ArtifactLaunch launch;
    launch.is_copy = l.is_copy;
    if (!l.is_copy) {
      auto [it, fresh] = kernel_index.try_emplace(l.kernel.get(), static_cast<int>(kernels.size()));
      if (fresh) kernels.push_back(l.kernel);
      launch.kernel = it->second;
      if (!device) device = l.kernel->device;
    }
    for (size_t s = 0; s < l.buffer_ids.size(); ++s) {
      if (l.arena_ids[s] >= 0) {
        auto key = std::make_pair(l.arena_ids[s], l.arena_offsets[s]);
        auto [it, fresh] = scratch.try_emplace(key, static_cast<int>(a.buffers.size()));
        if (fresh) {
          ArtifactBuffer b{ArtifactBuffer::Kind::kScratch, static_cast<int64_t>(l.bufs[s]->size())};
          b.arena = arena_index.at(l.arena_ids[s]);
          b.offset = l.arena_offsets[s];
          a.buffers.push_back(std::move(b));
        } else {
          // Intermediates of different sizes can share an arena offset (the
          // planner reuses memory by lifetime): the view covers the largest.
          ArtifactBuffer& b = a.buffers[it->second];
          b.bytes = std::max<int64_t>(b.bytes, static_cast<int64_t>(l.bufs[s]->size()));
        }
        launch.buffers.push_back(it->second);
        continue;
      }
      int64_t id = l.buffer_ids[s];
      auto it = by_storage.find(id);
      if (it == by_storage.end()) {
        // Weights and state: their current contents travel in the file.
        std::shared_ptr<Storage> st = LookupStorage(id);
        if (!st) return absl::InternalError(absl::StrCat("artifact: storage ", id, " is gone"));
        RETURN_IF_ERROR(engine.CopyToHost(*st));
        ArtifactBuffer b{ArtifactBuffer::Kind::kState, st->nbytes()};
        absl::string_view kept =
            keep({reinterpret_cast<const char*>(st->host.data()), st->host.size()});
        b.data = {reinterpret_cast<const uint8_t*>(kept.data()), kept.size()};
        it = by_storage.emplace(id, static_cast<int>(a.buffers.size())).first;
        a.buffers.push_back(std::move(b));
      }
      launch.buffers.push_back(it->second);
    }
    a.launches.push_back(std::move(launch));
  }
  for (size_t i = 0; i < input_ids.size(); ++i) {
    std::shared_ptr<Storage> s = LookupStorage(input_ids[i]);
    const Shape& shape = jit.input_shapes()[i];
    a.inputs.push_back({i < input_names.size() ? input_names[i] : absl::StrCat("input_", i),
                        s->dtype(), std::vector<int64_t>(shape.begin(), shape.end()),
                        by_storage[input_ids[i]]});
  }
  for (const auto& k : kernels) {
    ArtifactKernel ak;
    ak.name = k->spec.name;
    ak.binary = keep(k->binary);
    for (const ProgramBuffer& b : k->spec.buffers)
      ak.buffer_bytes.push_back(static_cast<uint64_t>(b.size) * b.dtype.itemsize());
    ak.num_vars = static_cast<int>(k->spec.vars.size());
    ak.global = k->spec.global_size;
    ak.local = k->spec.local_size;
    a.kernels.push_back(std::move(ak));
  }
  if (!device)
    return absl::FailedPreconditionError("artifact: the captured function runs no kernel");
  a.device = device->name();
  a.compiler_key = device->compiler().CacheKey();
  a.storage = std::move(owned);
  return a;
}

absl::StatusOr<std::string> Artifact::Serialize() const {
  Writer w;
  w.Str(device);
  w.Str(compiler_key);
  w.U64(arenas.size());
  for (int64_t b : arenas) w.I64(b);
  w.U64(buffers.size());
  for (const ArtifactBuffer& b : buffers) {
    w.U8(static_cast<uint8_t>(b.kind));
    w.I64(b.bytes);
    w.I64(b.arena);
    w.I64(b.offset);
    w.Bytes(b.data);
  }
  w.U64(inputs.size());
  for (const ArtifactTensor& t : inputs) WriteTensor(w, t);
  w.U64(outputs.size());
  for (const ArtifactTensor& t : outputs) WriteTensor(w, t);
  w.U64(kernels.size());
  for (const ArtifactKernel& k : kernels) {
    w.Str(k.name);
    w.Str(k.binary);
    w.U64(k.buffer_bytes.size());
    for (uint64_t b : k.buffer_bytes) w.U64(b);
    w.U32(static_cast<uint32_t>(k.num_vars));
    for (int64_t g : k.global) w.I64(g);
    for (int64_t l : k.local) w.I64(l);
  }
  w.U64(launches.size());
  for (const ArtifactLaunch& l : launches) {
    w.U8(l.is_copy);
    w.I64(l.kernel);
    w.U64(l.buffers.size());
    for (int b : l.buffers) w.U32(static_cast<uint32_t>(b));
  }
  std::string payload = std::move(w.out());
  Writer h;
  h.Raw(kMagic, sizeof(kMagic));
  h.U32(kFormatVersion);
  h.U32(0);
  Sha256::Digest d = Sha256::Of(payload);
  h.Raw(d.data(), d.size());
  h.U64(payload.size());
  return h.out() + payload;
}

absl::StatusOr<Artifact> Artifact::Parse(absl::string_view bytes) {
  auto copy = std::make_shared<const std::string>(bytes);
  absl::string_view view = *copy;
  return Parse(view, std::move(copy));
}

absl::StatusOr<Artifact> Artifact::Parse(absl::string_view bytes,
                                         std::shared_ptr<const void> storage) {
  ASSIGN_OR_RETURN(absl::string_view payload, Verify(bytes));
  return ParsePayload(payload, std::move(storage));
}

absl::StatusOr<absl::string_view> Artifact::Verify(absl::string_view bytes) {
  ASSIGN_OR_RETURN(absl::string_view payload, CheckHeader(bytes));
  RETURN_IF_ERROR(CheckChecksum(bytes));
  return payload;
}

absl::Status Artifact::CheckChecksum(absl::string_view bytes) {
  ASSIGN_OR_RETURN(absl::string_view payload, CheckHeader(bytes));
  Sha256::Digest want;
  std::memcpy(want.data(), bytes.data() + 16, 32);
  if (Sha256::Of(payload) != want)
    return absl::InvalidArgumentError("artifact: checksum mismatch (corrupt file)");
  return absl::OkStatus();
}

absl::StatusOr<absl::string_view> Artifact::CheckHeader(absl::string_view bytes) {
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("artifact: not a uop artifact (bad magic or shorter than its ", kHeaderBytes,
                     "-byte header: ", bytes.size(), " bytes)"));
  }
  uint32_t version;
  std::memcpy(&version, bytes.data() + 8, 4);
  if (version != kFormatVersion) {
    return absl::InvalidArgumentError(absl::StrCat("artifact: format version ", version,
                                                   ", this build reads version ", kFormatVersion));
  }
  uint32_t reserved;
  std::memcpy(&reserved, bytes.data() + 12, 4);
  if (reserved != 0) {
    return absl::InvalidArgumentError(absl::StrCat("artifact: header reserved field is ", reserved,
                                                   ", expected 0 (corrupt file)"));
  }
  uint64_t length;
  std::memcpy(&length, bytes.data() + 48, 8);
  absl::string_view payload = bytes.substr(kHeaderBytes);
  if (payload.size() != length) {
    return absl::InvalidArgumentError(absl::StrCat("artifact: payload is ", payload.size(),
                                                   " bytes, header says ", length,
                                                   " (truncated or padded file)"));
  }
  return payload;
}

absl::StatusOr<Artifact> Artifact::ParsePayload(absl::string_view payload,
                                                std::shared_ptr<const void> storage) {
  Reader r(payload);
  Artifact a;
  ASSIGN_OR_RETURN(a.device, r.Str("device"));
  ASSIGN_OR_RETURN(a.compiler_key, r.Str("compiler key"));
  ASSIGN_OR_RETURN(uint64_t n_arenas, r.Count("arenas"));
  for (uint64_t i = 0; i < n_arenas; ++i) {
    ASSIGN_OR_RETURN(int64_t b, r.I64("arena size"));
    if (b < 0) return r.Bad("negative arena size");
    a.arenas.push_back(b);
  }
  ASSIGN_OR_RETURN(uint64_t n_buffers, r.Count("buffers"));
  for (uint64_t i = 0; i < n_buffers; ++i) {
    ArtifactBuffer b;
    ASSIGN_OR_RETURN(uint8_t kind, r.U8("buffer kind"));
    if (kind > static_cast<uint8_t>(ArtifactBuffer::Kind::kScratch))
      return r.Bad("unknown buffer kind");
    b.kind = static_cast<ArtifactBuffer::Kind>(kind);
    ASSIGN_OR_RETURN(b.bytes, r.I64("buffer bytes"));
    ASSIGN_OR_RETURN(int64_t arena, r.I64("buffer arena"));
    ASSIGN_OR_RETURN(b.offset, r.I64("buffer offset"));
    ASSIGN_OR_RETURN(b.data, r.Bytes("buffer data"));
    if (b.bytes < 0) return r.Bad("negative buffer size");
    if (b.kind == ArtifactBuffer::Kind::kScratch) {
      if (arena < 0 || arena >= static_cast<int64_t>(a.arenas.size()) || b.offset < 0 ||
          b.offset + b.bytes > a.arenas[arena]) {
        return r.Bad(absl::StrCat("scratch buffer ", i, " lies outside its arena"));
      }
    }
    if (b.kind == ArtifactBuffer::Kind::kState && static_cast<int64_t>(b.data.size()) != b.bytes) {
      return r.Bad(
          absl::StrCat("state buffer ", i, " holds ", b.data.size(), " bytes, expected ", b.bytes));
    }
    b.arena = static_cast<int>(arena);
    a.buffers.push_back(std::move(b));
  }
  ASSIGN_OR_RETURN(uint64_t n_in, r.Count("inputs"));
  for (uint64_t i = 0; i < n_in; ++i) {
    ASSIGN_OR_RETURN(ArtifactTensor t, ReadTensor(r, a.buffers.size()));
    a.inputs.push_back(std::move(t));
  }
  ASSIGN_OR_RETURN(uint64_t n_out, r.Count("outputs"));
  for (uint64_t i = 0; i < n_out; ++i) {
    ASSIGN_OR_RETURN(ArtifactTensor t, ReadTensor(r, a.buffers.size()));
    a.outputs.push_back(std::move(t));
  }
  ASSIGN_OR_RETURN(uint64_t n_kernels, r.Count("kernels"));
  for (uint64_t i = 0; i < n_kernels; ++i) {
    ArtifactKernel k;
    ASSIGN_OR_RETURN(k.name, r.Str("kernel name"));
    ASSIGN_OR_RETURN(k.binary, r.View("kernel binary"));
    ASSIGN_OR_RETURN(uint64_t nb, r.Count("kernel buffers"));
    for (uint64_t j = 0; j < nb; ++j) {
      ASSIGN_OR_RETURN(uint64_t bb, r.U64("kernel buffer bytes"));
      k.buffer_bytes.push_back(bb);
    }
    ASSIGN_OR_RETURN(uint32_t nv, r.U32("kernel vars"));
    k.num_vars = static_cast<int>(nv);
    for (int64_t& g : k.global) {
      ASSIGN_OR_RETURN(g, r.I64("global size"));
    }
    for (int64_t& l : k.local) {
      ASSIGN_OR_RETURN(l, r.I64("local size"));
    }
    a.kernels.push_back(std::move(k));
  }
  ASSIGN_OR_RETURN(uint64_t n_launches, r.Count("launches"));
  for (uint64_t i = 0; i < n_launches; ++i) {
    ArtifactLaunch l;
    ASSIGN_OR_RETURN(uint8_t copy, r.U8("launch kind"));
    l.is_copy = copy != 0;
    ASSIGN_OR_RETURN(int64_t kernel, r.I64("launch kernel"));
    ASSIGN_OR_RETURN(uint64_t nb, r.Count("launch buffers"));
    for (uint64_t j = 0; j < nb; ++j) {
      ASSIGN_OR_RETURN(uint32_t b, r.U32("launch buffer"));
      if (b >= a.buffers.size()) return r.Bad(absl::StrCat("launch ", i, " names buffer ", b));
      l.buffers.push_back(static_cast<int>(b));
    }
    if (l.is_copy ? nb != 2
                  : (kernel < 0 || kernel >= static_cast<int64_t>(a.kernels.size()) ||
                     nb != a.kernels[kernel].buffer_bytes.size())) {
      return r.Bad(absl::StrCat("launch ", i, " does not match its kernel"));
    }
    for (uint64_t j = 0; !l.is_copy && j < nb; ++j) {
      if (static_cast<uint64_t>(a.buffers[l.buffers[j]].bytes) <
          a.kernels[kernel].buffer_bytes[j]) {
        return r.Bad(absl::StrCat("launch ", i, " binds a buffer smaller than its kernel needs"));
      }
    }
    l.kernel = static_cast<int>(kernel);
    a.launches.push_back(std::move(l));
  }
  if (!r.done()) return r.Bad("trailing bytes after the last launch");
  a.storage = std::move(storage);
  return a;
}

// ---------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<LoadedArtifact>> LoadedArtifact::Load(const Artifact& artifact,
                                                                     Device& device) {
  return Load(artifact, device, [] { return absl::OkStatus(); });
}

absl::StatusOr<std::unique_ptr<LoadedArtifact>> LoadedArtifact::Load(
    const Artifact& artifact, Device& device, absl::FunctionRef<absl::Status()> gate) {
  if (artifact.device != device.name()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "artifact: built for device ", artifact.device, ", cannot load on ", device.name()));
  }
  if (artifact.compiler_key != device.compiler().CacheKey()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "artifact: compiled by '", artifact.compiler_key, "', this device compiles with '",
        device.compiler().CacheKey(), "' (other CPU features or LLVM): recompile the model"));
  }
  std::unique_ptr<LoadedArtifact> l(new LoadedArtifact());
  l->device_ = &device;
  std::vector<DeviceBuffer*> arenas;
  for (int64_t bytes : artifact.arenas) {
    ASSIGN_OR_RETURN(DeviceBuffer * b, device.allocator().Alloc(std::max<int64_t>(bytes, 1)));
    l->owned_.push_back(b);
    arenas.push_back(b);
  }
  for (const ArtifactBuffer& b : artifact.buffers) {
    if (b.kind == ArtifactBuffer::Kind::kScratch) {
      ASSIGN_OR_RETURN(std::unique_ptr<DeviceBuffer> view,
                       MakeSubBuffer(*arenas[b.arena], b.offset, b.bytes));
      l->views_.push_back(std::move(view));
      l->bufs_.push_back(l->views_.back().get());
      continue;
    }
    ASSIGN_OR_RETURN(DeviceBuffer * buf, device.allocator().Alloc(std::max<int64_t>(b.bytes, 1)));
    l->owned_.push_back(buf);
    if (b.kind == ArtifactBuffer::Kind::kState)
      RETURN_IF_ERROR(device.allocator().CopyIn(*buf, 0, b.data));
    l->bufs_.push_back(buf);
  }
  // Kernel bytes reach the device only after the gate passed.
  RETURN_IF_ERROR(gate());
  for (const ArtifactKernel& k : artifact.kernels) {
    ProgramDesc desc{k.name, k.buffer_bytes, k.num_vars};
    ASSIGN_OR_RETURN(std::unique_ptr<Program> p, device.LoadProgram(desc, k.binary));
    l->programs_.push_back(std::move(p));
  }
  // Keep the description only: the kernels and weights now live on the device.
  l->artifact_ = artifact;
  l->artifact_.storage.reset();
  for (ArtifactBuffer& b : l->artifact_.buffers) b.data = {};
  for (ArtifactKernel& k : l->artifact_.kernels) k.binary = {};
  l->Rebuild();
  return l;
}

void LoadedArtifact::Rebuild() {
  launch_bufs_.clear();
  for (const ArtifactLaunch& launch : artifact_.launches) {
    std::vector<DeviceBuffer*> bufs;
    for (int b : launch.buffers) bufs.push_back(bufs_[b]);
    launch_bufs_.push_back(std::move(bufs));
  }
}

LoadedArtifact::~LoadedArtifact() {
  for (DeviceBuffer* b : owned_) device_->allocator().Free(b);
}

absl::Status LoadedArtifact::SetInput(int i, absl::Span<const uint8_t> bytes) {
  if (i < 0 || i >= static_cast<int>(artifact_.inputs.size())) {
    return absl::InvalidArgumentError(absl::StrCat("artifact: no input ", i));
  }
  DeviceBuffer* b = input(i);
  if (bytes.size() != b->size()) {
    return absl::InvalidArgumentError(absl::StrCat("artifact: input '", artifact_.inputs[i].name,
                                                   "' takes ", b->size(), " bytes, got ",
                                                   bytes.size()));
  }
  return device_->allocator().CopyIn(*b, 0, bytes);
}

absl::Status LoadedArtifact::BindInputMemory(int i, void* host_ptr, size_t bytes) {
  if (i < 0 || i >= static_cast<int>(artifact_.inputs.size())) {
    return absl::InvalidArgumentError(absl::StrCat("artifact: no input ", i));
  }
  DeviceBuffer* current = input(i);
  if (!current->host_ptr()) {
    return absl::FailedPreconditionError(absl::StrCat("artifact: device ", device_->name(),
                                                      " memory is not host-visible; use SetInput"));
  }
  if (bytes < current->size() || host_ptr == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("artifact: input '", artifact_.inputs[i].name,
                                                   "' needs ", current->size(),
                                                   " bytes, the bound memory has ", bytes));
  }
  views_.push_back(std::make_unique<DeviceBuffer>(current->owner(), current->id(), current->size(),
                                                  current->options(), host_ptr,
                                                  reinterpret_cast<uint64_t>(host_ptr)));
  bufs_[artifact_.inputs[i].buffer] = views_.back().get();
  Rebuild();
  return absl::OkStatus();
}

absl::Status LoadedArtifact::Run() {
  for (size_t i = 0; i < artifact_.launches.size(); ++i) {
    const ArtifactLaunch& launch = artifact_.launches[i];
    std::vector<DeviceBuffer*>& bufs = launch_bufs_[i];
    if (launch.is_copy) {
      size_t bytes = std::min(bufs[0]->size(), bufs[1]->size());
      std::vector<uint8_t> staging(bytes);
      RETURN_IF_ERROR(bufs[1]->owner()->CopyOut(*bufs[1], 0, absl::MakeSpan(staging)));
      RETURN_IF_ERROR(bufs[0]->owner()->CopyIn(*bufs[0], 0, staging));
      continue;
    }
    const ArtifactKernel& k = artifact_.kernels[launch.kernel];
    RETURN_IF_ERROR(programs_[launch.kernel]->Run(bufs, {},
                                                  LaunchDims{k.global[0], k.global[1], k.global[2]},
                                                  LaunchDims{k.local[0], k.local[1], k.local[2]}));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> LoadedArtifact::ReadOutput(int i) const {
  if (i < 0 || i >= static_cast<int>(artifact_.outputs.size())) {
    return absl::InvalidArgumentError(absl::StrCat("artifact: no output ", i));
  }
  DeviceBuffer* b = output(i);
  std::vector<uint8_t> out(b->size());
  RETURN_IF_ERROR(device_->allocator().CopyOut(*b, 0, absl::MakeSpan(out)));
  return out;
}

}  // namespace uop
