#include "server/model_repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace uop::server {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

fs::path FreshDir(const std::string& name) {
  fs::path dir = fs::path(testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(ListModelFolders, FindsFoldersWithConfigSorted) {
  fs::path repo = FreshDir("repo_ok");
  for (const char* model : {"zeta", "add"}) {
    fs::create_directories(repo / model / "1");
    std::ofstream(repo / model / "config.pbtxt") << "name: \"" << model << "\"\n";
  }
  fs::create_directories(repo / "no_config");
  std::ofstream(repo / "README") << "not a model\n";
  auto models = ListModelFolders(repo.string());
  ASSERT_TRUE(models.ok()) << models.status();
  EXPECT_THAT(*models, ElementsAre("add", "zeta"));
}

TEST(ListModelFolders, EmptyFolderHasNoModels) {
  auto models = ListModelFolders(FreshDir("repo_empty").string());
  ASSERT_TRUE(models.ok()) << models.status();
  EXPECT_TRUE(models->empty());
}

TEST(ListModelFolders, MissingFolderIsNotFound) {
  auto models = ListModelFolders("/nonexistent/models");
  ASSERT_FALSE(models.ok());
  EXPECT_EQ(models.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(models.status().message(), "model repository '/nonexistent/models' does not exist");
}

TEST(ListModelFolders, FileIsNotAFolder) {
  fs::path file = FreshDir("repo_file") / "models.txt";
  std::ofstream(file) << "x";
  auto models = ListModelFolders(file.string());
  ASSERT_FALSE(models.ok());
  EXPECT_EQ(models.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(models.status().message(), HasSubstr("is not a folder"));
}

TEST(ListModelFolders, AFolderWithOnlyVersionFoldersIsAModelAndHiddenOnesAreSkipped) {
  fs::path repo = FreshDir("repo_versions");
  fs::create_directories(repo / "noconfig" / "3");
  fs::create_directories(repo / ".staging-x" / "1");
  fs::create_directories(repo / "junk" / "v1");
  auto models = ListModelFolders(repo.string());
  ASSERT_TRUE(models.ok()) << models.status();
  EXPECT_THAT(*models, ElementsAre("noconfig"));
}

TEST(ListVersions, NumericPositiveFoldersAscending) {
  fs::path model = FreshDir("versions") / "m";
  for (const char* v : {"10", "2", "0", "x1", "007"}) fs::create_directories(model / v);
  std::ofstream(model / "5") << "a file, not a folder";
  auto versions = ListVersions(model.string());
  ASSERT_TRUE(versions.ok()) << versions.status();
  EXPECT_THAT(*versions, ElementsAre(2, 7, 10));
}

TEST(Fingerprint, ChangesWhenAFileChanges) {
  fs::path model = FreshDir("fp") / "m";
  fs::create_directories(model / "1");
  std::ofstream(model / "1" / "model.onnx") << "abc";
  const std::string before = Fingerprint(model.string());
  EXPECT_EQ(before, Fingerprint(model.string()));
  std::ofstream(model / "1" / "model.onnx") << "abcd";
  EXPECT_NE(before, Fingerprint(model.string()));
}

TEST(WriteFiles, WritesNestedFilesAndRefusesEscapingPaths) {
  fs::path dir = FreshDir("write");
  ASSERT_TRUE(WriteFiles(dir.string(), {{"1/model.onnx", "bytes"}, {"config.pbtxt", "x"}}).ok());
  std::ifstream in(dir / "1" / "model.onnx");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "bytes");
  for (const char* bad : {"../evil", "/abs", "1/../../x", "a//b", ""}) {
    absl::Status s = WriteFiles(dir.string(), {{bad, "x"}});
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(fs::exists(dir.parent_path() / "evil"));
}

}  // namespace
}  // namespace uop::server
