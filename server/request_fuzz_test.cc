// Bounded mutation fuzzing of request parsing: random and mutated
// ModelInferRequest protobufs through PrepareInfer, and mutated HTTP bodies
// through ParseHttpInfer and ParseJson. Nothing may crash, hang or read out
// of bounds (run under --config=asan to check the last); every rejection is
// an ordinary error status. Deterministic seeds, so a failure reproduces.
#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "runtime/base/json.h"
#include "server/http_infer.h"
#include "server/infer_codec.h"
#include "server/model_config.h"
#include "server/test_backend.h"

namespace uop::server {
namespace {

constexpr int kIterations = 100000;

std::string Mutate(std::string s, std::mt19937& rng, int max_edits = 4) {
  const int edits = 1 + rng() % max_edits;
  for (int e = 0; e < edits; ++e) {
    const size_t pos = s.empty() ? 0 : rng() % s.size();
    switch (rng() % 5) {
      case 0:
        if (!s.empty()) s[pos] = static_cast<char>(rng());
        break;
      case 1:
        s.insert(pos, 1, static_cast<char>(rng()));
        break;
      case 2:
        if (!s.empty()) s.erase(pos, 1 + rng() % 8);
        break;
      case 3:
        s.insert(pos, s.substr(rng() % (s.size() + 1), rng() % 16));
        break;
      case 4:
        s.resize(rng() % (s.size() + 1));
        break;
    }
  }
  return s;
}

ModelVersion Model(int max_batch) {
  ModelVersion m;
  m.name = "m";
  m.version_string = "1";
  TestBackend b(max_batch > 0 ? TestBackend::BatchedAddSpec() : TestBackend::AddSpec());
  m.config.set_max_batch_size(max_batch);
  (void)CompleteConfig(b, "m", &m.config);
  return m;
}

TEST(RequestFuzz, MutatedModelInferRequestsNeverCrashPrepareInfer) {
  google::protobuf::LogSilencer quiet;  // invalid UTF-8 in string fields is logged
  std::mt19937 rng(1234);
  ModelVersion models[] = {Model(0), Model(8)};
  ShmRegistry shm;
  inference::ModelInferRequest seed;
  seed.set_model_name("m");
  for (const char* name : {"A", "B"}) {
    auto* in = seed.add_inputs();
    in->set_name(name);
    in->set_datatype("FP32");
    in->add_shape(2);
    in->add_shape(4);
    seed.add_raw_input_contents(std::string(32, '\1'));
  }
  (*seed.mutable_inputs(0)->mutable_parameters())["binary_data_size"].set_int64_param(32);
  seed.add_outputs()->set_name("C");
  const std::string bytes = seed.SerializeAsString();
  int parsed = 0, accepted = 0;
  for (int i = 0; i < kIterations; ++i) {
    inference::ModelInferRequest r;
    if (!r.ParseFromString(Mutate(bytes, rng, /*max_edits=*/1))) continue;
    ++parsed;
    for (const ModelVersion& m : models) {
      PreparedInfer p;
      absl::Status s = PrepareInfer(m, r, shm, InferLimits(), &p);
      if (!s.ok()) continue;
      ++accepted;
      // An accepted request is internally consistent: data sizes match shapes.
      for (const InputTensor& in : p.job.inputs) {
        int64_t n = 1;
        for (int64_t d : in.shape) n *= d;
        ASSERT_EQ(static_cast<int64_t>(in.data.size()), n * 4);
      }
    }
  }
  EXPECT_GT(parsed, kIterations / 20);  // the fuzzer reached the codec
  EXPECT_GT(accepted, 0);
}

TEST(RequestFuzz, MutatedHttpBodiesNeverCrashTheParsers) {
  std::mt19937 rng(99);
  const std::string json =
      R"({"id":"x","parameters":{"binary_data_output":true,"priority":1},"inputs":[{"name":"A",)"
      R"("shape":[1,4],"datatype":"FP32","data":[[1,2.5e3,-3,4]]},{"name":"B","shape":[1,4],)"
      R"("datatype":"FP32","parameters":{"binary_data_size":16}}],"outputs":[{"name":"C",)"
      R"("parameters":{"binary_data":false}}]})";
  const std::string body = json + std::string(16, '\0');
  int ok = 0;
  for (int i = 0; i < kIterations; ++i) {
    std::string mutated = Mutate(body, rng);
    const int64_t header = rng() % 3 == 0 ? -1 : static_cast<int64_t>(rng() % (mutated.size() + 8));
    inference::ModelInferRequest r;
    HttpInferOptions o;
    ok += ParseHttpInfer(mutated, header, "m", "", &r, &o).ok();
    (void)ParseJson(Mutate(json, rng));
  }
  EXPECT_GE(ok, 0);
  // Deep nesting and huge numbers are errors or values, not crashes.
  EXPECT_FALSE(ParseJson(std::string(1 << 16, '[')).ok());
  EXPECT_TRUE(ParseJson("1e999999").ok());
}

}  // namespace
}  // namespace uop::server
