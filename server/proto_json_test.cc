#include "server/proto_json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "proto/grpc_service.pb.h"

namespace uop::server {
namespace {

TEST(WriteProtoJson, Int64AsNumbersMapsAsObjectsDefaultsLeftOut) {
  inference::ModelStatistics stats;
  stats.set_name("add");
  stats.set_inference_count(9007199254740993ull);
  stats.mutable_inference_stats()->mutable_success()->set_count(2);
  inference::ModelInferRequest request;
  (*request.mutable_parameters())["priority"].set_int64_param(2);
  request.add_inputs()->add_shape(4);
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  WriteProtoJson(stats, w);
  WriteProtoJson(request, w);
  w.EndArray();
  EXPECT_EQ(
      out,
      R"([{"name":"add","inference_count":9007199254740993,"inference_stats":{"success":)"
      R"({"count":2}}},{"parameters":{"priority":{"int64_param":2}},"inputs":[{"shape":[4]}]}])");
}

TEST(WriteProtoJson, EveryScalarKindEnumsByNameBytesAsBase64) {
  inference::InferTensorContents contents;
  contents.add_bool_contents(true);
  contents.add_int_contents(-7);
  contents.add_int64_contents(INT64_MIN);
  contents.add_uint_contents(4000000000u);
  contents.add_uint64_contents(UINT64_MAX);
  contents.add_fp32_contents(0.1f);
  contents.add_fp64_contents(1e300);
  contents.add_bytes_contents(std::string("\x00\xff", 2));
  inference::ModelInput input;
  input.set_data_type(inference::TYPE_FP32);
  input.set_format(inference::ModelInput::FORMAT_NCHW);
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  WriteProtoJson(contents, w);
  WriteProtoJson(input, w);
  w.EndArray();
  EXPECT_EQ(
      out,
      R"([{"bool_contents":[true],"int_contents":[-7],"int64_contents":[-9223372036854775808],)"
      R"("uint_contents":[4000000000],"uint64_contents":[18446744073709551615],)"
      R"("fp32_contents":[0.1],"fp64_contents":[1e+300],"bytes_contents":["AP8="]},)"
      R"({"data_type":"TYPE_FP32","format":"FORMAT_NCHW"}])");
}

}  // namespace
}  // namespace uop::server
