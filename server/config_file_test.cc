#include "server/config_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace uop::server {
namespace {

using ::testing::HasSubstr;

TEST(ParseConfigText, ReadsKeyValueLinesSkippingCommentsAndBlanks) {
  auto entries = ParseConfigText(
      "# a comment\n"
      "\n"
      "  grpc-port   =  9001  \n"
      "model-repository=/srv/models # not a comment\n"
      "address = \"127.0.0.1\"\n",
      "t.conf");
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].key, "grpc-port");
  EXPECT_EQ((*entries)[0].value, "9001");
  EXPECT_EQ((*entries)[0].line, 3);
  EXPECT_EQ((*entries)[1].value, "/srv/models # not a comment");
  EXPECT_EQ((*entries)[2].value, "127.0.0.1");
}

TEST(ParseConfigText, EmptyTextHasNoEntries) {
  auto entries = ParseConfigText("", "t.conf");
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE(entries->empty());
}

TEST(ParseConfigText, HandlesCrLfLineEnds) {
  auto entries = ParseConfigText("grpc-port = 1\r\nhttp-port = 2\r\n", "t.conf");
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].value, "1");
}

TEST(ParseConfigText, LineWithoutEqualsNamesFileAndLine) {
  auto entries = ParseConfigText("\ngrpc-port 8001\n", "my.conf");
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(entries.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(entries.status().message(), "my.conf:2: expected 'key = value', got 'grpc-port 8001'");
}

TEST(ParseConfigText, MissingKeyIsAnError) {
  auto entries = ParseConfigText("= 5\n", "my.conf");
  ASSERT_FALSE(entries.ok());
  EXPECT_THAT(entries.status().message(), HasSubstr("my.conf:1: missing key"));
}

TEST(ParseConfigText, DuplicateKeyNamesBothLines) {
  auto entries = ParseConfigText("grpc-port = 1\n#\ngrpc-port = 2\n", "my.conf");
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(entries.status().message(),
            "my.conf:3: duplicate key 'grpc-port' (first set on line 1)");
}

TEST(ReadTextFile, ReadsTheWholeFile) {
  std::string path = testing::TempDir() + "/read_text_file.conf";
  std::string big(10000, 'x');
  std::ofstream(path) << big;
  auto text = ReadTextFile(path);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, big);
}

TEST(ReadTextFile, MissingFileNamesPathAndReason) {
  auto text = ReadTextFile("/nonexistent/uopd.conf");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().message(),
            "cannot read config file '/nonexistent/uopd.conf': No such file or directory");
}

TEST(ReadTextFile, DirectoryIsAnError) {
  auto text = ReadTextFile(testing::TempDir());
  ASSERT_FALSE(text.ok());
  EXPECT_THAT(text.status().message(), HasSubstr("Is a directory"));
}

}  // namespace
}  // namespace uop::server
