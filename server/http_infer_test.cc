#include "server/http_infer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

namespace uop::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Floats(std::vector<float> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

TEST(ParseHttpInfer, JsonDataNestedOrFlatBecomesRawBytes) {
  inference::ModelInferRequest r;
  HttpInferOptions o;
  absl::Status s = ParseHttpInfer(
      R"({"id": "7", "parameters": {"priority": 2, "timeout": 5000},
          "inputs": [{"name": "A", "shape": [2, 2], "datatype": "FP32", "data": [[1, 2], [3, 4.5]]},
                     {"name": "I", "shape": [2], "datatype": "INT64", "data": [-1, 9007199254740993]},
                     {"name": "S", "shape": [1], "datatype": "BYTES", "data": ["hi"]},
                     {"name": "T", "shape": [2], "datatype": "BOOL", "data": [true, false]}],
          "outputs": [{"name": "C", "parameters": {"binary_data": true}}]})",
      -1, "add", "1", &r, &o);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(r.model_name(), "add");
  EXPECT_EQ(r.model_version(), "1");
  EXPECT_EQ(r.id(), "7");
  EXPECT_EQ(r.parameters().at("priority").int64_param(), 2);
  ASSERT_EQ(r.inputs_size(), 4);
  EXPECT_THAT(r.inputs(0).shape(), ElementsAre(2, 2));
  EXPECT_EQ(r.raw_input_contents(0), Floats({1, 2, 3, 4.5}));
  int64_t big;
  std::memcpy(&big, r.raw_input_contents(1).data() + 8, 8);
  EXPECT_EQ(big, 9007199254740993);
  EXPECT_EQ(r.raw_input_contents(2), std::string("\x02\x00\x00\x00hi", 6));
  EXPECT_EQ(r.raw_input_contents(3), std::string("\x01\x00", 2));
  ASSERT_EQ(o.binary.size(), 1u);
  EXPECT_TRUE(o.binary[0].second);
  EXPECT_TRUE(r.outputs(0).parameters().empty());  // binary_data is HTTP-only
}

TEST(ParseHttpInfer, BinaryDataExtension) {
  const std::string json =
      R"({"inputs": [{"name": "A", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 8}},
                    {"name": "B", "shape": [2], "datatype": "FP32", "data": [5, 6]}],
          "parameters": {"binary_data_output": true}})";
  const std::string body = json + Floats({1, 2});
  inference::ModelInferRequest r;
  HttpInferOptions o;
  ASSERT_TRUE(ParseHttpInfer(body, json.size(), "m", "", &r, &o).ok());
  EXPECT_EQ(r.raw_input_contents(0), Floats({1, 2}));
  EXPECT_EQ(r.raw_input_contents(1), Floats({5, 6}));
  EXPECT_TRUE(o.binary_default);
  EXPECT_EQ(r.parameters().count("binary_data_output"), 0u);
}

TEST(ParseHttpInfer, BadBodiesSayWhatIsWrong) {
  struct Case {
    std::string body;
    int64_t header;
    std::string message;
  } cases[] = {
      {"{", -1, "malformed JSON"},
      {"[]", -1, "must be a JSON object"},
      {R"({"inputs": 3})", -1, "'inputs' must be an array"},
      {R"({"inputs": [{"shape": [1], "datatype": "FP32"}]})", -1, "no 'name' string"},
      {R"({"inputs": [{"name": "A", "shape": [-1], "datatype": "FP32"}]})", -1,
       "'shape' must hold non-negative integers"},
      {R"({"inputs": [{"name": "A", "shape": [1], "datatype": "FP32", "data": ["x"]}]})", -1,
       "input 'A': data holds a value that is not a number"},
      {R"({"inputs": [{"name": "A", "shape": [1], "datatype": "INT8", "data": [300]}]})", -1,
       "not an integer in the range"},
      {R"({"inputs": [{"name": "A", "shape": [1], "datatype": "FP16", "data": [1]}]})", -1,
       "FP16 cannot be sent as JSON data"},
      {R"({"inputs": [{"name": "A", "shape": [1], "datatype": "FP32", "parameters": {"binary_data_size": 8}}]})",
       -1, "binary_data_size 8 is past the end of the body"},
      {"{}xx", 2, "'inputs' must be an array"},
      {"{}", 10, "Inference-Header-Content-Length is 10 but the body has only 2 bytes"},
      {R"({"inputs": []})"
       "junk",
       14, "4 binary bytes no input's binary_data_size accounts for"},
  };
  for (const Case& c : cases) {
    inference::ModelInferRequest r;
    HttpInferOptions o;
    absl::Status s = ParseHttpInfer(c.body, c.header, "m", "", &r, &o);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.body;
    EXPECT_THAT(s.message(), HasSubstr(c.message)) << c.body;
  }
}

TEST(WriteHttpInfer, JsonDataOrBinaryPerOutput) {
  inference::ModelInferResponse response;
  response.set_model_name("m");
  response.set_model_version("1");
  for (const char* name : {"C", "D"}) {
    auto* o = response.add_outputs();
    o->set_name(name);
    o->set_datatype("FP32");
    o->add_shape(2);
    response.add_raw_output_contents(Floats({1.5f, -2}));
  }
  HttpInferOptions opts;
  opts.binary = {{"D", true}};
  HttpResponse http;
  ASSERT_TRUE(WriteHttpInfer(response, opts, &http).ok());
  EXPECT_EQ(http.content_type, "application/octet-stream");
  ASSERT_EQ(http.headers.size(), 1u);
  const size_t json_size = std::stoul(http.headers[0].second);
  EXPECT_EQ(
      http.body.substr(0, json_size),
      R"({"model_name":"m","model_version":"1","outputs":[{"name":"C","datatype":"FP32","shape":[2],"data":[1.5,-2]},)"
      R"({"name":"D","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}}]})");
  EXPECT_EQ(http.body.substr(json_size), Floats({1.5f, -2}));
}

}  // namespace
}  // namespace uop::server
