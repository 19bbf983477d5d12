#include "client/lib/infer_tensor.h"

#include "absl/strings/str_join.h"
#include "runtime/base/status_macros.h"

namespace uop::client {
namespace {

constexpr char kShmRegion[] = "shared_memory_region";
constexpr char kShmOffset[] = "shared_memory_offset";
constexpr char kShmByteSize[] = "shared_memory_byte_size";

template <typename Params>
void SetShmParameters(const SharedMemoryRef& ref, Params* params) {
  (*params)[kShmRegion].set_string_param(ref.region);
  (*params)[kShmByteSize].set_int64_param(static_cast<int64_t>(ref.byte_size));
  if (ref.offset != 0) (*params)[kShmOffset].set_int64_param(static_cast<int64_t>(ref.offset));
}

template <typename Params>
std::optional<SharedMemoryRef> GetShmParameters(const Params& params) {
  auto region = params.find(kShmRegion);
  if (region == params.end()) return std::nullopt;
  SharedMemoryRef ref;
  ref.region = region->second.string_param();
  if (auto it = params.find(kShmOffset); it != params.end()) ref.offset = it->second.int64_param();
  if (auto it = params.find(kShmByteSize); it != params.end()) {
    ref.byte_size = it->second.int64_param();
  }
  return ref;
}

template <typename To, typename From>
void AppendAs(const From& values, std::string* raw) {
  size_t at = raw->size();
  raw->resize(at + values.size() * sizeof(To));
  for (const auto& v : values) {
    To x = static_cast<To>(v);
    std::memcpy(raw->data() + at, &x, sizeof(To));
    at += sizeof(To);
  }
}

// Typed `contents` (used by clients that do not send raw bytes) as raw bytes.
absl::StatusOr<std::string> ContentsToRaw(absl::string_view tensor, Datatype d,
                                          const inference::InferTensorContents& c) {
  std::string raw;
  switch (d) {
    case Datatype::kBool:
      AppendAs<uint8_t>(c.bool_contents(), &raw);
      break;
    case Datatype::kInt8:
      AppendAs<int8_t>(c.int_contents(), &raw);
      break;
    case Datatype::kInt16:
      AppendAs<int16_t>(c.int_contents(), &raw);
      break;
    case Datatype::kInt32:
      AppendAs<int32_t>(c.int_contents(), &raw);
      break;
    case Datatype::kInt64:
      AppendAs<int64_t>(c.int64_contents(), &raw);
      break;
    case Datatype::kUint8:
      AppendAs<uint8_t>(c.uint_contents(), &raw);
      break;
    case Datatype::kUint16:
      AppendAs<uint16_t>(c.uint_contents(), &raw);
      break;
    case Datatype::kUint32:
      AppendAs<uint32_t>(c.uint_contents(), &raw);
      break;
    case Datatype::kUint64:
      AppendAs<uint64_t>(c.uint64_contents(), &raw);
      break;
    case Datatype::kFp32:
      AppendAs<float>(c.fp32_contents(), &raw);
      break;
    case Datatype::kFp64:
      AppendAs<double>(c.fp64_contents(), &raw);
      break;
    case Datatype::kBytes:
      raw = EncodeBytesElements({c.bytes_contents().begin(), c.bytes_contents().end()});
      break;
    case Datatype::kFp16:
    case Datatype::kBf16:
      return absl::InvalidArgumentError(absl::StrCat("output '", tensor, "': ", DatatypeName(d),
                                                     " has no typed contents field; expected raw"));
  }
  return raw;
}

}  // namespace

absl::Status CheckRawSize(absl::string_view tensor, Datatype datatype,
                          absl::Span<const int64_t> shape, absl::string_view raw) {
  absl::StatusOr<int64_t> n = ElementCount(shape);
  if (!n.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", tensor, "': ", n.status().message()));
  }
  if (datatype == Datatype::kBytes) {
    absl::StatusOr<std::vector<std::string>> elems = DecodeBytesElements(raw);
    if (!elems.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor '", tensor, "': ", elems.status().message()));
    }
    if (static_cast<int64_t>(elems->size()) != *n) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", tensor, "': shape ",
                                                     ShapeString(shape), " has ", *n,
                                                     " elements, the data has ", elems->size()));
    }
    return absl::OkStatus();
  }
  const uint64_t want = static_cast<uint64_t>(*n) * DatatypeSize(datatype);
  if (raw.size() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor '", tensor, "': ", DatatypeName(datatype), ShapeString(shape),
                     " takes ", want, " bytes, the data has ", raw.size()));
  }
  return absl::OkStatus();
}

std::string EncodeBytesElements(const std::vector<std::string>& values) {
  std::string raw;
  for (const std::string& v : values) {
    const uint32_t len = static_cast<uint32_t>(v.size());
    char le[4] = {static_cast<char>(len), static_cast<char>(len >> 8), static_cast<char>(len >> 16),
                  static_cast<char>(len >> 24)};
    raw.append(le, 4);
    raw.append(v);
  }
  return raw;
}

absl::StatusOr<std::vector<std::string>> DecodeBytesElements(absl::string_view raw) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < raw.size()) {
    if (raw.size() - at < 4) {
      return absl::InvalidArgumentError(
          absl::StrCat("BYTES data: element ", out.size(), " has a truncated length prefix"));
    }
    const auto* p = reinterpret_cast<const uint8_t*>(raw.data() + at);
    const uint32_t len = p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t{p[3]} << 24);
    at += 4;
    if (raw.size() - at < len) {
      return absl::InvalidArgumentError(absl::StrCat("BYTES data: element ", out.size(), " claims ",
                                                     len, " bytes, ", raw.size() - at, " remain"));
    }
    out.emplace_back(raw.substr(at, len));
    at += len;
  }
  return out;
}

absl::StatusOr<InferInput> InferInput::FromRaw(std::string name, Datatype datatype,
                                               std::vector<int64_t> shape, std::string raw) {
  RETURN_IF_ERROR(CheckRawSize(name, datatype, shape, raw));
  InferInput in;
  in.name_ = std::move(name);
  in.datatype_ = datatype;
  in.shape_ = std::move(shape);
  in.raw_ = std::move(raw);
  return in;
}

absl::StatusOr<InferInput> InferInput::FromStrings(std::string name, std::vector<int64_t> shape,
                                                   const std::vector<std::string>& values) {
  return FromRaw(std::move(name), Datatype::kBytes, std::move(shape), EncodeBytesElements(values));
}

absl::StatusOr<InferInput> InferInput::FromSharedMemory(std::string name, Datatype datatype,
                                                        std::vector<int64_t> shape,
                                                        SharedMemoryRef where) {
  ASSIGN_OR_RETURN(int64_t n, ElementCount(shape));
  if (datatype != Datatype::kBytes &&
      where.byte_size != static_cast<uint64_t>(n) * DatatypeSize(datatype)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input '", name, "': ", DatatypeName(datatype), ShapeString(shape), " takes ",
        n * DatatypeSize(datatype), " bytes, the shared memory reference has ", where.byte_size));
  }
  if (where.region.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("input '", name, "': empty region name"));
  }
  InferInput in;
  in.name_ = std::move(name);
  in.datatype_ = datatype;
  in.shape_ = std::move(shape);
  in.shm_ = std::move(where);
  return in;
}

inference::ModelInferRequest BuildInferRequest(const InferOptions& options,
                                               const std::vector<InferInput>& inputs,
                                               const std::vector<RequestedOutput>& outputs) {
  inference::ModelInferRequest req;
  req.set_model_name(options.model_name);
  req.set_model_version(options.model_version);
  req.set_id(options.request_id);
  for (const auto& [key, value] : options.int_parameters) {
    (*req.mutable_parameters())[key].set_int64_param(value);
  }
  // raw_input_contents is positional: either every input has an entry or
  // none does, so shared-memory inputs get an empty placeholder only when
  // some input is sent inline (Triton does the same).
  bool any_inline = false;
  for (const InferInput& in : inputs) any_inline |= !in.shared_memory().has_value();
  for (const InferInput& in : inputs) {
    auto* t = req.add_inputs();
    t->set_name(in.name());
    t->set_datatype(std::string(DatatypeName(in.datatype())));
    for (int64_t d : in.shape()) t->add_shape(d);
    if (in.shared_memory()) SetShmParameters(*in.shared_memory(), t->mutable_parameters());
    if (any_inline) req.add_raw_input_contents(in.raw());
  }
  for (const RequestedOutput& out : outputs) {
    auto* t = req.add_outputs();
    t->set_name(out.name);
    if (out.shared_memory) SetShmParameters(*out.shared_memory, t->mutable_parameters());
  }
  return req;
}

absl::StatusOr<InferResult> InferResult::FromResponse(
    inference::ModelInferResponse response, const std::vector<RequestedOutput>& requested) {
  InferResult r;
  r.model_name_ = response.model_name();
  r.model_version_ = response.model_version();
  r.id_ = response.id();
  const bool raw = response.raw_output_contents_size() > 0;
  if (raw && response.raw_output_contents_size() != response.outputs_size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("response has ", response.outputs_size(), " outputs but ",
                     response.raw_output_contents_size(), " raw_output_contents"));
  }
  for (int i = 0; i < response.outputs_size(); ++i) {
    auto* t = response.mutable_outputs(i);
    OutputTensor o;
    o.name = t->name();
    absl::StatusOr<Datatype> d = ParseDatatype(t->datatype());
    if (!d.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("output '", o.name, "': ", d.status().message()));
    }
    o.datatype = *d;
    o.shape.assign(t->shape().begin(), t->shape().end());
    // Where the server wrote an output: the place the request named (the
    // response's parameters may carry only the region and the size written).
    const std::optional<SharedMemoryRef> reported = GetShmParameters(t->parameters());
    for (const RequestedOutput& q : requested) {
      if (q.name != o.name || !q.shared_memory) continue;
      if (reported || !raw || response.raw_output_contents(i).empty()) {
        o.shared_memory = q.shared_memory;
        if (reported && reported->byte_size > 0) o.shared_memory->byte_size = reported->byte_size;
      }
    }
    if (!o.shared_memory) o.shared_memory = reported;
    if (o.shared_memory) {
      // The data is in the region; nothing travels in the message.
    } else if (raw) {
      o.raw.swap(*response.mutable_raw_output_contents(i));
      RETURN_IF_ERROR(CheckRawSize(o.name, o.datatype, o.shape, o.raw));
    } else {
      ASSIGN_OR_RETURN(o.raw, ContentsToRaw(o.name, o.datatype, t->contents()));
      RETURN_IF_ERROR(CheckRawSize(o.name, o.datatype, o.shape, o.raw));
    }
    r.outputs_.push_back(std::move(o));
  }
  return r;
}

absl::StatusOr<const OutputTensor*> InferResult::Output(absl::string_view name) const {
  std::vector<absl::string_view> names;
  for (const OutputTensor& o : outputs_) {
    if (o.name == name) return &o;
    names.push_back(o.name);
  }
  return absl::NotFoundError(absl::StrCat(
      "no output '", name, "' in the result (outputs: ", absl::StrJoin(names, ", "), ")"));
}

absl::Status InferResult::CheckType(const OutputTensor& o, Datatype want) {
  if (o.datatype != want) {
    return absl::InvalidArgumentError(absl::StrCat(
        "output '", o.name, "' is ", DatatypeName(o.datatype), ", not ", DatatypeName(want)));
  }
  if (o.shared_memory) {
    return absl::InvalidArgumentError(
        absl::StrCat("output '", o.name, "' was written to shared memory region '",
                     o.shared_memory->region, "'; read it from there"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> InferResult::AsStrings(absl::string_view name) const {
  ASSIGN_OR_RETURN(const OutputTensor* o, Output(name));
  RETURN_IF_ERROR(CheckType(*o, Datatype::kBytes));
  return DecodeBytesElements(o->raw);
}

}  // namespace uop::client
