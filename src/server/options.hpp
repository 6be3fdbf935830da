// uvchatd's options: the command line, over the config file.
//
// Every option is defined once, in the table in options.cpp: its name, what
// it takes, its default, its range and whether a reload may change it. The
// command line (cxxopts), the config file's keys and SIGHUP's reload all
// come from that table.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "uvchat/log.hpp"
#include "uvchat/net/server.hpp"

namespace uvchat::server {

struct Options {
  net::ServerConfig server;
  LogLevel log_level = LogLevel::kInfo;
  std::string log_file;  // empty: stderr
};

// One option's value as given, and where, for messages.
struct Setting {
  std::string text;    // as the command line spells it; "" for a flag that is on
  std::string origin;  // empty: the command line; else "FILE:LINE"
  std::string shown;   // the value as messages quote it
};
// Only the options that were given, by name; the rest have their defaults.
using Settings = std::map<std::string, Setting, std::less<>>;

// Where the options come from: the command line, kept for reloads, and the
// config file, read again at each reload.
struct OptionSources {
  Settings command_line;
  std::string config_path;    // empty: no file (--config none, or no default file)
  bool config_named = false;  // given with --config: it must be readable
};

// The options in force and the settings they were made from.
struct Configuration {
  Options options;
  Settings settings;
};

struct ParseResult {
  bool run = false;     // false: print `message` and exit with exit_code
  int exit_code = 0;    // 0 for --help/--version/--check-config, 2 for bad options
  std::string message;  // for stdout when exit_code is 0, else stderr
  std::string make_cert_dir;  // not empty: --make-cert DIR, and nothing else
  OptionSources sources;
  Configuration configuration;
};

ParseResult parse_options(int argc, const char* const* argv);

struct ReloadResult {
  std::string error;  // not empty: the file is wrong, and nothing changes
  // What runs from now on: the new values of the options a reload may
  // change, and the running values of the others.
  Configuration configuration;
  std::vector<std::string> applied;       // options whose value changed
  std::vector<std::string> need_restart;  // options changed in the file, left as they run
};

// Reads the config file again, the command line still over it.
ReloadResult reload_options(const OptionSources& sources, const Configuration& running);

}  // namespace uvchat::server
