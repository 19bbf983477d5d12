#include "server/infer_codec.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "server/model_config.h"
#include "server/test_backend.h"

namespace uop::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Floats(std::vector<float> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

ModelVersion Model(int max_batch) {
  ModelVersion m;
  m.name = "add";
  m.version_string = "1";
  TestBackend b(max_batch > 0 ? TestBackend::BatchedAddSpec() : TestBackend::AddSpec());
  m.config.set_max_batch_size(max_batch);
  EXPECT_TRUE(CompleteConfig(b, "add", &m.config).ok());
  return m;
}

inference::ModelInferRequest Request(std::vector<int64_t> shape = {4}) {
  inference::ModelInferRequest r;
  r.set_model_name("add");
  for (const char* name : {"A", "B"}) {
    auto* in = r.add_inputs();
    in->set_name(name);
    in->set_datatype("FP32");
    for (int64_t d : shape) in->add_shape(d);
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    r.add_raw_input_contents(Floats(std::vector<float>(n, 1.0f)));
  }
  return r;
}

absl::Status Prepare(const ModelVersion& m, const inference::ModelInferRequest& r, PreparedInfer* p,
                     const ShmRegistry* shm = nullptr, InferLimits limits = {}) {
  static ShmRegistry empty;
  return PrepareInfer(m, r, shm ? *shm : empty, limits, p);
}

TEST(PrepareInfer, RawContentsAreBorrowedInConfigOrder) {
  ModelVersion m = Model(0);
  inference::ModelInferRequest r = Request();
  std::swap(*r.mutable_inputs(0), *r.mutable_inputs(1));  // B first
  PreparedInfer p;
  ASSERT_TRUE(Prepare(m, r, &p).ok());
  ASSERT_EQ(p.job.inputs.size(), 2u);
  EXPECT_EQ(p.job.inputs[0].name, "A");
  EXPECT_EQ(p.job.inputs[0].data.data(), r.raw_input_contents(1).data());  // no copy
  EXPECT_EQ(p.job.batch, 0);
  ASSERT_EQ(p.outputs.size(), 1u);  // no outputs requested: all of them
  EXPECT_EQ(p.outputs[0].name, "C");
}

TEST(PrepareInfer, TypedContentsArePacked) {
  ModelVersion m = Model(0);
  inference::ModelInferRequest r = Request();
  r.clear_raw_input_contents();
  for (auto& in : *r.mutable_inputs()) {
    for (float f : {1.f, 2.f, 3.f, 4.f}) in.mutable_contents()->add_fp32_contents(f);
  }
  PreparedInfer p;
  ASSERT_TRUE(Prepare(m, r, &p).ok());
  EXPECT_EQ(p.job.inputs[1].data, Floats({1, 2, 3, 4}));
}

TEST(PrepareInfer, BatchDimensionIsReadAndChecked) {
  ModelVersion m = Model(8);
  PreparedInfer p;
  ASSERT_TRUE(Prepare(m, Request({3, 4}), &p).ok());
  EXPECT_EQ(p.job.batch, 3);
  PreparedInfer q;
  EXPECT_THAT(Prepare(m, Request({9, 4}), &q).message(),
              HasSubstr("batch size 9 is not in [1, max_batch_size=8]"));
  inference::ModelInferRequest mixed = Request({2, 4});
  mixed.mutable_inputs(1)->set_shape(0, 1);
  mixed.set_raw_input_contents(1, Floats(std::vector<float>(4, 1)));
  PreparedInfer x;
  EXPECT_THAT(Prepare(m, mixed, &x).message(), HasSubstr("differs from the other inputs' 2"));
}

// The bad-input matrix: each request is wrong in one way and the error says
// which tensor and what was expected.
TEST(PrepareInfer, BadInputsNameTheTensorAndWhatWasExpected) {
  ModelVersion m = Model(0);
  struct Case {
    std::string what;
    std::function<void(inference::ModelInferRequest&)> mutate;
    absl::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases = {
      {"wrong dtype", [](auto& r) { r.mutable_inputs(0)->set_datatype("FP64"); },
       absl::StatusCode::kInvalidArgument,
       "input 'A': datatype FP64 given, model 'add' expects FP32"},
      {"unknown dtype", [](auto& r) { r.mutable_inputs(0)->set_datatype("FLOAT"); },
       absl::StatusCode::kInvalidArgument, "input 'A': unknown datatype 'FLOAT'"},
      {"wrong shape", [](auto& r) { r.mutable_inputs(1)->set_shape(0, 3); },
       absl::StatusCode::kInvalidArgument, "input 'B': shape [3] given, model 'add' expects [4]"},
      {"wrong rank", [](auto& r) { r.mutable_inputs(1)->add_shape(1); },
       absl::StatusCode::kInvalidArgument,
       "input 'B': shape [4, 1] given, model 'add' expects [4]"},
      {"truncated raw", [](auto& r) { r.mutable_raw_input_contents(1)->resize(12); },
       absl::StatusCode::kInvalidArgument,
       "input 'B': data holds 12 bytes, shape [4] of FP32 needs 16"},
      {"raw too long", [](auto& r) { r.mutable_raw_input_contents(0)->append("xxxx"); },
       absl::StatusCode::kInvalidArgument, "input 'A': data holds 20 bytes"},
      {"missing input",
       [](auto& r) {
         r.mutable_inputs()->RemoveLast();
         r.mutable_raw_input_contents()->RemoveLast();
       },
       absl::StatusCode::kInvalidArgument, "model 'add' needs input 'B', which the request lacks"},
      {"duplicate input", [](auto& r) { r.mutable_inputs(1)->set_name("A"); },
       absl::StatusCode::kInvalidArgument, "input 'A' is given more than once"},
      {"unknown input", [](auto& r) { r.mutable_inputs(1)->set_name("Z"); },
       absl::StatusCode::kInvalidArgument, "unexpected input 'Z' for model 'add' (it takes A, B)"},
      {"raw count", [](auto& r) { r.mutable_raw_input_contents()->RemoveLast(); },
       absl::StatusCode::kInvalidArgument, "raw_input_contents has 1 entries for 2 inputs"},
      {"huge declared shape", [](auto& r) { r.mutable_inputs(0)->set_shape(0, int64_t{1} << 50); },
       absl::StatusCode::kInvalidArgument, "input 'A': shape [1125899906842624] given"},
      {"negative dim", [](auto& r) { r.mutable_inputs(0)->set_shape(0, -4); },
       absl::StatusCode::kInvalidArgument, "input 'A': shape [-4] given"},
      {"data twice", [](auto& r) { r.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1); },
       absl::StatusCode::kInvalidArgument, "input 'A': data given more than once"},
      {"unknown output", [](auto& r) { r.add_outputs()->set_name("D"); },
       absl::StatusCode::kInvalidArgument,
       "unknown output 'D' requested from model 'add' (it has C)"},
      {"output twice",
       [](auto& r) {
         r.add_outputs()->set_name("C");
         r.add_outputs()->set_name("C");
       },
       absl::StatusCode::kInvalidArgument, "output 'C' is requested more than once"},
      {"unregistered shm",
       [](auto& r) {
         r.clear_raw_input_contents();
         auto& p = *r.mutable_inputs(0)->mutable_parameters();
         p["shared_memory_region"].set_string_param("nope");
         p["shared_memory_byte_size"].set_int64_param(16);
       },
       absl::StatusCode::kInvalidArgument,
       "input 'A': shared memory region 'nope' is not registered"},
      {"shm without size",
       [](auto& r) {
         (*r.mutable_inputs(0)->mutable_parameters())["shared_memory_region"].set_string_param("x");
       },
       absl::StatusCode::kInvalidArgument, "shared_memory_byte_size is required"},
      {"bad priority",
       [](auto& r) { (*r.mutable_parameters())["priority"].set_string_param("hi"); },
       absl::StatusCode::kInvalidArgument, "parameter 'priority' must be a non-negative integer"},
  };
  for (const Case& c : cases) {
    inference::ModelInferRequest r = Request();
    c.mutate(r);
    PreparedInfer p;
    absl::Status s = Prepare(m, r, &p);
    EXPECT_EQ(s.code(), c.code) << c.what << ": " << s;
    EXPECT_THAT(s.message(), HasSubstr(c.message)) << c.what;
  }
}

TEST(PrepareInfer, LimitsAreResourceExhausted) {
  ModelVersion m = Model(0);
  InferLimits limits;
  limits.max_request_bytes = 20;
  PreparedInfer p;
  absl::Status s = Prepare(m, Request(), &p, nullptr, limits);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("exceed 20 bytes"));
}

TEST(PrepareInfer, TimeoutParameterSetsTheDeadline) {
  ModelVersion m = Model(0);
  inference::ModelInferRequest r = Request();
  (*r.mutable_parameters())["timeout"].set_int64_param(1000);
  (*r.mutable_parameters())["priority"].set_uint64_param(2);
  PreparedInfer p;
  ASSERT_TRUE(Prepare(m, r, &p).ok());
  EXPECT_LT(p.job.deadline, absl::Now() + absl::Milliseconds(2));
  EXPECT_EQ(p.job.priority, 2u);
}

class Shm {
 public:
  explicit Shm(size_t size) : key_(absl::StrCat("/uop_codec_test_", getpid())) {
    int fd = shm_open(key_.c_str(), O_CREAT | O_RDWR, 0600);
    EXPECT_EQ(ftruncate(fd, static_cast<off_t>(size)), 0);
    base_ = static_cast<char*>(mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    close(fd);
    size_ = size;
  }
  ~Shm() {
    munmap(base_, size_);
    shm_unlink(key_.c_str());
  }
  std::string key_;
  char* base_;
  size_t size_;
};

TEST(PrepareInfer, SharedMemoryInputsAreReadInPlaceAndOutputsWrittenThere) {
  Shm obj(4096);
  std::memcpy(obj.base_, Floats({1, 2, 3, 4}).data(), 16);
  ShmRegistry shm;
  ASSERT_TRUE(shm.Register("in", obj.key_, 0, 64).ok());
  ASSERT_TRUE(shm.Register("out", obj.key_, 1024, 16).ok());
  ModelVersion m = Model(0);
  inference::ModelInferRequest r = Request();
  r.clear_raw_input_contents();
  for (auto& in : *r.mutable_inputs()) {
    auto& p = *in.mutable_parameters();
    p["shared_memory_region"].set_string_param("in");
    p["shared_memory_byte_size"].set_int64_param(16);
  }
  auto* out = r.add_outputs();
  out->set_name("C");
  (*out->mutable_parameters())["shared_memory_region"].set_string_param("out");
  (*out->mutable_parameters())["shared_memory_byte_size"].set_int64_param(16);
  PreparedInfer p;
  ASSERT_TRUE(Prepare(m, r, &p, &shm).ok());
  EXPECT_EQ(p.job.inputs[0].data, Floats({1, 2, 3, 4}));
  obj.base_[0] = 7;  // zero-copy: the view is the client's memory
  EXPECT_EQ(p.job.inputs[0].data[0], 7);
  obj.base_[0] = 0;
  // Out of bounds: offset 56 + 16 > 64.
  inference::ModelInferRequest oob = r;
  (*oob.mutable_inputs(0)->mutable_parameters())["shared_memory_offset"].set_int64_param(56);
  PreparedInfer q;
  EXPECT_THAT(Prepare(m, oob, &q, &shm).message(),
              HasSubstr("input 'A': shared memory region 'in': offset 56 + byte size 16 is past "
                        "its end (64 bytes)"));

  // Run it with the test backend and write the response.
  TestBackend backend(TestBackend::AddSpec());
  ASSERT_TRUE(backend.Run(p.job.inputs, &p.job.outputs).ok());
  inference::ModelInferResponse response;
  ASSERT_TRUE(FillResponse(m, p, &response).ok());
  EXPECT_EQ(response.raw_output_contents(0), "");
  EXPECT_EQ(std::string(obj.base_ + 1024, 16), Floats({2, 4, 6, 8}));
  EXPECT_EQ(response.outputs(0).parameters().at("shared_memory_region").string_param(), "out");
}

TEST(FillResponse, AnOutputTheBackendWroteToSharedMemoryIsNotCopiedAgain) {
  Shm obj(4096);
  ShmRegistry shm;
  ASSERT_TRUE(shm.Register("out", obj.key_, 1024, 64).ok());
  ModelVersion m = Model(0);
  inference::ModelInferRequest r = Request();
  auto* out = r.add_outputs();
  out->set_name("C");
  (*out->mutable_parameters())["shared_memory_region"].set_string_param("out");
  (*out->mutable_parameters())["shared_memory_offset"].set_int64_param(8);
  (*out->mutable_parameters())["shared_memory_byte_size"].set_int64_param(32);
  PreparedInfer p;
  ASSERT_TRUE(Prepare(m, r, &p, &shm).ok());
  // The job tells the backend where C goes: the region from offset 8.
  ASSERT_EQ(p.job.output_destinations.size(), 1u);
  EXPECT_EQ(p.job.output_destinations[0].name, "C");
  EXPECT_EQ(p.job.output_destinations[0].bytes.size(), 32u);
  // A backend that wrote 16 bytes there (the client sees them at 1024 + 8 of
  // its own mapping) and left `data` empty.
  std::memcpy(p.job.output_destinations[0].bytes.data(), Floats({5, 6, 7, 8}).data(), 16);
  OutputTensor written;
  written.name = "C";
  written.dtype = inference::TYPE_FP32;
  written.shape = {4};
  written.in_destination = 16;
  p.job.outputs = {written};
  inference::ModelInferResponse response;
  ASSERT_TRUE(FillResponse(m, p, &response).ok());
  EXPECT_EQ(response.raw_output_contents(0), "");
  EXPECT_EQ(std::string(obj.base_ + 1024 + 8, 16), Floats({5, 6, 7, 8}));
  EXPECT_EQ(response.outputs(0).parameters().at("shared_memory_byte_size").int64_param(), 16);
}

TEST(FillResponse, RawOutputsInRequestedOrderWithShapes) {
  ModelVersion m = Model(0);
  inference::ModelInferRequest r = Request();
  r.set_id("req-7");
  PreparedInfer p;
  ASSERT_TRUE(Prepare(m, r, &p).ok());
  TestBackend backend(TestBackend::AddSpec());
  ASSERT_TRUE(backend.Run(p.job.inputs, &p.job.outputs).ok());
  inference::ModelInferResponse response;
  ASSERT_TRUE(FillResponse(m, p, &response).ok());
  EXPECT_EQ(response.id(), "req-7");
  EXPECT_EQ(response.model_version(), "1");
  ASSERT_EQ(response.outputs_size(), 1);
  EXPECT_EQ(response.outputs(0).datatype(), "FP32");
  EXPECT_THAT(response.outputs(0).shape(), ElementsAre(4));
  EXPECT_EQ(response.raw_output_contents(0), Floats({2, 2, 2, 2}));
}

}  // namespace
}  // namespace uop::server
