// The known_servers file (docs/CLIENT.md, "TLS"): the certificates the
// person chose to trust on first use, as ssh's known_hosts. One line a
// server, `HOST:PORT FINGERPRINT`, the SHA-256 of its certificate as
// `openssl x509 -fingerprint -sha256` prints it:
//
//   pi.local:8080 3A:F1:...:0C
//   [::1]:8080 77:02:...:9E
//   # a comment
//
// Lines are only ever appended: the client never rewrites what a person may
// have edited. Pure: the text in, entries out; src/client/app.cpp reads and
// appends to the file.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uvchat::client {

struct KnownServer {
  std::string server;       // "host:port", as server_key() makes it
  std::string fingerprint;  // "AB:CD:...", 32 bytes in upper-case hex
  std::size_t line = 0;     // 1-based, for "remove line N"
};

// The entries of a known_servers file, in file order. Blank lines and lines
// starting with '#' are skipped, and so is a line that is not a server and a
// fingerprint: a damaged line costs only its own entry.
std::vector<KnownServer> parse_known_servers(std::string_view text);

// The line that stores `fingerprint` for `server`, with its LF.
std::string known_server_line(std::string_view server, std::string_view fingerprint);

// "host:port" with the host in lower case (host names are not case
// sensitive); an IPv6 address in brackets, "[::1]:8080", so that the port
// stays apart.
std::string server_key(std::string_view host, std::string_view port);

// A SHA-256 fingerprint as "AB:CD:...": 64 hex digits in either case, with
// or without colons (or spaces) between the bytes. Nothing for any other
// text.
std::optional<std::string> normalize_fingerprint(std::string_view text);

// $XDG_DATA_HOME/uvchat/known_servers, or ~/.local/share/uvchat/known_servers
// when XDG_DATA_HOME is unset, empty or relative (the XDG base directory
// specification ignores a relative one). Nothing without either.
std::optional<std::string> known_servers_path(const char* (*environment)(const char*));

}  // namespace uvchat::client
