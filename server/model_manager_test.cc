#include "server/model_manager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/time/clock.h"
#include "server/test_backend.h"

namespace uop::server {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

fs::path FreshRepo(const std::string& name) {
  fs::path dir = fs::path(testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void AddModel(const fs::path& repo, const std::string& name, std::vector<int> versions,
              const std::string& config = "") {
  fs::create_directories(repo / name);
  for (int v : versions) {
    fs::create_directories(repo / name / std::to_string(v));
    std::ofstream(repo / name / std::to_string(v) / "model.onnx") << "test model";
  }
  if (!config.empty()) std::ofstream(repo / name / "config.pbtxt") << config;
}

struct Manager {
  Manager(const fs::path& repo, ControlMode mode, std::vector<std::string> startup = {}) {
    backends.Register("test", TestLoader(TestBackend::AddSpec(), &last));
    ModelManagerOptions o;
    o.repository = repo.string();
    o.mode = mode;
    o.startup_models = std::move(startup);
    o.max_model_bytes = 1000;
    models = std::make_unique<ModelManager>(o, &backends, nullptr);
  }
  BackendRegistry backends;
  TestBackend* last = nullptr;
  std::unique_ptr<ModelManager> models;
};

TEST(ModelManager, LoadsEveryModelAndServesTheLatestVersion) {
  fs::path repo = FreshRepo("mm_all");
  AddModel(repo, "add", {1, 3});
  AddModel(repo, "sub", {2}, "max_batch_size: 0");
  Manager m(repo, ControlMode::kNone);
  ASSERT_TRUE(m.models->LoadStartupModels().ok());
  EXPECT_TRUE(m.models->AllReady());
  auto add = m.models->Get("add", "");
  ASSERT_TRUE(add.ok()) << add.status();
  EXPECT_EQ((*add)->version, 3);  // default policy: latest 1
  EXPECT_EQ((*add)->config.input_size(), 2);
  EXPECT_EQ(m.models->Get("add", "1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m.models->Get("nope", "").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m.models->Get("add", "x").status().code(), absl::StatusCode::kInvalidArgument);
  // Warm-up ran the model once before it became READY.
  EXPECT_GE(m.last->runs(), 1);
  auto index = m.models->Index(false);
  ASSERT_TRUE(index.ok());
  ASSERT_EQ(index->size(), 2u);
  EXPECT_EQ((*index)[0].name, "add");
  EXPECT_EQ((*index)[0].version, "3");
  EXPECT_EQ((*index)[0].state, "READY");
}

TEST(ModelManager, VersionPolicyAllLoadsEveryVersion) {
  fs::path repo = FreshRepo("mm_policy");
  AddModel(repo, "add", {1, 2}, "version_policy { all {} }");
  Manager m(repo, ControlMode::kNone);
  ASSERT_TRUE(m.models->LoadStartupModels().ok());
  EXPECT_TRUE(m.models->Get("add", "1").ok());
  EXPECT_TRUE(m.models->Get("add", "2").ok());
  EXPECT_EQ(m.models->Ready("add").size(), 2u);
}

TEST(ModelManager, ABadModelIsUnavailableWithItsReasonAndServerNotReady) {
  fs::path repo = FreshRepo("mm_bad");
  AddModel(repo, "good", {1});
  AddModel(repo, "bad", {1}, "input [{ name: \"nope\" dims: [4] }]");
  Manager m(repo, ControlMode::kNone);
  absl::Status s = m.models->LoadStartupModels();
  EXPECT_THAT(s.message(), HasSubstr("input 'nope' is not in the model"));
  EXPECT_FALSE(m.models->AllReady());
  EXPECT_TRUE(m.models->Get("good", "").ok());
  absl::Status bad = m.models->Get("bad", "").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(bad.message(), HasSubstr("input 'nope'"));
  auto index = m.models->Index(false);
  ASSERT_TRUE(index.ok());
  EXPECT_EQ((*index)[0].name, "bad");
  EXPECT_EQ((*index)[0].state, "UNAVAILABLE");
  EXPECT_THAT((*index)[0].reason, HasSubstr("nope"));
  auto ready = m.models->Index(true);
  ASSERT_EQ(ready->size(), 1u);
  EXPECT_EQ((*ready)[0].name, "good");
}

TEST(ModelManager, ExplicitModeLoadsOnlyWhatIsAskedAndUnloads) {
  fs::path repo = FreshRepo("mm_explicit");
  AddModel(repo, "a", {1});
  AddModel(repo, "b", {1});
  Manager m(repo, ControlMode::kExplicit, {"a"});
  ASSERT_TRUE(m.models->LoadStartupModels().ok());
  EXPECT_TRUE(m.models->Get("a", "").ok());
  EXPECT_EQ(m.models->Get("b", "").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(m.models->Load("b", "", {}).ok());
  EXPECT_TRUE(m.models->Get("b", "").ok());
  ASSERT_TRUE(m.models->Unload("a").ok());
  EXPECT_EQ(m.models->Get("a", "").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(m.models->AllReady());  // an unloaded model is no longer wanted
  EXPECT_EQ(m.models->Unload("zzz").code(), absl::StatusCode::kNotFound);
}

TEST(ModelManager, NoneModeRefusesLoadAndUnload) {
  fs::path repo = FreshRepo("mm_none");
  AddModel(repo, "a", {1});
  Manager m(repo, ControlMode::kNone);
  EXPECT_EQ(m.models->Load("a", "", {}).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(m.models->Unload("a").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ModelManager, UnloadWaitsForInFlightRequests) {
  fs::path repo = FreshRepo("mm_unload_wait");
  AddModel(repo, "a", {1});
  Manager m(repo, ControlMode::kExplicit, {"a"});
  ASSERT_TRUE(m.models->LoadStartupModels().ok());
  m.last->set_delay(absl::Milliseconds(200));
  const int warm_runs = m.last->runs();
  auto model = *m.models->Get("a", "");
  std::string data(16, '\0');
  InferJob job;
  job.inputs = {{"A", inference::TYPE_FP32, {4}, data}, {"B", inference::TYPE_FP32, {4}, data}};
  std::thread t([&] { (void)model->scheduler->Infer(&job); });
  while (m.last->runs() == warm_runs) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_TRUE(m.models->Unload("a").ok());
  EXPECT_TRUE(job.state == InferJob::State::kDone);
  EXPECT_TRUE(job.status.ok());
  t.join();
}

TEST(ModelManager, LoadWithConfigAndFilesStoresTheModelAfterItLoads) {
  fs::path repo = FreshRepo("mm_files");
  Manager m(repo, ControlMode::kExplicit);
  ASSERT_TRUE(m.models->LoadStartupModels().ok());
  absl::Status s =
      m.models->Load("fresh", R"({"max_batch_size": 0})", {{"1/model.onnx", "test model bytes"}});
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(m.models->Get("fresh", "1").ok());
  EXPECT_TRUE(fs::exists(repo / "fresh" / "1" / "model.onnx"));
  EXPECT_TRUE(fs::exists(repo / "fresh" / "config.pbtxt"));
  // Nothing staged is left behind.
  int entries = 0;
  for (auto& e : fs::directory_iterator(repo)) entries += e.path().filename() != "fresh";
  EXPECT_EQ(entries, 0);
}

TEST(ModelManager, AModelThatDoesNotImportReplacesNothing) {
  fs::path repo = FreshRepo("mm_badfiles");
  AddModel(repo, "m", {1});
  Manager m(repo, ControlMode::kExplicit, {"m"});
  ASSERT_TRUE(m.models->LoadStartupModels().ok());
  absl::Status s = m.models->Load("m", "{}", {{"1/model.onnx", "not a model"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("does not import"));
  // The old version keeps serving and its file is untouched.
  EXPECT_TRUE(m.models->Get("m", "1").ok());
  std::ifstream in(repo / "m" / "1" / "model.onnx");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "test model");
}

TEST(ModelManager, LoadRequestsAreValidated) {
  fs::path repo = FreshRepo("mm_validate");
  Manager m(repo, ControlMode::kExplicit);
  EXPECT_THAT(m.models->Load("x", "", {{"1/model.onnx", "x"}}).message(),
              HasSubstr("needs the 'config' parameter"));
  EXPECT_EQ(m.models->Load("x", "{}", {{"1/model.onnx", std::string(2000, 'x')}}).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(m.models->Load("../evil", "{}", {}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m.models->Load("x", "{", {}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m.models->Load("x", "{}", {{"../1/model.onnx", "test"}}).code(),
            absl::StatusCode::kNotFound);  // no loadable version: nothing was written
  EXPECT_FALSE(fs::exists(repo.parent_path() / "1"));
}

TEST(ModelManager, PollModeFollowsTheRepository) {
  fs::path repo = FreshRepo("mm_poll");
  AddModel(repo, "a", {1});
  Manager m(repo, ControlMode::kPoll);
  ASSERT_TRUE(m.models->LoadStartupModels().ok());
  AddModel(repo, "b", {1});
  ASSERT_TRUE(m.models->PollOnce().ok());
  EXPECT_TRUE(m.models->Get("b", "").ok());
  AddModel(repo, "a", {2});  // a new version appears
  ASSERT_TRUE(m.models->PollOnce().ok());
  EXPECT_EQ((*m.models->Get("a", ""))->version, 2);
  fs::remove_all(repo / "b");
  ASSERT_TRUE(m.models->PollOnce().ok());
  EXPECT_EQ(m.models->Get("b", "").status().code(), absl::StatusCode::kNotFound);
}

TEST(CheckModelName, RefusesPathsAndHiddenNames) {
  EXPECT_TRUE(CheckModelName("resnet50_v1-5").ok());
  for (const char* bad : {"", ".", "..", ".hidden", "a/b", "a\\b", "a\nb"}) {
    EXPECT_EQ(CheckModelName(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace uop::server
