#include "tests/onnx/conformance_runner.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "onnx/onnx_pb.h"
#include "runtime/base/status_macros.h"
#include "runtime/onnx/model.h"
#include "runtime/onnx/onnx_model.h"
#include "runtime/onnx/tensor_proto.h"

namespace uop::onnx_import {
namespace {

bool IsDir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool IsFile(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct IndexEntry {
  std::string op;
  double rtol = 1e-3, atol = 1e-7;
};

// index.json of a folder of cases, if any.
std::map<std::string, IndexEntry> ReadIndex(const std::string& dir) {
  std::map<std::string, IndexEntry> out;
  absl::StatusOr<std::string> text = ReadFileBytes(dir + "/index.json", int64_t{64} << 20);
  if (!text.ok()) return out;
  google::protobuf::Struct root;
  if (!google::protobuf::util::JsonStringToMessage(*text, &root).ok()) return out;
  for (const auto& [name, v] : root.fields()) {
    if (!v.has_struct_value()) continue;
    IndexEntry e;
    const auto& f = v.struct_value().fields();
    if (auto it = f.find("op"); it != f.end()) e.op = it->second.string_value();
    if (auto it = f.find("rtol"); it != f.end()) e.rtol = it->second.number_value();
    if (auto it = f.find("atol"); it != f.end()) e.atol = it->second.number_value();
    out[name] = e;
  }
  return out;
}

void Walk(const std::string& dir, int depth, std::vector<ConformanceCase>* out) {
  if (IsFile(dir + "/model.onnx")) {
    ConformanceCase c;
    c.dir = dir;
    size_t slash = dir.find_last_of('/');
    c.name = slash == std::string::npos ? dir : dir.substr(slash + 1);
    std::string parent = slash == std::string::npos ? "." : dir.substr(0, slash);
    std::map<std::string, IndexEntry> index = ReadIndex(parent);
    if (auto it = index.find(c.name); it != index.end()) {
      c.op = it->second.op;
      c.rtol = it->second.rtol;
      c.atol = it->second.atol;
    }
    out->push_back(std::move(c));
    return;
  }
  if (depth > 8) return;
  std::map<std::string, IndexEntry> index = ReadIndex(dir);
  for (const std::string& n : ListDir(dir)) {
    std::string sub = dir + "/" + n;
    if (!IsDir(sub)) continue;
    if (IsFile(sub + "/model.onnx")) {
      ConformanceCase c;
      c.dir = sub;
      c.name = n;
      if (auto it = index.find(n); it != index.end()) {
        c.op = it->second.op;
        c.rtol = it->second.rtol;
        c.atol = it->second.atol;
      }
      out->push_back(std::move(c));
    } else {
      Walk(sub, depth + 1, out);
    }
  }
}

std::string ShapeStr(const Shape& s) { return ShapeToString(s); }

// onnx 1.12's test writer stores bfloat16 data as UINT16 tensors: read them
// as the bfloat16 the graph declares.
void FixBFloat16(const onnx::TypeProto& type, HostValue* v) {
  if (type.has_tensor_type() && type.tensor_type().elem_type() == onnx::TensorProto::BFLOAT16 &&
      v->is_tensor() && v->tensor().dtype == DType::UInt16())
    v->mutable_tensor().dtype = DType::BFloat16();
}

absl::Status CompareTensors(const HostTensor& got, const HostTensor& want, double rtol,
                            double atol) {
  if (got.is_string != want.is_string || (!got.is_string && got.dtype != want.dtype))
    return absl::InvalidArgumentError(
        absl::StrCat("dtype ", got.Describe(), ", expected ", want.Describe()));
  if (got.shape != want.shape)
    return absl::InvalidArgumentError(
        absl::StrCat("shape ", ShapeStr(got.shape), ", expected ", ShapeStr(want.shape)));
  const int64_t n = want.numel();
  if (want.is_string) {
    for (int64_t i = 0; i < n; ++i)
      if (got.strings[i] != want.strings[i])
        return absl::InvalidArgumentError(absl::StrCat("string ", i, " is '", got.strings[i],
                                                       "', expected '", want.strings[i], "'"));
    return absl::OkStatus();
  }
  int64_t bad = 0, first = -1;
  double worst = 0;
  const bool is_float = want.dtype.is_float();
  for (int64_t i = 0; i < n; ++i) {
    bool ok;
    if (is_float) {
      const double g = got.AsDouble(i), w = want.AsDouble(i);
      if (std::isnan(w) || std::isnan(g)) {
        ok = std::isnan(w) && std::isnan(g);
      } else if (std::isinf(w) || std::isinf(g)) {
        ok = g == w;
      } else {
        const double err = std::abs(g - w);
        ok = err <= atol + rtol * std::abs(w);
        if (!ok) worst = std::max(worst, err);
      }
    } else {
      ok = std::memcmp(got.bytes.data() + i * want.dtype.itemsize(),
                       want.bytes.data() + i * want.dtype.itemsize(), want.dtype.itemsize()) == 0;
    }
    if (!ok) {
      if (first < 0) first = i;
      ++bad;
    }
  }
  if (bad == 0) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      bad, "/", n, " values differ (first at ", first, ": got ", got.AsDouble(first), ", want ",
      want.AsDouble(first), is_float ? absl::StrCat("; max abs err ", worst) : "", ")"));
}

}  // namespace

absl::Status CompareValues(const HostValue& got, const HostValue& want, double rtol, double atol) {
  if (got.kind() != want.kind())
    return absl::InvalidArgumentError(
        absl::StrCat("got ", got.Describe(), ", expected ", want.Describe()));
  switch (want.kind()) {
    case HostValue::Kind::kTensor:
      return CompareTensors(got.tensor(), want.tensor(), rtol, atol);
    case HostValue::Kind::kSequence:
      if (got.sequence().size() != want.sequence().size())
        return absl::InvalidArgumentError(absl::StrCat("sequence of ", got.sequence().size(),
                                                       ", expected ", want.sequence().size()));
      for (size_t i = 0; i < want.sequence().size(); ++i) {
        absl::Status st = CompareValues(got.sequence()[i], want.sequence()[i], rtol, atol);
        if (!st.ok())
          return absl::InvalidArgumentError(absl::StrCat("item ", i, ": ", st.message()));
      }
      return absl::OkStatus();
    case HostValue::Kind::kNone:
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ConformanceCase>> FindCases(const std::vector<std::string>& roots) {
  std::vector<ConformanceCase> out;
  for (const std::string& r : roots) {
    std::string root = r;
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    if (!IsDir(root)) return absl::NotFoundError(absl::StrCat("no folder '", r, "'"));
    Walk(root, 0, &out);
  }
  std::sort(out.begin(), out.end(),
            [](const ConformanceCase& a, const ConformanceCase& b) { return a.name < b.name; });
  return out;
}

namespace {

absl::Status RunCaseOrError(const ConformanceCase& c, const std::string& device) {
  LoadOptions options;
  options.device = device;
  ASSIGN_OR_RETURN(std::unique_ptr<OnnxModel> model,
                   OnnxModel::Load(c.dir + "/model.onnx", options));
  // The declared types decide how each .pb file is read.
  ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(c.dir + "/model.onnx"));
  onnx::ModelProto proto;
  RETURN_IF_ERROR(ParseModelProto(bytes, LoadOptions{}, &proto));
  std::vector<const onnx::ValueInfoProto*> inputs;
  for (const onnx::ValueInfoProto& vi : proto.graph().input()) {
    bool is_init = false;
    for (const onnx::TensorProto& t : proto.graph().initializer()) is_init |= t.name() == vi.name();
    if (!is_init) inputs.push_back(&vi);
  }
  int sets = 0;
  for (const std::string& n : ListDir(c.dir)) {
    if (!absl::StartsWith(n, "test_data_set_")) continue;
    ++sets;
    const std::string set = c.dir + "/" + n;
    std::vector<std::pair<std::string, HostValue>> feed;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::string file = absl::StrCat(set, "/input_", i, ".pb");
      if (!IsFile(file)) break;  // trailing optional inputs may be omitted
      ASSIGN_OR_RETURN(std::string b, ReadFileBytes(file));
      absl::StatusOr<HostValue> v = ParseValueFile(b, ValueFileKindOf(inputs[i]->type()));
      if (!v.ok())
        return absl::InvalidArgumentError(absl::StrCat(file, ": ", v.status().message()));
      FixBFloat16(inputs[i]->type(), &*v);
      feed.emplace_back(inputs[i]->name(), *std::move(v));
    }
    ASSIGN_OR_RETURN(std::vector<HostValue> outs, model->Run(feed));
    for (int i = 0; i < proto.graph().output_size(); ++i) {
      const std::string file = absl::StrCat(set, "/output_", i, ".pb");
      ASSIGN_OR_RETURN(std::string b, ReadFileBytes(file));
      absl::StatusOr<HostValue> want =
          ParseValueFile(b, ValueFileKindOf(proto.graph().output(i).type()));
      if (!want.ok())
        return absl::InvalidArgumentError(absl::StrCat(file, ": ", want.status().message()));
      FixBFloat16(proto.graph().output(i).type(), &*want);
      absl::Status st = CompareValues(outs[i], *want, c.rtol, c.atol);
      if (!st.ok())
        return absl::Status(
            st.code(), absl::StrCat("mismatch: output ", i, " '", proto.graph().output(i).name(),
                                    "': ", st.message()));
    }
  }
  if (sets == 0) return absl::NotFoundError("no test_data_set_* folder");
  return absl::OkStatus();
}

}  // namespace

CaseResult RunCase(const ConformanceCase& c, const std::string& device) {
  CaseResult r;
  r.name = c.name;
  r.op = c.op;
  auto t0 = std::chrono::steady_clock::now();
  absl::Status st = RunCaseOrError(c, device);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.pass = st.ok();
  if (!st.ok()) {
    r.reason = std::string(st.message());
    for (char& ch : r.reason)
      if (ch == '\n') ch = ' ';
  }
  return r;
}

}  // namespace uop::onnx_import
