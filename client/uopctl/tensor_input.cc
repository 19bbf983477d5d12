#include "client/uopctl/tensor_input.h"

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/uopctl/tensor_text.h"
#include "runtime/base/json.h"
#include "runtime/base/status_macros.h"

namespace uop::uopctl {
namespace {

using client::Datatype;

bool Fits(const std::vector<int64_t>& declared, const std::vector<int64_t>& shape) {
  if (declared.size() != shape.size()) return false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (declared[i] >= 0 && declared[i] != shape[i]) return false;
  }
  return true;
}

// The full shape for data that carries none (zeros, random, raw bytes).
absl::StatusOr<std::vector<int64_t>> FullShape(const TensorMetadata& meta,
                                               const std::vector<int64_t>& declared,
                                               const std::vector<int64_t>* shape) {
  if (shape) return *shape;
  for (int64_t d : declared) {
    if (d < 0) {
      return absl::InvalidArgumentError(absl::StrCat("input '", meta.name(), "' has shape ",
                                                     client::ShapeString(declared),
                                                     ": give --shape ", meta.name(), "=D0,D1,..."));
    }
  }
  return declared;
}

client::NpyArray Generate(Datatype d, const std::vector<int64_t>& shape, int64_t n, bool random) {
  client::NpyArray t{d, shape, std::string(n * client::DatatypeSize(d), '\0')};
  if (!random) return t;
  absl::BitGen gen;
  if (d == Datatype::kFp32) {
    auto* f = reinterpret_cast<float*>(t.data.data());
    for (int64_t i = 0; i < n; ++i) f[i] = absl::Uniform(gen, 0.0f, 1.0f);
  } else if (d == Datatype::kFp64) {
    auto* f = reinterpret_cast<double*>(t.data.data());
    for (int64_t i = 0; i < n; ++i) f[i] = absl::Uniform(gen, 0.0, 1.0);
  } else if (d == Datatype::kBool) {
    for (char& c : t.data) c = absl::Bernoulli(gen, 0.5) ? 1 : 0;
  } else {
    // Small non-negative integers (valid indices for most models), little endian.
    const int size = client::DatatypeSize(d);
    for (int64_t i = 0; i < n; ++i)
      t.data[i * size] = static_cast<char>(absl::Uniform(gen, 0, 100));
    if (d == Datatype::kFp16 || d == Datatype::kBf16) {
      // 0..99 as raw bits would be tiny subnormals; use 1.0 (0x3c00 / 0x3f80) instead.
      const uint16_t one = d == Datatype::kFp16 ? 0x3c00 : 0x3f80;
      auto* h = reinterpret_cast<uint16_t*>(t.data.data());
      for (int64_t i = 0; i < n; ++i) h[i] = one;
    }
  }
  return t;
}

}  // namespace

absl::StatusOr<client::NpyArray> LoadInput(const TensorMetadata& meta, const std::string& spec,
                                           const std::vector<int64_t>* shape) {
  absl::StatusOr<Datatype> dt = client::ParseDatatype(meta.datatype());
  if (!dt.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", meta.name(), "': ", dt.status().message()));
  }
  const std::vector<int64_t> declared(meta.shape().begin(), meta.shape().end());
  if (shape && !Fits(declared, *shape)) {
    return absl::InvalidArgumentError(absl::StrCat("--shape ", client::ShapeString(*shape),
                                                   " does not fit input '", meta.name(), "' ",
                                                   client::ShapeString(declared)));
  }
  auto prefixed = [&](const absl::Status& st) {
    return absl::Status(st.code(), absl::StrCat("input '", meta.name(), "': ", st.message()));
  };

  if (spec == "zeros" || spec == "random") {
    ASSIGN_OR_RETURN(std::vector<int64_t> full, FullShape(meta, declared, shape));
    ASSIGN_OR_RETURN(int64_t n, client::ElementCount(full));
    if (*dt == Datatype::kBytes) {
      return prefixed(absl::InvalidArgumentError("BYTES inputs need data (JSON strings)"));
    }
    return Generate(*dt, full, n, spec == "random");
  }
  if (absl::StartsWith(spec, "[") || absl::StartsWith(spec, "{") || absl::EndsWith(spec, ".json")) {
    std::string text = spec;
    if (absl::EndsWith(spec, ".json")) {
      absl::StatusOr<std::string> file = client::ReadWholeFile(spec);
      if (!file.ok()) return prefixed(file.status());
      text = *file;
    }
    absl::StatusOr<JsonValue> json = ParseJson(text);
    if (!json.ok()) return prefixed(json.status());
    absl::StatusOr<client::NpyArray> t = TensorFromJson(*json, *dt, shape ? *shape : declared);
    if (!t.ok()) return prefixed(t.status());
    return t;
  }
  if (absl::EndsWith(spec, ".npy")) {
    absl::StatusOr<client::NpyArray> t = client::ReadNpyFile(spec);
    if (!t.ok()) return prefixed(t.status());
    if (t->datatype != *dt || !Fits(shape ? *shape : declared, t->shape)) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", meta.name(), "' is ", meta.datatype(),
                       client::ShapeString(shape ? *shape : declared), ", ", spec, " holds ",
                       client::DatatypeName(t->datatype), client::ShapeString(t->shape)));
    }
    return t;
  }
  // Raw bytes.
  ASSIGN_OR_RETURN(std::vector<int64_t> full, FullShape(meta, declared, shape));
  absl::StatusOr<std::string> bytes = client::ReadWholeFile(spec);
  if (!bytes.ok()) return prefixed(bytes.status());
  if (absl::Status st = client::CheckRawSize(meta.name(), *dt, full, *bytes); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(st.message(), " (raw file ", spec, ")"));
  }
  return client::NpyArray{*dt, full, std::move(*bytes)};
}

}  // namespace uop::uopctl
