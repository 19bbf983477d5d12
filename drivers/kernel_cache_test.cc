#include "drivers/kernel_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

std::string FreshDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/kc_", name, "_", getpid());
  std::filesystem::remove_all(dir);
  return dir;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << data;
}

// Counts compiles; the "binary" is derived from the source.
class CountingCompiler final : public Compiler {
 public:
  const std::string& CacheKey() const override { return key_; }
  absl::StatusOr<std::string> Compile(absl::string_view name, absl::string_view source) override {
    ++compiles;
    if (source == "bad") return absl::InvalidArgumentError("bad source");
    return absl::StrCat("BIN(", name, ":", source, ")");
  }
  std::atomic<int> compiles{0};
  std::string key_ = "counting-1";
};

TEST(KernelCache, MissThenHit) {
  KernelCache cache(FreshDir("hit"));
  const KernelCache::Key key = KernelCache::MakeKey("cc", "E_4", "src");
  EXPECT_FALSE(cache.Lookup(key).has_value());
  ASSERT_TRUE(cache.Store(key, std::string("\0bin\xff", 5)).ok());
  std::optional<std::string> got = cache.Lookup(key);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, std::string("\0bin\xff", 5));
  const KernelCacheStats s = cache.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.stores, 1u);
  EXPECT_EQ(s.corrupt, 0u);
}

TEST(KernelCache, KeyDependsOnEveryFieldWithoutAmbiguity) {
  const auto k = KernelCache::MakeKey("a", "b", "c");
  EXPECT_NE(k, KernelCache::MakeKey("a", "b", "d"));
  EXPECT_NE(k, KernelCache::MakeKey("a", "x", "c"));
  EXPECT_NE(k, KernelCache::MakeKey("z", "b", "c"));
  EXPECT_NE(KernelCache::MakeKey("ab", "", "c"), KernelCache::MakeKey("a", "b", "c"));
  EXPECT_EQ(k, KernelCache::MakeKey("a", "b", "c"));
}

TEST(KernelCache, EmptyPayloadRoundTrips) {
  KernelCache cache(FreshDir("empty"));
  const auto key = KernelCache::MakeKey("cc", "k", "");
  ASSERT_TRUE(cache.Store(key, "").ok());
  ASSERT_TRUE(cache.Lookup(key).has_value());
  EXPECT_EQ(*cache.Lookup(key), "");
}

// Each way an entry can go bad is a miss, counted as corrupt, never loaded.
TEST(KernelCache, BadEntriesAreMisses) {
  struct Case {
    const char* what;
    std::function<void(std::string&)> damage;
  };
  const std::vector<Case> cases = {
      {"empty file", [](std::string& f) { f.clear(); }},
      {"truncated header", [](std::string& f) { f.resize(40); }},
      {"truncated payload", [](std::string& f) { f.resize(f.size() - 3); }},
      {"extra bytes", [](std::string& f) { f += "x"; }},
      {"bad magic", [](std::string& f) { f.replace(0, 1, "X"); }},
      {"other version", [](std::string& f) { f.replace(8, 1, "\x63"); }},
      {"flipped payload byte", [](std::string& f) { f.back() ^= 1; }},
      {"flipped checksum byte", [](std::string& f) { f.replace(60, 1, 1, f[60] ^ 1); }},
  };
  for (const Case& c : cases) {
    KernelCache cache(FreshDir("bad"));
    const auto key = KernelCache::MakeKey("cc", "k", "source");
    ASSERT_TRUE(cache.Store(key, "the compiled bytes").ok());
    std::string file = ReadAll(cache.EntryPath(key));
    c.damage(file);
    WriteAll(cache.EntryPath(key), file);
    EXPECT_FALSE(cache.Lookup(key).has_value()) << c.what;
    EXPECT_EQ(cache.stats().corrupt, 1u) << c.what;
  }
}

TEST(KernelCache, EntryOfAnotherKeyIsNotLoaded) {
  KernelCache cache(FreshDir("foreign"));
  const auto a = KernelCache::MakeKey("cc", "a", "1"), b = KernelCache::MakeKey("cc", "b", "2");
  ASSERT_TRUE(cache.Store(a, "binary of a").ok());
  ASSERT_EQ(rename(cache.EntryPath(a).c_str(), cache.EntryPath(b).c_str()), 0);
  EXPECT_FALSE(cache.Lookup(b).has_value());
  EXPECT_EQ(cache.stats().corrupt, 1u);
}

TEST(KernelCache, CompileCachedRecompilesAndReplacesCorruptEntry) {
  KernelCache cache(FreshDir("replace"));
  CountingCompiler cc;
  bool hit = true;
  absl::StatusOr<std::string> bin = CompileCached(cc, &cache, "E_1", "x+1", &hit);
  ASSERT_TRUE(bin.ok());
  EXPECT_FALSE(hit);
  EXPECT_EQ(*bin, "BIN(E_1:x+1)");
  EXPECT_EQ(*CompileCached(cc, &cache, "E_1", "x+1", &hit), "BIN(E_1:x+1)");
  EXPECT_TRUE(hit);
  EXPECT_EQ(cc.compiles, 1);

  const std::string path = cache.EntryPath(KernelCache::MakeKey(cc.CacheKey(), "E_1", "x+1"));
  std::string f = ReadAll(path);
  f[f.size() - 2] ^= 0x40;
  WriteAll(path, f);
  EXPECT_EQ(*CompileCached(cc, &cache, "E_1", "x+1", &hit), "BIN(E_1:x+1)");
  EXPECT_FALSE(hit);
  EXPECT_EQ(cc.compiles, 2);
  // Replaced by a good entry.
  EXPECT_EQ(*CompileCached(cc, &cache, "E_1", "x+1", &hit), "BIN(E_1:x+1)");
  EXPECT_TRUE(hit);
  EXPECT_EQ(cc.compiles, 2);
}

TEST(KernelCache, CompilerKeyChangeMisses) {
  KernelCache cache(FreshDir("ckey"));
  CountingCompiler cc;
  ASSERT_TRUE(CompileCached(cc, &cache, "k", "s").ok());
  cc.key_ = "counting-2";
  bool hit = true;
  ASSERT_TRUE(CompileCached(cc, &cache, "k", "s", &hit).ok());
  EXPECT_FALSE(hit);
  EXPECT_EQ(cc.compiles, 2);
}

TEST(KernelCache, CompileErrorsAreNotCached) {
  KernelCache cache(FreshDir("err"));
  CountingCompiler cc;
  EXPECT_EQ(CompileCached(cc, &cache, "k", "bad").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CompileCached(cc, &cache, "k", "bad").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cc.compiles, 2);
  EXPECT_EQ(cache.stats().stores, 0u);
}

TEST(KernelCache, StoreFailureIsReportedButCompileSucceeds) {
  const std::string dir = FreshDir("ro");
  // A regular file where the directory should be: mkdir fails.
  WriteAll(dir, "not a directory");
  KernelCache cache(dir + "/sub");
  absl::Status st = cache.Store(KernelCache::MakeKey("a", "b", "c"), "x");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(dir), std::string::npos) << st;
  CountingCompiler cc;
  EXPECT_TRUE(CompileCached(cc, &cache, "k", "s").ok());
  EXPECT_EQ(cache.stats().store_errors, 2u);
}

// Many threads store and read the same keys at once: readers only ever see a
// miss or the complete, correct entry; no temporary files are left behind.
TEST(KernelCache, ConcurrentWritersNeverExposePartialEntries) {
  const std::string dir = FreshDir("concurrent");
  KernelCache cache(dir);
  const std::string payload(200000, 'p');
  std::vector<KernelCache::Key> keys;
  for (int i = 0; i < 4; ++i) keys.push_back(KernelCache::MakeKey("cc", "k", std::to_string(i)));
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 30; ++i) {
        const auto& key = keys[(t + i) % keys.size()];
        if (t % 2 == 0) {
          if (!cache.Store(key, payload).ok()) bad.fetch_add(1);
        } else if (std::optional<std::string> got = cache.Lookup(key)) {
          if (*got != payload) bad.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(cache.stats().corrupt, 0u);
  for (const auto& key : keys) EXPECT_EQ(cache.Lookup(key), payload);
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    ++files;
    EXPECT_EQ(entry.path().extension(), ".uopk") << "left behind: " << entry.path();
  }
  EXPECT_EQ(files, 4);
}

TEST(KernelCache, DefaultDirFollowsEnvironment) {
  setenv("UOP_CACHE_DIR", "/x/cache", 1);
  EXPECT_EQ(*KernelCache::DefaultDir(), "/x/cache/kernels");
  unsetenv("UOP_CACHE_DIR");
  setenv("HOME", "/home/u", 1);
  EXPECT_EQ(*KernelCache::DefaultDir(), "/home/u/.cache/uop/kernels");
  unsetenv("HOME");
  EXPECT_EQ(KernelCache::DefaultDir().status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace uop
