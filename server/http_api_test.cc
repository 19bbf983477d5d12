#include "server/http_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "server/test_backend.h"

namespace uop::server {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = fs::path(testing::TempDir()) / "http_api_repo";
    fs::remove_all(repo_);
    fs::create_directories(repo_ / "add" / "1");
    std::ofstream(repo_ / "add" / "1" / "model.onnx") << "x";
    backends_.Register("test", TestLoader(TestBackend::AddSpec()));
    ModelManagerOptions o;
    o.repository = repo_.string();
    o.mode = ControlMode::kExplicit;
    o.startup_models = {"add"};
    models_ = std::make_unique<ModelManager>(o, &backends_, nullptr);
    ASSERT_TRUE(models_->LoadStartupModels().ok());
    core_ = std::make_unique<ServingCore>(models_.get(), &shm_, InferLimits());
    core_->SetAccepting(true);
    api_ = std::make_unique<HttpApi>(core_.get());
  }
  HttpResponse Call(const std::string& method, const std::string& path,
                    const std::string& body = "") {
    HttpRequest req;
    req.method = method;
    req.path = path;
    req.body = body;
    HttpResponse res;
    api_->Handle(req, &res);
    return res;
  }
  fs::path repo_;
  BackendRegistry backends_;
  ShmRegistry shm_;
  std::unique_ptr<ModelManager> models_;
  std::unique_ptr<ServingCore> core_;
  std::unique_ptr<HttpApi> api_;
};

constexpr char kInfer[] =
    R"({"inputs": [{"name": "A", "shape": [4], "datatype": "FP32", "data": [1, 2, 3, 4]},
                   {"name": "B", "shape": [4], "datatype": "FP32", "data": [10, 20, 30, 40]}]})";

TEST_F(HttpApiTest, HealthAndMetadata) {
  EXPECT_EQ(Call("GET", "/v2/health/live").status, 200);
  EXPECT_EQ(Call("GET", "/v2/health/ready").status, 200);
  HttpResponse meta = Call("GET", "/v2");
  EXPECT_THAT(meta.body, HasSubstr(R"("name":"uop")"));
  EXPECT_THAT(meta.body, HasSubstr("model_repository"));
  HttpResponse model = Call("GET", "/v2/models/add");
  EXPECT_EQ(model.body,
            R"({"name":"add","versions":["1"],"platform":"onnxruntime_onnx","inputs":[{"name":"A",)"
            R"("datatype":"FP32","shape":[4]},{"name":"B","datatype":"FP32","shape":[4]}],)"
            R"("outputs":[{"name":"C","datatype":"FP32","shape":[4]}]})");
  EXPECT_EQ(Call("GET", "/v2/models/add/versions/1/ready").status, 200);
  EXPECT_THAT(Call("GET", "/v2/models/add/config").body, HasSubstr(R"("name":"add")"));
  core_->SetDraining();
  EXPECT_EQ(Call("GET", "/v2/health/ready").status, 503);
}

TEST_F(HttpApiTest, InferJsonAndStatistics) {
  HttpResponse r = Call("POST", "/v2/models/add/infer", kInfer);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"model_name":"add","model_version":"1","outputs":[{"name":"C","datatype":"FP32",)"
            R"("shape":[4],"data":[11,22,33,44]}]})");
  HttpResponse stats = Call("GET", "/v2/models/add/stats");
  EXPECT_THAT(stats.body, HasSubstr(R"("inference_count":1)"));
  EXPECT_THAT(Call("GET", "/v2/models/stats").body, HasSubstr(R"("name":"add")"));
}

TEST_F(HttpApiTest, ErrorsMapToHttpStatusesWithAJsonMessage) {
  struct Case {
    std::string method, path, body;
    int status;
    std::string message;
  } cases[] = {
      {"POST", "/v2/models/nope/infer", kInfer, 404, "unknown model 'nope'"},
      {"POST", "/v2/models/add/infer", "{bad json", 400, "malformed JSON"},
      {"POST", "/v2/models/add/infer",
       R"({"inputs": [{"name": "A", "shape": [3], "datatype": "FP32", "data": [1, 2, 3]}]})", 400,
       "input 'A': shape [3] given, model 'add' expects [4]"},
      {"GET", "/v2/models/add/infer", "", 400, "takes POST, not GET"},
      {"GET", "/v1/models", "", 404, "no endpoint GET /v1/models"},
      {"GET", "/v2/models/add/versions/9", "", 404, "model 'add' has no version 9"},
      {"POST", "/v2/cudasharedmemory/region/x/register", "{}", 501, "CUDA shared memory"},
      {"POST", "/v2/systemsharedmemory/region/x/register", R"({"key": "/nope", "byte_size": 4})",
       400, "cannot open shm key '/nope'"},
  };
  for (const Case& c : cases) {
    HttpResponse r = Call(c.method, c.path, c.body);
    EXPECT_EQ(r.status, c.status) << c.path << " " << r.body;
    EXPECT_THAT(r.body, HasSubstr(R"({"error":")")) << c.path;
    EXPECT_THAT(r.body, HasSubstr(c.message)) << c.path;
  }
}

TEST_F(HttpApiTest, RepositoryIndexLoadWithBase64FileUnload) {
  EXPECT_EQ(Call("POST", "/v2/repository/index").body,
            R"([{"name":"add","version":"1","state":"READY"}])");
  HttpResponse load = Call("POST", "/v2/repository/models/fresh/load",
                           R"({"parameters": {"config": "{}", "file:1/model.onnx": ")" +
                               absl::Base64Escape("model bytes") + R"("}})");
  EXPECT_EQ(load.status, 200) << load.body;
  EXPECT_TRUE(fs::exists(repo_ / "fresh" / "1" / "model.onnx"));
  EXPECT_EQ(Call("GET", "/v2/models/fresh/ready").status, 200);
  EXPECT_EQ(Call("POST", "/v2/repository/models/fresh/unload").status, 200);
  EXPECT_EQ(Call("GET", "/v2/models/fresh/ready").status, 503);
  HttpResponse bad = Call("POST", "/v2/repository/models/x/load",
                          R"({"parameters": {"file:1/model.onnx": "***"}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("must be base64-encoded"));
}

}  // namespace
}  // namespace uop::server
