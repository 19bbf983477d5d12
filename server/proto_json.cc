#include "server/proto_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/reflection.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace uop::server {
namespace {

using google::protobuf::FieldDescriptor;

void WriteScalar(const google::protobuf::Message& m, const FieldDescriptor* f, int index,
                 JsonWriter& w) {
  const auto* r = m.GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      w.Int(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      w.Int(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      w.Uint(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      w.Uint(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      w.Double(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      w.Float(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      w.Bool(rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f));
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      w.String((rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f))->name());
      break;
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string s = rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
      if (f->type() == FieldDescriptor::TYPE_BYTES) s = absl::Base64Escape(s);
      w.String(s);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      WriteProtoJson(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f), w);
      break;
  }
}

}  // namespace

void WriteProtoJson(const google::protobuf::Message& message, JsonWriter& w) {
  const auto* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  w.BeginObject();
  for (const FieldDescriptor* f : fields) {
    w.Key(f->name());
    if (f->is_map()) {
      const FieldDescriptor* key = f->message_type()->map_key();
      const FieldDescriptor* value = f->message_type()->map_value();
      w.BeginObject();
      for (int i = 0; i < reflection->FieldSize(message, f); ++i) {
        const auto& entry = reflection->GetRepeatedMessage(message, f, i);
        const auto* er = entry.GetReflection();
        std::string k;
        switch (key->cpp_type()) {
          case FieldDescriptor::CPPTYPE_STRING:
            k = er->GetString(entry, key);
            break;
          case FieldDescriptor::CPPTYPE_INT64:
            k = absl::StrCat(er->GetInt64(entry, key));
            break;
          case FieldDescriptor::CPPTYPE_UINT64:
            k = absl::StrCat(er->GetUInt64(entry, key));
            break;
          case FieldDescriptor::CPPTYPE_INT32:
            k = absl::StrCat(er->GetInt32(entry, key));
            break;
          case FieldDescriptor::CPPTYPE_UINT32:
            k = absl::StrCat(er->GetUInt32(entry, key));
            break;
          case FieldDescriptor::CPPTYPE_BOOL:
            k = er->GetBool(entry, key) ? "true" : "false";
            break;
          default:
            break;
        }
        w.Key(k);
        WriteScalar(entry, value, 0, w);
      }
      w.EndObject();
    } else if (f->is_repeated()) {
      w.BeginArray();
      for (int i = 0; i < reflection->FieldSize(message, f); ++i) WriteScalar(message, f, i, w);
      w.EndArray();
    } else {
      WriteScalar(message, f, 0, w);
    }
  }
  w.EndObject();
}

}  // namespace uop::server
