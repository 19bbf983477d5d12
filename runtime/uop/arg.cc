#include "runtime/uop/arg.h"

#include <bit>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace uop {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

std::string FormatDouble(double v) {
  std::string s = absl::StrCat(v);
  if (s.find_first_of(".einn") == std::string::npos) s += ".0";
  return s;
}

}  // namespace

size_t Arg::Hash() const {
  size_t tag = value_.index();
  return std::visit(
      Overloaded{
          [&](std::monostate) { return absl::HashOf(tag); },
          [&](int64_t v) { return absl::HashOf(tag, v); },
          [&](double v) { return absl::HashOf(tag, std::bit_cast<uint64_t>(v)); },
          [&](const std::string& v) { return absl::HashOf(tag, v); },
          [&](const std::vector<int64_t>& v) { return absl::HashOf(tag, v); },
          [&](const PairList& v) { return absl::HashOf(tag, v); },
          [&](const ReduceArg& v) { return absl::HashOf(tag, static_cast<int>(v.op), v.axes); },
          [&](const VarArg& v) { return absl::HashOf(tag, v.name, v.min, v.max); },
          [&](const BufferArg& v) { return absl::HashOf(tag, v.id, v.size); },
          [&](const std::shared_ptr<const ArgObject>& v) {
            return absl::HashOf(tag, v ? v->Hash() : size_t{0});
          },
      },
      value_);
}

bool operator==(const Arg& a, const Arg& b) {
  if (a.value_.index() != b.value_.index()) return false;
  if (auto* x = std::get_if<double>(&a.value_))
    return std::bit_cast<uint64_t>(*x) == std::bit_cast<uint64_t>(std::get<double>(b.value_));
  if (auto* x = std::get_if<std::shared_ptr<const ArgObject>>(&a.value_)) {
    const auto& y = std::get<std::shared_ptr<const ArgObject>>(b.value_);
    if (x->get() == y.get()) return true;
    return *x && y && (*x)->Equals(*y);
  }
  return a.value_ == b.value_;
}

std::string Arg::ToString() const {
  return std::visit(
      Overloaded{
          [](std::monostate) { return std::string("None"); },
          [](int64_t v) { return absl::StrCat(v); },
          [](double v) { return FormatDouble(v); },
          [](const std::string& v) { return absl::StrCat("'", v, "'"); },
          [](const std::vector<int64_t>& v) {
            return absl::StrCat("(", absl::StrJoin(v, ", "), ")");
          },
          [](const PairList& v) {
            return absl::StrCat(
                "(",
                absl::StrJoin(v, ", ",
                              [](std::string* out, const std::pair<int64_t, int64_t>& p) {
                                absl::StrAppend(out, "(", p.first, ", ", p.second, ")");
                              }),
                ")");
          },
          [](const ReduceArg& v) {
            return absl::StrCat("(", OpName(v.op), ", (", absl::StrJoin(v.axes, ", "), "))");
          },
          [](const VarArg& v) {
            return absl::StrCat("('", v.name, "', ", v.min, ", ", v.max, ")");
          },
          [](const BufferArg& v) { return absl::StrCat("(buf", v.id, ", ", v.size, ")"); },
          [](const std::shared_ptr<const ArgObject>& v) {
            return v ? v->ToString() : std::string("null");
          },
      },
      value_);
}

}  // namespace uop
