// loadgen: drives a KServe v2 gRPC server (uopd, or the echo server) with N
// concurrent closed-loop clients and prints one summary line.
//
//   loadgen --target=127.0.0.1:8001 --model=mlp --concurrency=16 --seconds=5 [--batch=1]
//           [--shm] [--echo-bytes=N] [--value=sr=16000]
//
// Exit status: 0 when every request succeeded, 1 when any failed, 2 for bad flags.
#include <cstdio>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tests/load/loadgen.h"

int main(int argc, char** argv) {
  uop::load::LoadOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::pair<std::string, std::string> kv = absl::StrSplit(arg, absl::MaxSplits('=', 1));
    const std::string& k = kv.first;
    const std::string& v = kv.second;
    double seconds = 0;
    bool ok = true;
    if (k == "--target") {
      o.target = v;
    } else if (k == "--model") {
      o.model = v;
    } else if (k == "--concurrency") {
      ok = absl::SimpleAtoi(v, &o.concurrency) && o.concurrency > 0;
    } else if (k == "--seconds") {
      ok = absl::SimpleAtod(v, &seconds) && seconds > 0;
      o.duration = absl::Seconds(seconds);
    } else if (k == "--warmup-seconds") {
      ok = absl::SimpleAtod(v, &seconds) && seconds >= 0;
      o.warmup = absl::Seconds(seconds);
    } else if (k == "--batch") {
      ok = absl::SimpleAtoi(v, &o.batch) && o.batch > 0;
    } else if (k == "--shm") {
      o.shm = true;
    } else if (k == "--echo-bytes") {
      ok = absl::SimpleAtoi(v, &o.echo_bytes) && o.echo_bytes >= 4;
    } else if (k == "--value") {
      std::pair<std::string, std::string> nv = absl::StrSplit(v, absl::MaxSplits('=', 1));
      double value = 0;
      ok = absl::SimpleAtod(nv.second, &value);
      o.values[nv.first] = value;
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "loadgen: bad argument '%s' (see the header of loadgen_main.cc)\n",
                   arg.c_str());
      return 2;
    }
  }
  absl::StatusOr<uop::load::LoadResult> r = uop::load::RunLoad(o);
  if (!r.ok()) {
    std::fprintf(stderr, "loadgen: %s\n", std::string(r.status().message()).c_str());
    return 1;
  }
  std::printf("loadgen: model=%s concurrency=%d shm=%d bytes=%lld %s\n", o.model.c_str(),
              o.concurrency, o.shm ? 1 : 0, static_cast<long long>(r->request_bytes),
              r->Summary().c_str());
  for (const auto& [what, n] : r->error_codes) {
    std::printf("loadgen: error x%lld: %s\n", static_cast<long long>(n), what.c_str());
  }
  return r->errors == 0 ? 0 : 1;
}
