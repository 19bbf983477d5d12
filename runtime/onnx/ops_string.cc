// String tensors, which live on the host: StringNormalizer, TfIdfVectorizer
// (over strings or integers) and Cast to and from STRING. Numeric inputs of
// these ops are read at import (Evaluator::ReadHost).
#include <charconv>
#include <cmath>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "runtime/onnx/onnx_types.h"
#include "runtime/onnx/ops_util.h"
#include "runtime/onnx/registry.h"

namespace uop::onnx_import {
namespace {

Value StringsValue(std::vector<std::string> s, Shape shape, bool is_const) {
  return Value::Strings(
      std::make_shared<const HostTensor>(HostTensor::Strings(std::move(s), std::move(shape))),
      is_const);
}

// numpy's str() of a float: the shortest digits that round-trip,
// positional between 1e-4 and 1e16, else scientific.
std::string FormatFloat(double v, bool is_double) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const double a = std::abs(v);
  const bool positional = a == 0 || (a >= 1e-4 && a < 1e16);
  const std::chars_format fmt =
      positional ? std::chars_format::fixed : std::chars_format::scientific;
  std::to_chars_result r = is_double
                               ? std::to_chars(buf, buf + sizeof(buf), v, fmt)
                               : std::to_chars(buf, buf + sizeof(buf), static_cast<float>(v), fmt);
  std::string s(buf, r.ptr);
  if (positional && s.find('.') == std::string::npos) s += ".0";
  return s;
}

}  // namespace

// Cast with STRING on either side (called by the Cast handler).
absl::Status CastStrings(OpContext& ctx, int32_t to) {
  const Value& in = ctx.In(0);
  if (in.kind() == Value::Kind::kStrings) {
    const HostTensor& h = *in.host();
    if (to == kOnnxString) {
      ctx.Set(0, in);
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(DType d, DTypeFromOnnx(to));
    std::vector<double> v(h.numel());
    for (int64_t i = 0; i < h.numel(); ++i) {
      const std::string& s = h.strings[i];
      char* end = nullptr;
      v[i] = std::strtod(s.c_str(), &end);
      if (end == s.c_str()) return ctx.Error("cannot parse '", s, "' as a number");
    }
    ctx.Set(0, Value::FromTensor(Tensor::FromVector(v, h.shape).Cast(d), in.is_const()));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const HostTensor> h, ctx.HostInput(0));
  std::vector<std::string> out(h->numel());
  for (int64_t i = 0; i < h->numel(); ++i) {
    if (h->dtype.is_float()) {
      out[i] = FormatFloat(h->AsDouble(i), h->dtype == DType::Float64());
    } else if (h->dtype.is_bool()) {
      out[i] = h->AsInt(i) ? "True" : "False";
    } else if (h->dtype == DType::UInt64()) {
      out[i] = std::to_string(static_cast<uint64_t>(h->AsInt(i)));
    } else {
      out[i] = std::to_string(h->AsInt(i));
    }
  }
  ctx.Set(0, StringsValue(std::move(out), h->shape, in.is_const()));
  return absl::OkStatus();
}

namespace {

absl::Status StringNormalizer(OpContext& ctx) {
  ASSIGN_OR_RETURN(std::shared_ptr<const HostTensor> h, ctx.HostInput(0));
  if (!h->is_string) return ctx.Error("input must be a string tensor");
  const std::string action = ctx.Str("case_change_action", "NONE");
  const bool sensitive = ctx.Int("is_case_sensitive", 0) != 0;
  if (action != "NONE" && action != "LOWER" && action != "UPPER")
    return ctx.Error("unknown case_change_action '", action, "'");
  std::vector<std::string> stop = ctx.Strs("stopwords");
  if (!sensitive)
    for (std::string& s : stop) s = absl::AsciiStrToLower(s);
  const bool two_d = h->shape.size() == 2;
  if (!(h->shape.size() == 1 || (two_d && h->shape[0] == 1)))
    return ctx.Error("input must be [C] or [1, C], got ", h->Describe());
  std::vector<std::string> out;
  for (const std::string& s : h->strings) {
    const std::string key = sensitive ? s : absl::AsciiStrToLower(s);
    if (std::find(stop.begin(), stop.end(), key) != stop.end()) continue;
    out.push_back(action == "LOWER"   ? absl::AsciiStrToLower(s)
                  : action == "UPPER" ? absl::AsciiStrToUpper(s)
                                      : s);
  }
  if (out.empty()) out.push_back("");
  const int64_t m = static_cast<int64_t>(out.size());
  ctx.Set(0, StringsValue(std::move(out), two_d ? Shape{1, m} : Shape{m}, ctx.In(0).is_const()));
  return absl::OkStatus();
}

absl::Status TfIdfVectorizer(OpContext& ctx) {
  ASSIGN_OR_RETURN(std::shared_ptr<const HostTensor> h, ctx.HostInput(0));
  const std::string mode = ctx.Str("mode", "");
  const int64_t min_n = ctx.Int("min_gram_length", 1), max_n = ctx.Int("max_gram_length", 1);
  const int64_t max_skip = ctx.Int("max_skip_count", 0);
  const std::vector<int64_t> counts = ctx.Ints("ngram_counts"), indexes = ctx.Ints("ngram_indexes");
  const std::vector<float> weights = ctx.Floats("weights");
  const std::vector<int64_t> pool_ints = ctx.Ints("pool_int64s");
  const std::vector<std::string> pool_strs = ctx.Strs("pool_strings");
  if (mode != "TF" && mode != "IDF" && mode != "TFIDF")
    return ctx.Error("unknown mode '", mode, "'");
  if (min_n < 1 || max_n < min_n || static_cast<int64_t>(counts.size()) < max_n)
    return ctx.Error("bad gram lengths or ngram_counts");
  // Pool entries as string keys (integers spelled out), by n-gram length.
  const bool strings = !pool_strs.empty();
  const int64_t pool_size = strings ? pool_strs.size() : pool_ints.size();
  auto pool_item = [&](int64_t i) { return strings ? pool_strs[i] : std::to_string(pool_ints[i]); };
  std::map<std::vector<std::string>, int64_t> grams;  // n-gram -> output column
  int64_t k = 0;
  for (int64_t n = 1; n <= static_cast<int64_t>(counts.size()); ++n) {
    const int64_t start = counts[n - 1];
    const int64_t end = n < static_cast<int64_t>(counts.size()) ? counts[n] : pool_size;
    if (start < 0 || start > end || end > pool_size)
      return ctx.Error("ngram_counts [", absl::StrJoin(counts, ", "), "] do not fit a pool of ",
                       pool_size);
    for (int64_t p = start; p + n <= end; p += n, ++k) {
      std::vector<std::string> g;
      for (int64_t j = 0; j < n; ++j) g.push_back(pool_item(p + j));
      if (k >= static_cast<int64_t>(indexes.size())) return ctx.Error("too few ngram_indexes");
      grams[g] = indexes[k];
    }
  }
  int64_t cols = 0;
  for (int64_t i : indexes) {
    if (i < 0) return ctx.Error("negative ngram index ", i);
    cols = std::max(cols, i + 1);
  }
  RETURN_IF_ERROR(ctx.CheckElements(cols));
  if (h->is_string != strings) return ctx.Error("input and pool types differ");
  const bool two_d = h->shape.size() == 2;
  const int64_t rows = two_d ? h->shape[0] : 1, len = two_d ? h->shape[1] : h->numel();
  auto item = [&](int64_t r, int64_t i) {
    return h->is_string ? h->strings[r * len + i] : std::to_string(h->AsInt(r * len + i));
  };
  RETURN_IF_ERROR(ctx.CheckElements(rows * cols));
  std::vector<float> out(rows * cols, 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t n = min_n; n <= max_n; ++n)
      for (int64_t skip = 0; skip <= (n == 1 ? 0 : max_skip); ++skip)
        for (int64_t s = 0; s + (n - 1) * (skip + 1) < len; ++s) {
          std::vector<std::string> g;
          for (int64_t j = 0; j < n; ++j) g.push_back(item(r, s + j * (skip + 1)));
          auto it = grams.find(g);
          if (it != grams.end()) out[r * cols + it->second] += 1;
        }
    for (int64_t c = 0; c < cols; ++c) {
      float& v = out[r * cols + c];
      if (v == 0) continue;
      const float wt = c < static_cast<int64_t>(weights.size()) ? weights[c] : 1.0f;
      if (mode == "IDF")
        v = wt;
      else if (mode == "TFIDF")
        v *= wt;
    }
  }
  ctx.Set(0, Tensor::FromVector(out, two_d ? Shape{rows, cols} : Shape{cols}));
  return absl::OkStatus();
}

}  // namespace

void RegisterStringOps(OpRegistry& r) {
  r.Add(kOnnxDomain, "StringNormalizer", 10, StringNormalizer);
  r.Add(kOnnxDomain, "TfIdfVectorizer", 9, TfIdfVectorizer);
}

}  // namespace uop::onnx_import
