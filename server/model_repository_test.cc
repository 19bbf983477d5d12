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

}  // namespace
}  // namespace uop::server
