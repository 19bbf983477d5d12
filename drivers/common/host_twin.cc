#include "drivers/common/host_twin.h"

#include <cstring>

#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "drivers/cpu/elf_loader.h"
#include "runtime/base/status_macros.h"

namespace uop {
namespace {

uint32_t Le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

void Put32(std::string* s, uint32_t v) { s->append(reinterpret_cast<const char*>(&v), 4); }

// A grid larger than this is refused (it would run for hours on the host).
constexpr int64_t kMaxItems = int64_t{1} << 32;

}  // namespace

std::string MakeTwinBlob(absl::string_view object, uint32_t num_buffers, uint32_t num_vars) {
  std::string blob(kTwinMagic, sizeof(kTwinMagic));
  Put32(&blob, kTwinHeaderBytes);
  Put32(&blob, static_cast<uint32_t>(object.size()));
  Put32(&blob, num_buffers);
  Put32(&blob, num_vars);
  blob.append(object.data(), object.size());
  return blob;
}

absl::StatusOr<TwinHeader> ParseTwinHeader(absl::Span<const uint8_t> bytes) {
  if (bytes.size() < kTwinHeaderBytes ||
      std::memcmp(bytes.data(), kTwinMagic, sizeof(kTwinMagic)) != 0) {
    return absl::InvalidArgumentError("host twin: no UOPTWIN1 header");
  }
  const uint32_t header_bytes = Le32(bytes.data() + 8);
  TwinHeader h;
  h.object_bytes = Le32(bytes.data() + 12);
  h.num_buffers = Le32(bytes.data() + 16);
  h.num_vars = Le32(bytes.data() + 20);
  if (header_bytes != kTwinHeaderBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("host twin: header of ", header_bytes, " bytes, expected ", kTwinHeaderBytes));
  }
  if (h.object_bytes > bytes.size() - kTwinHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat("host twin: object of ", h.object_bytes,
                                                   " bytes, only ", bytes.size() - kTwinHeaderBytes,
                                                   " present"));
  }
  return h;
}

size_t FindTwin(absl::Span<const uint8_t> bytes, size_t align) {
  if (align == 0) align = 1;
  for (size_t at = 0; at + sizeof(kTwinMagic) <= bytes.size(); at += align) {
    if (std::memcmp(bytes.data() + at, kTwinMagic, sizeof(kTwinMagic)) == 0) return at;
  }
  return std::string::npos;
}

HostTwin::~HostTwin() = default;

absl::Status HostTwin::RunGrid(void* const* bufs, absl::Span<const int64_t> vars, LaunchDims groups,
                               LaunchDims local) const {
  if (vars.size() != header_.num_vars) {
    return absl::InvalidArgumentError(
        absl::StrCat("host twin: takes ", header_.num_vars, " variables, got ", vars.size()));
  }
  if (groups.total() <= 0 || local.total() <= 0 || groups.total() > kMaxItems / local.total()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "host twin: grid (", groups.x, ", ", groups.y, ", ", groups.z, ") of (", local.x, ", ",
        local.y, ", ", local.z, ") work-items is empty or too large to emulate"));
  }
  std::lock_guard<std::mutex> lock(run_mu_);
  absl::InlinedVector<int64_t, 16> all(vars.begin(), vars.end());
  all.resize(vars.size() + kIds, 0);
  int64_t* ids = all.data() + vars.size();
  ids[6] = local.x;
  ids[7] = local.y;
  ids[8] = local.z;
  for (ids[2] = 0; ids[2] < groups.z; ++ids[2])
    for (ids[1] = 0; ids[1] < groups.y; ++ids[1])
      for (ids[0] = 0; ids[0] < groups.x; ++ids[0])
        for (ids[5] = 0; ids[5] < local.z; ++ids[5])
          for (ids[4] = 0; ids[4] < local.y; ++ids[4])
            for (ids[3] = 0; ids[3] < local.x; ++ids[3]) entry_(bufs, all.data(), 0);
  return absl::OkStatus();
}

HostTwinCache::HostTwinCache() = default;
HostTwinCache::~HostTwinCache() = default;

absl::StatusOr<const HostTwin*> HostTwinCache::Get(absl::Span<const uint8_t> bytes) {
  ASSIGN_OR_RETURN(TwinHeader h, ParseTwinHeader(bytes));
  const absl::string_view object(reinterpret_cast<const char*>(bytes.data()) + kTwinHeaderBytes,
                                 h.object_bytes);
  const size_t key = absl::Hash<absl::string_view>{}(object);
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::unique_ptr<HostTwin>>& bucket = twins_[key];
  for (const auto& t : bucket)
    if (t->bytes_ == object) return t.get();
  std::unique_ptr<HostTwin> twin(new HostTwin());
  twin->header_ = h;
  twin->bytes_ = std::string(object);
  absl::StatusOr<std::unique_ptr<ElfObject>> obj = ElfObject::Load(object);
  if (!obj.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("host twin: cannot load its object: ", obj.status().message()));
  }
  twin->object_ = std::move(*obj);
  ASSIGN_OR_RETURN(void* fn, twin->object_->Symbol("uop_emu_entry"));
  twin->entry_ = reinterpret_cast<HostTwin::Entry>(fn);
  bucket.push_back(std::move(twin));
  ++size_;
  return bucket.back().get();
}

size_t HostTwinCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return size_;
}

}  // namespace uop
