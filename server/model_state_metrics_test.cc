#include "server/model_state_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <filesystem>
#include <fstream>

#include "server/test_backend.h"

namespace uop::server {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Render(const prometheus::MetricFamily& family) {
  return prometheus::TextSerializer().Serialize({family});
}

TEST(ModelReadyFamily, OneGaugePerServedVersion) {
  std::string text = Render(ModelReadyFamily({
      {"add", "1", "READY", ""},
      {"add", "2", "LOADING", ""},
      {"bad", "", "UNAVAILABLE", "input 'x' is not in the model"},
      {"idle", "", "", ""},                     // a folder nobody asked to load
      {"gone", "", "UNAVAILABLE", "unloaded"},  // unloaded on request
  }));
  EXPECT_THAT(text, HasSubstr("# TYPE uop_model_ready gauge"));
  EXPECT_THAT(text, HasSubstr("uop_model_ready{model=\"add\",version=\"1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("uop_model_ready{model=\"add\",version=\"2\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("uop_model_ready{model=\"bad\",version=\"\"} 0\n"));
  EXPECT_THAT(text, Not(HasSubstr("idle")));
  EXPECT_THAT(text, Not(HasSubstr("gone")));
}

fs::path Repo(const std::string& name) {
  fs::path dir = fs::path(testing::TempDir()) / name;
  fs::remove_all(dir);
  for (const char* model : {"good", "bad"}) {
    fs::create_directories(dir / model / "1");
    std::ofstream(dir / model / "1" / "model.onnx") << "test model";
  }
  std::ofstream(dir / "bad" / "config.pbtxt") << "input [{ name: \"nope\" dims: [4] }]";
  return dir;
}

TEST(ModelStateCollector, ReportsWhatTheManagerServes) {
  fs::path repo = Repo("msm_manager");
  BackendRegistry backends;
  backends.Register("test", TestLoader(TestBackend::AddSpec()));
  ModelManagerOptions o;
  o.repository = repo.string();
  o.mode = ControlMode::kExplicit;
  o.startup_models = {"*"};
  ModelManager models(o, &backends, nullptr);
  EXPECT_FALSE(models.LoadStartupModels().ok());  // "bad" does not load

  ModelStateCollector collector(&models);
  std::vector<prometheus::MetricFamily> families = collector.Collect();
  ASSERT_EQ(families.size(), 1u);
  std::string text = Render(families[0]);
  EXPECT_THAT(text, HasSubstr("uop_model_ready{model=\"good\",version=\"1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("uop_model_ready{model=\"bad\""));
  EXPECT_THAT(text, HasSubstr("} 0\n"));

  ASSERT_TRUE(models.Unload("good").ok());
  text = Render(collector.Collect()[0]);
  EXPECT_THAT(text, Not(HasSubstr("good")));  // unloaded on purpose: no alert
  models.Stop();
}

TEST(ModelStateCollector, NothingLoadedGivesAnEmptyFamily) {
  BackendRegistry backends;
  ModelManagerOptions o;
  o.repository = (fs::path(testing::TempDir()) / "msm_does_not_exist").string();
  ModelManager models(o, &backends, nullptr);
  // Nothing asked to serve: present (Prometheus sees uopd's families) and empty.
  std::vector<prometheus::MetricFamily> families = ModelStateCollector(&models).Collect();
  ASSERT_EQ(families.size(), 1u);
  EXPECT_TRUE(families[0].metric.empty());
}

}  // namespace
}  // namespace uop::server
