// uvchat's command line and configuration file (docs/CLIENT.md).
#pragma once

#include <string>

namespace uvchat::client {

struct ClientOptions {
  std::string host = "127.0.0.1";
  std::string port = "8080";
  std::string name;
  std::string password;  // read from --password-file
  bool reconnect = true;
  bool tls = false;           // --tls, tls = true, or implied by a CA file
  std::string tls_ca;         // --tls-ca: trust only this file's certificates
  std::string known_servers;  // where trusted fingerprints are kept; empty: nowhere
};

struct OptionsResult {
  bool run = false;     // false: print `message` and exit with exit_code
  int exit_code = 0;    // 0 for --help/--version, 2 for a bad command line or file
  std::string message;  // for stdout when exit_code is 0, else stderr
  ClientOptions options;
};

// `environment` looks up XDG_CONFIG_HOME, XDG_DATA_HOME and HOME (getenv in
// main).
OptionsResult parse_client_options(int argc, const char* const* argv,
                                   const char* (*environment)(const char*));

}  // namespace uvchat::client
