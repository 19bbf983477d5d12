#include "server/web_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "runtime/base/json.h"
#include "runtime/profiler/profiler.h"
#include "runtime/tensor/tensor.h"
#include "server/http_api.h"
#include "server/test_backend.h"

namespace uop::server {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kInfer[] =
    R"({"inputs": [{"name": "A", "shape": [4], "datatype": "FP32", "data": [1, 2, 3, 4]},
                   {"name": "B", "shape": [4], "datatype": "FP32", "data": [10, 20, 30, 40]}]})";

class WebViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = fs::path(testing::TempDir()) / "web_view_repo";
    fs::remove_all(repo_);
    for (const char* m : {"add", "broken"}) {
      fs::create_directories(repo_ / m / "1");
      std::ofstream(repo_ / m / "1" / "model.onnx") << "x";
    }
    std::ofstream(repo_ / "broken" / "config.pbtxt") << "input [{ name: \"nope\" dims: [4] }]";
    backends_.Register("test", TestLoader(TestBackend::AddSpec()));
    ModelManagerOptions o;
    o.repository = repo_.string();
    o.mode = ControlMode::kNone;
    models_ = std::make_unique<ModelManager>(o, &backends_, nullptr);
    (void)models_->LoadStartupModels();  // "broken" fails on purpose
    core_ = std::make_unique<ServingCore>(models_.get(), &shm_, InferLimits());
    core_->SetAccepting(true);
    previous_ = Tensor::GetRealizer();
    engine_ = Engine::Install({.cache_dir = "-"});
    view_ = std::make_unique<WebView>(
        WebViewSources{.core = core_.get(), .engine = engine_, .devices = {"CPU:0", "NOPE:7"}});
  }
  void TearDown() override {
    profiler::Stop();
    Tensor::SetRealizer(previous_);
    models_->Stop();
  }

  HttpResponse Call(const std::string& method, const std::string& path,
                    const std::string& query = "") {
    HttpRequest req;
    req.method = method;
    req.path = path;
    req.query = query;
    HttpResponse res;
    EXPECT_TRUE(view_->Handle(req, &res)) << path;
    return res;
  }
  JsonValue Json(const HttpResponse& r) {
    absl::StatusOr<JsonValue> v = ParseJson(r.body);
    EXPECT_TRUE(v.ok()) << v.status() << "\n" << r.body;
    return v.ok() ? *v : JsonValue();
  }
  // Runs one small kernel through the Engine.
  void RunKernel() {
    Tensor x = Tensor::FromVector<float>({1, 2, 3, 4}, Shape{4});
    ASSERT_TRUE(x.Mul(3).Add(1).Realize().ok());
  }

  fs::path repo_;
  BackendRegistry backends_;
  ShmRegistry shm_;
  std::unique_ptr<ModelManager> models_;
  std::unique_ptr<ServingCore> core_;
  std::shared_ptr<Realizer> previous_;
  std::shared_ptr<Engine> engine_;
  std::unique_ptr<WebView> view_;
};

TEST_F(WebViewTest, ServesThePageAndItsAssetsOnly) {
  HttpResponse page = Call("GET", "/ui");
  EXPECT_EQ(page.status, 200);
  EXPECT_THAT(page.content_type, HasSubstr("text/html"));
  EXPECT_THAT(page.body, HasSubstr("<script src=\"/ui/app.js\">"));
  EXPECT_EQ(Call("GET", "/ui/").body, page.body);
  HttpResponse js = Call("GET", "/ui/app.js");
  EXPECT_THAT(js.content_type, HasSubstr("text/javascript"));
  EXPECT_THAT(js.body, HasSubstr("/ui/api/models"));
  EXPECT_THAT(Call("GET", "/ui/app.css").content_type, HasSubstr("text/css"));
  // Nothing outside the daemon: no absolute URLs in what the page loads.
  for (const char* asset : {"/ui", "/ui/app.js", "/ui/app.css"}) {
    EXPECT_THAT(Call("GET", asset).body, Not(HasSubstr("http://"))) << asset;
    EXPECT_THAT(Call("GET", asset).body, Not(HasSubstr("https://"))) << asset;
  }
  HttpResponse missing = Call("GET", "/ui/secret.txt");
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(missing.body, HasSubstr("no page /ui/secret.txt"));
  EXPECT_EQ(Call("POST", "/ui/app.js").status, 400);
}

TEST_F(WebViewTest, LeavesOtherPathsToTheCaller) {
  for (const char* path : {"/v2/health/ready", "/uix", "/", "/metrics"}) {
    HttpRequest req;
    req.method = "GET";
    req.path = path;
    HttpResponse res;
    EXPECT_FALSE(view_->Handle(req, &res)) << path;
  }
}

TEST_F(WebViewTest, ModelsShowStateReasonConfigAndStatistics) {
  HttpApi api(core_.get());
  HttpRequest infer;
  infer.method = "POST";
  infer.path = "/v2/models/add/infer";
  infer.body = kInfer;
  HttpResponse answer;
  api.Handle(infer, &answer);
  ASSERT_EQ(answer.status, 200) << answer.body;

  JsonValue models = Json(Call("GET", "/ui/api/models"));
  ASSERT_EQ(models.items.size(), 2u);
  const JsonValue& add = models.items[0];
  EXPECT_EQ(add.Find("name")->text, "add");
  EXPECT_EQ(add.Find("state")->text, "READY");
  ASSERT_NE(add.Find("config"), nullptr);
  EXPECT_EQ(add.Find("config")->Find("input")->items.size(), 2u);
  const JsonValue* stats = add.Find("stats");
  ASSERT_NE(stats, nullptr);
  EXPECT_EQ(stats->Find("inference_stats")->Find("success")->Find("count")->number, 1);
  const JsonValue& broken = models.items[1];
  EXPECT_EQ(broken.Find("state")->text, "UNAVAILABLE");
  EXPECT_THAT(broken.Find("reason")->text, HasSubstr("nope"));
  EXPECT_EQ(broken.Find("config"), nullptr);
}

TEST_F(WebViewTest, DevicesReportMemoryAndNameTheUnknownOnes) {
  RunKernel();
  JsonValue devices = Json(Call("GET", "/ui/api/devices"));
  ASSERT_EQ(devices.items.size(), 2u);
  const JsonValue* memory = devices.items[0].Find("memory");
  ASSERT_NE(memory, nullptr);
  EXPECT_GT(memory->Find("total")->number, 0);
  EXPECT_GT(memory->Find("peak")->number, 0);
  EXPECT_THAT(devices.items[1].Find("error")->text, HasSubstr("NOPE"));
}

TEST_F(WebViewTest, KernelsListCompilesAndShowSource) {
  RunKernel();
  JsonValue kernels = Json(Call("GET", "/ui/api/kernels"));
  ASSERT_GE(kernels.items.size(), 1u);
  const JsonValue& k = kernels.items.back();
  EXPECT_EQ(k.Find("device")->text, "CPU:0");
  EXPECT_FALSE(k.Find("name")->text.empty());
  EXPECT_EQ(k.Find("global")->items.size(), 3u);
  EXPECT_GE(k.Find("compile_ms")->number, 0);
  EXPECT_EQ(k.Find("launches"), nullptr);  // nothing measured: the recorder is off

  ASSERT_TRUE(k.Find("id")->AsUint64().has_value());
  const std::string id = k.Find("id")->text;
  JsonValue detail = Json(Call("GET", "/ui/api/kernel", "id=" + id));
  EXPECT_EQ(detail.Find("name")->text, k.Find("name")->text);
  EXPECT_THAT(detail.Find("source")->text, HasSubstr("define"));  // LLVM IR
  EXPECT_GE(detail.Find("buffers")->items.size(), 2u);
  EXPECT_EQ(k.Find("opts")->text, "heuristics");
  // The pipeline replayed on the kernel's AST ends in the compiled source.
  const JsonValue* steps = detail.Find("steps");
  ASSERT_NE(steps, nullptr) << Call("GET", "/ui/api/kernel", "id=" + id).body;
  ASSERT_GE(steps->items.size(), 6u);
  EXPECT_EQ(steps->items.front().Find("name")->text, "kernel AST (scheduler)");
  EXPECT_EQ(steps->items.back().Find("text")->text, detail.Find("source")->text);

  EXPECT_EQ(Call("GET", "/ui/api/kernel", "id=abc").status, 400);
  HttpResponse unknown = Call("GET", "/ui/api/kernel", "id=1");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_THAT(unknown.body, HasSubstr("no compiled kernel with id 1"));
}

TEST_F(WebViewTest, RecorderMeasuresKernelsAndServesTraces) {
  JsonValue on = Json(Call("POST", "/ui/api/recording", "on=1"));
  EXPECT_TRUE(on.Find("recording")->boolean);
  for (int i = 0; i < 3; ++i) {
    Tensor x = Tensor::FromVector<float>({1, 2, 3, float(i)}, Shape{4});
    ASSERT_TRUE(x.Mul(5).Realize().ok());
  }
  JsonValue kernels = Json(Call("GET", "/ui/api/kernels"));
  int64_t launches = 0;
  for (const JsonValue& k : kernels.items) {
    if (const JsonValue* n = k.Find("launches")) launches += n->AsInt64().value_or(0);
  }
  EXPECT_GE(launches, 3);

  JsonValue recent = Json(Call("GET", "/ui/api/recent", "seconds=60"));
  EXPECT_TRUE(recent.Find("recording")->boolean);
  ASSERT_FALSE(recent.Find("spans")->items.empty());
  EXPECT_THAT(recent.Find("spans")->items[0].Find("track")->text, HasSubstr("CPU:0"));

  HttpResponse json = Call("GET", "/ui/api/trace", "seconds=60&format=json");
  EXPECT_EQ(json.status, 200);
  EXPECT_FALSE(Json(json).Find("traceEvents")->items.empty());
  HttpResponse perfetto = Call("GET", "/ui/api/trace", "seconds=60&format=perfetto&download=1");
  EXPECT_EQ(perfetto.status, 200);
  EXPECT_EQ(perfetto.content_type, "application/octet-stream");
  EXPECT_FALSE(perfetto.body.empty());
  bool attachment = false;
  for (const auto& [k, v] : perfetto.headers) {
    attachment |= k == "Content-Disposition" && v.find(".perfetto-trace") != std::string::npos;
  }
  EXPECT_TRUE(attachment);

  JsonValue off = Json(Call("POST", "/ui/api/recording", "on=0"));
  EXPECT_FALSE(off.Find("recording")->boolean);
}

TEST_F(WebViewTest, BadRequestsSayWhatWasWrong) {
  HttpResponse r = Call("GET", "/ui/api/trace", "seconds=abc");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("seconds='abc'"));
  EXPECT_EQ(Call("GET", "/ui/api/trace", "seconds=100000").status, 400);
  EXPECT_THAT(Call("GET", "/ui/api/trace", "format=pdf").body, HasSubstr("format='pdf'"));
  EXPECT_EQ(Call("GET", "/ui/api/recording").status, 400);
  EXPECT_THAT(Call("POST", "/ui/api/recording", "on=maybe").body, HasSubstr("on='maybe'"));
  EXPECT_EQ(Call("GET", "/ui/api/nothing").status, 404);
  EXPECT_EQ(Call("POST", "/ui/api/models").status, 400);
}

TEST(QueryParam, FindsAndDecodes) {
  EXPECT_EQ(QueryParam("a=1&name=E%5F4+x&b", "name"), "E_4 x");
  EXPECT_EQ(QueryParam("a=1", "b"), "");
  EXPECT_EQ(QueryParam("bad=%zz", "bad"), "%zz");
}

}  // namespace
}  // namespace uop::server
