#include "server/http_infer.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "runtime/base/json.h"
#include "runtime/base/status_macros.h"
#include "server/data_type.h"

namespace uop::server {
namespace {

absl::Status Bad(absl::string_view what) { return absl::InvalidArgumentError(what); }

// Depth-first leaves of a (nested) JSON array.
absl::Status Flatten(const JsonValue& v, std::vector<const JsonValue*>* out) {
  if (!v.is_array()) {
    out->push_back(&v);
    return absl::OkStatus();
  }
  for (const JsonValue& item : v.items) RETURN_IF_ERROR(Flatten(item, out));
  return absl::OkStatus();
}

template <typename T>
absl::Status PutInt(const JsonValue& v, const std::string& name, std::string* out) {
  bool ok = false;
  T x{};
  if (v.is_bool()) {
    x = static_cast<T>(v.boolean);
    ok = true;
  } else if (v.is_number()) {
    if constexpr (std::is_signed_v<T>) {
      const std::optional<int64_t> i = v.AsInt64();
      ok = i && *i >= std::numeric_limits<T>::min() && *i <= std::numeric_limits<T>::max();
      x = static_cast<T>(i.value_or(0));
    } else {
      const std::optional<uint64_t> u = v.AsUint64();
      ok = u && *u <= std::numeric_limits<T>::max();
      x = static_cast<T>(u.value_or(0));
    }
  }
  if (!ok) {
    return Bad(absl::StrCat("input '", name, "': data holds a value that is not an integer in ",
                            "the range of its datatype"));
  }
  out->append(reinterpret_cast<const char*>(&x), sizeof(T));
  return absl::OkStatus();
}

template <typename T>
absl::Status PutFloat(const JsonValue& v, const std::string& name, std::string* out) {
  if (!v.is_number()) {
    return Bad(absl::StrCat("input '", name, "': data holds a value that is not a number"));
  }
  T x = static_cast<T>(v.number);
  out->append(reinterpret_cast<const char*>(&x), sizeof(T));
  return absl::OkStatus();
}

absl::Status PackJson(const JsonValue& data, inference::DataType type, const std::string& name,
                      std::string* out) {
  std::vector<const JsonValue*> leaves;
  RETURN_IF_ERROR(Flatten(data, &leaves));
  out->reserve(leaves.size() * std::max(ElementSize(type), 1));
  for (const JsonValue* v : leaves) {
    switch (type) {
      case inference::TYPE_BOOL: {
        if (!v->is_bool())
          return Bad(absl::StrCat("input '", name, "': BOOL data must be true/false"));
        out->push_back(v->boolean ? 1 : 0);
        break;
      }
      case inference::TYPE_INT8:
        RETURN_IF_ERROR(PutInt<int8_t>(*v, name, out));
        break;
      case inference::TYPE_INT16:
        RETURN_IF_ERROR(PutInt<int16_t>(*v, name, out));
        break;
      case inference::TYPE_INT32:
        RETURN_IF_ERROR(PutInt<int32_t>(*v, name, out));
        break;
      case inference::TYPE_INT64:
        RETURN_IF_ERROR(PutInt<int64_t>(*v, name, out));
        break;
      case inference::TYPE_UINT8:
        RETURN_IF_ERROR(PutInt<uint8_t>(*v, name, out));
        break;
      case inference::TYPE_UINT16:
        RETURN_IF_ERROR(PutInt<uint16_t>(*v, name, out));
        break;
      case inference::TYPE_UINT32:
        RETURN_IF_ERROR(PutInt<uint32_t>(*v, name, out));
        break;
      case inference::TYPE_UINT64:
        RETURN_IF_ERROR(PutInt<uint64_t>(*v, name, out));
        break;
      case inference::TYPE_FP32:
        RETURN_IF_ERROR(PutFloat<float>(*v, name, out));
        break;
      case inference::TYPE_FP64:
        RETURN_IF_ERROR(PutFloat<double>(*v, name, out));
        break;
      case inference::TYPE_STRING: {
        if (!v->is_string())
          return Bad(absl::StrCat("input '", name, "': BYTES data must be strings"));
        uint32_t len = static_cast<uint32_t>(v->text.size());
        out->append(reinterpret_cast<const char*>(&len), 4);
        out->append(v->text);
        break;
      }
      default:
        return Bad(absl::StrCat("input '", name, "': ", WireName(type),
                                " cannot be sent as JSON data; use the binary data extension"));
    }
  }
  return absl::OkStatus();
}

absl::Status ToParameter(const std::string& key, const JsonValue& v, inference::InferParameter* p) {
  if (v.is_bool()) {
    p->set_bool_param(v.boolean);
  } else if (std::optional<int64_t> i = v.AsInt64()) {
    p->set_int64_param(*i);
  } else if (std::optional<uint64_t> u = v.AsUint64()) {
    p->set_uint64_param(*u);
  } else if (v.is_number()) {
    p->set_double_param(v.number);
  } else if (v.is_string()) {
    p->set_string_param(v.text);
  } else {
    return Bad(absl::StrCat("parameter '", key, "' must be a bool, number or string"));
  }
  return absl::OkStatus();
}

absl::Status ToParameters(const JsonValue* params, absl::string_view where,
                          google::protobuf::Map<std::string, inference::InferParameter>* out) {
  if (params == nullptr) return absl::OkStatus();
  if (!params->is_object()) return Bad(absl::StrCat(where, "'parameters' must be an object"));
  for (const auto& [key, value] : params->members) {
    RETURN_IF_ERROR(ToParameter(key, value, &(*out)[key]));
  }
  return absl::OkStatus();
}

// Raw little-endian output bytes as a flat JSON array.
absl::Status WriteData(const std::string& raw, inference::DataType type, JsonWriter& w) {
  const char* p = raw.data();
  const size_t size = ElementSize(type);
  auto each = [&](auto tag, auto emit) {
    using T = decltype(tag);
    for (size_t i = 0; i + sizeof(T) <= raw.size(); i += sizeof(T)) {
      T x;
      std::memcpy(&x, p + i, sizeof(T));
      emit(x);
    }
  };
  w.BeginArray();
  switch (type) {
    case inference::TYPE_BOOL:
      each(uint8_t{}, [&](uint8_t x) { w.Bool(x != 0); });
      break;
    case inference::TYPE_INT8:
      each(int8_t{}, [&](int8_t x) { w.Int(x); });
      break;
    case inference::TYPE_INT16:
      each(int16_t{}, [&](int16_t x) { w.Int(x); });
      break;
    case inference::TYPE_INT32:
      each(int32_t{}, [&](int32_t x) { w.Int(x); });
      break;
    case inference::TYPE_INT64:
      each(int64_t{}, [&](int64_t x) { w.Int(x); });
      break;
    case inference::TYPE_UINT8:
      each(uint8_t{}, [&](uint8_t x) { w.Uint(x); });
      break;
    case inference::TYPE_UINT16:
      each(uint16_t{}, [&](uint16_t x) { w.Uint(x); });
      break;
    case inference::TYPE_UINT32:
      each(uint32_t{}, [&](uint32_t x) { w.Uint(x); });
      break;
    case inference::TYPE_UINT64:
      each(uint64_t{}, [&](uint64_t x) { w.Uint(x); });
      break;
    case inference::TYPE_FP32:
      each(float{}, [&](float x) { w.Float(x); });
      break;
    case inference::TYPE_FP64:
      each(double{}, [&](double x) { w.Double(x); });
      break;
    case inference::TYPE_STRING: {
      size_t pos = 0;
      while (raw.size() - pos >= 4) {
        uint32_t len = 0;
        std::memcpy(&len, p + pos, 4);
        pos += 4;
        if (raw.size() - pos < len) break;
        w.String(absl::string_view(p + pos, len));
        pos += len;
      }
      break;
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          WireName(type), " output cannot be written as JSON data; ask for binary_data"));
  }
  (void)size;
  w.EndArray();
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseHttpInfer(absl::string_view body, int64_t header_length, const std::string& model,
                            const std::string& version, inference::ModelInferRequest* request,
                            HttpInferOptions* options) {
  absl::string_view json = body;
  absl::string_view binary;
  if (header_length >= 0) {
    if (static_cast<uint64_t>(header_length) > body.size()) {
      return Bad(absl::StrCat("Inference-Header-Content-Length is ", header_length,
                              " but the body has only ", body.size(), " bytes"));
    }
    json = body.substr(0, static_cast<size_t>(header_length));
    binary = body.substr(static_cast<size_t>(header_length));
  }
  ASSIGN_OR_RETURN(JsonValue root, ParseJson(json));
  if (!root.is_object()) return Bad("the request body must be a JSON object");
  request->set_model_name(model);
  request->set_model_version(version);
  if (const JsonValue* id = root.Find("id")) {
    if (!id->is_string()) return Bad("'id' must be a string");
    request->set_id(id->text);
  }
  RETURN_IF_ERROR(ToParameters(root.Find("parameters"), "", request->mutable_parameters()));
  if (auto it = request->parameters().find("binary_data_output");
      it != request->parameters().end()) {
    options->binary_default = it->second.bool_param();
    request->mutable_parameters()->erase("binary_data_output");
  }

  const JsonValue* inputs = root.Find("inputs");
  if (inputs == nullptr || !inputs->is_array()) return Bad("'inputs' must be an array");
  size_t binary_pos = 0;
  for (const JsonValue& in : inputs->items) {
    if (!in.is_object()) return Bad("each input must be an object");
    const JsonValue* name = in.Find("name");
    if (name == nullptr || !name->is_string()) return Bad("an input has no 'name' string");
    const std::string where = absl::StrCat("input '", name->text, "': ");
    auto* t = request->add_inputs();
    t->set_name(name->text);
    const JsonValue* datatype = in.Find("datatype");
    if (datatype == nullptr || !datatype->is_string()) {
      return Bad(absl::StrCat(where, "'datatype' must be a string"));
    }
    t->set_datatype(datatype->text);
    const JsonValue* shape = in.Find("shape");
    if (shape == nullptr || !shape->is_array())
      return Bad(absl::StrCat(where, "'shape' must be an array"));
    for (const JsonValue& d : shape->items) {
      const std::optional<int64_t> dim = d.AsInt64();
      if (!dim || *dim < 0) {
        return Bad(absl::StrCat(where, "'shape' must hold non-negative integers"));
      }
      t->add_shape(*dim);
    }
    RETURN_IF_ERROR(ToParameters(in.Find("parameters"), where, t->mutable_parameters()));
    std::string* raw = request->add_raw_input_contents();
    auto bds = t->parameters().find("binary_data_size");
    if (bds != t->parameters().end()) {
      const int64_t n = bds->second.int64_param();
      if (bds->second.parameter_choice_case() != inference::InferParameter::kInt64Param || n < 0) {
        return Bad(absl::StrCat(where, "binary_data_size must be a non-negative integer"));
      }
      if (static_cast<uint64_t>(n) > binary.size() - binary_pos) {
        return Bad(absl::StrCat(where, "binary_data_size ", n, " is past the end of the body (",
                                binary.size() - binary_pos, " binary bytes left)"));
      }
      raw->assign(binary.data() + binary_pos, static_cast<size_t>(n));
      binary_pos += static_cast<size_t>(n);
      t->mutable_parameters()->erase("binary_data_size");
      if (in.Find("data") != nullptr) {
        return Bad(absl::StrCat(where, "has both 'data' and binary_data_size"));
      }
    } else if (const JsonValue* data = in.Find("data")) {
      absl::StatusOr<inference::DataType> type = DataTypeFromWire(datatype->text);
      if (!type.ok()) return Bad(absl::StrCat(where, type.status().message()));
      RETURN_IF_ERROR(PackJson(*data, *type, name->text, raw));
    }
  }
  if (binary_pos != binary.size()) {
    return Bad(absl::StrCat("the body has ", binary.size() - binary_pos,
                            " binary bytes no input's binary_data_size accounts for"));
  }

  if (const JsonValue* outputs = root.Find("outputs")) {
    if (!outputs->is_array()) return Bad("'outputs' must be an array");
    for (const JsonValue& out : outputs->items) {
      const JsonValue* name = out.is_object() ? out.Find("name") : nullptr;
      if (name == nullptr || !name->is_string()) return Bad("an output has no 'name' string");
      auto* o = request->add_outputs();
      o->set_name(name->text);
      RETURN_IF_ERROR(ToParameters(out.Find("parameters"),
                                   absl::StrCat("output '", name->text, "': "),
                                   o->mutable_parameters()));
      bool binary_out = options->binary_default;
      if (auto it = o->parameters().find("binary_data"); it != o->parameters().end()) {
        binary_out = it->second.bool_param();
        o->mutable_parameters()->erase("binary_data");
      }
      options->binary.emplace_back(name->text, binary_out);
    }
  }
  return absl::OkStatus();
}

absl::Status WriteHttpInfer(inference::ModelInferResponse& response,
                            const HttpInferOptions& options, HttpResponse* http) {
  std::string json;
  std::string binary;
  JsonWriter w(&json);
  w.BeginObject();
  w.Key("model_name");
  w.String(response.model_name());
  w.Key("model_version");
  w.String(response.model_version());
  if (!response.id().empty()) {
    w.Key("id");
    w.String(response.id());
  }
  w.Key("outputs");
  w.BeginArray();
  for (int i = 0; i < response.outputs_size(); ++i) {
    const auto& out = response.outputs(i);
    bool as_binary = options.binary_default;
    for (const auto& [name, b] : options.binary) {
      if (name == out.name()) as_binary = b;
    }
    w.BeginObject();
    w.Key("name");
    w.String(out.name());
    w.Key("datatype");
    w.String(out.datatype());
    w.Key("shape");
    w.BeginArray();
    for (int64_t d : out.shape()) w.Int(d);
    w.EndArray();
    auto region = out.parameters().find("shared_memory_region");
    const std::string& raw = response.raw_output_contents(i);
    if (region != out.parameters().end()) {
      w.Key("parameters");
      w.BeginObject();
      w.Key("shared_memory_region");
      w.String(region->second.string_param());
      w.Key("shared_memory_byte_size");
      w.Int(out.parameters().at("shared_memory_byte_size").int64_param());
      w.EndObject();
    } else if (as_binary) {
      w.Key("parameters");
      w.BeginObject();
      w.Key("binary_data_size");
      w.Int(static_cast<int64_t>(raw.size()));
      w.EndObject();
      binary.append(raw);
    } else {
      absl::StatusOr<inference::DataType> type = DataTypeFromWire(out.datatype());
      if (!type.ok()) return type.status();
      w.Key("data");
      RETURN_IF_ERROR(WriteData(raw, *type, w));
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  http->status = 200;
  if (binary.empty()) {
    http->content_type = "application/json";
    http->body = std::move(json);
  } else {
    http->content_type = "application/octet-stream";
    http->headers.emplace_back("Inference-Header-Content-Length", absl::StrCat(json.size()));
    http->body = std::move(json);
    http->body.append(binary);
  }
  return absl::OkStatus();
}

}  // namespace uop::server
