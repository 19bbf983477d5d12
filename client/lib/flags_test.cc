#include "client/lib/flags.h"

#include "gtest/gtest.h"

namespace uop::client {
namespace {

struct Parsed {
  std::string url = "localhost:8001";
  int64_t n = 1;
  double hz = 20;
  bool verbose = false, color = true;
  std::vector<std::string> inputs;
};

FlagSet MakeFlags(Parsed* p) {
  FlagSet f("tool run MODEL [flags]", "Runs a model.");
  f.String("url", 'u', &p->url, "HOST:PORT", "server address");
  f.Int("iterations", 'n', &p->n, "steps");
  f.Double("hz", 0, &p->hz, "rate");
  f.Bool("verbose", 'v', &p->verbose, "say more");
  f.Bool("color", 0, &p->color, "colors");
  f.Repeated("input", 'i', &p->inputs, "NAME=SPEC", "an input");
  return f;
}

TEST(FlagSet, ParsesEveryForm) {
  Parsed p;
  FlagSet f = MakeFlags(&p);
  absl::StatusOr<std::vector<std::string>> pos =
      f.Parse({"model.uop", "--url=h:1", "-n", "5", "--hz", "2.5", "-v", "--no-color", "-i", "a=1",
               "--input=b=2,3", "-n7", "--", "--not-a-flag"});
  ASSERT_TRUE(pos.ok()) << pos.status();
  EXPECT_EQ(*pos, (std::vector<std::string>{"model.uop", "--not-a-flag"}));
  EXPECT_EQ(p.url, "h:1");
  EXPECT_EQ(p.n, 7);
  EXPECT_EQ(p.hz, 2.5);
  EXPECT_TRUE(p.verbose);
  EXPECT_FALSE(p.color);
  EXPECT_EQ(p.inputs, (std::vector<std::string>{"a=1", "b=2,3"}));
  EXPECT_FALSE(f.help_requested());
}

TEST(FlagSet, ErrorsNameTheFlag) {
  Parsed p;
  auto err = [&](std::vector<std::string> args) {
    FlagSet f = MakeFlags(&p);
    return std::string(f.Parse(args).status().message());
  };
  EXPECT_EQ(err({"--bogus"}), "unknown flag --bogus (see --help)");
  EXPECT_EQ(err({"--hz", "fast"}), "flag --hz: 'fast' is not a number");
  EXPECT_EQ(err({"-n"}), "flag -n needs a value (N)");
  EXPECT_EQ(err({"--verbose=maybe"}), "flag --verbose: 'maybe' is not true or false");
  EXPECT_EQ(err({"--no-hz"}), "unknown flag --no-hz (see --help)");
}

TEST(FlagSet, HelpListsFlagsWithDefaults) {
  Parsed p;
  FlagSet f = MakeFlags(&p);
  ASSERT_TRUE(f.Parse({"-h"}).ok());
  EXPECT_TRUE(f.help_requested());
  const std::string h = f.Help();
  EXPECT_NE(h.find("usage: tool run MODEL [flags]"), std::string::npos) << h;
  EXPECT_NE(h.find("-u, --url=HOST:PORT"), std::string::npos) << h;
  EXPECT_NE(h.find("(default localhost:8001)"), std::string::npos) << h;
  EXPECT_NE(h.find("--hz=X"), std::string::npos) << h;
  EXPECT_NE(h.find("-h, --help"), std::string::npos) << h;
}

TEST(FlagSet, NegativeNumbersArePositional) {
  Parsed p;
  FlagSet f = MakeFlags(&p);
  EXPECT_EQ(*f.Parse({"-3", "x"}), (std::vector<std::string>{"-3", "x"}));
}

TEST(Flags, NameValueAndDims) {
  EXPECT_EQ(*SplitNameValue("input", "x=a=b"), (std::pair<std::string, std::string>{"x", "a=b"}));
  EXPECT_FALSE(SplitNameValue("input", "novalue").ok());
  EXPECT_FALSE(SplitNameValue("input", "=v").ok());
  EXPECT_EQ(*ParseDims("1,3,224,224"), (std::vector<int64_t>{1, 3, 224, 224}));
  EXPECT_TRUE(ParseDims("")->empty());
  EXPECT_FALSE(ParseDims("1,,2").ok());
  EXPECT_FALSE(ParseDims("1,-2").ok());
}

}  // namespace
}  // namespace uop::client
