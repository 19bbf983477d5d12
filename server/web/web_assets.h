// The web view's static files (server/web/*.html, *.js, *.css), compiled
// into uopd by embed.py so the page needs no file system and no network.
//
//   const WebAsset* a = FindWebAsset("app.js");   // null when unknown
//   response->content_type = std::string(a->content_type);
#ifndef UOP_SERVER_WEB_WEB_ASSETS_H_
#define UOP_SERVER_WEB_WEB_ASSETS_H_

#include "absl/strings/string_view.h"

namespace uop::server {

struct WebAsset {
  absl::string_view name;          // file name, e.g. "index.html"
  absl::string_view content_type;  // e.g. "text/html; charset=utf-8"
  absl::string_view body;
};

// The asset called `name`, or null.
const WebAsset* FindWebAsset(absl::string_view name);

}  // namespace uop::server

#endif  // UOP_SERVER_WEB_WEB_ASSETS_H_
