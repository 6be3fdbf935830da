#include "options.hpp"

#include <toml++/toml.h>

#include <cxxopts.hpp>
#include <fstream>
#include <optional>

#include "uvchat/client/known_servers.hpp"
#include "uvchat_version.h"

namespace uvchat::client {
namespace {

cxxopts::Options make_parser() {
  cxxopts::Options parser("uvchat", "The uvchat client: chat from a terminal, or send lines from a pipe.");
  // clang-format off
  parser.add_options()
    ("host", "The server's host name or address", cxxopts::value<std::string>(), "HOST")
    ("port", "The server's port", cxxopts::value<std::string>(), "PORT")
    ("name", "The name to register (asked at a terminal when missing)", cxxopts::value<std::string>(), "NAME")
    ("password-file", "A file whose first line is the name's password", cxxopts::value<std::string>(), "FILE")
    ("no-reconnect", "Exit when the connection drops instead of reconnecting")
    ("tls", "Connect over TLS; a certificate no authority vouches for is trusted on first use, as ssh does")
    ("tls-ca", "Connect over TLS and trust only the certificates in FILE (PEM): no question, no known_servers", cxxopts::value<std::string>(), "FILE")
    ("config", "Configuration file (default: $XDG_CONFIG_HOME/uvchat/client.toml)", cxxopts::value<std::string>(), "FILE")
    ("h,help", "Show this help")
    ("version", "Show the version");
  // clang-format on
  return parser;
}

OptionsResult failure(std::string message) {
  OptionsResult result;
  result.exit_code = 2;
  result.message = "uvchat: " + message + "\n";
  return result;
}

std::optional<std::string> default_config_path(const char* (*environment)(const char*)) {
  if (const char* xdg = environment("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/uvchat/client.toml";
  }
  if (const char* home = environment("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.config/uvchat/client.toml";
  }
  return std::nullopt;
}

std::string where(const std::string& path, const toml::source_region& region) {
  return path + ":" + std::to_string(region.begin.line);
}

// Reads the keys of docs/CLIENT.md from the file into `options`; an error message
// naming the file, the line and the key, or "" when all is well.
std::string read_config(const std::string& path, ClientOptions& options) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& error) {
    return where(path, error.source()) + ": " + std::string(error.description());
  }
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    if (name == "host" || name == "name") {
      const std::optional<std::string> text = node.value<std::string>();
      if (!text) return where(path, node.source()) + ": " + name + " must be a string";
      (name == "host" ? options.host : options.name) = *text;
    } else if (name == "port") {
      const std::optional<std::int64_t> port = node.value<std::int64_t>();
      if (!port || *port < 1 || *port > 65535) {
        return where(path, node.source()) + ": port must be a number from 1 to 65535";
      }
      options.port = std::to_string(*port);
    } else if (name == "tls") {
      const std::optional<bool> tls = node.value<bool>();
      if (!tls) return where(path, node.source()) + ": tls must be true or false";
      options.tls = *tls;
    } else if (name == "tls-ca") {
      const std::optional<std::string> ca = node.value<std::string>();
      if (!ca || ca->empty()) return where(path, node.source()) + ": tls-ca must be the path of a file";
      options.tls_ca = *ca;
    } else {
      return where(path, key.source()) + ": unknown key '" + name +
             "' (host, port, name, tls and tls-ca are known)";
    }
  }
  return {};
}

std::optional<std::string> read_first_line(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  if (!file || !std::getline(file, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

bool is_port(const std::string& text) {
  if (text.empty() || text.size() > 5) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  const int port = std::stoi(text);
  return port >= 1 && port <= 65535;
}

}  // namespace

OptionsResult parse_client_options(int argc, const char* const* argv,
                                   const char* (*environment)(const char*)) {
  cxxopts::Options parser = make_parser();
  cxxopts::ParseResult parsed;
  try {
    parsed = parser.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& error) {
    return failure(std::string(error.what()) + " (try --help)");
  }
  if (parsed.count("help") != 0) return OptionsResult{false, 0, parser.help(), {}};
  if (parsed.count("version") != 0) return OptionsResult{false, 0, "uvchat " UVCHAT_VERSION "\n", {}};
  if (!parsed.unmatched().empty()) return failure("unexpected argument '" + parsed.unmatched().front() + "'");

  OptionsResult result;
  ClientOptions& options = result.options;
  const bool named_config = parsed.count("config") != 0;
  const std::optional<std::string> config =
      named_config ? std::optional(parsed["config"].as<std::string>()) : default_config_path(environment);
  if (config && (named_config || std::ifstream(*config).good())) {
    if (named_config && !std::ifstream(*config).good()) return failure("cannot read " + *config);
    if (std::string error = read_config(*config, options); !error.empty()) return failure(error);
  }
  if (parsed.count("host") != 0) options.host = parsed["host"].as<std::string>();
  if (parsed.count("port") != 0) options.port = parsed["port"].as<std::string>();
  if (parsed.count("name") != 0) options.name = parsed["name"].as<std::string>();
  if (parsed.count("no-reconnect") != 0) options.reconnect = false;
  if (parsed.count("tls") != 0) options.tls = true;
  if (parsed.count("tls-ca") != 0) {
    options.tls_ca = parsed["tls-ca"].as<std::string>();
    if (options.tls_ca.empty()) return failure("--tls-ca needs the path of a file");
  }
  if (!options.tls_ca.empty()) {
    // Whoever names the authority to trust means TLS.
    options.tls = true;
    if (!std::ifstream(options.tls_ca).good()) return failure("cannot read the CA file " + options.tls_ca);
  }
  options.known_servers = known_servers_path(environment).value_or("");
  if (!is_port(options.port)) return failure("--port must be a number from 1 to 65535");
  if (parsed.count("password-file") != 0) {
    const std::string path = parsed["password-file"].as<std::string>();
    const std::optional<std::string> password = read_first_line(path);
    if (!password || password->empty()) return failure("cannot read a password from " + path);
    options.password = *password;
  }
  result.run = true;
  return result;
}

}  // namespace uvchat::client
