// uoprun compile: an ONNX model -> an artifact file.
#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "client/lib/flags.h"
#include "client/uoprun/cli.h"
#include "client/uoprun/commands.h"
#include "client/uoprun/compile.h"

namespace uop::uoprun {
namespace {

// --bind NAME=NUMBER or NAME=FILE.npy
absl::Status AddBinding(const std::string& arg, CompileOptions& o) {
  absl::StatusOr<std::pair<std::string, std::string>> nv = client::SplitNameValue("bind", arg);
  if (!nv.ok()) return nv.status();
  BoundInput b;
  if (absl::EndsWith(nv->second, ".npy")) {
    absl::StatusOr<client::NpyArray> a = client::ReadNpyFile(nv->second);
    if (!a.ok()) return a.status();
    b.array = std::move(*a);
  } else if (!absl::SimpleAtod(nv->second, &b.scalar)) {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --bind: '", nv->second, "' is neither a number nor a .npy file"));
  }
  o.bound[nv->first] = std::move(b);
  return absl::OkStatus();
}

}  // namespace

int CompileCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string output, device = "CPU", cache_dir = "-";
  std::vector<std::string> shapes, binds, examples;
  int64_t beam = 0;
  client::FlagSet f("uoprun compile MODEL.onnx [-o MODEL.uop] [flags]",
                    "Compiles an ONNX model ahead of time into an artifact for one device:\n"
                    "compiled kernels, launch list, memory plan and weights, checksummed.");
  f.String("output", 'o', &output, "FILE", "artifact to write (default: MODEL with .uop)");
  f.String("device", 'd', &device, "NAME", "device to compile for: cpu, cuda, cuda:1");
  f.Repeated("shape", 's', &shapes, "NAME=D0,D1,..",
             "shape of an input with dynamic dimensions (repeatable)");
  f.Repeated("bind", 0, &binds, "NAME=VALUE|FILE.npy",
             "fix an input's value in the artifact (e.g. a sample rate); it stops being an input");
  f.Repeated("example-input", 0, &examples, "NAME=FILE.npy",
             "capture with this data instead of zeros");
  f.Int("beam", 0, &beam, "BEAM search width for kernel optimizations (0: heuristics)");
  f.String("cache-dir", 0, &cache_dir, "DIR",
           "kernel cache directory ('-': none, '': the default cache)");
  absl::StatusOr<std::vector<std::string>> pos = f.Parse(args);
  if (!pos.ok()) return Fail(err, pos.status(), kExitUsage);
  if (f.help_requested()) {
    out << f.Help();
    return kExitOk;
  }
  if (pos->size() != 1) {
    return Fail(err, absl::InvalidArgumentError("compile takes one model file (see --help)"),
                kExitUsage);
  }
  const std::string model = (*pos)[0];
  if (output.empty()) {
    output = absl::EndsWith(model, ".onnx") ? model.substr(0, model.size() - 5) + ".uop"
                                            : model + ".uop";
  }
  CompileOptions o;
  o.device = device;
  o.engine.cache_dir = cache_dir;
  o.engine.beam = static_cast<int>(beam);
  for (const std::string& s : shapes) {
    absl::StatusOr<std::pair<std::string, std::string>> nv = client::SplitNameValue("shape", s);
    if (!nv.ok()) return Fail(err, nv.status(), kExitUsage);
    absl::StatusOr<std::vector<int64_t>> dims = client::ParseDims(nv->second);
    if (!dims.ok()) return Fail(err, dims.status(), kExitUsage);
    o.shapes[nv->first] = *dims;
  }
  for (const std::string& b : binds) {
    if (absl::Status st = AddBinding(b, o); !st.ok()) return Fail(err, st, kExitUsage);
  }
  for (const std::string& e : examples) {
    absl::StatusOr<std::pair<std::string, std::string>> nv =
        client::SplitNameValue("example-input", e);
    if (!nv.ok()) return Fail(err, nv.status(), kExitUsage);
    absl::StatusOr<client::NpyArray> a = client::ReadNpyFile(nv->second);
    if (!a.ok()) return Fail(err, a.status(), kExitUsage);
    o.example_inputs[nv->first] = std::move(*a);
  }

  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Artifact> a = CompileOnnx(model, o);
  if (!a.ok()) return Fail(err, a.status(), kExitFailure);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  absl::StatusOr<std::string> bytes = a->Serialize();
  if (!bytes.ok()) return Fail(err, bytes.status(), kExitFailure);
  if (absl::Status st = client::WriteWholeFile(output, *bytes); !st.ok()) {
    return Fail(err, st, kExitFailure);
  }
  out << absl::StrFormat(
      "uoprun: compiled %s for %s in %.0f ms: %d kernels, %d launches, %.2f MB -> %s\n", model,
      a->device, ms, a->kernels.size(), a->launches.size(), bytes->size() / 1e6, output);
  return kExitOk;
}

}  // namespace uop::uoprun
