// ProtoWriter: the few protobuf wire-format primitives the Perfetto exporter
// needs, appending to a std::string with no dependency on libprotobuf (so
// every program linking the profiler can write traces).
//
// Nested messages are written in place: BeginNested reserves a 4-byte
// length (a non-minimal varint, valid protobuf, the way Perfetto's own
// protozero writes), EndNested patches it. A nested message is limited to
// 2^28 - 1 bytes; the exporter keeps packets far below that.
//
//   std::string out;
//   ProtoWriter w(&out);
//   size_t packet = w.BeginNested(1);   // Trace.packet
//   w.Varint(8, timestamp);             // TracePacket.timestamp
//   w.EndNested(packet);
#ifndef UOP_RUNTIME_PROFILER_PROTO_WRITER_H_
#define UOP_RUNTIME_PROFILER_PROTO_WRITER_H_

#include <bit>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace uop::profiler {

class ProtoWriter {
 public:
  explicit ProtoWriter(std::string* out) : out_(out) {}

  void Varint(uint32_t field, uint64_t v) {
    Tag(field, kVarint);
    RawVarint(v);
  }
  // int32/int64 fields: negative values as 10-byte two's complement varints.
  void Int(uint32_t field, int64_t v) { Varint(field, static_cast<uint64_t>(v)); }
  void Bool(uint32_t field, bool v) { Varint(field, v ? 1 : 0); }
  void Fixed64(uint32_t field, uint64_t v) {
    Tag(field, kFixed64);
    for (int i = 0; i < 8; ++i) out_->push_back(static_cast<char>(v >> (8 * i)));
  }
  void Double(uint32_t field, double v) { Fixed64(field, std::bit_cast<uint64_t>(v)); }
  void String(uint32_t field, absl::string_view s) {
    Tag(field, kLengthDelimited);
    RawVarint(s.size());
    out_->append(s.data(), s.size());
  }

  // Returns a token for EndNested.
  size_t BeginNested(uint32_t field) {
    Tag(field, kLengthDelimited);
    const size_t at = out_->size();
    out_->append(4, '\0');
    return at;
  }
  // Returns false when the message exceeded the 4-byte length (2^28 - 1).
  bool EndNested(size_t token) {
    const size_t len = out_->size() - token - 4;
    if (len >= (size_t{1} << 28)) return false;
    char* p = out_->data() + token;
    p[0] = static_cast<char>(0x80 | (len & 0x7f));
    p[1] = static_cast<char>(0x80 | ((len >> 7) & 0x7f));
    p[2] = static_cast<char>(0x80 | ((len >> 14) & 0x7f));
    p[3] = static_cast<char>((len >> 21) & 0x7f);
    return true;
  }

 private:
  enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2 };
  void Tag(uint32_t field, WireType type) { RawVarint((uint64_t{field} << 3) | type); }
  void RawVarint(uint64_t v) {
    while (v >= 0x80) {
      out_->push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_->push_back(static_cast<char>(v));
  }
  std::string* out_;
};

}  // namespace uop::profiler

#endif  // UOP_RUNTIME_PROFILER_PROTO_WRITER_H_
