#include "server/http_api.h"

#include <cstdint>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "runtime/base/json.h"
#include "runtime/base/status_macros.h"
#include "server/http_infer.h"
#include "server/proto_json.h"
#include "server/server_info.h"

namespace uop::server {
namespace {

absl::Status ToJson(const google::protobuf::Message& message, std::string* out) {
  JsonWriter w(out);
  WriteProtoJson(message, w);
  return absl::OkStatus();
}

absl::Status NotFoundPath(const HttpRequest& request) {
  return absl::NotFoundError(
      absl::StrCat("no endpoint ", request.method, " ", request.path, " (see KServe v2 REST)"));
}

absl::Status WrongMethod(const HttpRequest& request, absl::string_view want) {
  return absl::InvalidArgumentError(
      absl::StrCat(request.path, " takes ", want, ", not ", request.method));
}

}  // namespace

int HttpStatusFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
      return 500;
    default:
      return 400;
  }
}

void HttpApi::Handle(const HttpRequest& request, HttpResponse* response) {
  absl::Status status = Route(request, response);
  if (!status.ok()) {
    response->status = HttpStatusFor(status);
    response->content_type = "application/json";
    response->headers.clear();
    response->body.clear();
    JsonWriter w(&response->body);
    w.BeginObject();
    w.Key("error");
    w.String(status.message());
    w.EndObject();
  }
}

absl::Status HttpApi::Route(const HttpRequest& request, HttpResponse* response) {
  const bool get = request.method == "GET" || request.method == "HEAD";
  const bool post = request.method == "POST";
  std::vector<std::string> parts = absl::StrSplit(request.path, '/', absl::SkipEmpty());
  if (parts.empty() || parts[0] != "v2") return NotFoundPath(request);
  parts.erase(parts.begin());
  response->status = 200;

  if (parts.empty()) {  // server metadata
    if (!get) return WrongMethod(request, "GET");
    JsonWriter w(&response->body);
    w.BeginObject();
    w.Key("name");
    w.String(kServerName);
    w.Key("version");
    w.String(kServerVersion);
    w.Key("extensions");
    w.BeginArray();
    for (absl::string_view e : kServerExtensions) w.String(e);
    w.EndArray();
    w.EndObject();
    return absl::OkStatus();
  }

  if (parts[0] == "health" && parts.size() == 2) {
    if (!get) return WrongMethod(request, "GET");
    response->content_type.clear();
    if (parts[1] == "live") return absl::OkStatus();
    if (parts[1] == "ready") {
      if (!core_->ServerReady()) return absl::UnavailableError("uopd is not ready");
      return absl::OkStatus();
    }
    return NotFoundPath(request);
  }

  if (parts[0] == "models") {
    if (parts.size() == 2 && parts[1] == "stats") {
      if (!get) return WrongMethod(request, "GET");
      inference::ModelStatisticsResponse stats;
      RETURN_IF_ERROR(core_->Statistics("", "", &stats));
      return ToJson(stats, &response->body);
    }
    if (parts.size() < 2) return NotFoundPath(request);
    const std::string model = parts[1];
    std::string version;
    size_t next = 2;
    if (parts.size() >= 4 && parts[2] == "versions") {
      version = parts[3];
      next = 4;
    }
    const std::string action = parts.size() > next ? parts[next] : "";
    if (parts.size() > next + 1) return NotFoundPath(request);
    if (action.empty()) {
      if (!get) return WrongMethod(request, "GET");
      inference::ModelMetadataResponse metadata;
      RETURN_IF_ERROR(core_->Metadata(model, version, &metadata));
      return ToJson(metadata, &response->body);
    }
    if (action == "ready") {
      if (!get) return WrongMethod(request, "GET");
      response->content_type.clear();
      return core_->models().Get(model, version).status();
    }
    if (action == "config") {
      if (!get) return WrongMethod(request, "GET");
      inference::ModelConfigResponse config;
      RETURN_IF_ERROR(core_->Config(model, version, &config));
      return ToJson(config.config(), &response->body);
    }
    if (action == "stats") {
      if (!get) return WrongMethod(request, "GET");
      inference::ModelStatisticsResponse stats;
      RETURN_IF_ERROR(core_->Statistics(model, version, &stats));
      return ToJson(stats, &response->body);
    }
    if (action == "infer") {
      if (!post) return WrongMethod(request, "POST");
      int64_t header_length = -1;
      absl::string_view h = request.Header("inference-header-content-length");
      if (!h.empty() && (!absl::SimpleAtoi(h, &header_length) || header_length < 0)) {
        return absl::InvalidArgumentError(
            absl::StrCat("Inference-Header-Content-Length '", h, "' is not a byte count"));
      }
      inference::ModelInferRequest infer;
      HttpInferOptions options;
      RETURN_IF_ERROR(
          ParseHttpInfer(request.body, header_length, model, version, &infer, &options));
      inference::ModelInferResponse result;
      RETURN_IF_ERROR(core_->Infer(infer, absl::InfiniteFuture(), nullptr, &result));
      return WriteHttpInfer(result, options, response);
    }
    return NotFoundPath(request);
  }

  if (parts[0] == "repository") {
    if (!post) return WrongMethod(request, "POST");
    if (parts.size() == 2 && parts[1] == "index") {
      bool ready = false;
      if (!request.body.empty()) {
        ASSIGN_OR_RETURN(JsonValue body, ParseJson(request.body));
        if (const JsonValue* r = body.Find("ready"); r != nullptr && r->is_bool())
          ready = r->boolean;
      }
      inference::RepositoryIndexResponse index;
      RETURN_IF_ERROR(core_->Index(ready, &index));
      JsonWriter w(&response->body);
      w.BeginArray();
      for (const auto& m : index.models()) {
        w.BeginObject();
        w.Key("name");
        w.String(m.name());
        if (!m.version().empty()) {
          w.Key("version");
          w.String(m.version());
        }
        if (!m.state().empty()) {
          w.Key("state");
          w.String(m.state());
        }
        if (!m.reason().empty()) {
          w.Key("reason");
          w.String(m.reason());
        }
        w.EndObject();
      }
      w.EndArray();
      return absl::OkStatus();
    }
    if (parts.size() == 4 && parts[1] == "models" && (parts[3] == "load" || parts[3] == "unload")) {
      if (parts[3] == "unload") {
        inference::RepositoryModelUnloadRequest unload;
        unload.set_model_name(parts[2]);
        response->content_type.clear();
        return core_->Unload(unload);
      }
      inference::RepositoryModelLoadRequest load;
      load.set_model_name(parts[2]);
      if (!request.body.empty()) {
        ASSIGN_OR_RETURN(JsonValue body, ParseJson(request.body));
        if (const JsonValue* params = body.Find("parameters")) {
          if (!params->is_object()) {
            return absl::InvalidArgumentError("'parameters' must be an object");
          }
          for (const auto& [key, value] : params->members) {
            auto& p = (*load.mutable_parameters())[key];
            if (key.rfind("file:", 0) == 0) {
              std::string bytes;
              if (!value.is_string() || !absl::Base64Unescape(value.text, &bytes)) {
                return absl::InvalidArgumentError(
                    absl::StrCat("parameter '", key, "' must be base64-encoded file content"));
              }
              p.set_bytes_param(std::move(bytes));
            } else if (value.is_string()) {
              p.set_string_param(value.text);
            } else if (value.is_bool()) {
              p.set_bool_param(value.boolean);
            } else if (std::optional<int64_t> i = value.AsInt64()) {
              p.set_int64_param(*i);
            } else {
              return absl::InvalidArgumentError(
                  absl::StrCat("parameter '", key, "' must be a string, bool or integer"));
            }
          }
        }
      }
      response->content_type.clear();
      return core_->Load(load);
    }
    return NotFoundPath(request);
  }

  if (parts[0] == "systemsharedmemory") {
    std::string region;
    size_t next = 1;
    if (parts.size() >= 3 && parts[1] == "region") {
      region = parts[2];
      next = 3;
    }
    if (parts.size() != next + 1) return NotFoundPath(request);
    const std::string& action = parts[next];
    if (action == "status") {
      if (!get) return WrongMethod(request, "GET");
      inference::SystemSharedMemoryStatusResponse status;
      RETURN_IF_ERROR(core_->ShmStatus(region, &status));
      JsonWriter w(&response->body);
      w.BeginArray();
      for (const auto& [name, r] : status.regions()) {
        w.BeginObject();
        w.Key("name");
        w.String(r.name());
        w.Key("key");
        w.String(r.key());
        w.Key("offset");
        w.Uint(r.offset());
        w.Key("byte_size");
        w.Uint(r.byte_size());
        w.EndObject();
      }
      w.EndArray();
      return absl::OkStatus();
    }
    if (!post) return WrongMethod(request, "POST");
    response->content_type.clear();
    if (action == "unregister") return core_->shm().Unregister(region);
    if (action == "register" && !region.empty()) {
      ASSIGN_OR_RETURN(JsonValue body, ParseJson(request.body));
      const JsonValue* key = body.Find("key");
      const JsonValue* offset = body.Find("offset");
      const JsonValue* size = body.Find("byte_size");
      const std::optional<uint64_t> size_value = size ? size->AsUint64() : std::nullopt;
      const std::optional<uint64_t> offset_value = offset ? offset->AsUint64() : uint64_t{0};
      if (key == nullptr || !key->is_string() || !size_value || !offset_value) {
        return absl::InvalidArgumentError(
            "register takes {\"key\": string, \"offset\": integer, \"byte_size\": integer}");
      }
      return core_->shm().Register(region, key->text, *offset_value, *size_value);
    }
    return NotFoundPath(request);
  }

  if (parts[0] == "cudasharedmemory") {
    return absl::UnimplementedError(
        "CUDA shared memory is not supported by uopd: it has no CUDA device here; use system "
        "shared memory");
  }
  return NotFoundPath(request);
}

}  // namespace uop::server
