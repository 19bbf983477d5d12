#include "drivers/cpu/llvm_compiler.h"

#include <string>
#include <thread>
#include <vector>

#include "drivers/cpu/elf_loader.h"
#include "drivers/cpu/test_kernels.h"
#include "gtest/gtest.h"

namespace uop {
namespace {

LlvmCompiler& Cc() {
  static LlvmCompiler* cc = [] {
    absl::StatusOr<std::unique_ptr<LlvmCompiler>> c = LlvmCompiler::Create();
    EXPECT_TRUE(c.ok()) << c.status();
    return c->release();
  }();
  return *cc;
}

bool Contains(absl::string_view s, absl::string_view part) {
  return s.find(part) != absl::string_view::npos;
}

TEST(LlvmCompiler, EmitsAnElfObjectForTheHost) {
  absl::StatusOr<std::string> obj = Cc().Compile("add", test_kernels::kAdd);
  ASSERT_TRUE(obj.ok()) << obj.status();
  ASSERT_GT(obj->size(), 64u);
  EXPECT_EQ(obj->substr(0, 4),
            "\x7f"
            "ELF");
}

TEST(LlvmCompiler, CacheKeyNamesVersionTargetAndOptions) {
  const std::string& key = Cc().CacheKey();
  EXPECT_TRUE(Contains(key, "llvm-16.")) << key;
  EXPECT_TRUE(Contains(key, Cc().triple())) << key;
  EXPECT_TRUE(Contains(key, ";" + Cc().cpu() + ";")) << key;
  EXPECT_TRUE(Contains(key, ";O2;")) << key;
  absl::StatusOr<std::unique_ptr<LlvmCompiler>> o3 =
      LlvmCompiler::Create(LlvmCompiler::Options{.opt_level = 3});
  ASSERT_TRUE(o3.ok());
  EXPECT_NE((*o3)->CacheKey(), key);
  absl::StatusOr<std::unique_ptr<LlvmCompiler>> generic =
      LlvmCompiler::Create(LlvmCompiler::Options{.cpu = "x86-64", .features = "+sse2"});
  ASSERT_TRUE(generic.ok());
  EXPECT_NE((*generic)->CacheKey(), key);
  EXPECT_EQ((*generic)->max_vector_bytes(), 16);
}

TEST(LlvmCompiler, HostFeaturesSetVectorWidth) {
  const bool avx512 = Contains(Cc().features(), "+avx512f");
  EXPECT_EQ(Cc().max_vector_bytes(), avx512 ? 64 : Contains(Cc().features(), "+avx,") ? 32 : 16);
}

TEST(LlvmCompiler, MalformedIrIsInvalidArgumentWithLlvmsMessage) {
  absl::StatusOr<std::string> obj =
      Cc().Compile("k", "define void @k(ptr %b, ptr %v, i64 %c) {\n  %x = fadd float 1.0 2.0\n}\n");
  ASSERT_EQ(obj.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string msg(obj.status().message());
  EXPECT_TRUE(Contains(msg, "kernel 'k'")) << msg;
  EXPECT_TRUE(Contains(msg, "k:2:")) << "line number missing: " << msg;
  EXPECT_TRUE(Contains(msg, "expected ','")) << msg;
}

TEST(LlvmCompiler, VerifierErrorsAreInvalidArgument) {
  // memset's volatile flag must be an immediate: parses, fails verification.
  absl::StatusOr<std::string> obj =
      Cc().Compile("k",
                   "declare void @llvm.memset.p0.i64(ptr, i8, i64, i1 immarg)\n"
                   "define void @k(ptr %b, ptr %v, i64 %c) {\n"
                   "  %f = icmp eq i64 %c, 0\n"
                   "  call void @llvm.memset.p0.i64(ptr %b, i8 0, i64 8, i1 %f)\n"
                   "  ret void\n}\n");
  ASSERT_EQ(obj.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(obj.status().message(), "invalid")) << obj.status();
}

TEST(LlvmCompiler, RejectsMissingEntryAndWrongAbi) {
  absl::Status missing = Cc().Compile("nope", test_kernels::kAdd).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(missing.message(), "kernel 'nope' is not defined")) << missing;

  absl::Status abi = Cc().Compile("k", "define i32 @k(ptr %b) {\n  ret i32 0\n}\n").status();
  EXPECT_EQ(abi.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(abi.message(), "CPU kernel ABI")) << abi;

  absl::Status local =
      Cc().Compile("k", "define internal void @k(ptr %b, ptr %v, i64 %c) {\n  ret void\n}\n")
          .status();
  EXPECT_EQ(local.code(), absl::StatusCode::kInvalidArgument);
}

TEST(LlvmCompiler, RejectsIrForAnotherTarget) {
  absl::Status st = Cc().Compile("k",
                                 "target triple = \"aarch64-unknown-linux-gnu\"\n"
                                 "define void @k(ptr %b, ptr %v, i64 %c) {\n  ret void\n}\n")
                        .status();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(st.message(), "aarch64")) << st;
}

TEST(LlvmCompiler, RejectsBadOptLevel) {
  EXPECT_EQ(LlvmCompiler::Create(LlvmCompiler::Options{.opt_level = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Two threads compile the same kernels at once; the objects are identical to
// serially compiled ones (and therefore cacheable by content).
TEST(LlvmCompiler, ConcurrentCompilesFromTwoThreads) {
  const std::vector<std::pair<const char*, const char*>> kernels = {
      {"add", test_kernels::kAdd},
      {"reduce", test_kernels::kReduce},
      {"vec16", test_kernels::kVec16},
      {"table", test_kernels::kTable}};
  std::vector<std::string> serial;
  for (const auto& [name, src] : kernels) {
    absl::StatusOr<std::string> obj = Cc().Compile(name, src);
    ASSERT_TRUE(obj.ok()) << obj.status();
    serial.push_back(*obj);
  }
  std::vector<std::vector<std::string>> got(2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (const auto& [name, src] : kernels) {
          absl::StatusOr<std::string> obj = Cc().Compile(name, src);
          got[t].push_back(obj.ok() ? *obj : std::string(obj.status().message()));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 2; ++t) {
    ASSERT_EQ(got[t].size(), 3 * kernels.size());
    for (size_t i = 0; i < got[t].size(); ++i) {
      EXPECT_EQ(got[t][i], serial[i % kernels.size()]) << "thread " << t << " compile " << i;
    }
  }
}

// The LLVM target is set up by the first Compile: a fresh compiler's first
// compiles, racing on four threads, all succeed with the same object.
TEST(LlvmCompiler, FirstCompilesOfAFreshCompilerRace) {
  absl::StatusOr<std::unique_ptr<LlvmCompiler>> cc = LlvmCompiler::Create();
  ASSERT_TRUE(cc.ok()) << cc.status();
  EXPECT_FALSE((*cc)->CacheKey().empty());  // known before any target set-up
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      absl::StatusOr<std::string> obj = (*cc)->Compile("add", test_kernels::kAdd);
      got[t] = obj.ok() ? *obj : std::string(obj.status().message());
    });
  }
  for (auto& th : threads) th.join();
  const absl::StatusOr<std::string> want = Cc().Compile("add", test_kernels::kAdd);
  ASSERT_TRUE(want.ok()) << want.status();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(got[t], *want) << "thread " << t;
}

// The optimizer must not turn a zeroing loop into a memset call.
TEST(LlvmCompiler, DoesNotInventLibcalls) {
  const char* kZero = R"(
define void @zero(ptr noalias %bufs, ptr noalias %vars, i64 %core) {
entry:
  %out = load ptr, ptr %bufs
  %n = load i64, ptr %vars
  %empty = icmp sle i64 %n, 0
  br i1 %empty, label %exit, label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %p = getelementptr float, ptr %out, i64 %i
  store float 0.0, ptr %p
  %i.next = add i64 %i, 1
  %done = icmp eq i64 %i.next, %n
  br i1 %done, label %exit, label %loop
exit:
  ret void
}
)";
  absl::StatusOr<std::string> obj = Cc().Compile("zero", kZero);
  ASSERT_TRUE(obj.ok()) << obj.status();
  EXPECT_FALSE(Contains(*obj, std::string("memset\0", 7))) << "the object references memset";
}

}  // namespace
}  // namespace uop
