// The config file: TOML, one `key = value` per option, all at the top level.
// This file only reads it; which keys exist and what they take is the
// options' business (options.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace uvchat::server {

struct ConfigEntry {
  std::string key;
  std::string where;  // "FILE:LINE", for messages
  std::variant<bool, std::int64_t, std::string> value;
  // The value as the file spells it, for messages ("12", "\"loud\"").
  std::string shown;
  // A value of another TOML type (float, array, date...): only `shown` says what.
  bool other_type = false;
};

struct ConfigFile {
  std::string error;  // "FILE:LINE: what is wrong"; empty when the file was read
  std::vector<ConfigEntry> entries;
};

ConfigFile read_config_file(const std::string& path);

}  // namespace uvchat::server
