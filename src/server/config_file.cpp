#include "config_file.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <sstream>

namespace uvchat::server {
namespace {

std::string where(const std::string& path, const toml::source_region& region) {
  return path + ":" + std::to_string(region.begin.line);
}

std::string shown(const toml::node& node) {
  std::ostringstream text;
  node.visit([&text](const auto& value) { text << value; });
  return text.str();
}

ConfigEntry entry(const std::string& path, const toml::key& key, const toml::node& node) {
  ConfigEntry entry{std::string(key.str()), where(path, key.source()), false, shown(node)};
  if (const auto flag = node.value_exact<bool>()) {
    entry.value = *flag;
  } else if (const auto number = node.value_exact<std::int64_t>()) {
    entry.value = *number;
  } else if (const auto text = node.value_exact<std::string>()) {
    entry.value = *text;
  } else if (const toml::array* list = node.as_array(); list != nullptr && list->is_homogeneous<std::string>()) {
    // doors = ["native", "irc"]: the same as the option's "native,irc".
    std::string joined;
    for (const toml::node& item : *list) {
      if (!joined.empty()) joined.push_back(',');
      joined += *item.value_exact<std::string>();
    }
    entry.value = joined;
  } else {
    entry.other_type = true;
  }
  return entry;
}

}  // namespace

ConfigFile read_config_file(const std::string& path) {
  ConfigFile file;
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& error) {
    file.error = where(path, error.source()) + ": " + std::string(error.description());
    return file;
  }
  // The table keeps its keys sorted by name; errors are reported in the
  // order of the file's lines.
  std::vector<std::pair<toml::source_index, ConfigEntry>> by_line;
  for (const auto& [key, node] : table) by_line.emplace_back(key.source().begin.line, entry(path, key, node));
  std::stable_sort(by_line.begin(), by_line.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [line, read] : by_line) {
    if (read.other_type && table[read.key].is_table()) {
      file.error = read.where + ": [" + read.key + "]: uvchatd takes no sections; every key goes at the top";
      return file;
    }
    file.entries.push_back(std::move(read));
  }
  return file;
}

}  // namespace uvchat::server
