// The web page's files, compiled into uvchatd (web/, embedded at build time
// by scripts/embed-web.py): nothing to install beside the binary, and
// nothing for a browser to fetch from anywhere but the server.
#pragma once

#include <span>
#include <string_view>

namespace uvchat::web {

struct Asset {
  std::string_view path;          // as requested: "/" for index.html, "/app.js", ...
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view body;
  std::string_view etag;          // quoted, e.g. "\"3f2a9c01b2d4e5f6\"": a hash of the body
};

// Every asset, in the generated web_assets.cpp.
std::span<const Asset> assets();

// The asset served at `path` (without its query string), or null.
inline const Asset* find_asset(std::string_view path) {
  for (const Asset& asset : assets()) {
    if (asset.path == path) return &asset;
  }
  return nullptr;
}

}  // namespace uvchat::web
