// A deterministic mutation driver for fuzz_model.cc (no clang needed): it
// mutates seed models (built here, plus any files in $UOP_FUZZ_CORPUS) with
// bit flips, interesting bytes, deletions, duplications, insertions,
// truncation and splices, and feeds each mutant to the target until the time
// budget ($UOP_FUZZ_SECONDS, default 20) runs out. The seed of the random
// stream is fixed, so a failure reproduces; the last input is written to
// $TEST_UNDECLARED_OUTPUTS_DIR (or /tmp) before it runs; `model_fuzz_test FILE`
// runs one file (to reproduce a failure).
#include <dirent.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "runtime/onnx/tensor_proto.h"
#include "runtime/onnx/test_model_builder.h"

namespace uop::onnx_import {
void FuzzOneModel(const uint8_t* data, size_t size);
namespace {

constexpr int kF = onnx::TensorProto::FLOAT;

std::vector<std::string> Seeds() {
  std::vector<std::string> seeds;
  {
    TestModelBuilder b(13);
    b.Input("x", kF, {1, 2, 6, 6});
    b.Initializer("w", HostTensor::FromVector<float>(std::vector<float>(36, 0.5f), {2, 2, 3, 3}));
    onnx::NodeProto& c = b.Node("Conv", {"x", "w"}, {"c"});
    TestModelBuilder::AttrInts(c, "pads", {1, 1, 1, 1});
    b.Node("Relu", {"c"}, {"r"});
    onnx::NodeProto& p = b.Node("MaxPool", {"r"}, {"y"});
    TestModelBuilder::AttrInts(p, "kernel_shape", {2, 2});
    TestModelBuilder::AttrInts(p, "strides", {2, 2});
    b.Output("y");
    seeds.push_back(b.Bytes());
  }
  {
    TestModelBuilder b(13);
    b.Input("x", kF, {-1, 4}, {"N"});
    b.Node("Shape", {"x"}, {"s"});
    b.Initializer("i", HostTensor::FromVector<int64_t>({0}, {1}));
    b.Initializer("m", HostTensor::FromVector<int64_t>({-1}, {1}));
    b.Node("Gather", {"s", "i"}, {"n"});
    TestModelBuilder::AttrInt(b.Node("Concat", {"n", "m"}, {"shape"}), "axis", 0);
    b.Node("Reshape", {"x", "shape"}, {"r"});
    b.Node("Softmax", {"r"}, {"y"});
    b.Output("y");
    seeds.push_back(b.Bytes());
  }
  {
    TestModelBuilder b(13);
    b.Input("c", onnx::TensorProto::BOOL, {});
    b.Input("x", kF, {3});
    onnx::GraphProto t, e;
    auto* n = t.add_node();
    n->set_op_type("Neg");
    n->add_input("x");
    n->add_output("a");
    t.add_output()->set_name("a");
    auto* m = e.add_node();
    m->set_op_type("Abs");
    m->add_input("x");
    m->add_output("b");
    e.add_output()->set_name("b");
    onnx::NodeProto& node = b.Node("If", {"c"}, {"y"});
    TestModelBuilder::AttrGraph(node, "then_branch", t);
    TestModelBuilder::AttrGraph(node, "else_branch", e);
    b.Output("y");
    seeds.push_back(b.Bytes());
  }
  {
    TestModelBuilder b(13);
    b.Input("x", kF, {2});
    b.Initializer("n", HostTensor::FromVector<int64_t>({3}, {}));
    b.Initializer("cond", HostTensor::FromVector<bool>({true}, {}));
    onnx::GraphProto body;
    TestModelBuilder::SetType(body.add_input(), "i", onnx::TensorProto::INT64, {}, {});
    TestModelBuilder::SetType(body.add_input(), "c", onnx::TensorProto::BOOL, {}, {});
    TestModelBuilder::SetType(body.add_input(), "v", kF, {2}, {});
    auto* add = body.add_node();
    add->set_op_type("Add");
    add->add_input("v");
    add->add_input("v");
    add->add_output("v2");
    auto* id = body.add_node();
    id->set_op_type("Identity");
    id->add_input("c");
    id->add_output("c2");
    body.add_output()->set_name("c2");
    body.add_output()->set_name("v2");
    onnx::NodeProto& loop = b.Node("Loop", {"n", "cond", "x"}, {"y"});
    TestModelBuilder::AttrGraph(loop, "body", body);
    b.Output("y");
    seeds.push_back(b.Bytes());
  }
  {
    TestModelBuilder b(14);
    b.Input("x", kF, {2, 1, 3});
    b.Initializer("w", HostTensor::FromVector<float>(std::vector<float>(24, 0.1f), {1, 8, 3}));
    b.Initializer("r", HostTensor::FromVector<float>(std::vector<float>(16, 0.1f), {1, 8, 2}));
    onnx::NodeProto& l = b.Node("LSTM", {"x", "w", "r"}, {"y", "h"});
    TestModelBuilder::AttrInt(l, "hidden_size", 2);
    b.Output("y");
    b.Output("h");
    seeds.push_back(b.Bytes());
  }
  {
    TestModelBuilder b(13);
    b.Input("x", kF, {1, 1, 2, 2});
    b.Initializer("roi", HostTensor::FromVector<float>({}, {0}));
    b.Initializer("scales", HostTensor::FromVector<float>({1, 1, 2, 2}, {4}));
    onnx::NodeProto& r = b.Node("Resize", {"x", "roi", "scales"}, {"y"});
    TestModelBuilder::AttrString(r, "mode", "linear");
    b.Output("y");
    seeds.push_back(b.Bytes());
  }
  if (const char* dir = std::getenv("UOP_FUZZ_CORPUS")) {
    if (DIR* d = opendir(dir)) {
      while (dirent* e = readdir(d)) {
        absl::StatusOr<std::string> bytes =
            ReadFileBytes(std::string(dir) + "/" + e->d_name, 1 << 20);
        if (bytes.ok()) seeds.push_back(*bytes);
      }
      closedir(d);
    }
  }
  return seeds;
}

std::string Mutate(std::string s, const std::vector<std::string>& seeds, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  const int rounds = 1 + static_cast<int>(rng() % 4);
  for (int r = 0; r < rounds; ++r) {
    switch (rng() % 7) {
      case 0:  // flip a bit
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 1: {  // an interesting byte
        static const uint8_t kBytes[] = {0, 1, 0x7f, 0x80, 0xff, 0x08, 0x12, 0x3a};
        if (!s.empty()) s[pick(s.size())] = static_cast<char>(kBytes[rng() % sizeof(kBytes)]);
        break;
      }
      case 2: {  // delete a range
        if (s.empty()) break;
        size_t at = pick(s.size());
        s.erase(at, 1 + pick(std::min<size_t>(16, s.size() - at)));
        break;
      }
      case 3: {  // duplicate a range
        if (s.empty()) break;
        size_t at = pick(s.size()), len = 1 + pick(std::min<size_t>(32, s.size() - at));
        s.insert(pick(s.size()), s.substr(at, len));
        break;
      }
      case 4: {  // insert random bytes
        std::string junk(1 + pick(8), '\0');
        for (char& c : junk) c = static_cast<char>(rng());
        s.insert(pick(s.size() + 1), junk);
        break;
      }
      case 5:  // truncate
        s.resize(pick(s.size() + 1));
        break;
      case 6: {  // splice with another seed
        const std::string& o = seeds[pick(seeds.size())];
        if (o.empty()) break;
        s = s.substr(0, pick(s.size() + 1)) + o.substr(pick(o.size()));
        break;
      }
    }
  }
  return s;
}

// Reproduces one input: fuzz_driver FILE.
int RunFile(const char* path) {
  absl::StatusOr<std::string> bytes = ReadFileBytes(path, 1 << 24);
  if (!bytes.ok()) {
    std::fprintf(stderr, "fuzz_driver: %s\n", std::string(bytes.status().message()).c_str());
    return 2;
  }
  FuzzOneModel(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
  std::printf("fuzz_driver: %s ran without a crash\n", path);
  return 0;
}

int Main() {
  const char* secs = std::getenv("UOP_FUZZ_SECONDS");
  const double budget = secs ? std::atof(secs) : 20.0;
  const char* out_dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  const std::string last = std::string(out_dir ? out_dir : "/tmp") + "/fuzz_last_input.onnx";
  std::vector<std::string> seeds = Seeds();
  std::mt19937_64 rng(20261125);
  auto start = std::chrono::steady_clock::now();
  int64_t runs = 0;
  for (const std::string& s : seeds)
    FuzzOneModel(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < budget) {
    std::string input = Mutate(seeds[rng() % seeds.size()], seeds, rng);
    std::ofstream(last, std::ios::binary | std::ios::trunc) << input;
    FuzzOneModel(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    ++runs;
  }
  std::printf("fuzz_driver: %lld mutants of %zu seeds in %.1f s, no crash\n",
              static_cast<long long>(runs), seeds.size(), budget);
  return 0;
}

}  // namespace
}  // namespace uop::onnx_import

int main(int argc, char** argv) {
  if (argc > 1) return uop::onnx_import::RunFile(argv[1]);
  return uop::onnx_import::Main();
}
