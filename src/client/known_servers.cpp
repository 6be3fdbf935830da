#include "uvchat/client/known_servers.hpp"

#include <cctype>

namespace uvchat::client {
namespace {

constexpr std::size_t kFingerprintBytes = 32;  // SHA-256

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "host:port" with a port of digits after the last colon, and a host
// before it.
bool looks_like_server(std::string_view server) {
  const std::size_t colon = server.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == server.size()) return false;
  for (const char c : server.substr(colon + 1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::vector<KnownServer> parse_known_servers(std::string_view text) {
  std::vector<KnownServer> entries;
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = trim(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;
    const std::size_t space = line.find_first_of(" \t");
    if (space == std::string_view::npos) continue;
    const std::string_view server = line.substr(0, space);
    const std::optional<std::string> fingerprint = normalize_fingerprint(trim(line.substr(space)));
    if (!fingerprint || !looks_like_server(server)) continue;
    entries.push_back(KnownServer{std::string(server), *fingerprint, number});
  }
  return entries;
}

std::string known_server_line(std::string_view server, std::string_view fingerprint) {
  return std::string(server) + " " + std::string(fingerprint) + "\n";
}

std::string server_key(std::string_view host, std::string_view port) {
  std::string key;
  const bool ipv6 = host.find(':') != std::string_view::npos;
  if (ipv6) key += '[';
  for (const char c : host) key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ipv6) key += ']';
  return key + ":" + std::string(port);
}

std::optional<std::string> normalize_fingerprint(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string digits;
  for (const char c : text) {
    if (c == ':' || c == ' ') continue;
    const int value = hex_value(c);
    if (value < 0) return std::nullopt;
    digits += kHex[value];
  }
  if (digits.size() != kFingerprintBytes * 2) return std::nullopt;
  std::string normal;
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    if (i != 0) normal += ':';
    normal.append(digits, i, 2);
  }
  return normal;
}

std::optional<std::string> known_servers_path(const char* (*environment)(const char*)) {
  if (const char* xdg = environment("XDG_DATA_HOME"); xdg != nullptr && *xdg == '/') {
    return std::string(xdg) + "/uvchat/known_servers";
  }
  if (const char* home = environment("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.local/share/uvchat/known_servers";
  }
  return std::nullopt;
}

}  // namespace uvchat::client
