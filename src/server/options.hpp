// uvchatd's command line.
#pragma once

#include <string>

#include "uvchat/log.hpp"
#include "uvchat/net/server.hpp"

namespace uvchat::server {

struct Options {
  net::ServerConfig server;
  LogLevel log_level = LogLevel::kInfo;
};

struct ParseResult {
  bool run = false;     // false: print `message` and exit with exit_code
  int exit_code = 0;    // 0 for --help/--version, 2 for a bad command line
  std::string message;  // for stdout when exit_code is 0, else stderr
  Options options;
};

ParseResult parse_options(int argc, const char* const* argv);

}  // namespace uvchat::server
