// Any protobuf message as JSON the way Triton's HTTP API writes it, for the
// KServe v2 REST responses (model metadata, config, statistics):
//
//   std::string out;
//   JsonWriter w(&out);
//   WriteProtoJson(stats, w);  // {"name":"add","inference_count":9007199254740993,...}
//
// Proto field names, 64-bit integers as numbers (not strings, unlike
// protobuf's own JSON printer), enums by name, bytes base64, maps as
// objects; fields at their default value are left out. It lives here, not
// beside JsonWriter in runtime/base, so that the runtime does not depend on
// protobuf.
#ifndef UOP_SERVER_PROTO_JSON_H_
#define UOP_SERVER_PROTO_JSON_H_

#include "runtime/base/json.h"

namespace google::protobuf {
class Message;
}

namespace uop::server {

void WriteProtoJson(const google::protobuf::Message& message, JsonWriter& w);

}  // namespace uop::server

#endif  // UOP_SERVER_PROTO_JSON_H_
