#include "client/lib/infer_tensor.h"

#include "gtest/gtest.h"

namespace uop::client {
namespace {

TEST(InferInput, TypedVectorsBecomeRawBytesWithTheirDatatype) {
  absl::StatusOr<InferInput> in = InferInput::FromVector<float>("x", {2, 2}, {1, 2, 3, 4});
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->datatype(), Datatype::kFp32);
  EXPECT_EQ(in->raw().size(), 16u);
  float third;
  std::memcpy(&third, in->raw().data() + 8, 4);
  EXPECT_EQ(third, 3.0f);
}

TEST(InferInput, SizeMismatchNamesTheTensor) {
  absl::StatusOr<InferInput> in = InferInput::FromVector<float>("x", {3}, {1, 2});
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(in.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(in.status().message().find("'x'"), std::string::npos) << in.status();
  EXPECT_NE(in.status().message().find("12 bytes"), std::string::npos) << in.status();
  EXPECT_FALSE(InferInput::FromRaw("y", Datatype::kInt32, {-1}, "").ok());
  EXPECT_FALSE(InferInput::FromSharedMemory("z", Datatype::kFp32, {4}, {"r", 0, 15}).ok());
  EXPECT_FALSE(InferInput::FromSharedMemory("z", Datatype::kFp32, {4}, {"", 0, 16}).ok());
}

TEST(InferInput, BytesElementsAreLengthPrefixed) {
  absl::StatusOr<InferInput> in = InferInput::FromStrings("s", {2}, {"ab", ""});
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->raw(), std::string("\x02\0\0\0ab\0\0\0\0", 10));
  EXPECT_EQ(*DecodeBytesElements(in->raw()), (std::vector<std::string>{"ab", ""}));
  EXPECT_FALSE(InferInput::FromStrings("s", {3}, {"ab", ""}).ok());  // count mismatch
  EXPECT_FALSE(DecodeBytesElements(std::string("\x05\0\0\0ab", 6)).ok());
  EXPECT_FALSE(DecodeBytesElements(std::string("\x01\0", 2)).ok());
}

TEST(BuildInferRequest, CarriesRawContentsAndSharedMemoryParameters) {
  InferInput a = *InferInput::FromVector<int32_t>("a", {2}, {7, 8});
  InferInput b = *InferInput::FromSharedMemory("b", Datatype::kInt32, {2}, {"in", 16, 8});
  InferOptions opts{.model_name = "m", .model_version = "3", .request_id = "r1"};
  opts.int_parameters = {{"priority", 2}};
  inference::ModelInferRequest req =
      BuildInferRequest(opts, {a, b}, {{"y", SharedMemoryRef{"out", 0, 8}}, {"z", std::nullopt}});
  EXPECT_EQ(req.model_name(), "m");
  EXPECT_EQ(req.model_version(), "3");
  EXPECT_EQ(req.id(), "r1");
  EXPECT_EQ(req.parameters().at("priority").int64_param(), 2);
  ASSERT_EQ(req.inputs_size(), 2);
  EXPECT_EQ(req.inputs(0).datatype(), "INT32");
  ASSERT_EQ(req.raw_input_contents_size(), 2);  // positional: b gets an empty entry
  EXPECT_EQ(req.raw_input_contents(0).size(), 8u);
  EXPECT_TRUE(req.raw_input_contents(1).empty());
  EXPECT_EQ(req.inputs(1).parameters().at("shared_memory_region").string_param(), "in");
  EXPECT_EQ(req.inputs(1).parameters().at("shared_memory_offset").int64_param(), 16);
  EXPECT_EQ(req.inputs(1).parameters().at("shared_memory_byte_size").int64_param(), 8);
  ASSERT_EQ(req.outputs_size(), 2);
  EXPECT_EQ(req.outputs(0).parameters().at("shared_memory_region").string_param(), "out");
  EXPECT_TRUE(req.outputs(1).parameters().empty());
  // Only shared-memory inputs: no raw contents at all.
  EXPECT_EQ(BuildInferRequest(opts, {b}, {}).raw_input_contents_size(), 0);
}

inference::ModelInferResponse Response() {
  inference::ModelInferResponse r;
  r.set_model_name("m");
  r.set_id("r1");
  auto* o = r.add_outputs();
  o->set_name("y");
  o->set_datatype("FP32");
  o->add_shape(2);
  return r;
}

TEST(InferResult, ReadsRawAndTypedContents) {
  inference::ModelInferResponse raw = Response();
  float v[2] = {1.5f, -2};
  raw.add_raw_output_contents(std::string(reinterpret_cast<char*>(v), 8));
  absl::StatusOr<InferResult> r = InferResult::FromResponse(raw);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id(), "r1");
  EXPECT_EQ(*r->As<float>("y"), (std::vector<float>{1.5f, -2}));

  inference::ModelInferResponse typed = Response();
  typed.mutable_outputs(0)->mutable_contents()->add_fp32_contents(3);
  typed.mutable_outputs(0)->mutable_contents()->add_fp32_contents(4);
  r = InferResult::FromResponse(typed);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r->As<float>("y"), (std::vector<float>{3, 4}));
}

TEST(InferResult, WrongTypeMissingOutputAndBadSizesAreErrors) {
  inference::ModelInferResponse raw = Response();
  raw.add_raw_output_contents(std::string(8, '\0'));
  InferResult r = *InferResult::FromResponse(raw);
  EXPECT_EQ(r.As<int32_t>("y").status().code(), absl::StatusCode::kInvalidArgument);
  absl::Status missing = r.As<float>("nope").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.message().find("outputs: y"), std::string::npos) << missing;

  inference::ModelInferResponse short_raw = Response();
  short_raw.add_raw_output_contents(std::string(7, '\0'));
  EXPECT_FALSE(InferResult::FromResponse(short_raw).ok());

  inference::ModelInferResponse bad_type = Response();
  bad_type.mutable_outputs(0)->set_datatype("FLOAT");
  bad_type.add_raw_output_contents(std::string(8, '\0'));
  EXPECT_FALSE(InferResult::FromResponse(bad_type).ok());

  inference::ModelInferResponse extra = Response();
  extra.add_raw_output_contents(std::string(8, '\0'));
  extra.add_raw_output_contents(std::string(8, '\0'));
  EXPECT_FALSE(InferResult::FromResponse(extra).ok());
}

TEST(InferResult, SharedMemoryOutputsCarryNoBytes) {
  inference::ModelInferResponse r = Response();
  r.add_raw_output_contents("");
  absl::StatusOr<InferResult> res =
      InferResult::FromResponse(r, {{"y", SharedMemoryRef{"out", 4, 8}}});
  ASSERT_TRUE(res.ok()) << res.status();
  const OutputTensor* o = *res->Output("y");
  ASSERT_TRUE(o->shared_memory.has_value());
  EXPECT_EQ(o->shared_memory->region, "out");
  EXPECT_EQ(o->shared_memory->offset, 4u);
  EXPECT_FALSE(res->As<float>("y").ok());  // read the region instead

  // A server that reports the region and the bytes written, not the offset:
  // the requested place stands, with the reported size.
  inference::ModelInferResponse partial = Response();
  auto& params = *partial.mutable_outputs(0)->mutable_parameters();
  params["shared_memory_region"].set_string_param("out");
  params["shared_memory_byte_size"].set_int64_param(8);
  partial.add_raw_output_contents("");
  res = InferResult::FromResponse(partial, {{"y", SharedMemoryRef{"out", 64, 16}}});
  ASSERT_TRUE(res.ok()) << res.status();
  o = *res->Output("y");
  EXPECT_EQ(o->shared_memory->offset, 64u);
  EXPECT_EQ(o->shared_memory->byte_size, 8u);
}

}  // namespace
}  // namespace uop::client
