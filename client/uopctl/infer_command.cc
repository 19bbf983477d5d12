// uopctl infer: one inference request; outputs printed or written as .npy.
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/lib/npy.h"
#include "client/uopctl/cli.h"
#include "client/uopctl/commands.h"
#include "client/uopctl/model_inputs.h"
#include "client/uopctl/shm_session.h"
#include "client/uopctl/tensor_text.h"
#include "runtime/base/json.h"

namespace uop::uopctl {
namespace {

// Output sizes for shared memory: the declared shapes must be fixed.
absl::StatusOr<size_t> FixedOutputBytes(const inference::ModelMetadataResponse::TensorMetadata& o) {
  absl::StatusOr<client::Datatype> d = client::ParseDatatype(o.datatype());
  if (!d.ok()) return d.status();
  std::vector<int64_t> shape(o.shape().begin(), o.shape().end());
  for (int64_t dim : shape) {
    if (dim < 0 || *d == client::Datatype::kBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("--shared-memory system needs outputs of fixed size; '", o.name(), "' is ",
                       o.datatype(), client::ShapeString(shape)));
    }
  }
  absl::StatusOr<int64_t> n = client::ElementCount(shape);
  if (!n.ok()) return n.status();
  return static_cast<size_t>(*n) * client::DatatypeSize(*d);
}

}  // namespace

int InferCommand(Context& ctx, const std::vector<std::string>& args) {
  std::string version, id, output_dir, shm = "none";
  std::vector<std::string> inputs, shapes, outputs, writes;
  bool json = false, full = false;
  client::FlagSet f("uopctl infer MODEL -i NAME=SPEC... [flags]",
                    "Runs one inference and prints the outputs (or writes them as .npy files).\n"
                    "An input SPEC is FILE.npy, FILE.json, inline JSON like [[1,2],[3,4]] or\n"
                    "{\"data\": [...], \"shape\": [...]}, zeros, random, or a file of raw bytes.");
  f.Repeated("input", 'i', &inputs, "NAME=SPEC", "data for one input (repeatable)");
  f.Repeated("shape", 's', &shapes, "NAME=D0,D1,..", "shape of an input with dynamic dims");
  f.Repeated("output", 0, &outputs, "NAME", "request only these outputs (repeatable)");
  f.Repeated("write", 'o', &writes, "NAME=FILE.npy", "write an output to a .npy file");
  f.String("output-dir", 0, &output_dir, "DIR", "write every output to DIR/NAME.npy");
  f.String("model-version", 0, &version, "V", "a version (default: the server's choice)");
  f.String("id", 0, &id, "ID", "request id (echoed in the response)");
  f.String("shared-memory", 0, &shm, "none|system",
           "pass inputs and outputs through a POSIX shared-memory region");
  f.Bool("json", 0, &json, "print the outputs as KServe JSON");
  f.Bool("full", 0, &full, "print every value (default: at most 16 per output)");
  std::vector<std::string> pos;
  int code;
  if (!ParseFlags(ctx, f, args, &pos, &code)) return code;
  if (pos.size() != 1) return ctx.Usage("infer takes one model name");
  if (shm != "none" && shm != "system") {
    return ctx.Usage(absl::StrCat("flag --shared-memory: '", shm, "' is not none or system"));
  }
  std::map<std::string, std::string> write_to;
  for (const std::string& w : writes) {
    absl::StatusOr<std::pair<std::string, std::string>> nv = client::SplitNameValue("write", w);
    if (!nv.ok()) return ctx.Usage(nv.status());
    write_to[nv->first] = nv->second;
  }
  const std::string& model = pos[0];
  auto client = ctx.Connect(absl::Seconds(30));
  if (!client.ok()) return ctx.Usage(client.status());
  absl::StatusOr<inference::ModelMetadataResponse> meta = (*client)->ModelMetadata(model, version);
  if (!meta.ok()) return ctx.Fail(meta.status());
  absl::StatusOr<std::vector<client::NpyArray>> tensors = ResolveInputs(*meta, inputs, shapes, "");
  if (!tensors.ok()) return ctx.Usage(tensors.status());

  std::vector<client::InferInput> request;
  std::vector<client::RequestedOutput> requested;
  for (const std::string& o : outputs) requested.push_back({o, std::nullopt});
  std::unique_ptr<ShmSession> session;
  if (shm == "system") {
    if (requested.empty()) {
      for (const auto& o : meta->outputs()) requested.push_back({o.name(), std::nullopt});
    }
    size_t total = 0;
    for (const client::NpyArray& t : *tensors) total += ShmSession::Aligned(t.data.size());
    std::vector<size_t> out_bytes;
    for (const client::RequestedOutput& r : requested) {
      const inference::ModelMetadataResponse::TensorMetadata* o = nullptr;
      for (const auto& m : meta->outputs()) o = m.name() == r.name ? &m : o;
      if (!o) return ctx.Usage(absl::StrCat("flag --output: model has no output '", r.name, "'"));
      absl::StatusOr<size_t> bytes = FixedOutputBytes(*o);
      if (!bytes.ok()) return ctx.Usage(bytes.status());
      out_bytes.push_back(*bytes);
      total += ShmSession::Aligned(*bytes);
    }
    absl::StatusOr<std::unique_ptr<ShmSession>> s = ShmSession::Create(**client, total);
    if (!s.ok()) return ctx.Fail(s.status());
    session = std::move(*s);
    absl::StatusOr<std::vector<client::InferInput>> in =
        session->PutInputs(InputNames(*meta), *tensors);
    if (!in.ok()) return ctx.Fail(in.status());
    request = std::move(*in);
    for (size_t i = 0; i < requested.size(); ++i) {
      absl::StatusOr<client::SharedMemoryRef> ref = session->Reserve(out_bytes[i]);
      if (!ref.ok()) return ctx.Fail(ref.status());
      requested[i].shared_memory = *ref;
    }
  } else {
    absl::StatusOr<std::vector<client::InferInput>> in = ToInferInputs(*meta, *tensors);
    if (!in.ok()) return ctx.Usage(in.status());
    request = std::move(*in);
  }

  absl::StatusOr<client::InferResult> result = (*client)->Infer(
      {.model_name = model, .model_version = version, .request_id = id}, request, requested);
  if (!result.ok()) return ctx.Fail(result.status());
  // Outputs that came through shared memory: copy them out of the region.
  std::vector<client::OutputTensor> outs = result->outputs();
  for (client::OutputTensor& o : outs) {
    if (!o.shared_memory || !session) continue;
    o.raw = std::string(session->Read(*o.shared_memory));
    if (absl::Status st = client::CheckRawSize(o.name, o.datatype, o.shape, o.raw); !st.ok()) {
      // The region holds the declared size; the real output may be smaller.
      absl::StatusOr<int64_t> n = client::ElementCount(o.shape);
      if (n.ok()) o.raw.resize(static_cast<size_t>(*n) * client::DatatypeSize(o.datatype));
    }
    o.shared_memory.reset();
  }

  if (json) {
    ctx.out << "{\"model_name\": " << JsonQuote(result->model_name())
            << ", \"model_version\": " << JsonQuote(result->model_version())
            << ", \"id\": " << JsonQuote(result->id()) << ", \"outputs\": [";
    for (size_t i = 0; i < outs.size(); ++i) ctx.out << (i ? ", " : "") << TensorJson(outs[i]);
    ctx.out << "]}\n";
  } else {
    for (const client::OutputTensor& o : outs) ctx.out << FormatTensor(o, full ? 0 : 16) << "\n";
  }
  for (const client::OutputTensor& o : outs) {
    std::string path;
    if (auto w = write_to.find(o.name); w != write_to.end()) {
      path = w->second;
      write_to.erase(w);
    } else if (!output_dir.empty()) {
      path = output_dir + "/" + client::NpyFileName(o.name);
    } else {
      continue;
    }
    absl::Status st = client::WriteNpyFile(path, {o.datatype, o.shape, o.raw});
    if (!st.ok()) {
      ctx.err << "uopctl: " << o.name << ": " << st.message() << "\n";
      return kExitServerError;
    }
  }
  if (!write_to.empty()) {
    return ctx.Usage(
        absl::StrCat("flag --write: the response has no output '", write_to.begin()->first, "'"));
  }
  return kExitOk;
}

}  // namespace uop::uopctl
